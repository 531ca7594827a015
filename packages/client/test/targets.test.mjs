// Request targets and redirects, in Node (undici's fetch) against the native server over real
// HTTP. The client signs `pathname + search` of the WHATWG URL and the server verifies the raw
// `req.url`: every honest spelling must pass end to end, a re-spelt one must not, and a redirect
// must never carry the signed request anywhere.

import test from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { NenClient, NenError } from '../dist/index.mjs'
import { startServer } from './support/server.mjs'
import { ITEM_STEPS, pick, targetsFor } from './support/targets.mjs'

const HONEST_TARGETS = targetsFor('node')

/** A second origin (another port) that records every request it receives. */
async function startOther() {
  const hits = []
  const server = http.createServer((req, res) => {
    hits.push({ method: req.method, url: req.url, signed: 'x-nen-signature' in req.headers })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"stolen":true}')
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${server.address().port}`, hits, close: () => new Promise((r) => server.close(r)) }
}

async function rejection(promise) {
  return promise.then(
    (r) => assert.fail(`expected a rejection, got status ${r?.status}`),
    (e) => e,
  )
}

/** nenFetch, with what was signed and what arrived in the failure message. */
async function honestFetch(client, srv, t) {
  try {
    return await client.nenFetch(t.path, t.init)
  } catch (e) {
    const u = new URL(t.path, srv.url)
    assert.fail(`${t.name ?? t.path}: ${e?.code ?? ''} ${e?.message ?? e}; signed ${JSON.stringify(u.pathname + u.search)}, the server's req.url ${JSON.stringify(srv.hits.map((h) => h.url))}`)
  }
}

test('honest targets: signed, sent and verified byte for byte; the handler reads them; the answer decrypts', async () => {
  const srv = await startServer()
  try {
    const client = new NenClient(srv.url)
    await client.handshake()
    for (const t of HONEST_TARGETS) {
      const u = new URL(t.path, srv.url)
      assert.equal(u.pathname + u.search, t.wire, `${t.name}: the WHATWG serialisation`)
      srv.hits.length = 0
      const res = await honestFetch(client, srv, t)
      assert.equal(res.status, 200, t.name)
      const body = await res.json()
      assert.deepEqual(srv.hits, [{ method: t.init?.method ?? 'GET', url: t.wire, signed: true }], `${t.name}: what crossed the wire`)
      assert.equal(body.url, t.wire, `${t.name}: the handler's req.url`)
      assert.deepEqual(pick(body, t.saw), t.saw, `${t.name}: what the handler read`)
    }
    for (const s of ITEM_STEPS) {
      srv.hits.length = 0
      const res = await honestFetch(client, srv, s)
      assert.equal(res.status, s.status, s.path)
      assert.deepEqual(srv.hits, [{ method: s.init?.method ?? 'GET', url: s.wire, signed: true }], s.path)
      if (s.body === null) assert.equal(await res.text(), '')
      else assert.deepEqual(await res.json(), s.body, s.path)
    }
    for (const b of srv.wire) assert.ok(!b.includes('x://y') && !b.includes('slash'), 'plaintext on the wire')
  } finally {
    await srv.close()
  }
})

test('a hop that re-spells the target breaks the signature (ISO-3002)', async () => {
  const srv = await startServer()
  try {
    // Each rewrite keeps the meaning for most parsers and changes the bytes.
    const rewrites = [
      ['/api/echo?q=a+b', (u) => u.replace('a+b', 'a%20b')],
      ['/api/target/%7euser', (u) => u.replace('%7e', '~')],
      ['/api/target/a%2Fb', (u) => u.replace('%2F', '%2f')],
      ['/api/echo?b=2&a=1', (u) => u.replace('b=2&a=1', 'a=1&b=2')],
      ['/api/echo?a=&b', (u) => u.replace('?a=&b', '?a=&b=')],
      ['/api/target/caf%C3%A9', (u) => u.replace('%C3%A9', 'e%CC%81')],
    ]
    for (const [path, rewrite] of rewrites) {
      const client = new NenClient(srv.url, { fetch: (url, init) => fetch(rewrite(String(url)), init) })
      await client.handshake()
      srv.hits.length = 0
      const err = await rejection(client.nenFetch(path))
      assert.ok(err instanceof NenError, `${path}: ${err?.stack ?? err}`)
      assert.equal(err.code, 'ISO-3002', path)
      assert.equal(err.authenticated, false)
      const sent = rewrite(srv.url + path).slice(srv.url.length)
      assert.notEqual(sent, path)
      assert.deepEqual(srv.hits, [{ method: 'GET', url: sent, signed: true }], path)
    }
  } finally {
    await srv.close()
  }
})

test('redirects are not followed: the signed request reaches only the hop that redirected', async () => {
  const srv = await startServer()
  const other = await startOther()
  try {
    const away = '/api/redirect/302?to=' + encodeURIComponent(`${other.url}/steal`)
    const cases = [
      ['/api/redirect/307', { method: 'POST', body: { pay: 1 } }],
      ['/api/redirect/307', {}],
      [away, {}],
      [away, { method: 'POST', body: { pay: 1 } }],
    ]
    const client = new NenClient(srv.url)
    await client.handshake()
    for (const [path, init] of cases) {
      srv.hits.length = 0
      other.hits.length = 0
      const err = await rejection(client.nenFetch(path, init))
      assert.ok(err instanceof NenError, `${path}: ${err?.stack ?? err}`)
      assert.equal(err.code, 'ISO-1003', path)
      assert.equal(err.authenticated, false)
      assert.ok(err.cause instanceof TypeError, 'fetch itself refused the redirect')
      assert.deepEqual(srv.hits, [{ method: init.method ?? 'GET', url: path, signed: true }], `${path}: only the redirecting route was reached`)
      assert.deepEqual(other.hits, [], `${path}: the other origin was never contacted`)
    }
    // A stream request fails the same way (as a stream request).
    srv.hits.length = 0
    const streamErr = await rejection(
      (async () => {
        for await (const _ of client.nenStream('/api/redirect/307', { body: {} }));
      })(),
    )
    assert.ok(streamErr instanceof NenError)
    assert.equal(streamErr.code, 'ISO-7002')
    assert.deepEqual(srv.hits, [{ method: 'POST', url: '/api/redirect/307', signed: true }])
    // The session is untouched.
    assert.equal((await client.nenFetch('/api/echo')).status, 200)

    // redirect: 'manual' hands the 3xx back, which is never opened, and follows nothing.
    const manual = new NenClient(srv.url, { redirect: 'manual' })
    for (const [path, init] of cases) {
      srv.hits.length = 0
      other.hits.length = 0
      const err = await rejection(manual.nenFetch(path, init))
      assert.ok(err instanceof NenError, `${path}: ${err?.stack ?? err}`)
      assert.equal(err.code, 'ISO-4004', path)
      assert.equal(err.authenticated, false)
      assert.equal(srv.hits.filter((h) => h.url === '/api/echo').length, 0, path)
      assert.deepEqual(other.hits, [], path)
    }

    // The control: a fetch that follows redirects carries the signed request (method, body,
    // x-nen-* headers) to the Location, so the counts above would have seen it.
    const following = new NenClient(srv.url, { fetch: (url, init) => fetch(url, { ...init, redirect: 'follow' }) })
    srv.hits.length = 0
    const replayed = await rejection(following.nenFetch('/api/redirect/307', { method: 'POST', body: { pay: 1 } }))
    assert.deepEqual(srv.hits.slice(-2), [
      { method: 'POST', url: '/api/redirect/307', signed: true },
      { method: 'POST', url: '/api/echo', signed: true },
    ])
    assert.equal(replayed.code, 'ISO-3002', 'the target is signed, so the replay at the Location is refused')
    other.hits.length = 0
    await rejection(following.nenFetch(away))
    assert.deepEqual(other.hits, [{ method: 'GET', url: '/steal', signed: true }])
  } finally {
    await srv.close()
    await other.close()
  }
})

test('failures after authentication are sealed (authenticated); a plain error body is not', async () => {
  const srv = await startServer()
  try {
    const client = new NenClient(srv.url)
    for (const init of [{}, { method: 'POST', body: { a: 1 } }, { method: 'HEAD' }]) {
      const err = await rejection(client.nenFetch('/api/throws', init))
      assert.ok(err instanceof NenError, String(err))
      assert.equal(err.code, 'ISO-9000', init.method)
      assert.equal(err.authenticated, true, init.method)
      assert.ok(!err.message.includes('secret detail'), 'the handler error does not leak')
    }
    const coded = await rejection(client.nenFetch('/api/echo', { headers: { 'x-test-error': 'ISO-8001' } }))
    assert.equal(coded.code, 'ISO-8001')
    assert.equal(coded.authenticated, true)
    const forged = await rejection(client.nenFetch('/api/fake-expired', { method: 'POST', body: {} }))
    assert.ok(forged instanceof NenError)
    assert.equal(forged.code, 'ISO-2002')
    assert.equal(forged.authenticated, false)
  } finally {
    await srv.close()
  }
})
