// An adversarial suite over real HTTP on loopback, against the real servers: the node:http
// adapters (native engine), Express 5 and Fastify 5 (native engine) and the Web handlers on the WebAssembly
// engine behind a node:http bridge. Each kind runs as two instances sharing one real Redis (the
// WASM one through the Upstash REST shim in front of that Redis), as a deployment behind a load
// balancer would. One table of attacks is applied to every kind: every signed header and the
// body's `ct` flipped, dropped, duplicated on the wire and swapped between two requests; the
// method and target re-spelled; replays (same instance, the other instance, across a rotation,
// after terminate); a response swapped between two concurrent requests; stream frames
// reordered, dropped, duplicated and cut; bodies over the limit, cut off, sent slowly and
// malformed; malformed headers; a handshake flood against `handshakeBudget`. Requests are
// written as exact HTTP/1.1 bytes on a socket (`net.connect`), so a header can be sent twice and
// any request line spelt. Each case asserts the exact status and ISO code (docs/error-codes.md)
// and that no handler ran (the handlers count their runs server-side); after each refusal the
// honest request is sent and must run its handler once (the refusal consumed nothing). The
// suite prints one summary line per kind and a total.
//
// Found by this suite, and left failing until nen-core is fixed (3 cases per kind): its envelopes
// are serde-derived structs, which also take the sequence form, so a JSON array is accepted where
// PROTOCOL.md asks for one object (a request body `["<ct>"]`, a handshake request, and in the
// client a response `["<ct>","<n>"]`). What is inside is still authenticated.
//
// Not repeated here: route confusion against routers (route-confusion.test.mjs), the full client
// scenario (conformance.test.mjs), store faults (__test__/faults.test.js).

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import express from 'express'
import Fastify from 'fastify'
import { createNen, createNenRoute, withNen, withNenStream, RedisSessionStore, UpstashSessionStore } from '../dist/index.mjs'
import { nenNodeHandler, nenNodeRoutes, withNenStreamNode } from '../dist/node.mjs'
import { nenExpress, withNenExpress, withNenStreamExpress } from '../dist/express.mjs'
import { nenFastify, withNenFastify, withNenStreamFastify } from '../dist/fastify.mjs'
import { NenClient, ClientNenError, createNenStream } from './support/app.mjs'
import { startUpstash } from './support/upstash.mjs'
import {
  G,
  HEADER_CASES,
  K,
  N,
  S,
  T,
  V,
  assertRefused as refused,
  clientCore,
  ct,
  exchange,
  flipB64,
  get,
  printSummary,
  rawSession,
  runCases,
  set,
  signReq,
  wire,
  withBody,
} from './support/adversarial.mjs'

const require = createRequire(import.meta.url)
const redisSupport = require('../../../__test__/support/redis.js')

// This suite's own loopback ports (16740-16749); never the machine's 6379.
const REDIS_PORT = 16740
const TOKEN = `adversarial-${randomBytes(8).toString('hex')}`
const wrappingKey = randomBytes(32).toString('base64')
const MAX_BODY = 4096
const MAX_HANDSHAKE = 4096
// node:http's own limits (Node 20: headersTimeout 60 s, requestTimeout 300 s, checked every
// connectionsCheckingInterval = 30 s, so a slow-loris connection is held up to ~330 s by
// default). Shortened here so the suite stays fast; the assertion is that node, not Nen, bounds
// a slow request, and that the bound is these settings plus the checking interval.
const HEADERS_TIMEOUT = 800
const REQUEST_TIMEOUT = 1200
const CHECK_INTERVAL = 100
// Slack over the configured bound: event-loop scheduling on a loaded 2-core machine.
const SLACK = 1500
const TOKENS = ['alpha ', 'bravo ', 'charlie ', 'delta']

let redis
let upstash

before(async () => {
  redis = redisSupport.start(REDIS_PORT)
  upstash = await startUpstash(REDIS_PORT, TOKEN)
})

after(async () => {
  printSummary()
  await upstash?.close()
  if (redis) redisSupport.stop(REDIS_PORT)
})

// ---------------------------------------------------------------------------------------------
// The application: a JSON route and a stream route, counting their runs.

function createApp() {
  const counts = { json: 0, stream: 0 }
  return {
    counts,
    json: (body) => {
      counts.json++
      return { echo: body }
    },
    stream: () => {
      counts.stream++
      return (async function* () {
        for (const t of TOKENS) yield t
      })()
    },
    snapshot: () => ({ ...counts }),
  }
}

const isStream = (url) => url === '/api/stream'

function nodeKind(nen, app) {
  const routes = nenNodeRoutes({ nen })
  const json = nenNodeHandler((body) => app.json(body), { nen })
  const stream = withNenStreamNode(() => app.stream(), { nen })
  // Every other target reaches a Nen handler, so that each re-spelling is verified.
  return (req, res) => {
    if (routes(req, res)) return
    ;(isStream(req.url) ? stream : json)(req, res)
  }
}

function expressKind(nen, app) {
  const e = express()
  e.use(nenExpress({ nen }))
  e.post(
    '/api/stream',
    withNenStreamExpress(() => app.stream(), { nen }),
  )
  e.use(withNenExpress((body) => app.json(body), { nen }))
  return e
}

/**
 * Fastify 5 with the Nen plugin, every target routed to a Nen handler (a wildcard route). The
 * suite's own node:http server (its short timeouts) runs Fastify's handler: `serverFactory`.
 */
function fastifyKind(nen, app) {
  let handle
  const f = Fastify({
    serverFactory: (h) => {
      handle = h
      return http.createServer()
    },
  })
  f.register(nenFastify, {
    nen,
    routes(scope) {
      scope.post(
        '/api/stream',
        withNenStreamFastify(() => app.stream(), { nen }),
      )
      scope.all(
        '/*',
        withNenFastify((body) => app.json(body), { nen }),
      )
    },
  })
  const ready = f.ready()
  return (req, res) => void ready.then(() => handle(req, res))
}

/**
 * The Web handlers behind node:http, as a custom server building Web Requests does (the
 * request line reaches `signedTarget` through the diagnostics-channel hook).
 */
function webKind(nen, app) {
  const routes = createNenRoute({ nen })
  const json = withNen((req, body) => app.json(body), { nen })
  const stream = withNenStream(() => app.stream(), { nen })
  const handle = (request) => {
    const path = new URL(request.url).pathname
    if (path.startsWith('/api/nen/')) return request.method === 'GET' ? routes.GET(request) : routes.POST(request)
    return (isStream(path) ? stream : json)(request, {})
  }
  return async (req, res) => {
    const ac = new AbortController()
    res.on('close', () => ac.abort())
    const headers = new Headers()
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1])
    const url = req.url.startsWith('/') ? `http://${req.headers.host ?? 'localhost'}${req.url}` : req.url
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    let response
    try {
      const request = new Request(url, { method: req.method, headers, body: hasBody ? Readable.toWeb(req) : undefined, duplex: 'half', signal: ac.signal })
      response = await handle(request)
    } catch {
      res.writeHead(400).end()
      return
    }
    res.writeHead(response.status, Object.fromEntries(response.headers))
    if (!response.body) return res.end()
    res.flushHeaders()
    try {
      for await (const chunk of response.body) res.write(chunk)
    } catch {}
    res.end()
  }
}

/** A node:http server on a free loopback port, with short request timeouts (see above). */
function listen(handler) {
  const server = http.createServer({ connectionsCheckingInterval: CHECK_INTERVAL }, handler)
  server.headersTimeout = HEADERS_TIMEOUT
  server.requestTimeout = REQUEST_TIMEOUT
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        port: server.address().port,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections()
            server.close(r)
          }),
      }),
    ),
  )
}

const quiet = { onError: () => {}, maxBodyBytes: MAX_BODY, maxHandshakeBytes: MAX_HANDSHAKE, rotationGraceMs: 20_000 }

/** [name, engine, adapter, store factory (a fresh one per instance, sharing one Redis)]. */
const KINDS = [
  ['node:http (native)', 'native', nodeKind, () => RedisSessionStore({ url: redis.url, wrappingKey, keyPrefix: 'adv-node:' })],
  ['Express 5 (native)', 'native', expressKind, () => RedisSessionStore({ url: redis.url, wrappingKey, keyPrefix: 'adv-express:' })],
  ['Fastify 5 (native)', 'native', fastifyKind, () => RedisSessionStore({ url: redis.url, wrappingKey, keyPrefix: 'adv-fastify:' })],
  ['Web handlers (WASM)', 'wasm', webKind, () => UpstashSessionStore({ url: upstash.url, token: TOKEN, wrappingKey, keyPrefix: 'adv-web:' })],
]

/**
 * [label, mutate(a, base), [status, code], per-kind exceptions]: the method and the target
 * re-spelt.
 */
const TARGET_CASES = [
  // node:http's parser refuses these before any JavaScript runs: a bare 400, no Nen code.
  ['method lower case (post)', (a) => ({ ...a, method: 'post' }), [400, null]],
  ['method mixed case (Post)', (a) => ({ ...a, method: 'Post' }), [400, null]],
  ['method PUT for a signed POST', (a) => ({ ...a, method: 'PUT' }), [401, 'ISO-3002']],
  ['method DELETE for a signed POST', (a) => ({ ...a, method: 'DELETE' }), [401, 'ISO-3002']],
  // A Web Request cannot carry a body on GET: the bridge (as any Fetch runtime) drops it, so the
  // server sees a bodiless GET, whose signature says a body was there.
  ['method GET for a signed POST (body kept)', (a) => ({ ...a, method: 'GET' }), [400, 'ISO-6003'], { 'Web handlers (WASM)': [401, 'ISO-3002'] }],
  // Fastify routes only the methods it knows (PURGE is not one): its own 404, before any handler.
  ['method PURGE', (a) => ({ ...a, method: 'PURGE' }), [405, 'ISO-6004'], { 'Fastify 5 (native)': [404, null] }],
  ['path upper-cased (/API/echo)', (a) => ({ ...a, target: '/API/echo?x=1' }), [401, 'ISO-3002']],
  ['path percent-encoded (/api/%65cho)', (a) => ({ ...a, target: '/api/%65cho?x=1' }), [401, 'ISO-3002']],
  ['path percent-encoded, lower-case escape of `/` (/api%2fecho)', (a) => ({ ...a, target: '/api%2fecho?x=1' }), [401, 'ISO-3002']],
  ['query percent-encoded (x=%31)', (a) => ({ ...a, target: '/api/echo?x=%31' }), [401, 'ISO-3002']],
  ['a leading // (//api/echo)', (a) => ({ ...a, target: '//api/echo?x=1' }), [401, 'ISO-3002']],
  ['a double slash inside (/api//echo)', (a) => ({ ...a, target: '/api//echo?x=1' }), [401, 'ISO-3002']],
  ['a dot segment (/api/./echo)', (a) => ({ ...a, target: '/api/./echo?x=1' }), [401, 'ISO-3002']],
  ['a dot-dot segment (/api/x/../echo)', (a) => ({ ...a, target: '/api/x/../echo?x=1' }), [401, 'ISO-3002']],
  ['encoded dot-dot (/api/x/%2e%2e/echo)', (a) => ({ ...a, target: '/api/x/%2e%2e/echo?x=1' }), [401, 'ISO-3002']],
  ['the query dropped', (a) => ({ ...a, target: '/api/echo' }), [401, 'ISO-3002']],
  ['a trailing & on the query', (a) => ({ ...a, target: '/api/echo?x=1&' }), [401, 'ISO-3002']],
  ['a fragment appended', (a) => ({ ...a, target: '/api/echo?x=1#f' }), [400, 'ISO-6005']],
  ['absolute-form, its own origin', (a, base) => ({ ...a, target: `${base}/api/echo?x=1` }), [400, 'ISO-6005']],
  ['absolute-form, another authority', (a) => ({ ...a, target: 'http://evil.example/api/echo?x=1' }), [400, 'ISO-6005']],
]

// ---------------------------------------------------------------------------------------------

for (const [kind, engine, adapter, makeStore] of KINDS) {
  describe(`adversarial: ${kind}`, () => {
    let app
    let servers
    let A
    let B
    let budget
    before(async () => {
      app = createApp()
      servers = []
      for (let i = 0; i < 2; i++) servers.push(await listen(adapter(createNen({ engine, store: makeStore(), ...quiet }), app)))
      ;[A, B] = servers.map((s) => s.url)
      budget = await listen(adapter(createNen({ engine, onError: () => {}, handshakeBudget: { perSecond: 1, burst: 3 } }), createApp()))
    })
    after(() => Promise.all([...servers.map((s) => s.close()), budget?.close()]))

    /** The handler counters moved by exactly `delta` ({ json, stream }) while `fn` ran. */
    async function ran(delta, fn) {
      const before = app.snapshot()
      const out = await fn()
      const moved = { json: app.counts.json - before.json, stream: app.counts.stream - before.stream }
      assert.deepEqual(moved, { json: 0, stream: 0, ...delta }, `handlers that ran: ${JSON.stringify(moved)}`)
      return out
    }

    /** Sends the honest `r` and checks it is answered sealed for it, its handler run once. */
    async function honest(session, r, base = A) {
      const reply = await ran({ json: 1 }, () => wire(base, r))
      assert.equal(reply.status, 200, `the honest request: ${reply.status} ${reply.text.slice(0, 160)}`)
      // The handler saw the body as signed (the client core's own body), answered sealed for it.
      return JSON.parse(session.open(r.signed, 200, reply.text))
    }

    test('signed headers and ct: flipped, dropped, duplicated on the wire, swapped', async () => {
      const session = await rawSession(A)
      const otherSession = await rawSession(A)
      await runCases(
        kind,
        HEADER_CASES.map(([label, mutate, expected]) => [
          label,
          expected[0] === 200 ? 'accepted' : 'refused',
          async () => {
            const a = signReq(session)
            const b = signReq(session, { ts: Date.now() - 1000 })
            const other = signReq(otherSession)
            const bad = mutate(a, { b, other })
            if (expected[0] === 200) return honest(session, bad)
            refused(await ran({}, () => wire(A, bad)), expected)
            // Nothing was consumed: the honest request still runs, once.
            await honest(session, a)
          },
        ]),
      )
    })

    test('method and target re-spelt', async () => {
      const session = await rawSession(A)
      await runCases(
        kind,
        TARGET_CASES.map(([label, mutate, expected, except = {}]) => [
          label,
          'refused',
          async () => {
            const a = signReq(session)
            refused(await ran({}, () => wire(A, mutate(a, A))), except[kind] ?? expected)
            await honest(session, a)
          },
        ]),
      )
    })

    test('malformed headers and bodies', async () => {
      const session = await rawSession(A)
      const line = (a, extra) => {
        const { port } = new URL(A)
        const head = [`${a.method} ${a.target} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close', ...a.headers.map(([k, v]) => `${k}: ${v}`), ...extra]
        return `${head.join('\r\n')}\r\ncontent-length: ${Buffer.byteLength(a.body)}\r\n\r\n${a.body}`
      }
      const raw = (text) => exchange(A, [text])
      /** [label, (a) => reply, [status, code]] */
      const cases = [
        ['x-nen-timestamp not decimal (12e3)', (a) => wire(A, set(a, T, '12e3')), [401, 'ISO-3008']],
        ['x-nen-timestamp of 17 digits', (a) => wire(A, set(a, T, '1'.repeat(17))), [401, 'ISO-3008']],
        ['x-nen-timestamp two minutes old (re-signed as such)', () => wire(A, signReq(session, { ts: Date.now() - 120_000 })), [401, 'ISO-3003']],
        ['x-nen-signature not base64', (a) => wire(A, set(a, G, '*'.repeat(44))), [400, 'ISO-6002']],
        ['x-nen-signature of 31 bytes', (a) => wire(A, set(a, G, randomBytes(31).toString('base64'))), [400, 'ISO-6002']],
        ['x-nen-nonce of 11 bytes', (a) => wire(A, set(a, N, randomBytes(11).toString('base64'))), [400, 'ISO-6002']],
        ['x-nen-nonce with a trailing =', (a) => wire(A, set(a, N, `${get(a, N)}=`)), [400, 'ISO-6002']],
        ['x-nen-session of 31 hex digits', (a) => wire(A, set(a, S, get(a, S).slice(1))), [401, 'ISO-2002']],
        // Present, though empty: a malformed id (§5.4), not a missing header.
        ['x-nen-session empty', (a) => wire(A, set(a, S, '')), [401, 'ISO-2002']],
        ['x-nen-idempotency-key with a space', (a) => wire(A, set(a, K, 'a b')), [400, 'ISO-6006']],
        ['x-nen-idempotency-key of 129 bytes', (a) => wire(A, set(a, K, 'k'.repeat(129))), [400, 'ISO-6006']],
        ['x-nen-version 01', (a) => wire(A, set(a, V, '01')), [400, 'ISO-1005']],
        // node:http's parser: refused before any JavaScript runs.
        ['a header line without a colon', (a) => raw(line(a, ['x-nen-broken'])), [400, null]],
        ['a control character in a header value', (a) => raw(line(a, ['x-app: a\x01b'])), [400, null]],
        ['an obsolete line folding', (a) => raw(line(a, ['x-app: a', ' folded'])), [400, null]],
        ['a header section over 16 KiB', (a) => raw(line(a, [`x-pad: ${'p'.repeat(17 * 1024)}`])), [431, null]],
        ['two different content-lengths', (a) => raw(line(a, ['content-length: 3'])), [400, null]],
        ['content-length and transfer-encoding together', (a) => raw(line(a, ['transfer-encoding: chunked'])), [400, null]],
        // Bodies.
        ['malformed JSON ({"ct":)', (a) => wire(A, withBody(a, '{"ct":')), [400, 'ISO-6001']],
        ['a body that is not JSON', (a) => wire(A, withBody(a, 'hello')), [400, 'ISO-6001']],
        // §5.4: the body is a JSON *object* with exactly one field. Found by this suite: nen-core's
        // serde-derived envelope also takes the sequence form, so `["<ct>"]` is accepted.
        ['a JSON array holding the ct (the envelope as a sequence)', (a) => wire(A, withBody(a, `["${ct(a)}"]`)), [400, 'ISO-6001']],
        ['ct a number', (a) => wire(A, withBody(a, '{"ct":12}')), [400, 'ISO-6001']],
        ['ct malformed base64 (@)', (a) => wire(A, withBody(a, '{"ct":"@@@@@@@@@@@@@@@@@@@@@@@@"}')), [400, 'ISO-6002']],
        ['ct base64 without its padding', (a) => wire(A, withBody(a, JSON.stringify({ ct: ct(a).replace(/=+$/, '') }))), [400, 'ISO-6002']],
        // Not the url-safe alphabet: one `-` in place of the first char (a ct may hold no `+` or `/`).
        ['ct with a url-safe base64 char (-)', (a) => wire(A, withBody(a, JSON.stringify({ ct: `-${ct(a).slice(1)}` }))), [400, 'ISO-6002']],
        ['ct under 16 bytes', (a) => wire(A, withBody(a, JSON.stringify({ ct: randomBytes(15).toString('base64') }))), [400, 'ISO-6002']],
        ['a body over maxBodyBytes (declared)', (a) => wire(A, withBody(a, JSON.stringify({ ct: randomBytes(MAX_BODY).toString('base64') }))), [413, 'ISO-4005']],
        ['a body over maxBodyBytes (chunked)', (a) => wire(A, { ...a, chunks: Array.from({ length: 6 }, () => 'x'.repeat(1024)) }), [413, 'ISO-4005']],
        ['a handshake over maxHandshakeBytes', () => wire(A, { method: 'POST', target: '/api/nen/handshake', body: `{"v":1,${' '.repeat(MAX_HANDSHAKE)}}` }), [413, 'ISO-1008']],
        ['a handshake that is not JSON', () => wire(A, { method: 'POST', target: '/api/nen/handshake', body: '{"v":1,' }), [400, 'ISO-6001']],
        ['a handshake with a malformed base64 key', () => wire(A, { method: 'POST', target: '/api/nen/handshake', body: handshakeWith((h) => (h.ek = `*${h.ek.slice(1)}`)) }), [400, 'ISO-6002']],
        [
          // Decodes, but is not an ML-KEM-768 key: a rejected key (ISO-1002), not a decoding failure.
          'a handshake with a key one byte short',
          () => wire(A, { method: 'POST', target: '/api/nen/handshake', body: handshakeWith((h) => (h.ek = Buffer.from(h.ek, 'base64').subarray(1).toString('base64'))) }),
          [400, 'ISO-1002'],
        ],
        // §4.1: one JSON object. Same finding as the request envelope: the array form is accepted.
        ['a handshake as a JSON array', () => wire(A, { method: 'POST', target: '/api/nen/handshake', body: handshakeWith((h) => Object.assign(h, { asArray: true })) }), [400, 'ISO-6001']],
        ['a handshake without its key', () => wire(A, { method: 'POST', target: '/api/nen/handshake', body: handshakeWith((h) => delete h.ek) }), [400, 'ISO-1001']],
      ]
      await runCases(
        kind,
        cases.map(([label, send, expected]) => [
          label,
          'refused',
          async () => {
            const a = signReq(session)
            refused(await ran({}, () => send(a)), expected)
            await honest(session, a)
          },
        ]),
      )
    })

    test('replays: the same instance, the other instance (shared Redis), across a rotation, after terminate', async () => {
      const session = await rawSession(A)
      const cases = []
      const replay = (label, prepare, to, expected, delta = {}) =>
        cases.push([
          label,
          'refused',
          async () => {
            const r = await prepare()
            refused(await ran(delta, () => wire(to(), r)), expected)
          },
        ])
      const accepted = (label, fn) => cases.push([label, 'accepted', fn])
      const sent = async (s = session, base = A) => {
        const r = signReq(s)
        await honest(s, r, base)
        return r
      }
      replay(
        'replayed to the same instance',
        () => sent(),
        () => A,
        [401, 'ISO-5001'],
      )
      replay(
        'replayed to the other instance',
        () => sent(),
        () => B,
        [401, 'ISO-5001'],
      )
      replay(
        'sent to the other instance, replayed to the first',
        () => sent(session, B),
        () => A,
        [401, 'ISO-5001'],
      )
      let captured
      replay(
        'replayed with a plain header added',
        async () => {
          captured = await sent()
          return { ...captured, headers: [...captured.headers, ['idempotency-key', 'x']] }
        },
        () => B,
        [401, 'ISO-5001'],
      )
      replay(
        'replayed a second time',
        () => captured,
        () => A,
        [401, 'ISO-5001'],
      )
      // A stream request: the stream handler ran once.
      replay(
        'a stream request replayed to the other instance',
        async () => {
          const r = signReq(session, { target: '/api/stream', idem: null })
          const first = await ran({ stream: 1 }, () => wire(A, r))
          assert.equal(first.status, 200)
          assert.match(first.headers['content-type'], /^text\/event-stream/)
          return r
        },
        () => B,
        [401, 'ISO-5001'],
      )

      // Across a rotation (the old session lives on for its grace).
      const old = await rawSession(A)
      const beforeRotation = await sent(old)
      const unsent = signReq(old)
      const rot = old.beginRotation('hybrid')
      const rotate = signReq(old, { target: '/api/nen/rotate', json: rot.body, idem: null })
      const r1 = await wire(A, rotate)
      assert.equal(r1.status, 200, `rotate: ${r1.text}`)
      const next = rot.finish(old.open(rotate.signed, 200, r1.text))
      replay(
        'replayed after a rotation, same instance',
        () => beforeRotation,
        () => A,
        [401, 'ISO-5001'],
      )
      replay(
        'replayed after a rotation, other instance',
        () => beforeRotation,
        () => B,
        [401, 'ISO-5001'],
      )
      replay(
        'the rotate request itself replayed',
        () => rotate,
        () => B,
        [401, 'ISO-5001'],
      )
      accepted('signed before the rotation, first sent after it (within the grace)', () => honest(old, unsent, B))
      replay(
        'that one replayed',
        () => unsent,
        () => A,
        [401, 'ISO-5001'],
      )
      accepted('the successor session works on both instances', async () => {
        await sent(next, A)
        await sent(next, B)
      })
      cases.push([
        'a second rotation of the old session: sealed ISO-2004',
        'refused',
        async () => {
          const again = signReq(old, { target: '/api/nen/rotate', json: old.beginRotation('hybrid').body, idem: null })
          const reply = await ran({}, () => wire(B, again))
          assert.equal(reply.status, 409)
          assert.throws(
            () => old.open(again.signed, 409, reply.text),
            (e) => e.code === 'ISO-2004' && e.authenticated === true,
          )
        },
      ])

      // After terminate.
      const doomed = await rawSession(A)
      const beforeEnd = await sent(doomed)
      const unsentEnd = signReq(doomed)
      const term = signReq(doomed, { target: '/api/nen/terminate', json: undefined, idem: null })
      const t = await wire(A, term)
      assert.equal(t.status, 200)
      assert.equal(JSON.parse(doomed.open(term.signed, 200, t.text)).terminated, true)
      replay(
        'replayed after terminate, same instance',
        () => beforeEnd,
        () => A,
        [401, 'ISO-2002'],
      )
      replay(
        'replayed after terminate, other instance',
        () => beforeEnd,
        () => B,
        [401, 'ISO-2002'],
      )
      replay(
        'signed before terminate, first sent after it',
        () => unsentEnd,
        () => B,
        [401, 'ISO-2002'],
      )
      replay(
        'the terminate request itself replayed',
        () => term,
        () => B,
        [401, 'ISO-2002'],
      )
      await runCases(kind, cases)
    })

    test('a response swapped between two concurrent requests: the client refuses both (ISO-4004)', async () => {
      /** A fetch that holds the answers to the next two requests and hands each the other's. */
      const swapper = (mutate = (x) => x) => {
        const waiting = []
        return async (url, init) => {
          const res = await fetch(url, init)
          if (String(url).includes('/api/nen/handshake')) return res
          const mine = { status: res.status, headers: res.headers, text: await res.text() }
          return new Promise((resolve) => {
            waiting.push({ mine, resolve })
            if (waiting.length === 2) {
              const [x, y] = waiting
              x.resolve(mutate(new Response(y.mine.text, { status: y.mine.status, headers: y.mine.headers })))
              y.resolve(mutate(new Response(x.mine.text, { status: x.mine.status, headers: x.mine.headers })))
            }
          })
        }
      }
      const expectBoth = async (promises) => {
        for (const p of promises) {
          const err = await p.then(
            (r) => assert.fail(`accepted a swapped response (${r.status})`),
            (e) => e,
          )
          assert.ok(err instanceof ClientNenError, String(err?.stack ?? err))
          assert.equal(err.code, 'ISO-4004')
          assert.equal(err.authenticated, false)
        }
      }
      await runCases(kind, [
        [
          'two requests of one session, answers swapped',
          'refused',
          async () => {
            const client = new NenClient(A, { fetch: swapper() })
            await client.handshake()
            await ran({ json: 2 }, () => expectBoth([client.nenFetch('/api/echo', { method: 'POST', body: { i: 1 } }), client.nenFetch('/api/echo', { method: 'POST', body: { i: 2 } })]))
          },
        ],
        [
          'two sessions, answers swapped',
          'refused',
          async () => {
            const f = swapper()
            const c1 = new NenClient(A, { fetch: f })
            const c2 = new NenClient(B, { fetch: f })
            await Promise.all([c1.handshake(), c2.handshake()])
            await ran({ json: 2 }, () => expectBoth([c1.nenFetch('/api/echo', { method: 'PUT', body: { i: 1 } }), c2.nenFetch('/api/echo', { method: 'PUT', body: { i: 2 } })]))
          },
        ],
        [
          'a HEAD and a GET, answers swapped',
          'refused',
          async () => {
            const client = new NenClient(A, { fetch: swapper() })
            await client.handshake()
            await ran({ json: 2 }, () => expectBoth([client.nenFetch('/api/echo', { method: 'HEAD' }), client.nenFetch('/api/echo')]))
          },
        ],
        [
          'the status rewritten (200 → 201)',
          'refused',
          async () => {
            const client = new NenClient(A, {
              fetch: async (url, init) => {
                const res = await fetch(url, init)
                if (String(url).includes('/api/nen/handshake')) return res
                return new Response(await res.text(), { status: 201, headers: res.headers })
              },
            })
            await ran({ json: 1 }, () => expectBoth([client.nenFetch('/api/echo', { method: 'POST', body: {} })]))
          },
        ],
        [
          // Found by this suite: the client's serde-derived envelope takes `["ct","n"]` too.
          'the response envelope re-spelt as a JSON array',
          'refused',
          async () => {
            const client = new NenClient(A, {
              fetch: async (url, init) => {
                const res = await fetch(url, init)
                if (String(url).includes('/api/nen/handshake')) return res
                const env = JSON.parse(await res.text())
                return new Response(JSON.stringify([env.ct, env.n]), { status: res.status, headers: res.headers })
              },
            })
            await ran({ json: 1 }, () => expectBoth([client.nenFetch('/api/echo', { method: 'POST', body: {} })]))
          },
        ],
        [
          'an honest pair, not swapped (control)',
          'accepted',
          async () => {
            const client = new NenClient(A)
            const [x, y] = await ran({ json: 2 }, () =>
              Promise.all([client.nenFetch('/api/echo', { method: 'POST', body: { i: 1 } }), client.nenFetch('/api/echo', { method: 'POST', body: { i: 2 } })]),
            )
            assert.deepEqual([await x.json(), await y.json()], [{ echo: { i: 1 } }, { echo: { i: 2 } }])
          },
        ],
      ])
    })

    test('stream frames reordered, dropped, duplicated, cut: the client refuses', async () => {
      /** A fetch that rewrites a stream's frames (and headers) before the client reads them. */
      const rewriting = (edit) => async (url, init) => {
        const res = await fetch(url, init)
        if (!String(url).endsWith('/api/stream')) return res
        const text = await res.text()
        const frames = text.split('\n\n').filter((f) => f !== '')
        const headers = new Headers(res.headers)
        const out = await edit(frames, headers)
        return new Response(typeof out === 'string' ? out : out.map((f) => `${f}\n\n`).join(''), { status: res.status, headers })
      }
      /** Another stream's frames and nonce header, from a second session. */
      const otherStream = async () => {
        const c = new NenClient(B, {
          fetch: async (url, init) => {
            const res = await fetch(url, init)
            if (String(url).endsWith('/api/stream')) {
              const text = await res.text()
              otherStream.got = { nonce: res.headers.get('x-nen-stream-nonce'), frames: text.split('\n\n').filter((f) => f !== '') }
              return new Response(text, { status: res.status, headers: res.headers })
            }
            return res
          },
        })
        for await (const _ of createNenStream(c)('/api/stream', { body: {} })) {
        }
        return otherStream.got
      }
      const flipFrame = (f) => {
        const i = f.indexOf('data: ') + 10
        return f.slice(0, i) + (f[i] === 'A' ? 'B' : 'A') + f.slice(i + 1)
      }
      /** [label, edit(frames, headers), code]; frames: 4 data frames then the end frame. */
      const cases = [
        ['frames 0 and 1 swapped', (f) => [f[1], f[0], ...f.slice(2)], 'ISO-7004'],
        ['frame 1 dropped', (f) => [f[0], ...f.slice(2)], 'ISO-7004'],
        ['frame 1 duplicated', (f) => [f[0], f[1], ...f.slice(1)], 'ISO-7004'],
        ['the end frame duplicated', (f) => [...f, f.at(-1)], 'ISO-7004'],
        ['the end frame moved up (frames 2 and 3 dropped)', (f) => [f[0], f[1], f.at(-1)], 'ISO-7004'],
        ['the end frame dropped (cut at a frame boundary)', (f) => f.slice(0, -1), 'ISO-7003'],
        ['cut in the middle of a frame', (f) => `${f.slice(0, 2).join('\n\n')}\n\n${f[2].slice(0, 20)}`, 'ISO-7003'],
        ['cut in the middle of the end frame', (f) => `${f.slice(0, -1).join('\n\n')}\n\n${f.at(-1).slice(0, -10)}`, 'ISO-7003'],
        ['everything cut (empty body)', () => '', 'ISO-7003'],
        ['one char of frame 2 changed', (f) => [f[0], f[1], flipFrame(f[2]), ...f.slice(3)], 'ISO-7004'],
        ['a data frame relabelled `event: end`', (f) => [f[0], `event: end\n${f[1]}`, ...f.slice(2)], 'ISO-7004'],
        ['an unknown event on a frame', (f) => [f[0], `event: other\n${f[1]}`, ...f.slice(2)], 'ISO-7004'],
        [
          'x-nen-stream-nonce dropped',
          (f, h) => {
            h.delete('x-nen-stream-nonce')
            return f
          },
          'ISO-7001',
        ],
        [
          'x-nen-stream-nonce flipped (one bit)',
          (f, h) => {
            h.set('x-nen-stream-nonce', flipB64(h.get('x-nen-stream-nonce')))
            return f
          },
          'ISO-7004',
        ],
        [
          'x-nen-stream-nonce swapped with another stream’s',
          async (f, h) => {
            h.set('x-nen-stream-nonce', (await otherStream()).nonce)
            return f
          },
          'ISO-7004',
        ],
        [
          'the frames of another stream (with its nonce header)',
          async (f, h) => {
            const o = await otherStream()
            h.set('x-nen-stream-nonce', o.nonce)
            return o.frames
          },
          'ISO-7004',
        ],
        ['frame 1 of another stream spliced in', async (f) => [f[0], (await otherStream()).frames[1], ...f.slice(2)], 'ISO-7004'],
      ]
      await runCases(kind, [
        ...cases.map(([label, edit, code]) => [
          label,
          'refused',
          async () => {
            const client = new NenClient(A, { fetch: rewriting(edit) })
            await client.handshake()
            const got = []
            const err = await ran({ stream: label.includes('another stream') ? 2 : 1 }, async () => {
              try {
                for await (const t of createNenStream(client)('/api/stream', { body: {} })) got.push(t)
              } catch (e) {
                return e
              }
              assert.fail(`the stream was accepted: ${JSON.stringify(got)}`)
            })
            assert.ok(err instanceof ClientNenError, String(err?.stack ?? err))
            assert.equal(err.code, code)
            // What was yielded before the refusal is a prefix of what the handler sent.
            assert.deepEqual(got, TOKENS.slice(0, got.length))
          },
        ]),
        [
          'the stream unaltered (control)',
          'accepted',
          async () => {
            const client = new NenClient(A, { fetch: rewriting((f) => f) })
            const got = []
            await ran({ stream: 1 }, async () => {
              for await (const t of createNenStream(client)('/api/stream', { body: {} })) got.push(t)
            })
            assert.deepEqual(got, TOKENS)
          },
        ],
      ])
    })

    test('bodies cut off mid-transfer and sent slowly: closed or answered in bounded time, no handler', async () => {
      const session = await rawSession(A)
      const port = new URL(A).port
      const head = (a, extra = []) => {
        const h = [`${a.method} ${a.target} HTTP/1.1`, `host: 127.0.0.1:${port}`, 'connection: close', ...a.headers.map(([k, v]) => `${k}: ${v}`), ...extra]
        return `${h.join('\r\n')}\r\n\r\n`
      }
      const bound = REQUEST_TIMEOUT + CHECK_INTERVAL + SLACK
      /** Nothing sealed, no handler; the connection ended within `ms`. */
      const ended = (reply, ms, statuses) => {
        assert.ok(reply.ms < ms, `the connection was still open after ${Math.round(reply.ms)} ms (bound ${ms})`)
        assert.ok(statuses.includes(reply.status), `status ${reply.status} (${JSON.stringify(reply.raw.slice(0, 120))}), expected one of ${statuses}`)
        assert.equal(reply.headers['x-nen-response'], undefined)
        assert.ok(!/"ct"/.test(reply.text), 'nothing sealed')
      }
      const drip = (text, every, n) => Array.from({ length: n }, (_, i) => [text[i % text.length], { wait: every }]).flat()
      /** [label, (a) => reply, check] */
      const cases = [
        [
          'declared 1000 bytes, 100 sent, then half-closed',
          (a) => exchange(A, [head(a, ['content-length: 1000']), a.body.slice(0, 100)], { halfClose: true }),
          // node:http answers an incomplete body at EOF with nothing, or a bare 400.
          (r) => ended(r, 2000, [null, 400]),
        ],
        ['declared 1000 bytes, 100 sent, then reset', (a) => exchange(A, [head(a, ['content-length: 1000']), a.body.slice(0, 100)], { destroyAfter: true }), (r) => ended(r, 2000, [null])],
        [
          'chunked, cut inside a chunk',
          (a) => exchange(A, [head(a, ['transfer-encoding: chunked']), `${(200).toString(16)}\r\n${a.body.slice(0, 50)}`], { halfClose: true }),
          (r) => ended(r, 2000, [null, 400]),
        ],
        ['headers only, then half-closed', (a) => exchange(A, [head(a, [`content-length: ${a.body.length}`])], { halfClose: true }), (r) => ended(r, 2000, [null, 400])],
        [
          'slow-loris body: one byte every 100 ms, never finished',
          (a) => exchange(A, [head(a, ['content-length: 1000']), ...drip(a.body, 100, 60)]),
          (r) => {
            // node's requestTimeout answers 408 and closes, whatever Nen is waiting for.
            ended(r, bound, [408])
            assert.ok(r.ms >= REQUEST_TIMEOUT - 50, `answered after ${r.ms} ms, before requestTimeout`)
          },
        ],
        [
          'slow-loris headers: one byte every 100 ms',
          (a) => exchange(A, [...drip(head(a), 100, 60)]),
          (r) => {
            ended(r, HEADERS_TIMEOUT + CHECK_INTERVAL + SLACK, [408])
            assert.ok(r.ms >= HEADERS_TIMEOUT - 50, `answered after ${r.ms} ms, before headersTimeout`)
          },
        ],
        [
          'a slow but complete body (within requestTimeout): accepted',
          async (a) => {
            const h = head(a, [`content-length: ${Buffer.byteLength(a.body)}`])
            const half = Math.floor(a.body.length / 2)
            return ran({ json: 1 }, () => exchange(A, [h, a.body.slice(0, half), { wait: 300 }, a.body.slice(half)]))
          },
          (r, a) => {
            assert.equal(r.status, 200)
            assert.ok(JSON.parse(session.open(a.signed, 200, r.text)).echo)
          },
        ],
      ]
      await runCases(
        kind,
        cases.map(([label, send, check]) => [
          label,
          label.endsWith('accepted') ? 'accepted' : 'refused',
          async () => {
            const a = signReq(session)
            if (label.endsWith('accepted')) return check(await send(a), a)
            check(await ran({}, () => send(a)), a)
            // The server is still serving, and the cut request consumed nothing.
            await honest(session, a)
          },
        ]),
      )
    })

    test('a handshake flood against handshakeBudget (burst 3, 1/s): ISO-1009, 429', async () => {
      const bodies = Array.from({ length: 12 }, () => clientCore.ClientHandshake.start('hybrid'))
      const t0 = performance.now()
      const replies = await Promise.all(bodies.map((hs) => wire(budget.url, { method: 'POST', target: '/api/nen/handshake', body: hs.body })))
      const elapsed = performance.now() - t0
      const ok = replies.filter((r) => r.status === 200)
      // The burst, plus one token per second of the flood.
      const allowed = 3 + Math.floor(elapsed / 1000)
      const cases = replies.map((r, i) => [
        `handshake ${i + 1} of 12`,
        r.status === 200 ? 'accepted' : 'refused',
        async () => {
          if (r.status === 200) {
            assert.ok(JSON.parse(r.text).sid)
            return
          }
          refused(r, [429, 'ISO-1009'])
        },
      ])
      cases.push([
        `at most ${allowed} handshakes admitted`,
        'refused',
        async () => {
          assert.ok(ok.length >= 3 && ok.length <= allowed, `${ok.length} handshakes admitted in ${Math.round(elapsed)} ms`)
        },
      ])
      // The sessions made are not limited.
      cases.push([
        'a session made in the flood still works',
        'accepted',
        async () => {
          const i = replies.findIndex((r) => r.status === 200)
          const session = bodies[i].finish(replies[i].text)
          const r = signReq(session)
          const reply = await wire(budget.url, r)
          assert.equal(reply.status, 200)
          assert.equal(typeof JSON.parse(session.open(r.signed, 200, reply.text)).echo.n, 'number')
        },
      ])
      await runCases(kind, cases)
    })
  })
}

/** A well-formed handshake body, edited by `edit`. */
function handshakeWith(edit) {
  const h = JSON.parse(clientCore.ClientHandshake.start('hybrid').body)
  edit(h)
  return h.asArray ? JSON.stringify([h.v, h.mode, h.ek, h.x25519]) : JSON.stringify(h)
}
