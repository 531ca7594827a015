// Shared by the example's test and create-nen-app's: run commands with a time bound, start a
// Next.js server on a free loopback port and stop it (its whole process group); Chromium flags.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, readdirSync } from 'node:fs'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export const CHROMIUM = process.env.NEN_CHROMIUM ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
export const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false' }

/** Runs a command; resolves with its output, rejects (with the output) on failure or timeout. */
export function run(cmd, args, { cwd, timeoutMs = 180_000, extraEnv = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { cwd, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true }))
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      killGroup(child)
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms\n${out}`))
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code} in ${cwd}\n${out.slice(-6000)}`))
    })
  })
}

function killGroup(child, signal = 'SIGTERM') {
  try {
    process.kill(-child.pid, signal) // the group this harness created (detached: true)
  } catch {}
}

// Process groups started here and still running: killed if this process exits first (a test
// that timed out, an uncaught error), so no server outlives its test run.
const live = new Set()
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL')
})
function track(child) {
  live.add(child)
  child.on('exit', () => live.delete(child))
  return child
}

export async function freePort() {
  const srv = net.createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address()
  srv.close()
  await once(srv, 'close')
  return port
}

/**
 * Starts a server (`args` run with node, in its own process group) listening on PORT on `host`
 * (default 127.0.0.1), waits until `GET readyPath` (default `/`) answers 200, and returns
 * {url, stop(), output(), loaded(needle)}.
 */
export async function startServer(args, { cwd, port, timeoutMs = 30_000, extraEnv = {}, readyPath = '/', host = '127.0.0.1' }) {
  const child = track(
    spawn(process.execPath, args, {
      cwd,
      env: { ...env, PORT: String(port), HOSTNAME: host, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  )
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  let exited = false
  const exit = once(child, 'exit').then(() => (exited = true))
  const url = `http://${host}:${port}`
  const stop = async () => {
    if (exited) return
    killGroup(child, 'SIGTERM')
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000)
    await exit
    clearTimeout(timer)
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exited) throw new Error(`server exited early:\n${out}`)
    try {
      const res = await fetch(url + readyPath, { signal: AbortSignal.timeout(2000) })
      if (res.status === 200) break
    } catch {}
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`server not ready after ${timeoutMs} ms:\n${out}`)
    }
    await sleep(150)
  }
  return { url, stop, output: () => out, loaded: (needle) => groupHasMapped(child.pid, needle) }
}

/**
 * Whether a process of group `pgid` has a file whose path contains `needle` mapped (Linux):
 * proves which native addon a server really loaded.
 */
export function groupHasMapped(pgid, needle) {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // state ppid pgrp ...
      if (Number(fields[2]) !== pgid) continue
      if (readFileSync(`/proc/${pid}/maps`, 'utf8').includes(needle)) return true
    } catch {} // gone meanwhile
  }
  return false
}
