// Vercel's Edge Runtime (npm `edge-runtime`, the VM Vercel and `next dev` run edge functions in),
// running an application bundled against @withnen/server's `edge-light` export condition
// (dist/edge-light.mjs: imports `nen.wasm?module`, never references the native addon), on the
// Upstash REST store in front of a real redis-server, driven by the real client from Node.
//
// The runtime is real, with code generation off (`codeGeneration: { strings: false, wasm: false }`,
// which `edge-runtime` leaves on for wasm by default): WebAssembly cannot be compiled from bytes
// inside it, as on Vercel's production edge. The bundling step is ours: Vercel's and Next's
// bundlers turn `import wasm from './x.wasm?module'` into a WebAssembly.Module compiled outside
// the sandbox and handed in as a global binding; the esbuild plugin below does the same. Next's
// own edge compiler is exercised by examples/next-app (a `runtime = 'edge'` route under
// `next start`).

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { EdgeRuntime, runServer } from 'edge-runtime'
import { NenClient, rejectsWith } from './support/app.mjs'
import { startRedis, startUpstash } from './support/upstash.mjs'

const TOKEN = 'edge-runtime-token'
const NO_CODEGEN = { strings: false, wasm: false }
const WRAPPING_KEY = Buffer.alloc(32, 9).toString('base64')

// The edge function: what an application writes (`addEventListener('fetch')` is the runtime's
// entry point; a Next route's `export const POST` is the same handlers).
const FUNCTION = `
import { createNen, createNenRoute, withNen, withNenStream, UpstashSessionStore } from '@withnen/server'

const engine = { name: null }
const nen = createNen({
  store: UpstashSessionStore({ url: UPSTASH_URL, token: UPSTASH_TOKEN, wrappingKey: NEN_WRAPPING_KEY }),
  onEvent: (e) => { if (e.type === 'engine') engine.name = e.engine },
})
const routes = createNenRoute({ nen })
const json = withNen((req, body) => ({ method: req.method, body, engine: engine.name, query: new URL(req.url).search }), { nen })
const stream = withNenStream(async function* (req, body) { yield 'vercel '; yield 'edge ' + body.n }, { nen })

addEventListener('fetch', (event) => {
  const path = new URL(event.request.url).pathname
  const req = event.request
  if (path.startsWith('/api/nen/')) return event.respondWith(req.method === 'GET' ? routes.GET(req) : routes.POST(req))
  if (path === '/api/stream') return event.respondWith(stream(req))
  event.respondWith(json(req))
})
`

/** Bundles FUNCTION as the edge bundlers do: `edge-light` condition, wasm as a global binding. */
async function bundle() {
  const out = await build({
    stdin: { contents: FUNCTION, resolveDir: new URL('.', import.meta.url).pathname, loader: 'js' },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    conditions: ['edge-light'],
    mainFields: ['module', 'main'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'wasm-module-binding',
        setup(b) {
          b.onResolve({ filter: /\.wasm\?module$/ }, (a) => ({ path: a.path, namespace: 'wasm-binding' }))
          b.onLoad({ filter: /.*/, namespace: 'wasm-binding' }, () => ({ contents: 'export default globalThis.__nen_wasm', loader: 'js' }))
        },
      },
    ],
  })
  return out.outputFiles[0].text
}

let redis
let upstash
let server
let code
before(async () => {
  redis = await startRedis()
  upstash = await startUpstash(redis.port, TOKEN)
  code = await bundle()
  const wasm = new WebAssembly.Module(readFileSync(new URL('../dist/nen.wasm', import.meta.url)))
  const runtime = new EdgeRuntime({
    codeGeneration: NO_CODEGEN,
    initialCode: code,
    extend: (context) => Object.assign(context, { __nen_wasm: wasm, UPSTASH_URL: upstash.url, UPSTASH_TOKEN: TOKEN, NEN_WRAPPING_KEY: WRAPPING_KEY }),
  })
  server = await runServer({ runtime, port: 0, host: '127.0.0.1' })
})
after(async () => {
  await server?.close()
  await upstash?.close?.()
  redis?.stop()
})

test('the edge-light build never references the native addon and imports the module form of nen.wasm', () => {
  assert.doesNotMatch(code, /(?:import|require)\s*\(?\s*["'][^"']*server-native/, 'the bundle imports the native addon')
  assert.ok(code.includes('globalThis.__nen_wasm'), 'the bundle takes the precompiled module')
})

test('the runtime refuses to compile WebAssembly from bytes (as Vercel does), so the module form is what works', async () => {
  const runtime = new EdgeRuntime({ codeGeneration: NO_CODEGEN })
  const bytes = readFileSync(new URL('../dist/nen.wasm', import.meta.url))
  runtime.context.__bytes = new runtime.context.Uint8Array(bytes)
  await assert.rejects(runtime.evaluate('WebAssembly.compile(__bytes)'), /disallowed|not allowed|code generation/i)
})

test('Vercel Edge Runtime: handshake, every method, a stream, rotate, status, terminate, on Upstash', { timeout: 60_000 }, async () => {
  let retarget = false
  const fetchVia = (url, init) => fetch(retarget ? String(url).replace('/api/items', '/api/admin') : url, init)
  const client = new NenClient(server.url.replace(/\/$/, ''), { fetch: fetchVia })
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    const res = await client.nenFetch('/api/items', { method, body: { n: method } })
    assert.deepEqual(await res.json(), { method, body: { n: method }, engine: 'wasm', query: '' })
  }
  const got = await client.nenFetch('/api/items?x=1')
  assert.deepEqual(await got.json(), { method: 'GET', body: null, engine: 'wasm', query: '?x=1' })
  assert.equal((await client.nenFetch('/api/items', { method: 'HEAD' })).status, 200)
  const tokens = []
  for await (const t of client.nenStream('/api/stream', { body: { n: 4 } })) tokens.push(t)
  assert.deepEqual(tokens, ['vercel ', 'edge 4'])
  assert.ok(redis.cli('--scan').stdout.trim().length > 0, 'the session lives in Redis')
  retarget = true
  await rejectsWith(client.nenFetch('/api/items', { method: 'POST', body: {} }), 'ISO-3002', 401)
  retarget = false
  const sid = client.sessionId
  await client.rotate()
  assert.notEqual(client.sessionId, sid)
  assert.equal((await client.status()).sid, client.sessionId)
  await client.terminate()
  assert.equal(client.sessionId, null)
})

// Next.js 13's edge sandbox has no `performance`: a bare performance.now() once failed every
// handshake there with ISO-9000.
test('an edge sandbox without `performance` (Next.js 13) still serves', { timeout: 30_000 }, async () => {
  const wasm = new WebAssembly.Module(readFileSync(new URL('../dist/nen.wasm', import.meta.url)))
  const runtime = new EdgeRuntime({
    codeGeneration: NO_CODEGEN,
    extend: (context) => Object.assign(context, { __nen_wasm: wasm, UPSTASH_URL: upstash.url, UPSTASH_TOKEN: TOKEN, NEN_WRAPPING_KEY: WRAPPING_KEY }),
  })
  // The runtime's global is not configurable: shadow it as Next.js 13's sandbox leaves it.
  runtime.evaluate('Object.defineProperty(globalThis, "performance", { value: undefined })')
  assert.equal(runtime.evaluate('typeof performance'), 'undefined')
  runtime.evaluate(code)
  const bare = await runServer({ runtime, port: 0, host: '127.0.0.1' })
  try {
    const client = new NenClient(bare.url.replace(/\/$/, ''))
    const res = await client.nenFetch('/api/items', { method: 'POST', body: { n: 1 } })
    assert.deepEqual(await res.json(), { method: 'POST', body: { n: 1 }, engine: 'wasm', query: '' })
  } finally {
    await bare.close()
  }
})
