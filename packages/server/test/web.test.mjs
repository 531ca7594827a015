// The Web Request/Response API as a Fetch-API runtime uses it: the real client's fetch hands
// each request to the route handlers in process (`fetch: (url, init) => router(new Request(url, init))`).

import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { configureNen, createNen, createNenRoute, handleHandshake, handleStatus, nenResponse, nenRoute, withNen, withNenStream, RedisSessionStore, NenError } from '../dist/index.mjs'
import { NenClient, createApp, fullRoundTrip, recordingFetch, rejectsWith, SECRET } from './support/app.mjs'

const require = createRequire(import.meta.url)
const native = require('../../../nen.js')

const reported = []
configureNen({ onError: (error, info) => reported.push({ error, info }) })

/** An in-process Fetch-API app: the Nen routes plus the test application. */
function webRouter(app, options = {}) {
  const routes = options.nen ? createNenRoute(options) : nenRoute
  const query = (url) => Object.fromEntries(url.searchParams)
  const json = withNen((req, body) => {
    const url = new URL(req.url)
    return app.route(url.pathname).run(req.method, body, query(url))
  }, options)
  const stream = withNenStream((req, body) => app.route(new URL(req.url).pathname).run(req.method, body), options)
  return (req) => {
    const path = new URL(req.url).pathname
    if (path.startsWith('/api/nen/')) return req.method === 'GET' ? routes.GET(req) : routes.POST(req)
    const r = app.route(path)
    if (!r) return Promise.resolve(new Response(null, { status: 404 }))
    return (r.kind === 'stream' ? stream : json)(req, { params: Promise.resolve({}) })
  }
}

const inProcess = (router) => (url, init) => router(new Request(url, init))
const BASE = 'http://app.test'

test('full round trip through the Web handlers', { timeout: 30000 }, async () => {
  const app = createApp()
  const wire = []
  reported.length = 0
  await fullRoundTrip(BASE, recordingFetch(wire, inProcess(webRouter(app))), { wire, app })
  // onError saw the uncoded failures with their detail; coded ones thrown on purpose too.
  const phases = reported.map((r) => `${r.info.phase} ${r.info.method} ${r.info.path} ${r.error.code ?? r.error.message}`)
  assert.ok(phases.includes('handler GET /api/fail/boom handler-detail-must-not-leak plaintext-marker-4111-1111'), phases.join('\n'))
  assert.ok(phases.includes('handler POST /api/fail/coded ISO-6005'))
  assert.ok(phases.includes('stream POST /api/stream/boom handler-detail-must-not-leak'))
  assert.ok(phases.includes('stream POST /api/stream/fail ISO-8001'))
})

test('the route context reaches the handler', { timeout: 10000 }, async () => {
  const handler = withNen(async (req, body, { params }) => ({ params: await params, body, method: req.method }))
  const router = (req) => (new URL(req.url).pathname.startsWith('/api/nen/') ? nenRoute.POST(req) : handler(req, { params: Promise.resolve({ id: '42' }) }))
  const client = new NenClient(BASE, { fetch: inProcess(router) })
  const res = await client.nenFetch('/api/things/42', { method: 'PATCH', body: { n: 1 } })
  assert.deepEqual(await res.json(), { params: { id: '42' }, body: { n: 1 }, method: 'PATCH' })
})

test('route dispatch: unknown action, wrong method, single-route exports', { timeout: 10000 }, async () => {
  const unknown = await nenRoute.POST(new Request(`${BASE}/api/nen/nope`, { method: 'POST' }))
  assert.equal(unknown.status, 404)
  assert.equal(await unknown.text(), '')
  const wrong = await nenRoute.GET(new Request(`${BASE}/api/nen/handshake`))
  assert.equal(wrong.status, 405)
  assert.equal(wrong.headers.get('allow'), 'POST')
  assert.deepEqual(await wrong.json(), { error: { code: 'ISO-6007', message: 'This Nen endpoint does not accept this method' } })
  assert.equal(wrong.headers.get('x-nen-error'), 'ISO-6007')
  // A garbage handshake is the native core's coded refusal.
  const bad = await handleHandshake(new Request(`${BASE}/api/nen/handshake`, { method: 'POST', body: '{"v":1,"mode":"hybrid"}' }))
  assert.equal(bad.status, 400)
  assert.equal((await bad.json()).error.code, 'ISO-1001')
  // Separate route files work as well as the dispatcher.
  const router = (req) => {
    const path = new URL(req.url).pathname
    if (path === '/api/nen/handshake') return handleHandshake(req)
    if (path === '/api/nen/status') return handleStatus(req)
    return Promise.resolve(new Response(null, { status: 404 }))
  }
  const client = new NenClient(BASE, { fetch: inProcess(router) })
  assert.equal((await client.status()).sid, client.sessionId)
})

test('requests failing verification get plain coded errors; the handler never runs', { timeout: 10000 }, async () => {
  let ran = 0
  const handler = withNen(() => ++ran)
  const router = (req) => (new URL(req.url).pathname.startsWith('/api/nen/') ? nenRoute.POST(req) : handler(req))
  const captured = []
  let tamper = false
  const client = new NenClient(BASE, {
    fetch: (url, init) => {
      captured.push({ url: String(url), init })
      if (tamper && init.body) {
        // One ciphertext character changed: length and tag intact, so the MAC still verifies
        // and decryption is what fails.
        const { ct } = JSON.parse(init.body)
        init = { ...init, body: JSON.stringify({ ct: ct.slice(0, 4) + (ct[4] === 'A' ? 'B' : 'A') + ct.slice(5) }) }
      }
      return router(new Request(url, init))
    },
  })
  assert.equal(await (await client.nenFetch('/api/x', { method: 'POST', body: { card: SECRET } })).json(), 1)
  const sent = captured.at(-1)

  const expectCode = async (res, code, status) => {
    assert.equal(res.status, status)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.equal((await res.json()).error.code, code)
  }
  // No Nen headers at all.
  await expectCode(await handler(new Request(`${BASE}/api/x`, { method: 'POST', body: '{}' })), 'ISO-1005', 400)
  // The same signed request again: a replay.
  await expectCode(await router(new Request(sent.url, sent.init)), 'ISO-5001', 401)
  tamper = true
  await rejectsWith(client.nenFetch('/api/x', { method: 'POST', body: { a: 1 } }), 'ISO-4001', 400)
  assert.equal(ran, 1)
})

test('bodies over maxBodyBytes are refused while reading, declared or streamed', { timeout: 10000 }, async () => {
  const small = createNen({ maxBodyBytes: 4096 })
  const router = webRouter(createApp(), { nen: small })
  const client = new NenClient(BASE, { fetch: inProcess(router) })
  await rejectsWith(client.nenFetch('/api/echo', { method: 'POST', body: { pad: 'x'.repeat(5000) } }), 'ISO-4005', 413)
  assert.equal((await (await client.nenFetch('/api/echo', { method: 'POST', body: { pad: 'x'.repeat(100) } })).json()).body.pad.length, 100)
  // No content-length: a stream of 8 KiB, cut off past the limit.
  let pulled = 0
  const body = new ReadableStream({
    pull(c) {
      if (pulled++ === 64) return c.close()
      c.enqueue(new Uint8Array(128).fill(0x61))
    },
  })
  const res = await router(new Request(`${BASE}/api/echo`, { method: 'POST', body, duplex: 'half' }))
  assert.equal(res.status, 413)
  assert.equal((await res.json()).error.code, 'ISO-4005')
  assert.ok(pulled < 64, `stopped reading early (read ${pulled} chunks)`)
})

test('nenResponse refuses statuses that cannot carry a sealed body', { timeout: 10000 }, async () => {
  for (const status of [100, 199, 204, 205, 304, 600, 200.5]) assert.throws(() => nenResponse(null, { status }), RangeError)
  assert.equal(nenResponse(1, { status: 418 }).status, 418)
  // Returned from a handler anyway (the throw happens inside it), it is an uncoded failure.
  const handler = withNen(() => nenResponse(null, { status: 204 }))
  const client = new NenClient(BASE, { fetch: inProcess((req) => (new URL(req.url).pathname.startsWith('/api/nen/') ? nenRoute.POST(req) : handler(req))) })
  const err = await rejectsWith(client.nenFetch('/api/empty', { method: 'DELETE' }), 'ISO-9000', 500)
  assert.equal(err.authenticated, true)
})

test('engine failures: a configuration error answers ISO-9001 and is reported once', { timeout: 10000 }, async () => {
  const seen = []
  // Invalid options are refused by the native engine (not retried on WASM).
  const bad = createNen({ modes: ['nope'], onError: (e, info) => seen.push([e.code, info.phase, info.method, info.path]) })
  const route = createNenRoute({ nen: bad })
  for (let i = 0; i < 2; i++) {
    const res = await route.POST(new Request(`${BASE}/api/nen/handshake`, { method: 'POST', body: '{}' }))
    assert.equal(res.status, 500)
    assert.deepEqual(await res.json(), { error: { code: 'ISO-9001', message: 'Invalid Nen configuration' } })
  }
  assert.deepEqual(seen, [['ISO-9001', 'engine', 'POST', '/api/nen/handshake']])
  await assert.rejects(bad.engine(), (e) => e instanceof NenError && e.code === 'ISO-9001')
  assert.throws(
    () => RedisSessionStore({}),
    (e) => e instanceof NenError && e.code === 'ISO-9001',
  )
  // Forcing the native engine works where it loads.
  const client = new NenClient(BASE, { fetch: inProcess(webRouter(createApp(), { nen: createNen({ engine: 'native' }) })) })
  assert.equal((await (await client.nenFetch('/api/echo', { method: 'POST', body: 1 })).json()).body, 1)
})

test('server identity from NEN_IDENTITY_SECRET_KEY: pinned clients verify it', { timeout: 10000 }, async () => {
  const id = native.generateIdentity()
  const other = native.generateIdentity()
  process.env.NEN_IDENTITY_SECRET_KEY = id.secretKey
  try {
    const router = webRouter(createApp(), { nen: createNen() })
    const pinned = new NenClient(BASE, { fetch: inProcess(router), identityMode: 'pqc', serverIdentityKey: id.publicKey })
    assert.equal((await (await pinned.nenFetch('/api/echo', { method: 'PUT', body: { ok: 1 } })).json()).body.ok, 1)
    const wrong = new NenClient(BASE, { fetch: inProcess(router), identityMode: 'pqc', serverIdentityKey: other.publicKey })
    await rejectsWith(wrong.handshake(), 'ISO-3006')
  } finally {
    delete process.env.NEN_IDENTITY_SECRET_KEY
  }
})

test('the CommonJS build serves the same requests', { timeout: 10000 }, async () => {
  const cjs = require('../dist/index.cjs')
  const nen = cjs.createNen()
  const route = cjs.createNenRoute({ nen })
  const handler = cjs.withNen((req, body) => cjs.nenResponse({ cjs: body }, { status: 202 }), { nen })
  const client = new NenClient(BASE, { fetch: inProcess((req) => (new URL(req.url).pathname.startsWith('/api/nen/') ? route.POST(req) : handler(req))) })
  const res = await client.nenFetch('/api/c', { method: 'POST', body: [1, 2] })
  assert.equal(res.status, 202)
  assert.deepEqual(await res.json(), { cjs: [1, 2] })
})

test('allowHandshake: the Web routes ask it with the Request before each handshake (ISO-1009)', { timeout: 10000 }, async () => {
  const asked = []
  const route = createNenRoute({ nen: createNen({ allowHandshake: (req) => (asked.push(req.headers.get('x-client')), req.headers.get('x-client') !== 'flooder') }) })
  const hs = (who) => route.POST(new Request(`${BASE}/api/nen/handshake`, { method: 'POST', headers: { 'x-client': who }, body: '{"v":1,"mode":"hybrid"}' }))
  const refused = await hs('flooder')
  assert.equal(refused.status, 429)
  assert.equal((await refused.json()).error.code, 'ISO-1009')
  // An honest client's (malformed) handshake reaches the engine: its own code, not 1009.
  assert.equal((await (await hs('alice')).json()).error.code, 'ISO-1001')
  assert.deepEqual(asked, ['flooder', 'alice'])
})

test('trailingSlash: the client calls the Nen routes as …/handshake/ and the route answers', { timeout: 10000 }, async () => {
  const seen = []
  const route = createNenRoute()
  const handler = withNen((req, body) => ({ got: body }))
  const fetchImpl = (url, init) => {
    const req = new Request(url, init)
    seen.push(new URL(req.url).pathname)
    return new URL(req.url).pathname.startsWith('/api/nen/') ? route[req.method](req) : handler(req)
  }
  const client = new NenClient(BASE, { fetch: fetchImpl, trailingSlash: true })
  assert.deepEqual(await (await client.nenFetch('/api/x/', { method: 'POST', body: 1 })).json(), { got: 1 })
  assert.equal((await client.status()).sid, client.sessionId)
  await client.rotate()
  await client.terminate()
  assert.deepEqual(
    seen.filter((p) => p.startsWith('/api/nen/')),
    ['/api/nen/handshake/', '/api/nen/status/', '/api/nen/rotate/', '/api/nen/terminate/'],
  )
})
