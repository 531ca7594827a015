// docs/cors-csp.md, pasted and run in headless Chromium: a page on one origin, with the
// documented Content-Security-Policy, calls an API on another origin that sends exactly the
// documented CORS headers (node:http and @withnen/server/node): handshake, POST and a stream all
// decrypt. Then each rule is broken once and the exact failure asserted: without
// Access-Control-Expose-Headers a HEAD answer is refused as unbound (ISO-4004) and a stream
// cannot open (ISO-7001), without Allow-Headers the preflight blocks the handshake (ISO-1003),
// and without 'wasm-unsafe-eval' the client cannot load its core (ISO-9001).

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { nenResponse } from '../../server/dist/index.mjs'
import { nenNodeHandler, nenNodeRoutes, withNenStreamNode } from '../../server/dist/node.mjs'

const CHROMIUM = process.env.NEN_CHROMIUM ?? '/usr/bin/chromium'
const skip = !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}`

// docs/cors-csp.md, "node:http", with the page's origin filled in per server.
const corsFor = (origin) => ({
  'access-control-allow-origin': origin,
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
  'access-control-allow-headers': 'content-type, x-nen-version, x-nen-session, x-nen-timestamp, x-nen-nonce, x-nen-signature, x-nen-idempotency-key',
  'access-control-expose-headers': 'x-nen-response, x-nen-stream-nonce, x-nen-error',
  'access-control-max-age': '600',
  vary: 'Origin',
})
const CSP = (api) => `script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ${api}`

const listen = (handler) =>
  new Promise((resolve) => {
    const s = http.createServer(handler)
    s.listen(0, '127.0.0.1', () => resolve(s))
  })

/** The documented API, on its own origin; `drop` removes one CORS header to show it is needed. */
async function api(pageOrigin, drop) {
  const nenRoutes = nenNodeRoutes()
  const items = nenNodeHandler(async (body) => nenResponse({ id: 1, ...body }, { status: 201 }))
  const chat = withNenStreamNode(async function* () {
    yield 'Hello'
    yield ' world'
  })
  const cors = corsFor(pageOrigin)
  if (drop) delete cors[drop]
  const s = await listen((req, res) => {
    for (const [k, v] of Object.entries(cors)) res.setHeader(k, v)
    if (req.method === 'OPTIONS') return res.writeHead(204).end()
    if (nenRoutes(req, res)) return
    if (req.url === '/api/items') return items(req, res)
    if (req.url === '/api/chat') return chat(req, res)
    res.writeHead(404).end()
  })
  // Another host name than the page's 127.0.0.1: a different origin.
  return { server: s, url: `http://localhost:${s.address().port}` }
}

// The page's own script is a file of its origin: script-src 'self' allows no inline script.
const PAGE = '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><script type="module" src="/page.mjs"></script></body></html>'
const pageScript = (apiUrl) => `
import { NenClient, NenError } from '/client.mjs'
const out = {}
const step = async (name, f) => {
  try {
    out[name] = await f()
  } catch (e) {
    out[name] = { error: e instanceof NenError ? e.code : String(e), message: e && e.message }
  }
}
const client = new NenClient(${JSON.stringify(apiUrl)})
await step('post', async () => {
  const res = await client.nenFetch('/api/items', { method: 'POST', body: { name: 'cors' } })
  return { status: res.status, body: await res.json() }
})
await step('head', async () => (await client.nenFetch('/api/items', { method: 'HEAD' })).status)
await step('stream', async () => {
  const tokens = []
  for await (const t of client.nenStream('/api/chat', { body: {} })) tokens.push(t)
  return tokens
})
window.__results = out
`

let browser
before(async () => {
  if (skip) return
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})
after(() => browser?.close())

/**
 * The page on http://127.0.0.1:<port> (with the CSP `csp(apiUrl)`), the API on
 * http://localhost:<port> naming the page's origin, as the doc says; `drop` removes one CORS
 * header. Returns what the page reported and its console.
 */
async function run({ drop, csp = CSP } = {}) {
  const files = {
    '/client.mjs': ['text/javascript', readFileSync(new URL('../dist/index.mjs', import.meta.url))],
  }
  // Served beside the bundle, as without a bundler: the client fetches ./nen.wasm on first use.
  const wasm = new URL('../dist/nen.wasm', import.meta.url)
  if (existsSync(wasm)) files['/nen.wasm'] = ['application/wasm', readFileSync(wasm)]
  let policy = ''
  const s = await listen((req, res) => {
    const f = files[req.url]
    if (!f) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': f[0], 'content-security-policy': policy })
    res.end(f[1])
  })
  const origin = `http://127.0.0.1:${s.address().port}`
  const a = await api(origin, drop)
  files['/'] = ['text/html; charset=utf-8', PAGE]
  files['/page.mjs'] = ['text/javascript', pageScript(a.url)]
  policy = csp(a.url)
  try {
    const page = await browser.newPage()
    const consoleLines = []
    page.on('console', (m) => consoleLines.push(m.text()))
    await page.goto(`${origin}/`)
    await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 30_000 })
    const out = await page.evaluate(() => window.__results)
    await page.close()
    return { out, consoleLines }
  } finally {
    s.close()
    a.server.close()
  }
}

test('the documented CORS headers and CSP: a cross-origin page handshakes, posts and streams', { skip, timeout: 60_000 }, async () => {
  const { out } = await run()
  assert.deepEqual(out, { post: { status: 201, body: { id: 1, name: 'cors' } }, head: 201, stream: ['Hello', ' world'] })
})

test('without Access-Control-Expose-Headers a HEAD answer cannot be bound (ISO-4004) and a stream cannot open (ISO-7001)', { skip, timeout: 60_000 }, async () => {
  const { out } = await run({ drop: 'access-control-expose-headers' })
  // A body answer carries its binding inside the sealed body; HEAD and streams need the headers.
  assert.deepEqual(out.post, { status: 201, body: { id: 1, name: 'cors' } })
  assert.equal(out.head.error, 'ISO-4004')
  assert.equal(out.stream.error, 'ISO-7001')
})

test('without Access-Control-Allow-Headers the preflight blocks the handshake: ISO-1003', { skip, timeout: 60_000 }, async () => {
  const { out, consoleLines } = await run({ drop: 'access-control-allow-headers' })
  assert.equal(out.post.error, 'ISO-1003')
  assert.ok(
    consoleLines.some((l) => l.includes('blocked by CORS policy')),
    consoleLines.join('\n'),
  )
})

test("without 'wasm-unsafe-eval' the client cannot compile its core: ISO-9001, and the browser says why", { skip, timeout: 60_000 }, async () => {
  const { out } = await run({ csp: (apiUrl) => `script-src 'self'; connect-src 'self' ${apiUrl}` })
  assert.equal(out.post.error, 'ISO-9001', JSON.stringify(out.post))
  assert.match(
    out.post.message,
    /^the Nen WebAssembly core could not be loaded \(CompileError: WebAssembly\.instantiateStreaming\(\): Compiling or instantiating WebAssembly module violates the following Content Security policy directive/,
  )
})
