// The same Web handlers with the native addon made unavailable (its `.node` binary cannot be
// loaded in this process, as on an edge runtime or a platform without a prebuilt binary): the
// package falls back to the WebAssembly engine, and the full round trip gives the same results.

import test from 'node:test'
import assert from 'node:assert/strict'
import Module, { createRequire } from 'node:module'

const load = Module._load
Module._load = function (request, ...rest) {
  if (request.endsWith('.node') || request.includes('server-native')) {
    throw Object.assign(new Error(`native addon disabled for this test: ${request}`), { code: 'MODULE_NOT_FOUND' })
  }
  return load.call(this, request, ...rest)
}

const require = createRequire(import.meta.url)
const { configureNen, createNen, nenRoute, withNen, withNenStream } = await import('../dist/index.mjs')
const { createApp, fullRoundTrip, recordingFetch } = await import('./support/app.mjs')

configureNen({ onError: () => {} })

test('the native addon really is unavailable here', () => {
  assert.throws(() => require('../../../nen.js'), /native/)
})

test('the default engine falls back to WebAssembly, and says why', async () => {
  const events = []
  await createNen({ onEvent: (e) => events.push(e) }).engine()
  assert.equal(events.length, 1)
  assert.equal(events[0].type, 'engine')
  assert.equal(events[0].engine, 'wasm')
  assert.equal(events[0].fallback, true)
  assert.ok(events[0].reason.length > 0)
})

test('full round trip through the Web handlers on the WASM engine', { timeout: 30000 }, async () => {
  const app = createApp()
  const query = (url) => Object.fromEntries(url.searchParams)
  const json = withNen((req, body) => {
    const url = new URL(req.url)
    return app.route(url.pathname).run(req.method, body, query(url))
  })
  const stream = withNenStream((req, body) => app.route(new URL(req.url).pathname).run(req.method, body))
  const router = (req) => {
    const path = new URL(req.url).pathname
    if (path.startsWith('/api/nen/')) return req.method === 'GET' ? nenRoute.GET(req) : nenRoute.POST(req)
    const r = app.route(path)
    if (!r) return Promise.resolve(new Response(null, { status: 404 }))
    return (r.kind === 'stream' ? stream : json)(req, { params: Promise.resolve({}) })
  }
  const wire = []
  await fullRoundTrip(
    'http://app.test',
    recordingFetch(wire, (url, init) => router(new Request(url, init))),
    { wire, app },
  )
})
