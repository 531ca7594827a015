'use strict'
// Starts and stops this suite's own redis-server processes on loopback ports. It never touches a
// Redis it did not start (the machine's own one on 6379 included): every process is addressed by
// the port it was started on and stopped with `shutdown nosave` on that port (or killed by the
// pid in the pidfile this suite gave it).

const { execFile, execFileSync, spawnSync } = require('node:child_process')
const { promisify } = require('node:util')
const { setTimeout: sleep } = require('node:timers/promises')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const BASE = fs.mkdtempSync(path.join(os.tmpdir(), 'nen-redis-'))

// Each file fixes its own ports; NEN_TEST_PORT_OFFSET moves all of them (cluster bus ports,
// port + 10000, with them), so a second run of the suite (scripts/sanitize.sh uses 3000) never
// meets, and never stops as a leftover, a server of a run on the default ports.
const PORT_OFFSET = Number.parseInt(process.env.NEN_TEST_PORT_OFFSET ?? '0', 10)
if (!Number.isInteger(PORT_OFFSET) || PORT_OFFSET < 0 || PORT_OFFSET > 20000) throw new Error('NEN_TEST_PORT_OFFSET: an integer from 0 to 20000')
/** One of this suite's ports: `n` moved by NEN_TEST_PORT_OFFSET. */
const port = (n) => n + PORT_OFFSET

/** How each of this suite's servers was started, by port: restart() starts it the same way. */
const started = new Map()

function tlsArgs(port) {
  const tls = started.get(port)?.tls
  return tls ? ['--tls', '--cacert', tls.ca] : []
}

function cli(port, ...args) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...tlsArgs(port), ...args], { encoding: 'utf8' })
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

/**
 * Starts redis-server on `port`. With `tls: { cert, key, ca }` it listens on `port` with TLS only
 * (`--port 0 --tls-port port`, no client certificates asked).
 */
function start(port, extra = [], { tls } = {}) {
  ensureInstalled()
  // A server still answering on one of this suite's own ports is a leftover of an earlier run of
  // this suite that was killed before its cleanup: stop it, or the new one cannot bind.
  const leftover = (...a) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...(tls ? ['--tls', '--insecure'] : []), ...a], { encoding: 'utf8' })
  if (leftover('ping').stdout.trim() === 'PONG') {
    leftover('shutdown', 'nosave')
    waitFor(() => leftover('ping').stdout.trim() !== 'PONG', `leftover redis on ${port} to stop`)
  }
  started.set(port, { extra, tls })
  execFileSync('redis-server', serverArgs(port))
  waitFor(() => cli(port, 'ping').stdout.trim() === 'PONG', `redis on ${port}`)
  return { port, url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}` }
}

function serverArgs(port) {
  const { extra, tls } = started.get(port)
  const dir = path.join(BASE, String(port))
  fs.mkdirSync(dir, { recursive: true })
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no']
    : ['--port', String(port)]
  return [
    ...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'yes', '--pidfile', path.join(dir, 'redis.pid'), '--logfile', path.join(dir, 'redis.log'),
    '--dir', dir, ...extra,
  ]
}

function stop(port) {
  cli(port, 'shutdown', 'nosave')
  waitFor(() => cli(port, 'ping').status !== 0 || cli(port, 'ping').stdout.trim() !== 'PONG', `redis on ${port} to stop`)
}

function pidOf(port) {
  return Number(fs.readFileSync(path.join(BASE, String(port), 'redis.pid'), 'utf8').trim())
}

function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Kills the server on `port` with SIGKILL (the pid from its pidfile): no shutdown, no save. */
function kill(port) {
  const pid = pidOf(port)
  process.kill(pid, 'SIGKILL')
  waitFor(() => !alive(pid), `redis ${pid} on ${port} to die`)
}

/** Starts the server on `port` again, the way it was started before (same dir, same args). */
function restart(port) {
  const s = started.get(port)
  if (!s) throw new Error(`redis on ${port} was never started by this suite`)
  return start(port, s.extra, { tls: s.tls })
}

/** kill() without blocking the event loop, for tests that measure requests meanwhile. */
async function killAsync(port) {
  const pid = pidOf(port)
  process.kill(pid, 'SIGKILL')
  for (let i = 0; alive(pid); i++) {
    if (i > 200) throw new Error(`redis ${pid} on ${port} did not die`)
    await sleep(10)
  }
}

/** restart() without blocking the event loop: resolves once the server answers PING. */
async function restartAsync(port) {
  if (!started.has(port)) throw new Error(`redis on ${port} was never started by this suite`)
  const run = promisify(execFile)
  await run('redis-server', serverArgs(port))
  for (let i = 0; ; i++) {
    const r = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...tlsArgs(port), 'ping']).catch(() => ({ stdout: '' }))
    if (r.stdout.trim() === 'PONG') return
    if (i > 400) throw new Error(`redis on ${port} did not come back`)
    await sleep(25)
  }
}

/** A 3-node (or more) cluster without replicas; `tls` as for start(), cluster bus over TLS too. */
function startCluster(ports, { tls, extra = [] } = {}) {
  for (const p of ports) {
    start(p, [
      '--cluster-enabled', 'yes', '--cluster-config-file', path.join(BASE, String(p), 'nodes.conf'), '--cluster-node-timeout', '2000',
      ...(tls ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : []),
      ...extra,
    ], { tls })
  }
  execFileSync('redis-cli', [...tlsArgs(ports[0]), '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' })
  waitFor(() => ports.every((p) => /cluster_state:ok/.test(cli(p, 'cluster', 'info').stdout)), 'cluster state ok', 20000)
  return ports.map((p) => `${tls ? 'rediss' : 'redis'}://127.0.0.1:${p}`)
}

/**
 * A fresh CA and a server certificate it signed, valid for 127.0.0.1 and localhost (or `names`),
 * as PEM files in a new directory: { dir, ca, caKey, cert, key }. EC P-256, one day. With
 * `issuer` (an earlier result), the certificate is signed by that CA instead of a new one.
 */
function makeCerts(label, names = ['IP:127.0.0.1', 'DNS:localhost'], issuer) {
  const dir = fs.mkdtempSync(path.join(BASE, `tls-${label}-`))
  const f = (n) => path.join(dir, n)
  const ossl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const ca = issuer ? issuer.ca : f('ca.crt')
  const caKey = issuer ? issuer.caKey : f('ca.key')
  if (!issuer) {
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', `/CN=nen test CA ${label}`, '-keyout', caKey, '-out', ca,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  }
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=nen test redis', '-keyout', f('server.key'), '-out', f('server.csr'))
  fs.writeFileSync(f('ext.cnf'), `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\n`)
  ossl('x509', '-req', '-in', f('server.csr'), '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-days', '1',
    '-extfile', f('ext.cnf'), '-out', f('server.crt'))
  return { dir, ca, caKey, cert: f('server.crt'), key: f('server.key') }
}

module.exports = { port, start, stop, kill, restart, killAsync, restartAsync, startCluster, makeCerts, cli, BASE }
