'use strict'
// The Redis and Redis Cluster stores over TLS (`rediss://`), against redis-server processes this
// suite starts with TLS only (no plaintext port), on its own loopback ports. The certificates are
// made here with openssl: a private CA, trusted through NEN_REDIS_CA_FILE. A wrong CA, no CA, or
// a certificate for another name must fail closed (ISO-8001) within timeoutMs, never hang.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { spawnSync } = require('node:child_process')
const { readFileSync } = require('node:fs')
const { join } = require('node:path')
const { nen, connect, sign, roundTrip, rejectsWith } = require('./support/nen')
const redis = require('./support/redis')

const PORT = redis.port(16500) // TLS, certificate for 127.0.0.1 from CA `good`
const WRONG_NAME = redis.port(16501) // TLS, certificate from CA `good` for another host name only
const PLAIN = redis.port(16502) // no TLS
const TLS12 = redis.port(16503) // TLS 1.2 only
const CLUSTER = [redis.port(16510), redis.port(16511), redis.port(16512)] // TLS, cluster bus over TLS too
const TIMEOUT = 400
const MARGIN = 400 // scheduling slack on a loaded 2-core machine
const wrappingKey = crypto.randomBytes(32).toString('base64')

let good
let other
const servers = []

/** A NenServer built while NEN_REDIS_CA_FILE names `caFile` (unset when null). */
function serverWith(caFile, store) {
  const before = process.env.NEN_REDIS_CA_FILE
  if (caFile) process.env.NEN_REDIS_CA_FILE = caFile
  else delete process.env.NEN_REDIS_CA_FILE
  try {
    return new nen.NenServer({ store: { wrappingKey, timeoutMs: TIMEOUT, ...store } })
  } finally {
    if (before === undefined) delete process.env.NEN_REDIS_CA_FILE
    else process.env.NEN_REDIS_CA_FILE = before
  }
}
const single = (caFile, port = PORT) => serverWith(caFile, { kind: 'redis', url: `rediss://127.0.0.1:${port}` })

/** Runs `fn` and asserts it fails with ISO-8001 within the timeout (plus scheduling slack). */
async function failsClosed(fn) {
  const t0 = performance.now()
  await rejectsWith(fn, 'ISO-8001', 503)
  const ms = performance.now() - t0
  assert.ok(ms < TIMEOUT + MARGIN, `failed closed after ${ms.toFixed(0)} ms (timeoutMs ${TIMEOUT})`)
  return ms
}

test.before(() => {
  good = redis.makeCerts('good')
  other = redis.makeCerts('other')
  redis.start(PORT, [], { tls: good })
  servers.push(PORT)
  // Signed by the same CA, but for a name that is not 127.0.0.1.
  redis.start(WRONG_NAME, [], { tls: redis.makeCerts('misnamed', ['DNS:redis.example.invalid'], good) })
  servers.push(WRONG_NAME)
})
test.after(() => {
  for (const p of servers) redis.stop(p)
})

test('rediss:// with a private CA: handshake, requests, replay refused, across instances', async () => {
  const a = single(good.ca)
  const b = single(good.ca)
  const session = await connect(a)
  const { output } = await roundTrip(b, session, 'POST', '/api/x', { n: 1 })
  assert.deepEqual(output, { echo: { n: 1 } })
  const { req } = sign(session, 'POST', '/api/pay', { amount: 5 })
  await a.open(req)
  await rejectsWith(() => b.open(req), 'ISO-5001', 401)
  await rejectsWith(() => a.open(req), 'ISO-5001', 401)
  // Concurrent sessions on one TLS connection.
  const many = await Promise.all(Array.from({ length: 20 }, () => connect(a)))
  await Promise.all(many.map((s, i) => roundTrip(b, s, 'POST', '/api/many', { i })))
  // The records really are in the TLS-only Redis.
  assert.ok(Number(redis.cli(PORT, 'dbsize').stdout.trim()) >= 21)
  assert.equal(redis.cli(PORT, 'exists', `nen:{${session.sid}}`).stdout.trim(), '1')
})

test('store.tlsCa: the CA given as PEM in the options works the same, and a wrong one fails closed', async () => {
  const store = (ca) => ({ kind: 'redis', url: `rediss://127.0.0.1:${PORT}`, wrappingKey, timeoutMs: TIMEOUT, tlsCa: readFileSync(ca, 'utf8') })
  const server = serverWith(null, store(good.ca))
  const session = await connect(server)
  await roundTrip(server, session, 'GET', '/api/pem')
  const wrong = serverWith(null, store(other.ca))
  await rejectsWith(() => wrong.handshake(nen.NenClientHandshake.start().body), 'ISO-8001', 503)
  assert.throws(
    () => new nen.NenServer({ store: { kind: 'redis', url: `redis://127.0.0.1:${PLAIN}`, wrappingKey, tlsCa: readFileSync(good.ca, 'utf8') } }),
    (e) => e.code === 'ISO-9001' && e.message.includes('tlsCa'),
  )
})

test('a wrong CA, no CA, a certificate for another name, plaintext to a TLS port: ISO-8001 within timeoutMs', async (t) => {
  const session = await connect(single(good.ca))
  const cases = {
    'wrong CA': single(other.ca),
    'no CA (Mozilla roots)': single(null),
    'certificate for another name': single(good.ca, WRONG_NAME),
    'redis:// to a TLS port': serverWith(null, { kind: 'redis', url: `redis://127.0.0.1:${PORT}` }),
  }
  for (const [what, server] of Object.entries(cases)) {
    const times = []
    times.push(await failsClosed(() => server.handshake(nen.NenClientHandshake.start().body)))
    times.push(await failsClosed(() => server.open(sign(session, 'GET', '/api/x').req)))
    // A burst: every request settles, each closed, none past the bound.
    const burst = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        failsClosed(() => (i % 2 ? server.open(sign(session, 'GET', `/api/b${i}`).req) : server.handshake(nen.NenClientHandshake.start().body))),
      ),
    )
    times.push(...burst)
    t.diagnostic(`${what}: max ${Math.max(...times).toFixed(0)} ms over ${times.length} requests`)
  }
  // The session itself is unharmed: nothing reached Redis through the failed connections.
  await roundTrip(single(good.ca), session, 'GET', '/api/still')
})

test('a wrong CA or name is said once on stderr, with no secret; a bad CA file is refused at construction', () => {
  const script = (port) => `
    const nen = require(${JSON.stringify(join(__dirname, '..'))})
    const s = new nen.NenServer({ store: { kind: 'redis', url: 'rediss://127.0.0.1:${port}', wrappingKey: '${wrappingKey}', timeoutMs: ${TIMEOUT} } })
    const hs = () => s.handshake(nen.NenClientHandshake.start().body).then(() => 'ok', (e) => e.code)
    ;(async () => {
      const codes = []
      for (let i = 0; i < 6; i++) codes.push(await hs())
      codes.push(...(await Promise.all(Array.from({ length: 10 }, hs))))
      process.stdout.write(JSON.stringify(codes))
      // Ends by itself, not by process.exit: node then runs the addon's finalizers, so
      // scripts/sanitize.sh's leak check can judge this process too. After the connection
      // attempt still in flight has settled (at most 2 x TIMEOUT + 200 ms): a redis-rs
      // ConnectionManager stopped mid-attempt at teardown is never freed (LeakSanitizer: 11
      // objects, 4 KB, once per process; see SECURITY.md).
      await new Promise((r) => setTimeout(r, 2 * ${TIMEOUT} + 500))
    })()`
  const run = (ca, port = PORT) =>
    spawnSync(process.execPath, ['-e', script(port)], { encoding: 'utf8', timeout: 20000, env: { ...process.env, NEN_REDIS_CA_FILE: ca } })
  for (const [ca, port, cause] of [
    [other.ca, PORT, /UnknownIssuer/],
    [good.ca, WRONG_NAME, /not valid for name/],
  ]) {
    const r = run(ca, port)
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), Array(16).fill('ISO-8001'))
    const hints = r.stderr.match(/\[nen\] Redis TLS handshake failed/g) ?? []
    assert.equal(hints.length, 1, r.stderr)
    assert.match(r.stderr, cause)
    assert.ok(!r.stderr.includes(wrappingKey) && !/[A-Za-z0-9+/]{40,}/.test(r.stderr), 'no key material in the hint')
  }
  // The right CA: no hint at all.
  const ok = run(good.ca)
  assert.deepEqual(JSON.parse(ok.stdout), Array(16).fill('ok'))
  assert.equal(ok.stderr.trim(), '')
  // A CA file that cannot be read, or holds no certificate: a configuration error, at once.
  assert.throws(() => single(join(good.dir, 'missing.pem')))
  assert.throws(() => single(good.key))
})

test('a Redis that speaks TLS 1.2 only', async () => {
  redis.start(TLS12, ['--tls-protocols', 'TLSv1.2'], { tls: good })
  servers.push(TLS12)
  const server = single(good.ca, TLS12)
  const session = await connect(server)
  const { output } = await roundTrip(server, session, 'POST', '/api/tls12', { v: 1.2 })
  assert.deepEqual(output, { echo: { v: 1.2 } })
})

test('NEN_REDIS_CA_FILE does not affect redis:// URLs', async () => {
  redis.start(PLAIN)
  servers.push(PLAIN)
  const server = serverWith(good.ca, { kind: 'redis', url: `redis://127.0.0.1:${PLAIN}` })
  const session = await connect(server)
  await roundTrip(server, session, 'GET', '/api/plain')
})

test('a TLS Redis killed and restarted: fail closed within timeoutMs, then back by itself, no replay', async (t) => {
  const server = single(good.ca)
  const session = await connect(server)
  const { req } = sign(session, 'POST', '/api/pay', { amount: 1 })
  await server.open(req)
  await redis.killAsync(PORT)
  await failsClosed(() => server.open(sign(session, 'GET', '/api/down').req))
  await failsClosed(() => server.handshake(nen.NenClientHandshake.start().body))
  await redis.restartAsync(PORT)
  const up = Date.now()
  let fresh
  while (!fresh) {
    fresh = await connect(server).catch((e) => (assert.equal(e.code, 'ISO-8001'), null))
    assert.ok(Date.now() - up < 5000, 'no TLS reconnection 5 s after the restart')
    if (!fresh) await new Promise((r) => setTimeout(r, 50))
  }
  t.diagnostic(`TLS store back ${Date.now() - up} ms after the restart`)
  await roundTrip(server, fresh, 'POST', '/api/back', { ok: true })
  // The restarted Redis is empty: the old session and its captured request are refused.
  await rejectsWith(() => server.open(req), 'ISO-2002', 401)
  await rejectsWith(() => server.open(sign(session, 'GET', '/api/old').req), 'ISO-2002', 401)
})

test('a 3-node Redis Cluster over TLS: sessions on every node, replay refused; a wrong CA fails closed', async (t) => {
  const t0 = Date.now()
  const nodes = redis.startCluster(CLUSTER, { tls: good })
  servers.push(...CLUSTER)
  t.diagnostic(`TLS cluster up in ${Date.now() - t0} ms`)
  assert.ok(nodes.every((u) => u.startsWith('rediss://')))
  const cluster = (caFile, seeds = nodes) => serverWith(caFile, { kind: 'redis-cluster', nodes: seeds })
  const a = cluster(good.ca)
  const b = cluster(good.ca, [nodes[2]])
  const sessions = await Promise.all(Array.from({ length: 30 }, () => connect(a)))
  for (const s of sessions) await roundTrip(b, s, 'POST', '/api/c', { sid: s.sid })
  const perNode = CLUSTER.map((p) => Number(redis.cli(p, 'dbsize').stdout.trim()))
  assert.ok(perNode.every((n) => n > 0), `keys per node: ${perNode}`)
  let accepted = 0
  for (const s of sessions.slice(0, 10)) {
    const { req } = sign(s, 'POST', '/api/once')
    await a.open(req)
    accepted += await b.open(req).then(
      () => 1,
      (e) => (assert.equal(e.code, 'ISO-5001'), 0),
    )
  }
  assert.equal(accepted, 0, 'a replay was accepted')
  const wrong = cluster(other.ca)
  await failsClosed(() => wrong.handshake(nen.NenClientHandshake.start().body))
  await Promise.all(sessions.slice(0, 8).map((s) => failsClosed(() => wrong.open(sign(s, 'GET', '/api/w').req))))
})
