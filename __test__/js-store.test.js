'use strict'
// A session store written in JavaScript, called back from Rust through a thread-safe function.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { nen, connect, sign, roundTrip, rejectsWith } = require('./support/nen')

/** A small TTL map of records with the atomic operations the adapter contract asks for. */
function mapAdapter() {
  const data = new Map() // key → { entry, retiredAt, nonces: Map<nonce, until>, until }
  const live = (k) => {
    const r = data.get(k)
    if (r && r.until <= Date.now()) data.delete(k)
    return data.get(k)
  }
  const calls = []
  return {
    data,
    calls,
    async load(k) {
      calls.push('load')
      const r = live(k)
      return r ? { entry: r.entry, retiredAt: r.retiredAt } : null
    },
    async put(k, entry, ttlMs) {
      calls.push('put')
      data.set(k, { entry, retiredAt: null, nonces: new Map(), until: Date.now() + ttlMs })
    },
    async delete(k) {
      calls.push('delete')
      data.delete(k)
    },
    async retire(k, atMs, ttlMs) {
      calls.push('retire')
      const r = live(k)
      if (!r) return 'gone'
      if (r.retiredAt !== null) return 'rotated'
      r.retiredAt = atMs
      r.until = Math.min(r.until, Date.now() + ttlMs)
      return 'ok'
    },
    async recordNonce(k, nonce, nowMs, untilMs) {
      calls.push('recordNonce')
      const r = live(k)
      if (!r) return 'gone'
      const seen = r.nonces.get(nonce)
      if (seen !== undefined && seen > nowMs) return 'replay'
      for (const [n, t] of r.nonces) if (t <= nowMs) r.nonces.delete(n)
      r.nonces.set(nonce, untilMs)
      return 'ok'
    },
  }
}

const wrappingKey = crypto.randomBytes(32).toString('base64')

test('a JavaScript store serves handshakes, requests, replay checks and terminate', async () => {
  const adapter = mapAdapter()
  const server = new nen.NenServer({ store: { adapter, wrappingKey } })
  assert.equal(server.isSync, false)
  const session = await connect(server)
  const { output } = await roundTrip(server, session, 'POST', '/api/js', { v: 1 })
  assert.deepEqual(output, { echo: { v: 1 } })
  // One store call per request once the session is cached.
  adapter.calls.length = 0
  await roundTrip(server, session, 'GET', '/api/js')
  assert.deepEqual(adapter.calls, ['recordNonce'])

  const { req } = sign(session, 'GET', '/api/once')
  await server.open(req)
  await rejectsWith(() => server.open(req), 'ISO-5001', 401)

  // Stored entries are wrapped sessions, never the plaintext; replay records live in the record.
  for (const { entry, nonces } of adapter.data.values()) {
    assert.ok(!entry.includes('"v":1'))
    for (const n of nonces.keys()) assert.match(n, /^n:[0-9a-f]{24}$/)
  }

  // A second server on the same adapter sees the session; terminate on it is seen by the first.
  const other = new nen.NenServer({ store: { adapter, wrappingKey } })
  const t = sign(session, 'POST', '/api/nen/terminate')
  await other.terminate(t.req)
  await rejectsWith(() => server.open(sign(session, 'GET', '/api/x').req), 'ISO-2002', 401)
  // Terminate removed the session and its replay records: nothing of it is left.
  assert.equal(adapter.data.size, 0)
})

test('a JavaScript store: one rotation per session, the effective expiry, the cache filled only after the MAC', async () => {
  const adapter = mapAdapter()
  const server = new nen.NenServer({ store: { adapter, wrappingKey }, rotationGraceMs: 30_000 })
  // Handshakes alone put nothing in this process's cache: only verified requests do.
  for (let i = 0; i < 20; i++) await connect(server)
  assert.equal(server.cachedSessions, 0)
  const session = await connect(server)
  await rejectsWith(() => server.open({ ...sign(session, 'GET', '/api/x').req, url: '/api/y' }), 'ISO-3002', 401)
  assert.equal(server.cachedSessions, 0, 'a request that failed its MAC cached nothing')
  await roundTrip(server, session, 'GET', '/api/x')
  assert.equal(server.cachedSessions, 1)

  const rot = session.beginRotation('hybrid')
  const rr = sign(session, 'POST', '/api/nen/rotate', JSON.parse(rot.body))
  const before = Date.now()
  rot.finish(session.open(rr.signed, 200, (await server.rotate(rr.req)).body))
  // Another instance on the same store sees the rotation: status shows the grace's end, and a
  // second rotation is refused.
  const other = new nen.NenServer({ store: { adapter, wrappingKey }, rotationGraceMs: 30_000 })
  const st = sign(session, 'GET', '/api/nen/status')
  const exp = JSON.parse(session.open(st.signed, 200, (await other.status(st.req)).body)).exp
  assert.ok(exp >= before + 30_000 && exp <= Date.now() + 30_000, `exp ${exp}`)
  const rot2 = session.beginRotation('hybrid')
  const rr2 = sign(session, 'POST', '/api/nen/rotate', JSON.parse(rot2.body))
  const reply = await other.rotate(rr2.req)
  assert.equal(reply.status, 409)
  assert.throws(() => session.open(rr2.signed, 409, reply.body), (e) => e.code === 'ISO-2004' && e.authenticated)
})

test('an adapter that fails or hangs fails closed with ISO-8001', async () => {
  const failing = { ...mapAdapter(), async put() { throw new Error('connection refused') } }
  await rejectsWith(() => connect(new nen.NenServer({ store: { adapter: failing, wrappingKey } })), 'ISO-8001', 503)

  const throwing = { ...mapAdapter(), put() { throw new Error('sync throw') } }
  await rejectsWith(() => connect(new nen.NenServer({ store: { adapter: throwing, wrappingKey } })), 'ISO-8001', 503)

  const hanging = { ...mapAdapter(), put: () => new Promise(() => {}) }
  const t0 = Date.now()
  await rejectsWith(() => connect(new nen.NenServer({ store: { adapter: hanging, wrappingKey, timeoutMs: 200 } })), 'ISO-8001', 503)
  assert.ok(Date.now() - t0 < 2000)

  const garbage = { ...mapAdapter(), async recordNonce() { return 'maybe' } }
  const server = new nen.NenServer({ store: { adapter: garbage, wrappingKey } })
  const session = await connect(server)
  await rejectsWith(() => server.open(sign(session, 'GET', '/api/x').req), 'ISO-8001', 503)
})

test('a JavaScript store requires a wrapping key', () => {
  const saved = process.env.NEN_WRAPPING_KEY
  delete process.env.NEN_WRAPPING_KEY
  try {
    assert.throws(() => new nen.NenServer({ store: { adapter: mapAdapter() } }), (e) => e.code === 'ISO-9001')
  } finally {
    if (saved !== undefined) process.env.NEN_WRAPPING_KEY = saved
  }
})
