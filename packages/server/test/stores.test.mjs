// Shared session stores against a real redis-server: the Upstash REST store (through a
// REST endpoint this suite runs in front of that Redis) and the native Redis store. Two instances
// behind a round-robin "load balancer" must behave as one server.

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createNen, createNenRoute, withNen, RedisSessionStore, UpstashSessionStore } from '../dist/index.mjs'
import { NenClient, SECRET, createApp, fullRoundTrip, nodeServer, recordingFetch, rejectsWith } from './support/app.mjs'
import { startRedis, startUpstash } from './support/upstash.mjs'

const TOKEN = 'test-token-' + randomBytes(8).toString('hex')
const wrappingKey = randomBytes(32).toString('base64')
let redis
let upstash

before(async () => {
  redis = await startRedis()
  upstash = await startUpstash(redis.port, TOKEN)
})

after(async () => {
  await upstash?.close()
  redis?.stop()
})

const quiet = { onError: () => {} }

/** Two servers on one store; the client's fetch goes to `pick()`'s (round robin by default). */
async function pair(store) {
  const app = createApp()
  const a = await nodeServer(app, { nen: createNen({ store: store(), ...quiet }) })
  const b = await nodeServer(app, { nen: createNen({ store: store(), ...quiet }) })
  let n = 0
  const state = { pick: () => (n++ % 2 ? b : a) }
  const balance = (url, init) => fetch(String(url).replace('http://balanced', state.pick().url), init)
  return { app, a, b, state, balance, close: () => Promise.all([a.close(), b.close()]) }
}

/** The live keys of `prefix` and their remaining lifetimes. */
function keys(prefix) {
  const names = redis.cli('--scan', '--pattern', `${prefix}*`).stdout.split('\n').filter(Boolean)
  return names.map((k) => ({ key: k, type: redis.cli('type', k).stdout.trim(), value: redis.cli('hgetall', k).stdout, pttl: Number(redis.cli('pttl', k).stdout) }))
}

test('Upstash store: the full round trip across two instances', { timeout: 30000 }, async () => {
  const p = await pair(() => UpstashSessionStore({ url: upstash.url, token: TOKEN, wrappingKey, keyPrefix: 'up1:' }))
  try {
    const wire = []
    await fullRoundTrip('http://balanced', recordingFetch(wire, p.balance), { wire, app: p.app })
    // One record per session (a hash: entry, grace end, replay records), wrapped, and every one
    // expires.
    const stored = keys('up1:')
    assert.ok(stored.length > 0)
    for (const { key, type, value, pttl } of stored) {
      assert.match(key, /^up1:\{[0-9a-f]{32}\}$/)
      assert.equal(type, 'hash')
      assert.ok(!value.includes(SECRET))
      assert.ok(pttl > 0, 'every key has a TTL')
    }
  } finally {
    await p.close()
  }
})

test('Upstash store: replay rejected and termination seen by the other instance', { timeout: 30000 }, async () => {
  const p = await pair(() => UpstashSessionStore({ url: upstash.url, token: TOKEN, wrappingKey, keyPrefix: 'up2:' }))
  try {
    const sent = []
    const client = new NenClient('http://balanced', {
      fetch: (url, init) => {
        sent.push({ url, init })
        return p.balance(url, init)
      },
    })
    p.state.pick = () => p.a
    await client.handshake()
    assert.deepEqual((await (await client.nenFetch('/api/echo', { method: 'POST', body: { on: 'a' } })).json()).body, { on: 'a' })
    const onA = sent.at(-1)

    // One store round trip per request once an instance has the session: the atomic EVAL.
    p.state.pick = () => p.b
    await client.nenFetch('/api/echo')
    upstash.commands.length = 0
    await client.nenFetch('/api/echo?again=1')
    assert.deepEqual(upstash.commands, ['EVAL'])

    // The request A accepted, replayed to B: the nonce is in the shared store.
    const replay = await fetch(`${p.b.url}/api/echo`, onA.init)
    assert.equal(replay.status, 401)
    assert.equal((await replay.json()).error.code, 'ISO-5001')

    // Terminated through A; B, which holds the session in its cache, refuses it at once.
    const lastOnB = sent.at(-1)
    p.state.pick = () => p.a
    const sid = client.sessionId
    await client.terminate()
    const gone = await fetch(`${p.b.url}/api/echo?again=1`, lastOnB.init)
    assert.equal(gone.status, 401)
    assert.equal((await gone.json()).error.code, 'ISO-2002')
    // Terminate removed the session and its replay records in one step.
    assert.deepEqual(keys(`up2:{${sid}}`), [])
  } finally {
    await p.close()
  }
})

test('Upstash store fails closed: wrong token, unreachable endpoint', { timeout: 20000 }, async () => {
  for (const store of [UpstashSessionStore({ url: upstash.url, token: 'wrong', wrappingKey }), UpstashSessionStore({ url: 'http://127.0.0.1:9', token: TOKEN, wrappingKey, timeoutMs: 500 })]) {
    const nen = createNen({ store, ...quiet })
    const route = createNenRoute({ nen })
    const client = new NenClient('http://x.test', { fetch: (url, init) => route.POST(new Request(url, init)) })
    await rejectsWith(client.handshake(), 'ISO-8001', 503)
  }
  // Without a wrapping key the store is refused at configuration.
  const saved = process.env.NEN_WRAPPING_KEY
  delete process.env.NEN_WRAPPING_KEY
  try {
    const nen = createNen({ store: UpstashSessionStore({ url: upstash.url, token: TOKEN }), ...quiet })
    await assert.rejects(nen.engine(), (e) => e.code === 'ISO-9001')
  } finally {
    if (saved !== undefined) process.env.NEN_WRAPPING_KEY = saved
  }
})

test('Redis store (native): handshake, requests, replay and termination across instances', { timeout: 20000 }, async () => {
  const store = () => RedisSessionStore({ url: redis.url, keyPrefix: 'rs:', wrappingKey })
  const one = createNen({ store: store(), ...quiet })
  const two = createNen({ store: store(), ...quiet })
  const serve = (nen) => {
    const route = createNenRoute({ nen })
    const handler = withNen((req, body) => ({ body }), { nen })
    return (req) => (new URL(req.url).pathname.startsWith('/api/nen/') ? route[req.method](req) : handler(req))
  }
  const servers = [serve(one), serve(two)]
  let n = 0
  const sent = []
  const client = new NenClient('http://x.test', {
    fetch: (url, init) => {
      sent.push({ url, init })
      return servers[n++ % 2](new Request(url, init))
    },
  })
  for (let i = 0; i < 4; i++) assert.deepEqual(await (await client.nenFetch('/api/r', { method: 'POST', body: { i } })).json(), { body: { i } })
  const last = sent.at(-1)
  const replay = await servers[0](new Request(last.url, last.init))
  assert.equal((await replay.json()).error.code, 'ISO-5001')
  assert.ok(keys('rs:').length > 0)
  await client.terminate()
  const gone = await servers[1](new Request(last.url, last.init))
  assert.equal(gone.status, 401)
  assert.equal((await gone.json()).error.code, 'ISO-2002')
})
