// One conformance suite for servers: the same scenarios, with the same expected codes, for every
// engine and store a deployment can pick. Two instances behind a round-robin balancer share each
// store (the memory store is one instance), over real HTTP with the real client. A new engine or
// store (an edge runtime, say) joins by adding a row to CONFIGS.

import test, { after, before, describe } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { createNen, RedisSessionStore, UpstashSessionStore } from '../dist/index.mjs'
import { NenClient, createApp, fullRoundTrip, nodeServer, recordingFetch, rejectsWith } from './support/app.mjs'
import { recordAdapter } from './support/record-adapter.mjs'
import { startRedis, startUpstash } from './support/upstash.mjs'
import initClientCore, * as clientCore from '../../client/wasm/nen_wasm.js'
import { wasmBase64 } from '../../client/wasm/nen_wasm_bytes.js'

await initClientCore({ module_or_path: Buffer.from(wasmBase64, 'base64') })

const require = createRequire(import.meta.url)
const redisSupport = require('../../../__test__/support/redis.js')

const TOKEN = `conformance-${randomBytes(8).toString('hex')}`
const identity = createRequire(import.meta.url)('../../../nen.js').generateIdentity()
const wrappingKey = randomBytes(32).toString('base64')
const CLUSTER = [16711, 16712, 16713]
let redis
let upstash
let clusterNodes

before(async () => {
  redis = await startRedis()
  upstash = await startUpstash(redis.port, TOKEN)
  clusterNodes = redisSupport.startCluster(CLUSTER)
})

after(async () => {
  await upstash?.close()
  redis?.stop()
  for (const p of CLUSTER) redisSupport.stop(p)
})

/** [name, engine, store factory (one per instance, sharing one backend), instances]. */
const CONFIGS = [
  ['native, memory store', 'native', () => () => ({ kind: 'memory' }), 1],
  ['native, Redis', 'native', () => () => RedisSessionStore({ url: redis.url, wrappingKey, keyPrefix: 'cf1:' }), 2],
  ['native, Redis Cluster', 'native', () => () => RedisSessionStore({ nodes: clusterNodes, wrappingKey, keyPrefix: 'cf2:' }), 2],
  [
    'native, JavaScript adapter',
    'native',
    () => {
      const adapter = recordAdapter()
      return () => ({ kind: 'js', adapter, wrappingKey })
    },
    2,
  ],
  ['WASM, memory store', 'wasm', () => () => ({ kind: 'memory' }), 1],
  [
    'WASM, JavaScript adapter',
    'wasm',
    () => {
      const adapter = recordAdapter()
      return () => ({ kind: 'js', adapter, wrappingKey })
    },
    2,
  ],
  ['WASM, Upstash REST', 'wasm', () => () => UpstashSessionStore({ url: upstash.url, token: TOKEN, wrappingKey, keyPrefix: 'cf3:' }), 2],
]

/** A session of the client core, driven by hand (to sign what NenClient would not send twice). */
async function rawSession(balance) {
  const hs = clientCore.ClientHandshake.start('hybrid')
  const res = await balance('http://lb/api/nen/handshake', { method: 'POST', body: hs.body })
  return hs.finish(await res.text())
}

async function send(balance, session, method, path, json) {
  const signed = session.sign(method, path, json)
  const r = await balance(`http://lb${path}`, { method, headers: signed.headers, body: signed.body })
  return { signed, status: r.status, text: await r.text() }
}

for (const [name, engine, makeStore, instances] of CONFIGS) {
  describe(`conformance: ${name}`, () => {
    let servers
    let balance
    before(async () => {
      const store = makeStore()
      const app = createApp()
      servers = []
      for (let i = 0; i < instances; i++)
        servers.push(await nodeServer(app, { nen: createNen({ engine, store: store(), rotationGraceMs: 20_000, identitySecretKey: identity.secretKey, onError: () => {} }) }))
      let n = 0
      balance = (url, init) => fetch(String(url).replace('http://lb', servers[n++ % servers.length].url), init)
      servers.app = app
    })
    after(() => Promise.all(servers.map((s) => s.close())))

    test('the full client scenario: every method, streams, lifecycle, nothing readable on the wire', { timeout: 30000 }, async () => {
      const wire = []
      await fullRoundTrip('http://lb', recordingFetch(wire, balance), { wire, app: servers.app })
    })

    test('every key exchange, with and without the pinned server identity', async () => {
      for (const keyExchange of ['hybrid', 'mlkem768']) {
        for (const identityMode of ['tls', 'pqc']) {
          const pin = identityMode === 'pqc' ? { serverIdentityKey: identity.publicKey } : {}
          const client = new NenClient('http://lb', { fetch: balance, keyExchange, identityMode, ...pin })
          const r = await client.nenFetch('/api/echo?k=1', { method: 'PATCH', body: { keyExchange, identityMode } })
          assert.deepEqual(await r.json(), { method: 'PATCH', body: { keyExchange, identityMode }, query: { k: '1' } })
          assert.equal((await client.status()).mode, keyExchange)
        }
      }
      // A client pinning another identity refuses the handshake.
      const other = createRequire(import.meta.url)('../../../nen.js').generateIdentity()
      const wrongPin = new NenClient('http://lb', { fetch: balance, identityMode: 'pqc', serverIdentityKey: other.publicKey })
      await rejectsWith(wrongPin.nenFetch('/api/echo'), 'ISO-3006')
    })

    test('request errors: the same code, status and order on every engine and store; none consumes the request', async () => {
      const session = await rawSession(balance)
      const good = session.sign('POST', '/api/echo', '{"a":1}')
      const ts = good.headers['x-nen-timestamp']
      // [case, path, header overrides (null: removed), body, code, status]
      const cases = [
        ['another protocol version', '/api/echo', { 'x-nen-version': '2' }, good.body, 'ISO-1005', 400],
        ['no session header', '/api/echo', { 'x-nen-session': null }, good.body, 'ISO-2003', 401],
        ['no signature', '/api/echo', { 'x-nen-signature': null }, good.body, 'ISO-3001', 401],
        ['no nonce', '/api/echo', { 'x-nen-nonce': null }, good.body, 'ISO-3005', 401],
        ['a timestamp that is not a number', '/api/echo', { 'x-nen-timestamp': 'soon' }, good.body, 'ISO-3008', 401],
        ['a timestamp with a leading zero', '/api/echo', { 'x-nen-timestamp': `0${ts}` }, good.body, 'ISO-3008', 401],
        ['an unknown session', '/api/echo', { 'x-nen-session': 'f'.repeat(32) }, good.body, 'ISO-2002', 401],
        ['a body that is not an envelope', '/api/echo', {}, '{"nope":1}', 'ISO-6001', 400],
        ['a query added by a hop', '/api/echo?a=1', {}, good.body, 'ISO-3002', 401],
        ['another target', '/api/items', {}, good.body, 'ISO-3002', 401],
        ['an idempotency key added by a hop', '/api/echo', { 'x-nen-idempotency-key': 'k1' }, good.body, 'ISO-3002', 401],
        ['a request from outside the window', '/api/echo', { 'x-nen-timestamp': String(Number(ts) - 120_000) }, good.body, 'ISO-3002', 401],
      ]
      for (const [what, path, over, body, code, status] of cases) {
        const headers = { ...good.headers }
        for (const [k, v] of Object.entries(over)) {
          if (v === null) delete headers[k]
          else headers[k] = v
        }
        const r = await balance(`http://lb${path}`, { method: 'POST', headers, body })
        assert.equal(r.status, status, what)
        assert.equal(r.headers.get('x-nen-error'), code, what)
        assert.equal((await r.json()).error.code, code, what)
      }
      // Another spelling of the same target: verified as sent, so refused.
      const q = session.sign('GET', '/api/echo?a=1')
      const respelt = await balance('http://lb/api/echo?a=%31', { headers: q.headers })
      assert.deepEqual([respelt.status, (await respelt.json()).error.code], [401, 'ISO-3002'])
      // The lifecycle routes check method and body before anything else.
      const status = session.sign('POST', '/api/nen/status', '{}')
      const s = await balance('http://lb/api/nen/status', { method: 'POST', headers: status.headers, body: status.body })
      assert.deepEqual([s.status, (await s.json()).error.code], [405, 'ISO-6007'])
      const term = session.sign('POST', '/api/nen/terminate', '{}')
      const t = await balance('http://lb/api/nen/terminate', { method: 'POST', headers: term.headers, body: term.body })
      assert.deepEqual([t.status, (await t.json()).error.code], [400, 'ISO-6008'])
      // None of the failures recorded the nonce: the genuine request still passes, once.
      const ok = await balance('http://lb/api/echo', { method: 'POST', headers: good.headers, body: good.body })
      assert.equal(ok.status, 200)
      assert.deepEqual(JSON.parse(session.open(good, 200, await ok.text())).body, { a: 1 })
    })

    test('a captured request replayed to any instance: ISO-5001; re-sent elsewhere: ISO-3002', async () => {
      const sent = []
      const client = new NenClient('http://lb', { fetch: (u, i) => (sent.push({ u: String(u), i }), balance(u, i)) })
      await client.nenFetch('/api/echo', { method: 'POST', body: { pay: 1 } })
      const { u, i } = sent.at(-1)
      for (const s of servers) {
        const r = await fetch(u.replace('http://lb', s.url), i)
        assert.equal(r.status, 401)
        assert.equal((await r.json()).error.code, 'ISO-5001')
      }
      const other = await fetch(u.replace('http://lb', servers[0].url).replace('/api/echo', '/api/items'), i)
      assert.equal((await other.json()).error.code, 'ISO-3002')
    })

    test('one successor per session; status reports the end of the grace; terminate ends it everywhere', async () => {
      const session = await rawSession(balance)
      const rot = session.beginRotation('hybrid')
      const before = Date.now()
      const r1 = await send(balance, session, 'POST', '/api/nen/rotate', rot.body)
      assert.equal(r1.status, 200)
      const next = rot.finish(session.open(r1.signed, 200, r1.text))
      const st = await send(balance, session, 'GET', '/api/nen/status')
      const exp = JSON.parse(session.open(st.signed, 200, st.text)).exp
      assert.ok(exp >= before + 20_000 && exp <= Date.now() + 20_000, `the old session ends with its grace (${exp})`)
      for (let i = 0; i < servers.length; i++) {
        const again = await send(balance, session, 'POST', '/api/nen/rotate', session.beginRotation('hybrid').body)
        assert.equal(again.status, 409)
        assert.throws(
          () => session.open(again.signed, 409, again.text),
          (e) => e.code === 'ISO-2004' && e.authenticated === true,
        )
      }
      const t = await send(balance, next, 'POST', '/api/nen/terminate')
      assert.equal(JSON.parse(next.open(t.signed, 200, t.text)).terminated, true)
      for (let i = 0; i < servers.length; i++) {
        const gone = await send(balance, next, 'GET', '/api/echo')
        assert.equal(gone.status, 401)
        assert.equal(JSON.parse(gone.text).error.code, 'ISO-2002')
      }
    })

    test('tampering: a flipped ciphertext is ISO-4001, a forged plain error never passes for a result', async () => {
      const flipping = new NenClient('http://lb', {
        fetch: (url, init) => {
          if (String(url).endsWith('/handshake')) return balance(url, init)
          const env = JSON.parse(init.body)
          env.ct = (env.ct[0] === 'A' ? 'B' : 'A') + env.ct.slice(1)
          return balance(url, { ...init, body: JSON.stringify(env) })
        },
      })
      await rejectsWith(flipping.nenFetch('/api/echo', { method: 'PUT', body: { x: 1 } }), 'ISO-4001', 400)
      const forging = new NenClient('http://lb', {
        fetch: async (url, init) => {
          const res = await balance(url, init)
          if (String(url).endsWith('/handshake')) return res
          return new Response('{"ok":true}', { status: 200, headers: { 'content-type': 'application/json' } })
        },
      })
      assert.equal((await rejectsWith(forging.nenFetch('/api/echo'), 'ISO-4004')).authenticated, false)
    })
  })
}
