'use strict'
// The Redis and Redis Cluster stores against real redis-server processes this suite starts on
// its own loopback ports (never the machine's 6379).

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { nen, connect, sign, roundTrip, rejectsWith } = require('./support/nen')
const redis = require('./support/redis')

const PORT = redis.port(16390)
const CLUSTER = [redis.port(17101), redis.port(17102), redis.port(17103)]
const wrappingKey = crypto.randomBytes(32).toString('base64')

const redisServer = (extra = {}, options = {}) =>
  new nen.NenServer({ store: { kind: 'redis', url: `redis://127.0.0.1:${PORT}`, wrappingKey, timeoutMs: 500, ...extra }, ...options })

test.before(() => {
  redis.start(PORT)
})
test.after(() => {
  redis.stop(PORT)
  for (const p of CLUSTER) redis.stop(p)
})

test('a session made on one instance works on another; replay across instances is rejected', async () => {
  const a = redisServer()
  const b = redisServer()
  assert.equal(a.isSync, false)
  const session = await connect(a)
  const { output } = await roundTrip(b, session, 'POST', '/api/x', { n: 1 })
  assert.deepEqual(output, { echo: { n: 1 } })

  const { req } = sign(session, 'POST', '/api/pay', { amount: 5 })
  await a.open(req)
  await rejectsWith(() => b.open(req), 'ISO-5001', 401)
  await rejectsWith(() => a.open(req), 'ISO-5001', 401)
  await rejectsWith(() => a.openSync(req), 'ISO-9001', 500)
})

test('terminate on one instance takes effect on the other', async () => {
  const a = redisServer()
  const b = redisServer()
  const session = await connect(a)
  await roundTrip(b, session, 'GET', '/api/warm') // b now caches the session
  const t = sign(session, 'POST', '/api/nen/terminate')
  await a.terminate(t.req)
  await rejectsWith(() => b.open(sign(session, 'GET', '/api/x').req), 'ISO-2002', 401)
})

test('rotation across instances with a grace period', async () => {
  const a = redisServer()
  const b = redisServer()
  const session = await connect(a)
  const rot = session.beginRotation()
  const rr = sign(session, 'POST', '/api/nen/rotate', JSON.parse(rot.body))
  const next = rot.finish(session.open(rr.signed, 200, (await b.rotate(rr.req)).body))
  await roundTrip(a, next, 'GET', '/api/new')
  await roundTrip(a, session, 'GET', '/api/old-in-grace')
})

test('what Redis holds is wrapped: one record per session, no session key, no plaintext', async () => {
  const server = redisServer({ keyPrefix: 'wraptest:' })
  const session = await connect(server)
  await roundTrip(server, session, 'POST', '/api/secret', { card: '4111111111111111' })
  const keys = redis.cli(PORT, '--scan', '--pattern', 'wraptest:*').stdout.trim().split('\n')
  // The session and its replay records are one hash: nothing can evict one without the other.
  assert.deepEqual(keys, [`wraptest:{${session.sid}}`])
  const fields = redis.cli(PORT, 'hkeys', keys[0]).stdout.trim().split('\n')
  assert.ok(fields.includes('s'), 'entry')
  assert.ok(fields.some((f) => /^n:[0-9a-f]{24}$/.test(f)), `nonce recorded in the record: ${fields}`)
  assert.equal(redis.cli(PORT, 'type', keys[0]).stdout.trim(), 'hash')
  const ttl = Number(redis.cli(PORT, 'pttl', keys[0]).stdout.trim())
  assert.ok(ttl > 0 && ttl <= 3_600_000, `the record has a TTL (${ttl})`)
  const raw = Buffer.from(redis.cli(PORT, '--no-raw', 'hget', keys[0], 's').stdout.trim().replace(/^"|"$/g, ''), 'latin1')
  assert.ok(raw.length > 100 && !raw.includes('4111'))
  // A second instance with another wrapping key cannot read the session.
  const intruder = redisServer({ keyPrefix: 'wraptest:', wrappingKey: crypto.randomBytes(32).toString('base64') })
  await rejectsWith(() => intruder.open(sign(session, 'GET', '/api/x').req), 'ISO-8002', 500)
  // Terminate deletes the session and its replay records: nothing of it is left.
  const t = sign(session, 'POST', '/api/nen/terminate')
  assert.equal((await server.terminate(t.req)).status, 200)
  assert.equal(redis.cli(PORT, '--scan', '--pattern', 'wraptest:*').stdout.trim(), '')
})

test('one successor per session across instances; status reports the end of the grace', async () => {
  const a = redisServer({}, { rotationGraceMs: 20_000 })
  const b = redisServer({}, { rotationGraceMs: 20_000 })
  const session = await connect(a)
  const rot = session.beginRotation()
  const rr = sign(session, 'POST', '/api/nen/rotate', JSON.parse(rot.body))
  const before = Date.now()
  rot.finish(session.open(rr.signed, 200, (await a.rotate(rr.req)).body))
  const st = sign(session, 'GET', '/api/nen/status')
  const exp = JSON.parse(session.open(st.signed, 200, (await b.status(st.req)).body)).exp
  assert.ok(exp >= before + 20_000 && exp <= Date.now() + 20_000, `exp ${exp}`)
  const ttl = Number(redis.cli(PORT, 'pttl', `nen:{${session.sid}}`).stdout.trim())
  assert.ok(ttl > 0 && ttl <= 20_000, `the old record's TTL was shortened to the grace (${ttl})`)
  // Two concurrent second rotations on two instances: both refused, sealed.
  const tries = await Promise.all(
    [a, b].map(async (srv) => {
      const r2 = session.beginRotation()
      const q = sign(session, 'POST', '/api/nen/rotate', JSON.parse(r2.body))
      const reply = await srv.rotate(q.req)
      assert.equal(reply.status, 409)
      assert.throws(() => session.open(q.signed, 409, reply.body), (e) => e.code === 'ISO-2004' && e.authenticated)
    }),
  )
  assert.equal(tries.length, 2)
})

test('a session record holds only the nonces still inside the window: pruned inside the record script', async () => {
  const server = redisServer({}, { windowMs: 1000, maxClockSkewMs: 0 })
  const session = await connect(server)
  const key = `nen:{${session.sid}}`
  const nonces = () => redis.cli(PORT, 'hkeys', key).stdout.split('\n').filter((f) => f.startsWith('n:')).length
  for (let i = 0; i < 50; i++) await server.open(sign(session, 'GET', '/api/tick').req)
  assert.equal(nonces(), 50)
  // Past window + skew + the 1 s prune interval, the next request prunes the others.
  await new Promise((r) => setTimeout(r, 2100))
  await server.open(sign(session, 'GET', '/api/tick').req)
  assert.equal(nonces(), 1)
})

test('the unwrapped-session cache is filled only by verified requests', async () => {
  const server = redisServer()
  for (let i = 0; i < 10; i++) await connect(server)
  assert.equal(server.cachedSessions, 0)
  const session = await connect(server)
  await rejectsWith(() => server.open({ ...sign(session, 'GET', '/api/x').req, url: '/api/y' }), 'ISO-3002', 401)
  assert.equal(server.cachedSessions, 0)
  await roundTrip(server, session, 'GET', '/api/x')
  assert.equal(server.cachedSessions, 1)
})

test('Redis down: fail closed within the timeout; back: requests succeed in the same process', async () => {
  const server = redisServer({ timeoutMs: 300 })
  const session = await connect(server)
  await roundTrip(server, session, 'GET', '/api/up')
  redis.stop(PORT)
  const t0 = Date.now()
  await rejectsWith(() => server.open(sign(session, 'GET', '/api/down').req), 'ISO-8001', 503)
  await rejectsWith(() => server.handshake(nen.NenClientHandshake.start().body), 'ISO-8001', 503)
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`)
  redis.start(PORT)
  // The restarted Redis is empty: the old session is gone, a new one works on the same server.
  let fresh
  for (let i = 0; i < 50 && !fresh; i++) {
    fresh = await connect(server).catch(() => new Promise((r) => setTimeout(r, 100)))
  }
  assert.ok(fresh, 'handshake succeeds again after Redis is back')
  await roundTrip(server, fresh, 'POST', '/api/back', { ok: true })
  await rejectsWith(() => server.open(sign(session, 'GET', '/api/old').req), 'ISO-2002', 401)
})

test('a 3-node Redis Cluster: sessions spread over every node and work', async () => {
  const nodes = redis.startCluster(CLUSTER)
  const server = new nen.NenServer({ store: { kind: 'redis-cluster', nodes, wrappingKey } })
  const other = new nen.NenServer({ store: { kind: 'redis-cluster', nodes: [nodes[1]], wrappingKey } })
  const sessions = await Promise.all(Array.from({ length: 30 }, () => connect(server)))
  for (const s of sessions) await roundTrip(other, s, 'POST', '/api/c', { sid: s.sid })
  const perNode = CLUSTER.map((p) => Number(redis.cli(p, 'dbsize').stdout.trim()))
  assert.ok(perNode.every((n) => n > 0), `keys per node: ${perNode}`)
  const { req } = sign(sessions[0], 'GET', '/api/replay')
  await server.open(req)
  await rejectsWith(() => other.open(req), 'ISO-5001', 401)
})
