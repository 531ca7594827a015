// A real Cloudflare Worker (workerd, through miniflare) running @withnen/server's `workerd` build
// (dist/edge.mjs, which imports nen.wasm as a compiled module and never references the native
// addon), on the Upstash REST store in front of a real redis-server, driven by the real client
// from Node: handshake, every method, a stream, rotate, status, terminate, and one re-targeted
// request refused with its exact code.

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Miniflare } from 'miniflare'
import { NenClient, rejectsWith } from './support/app.mjs'
import { startRedis, startUpstash } from './support/upstash.mjs'

const TOKEN = 'workerd-token'
const WRAPPING_KEY = Buffer.alloc(32, 7).toString('base64')
const dist = (f) => readFileSync(new URL(`../dist/${f}`, import.meta.url))

// The Worker: what an application writes, importing the package's workerd build.
const WORKER = `
import { createNen, createNenRoute, withNen, withNenStream, UpstashSessionStore } from './nen-server.mjs'

let routes, json, stream
function app(env) {
  if (!routes) {
    const nen = createNen({ store: UpstashSessionStore({ url: env.UPSTASH_URL, token: env.UPSTASH_TOKEN, wrappingKey: env.NEN_WRAPPING_KEY }), onEvent: (e) => e.type === 'engine' && (globalThis.engine = e.engine) })
    routes = createNenRoute({ nen })
    json = withNen((req, body) => ({ method: req.method, body, engine: globalThis.engine ?? null }), { nen })
    stream = withNenStream(async function* (req, body) { yield 'edge '; yield 'tokens ' + body.n }, { nen })
  }
  return { routes, json, stream }
}

export default {
  async fetch(req, env) {
    const { routes, json, stream } = app(env)
    const path = new URL(req.url).pathname
    if (path.startsWith('/api/nen/')) return req.method === 'GET' ? routes.GET(req) : routes.POST(req)
    if (path === '/api/stream') return stream(req)
    return json(req)
  },
}
`

let redis
let upstash
let mf
before(async () => {
  redis = await startRedis()
  upstash = await startUpstash(redis.port, TOKEN)
  mf = new Miniflare({
    modules: [
      { type: 'ESModule', path: 'worker.mjs', contents: WORKER },
      { type: 'ESModule', path: 'nen-server.mjs', contents: dist('edge.mjs') },
      { type: 'CompiledWasm', path: 'nen.wasm', contents: dist('nen.wasm') },
    ],
    compatibilityDate: '2025-09-01',
    bindings: { UPSTASH_URL: upstash.url, UPSTASH_TOKEN: TOKEN, NEN_WRAPPING_KEY: WRAPPING_KEY },
  })
  await mf.ready
})
after(async () => {
  await mf?.dispose()
  await upstash?.close?.()
  redis?.stop()
})

test('a Worker in workerd: handshake, every method, a stream, rotate, status, terminate, on Upstash', { timeout: 60_000 }, async () => {
  let retarget = false
  const fetchVia = async (url, init) => {
    const target = retarget ? String(url).replace('/api/items', '/api/admin') : String(url)
    const res = await mf.dispatchFetch(target, init)
    // Back to a standard Response for the client (miniflare's own class otherwise).
    return new Response(res.body, { status: res.status, headers: res.headers })
  }
  const client = new NenClient('http://worker.test', { fetch: fetchVia })
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    const res = await client.nenFetch('/api/items', { method, body: { n: method } })
    assert.deepEqual(await res.json(), { method, body: { n: method }, engine: 'wasm' })
  }
  const got = await client.nenFetch('/api/items?x=1')
  assert.deepEqual(await got.json(), { method: 'GET', body: null, engine: 'wasm' })
  assert.equal((await client.nenFetch('/api/items', { method: 'HEAD' })).status, 200)
  const tokens = []
  for await (const t of client.nenStream('/api/stream', { body: { n: 3 } })) tokens.push(t)
  assert.deepEqual(tokens, ['edge ', 'tokens 3'])
  // The session lives in Redis, wrapped: a hop re-targeting a request is refused.
  assert.ok(redis.cli('--scan').stdout.trim().length > 0)
  retarget = true
  await rejectsWith(client.nenFetch('/api/items', { method: 'POST', body: {} }), 'ISO-3002', 401)
  retarget = false
  const before = client.sessionId
  await client.rotate()
  assert.notEqual(client.sessionId, before)
  assert.equal((await client.status()).sid, client.sessionId)
  await client.terminate()
  assert.equal(client.sessionId, null)
})

// workerd's fetch has no redirect: 'error' (only 'follow' and 'manual'): there the client
// defaults to 'manual', which also never follows a redirect (packages/client/README.md).
test('the client inside a Worker (its workerd build) against the native server over loopback', { timeout: 60_000 }, async () => {
  const { startServer } = await import('../../client/test/support/server.mjs')
  const api = await startServer()
  const client = (f) => readFileSync(new URL(`../../client/dist/${f}`, import.meta.url))
  const worker = new Miniflare({
    modules: [
      {
        type: 'ESModule',
        path: 'worker.mjs',
        contents: `
import { NenClient } from './nen-client.mjs'
export default {
  async fetch(req, env) {
    const out = {}
    try {
      const c = new NenClient(env.API)
      const res = await c.nenFetch('/api/items', { method: 'POST', body: { name: 'from a worker' } })
      out.post = { status: res.status, body: await res.json() }
      out.stream = []
      for await (const t of c.nenStream('/api/stream', { body: { prompt: 'x' } })) out.stream.push(t)
      // A redirect is handed back, never followed and never opened.
      out.redirect = await c.nenFetch('/api/redirect/307').then(() => 'followed', (e) => e.code)
      await c.terminate()
    } catch (e) { out.error = String(e && e.stack || e) }
    return Response.json(out)
  },
}`,
      },
      { type: 'ESModule', path: 'nen-client.mjs', contents: client('edge.mjs') },
      { type: 'CompiledWasm', path: 'nen.wasm', contents: client('nen.wasm') },
    ],
    compatibilityDate: '2025-09-01',
    bindings: { API: api.url },
  })
  try {
    const out = await (await worker.dispatchFetch('http://worker.test/')).json()
    assert.equal(out.error, undefined, out.error)
    assert.equal(out.post.status, 201)
    assert.equal(out.post.body.name, 'from a worker')
    assert.ok(out.stream.length > 0)
    assert.equal(out.redirect, 'ISO-4004')
    assert.ok(!api.wire.some((b) => b.includes('from a worker')), 'plaintext on the wire')
  } finally {
    await worker.dispose()
    await api.close()
  }
})
