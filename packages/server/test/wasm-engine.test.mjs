// The WebAssembly engine (src/engine/wasm.ts over crates/nen-wasm's server exports), driven by
// the real @withnen/client through an in-process router: the scenarios of the native server's
// tests, the same codes and statuses, store failures, docs/vectors byte for byte, and interop
// with the native NenServer on one shared store (same key names, same wrapped format).
//
// src/ is TypeScript: it is bundled here with esbuild (as the package build does), so this test
// needs neither dist/ nor the rest of the package to be built. Run scripts/build-wasm.sh and
// build packages/client first.

import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { NenClient, NenError as ClientNenError } from '../../client/dist/index.mjs'
// The test build of the client core (wasm-test/): the published one has no __setTestSeed.
import initClientCore, * as clientCore from '../../client/wasm-test/nen_wasm.js'
import { wasmBase64 } from '../../client/wasm-test/nen_wasm_bytes.js'

const require = createRequire(import.meta.url)
const native = require('../../../nen.js')
const here = new URL('.', import.meta.url).pathname

// ---- the engine under test, bundled from src/ ----

// Each bundle loads `nen.wasm` beside it on first use (src/engine/wasm-source.ts): the published
// core beside one, the test core beside the other. Removed when the process exits.
const dir = mkdtempSync(join(tmpdir(), 'nen-wasm-engine-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
for (const [sub, from] of [
  ['pub', 'wasm'],
  ['test', 'wasm-test'],
]) {
  mkdirSync(join(dir, sub))
  copyFileSync(join(here, '..', from, 'nen_wasm_bg.wasm'), join(dir, sub, 'nen.wasm'))
}
const out = join(dir, 'pub', 'engine.mjs')
await build({
  stdin: {
    contents: "export * from './src/engine/wasm.ts'\nexport { NenError, errorReply } from './src/errors.ts'\n",
    resolveDir: join(here, '..'),
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  outfile: out,
  logLevel: 'warning',
})
const { createWasmEngine, loadWasmEngine, createMemoryStoreAdapter, NenError, errorReply } = await import(pathToFileURL(out).href)
// The same engine over the test build of the core (wasm-test/, cargo feature test-hooks), for the
// byte-for-byte vector reproduction: the published core refuses testRngSeed.
const testOut = join(dir, 'test', 'engine-test.mjs')
await build({
  stdin: { contents: "export * from './src/engine/wasm.ts'\n", resolveDir: join(here, '..'), loader: 'ts' },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  outfile: testOut,
  logLevel: 'warning',
  plugins: [
    {
      name: 'wasm-test',
      setup(b) {
        b.onResolve({ filter: /\/wasm\/nen_wasm\.js$/ }, (a) => ({ path: join(here, '..', 'wasm-test', a.path.split('/').pop()) }))
      },
    },
  ],
})
const testEngine = await import(pathToFileURL(testOut).href)

// The client core used directly (seeding, signing by hand): a separate instance from the
// engine's, which the bundle above carries inline.
await initClientCore({ module_or_path: Buffer.from(wasmBase64, 'base64') })
const clientCoreReady = () => clientCore

const b64 = (bytes) => Buffer.from(bytes).toString('base64')
const WRAPPING_KEY = b64(Buffer.alloc(32, 7))

async function rejectsWith(promise, code, status) {
  const err = await Promise.resolve()
    .then(typeof promise === 'function' ? promise : () => promise)
    .then(
      () => assert.fail(`expected ${code}`),
      (e) => e,
    )
  assert.equal(err?.code, code, err?.stack ?? String(err))
  if (status !== undefined) assert.equal(err.status, status)
  return err
}

function throwsWith(f, code) {
  assert.throws(f, (e) => {
    assert.equal(e?.code, code, e?.stack ?? String(e))
    return true
  })
}

async function drain(iter) {
  const chunks = []
  for await (const c of iter) chunks.push(c)
  return chunks
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// ---- an in-process HTTP stand-in: a fetch that dispatches to a tiny router over an engine ----

/**
 * `engine()` picks the engine for each request (switching it mid-session is how the interop
 * tests move a client between a native and a WASM instance). Works for the WASM engine and
 * for a native NenServer, which have the same method names.
 */
function router(engine) {
  const items = new Map()
  const wire = []
  const requests = []
  const json = (status, body, headers = {}) => {
    wire.push(body)
    return new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } })
  }
  const reply = (r) => json(r.status, r.body, r.headers)

  const app = (opened, url) => {
    const body = opened.body === null ? null : JSON.parse(opened.body)
    const m = /^\/api\/items(?:\/(\w+))?$/.exec(url.pathname)
    if (m) {
      const id = m[1]
      switch (opened.method) {
        case 'GET':
          if (!id) return [200, { items: [...items.values()], query: Object.fromEntries(url.searchParams) }]
          return items.has(id) ? [200, items.get(id)] : [404, { error: 'not found' }]
        case 'HEAD':
          return [items.has(id) ? 200 : 404, null]
        case 'POST': {
          const item = { id: String(items.size + 1), ...body }
          items.set(item.id, item)
          return [201, item]
        }
        case 'PUT':
          items.set(id, { id, ...body })
          return [200, items.get(id)]
        case 'PATCH':
          items.set(id, { ...items.get(id), ...body })
          return [200, items.get(id)]
        case 'DELETE':
          return [200, { deleted: items.delete(id), reason: body?.reason ?? null }]
      }
    }
    if (url.pathname === '/api/echo') return [200, { method: opened.method, body, query: url.search }]
    return [404, { error: 'no route' }]
  }

  const stream = (e, opened, url) => {
    const s = e.stream(opened, 32)
    const tokens = ['The ', 'quick ', 'brown ', 'fox']
    const enc = new TextEncoder()
    const body = new ReadableStream({
      async start(c) {
        for (const t of tokens) {
          const frame = s.chunk(t)
          wire.push(frame)
          c.enqueue(enc.encode(frame))
          await sleep(1)
        }
        if (url.pathname === '/api/stream/cut') return c.close()
        let end = url.pathname === '/api/stream/fail' ? s.fail('ISO-8001') : s.finish()
        if (url.pathname === '/api/stream/tampered') end = end.replace(/data: (.)/, (_, ch) => `data: ${ch === 'A' ? 'B' : 'A'}`)
        wire.push(end)
        c.enqueue(enc.encode(end))
        c.close()
      },
    })
    return new Response(body, { status: 200, headers: s.headers })
  }

  const handle = async (request, url) => {
    const e = engine()
    const action = /^\/api\/nen\/(handshake|rotate|terminate|status)$/.exec(url.pathname)?.[1]
    if (action === 'handshake') return reply(await e.handshake(request.body))
    if (action) return reply(await e[action](request))
    const opened = await e.open(request)
    if (url.pathname.startsWith('/api/stream')) return stream(e, opened, url)
    const [status, value] = app(opened, url)
    if (opened.method === 'HEAD') return new Response(null, { status, headers: { 'x-nen-response': e.sealHead(opened, status) } })
    return json(status, e.seal(opened, JSON.stringify(value), status))
  }

  /** Dispatches one request; a rejection becomes the plain coded error reply, as a route would send. */
  const dispatch = async (request) => {
    const url = new URL(request.url)
    requests.push(request)
    wire.push(request.body ?? '')
    try {
      return await handle(request, url)
    } catch (err) {
      return reply(errorReply(err))
    }
  }

  /** The client's fetch: absolute URL, plain-object headers. */
  const fetch = (input, init = {}) =>
    dispatch({
      method: (init.method ?? 'GET').toUpperCase(),
      url: String(input),
      headers: Object.fromEntries(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      body: init.body ?? undefined,
    })

  return { fetch, dispatch, wire, requests }
}

const BASE = 'https://api.example'

// ---- the scenarios ----

test('the engine object: shapes of replies and opened requests', async () => {
  const engine = await loadWasmEngine({ store: { kind: 'memory' }, sessionTtlMs: 60_000 })
  const hs = clientCoreReady().ClientHandshake.start('mlkem768')
  const reply = await engine.handshake(hs.body)
  assert.equal(reply.status, 200)
  assert.deepEqual(reply.headers, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  assert.deepEqual(Object.keys(JSON.parse(reply.body)), ['v', 'mode', 'sid', 'ct', 'exp', 'confirm'])
  const session = hs.finish(reply.body)
  const signed = session.sign('GET', '/api/x?y=1')
  const opened = await engine.open({ method: 'GET', url: 'https://h.example/api/x?y=1', headers: new Headers(signed.headers) })
  assert.equal(opened.sid, session.sid)
  assert.equal(opened.method, 'GET')
  assert.equal(opened.body, null, 'no body is null, as natively')
  assert.equal(typeof opened.timestamp, 'number')
  assert.equal(session.open(signed, 203, engine.seal(opened, new TextEncoder().encode('[1]'), 203)), '[1]')
  throwsWith(() => engine.seal(opened, '{', 200), 'ISO-4003')
  throwsWith(() => engine.seal(opened, '{}', 99), 'ISO-9001')
  throwsWith(() => engine.seal({ sid: 'x' }, '{}'), 'ISO-9001')
  const s = engine.stream(opened)
  assert.deepEqual(Object.keys(s.headers).sort(), ['cache-control', 'content-type', 'x-nen-stream-nonce'])
  assert.equal(s.finished, false)
  s.finish()
  assert.equal(s.finished, true)
  throwsWith(() => s.chunk('late'), 'ISO-9000')
})

test('rotate, status and terminate', async () => {
  const adapter = spyAdapter(createMemoryStoreAdapter())
  const engine = createWasmEngine({ store: { kind: 'js', adapter, wrappingKey: WRAPPING_KEY }, rotationGraceMs: 2_000 })
  const r = router(() => engine)
  const client = new NenClient(BASE, { fetch: r.fetch })
  await client.handshake()
  const first = client.sessionId
  await client.rotate()
  assert.notEqual(client.sessionId, first)
  assert.equal((await client.status()).sid, client.sessionId)
  // The old session keeps working for the grace period only: its record was retired to it, once.
  const retires = adapter.calls.filter((c) => c[0] === 'retire')
  assert.equal(retires.length, 1)
  assert.equal(retires[0][1], `nen:{${first}}`)
  assert.equal(retires[0][3], 2_000)
  assert.equal((await adapter.load(`nen:{${first}}`)).retiredAt, retires[0][2])
  // Status of the old session (still in its grace) reports the end of the grace.
  const before = client.sessionId
  await client.terminate()
  assert.equal(client.sessionId, null)
  assert.equal(await adapter.load(`nen:{${before}}`), null, 'terminate deletes the record, replay records included')
  assert.equal((await client.nenFetch('/api/echo')).status, 200)
  assert.notEqual(client.sessionId, before)
})

// Replay, tampering and the request-error table run for every engine and store in
// conformance.test.mjs; here only what HTTP cannot send (other methods, spaces in the target) and
// engine-level replies.
test('engine-level errors: methods, malformed targets, bounds, lifecycle and handshake failures, a lost session', async () => {
  let engine = createWasmEngine({ store: { kind: 'memory' } })
  const r = router(() => engine)
  const client = new NenClient(BASE, { fetch: r.fetch })
  await client.nenFetch('/api/echo', { method: 'POST', body: { pay: 1 } })
  const captured = r.requests.at(-1)
  await rejectsWith(engine.open(captured), 'ISO-5001', 401)

  // Shape errors, in the native order and with the native statuses.
  const hsBody = clientCoreReady().ClientHandshake.start().body
  const sess = await sessionOn(engine)
  const good = sess.sign('POST', '/api/x', '{"a":1}')
  const req = (over = {}, headers = {}) => ({ method: 'POST', url: '/api/x', headers: { ...good.headers, ...headers }, body: good.body, ...over })
  await rejectsWith(engine.open(req({ method: 'TRACE' })), 'ISO-6004', 405)
  await rejectsWith(engine.open(req({ method: 'GET' })), 'ISO-6003', 400)
  await rejectsWith(engine.open(req({ url: '/api/x y' })), 'ISO-6005', 400)
  await rejectsWith(engine.open(req({ method: 'post' })), 'ISO-6004', 405)
  const small = createWasmEngine({ store: { kind: 'memory' }, maxBodyBytes: 4096 })
  const big = sess.sign('POST', '/api/x', JSON.stringify({ pad: 'x'.repeat(5000) }))
  await rejectsWith(small.open({ method: 'POST', url: '/api/x', headers: big.headers, body: big.body }), 'ISO-4005', 413)
  // Lifecycle routes always answer: plain before authentication (method and body rules first),
  // sealed after it.
  const plain = (r, code, status) => {
    assert.equal(r.status, status)
    assert.equal(JSON.parse(r.body).error.code, code)
    assert.equal(r.headers['x-nen-error'], code)
  }
  plain(await engine.status(req()), 'ISO-6007', 405)
  plain(await engine.rotate(req({ method: 'GET', body: undefined })), 'ISO-6007', 405)
  const term = sess.sign('POST', '/api/nen/terminate', '{}')
  plain(await engine.terminate({ method: 'POST', url: '/api/nen/terminate', headers: term.headers, body: term.body }), 'ISO-6008', 400)
  // The rotate body must be an inner handshake: its failure is sealed for the rotate request.
  const rot = sess.sign('POST', '/api/nen/rotate', '{"v":1,"mode":"rsa"}')
  const rotReply = await engine.rotate({ method: 'POST', url: '/api/nen/rotate', headers: rot.headers, body: rot.body })
  assert.equal(rotReply.status, 400)
  assert.ok(!rotReply.body.includes('ISO-'))
  assert.throws(
    () => sess.open(rot, 400, rotReply.body),
    (e) => e.code === 'ISO-1007' && e.authenticated === true,
  )
  const rot2 = sess.sign('POST', '/api/nen/rotate')
  plain(await engine.rotate({ method: 'POST', url: '/api/nen/rotate', headers: rot2.headers }), 'ISO-1001', 400)
  // Handshake errors.
  await rejectsWith(engine.handshake('not json'), 'ISO-6001', 400)
  // Bounded before it is parsed: 64 KiB by default.
  await rejectsWith(engine.handshake(`{${' '.repeat(70_000)}}`), 'ISO-1008', 413)
  await rejectsWith(engine.handshake(JSON.stringify({ ...JSON.parse(hsBody), v: 2 })), 'ISO-1005', 400)
  await rejectsWith(engine.handshake(JSON.stringify({ ...JSON.parse(hsBody), ek: '%%%' })), 'ISO-6002', 400)

  // A server that lost its sessions: safe requests recover, others report ISO-2002.
  engine = createWasmEngine({ store: { kind: 'memory' } })
  await rejectsWith(client.nenFetch('/api/echo', { method: 'POST', body: {} }), 'ISO-2002')
  engine = createWasmEngine({ store: { kind: 'memory' } })
  assert.equal((await client.nenFetch('/api/echo')).status, 200)
})

/** A client session on `engine`, made by hand with the client core. */
async function sessionOn(engine, mode) {
  const hs = clientCoreReady().ClientHandshake.start(mode)
  return hs.finish((await engine.handshake(hs.body)).body)
}

test('the time window', async () => {
  const engine = createWasmEngine({ store: { kind: 'memory' }, windowMs: 1_000 })
  const session = await sessionOn(engine)
  const at = (ms) => {
    const s = session.sign('GET', '/t', undefined, ms)
    return { method: 'GET', url: '/t', headers: s.headers }
  }
  await rejectsWith(engine.open(at(Date.now() - 5_000)), 'ISO-3003', 401)
  await rejectsWith(engine.open(at(Date.now() + 5_000)), 'ISO-3003', 401)
  await engine.open(at(Date.now() - 500))
})

/** Wraps an adapter, logging every call as [op, key, ...numbers or the nonce]. */
function spyAdapter(inner) {
  const calls = []
  return {
    calls,
    load: (k) => (calls.push(['load', k]), inner.load(k)),
    put: (k, v, t) => (calls.push(['put', k, t]), inner.put(k, v, t)),
    delete: (k) => (calls.push(['delete', k]), inner.delete(k)),
    retire: (k, at, t) => (calls.push(['retire', k, at, t]), inner.retire(k, at, t)),
    recordNonce: (k, n, now, until) => (calls.push(['recordNonce', k, n, now, until]), inner.recordNonce(k, n, now, until)),
  }
}

test('store failures fail closed with ISO-8001, within timeoutMs', async () => {
  const healthy = createMemoryStoreAdapter()
  let mode = 'ok'
  const flaky = {}
  for (const op of ['load', 'put', 'delete', 'retire', 'recordNonce']) {
    flaky[op] = (...args) => {
      if (mode === 'reject') return Promise.reject(new Error('down'))
      if (mode === 'throw') throw new Error('down')
      if (mode === 'hang') return new Promise(() => {})
      if (mode === 'garbage' && op === 'recordNonce') return Promise.resolve('maybe')
      if (mode === 'garbage' && op === 'load') return Promise.resolve({ entry: 'not base64!', retiredAt: null })
      return healthy[op](...args)
    }
  }
  const engine = createWasmEngine({ store: { kind: 'js', adapter: flaky, wrappingKey: WRAPPING_KEY, timeoutMs: 100 } })
  const session = await sessionOn(engine)
  const get = () => {
    const s = session.sign('GET', '/x')
    return { method: 'GET', url: '/x', headers: s.headers }
  }
  for (mode of ['reject', 'throw', 'hang', 'garbage']) {
    const t0 = Date.now()
    const err = await rejectsWith(engine.open(get()), 'ISO-8001', 503)
    assert.ok(Date.now() - t0 < 1_000, `${mode}: bounded by timeoutMs`)
    assert.ok(err instanceof NenError)
    if (mode !== 'garbage') await rejectsWith(engine.handshake(clientCoreReady().ClientHandshake.start().body), 'ISO-8001', 503)
  }
  // A value that is not base64 is a store failure too (the native JS store decodes it there).
  await rejectsWith(createWasmEngine({ store: { kind: 'js', adapter: flaky, wrappingKey: WRAPPING_KEY } }).open(get()), 'ISO-8001', 503)
  // Entries written by another key do not unwrap: ISO-8002.
  mode = 'ok'
  const other = createWasmEngine({ store: { kind: 'js', adapter: flaky, wrappingKey: b64(Buffer.alloc(32, 1)) } })
  await rejectsWith(other.open(get()), 'ISO-8002', 500)
  // A cold instance reads the record (one load), then needs only recordNonce.
  const spy = spyAdapter(healthy)
  const cold = createWasmEngine({ store: { kind: 'js', adapter: spy, wrappingKey: WRAPPING_KEY } })
  await cold.open(get())
  await cold.open(get())
  assert.deepEqual(
    spy.calls.map((c) => c[0]),
    ['load', 'recordNonce', 'recordNonce'],
  )
  assert.equal(spy.calls[0][1], `nen:{${session.sid}}`)
  const [, key, nonce, now, until] = spy.calls[1]
  assert.equal(key, `nen:{${session.sid}}`)
  assert.match(nonce, /^n:[0-9a-f]{24}$/)
  assert.ok(until - now >= 34_000 && until - now <= 35_000, `remembered for window + skew (${until - now})`)
})

test('configuration errors are ISO-9001', async () => {
  const adapter = createMemoryStoreAdapter()
  throwsWith(() => createWasmEngine({ store: { kind: 'redis', url: 'redis://x' } }), 'ISO-9001')
  throwsWith(() => createWasmEngine({ store: { kind: 'redis-cluster', nodes: ['redis://x'] } }), 'ISO-9001')
  throwsWith(() => createWasmEngine({ store: { kind: 'js', adapter } }), 'ISO-9001')
  // The published core has no test hooks: the option is refused, naming it.
  await rejectsWith(loadWasmEngine({ store: { kind: 'memory' }, testRngSeed: WRAPPING_KEY }), 'ISO-9001', 500)
  assert.throws(
    () => createWasmEngine({ store: { kind: 'memory' } }).setTestNow(1),
    (e) => e.code === 'ISO-9001',
  )
  for (const bad of [
    { store: { kind: 'js', adapter, wrappingKey: 'short' } },
    { store: { kind: 'memory' }, modes: ['rsa'] },
    { store: { kind: 'memory' }, modes: [] },
    { store: { kind: 'memory' }, identitySecretKey: 'nope' },
    { store: { kind: 'memory' }, windowMs: -1 },
    { store: { kind: 'memory' }, sessionTtlMs: 1.5 },
  ]) {
    await rejectsWith(loadWasmEngine(bad), 'ISO-9001', 500)
    // Without awaiting ready(), the first call reports it.
    await rejectsWith(createWasmEngine(bad).handshake('{}'), 'ISO-9001', 500)
  }
  // A mode the server does not accept.
  const fips = await loadWasmEngine({ store: { kind: 'memory' }, modes: ['mlkem768'] })
  await rejectsWith(fips.handshake(clientCoreReady().ClientHandshake.start('hybrid').body), 'ISO-1007', 400)
})

// ---- interop: a native NenServer and the WASM engine on one store ----

function pair(options = {}) {
  const adapter = spyAdapter(createMemoryStoreAdapter())
  const store = { adapter, wrappingKey: WRAPPING_KEY }
  const nativeServer = new native.NenServer({ ...options, store })
  const wasm = createWasmEngine({ ...options, store: { kind: 'js', ...store } })
  return { adapter, nativeServer, wasm }
}

test('interop: sessions, nonces and lifecycle cross between native and WASM', async () => {
  const { nativeServer, wasm } = pair()
  let current = nativeServer
  const r = router(() => current)
  const client = new NenClient(BASE, { fetch: r.fetch })

  // Native handshake, WASM requests.
  await client.handshake()
  const sid = client.sessionId
  current = wasm
  assert.equal((await (await client.nenFetch('/api/echo?n=1', { method: 'POST', body: { a: 1 } })).json()).body.a, 1)
  assert.deepEqual(await drain(client.nenStream('/api/stream', { body: {} })), ['The ', 'quick ', 'brown ', 'fox'])
  assert.equal(client.sessionId, sid, 'no re-handshake: WASM used the native session')

  // A request opened natively is a replay on WASM, and the reverse: one nonce key space.
  current = nativeServer
  await client.nenFetch('/api/echo', { method: 'PUT', body: { b: 2 } })
  await rejectsWith(wasm.open(r.requests.at(-1)), 'ISO-5001', 401)
  current = wasm
  await client.nenFetch('/api/echo', { method: 'PATCH', body: { c: 3 } })
  await rejectsWith(nativeServer.open(r.requests.at(-1)), 'ISO-5001', 401)

  // WASM rotates; native serves the new session and its status.
  await client.rotate()
  const rotated = client.sessionId
  assert.notEqual(rotated, sid)
  current = nativeServer
  assert.equal((await client.status()).sid, rotated)
  // …and native terminates it: WASM sees it gone at once.
  await client.terminate()
  current = wasm
  const stale = r.requests.filter((q) => q.headers['x-nen-session'] === rotated && q.method === 'GET').at(-1)
  const again = await r.dispatch({ ...stale })
  assert.equal(JSON.parse(await again.text()).error.code, 'ISO-2002')

  // The other way round: WASM handshake (both modes), native requests, native rotation, WASM status.
  for (const keyExchange of ['hybrid', 'mlkem768']) {
    const c2 = new NenClient(BASE, { fetch: r.fetch, keyExchange })
    current = wasm
    await c2.handshake()
    current = nativeServer
    assert.equal((await c2.nenFetch('/api/echo', { method: 'DELETE', body: { d: 4 } })).status, 200)
    assert.equal((await c2.nenFetch('/api/items/none', { method: 'HEAD' })).status, 404)
    await c2.rotate()
    current = wasm
    const st = await c2.status()
    assert.equal(st.sid, c2.sessionId)
    assert.equal(st.mode, keyExchange)
    await c2.terminate()
    current = nativeServer
    const last = r.requests.filter((q) => q.headers['x-nen-session'] === st.sid && q.method === 'GET').at(-1)
    assert.equal(JSON.parse(await (await r.dispatch({ ...last })).text()).error.code, 'ISO-2002')
  }
})

test('interop: the same store calls, keys and TTLs as the native JS store', async () => {
  const options = { sessionTtlMs: 120_000, rotationGraceMs: 3_000, windowMs: 20_000 }
  const runs = {}
  for (const side of ['native', 'wasm']) {
    const { adapter, nativeServer, wasm } = pair(options)
    const r = router(() => (side === 'native' ? nativeServer : wasm))
    const client = new NenClient(BASE, { fetch: r.fetch })
    await client.handshake()
    await client.nenFetch('/api/echo')
    await client.rotate()
    await client.status()
    await client.terminate()
    const names = new Map()
    const name = (hex) => (names.has(hex) ? names.get(hex) : (names.set(hex, `<${names.size}>`), names.get(hex)))
    runs[side] = adapter.calls.map(([op, key, ...args]) => {
      const k = key.replace(/[0-9a-f]{32}/, name)
      if (op === 'recordNonce') return [op, k, /^n:[0-9a-f]{24}$/.test(args[0]), args[2] - args[1] > 24_000 && args[2] - args[1] <= 25_000]
      if (op === 'retire') return [op, k, args[1]]
      return [op, k, ...args]
    })
  }
  assert.deepEqual(runs.wasm, runs.native)
  assert.deepEqual(runs.wasm[0], ['put', 'nen:{<0>}', 120_000])
  assert.ok(runs.wasm.some((c) => c[0] === 'retire' && c[2] === 3_000))
})

// ---- docs/vectors, byte for byte, through the WASM engine ----

const vector = (name) => JSON.parse(readFileSync(new URL(`../../../docs/vectors/${name}.json`, import.meta.url), 'utf8'))
const hex = (h) => Buffer.from(h, 'hex')

async function seeded(v) {
  {
    const options = { store: { kind: 'memory' }, testRngSeed: hex(v.server_rng_seed).toString('base64'), testNowMs: v.handshake.now_ms, sessionTtlMs: v.handshake.ttl_ms }
    if (v.handshake.identity_seed) options.identitySecretKey = hex(v.handshake.identity_seed).toString('base64')
    const engine = await testEngine.loadWasmEngine(options)
    const core = clientCoreReady()
    core.__setTestSeed(hex(v.client_rng_seed))
    const hs = core.ClientHandshake.start(v.handshake.mode)
    assert.equal(hs.body, v.handshake.request_body)
    const reply = await engine.handshake(hs.body)
    assert.equal(reply.body, v.handshake.response_body, 'handshake response')
    const session = hs.finish(reply.body, v.handshake.identity_public_key ?? undefined)
    assert.equal(session.sid, v.handshake.sid)
    return { engine, session }
  }
}

test('docs/vectors: handshakes, every method, a stream and a rotation', async () => {
  for (const name of ['handshake-hybrid', 'handshake-mlkem768', 'handshake-hybrid-identity', 'handshake-mlkem768-identity']) await seeded(vector(name))

  const v = vector('requests')
  const { engine, session } = await seeded(v)
  for (const e of v.exchanges) {
    engine.setTestNow(e.now_ms)
    const signed = session.sign(e.method, e.target, e.plaintext_body ?? undefined, e.now_ms, e.idempotency_key ?? undefined)
    assert.deepEqual(signed.headers, e.headers)
    const opened = await engine.open({ method: e.method, url: e.target, headers: signed.headers, body: signed.body })
    assert.equal(opened.idempotencyKey, e.idempotency_key)
    if (e.answer === 'error') {
      const r = engine.sealError(opened, e.error_code)
      assert.equal(r.status, e.status)
      if (e.method === 'HEAD') assert.equal(r.headers['x-nen-response'], e.response_headers['x-nen-response'])
      else assert.equal(r.body, e.response_body, `${e.method} ${e.target} error`)
    } else if (e.method === 'HEAD') {
      assert.equal(engine.sealHead(opened, e.status), e.response_headers['x-nen-response'])
    } else {
      const plain = JSON.stringify(JSON.parse(e.plaintext_response ?? 'null'))
      assert.equal(engine.seal(opened, plain, e.status), e.response_body, `${e.method} response`)
    }
  }

  const sv = vector('stream')
  const st = await seeded(sv)
  st.engine.setTestNow(sv.now_ms)
  const sreq = st.session.sign('POST', sv.request.target, sv.request.plaintext_body, sv.now_ms)
  const sopened = await st.engine.open({ method: 'POST', url: sv.request.target, headers: sreq.headers, body: sreq.body })
  const stream = st.engine.stream(sopened, 32)
  assert.equal(stream.headers['x-nen-stream-nonce'], sv.response_headers['x-nen-stream-nonce'])
  assert.equal(sv.chunks.map((c) => stream.chunk(c)).join('') + stream.finish(), sv.sse_body)

  const rv = vector('rotation')
  const rt = await seeded(rv)
  rt.engine.setTestNow(rv.now_ms)
  const rot = rt.session.beginRotation('hybrid')
  assert.equal(rot.body, rv.inner_request_body)
  const rreq = rt.session.sign('POST', '/api/nen/rotate', rot.body, rv.now_ms)
  assert.deepEqual(rreq.headers, rv.headers)
  const reply = await rt.engine.rotate({ method: 'POST', url: '/api/nen/rotate', headers: rreq.headers, body: rreq.body })
  assert.equal(reply.body, rv.response_body)
  assert.equal(rot.finish(rt.session.open(rreq, 200, reply.body)).sid, rv.new_sid)
})

test('client errors surface as the client NenError', async () => {
  // Sanity of the harness: what the client rejects with is its own NenError class.
  const engine = createWasmEngine({ store: { kind: 'memory' } })
  const r = router(() => engine)
  const client = new NenClient(BASE, { fetch: (url, init) => r.fetch(String(url).replace('/api/echo', '/api/echo2'), init) })
  const err = await rejectsWith(client.nenFetch('/api/echo'), 'ISO-3002', 401)
  assert.ok(err instanceof ClientNenError)
})
