'use strict'
// Starts and stops this suite's own redis-server processes on loopback ports. It never touches a
// Redis it did not start (the machine's own one on 6379 included): every process is addressed by
// the port it was started on and stopped with `shutdown nosave` on that port.

const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const BASE = fs.mkdtempSync(path.join(os.tmpdir(), 'nen-redis-'))

function cli(port, ...args) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' })
}

function waitFor(check, what, ms = 10000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (check()) return
    spawnSync('sleep', ['0.05'])
  }
  throw new Error(`timed out waiting for ${what}`)
}

function ensureInstalled() {
  if (spawnSync('redis-server', ['--version']).status === 0) return
  execFileSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'], { stdio: 'inherit' })
}

function start(port, extra = []) {
  ensureInstalled()
  // A server still answering on one of this suite's own ports is a leftover of an earlier run of
  // this suite that was killed before its cleanup: stop it, or the new one cannot bind.
  if (cli(port, 'ping').stdout.trim() === 'PONG') stop(port)
  const dir = path.join(BASE, String(port))
  fs.mkdirSync(dir, { recursive: true })
  execFileSync('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'yes', '--pidfile', path.join(dir, 'redis.pid'), '--logfile', path.join(dir, 'redis.log'),
    '--dir', dir, ...extra,
  ])
  waitFor(() => cli(port, 'ping').stdout.trim() === 'PONG', `redis on ${port}`)
  return { port, url: `redis://127.0.0.1:${port}` }
}

function stop(port) {
  cli(port, 'shutdown', 'nosave')
  waitFor(() => cli(port, 'ping').status !== 0 || cli(port, 'ping').stdout.trim() !== 'PONG', `redis on ${port} to stop`)
}

function startCluster(ports) {
  for (const p of ports) {
    start(p, ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(BASE, String(p), 'nodes.conf'), '--cluster-node-timeout', '2000'])
  }
  execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' })
  waitFor(() => ports.every((p) => /cluster_state:ok/.test(cli(p, 'cluster', 'info').stdout)), 'cluster state ok', 20000)
  return ports.map((p) => `redis://127.0.0.1:${p}`)
}

module.exports = { start, stop, startCluster, cli }
