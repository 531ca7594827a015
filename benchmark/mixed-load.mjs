// Mixed load: the store round trips of an established session (Redis store, `open()` one at a
// time) while 64 handshakes are kept in flight. What it shows: whether a handshake burst delays
// the requests of sessions that already exist (the key exchange runs on tokio's blocking pool,
// one per core, never on the workers that carry store I/O).
//
//   node benchmark/mixed-load.mjs [path to the addon's nen.js or index.js]
//
// Starts its own redis-server on 127.0.0.1:16620 and stops only that one. Prints p50/p99 of
// open() in µs, quiet and during the burst, and the handshakes per second the burst reached.

import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const addon = require(process.argv[2] ?? '../nen.js')
const client = require('../nen.js')
const PORT = 16620
const dir = mkdtempSync(join(tmpdir(), 'nen-mixed-'))
execFileSync('redis-server', [
  '--port',
  String(PORT),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
  '--daemonize',
  'yes',
  '--pidfile',
  join(dir, 'redis.pid'),
  '--logfile',
  join(dir, 'redis.log'),
  '--dir',
  dir,
])
await new Promise((r) => setTimeout(r, 300))

/** p50 and p99 of `n` sequential opens, µs. */
async function latencies(server, reqs, n) {
  const out = []
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint()
    await server.open(reqs.next())
    out.push(Number(process.hrtime.bigint() - t) / 1e3)
  }
  out.sort((a, b) => a - b)
  return { p50: Math.round(out[n >> 1]), p99: Math.round(out[Math.floor(n * 0.99)]) }
}

try {
  const wrappingKey = Buffer.alloc(32, 1).toString('base64')
  const server = new addon.NenServer({ store: { kind: 'redis', url: `redis://127.0.0.1:${PORT}`, wrappingKey } })
  const hs = client.NenClientHandshake.start('hybrid')
  const session = hs.finish((await server.handshake(hs.body)).body)
  const bodies = Array.from({ length: 4000 }, () => client.NenClientHandshake.start('hybrid').body)
  const signed = Array.from({ length: 6000 }, () => ({ method: 'GET', url: '/x', headers: session.sign('GET', '/x').headers }))
  let k = 0
  const reqs = { next: () => signed[k++] }
  await latencies(server, reqs, 500)
  const quiet = await latencies(server, reqs, 1500)
  let stop = false
  let done = 0
  let b = 0
  const burst = async () => {
    while (!stop) {
      await server.handshake(bodies[b++ % bodies.length])
      done++
    }
  }
  const workers = Array.from({ length: 64 }, burst)
  const t0 = Date.now()
  const busy = await latencies(server, reqs, 1500)
  stop = true
  await Promise.all(workers)
  console.log(JSON.stringify({ quiet, duringHandshakeBurst: busy, handshakesPerSecond: Math.round(done / ((Date.now() - t0) / 1000)) }))
} finally {
  execFileSync('redis-cli', ['-p', String(PORT), 'shutdown', 'nosave'])
}
