// Observability without leaking: every event `onEvent` sees, with its exact code, for the
// failures an operator must not be blind to (a bad signature, a replay, a Redis outage, instances
// with different wrapping keys), the lifecycle (handshake, rotate, terminate), the engine chosen
// and why; the default logger's rate limit; the debug explanation of an ISO-3002; and that no
// event or log line holds a session id in full, a signature, a key or plaintext.

import test from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { createNen, createNenRoute, withNen } from '../dist/index.mjs'
import { NenClient, rejectsWith } from './support/app.mjs'

const require = createRequire(import.meta.url)
const redis = require('../../../__test__/support/redis.js')
const PORT = 16830
const BASE = 'http://app.test'
const SECRET = 'plaintext-marker-events-5555'
const KEY_A = Buffer.alloc(32, 1).toString('base64')
const KEY_B = Buffer.alloc(32, 2).toString('base64')

/** The Nen routes and one echo handler on `nen`, served in process. */
function app(nen) {
  const routes = createNenRoute({ nen })
  const echo = withNen((_req, body) => ({ got: body }), { nen })
  return (req) => {
    const path = new URL(req.url).pathname
    if (path.startsWith('/api/nen/')) return req.method === 'GET' ? routes.GET(req) : routes.POST(req)
    return echo(req, { params: Promise.resolve({}) })
  }
}

/**
 * A hop in the client's fetch holding no key: `mode.rewrite` sends the signed request to another
 * path, `mode.replay` sends the last request again after it; `sent` keeps every request's headers.
 */
function hop(router) {
  const mode = { rewrite: undefined, replay: false }
  const sent = []
  let last
  const f = async (url, init = {}) => {
    let target = String(url)
    if (mode.rewrite && !target.includes('/api/nen/')) target = target.replace(/\/api\/[^?]*/, mode.rewrite)
    sent.push({ url: target, headers: Object.fromEntries(new Headers(init.headers ?? {})) })
    const res = await router(new Request(target, init))
    if (!target.includes('/api/nen/')) last = { target, init }
    if (mode.replay && last) return router(new Request(last.target, last.init))
    return res
  }
  return { fetch: f, mode, sent }
}

const leaks = (events, sent, extra = []) => {
  const text = JSON.stringify(events)
  for (const s of sent) {
    const sid = s.headers['x-nen-session']
    if (sid) assert.ok(!text.includes(sid), `an event holds a full session id: ${text}`)
    const sig = s.headers['x-nen-signature']
    if (sig) assert.ok(!text.includes(sig), 'an event holds a signature')
  }
  for (const secret of [SECRET, KEY_A, KEY_B, ...extra]) assert.ok(!text.includes(secret), `an event holds ${secret}`)
}

test('refusals by code, the lifecycle, and nothing secret in any event (memory store)', { timeout: 30000 }, async () => {
  const events = []
  const nen = createNen({ onEvent: (e) => events.push(e), debug: false })
  const h = hop(app(nen))
  const client = new NenClient(BASE, { fetch: h.fetch })
  assert.deepEqual(await (await client.nenFetch('/api/echo', { method: 'POST', body: { s: SECRET } })).json(), { got: { s: SECRET } })
  assert.deepEqual(
    events.map((e) => e.type),
    ['engine', 'handshake'],
  )
  assert.deepEqual(events[0], { type: 'engine', engine: 'native', fallback: false })
  assert.match(events[1].sid, /^[0-9a-f]{8}…$/)

  // A hop re-targets the request: refused ISO-3002, reported by code, path without its query.
  h.mode.rewrite = '/api/other'
  await rejectsWith(client.nenFetch('/api/echo?card=4111', { method: 'POST', body: { s: SECRET } }), 'ISO-3002', 401)
  h.mode.rewrite = undefined
  assert.deepEqual(events.at(-1), { type: 'refused', code: 'ISO-3002', name: 'SIGNATURE_INVALID', status: 401, op: 'open', method: 'POST', path: '/api/other' })

  // A hop replays a request the server answered: the copy is refused ISO-5001.
  h.mode.replay = true
  await client.nenFetch('/api/echo', { method: 'POST', body: { s: SECRET } }).catch(() => {})
  h.mode.replay = false
  assert.deepEqual(events.at(-1), { type: 'refused', code: 'ISO-5001', name: 'NONCE_REUSED', status: 401, op: 'open', method: 'POST', path: '/api/echo' })

  // Rotation and termination.
  await client.rotate()
  assert.deepEqual(events.at(-1), { type: 'rotate', sid: undefined })
  await client.terminate()
  assert.equal(events.at(-1).type, 'terminate')
  assert.match(events.at(-1).sid, /^[0-9a-f]{8}…$/)
  // The memory store has no round trip: no latency events.
  assert.equal(events.filter((e) => e.type === 'store-latency').length, 0)
  leaks(events, h.sent)
})

test('debug mode explains an ISO-3002: the target the server verified and the headers it saw, never the signature', { timeout: 30000 }, async () => {
  const events = []
  const nen = createNen({ onEvent: (e) => events.push(e), debug: true })
  const h = hop(app(nen))
  const client = new NenClient(BASE, { fetch: h.fetch })
  await client.nenFetch('/api/echo', { method: 'POST', body: { s: SECRET } })
  h.mode.rewrite = '/api/rewritten'
  await rejectsWith(client.nenFetch('/api/echo?x=1', { method: 'POST', body: { s: SECRET } }), 'ISO-3002', 401)
  const explained = events.find((e) => e.type === 'signature-debug')
  const sent = h.sent.at(-1).headers
  assert.equal(explained.method, 'POST')
  assert.equal(explained.target, 'http://app.test/api/rewritten?x=1')
  assert.equal(explained.headers['x-nen-session'], `${sent['x-nen-session'].slice(0, 8)}… (32 characters)`)
  assert.equal(explained.headers['x-nen-timestamp'], sent['x-nen-timestamp'])
  assert.equal(explained.headers['x-nen-nonce'], sent['x-nen-nonce'])
  assert.equal(explained.headers['x-nen-signature'], `(${sent['x-nen-signature'].length} characters, not shown)`)
  assert.equal(explained.headers['x-nen-idempotency-key'], '(absent)')
  leaks(events, h.sent)
})

test('the default logger: one line per cause, rate-limited, and the debug line names the verified target', { timeout: 60000 }, async (t) => {
  const lines = []
  const { warn, error } = console
  console.warn = (...a) => lines.push(a.join(' '))
  console.error = (...a) => lines.push(a.join(' '))
  t.after(() => Object.assign(console, { warn, error }))
  const nen = createNen({ debug: true })
  const h = hop(app(nen))
  const client = new NenClient(BASE, { fetch: h.fetch })
  await client.nenFetch('/api/echo', { method: 'POST', body: {} })
  h.mode.rewrite = '/api/rewritten'
  for (let i = 0; i < 1000; i++) await client.nenFetch(`/api/echo?i=${i}`, { method: 'POST', body: { s: SECRET } }).catch(() => {})
  Object.assign(console, { warn, error })
  // 1000 refusals of one cause: one line; the debug explanation of one target: one line.
  assert.deepEqual(lines, [
    '[nen] refused POST /api/rewritten: ISO-3002 SIGNATURE_INVALID',
    lines.find((l) => l.startsWith('[nen] ISO-3002 explained (debug mode): the server verified POST "http://app.test/api/rewritten?i=0"')),
  ])
  assert.ok(lines[1].includes('x-nen-signature=('), lines[1])
  leaks(lines, h.sent)
})

test('store events: a Redis outage (ISO-8001) and instances with different wrapping keys (ISO-8002), with latency', { timeout: 60000 }, async (t) => {
  const { url } = redis.start(PORT)
  t.after(() => redis.stop(PORT))
  const events = []
  const store = (wrappingKey) => ({ kind: 'redis', url, wrappingKey, timeoutMs: 300 })
  const a = createNen({ store: store(KEY_A), onEvent: (e) => events.push({ on: 'a', ...e }) })
  const b = createNen({ store: store(KEY_B), onEvent: (e) => events.push({ on: 'b', ...e }) })
  const routerA = app(a)
  const routerB = app(b)
  let to = routerA
  const h = hop((req) => to(req))
  const client = new NenClient(BASE, { fetch: h.fetch })
  await client.nenFetch('/api/echo', { method: 'POST', body: { s: SECRET } })
  const latency = events.filter((e) => e.type === 'store-latency')
  assert.deepEqual(
    latency.map((e) => e.op),
    ['handshake', 'open'],
  )
  for (const e of latency) assert.ok(e.ms > 0 && e.ms < 5000, String(e.ms))

  // Redis goes away: requests fail closed with ISO-8001, reported as an outage.
  redis.stop(PORT)
  await rejectsWith(client.nenFetch('/api/echo', { method: 'POST', body: { s: SECRET } }), 'ISO-8001', 503)
  assert.deepEqual(events.at(-1), { on: 'a', type: 'store', code: 'ISO-8001', problem: 'unavailable', op: 'open', method: 'POST', path: '/api/echo' })
  redis.start(PORT)

  // A session wrapped by instance a, opened by b, which holds another key: ISO-8002.
  const fresh = new NenClient(BASE, { fetch: h.fetch })
  await fresh.nenFetch('/api/echo', { method: 'POST', body: { s: SECRET } })
  to = routerB
  await fresh.nenFetch('/api/echo', { method: 'POST', body: { s: SECRET } }).catch(() => {})
  const mismatch = events.find((e) => e.on === 'b' && e.type === 'store')
  assert.deepEqual(mismatch, { on: 'b', type: 'store', code: 'ISO-8002', problem: 'entry-invalid', op: 'open', method: 'POST', path: '/api/echo' })
  leaks(events, h.sent)
})

test('the engine fallback names the missing platform package, once, in the default log line', { timeout: 60000 }, () => {
  const dist = fileURLToPath(new URL('../dist/index.mjs', import.meta.url))
  const script = `
    const { createNen } = await import(${JSON.stringify(dist)})
    const events = []
    await createNen({ onEvent: (e) => events.push(e) }).engine()
    await createNen().engine()
    await createNen().engine()
    console.log(JSON.stringify(events))`
  // The addon's binary is made unloadable the way a missing platform package leaves it.
  const r = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/nen.node' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const [event] = JSON.parse(r.trim().split('\n').at(-1))
  const platform = process.platform === 'linux' ? `linux-${process.arch}-gnu` : `${process.platform}-${process.arch}`
  assert.equal(event.type, 'engine')
  assert.equal(event.engine, 'wasm')
  assert.equal(event.fallback, true)
  assert.equal(event.missingPackage, `@withnen/server-native-${platform}`)
  assert.match(event.reason, new RegExp(`the prebuilt binary for ${platform} did not load`))
})

test('the default logger reports the fallback once per configuration, on stderr', { timeout: 60000 }, () => {
  const dist = fileURLToPath(new URL('../dist/index.mjs', import.meta.url))
  const script = `const { createNen } = await import(${JSON.stringify(dist)}); const n = createNen(); await n.engine(); await n.engine()`
  let stderr = ''
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/nen.node' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (e) {
    assert.fail(String(e.stderr))
  }
  // execFileSync hides stderr on success: run again capturing it.
  const { spawnSync } = require('node:child_process')
  stderr = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/nen.node' } }).stderr
  const lines = stderr.split('\n').filter((l) => l.startsWith('[nen]'))
  assert.equal(lines.length, 1, stderr)
  assert.match(
    lines[0],
    /^\[nen\] running on the WebAssembly engine: the native addon did not load \(missing package @withnen\/server-native-[\w-]+\): @withnen\/server-native: the prebuilt binary for /,
  )
})
