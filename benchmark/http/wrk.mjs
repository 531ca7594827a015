// The load generator's own check: wrk (C, epoll; Debian's package) against the same plain
// server, so the run can show that http/loadgen.mjs is not what limits the fastest rows. wrk
// cannot sign Nen requests, so it only drives plain endpoints.

import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export function hasWrk() {
  try {
    execFileSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const UNIT = { us: 1, ms: 1e3, s: 1e6 }

/** One wrk run: -t1 (one thread, as one load-generator process), -c connections, `seconds`. */
export function wrkRun({ port, method, path: target, body, connections, seconds }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'nen-bench-wrk-'))
  const script = path.join(dir, 'req.lua')
  const bodyFile = path.join(dir, 'body.json')
  writeFileSync(bodyFile, body ?? '')
  writeFileSync(script, `wrk.method = "${method}"\n` + (body ? `local f = io.open("${bodyFile}", "rb")\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "application/json"\n` : ''))
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, `http://127.0.0.1:${port}${target}`]
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { encoding: 'utf8' }, (err, out) => {
      rmSync(dir, { recursive: true, force: true })
      if (err) return reject(err)
      if (/Non-2xx or 3xx responses: \d+/.test(out)) return reject(new Error(`wrk: the server answered errors:\n${out}`))
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
      const pct = (p) => {
        const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out)
        return m ? Number(m[1]) * UNIT[m[2]] : Number.NaN
      }
      if (!(rps > 0)) return reject(new Error(`wrk printed no rate:\n${out}`))
      resolve({ rps, p50: pct(50), p99: pct(99) })
    })
  })
}
