'use strict'
// A session store written in JavaScript, called back from Rust through a thread-safe function.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { nen, connect, sign, roundTrip, rejectsWith } = require('./support/nen')

/** A small TTL map with the atomic operations the adapter contract asks for. */
function mapAdapter() {
  const data = new Map()
  const live = (k) => {
    const e = data.get(k)
    if (e && e.until <= Date.now()) data.delete(k)
    return data.get(k)
  }
  const calls = []
  return {
    data,
    calls,
    async get(k) {
      calls.push('get')
      return live(k)?.value ?? null
    },
    async set(k, value, ttlMs) {
      calls.push('set')
      data.set(k, { value, until: Date.now() + ttlMs })
    },
    async del(k) {
      calls.push('del')
      data.delete(k)
    },
    async shorten(k, ttlMs) {
      calls.push('shorten')
      const e = live(k)
      if (e) e.until = Math.min(e.until, Date.now() + ttlMs)
    },
    async recordNonce(sk, nk, ttlMs) {
      calls.push('recordNonce')
      if (!live(sk)) return 'gone'
      if (live(nk)) return 'replay'
      data.set(nk, { value: '1', until: Date.now() + ttlMs })
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

  // Stored values are wrapped sessions, never the plaintext.
  for (const { value } of adapter.data.values()) assert.ok(!value.includes('"v":1'))

  // A second server on the same adapter sees the session; terminate on it is seen by the first.
  const other = new nen.NenServer({ store: { adapter, wrappingKey } })
  const t = sign(session, 'POST', '/api/nen/terminate')
  await other.terminate(t.req)
  await rejectsWith(() => server.open(sign(session, 'GET', '/api/x').req), 'ISO-2002', 401)
})

test('an adapter that fails or hangs fails closed with ISO-8001', async () => {
  const failing = { ...mapAdapter(), async set() { throw new Error('connection refused') } }
  await rejectsWith(() => connect(new nen.NenServer({ store: { adapter: failing, wrappingKey } })), 'ISO-8001', 503)

  const throwing = { ...mapAdapter(), set() { throw new Error('sync throw') } }
  await rejectsWith(() => connect(new nen.NenServer({ store: { adapter: throwing, wrappingKey } })), 'ISO-8001', 503)

  const hanging = { ...mapAdapter(), set: () => new Promise(() => {}) }
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
