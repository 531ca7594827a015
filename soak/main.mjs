#!/usr/bin/env node
// Soak: mixed traffic at the highest rate this machine sustains, for a bounded time, against the
// memory store and the Redis store at once, each behind its own real node:http server (a child
// process, so its RSS is its own), driven by the real client from a load process per store.
// Samples each server every few seconds and fails if any series still grows once warm (see
// soak/analysis.mjs for the series and their bounds), or if any answer was wrong.
//
//   node soak/main.mjs                 10 minutes, writes soak/REPORT.md, soak/charts/, soak/samples.json
//   node soak/main.mjs --ci            60 s with short lifetimes (the step in scripts/test.sh); report in soak/.work/ci/
//   node soak/main.mjs --seconds 120 --store memory --vus 8 --out DIR
//   node soak/main.mjs --report-only soak/samples.json   the verdict and report again from recorded samples
//
// Starts its own redis-server on 127.0.0.1:16760 (16761 with --ci; --redis-port) and stops only
// that one.

import { execFile, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { INFO, PROFILES, SERIES, analyse, warmUpS, withOccupancy } from './analysis.mjs'
import { writeReport } from './report.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const redisSupport = require('../__test__/support/redis.js')
const run = promisify(execFile)

function args(argv) {
  const o = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--ci') o.ci = true
    else if (a.startsWith('--')) o[a.slice(2)] = argv[++i]
  }
  return o
}

/**
 * Each run's verdict: no failure, no handler error, the load stopped cleanly, and every series
 * of analysis.mjs within its bounds once warm.
 */
function judge(result) {
  let ok = true
  for (const r of result.runs) {
    r.samples = withOccupancy(r.samples, result.nen)
    r.verdict = analyse(r.store, r.samples, result.warmS, result.profile)
    const t = r.totals ?? r.samples.at(-1) ?? {}
    if (!r.totals || t.failures > 0 || r.samples.at(-1)?.handlerErrors > 0) r.verdict.ok = false
    for (const x of r.verdict.results) {
      const fig =
        x.slopePerMin === undefined
          ? x.why
          : `slope ${x.slopePerMin.toFixed(3)} ${x.unit}/min (bound ${x.bound}), warm mean ${x.mean.toFixed(3)}${x.ceiling ? `, max ${x.max.toFixed(3)} (ceiling ${x.ceiling})` : ''}`
      console.log(`${r.store}: ${x.label}: ${x.ok ? 'ok' : 'FAIL'} ${fig}`)
    }
    console.log(`${r.store}: ${t.failures ?? '?'} failures${r.problems.length ? `: ${r.problems.slice(0, 5).join(' | ')}` : ''}${r.totals ? '' : ' (the load did not stop cleanly)'}`)
    if (!r.verdict.ok) ok = false
  }
  return ok
}

const opt = args(process.argv.slice(2))
if (opt['report-only']) {
  const file = path.resolve(opt['report-only'])
  const result = JSON.parse(readFileSync(file, 'utf8'))
  result.series = SERIES
  result.info = INFO
  const ok = judge(result)
  writeReport(path.dirname(file), result, result.argv ?? [])
  console.log(`${ok ? 'passed' : 'FAILED'}; report in ${path.relative(process.cwd(), path.join(path.dirname(file), 'REPORT.md'))}`)
  process.exit(ok ? 0 : 1)
}
const profileName = opt.ci ? 'ci' : 'full'
const profile = PROFILES[profileName]
const seconds = Number(opt.seconds ?? profile.seconds)
const sampleMs = Number(opt['sample-ms'] ?? profile.sampleMs)
const vus = Number(opt.vus ?? 16)
const stores = opt.store && opt.store !== 'both' ? [opt.store] : ['memory', 'redis']
// Another port for the CI profile: a CI run must not stop the Redis of a long run in progress.
const redisPort = Number(opt['redis-port'] ?? (opt.ci ? 16761 : 16760))
const out = path.resolve(opt.out ?? (opt.ci ? path.join(here, '.work', 'ci') : here))
const warmS = warmUpS(profile.nen)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** A child over IPC: `call(op)` resolves with its answer; `ready` once it said so. */
function child(file, config, execArgv = []) {
  const c = fork(path.join(here, file), [JSON.stringify(config)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let next = 0
  const waiting = new Map()
  let exited = null
  const ready = new Promise((resolve, reject) => {
    c.on('message', (m) => {
      if (m.ready) return resolve()
      waiting.get(m.id)?.resolve(m)
      waiting.delete(m.id)
    })
    c.on('exit', (code, signal) => {
      exited = `${file} exited (${code ?? signal})`
      reject(new Error(exited))
      for (const w of waiting.values()) w.reject(new Error(exited))
    })
  })
  return {
    pid: c.pid,
    ready,
    get exited() {
      return exited
    },
    call(op, timeoutMs = 120_000) {
      if (exited) return Promise.reject(new Error(exited))
      const id = next++
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${file}: no answer to ${op} in ${timeoutMs} ms`)), timeoutMs)
        waiting.set(id, {
          resolve: (m) => {
            clearTimeout(t)
            resolve(m)
          },
          reject: (e) => {
            clearTimeout(t)
            reject(e)
          },
        })
        c.send({ id, op })
      })
    },
    kill: () => exited || c.kill('SIGKILL'),
  }
}

async function redisInfo() {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), 'info', 'memory'])
  const used = Number(/^used_memory:(\d+)/m.exec(stdout)?.[1])
  const keys = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(redisPort), 'dbsize'])
  return { redisUsedMemory: used, redisKeys: Number(keys.stdout.trim()) }
}

const started = Date.now()
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism(),
  node: process.versions.node,
  nice: os.getPriority(),
  loadBefore: os.loadavg(),
  date: new Date(started).toISOString(),
}
try {
  machine.commit = (await run('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: here })).stdout.trim()
} catch {}

const runs = []
let redisUp = false
let failed = false
const note = (m) => console.log(`[soak ${((Date.now() - started) / 1000).toFixed(0)} s] ${m}`)

/** One sample of every run: the server's own figures, the load's counters, Redis's memory. */
async function sampleAll() {
  const t = (Date.now() - started) / 1000
  for (const r of runs) {
    const [{ sample }, { counts, problems }] = await Promise.all([r.server.call('sample'), r.load.call('counts')])
    const s = { t: t - r.t0, ...sample, ...counts }
    if (r.store === 'redis') Object.assign(s, await redisInfo())
    r.samples.push(s)
    r.problems = problems
  }
}

try {
  if (stores.includes('redis')) {
    redisSupport.start(redisPort)
    redisUp = true
  }
  const wrappingKey = randomBytes(32).toString('base64')
  for (const store of stores) {
    const port = await freePort()
    const server = child('server.mjs', { port, store, redisUrl: `redis://127.0.0.1:${redisPort}`, wrappingKey, options: profile.nen }, ['--expose-gc'])
    await server.ready
    runs.push({ store, port, server, samples: [], problems: [] })
  }
  note(`${profileName} profile, ${seconds} s, ${stores.join(' + ')} at once, ${vus} users each, sample every ${sampleMs} ms, warm after ${warmS} s; ${JSON.stringify(profile.nen)}`)
  for (const r of runs) {
    r.load = child('load.mjs', { base: `http://127.0.0.1:${r.port}`, vus })
    await r.load.ready
    r.t0 = (Date.now() - started) / 1000
  }
  const end = Date.now() + seconds * 1000
  let nextSample = Date.now() + sampleMs
  let lastNote = 0
  while (Date.now() < end) {
    await sleep(Math.max(0, nextSample - Date.now()))
    nextSample += sampleMs
    await sampleAll()
    const bad = runs.find((r) => r.samples.at(-1).failures > 0)
    if (bad) {
      note(`${bad.store}: failures: ${bad.problems.slice(0, 3).join(' | ')}`)
      if (bad.samples.at(-1).failures > 100) throw new Error(`${bad.store}: more than 100 failures, stopping`)
    }
    if (Date.now() - lastNote > 30_000) {
      lastNote = Date.now()
      for (const r of runs) {
        const s = r.samples.at(-1)
        note(
          `${r.store}: ${(s.rss / 2 ** 20).toFixed(1)} MiB RSS, heap ${(s.heapUsed / 2 ** 20).toFixed(1)} MiB, ${s.handles} handles, ELD p99 ${s.eldP99Ms.toFixed(1)} ms, sessions ${s.sessions ?? s.redisKeys}, ${s.handshakes} handshakes, ${s.posts + s.gets} requests, ${s.streams} streams`,
        )
      }
    }
  }
  for (const r of runs) {
    const { counts, problems } = await r.load.call('stop')
    r.totals = counts
    r.problems = problems
    r.seconds = (Date.now() - started) / 1000 - r.t0
  }
} catch (e) {
  console.error(e)
  failed = true
} finally {
  for (const r of runs) {
    r.load?.kill()
    r.server.kill()
  }
  if (redisUp) redisSupport.stop(redisPort)
}

machine.loadAfter = os.loadavg()
mkdirSync(out, { recursive: true })
const result = {
  profile: profileName,
  argv: process.argv.slice(2),
  seconds,
  sampleMs,
  vus,
  warmS,
  nen: profile.nen,
  machine,
  series: SERIES,
  info: INFO,
  runs: runs.map(({ store, samples, totals, problems, seconds: s }) => ({ store, seconds: s, samples, totals, problems })),
}
// The raw samples, before any derived series: `--report-only` judges them again.
writeFileSync(path.join(out, 'samples.json'), `${JSON.stringify(result, null, 1)}\n`)
if (!judge(result)) failed = true
writeReport(out, result, result.argv)
note(`${failed ? 'FAILED' : 'passed'}; report in ${path.relative(process.cwd(), path.join(out, 'REPORT.md'))}`)
process.exit(failed ? 1 : 0)
