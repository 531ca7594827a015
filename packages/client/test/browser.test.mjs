// A real browser: headless Chromium (Debian's, driven by playwright-core) loads a page served by
// a Node server that uses the native Nen server. The page runs the whole client API; the test
// asserts what the page reports and that no body captured on the network carries plaintext.
// Then, on a second page driven request by request: honest targets (encoded, non-ASCII, odd
// query spellings) verify byte for byte, redirects are never followed, and failures after
// authentication arrive sealed while a forged error body does not.

import test, { describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { startServer } from './support/server.mjs'
import { ITEM_STEPS, pick, targetsFor } from './support/targets.mjs'

const HONEST_TARGETS = targetsFor('chromium')

const CHROMIUM = process.env.NEN_CHROMIUM ?? '/usr/bin/chromium'
const SECRET = 'browser-secret-4242'

const page = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>nen</title></head>
<body><pre id="out">running</pre>
<script type="module">
import { NenClient, NenError } from '/client.mjs'
const out = {}
try {
  const client = new NenClient(location.origin)
  await client.handshake()
  out.sid = client.sessionId
  const created = await client.nenFetch('/api/items', { method: 'POST', body: { name: '${SECRET}' } })
  out.post = { status: created.status, body: await created.json() }
  const got = await client.nenFetch('/api/items/' + out.post.body.id)
  out.get = { status: got.status, body: await got.json() }
  const head = await client.nenFetch('/api/items/' + out.post.body.id, { method: 'HEAD' })
  out.head = { status: head.status }
  const del = await client.nenFetch('/api/items/' + out.post.body.id, { method: 'DELETE' })
  out.del = { status: del.status, body: await del.json() }
  out.stream = []
  for await (const chunk of client.nenStream('/api/stream', { body: { prompt: '${SECRET}' } })) out.stream.push(chunk)
  try {
    for await (const _ of client.nenStream('/api/stream/truncated', { body: {} })) {}
  } catch (e) { out.truncated = e instanceof NenError ? e.code : String(e) }
  const before = client.sessionId
  await client.rotate()
  out.rotated = client.sessionId !== before && (await client.status()).sid === client.sessionId
  await client.terminate()
  out.terminated = client.sessionId === null
} catch (e) {
  out.error = String(e && e.stack || e)
}
window.__results = out
document.getElementById('out').textContent = JSON.stringify(out, null, 2)
</script></body></html>`

test('the client in headless Chromium: every operation, no plaintext on the wire', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}` }, async () => {
  const clientJs = readFileSync(new URL('../dist/index.mjs', import.meta.url))
  const srv = await startServer(
    {},
    {
      '/': { type: 'text/html; charset=utf-8', body: page },
      '/client.mjs': { type: 'text/javascript', body: clientJs },
      // Served beside the bundle, as without a bundler: the client fetches ./nen.wasm on first use.
      '/nen.wasm': { type: 'application/wasm', body: readFileSync(new URL('../dist/nen.wasm', import.meta.url)) },
    },
  )
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  try {
    const tab = await browser.newPage()
    const captured = []
    tab.on('request', (r) => captured.push(r.postData() ?? ''))
    tab.on('response', async (r) => {
      if (r.url().includes('/api/')) captured.push(await r.text().catch(() => ''))
    })
    const consoleErrors = []
    tab.on('pageerror', (e) => consoleErrors.push(String(e)))
    await tab.goto(srv.url + '/')
    await tab.waitForFunction(() => window.__results !== undefined, null, { timeout: 30_000 })
    const r = await tab.evaluate(() => window.__results)
    assert.equal(r.error, undefined, r.error)
    assert.deepEqual(consoleErrors, [])
    assert.match(r.sid, /^[0-9a-f]{32}$/)
    assert.equal(r.post.status, 201)
    assert.equal(r.post.body.name, SECRET)
    assert.deepEqual(r.get, { status: 200, body: r.post.body })
    assert.deepEqual(r.head, { status: 200 })
    assert.deepEqual(r.del, { status: 200, body: { deleted: true, reason: null } })
    assert.deepEqual(r.stream, ['The ', 'quick ', 'brown ', 'fox'])
    assert.equal(r.truncated, 'ISO-7003')
    assert.equal(r.rotated, true)
    assert.equal(r.terminated, true)

    const apiBodies = captured.filter((b) => b.length > 0)
    assert.ok(apiBodies.length >= 10, `captured ${apiBodies.length} bodies`)
    for (const b of [...apiBodies, ...srv.wire]) {
      assert.ok(!b.includes(SECRET), 'plaintext in a captured body')
      assert.ok(!b.includes('quick'), 'stream plaintext in a captured body')
    }
  } finally {
    await browser.close()
    await srv.close()
  }
})

// The page for the tests below: it loads the client bundle and exposes `attempt`, which runs one
// nenFetch (or nenStream) and reports the outcome as plain data, so the test can look at the
// server between two requests.
const harness = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>nen targets</title></head>
<body><script type="module">
import { NenClient, NenError } from '/client.mjs'
const clients = new Map()
function clientFor(mode) {
  if (!clients.has(mode)) {
    const options = mode === 'manual' ? { redirect: 'manual' }
      : mode === 'follow' ? { fetch: (url, init) => fetch(url, { ...init, redirect: 'follow' }) }
      : {}
    clients.set(mode, new NenClient(location.origin, options))
  }
  return clients.get(mode)
}
function failure(e) {
  return {
    error: {
      isNenError: e instanceof NenError,
      name: e?.name, code: e?.code, authenticated: e?.authenticated, status: e?.status,
      message: String(e?.message ?? e), cause: e?.cause ? String(e.cause?.name ?? e.cause) : null,
    },
  }
}
window.handshake = (mode) => clientFor(mode).handshake()
window.signedTarget = (path) => { const u = new URL(path, location.origin); return u.pathname + u.search }
window.attempt = async ({ mode = 'default', path, init = {}, stream = false }) => {
  const client = clientFor(mode)
  try {
    if (stream) {
      const chunks = []
      for await (const c of client.nenStream(path, init)) chunks.push(c)
      return { chunks }
    }
    const res = await client.nenFetch(path, init)
    const text = await res.text()
    return { status: res.status, text, body: text === '' ? null : JSON.parse(text) }
  } catch (e) {
    return failure(e)
  }
}
window.plainFetch = async (url, init) => {
  try { const r = await fetch(url, init); return { status: r.status, type: r.type } } catch (e) { return { error: String(e) } }
}
window.__ready = true
</script></body></html>`

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

describe('the client in headless Chromium: targets, redirects, sealed failures', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}` }, () => {
  let srv, other, browser, tab
  const pageErrors = []
  const run = (args) => tab.evaluate((a) => window.attempt(a), args)

  before(async () => {
    srv = await startServer(
      {},
      {
        '/targets.html': { type: 'text/html; charset=utf-8', body: harness },
        '/client.mjs': { type: 'text/javascript', body: readFileSync(new URL('../dist/index.mjs', import.meta.url)) },
        '/nen.wasm': { type: 'application/wasm', body: readFileSync(new URL('../dist/nen.wasm', import.meta.url)) },
      },
    )
    other = await startOther()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    tab = await browser.newPage()
    tab.on('pageerror', (e) => pageErrors.push(String(e)))
    await tab.goto(srv.url + '/targets.html')
    await tab.waitForFunction(() => window.__ready === true, null, { timeout: 30_000 })
    // One session per client, up front, so the hit counts below hold only the request itself.
    for (const mode of ['default', 'manual', 'follow']) await tab.evaluate((m) => window.handshake(m), mode)
  })
  after(async () => {
    await browser?.close()
    await srv?.close()
    await other?.close()
    assert.deepEqual(pageErrors, [])
  })

  /** One honest request: it must not fail, and exactly `wire` must have crossed the wire. */
  async function honest(t) {
    const signed = await tab.evaluate((p) => window.signedTarget(p), t.path)
    srv.hits.length = 0
    const r = await run({ path: t.path, init: t.init })
    if (r.error) {
      assert.fail(`${t.name ?? t.path}: ${r.error.code} ${r.error.message}; signed ${JSON.stringify(signed)}, the server's req.url ${JSON.stringify(srv.hits.map((h) => h.url))}`)
    }
    assert.equal(signed, t.wire, `${t.name ?? t.path}: Chromium's URL serialisation`)
    assert.deepEqual(srv.hits, [{ method: t.init?.method ?? 'GET', url: t.wire, signed: true }], `${t.name ?? t.path}: what crossed the wire`)
    return r
  }

  test('honest targets work end to end: the server verifies the raw req.url, the handler reads it, the answer decrypts', async () => {
    for (const t of HONEST_TARGETS) {
      const r = await honest(t)
      assert.equal(r.status, 200, t.name)
      assert.equal(r.body.url, t.wire, `${t.name}: the handler's req.url`)
      assert.deepEqual(pick(r.body, t.saw), t.saw, `${t.name}: what the handler read`)
    }
    for (const s of ITEM_STEPS) {
      const r = await honest(s)
      assert.equal(r.status, s.status, s.path)
      assert.deepEqual(r.body, s.body, s.path)
    }
    for (const b of srv.wire) assert.ok(!b.includes('x://y') && !b.includes('slash'), 'plaintext on the wire')
  })

  test('redirects are not followed: the request fails and the Location never receives it', async () => {
    const away = '/api/redirect/302?to=' + encodeURIComponent(`${other.url}/steal`)
    const cases = [
      ['/api/redirect/307', { method: 'POST', body: { pay: 1 } }],
      ['/api/redirect/307', {}],
      [away, {}],
      [away, { method: 'POST', body: { pay: 1 } }],
    ]
    for (const [path, init] of cases) {
      srv.hits.length = 0
      other.hits.length = 0
      const r = await run({ path, init })
      assert.ok(r.error, `${path}: expected a failure, got ${JSON.stringify(r)}`)
      assert.equal(r.error.isNenError, true, JSON.stringify(r.error))
      assert.equal(r.error.code, 'ISO-1003', path)
      assert.equal(r.error.authenticated, false)
      assert.equal(r.error.cause, 'TypeError', 'fetch itself refused the redirect')
      assert.deepEqual(srv.hits, [{ method: init.method ?? 'GET', url: path, signed: true }], `${path}: only the redirecting route was reached`)
      assert.deepEqual(other.hits, [], `${path}: the other origin was never contacted`)
    }
    srv.hits.length = 0
    const stream = await run({ path: '/api/redirect/307', init: { body: {} }, stream: true })
    assert.equal(stream.error?.code, 'ISO-7002', JSON.stringify(stream))
    assert.deepEqual(srv.hits, [{ method: 'POST', url: '/api/redirect/307', signed: true }])
    // The session is untouched.
    assert.equal((await run({ path: '/api/echo' })).status, 200)

    // redirect: 'manual': the browser hands back an opaque redirect, never opened (ISO-4004).
    for (const [path, init] of cases) {
      srv.hits.length = 0
      other.hits.length = 0
      const r = await run({ mode: 'manual', path, init })
      assert.equal(r.error?.code, 'ISO-4004', `${path}: ${JSON.stringify(r)}`)
      assert.equal(r.error.authenticated, false)
      assert.deepEqual(srv.hits, [{ method: init.method ?? 'GET', url: path, signed: true }], path)
      assert.deepEqual(other.hits, [], path)
    }

    // The controls: a fetch that follows reaches the Location, so the counts above would see it.
    srv.hits.length = 0
    const replayed = await run({ mode: 'follow', path: '/api/redirect/307', init: { method: 'POST', body: { pay: 1 } } })
    assert.deepEqual(srv.hits.slice(-2), [
      { method: 'POST', url: '/api/redirect/307', signed: true },
      { method: 'POST', url: '/api/echo', signed: true },
    ])
    assert.equal(replayed.error?.code, 'ISO-3002', 'the target is signed, so the replay at the Location is refused')
    other.hits.length = 0
    const plain = await tab.evaluate((u) => window.plainFetch(u, { redirect: 'follow' }), away)
    assert.ok(plain.error, 'no CORS headers on the other origin')
    assert.deepEqual(other.hits, [{ method: 'GET', url: '/steal', signed: false }], 'a followed redirect reaches the other origin')
  })

  test('a failure after authentication is a sealed NenError (authenticated); a plain error body is not', async () => {
    for (const init of [{}, { method: 'POST', body: { a: 1 } }, { method: 'HEAD' }]) {
      const r = await run({ path: '/api/throws', init })
      assert.equal(r.error?.isNenError, true, JSON.stringify(r))
      assert.equal(r.error.code, 'ISO-9000', init.method)
      assert.equal(r.error.authenticated, true, init.method)
      assert.equal(r.error.status, 500)
      assert.ok(!r.error.message.includes('secret detail'), 'the handler error does not leak')
    }
    const stream = await run({ path: '/api/throws', init: { body: {} }, stream: true })
    assert.equal(stream.error?.code, 'ISO-9000', JSON.stringify(stream))
    assert.equal(stream.error.authenticated, true)
    const coded = await run({ path: '/api/echo', init: { headers: { 'x-test-error': 'ISO-8001' } } })
    assert.equal(coded.error?.code, 'ISO-8001', JSON.stringify(coded))
    assert.equal(coded.error.authenticated, true)
    const forged = await run({ path: '/api/fake-expired', init: { method: 'POST', body: {} } })
    assert.equal(forged.error?.isNenError, true, JSON.stringify(forged))
    assert.equal(forged.error.code, 'ISO-2002')
    assert.equal(forged.error.authenticated, false)
    for (const b of srv.wire) assert.ok(!b.includes('secret detail'), 'the handler error is not on the wire')
  })
})
