// Processes of the HTTP sections: servers (each in a process group of its own, so its CPU and
// RSS can be read whole and it can be stopped whole), our own Redis, the load generator.

import { fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const live = new Set()
process.on('exit', () => {
  for (const child of live) kill(child, 'SIGKILL')
})

function kill(child, signal) {
  try {
    process.kill(-child.pid, signal) // the group we created (detached: true), nothing else
  } catch {}
}

/** A TCP port on 127.0.0.1 nobody listens on, from `first` up (or any free one). */
export async function freePort(first = 0) {
  for (let p = first; p < first + 50; p++) {
    const srv = net.createServer()
    try {
      srv.listen(p, '127.0.0.1')
      await once(srv, 'listening')
      const { port } = srv.address()
      srv.close()
      await once(srv, 'close')
      return port
    } catch {
      srv.close()
      if (first === 0) throw new Error('no free port')
    }
  }
  throw new Error(`no free port from ${first}`)
}

/**
 * Starts `args` (run with node, or `cmd` if given) in its own process group with PORT set, and
 * waits until GET `readyPath` answers 200. Returns {pid, port, stop(), output()}.
 */
export async function startServer(args, { port, cwd, env = {}, readyPath = '/health', timeoutMs = 30_000, cmd = process.execPath }) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  live.add(child)
  let out = ''
  child.stdout.on('data', (d) => (out = (out + d).slice(-8000)))
  child.stderr.on('data', (d) => (out = (out + d).slice(-8000)))
  let exited = false
  const exit = once(child, 'exit').then(() => {
    exited = true
    live.delete(child)
  })
  const stop = async () => {
    if (exited) return
    kill(child, 'SIGTERM')
    const t = setTimeout(() => kill(child, 'SIGKILL'), 5000)
    await exit
    clearTimeout(t)
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exited) throw new Error(`${args.join(' ')} exited early:\n${out}`)
    try {
      const res = await fetch(`http://127.0.0.1:${port}${readyPath}`, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      if (res.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${args.join(' ')} not ready after ${timeoutMs} ms:\n${out}`)
    }
    await sleep(100)
  }
  return { pid: child.pid, port, stop, output: () => out }
}

/** One of http/server.mjs's kinds on a free port. */
export async function startKind(kind, env = {}) {
  const port = await freePort()
  return { kind, ...(await startServer([path.join(here, 'server.mjs'), kind], { port, env })) }
}

/**
 * Our own redis-server on the first free port from 16600 (never the one on 6379), in the
 * foreground as our child, without persistence. Returns {url, pid, stop()}.
 */
export async function startRedis() {
  const port = await freePort(16600)
  const dir = mkdtempSync(path.join(tmpdir(), 'nen-bench-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no']
  const child = spawn('redis-server', args, { stdio: 'ignore', detached: true })
  live.add(child)
  const exit = once(child, 'exit').then(() => live.delete(child))
  for (let i = 0; ; i++) {
    try {
      const s = net.connect(port, '127.0.0.1')
      await once(s, 'connect')
      s.destroy()
      break
    } catch {
      if (i > 100) throw new Error('redis-server did not start')
      await sleep(50)
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      kill(child, 'SIGTERM')
      await exit
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The load generator child (http/loadgen.mjs), with a promise-returning `call(op, args)`. */
export function startLoadgen() {
  const child = fork(path.join(here, 'loadgen.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  live.add(child)
  child.on('exit', () => live.delete(child))
  let next = 0
  const waiting = new Map()
  child.on('message', (m) => {
    const w = waiting.get(m.id)
    waiting.delete(m.id)
    if (m.ok) w.resolve(m)
    else w.reject(new Error(m.error))
  })
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`load generator exited (${code})`))
  })
  return {
    pid: child.pid,
    call(op, args = {}) {
      const id = next++
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        child.send({ id, op, ...args })
      })
    },
    async stop() {
      child.send({ op: 'exit' })
      await once(child, 'exit')
    },
  }
}
