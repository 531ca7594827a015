// @withnen/client in Node against the native server over real HTTP: every method and mode,
// streams, rotation, termination, status and every client-side error path.

import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { NenClient, NenError, createNenFetch, createNenStream, describeNenCode } from '../dist/index.mjs'
import { startServer } from './support/server.mjs'

const require = createRequire(import.meta.url)
const native = require('../../../nen.js')

const SECRET = 'plaintext-marker-4111-1111'

async function rejectsWith(promise, code) {
  const err = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e) => e,
  )
  assert.ok(err instanceof NenError, `expected NenError ${code}, got ${err?.stack ?? err}`)
  assert.equal(err.code, code, err.message)
  return err
}

/** A fetch that counts calls per path. */
function countingFetch() {
  const calls = []
  const f = (url, init) => {
    calls.push(`${init?.method ?? 'GET'} ${new URL(url).pathname}`)
    return fetch(url, init)
  }
  return { fetch: f, calls }
}

async function drain(iter) {
  const out = []
  for await (const c of iter) out.push(c)
  return out
}

test('CRUD over every method, in every key-exchange and identity mode', async () => {
  const identity = native.generateIdentity()
  const srv = await startServer({ identitySecretKey: identity.secretKey })
  try {
    for (const keyExchange of ['hybrid', 'mlkem768']) {
      for (const identityMode of ['tls', 'pqc']) {
        const client = new NenClient(srv.url, identityMode === 'pqc' ? { keyExchange, identityMode, serverIdentityKey: identity.publicKey } : { keyExchange, identityMode })
        const created = await client.nenFetch('/api/items', { method: 'POST', body: { name: SECRET } })
        assert.equal(created.status, 201)
        const item = await created.json()
        assert.equal(item.name, SECRET)
        const got = await client.nenFetch(`/api/items/${item.id}`)
        assert.deepEqual(await got.json(), item)
        const list = await client.nenFetch('/api/items?b=2&a=%7e1')
        assert.deepEqual((await list.json()).query, { a: '~1', b: '2' })
        const head = await client.nenFetch(`/api/items/${item.id}`, { method: 'HEAD' })
        assert.equal(head.status, 200)
        assert.equal(await head.text(), '')
        assert.equal((await client.nenFetch('/api/items/nope', { method: 'HEAD' })).status, 404)
        const put = await client.nenFetch(`/api/items/${item.id}`, { method: 'PUT', body: { name: 'b' } })
        assert.equal((await put.json()).name, 'b')
        const patch = await client.nenFetch(`/api/items/${item.id}`, { method: 'PATCH', body: { qty: 2 } })
        assert.deepEqual(await patch.json(), { id: item.id, name: 'b', qty: 2 })
        const del = await client.nenFetch(`/api/items/${item.id}`, { method: 'DELETE', body: { reason: 'test' } })
        assert.deepEqual(await del.json(), { deleted: true, reason: 'test' })
        const missing = await client.nenFetch(`/api/items/${item.id}`)
        assert.equal(missing.status, 404, 'a sealed handler status is returned, not thrown')
        assert.deepEqual(await missing.json(), { error: 'not found' })
        const status = await client.status()
        assert.equal(status.sid, client.sessionId)
        assert.equal(status.mode, keyExchange)
      }
    }
    for (const body of srv.wire) assert.ok(!body.includes(SECRET), 'no plaintext on the wire')
  } finally {
    await srv.close()
  }
})

test('streams: chunks in order, truncation, tampering, authenticated errors', async () => {
  const srv = await startServer()
  try {
    const nenStream = createNenStream(srv.url)
    assert.deepEqual(await drain(nenStream('/api/stream', { body: { prompt: SECRET } })), ['The ', 'quick ', 'brown ', 'fox'])
    await rejectsWith(drain(nenStream('/api/stream/truncated', { body: {} })), 'ISO-7003')
    await rejectsWith(drain(nenStream('/api/stream/cut', { body: {} })), 'ISO-7003')
    await rejectsWith(drain(nenStream('/api/stream/tampered', { body: {} })), 'ISO-7004')
    const failed = await rejectsWith(drain(nenStream('/api/stream/fail', { body: {} })), 'ISO-8001')
    assert.equal(failed.status, 503)
    // Aborting stops the stream.
    const ac = new AbortController()
    const it = nenStream('/api/stream', { body: {}, signal: ac.signal })
    await it.next()
    ac.abort()
    await assert.rejects(drain(it))
    for (const body of srv.wire) assert.ok(!body.includes(SECRET) && !body.includes('quick'))
  } finally {
    await srv.close()
  }
})

test('rotate and terminate', async () => {
  const srv = await startServer()
  try {
    const client = new NenClient(srv.url)
    await client.handshake()
    const first = client.sessionId
    await client.rotate()
    assert.notEqual(client.sessionId, first)
    assert.equal((await client.status()).sid, client.sessionId)
    const before = client.sessionId
    await client.terminate()
    assert.equal(client.sessionId, null)
    // The next call handshakes again.
    assert.equal((await client.nenFetch('/api/echo')).status, 200)
    assert.notEqual(client.sessionId, before)
  } finally {
    await srv.close()
  }
})

test('concurrent first calls share one handshake', async () => {
  const srv = await startServer()
  try {
    const counting = countingFetch()
    const nenFetch = createNenFetch(srv.url, { fetch: counting.fetch })
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => nenFetch('/api/echo', { method: 'POST', body: { i } })))
    for (const [i, r] of results.entries()) assert.equal((await r.json()).body.i, i)
    assert.equal(counting.calls.filter((c) => c.endsWith('/handshake')).length, 1)
  } finally {
    await srv.close()
  }
})

test('session recovery retries only what is safe to retry', async () => {
  const srv = await startServer()
  try {
    const counting = countingFetch()
    const client = new NenClient(srv.url, { fetch: counting.fetch })
    await client.handshake()
    await terminateOnServer(srv, client)

    // GET: re-handshake and retry, transparently.
    const sid = client.sessionId
    counting.calls.length = 0
    assert.equal((await client.nenFetch('/api/echo')).status, 200)
    assert.deepEqual(counting.calls, ['GET /api/echo', 'POST /api/nen/handshake', 'GET /api/echo'])
    assert.notEqual(client.sessionId, sid)

    // POST: never re-executed on an (unauthenticated) expired-session answer.
    await terminateOnServer(srv, client)
    counting.calls.length = 0
    await rejectsWith(client.nenFetch('/api/echo', { method: 'POST', body: { pay: 1 } }), 'ISO-2002')
    assert.deepEqual(counting.calls, ['POST /api/echo'])
    // …but with an idempotency key it is retried once.
    await terminateOnServer(srv, client)
    counting.calls.length = 0
    const r = await client.nenFetch('/api/echo', { method: 'POST', body: { pay: 1 }, idempotencyKey: 'k-1' })
    assert.equal(r.status, 200)
    assert.deepEqual(counting.calls, ['POST /api/echo', 'POST /api/nen/handshake', 'POST /api/echo'])

    // A forged "expired" error on a POST is not retried either.
    counting.calls.length = 0
    await rejectsWith(client.nenFetch('/api/fake-expired', { method: 'POST', body: {} }), 'ISO-2002')
    assert.deepEqual(counting.calls, ['POST /api/fake-expired'])
  } finally {
    await srv.close()
  }
})

/** Makes the server forget every session (a restart), without telling the client. */
async function terminateOnServer(srv, client) {
  await client.nenFetch('/api/echo') // the client holds a live session…
  srv.reset() // …that the server no longer knows
}

test('client-side error paths carry their codes', async () => {
  const id = native.generateIdentity()
  const other = native.generateIdentity()
  const srv = await startServer({ identitySecretKey: id.secretKey })
  try {
    // Network failure during the handshake.
    await rejectsWith(new NenClient('http://127.0.0.1:9').handshake(), 'ISO-1003')
    // A handshake answer that is not one.
    const junk = new NenClient(srv.url, { fetch: async () => new Response('{"v":1}', { status: 200 }) })
    await rejectsWith(junk.handshake(), 'ISO-1004')
    const html = new NenClient(srv.url, { fetch: async () => new Response('<html>', { status: 502 }) })
    await rejectsWith(html.handshake(), 'ISO-1004')
    // Identity: another pinned key; pqc without a key.
    await rejectsWith(new NenClient(srv.url, { identityMode: 'pqc', serverIdentityKey: other.publicKey }).handshake(), 'ISO-3006')
    assert.throws(
      () => new NenClient(srv.url, { identityMode: 'pqc' }),
      (e) => e instanceof NenError && e.code === 'ISO-9001',
    )
    // A pinned key implies 'pqc': it is checked, never silently ignored.
    await rejectsWith(new NenClient(srv.url, { serverIdentityKey: other.publicKey }).handshake(), 'ISO-3006')
    assert.throws(
      () => new NenClient(srv.url, { identityMode: 'tls', serverIdentityKey: other.publicKey }),
      (e) => e instanceof NenError && e.code === 'ISO-9001' && /identityMode is 'tls'/.test(e.message),
    )
    // A tampered handshake answer fails key confirmation.
    const tamper = new NenClient(srv.url, {
      fetch: async (url, init) => {
        const res = await fetch(url, init)
        const body = await res.json()
        if (body.sid) body.exp += 1
        return new Response(JSON.stringify(body), { status: res.status })
      },
    })
    await rejectsWith(tamper.handshake(), 'ISO-1006')
    // Unencrypted 2xx, and a response sealed for another request.
    const client = new NenClient(srv.url)
    await rejectsWith(client.nenFetch('/api/plain'), 'ISO-4004')
    await client.nenFetch('/api/swap')
    await rejectsWith(client.nenFetch('/api/swap'), 'ISO-4004')
    // A server-side error travels as its code, marked unauthenticated.
    // User headers cannot override the signed ones; a hop that rewrites one gets a coded error.
    const rewriting = new NenClient(srv.url, {
      fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, 'x-nen-version': init.headers?.['x-nen-version'] ? '9' : undefined } }),
    })
    const err = await rejectsWith(rewriting.nenFetch('/api/echo?x=1', { headers: { 'x-nen-version': '7' } }), 'ISO-1005')
    assert.equal(err.authenticated, false)
    assert.equal(err.status, 400)
    // describeNenCode covers the catalogue.
    assert.equal(describeNenCode('ISO-7003').name, 'STREAM_TRUNCATED')
    assert.equal(describeNenCode('3002').status, 401)
    assert.equal(describeNenCode('ISO-0000'), null)
  } finally {
    await srv.close()
  }
})

test('the CommonJS build works too', async () => {
  const cjs = require('../dist/index.cjs')
  const srv = await startServer()
  try {
    const res = await cjs.createNenFetch(srv.url)('/api/echo', { method: 'PUT', body: { cjs: true } })
    assert.deepEqual((await res.json()).body, { cjs: true })
  } finally {
    await srv.close()
  }
})

test('the base URL is checked when the client is made: ISO-9001, not a network failure later', () => {
  for (const [base, shown] of [
    ['', '""'],
    ['/api', '"/api"'],
    ['api.example.com', '"api.example.com"'],
    ['ftp://example.com', '"ftp://example.com"'],
    [undefined, 'undefined'],
  ]) {
    for (const make of [() => new NenClient(base), () => createNenFetch(base), () => createNenStream(base)]) {
      assert.throws(make, (e) => {
        assert.ok(e instanceof NenError)
        assert.equal(e.code, 'ISO-9001')
        assert.equal(e.status, 500)
        assert.equal(e.message, `the base URL must be an absolute http(s) URL, such as https://api.example.com or location.origin in a browser; got ${shown}`)
        return true
      })
    }
  }
  assert.equal(new NenClient('http://127.0.0.1:1').baseUrl, 'http://127.0.0.1:1')
})

test('the catalogue answers before the WebAssembly core has loaded', async () => {
  // A fresh copy of the module, in a process that has loaded no core yet.
  const { execFileSync } = await import('node:child_process')
  const dist = new URL('../dist/index.mjs', import.meta.url).href
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(dist)}); const e = new m.NenError('ISO-3002'); console.log(JSON.stringify([m.describeNenCode('3002')?.name, e.code, e.status, e.message]))`,
    ],
    { encoding: 'utf8' },
  )
  assert.deepEqual(JSON.parse(out), ['SIGNATURE_INVALID', 'ISO-3002', 401, 'Request signature is invalid'])
})

test("the client's catalogue is nen-core's, entry for entry", async () => {
  const { createRequire } = await import('node:module')
  const native = createRequire(import.meta.url)('../../../nen.js')
  for (const info of native.nenCatalogue()) assert.deepEqual(describeNenCode(info.code), { ...info })
})

test('createNenStream and createNenFetch share the session of a NenFetch or NenStream passed to them', () => {
  const f = createNenFetch('http://127.0.0.1:1')
  assert.equal(createNenStream(f).client, f.client)
  assert.equal(createNenFetch(createNenStream(f)).client, f.client)
  assert.equal(createNenFetch(f.client).client, f.client)
})
