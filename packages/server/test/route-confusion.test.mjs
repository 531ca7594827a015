// Route confusion over real HTTP on loopback: an on-path hop that holds no key takes a request
// the real client signed and re-sends it (same headers, same body) to a sibling route, with
// another spelling of the target or another method. The server verifies the raw target its
// router dispatches on, so every such re-send must be refused before any handler runs, on every
// stack: Express 4, Express 5, Fastify 5, Hono 4 (@hono/node-server), node:http with a router of its own matching the raw `req.url`,
// and node:http with the common `new URL(req.url, base)` router; each on the native and on the
// WebAssembly engine. Each handler counts its runs; every attack checks the exact reply the hop
// got, and that no handler other than the intended one ran (and that one at most once).
//
// Absolute-form request targets (`POST http://host/path HTTP/1.1`) are refused with ISO-6005:
// Node routers disagree about their authority (`new URL('http:///api/items')` is host `api`, path
// `/items`; parseurl reads `http://x;/api/items` as `;/api/items`), so no path Nen could verify is
// sure to be the one that runs. This suite found that; the node-io fix is what it checks.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import querystring from 'node:querystring'
import express4 from 'express4'
import express5 from 'express5'
import methodOverride from 'method-override'
import Fastify from 'fastify'
import { createNen, idempotencyKeyOf, nenResponse } from '../dist/index.mjs'
import { nenNodeHandler, nenNodeRoutes } from '../dist/node.mjs'
import { nenExpress, withNenExpress } from '../dist/express.mjs'
import { nenFastify, withNenFastify } from '../dist/fastify.mjs'
import { nenHono, withNenHono } from '../dist/hono.mjs'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { NenClient, ClientNenError } from './support/app.mjs'
import { codeOf, createHop } from './support/hop.mjs'

// ---------------------------------------------------------------------------------------------
// The application: every handler is a Nen route that counts its runs and records what it saw.

/** [name, method, path]: the routes every stack serves (Express syntax for parameters). */
const ROUTES = [
  ['items.create', 'POST', '/api/items'],
  // Static before dynamic, as an application declares them.
  ['items.purge', 'POST', '/api/items/purge-completed'],
  ['items.update', 'POST', '/api/items/:id'],
  ['items.get', 'GET', '/api/items/:id'],
  ['items.delete', 'DELETE', '/api/items/:id'],
  ['admin.deleteAll', 'POST', '/api/admin/delete-all'],
  ['orders.list', 'GET', '/api/orders'],
  ['admin.export', 'GET', '/api/admin/export'],
  ['payments', 'POST', '/api/payments'],
  ['root.items', 'POST', '/items'],
  // Express: a router mounted at /api/v2 (req.url is relative to it there).
  ['v2.create', 'POST', '/api/v2/items'],
  ['v2.deleteAll', 'POST', '/api/v2/admin/delete-all'],
]
/** Plus `fallback`: a Nen handler behind everything, so that any target reaches verification. */
const NAMES = [...ROUTES.map((r) => r[0]), 'fallback']

function createApp() {
  const counts = new Map(NAMES.map((n) => [n, 0]))
  const saw = new Map()
  const payments = { byKey: new Map(), executed: 0, calls: [] }

  function run(name, body, ctx, params, query) {
    counts.set(name, counts.get(name) + 1)
    const { req } = ctx
    saw.set(name, { method: req.method, url: req.url, originalUrl: req.originalUrl, params, query, body, idempotencyKey: ctx.idempotencyKey })
    switch (name) {
      case 'items.create':
      case 'root.items':
      case 'v2.create':
        return nenResponse({ created: body }, { status: 201 })
      case 'items.update':
        return { updated: params.id, body }
      case 'items.get':
        return { id: params.id, query }
      case 'orders.list':
        return { owner: query.owner ?? null, query }
      case 'payments': {
        // Deduplicates on the verified key only: a plain Idempotency-Key is outside the MAC.
        const key = ctx.idempotencyKey
        payments.calls.push({ key, plain: req.headers['idempotency-key'] ?? null })
        if (key !== null && payments.byKey.has(key)) return { ...payments.byKey.get(key), deduplicated: true }
        payments.executed++
        const receipt = { paymentId: `pay_${payments.executed}`, amount: body?.amount, deduplicated: false }
        if (key !== null) payments.byKey.set(key, receipt)
        return nenResponse(receipt, { status: 201 })
      }
      case 'fallback':
        return nenResponse({ error: 'no such route' }, { status: 404 })
      default:
        return { ran: name }
    }
  }

  return {
    run,
    counts,
    saw,
    payments,
    snapshot: () => new Map(counts),
  }
}

/** A plain object (Express 5 and node:querystring build null-prototype ones). */
const plain = (o) => JSON.parse(JSON.stringify(o ?? {}))

/** Express 4 or 5: the Nen routes, method-override (header and `_method`), routes, a mount. */
function expressStack(express, nen) {
  const app = createApp()
  const e = express()
  // A common legacy setup: method-override switches req.method before routing.
  e.use(methodOverride('X-HTTP-Method-Override'))
  e.use(methodOverride((req) => req.query?._method))
  e.use(nenExpress({ nen }))
  const handler = (name) => withNenExpress((body, ctx) => app.run(name, body, ctx, plain(ctx.req.params), plain(ctx.req.query)), { nen })
  const v2 = express.Router()
  for (const [name, method, path] of ROUTES) {
    if (path.startsWith('/api/v2/')) v2[method.toLowerCase()](path.slice('/api/v2'.length), handler(name))
    else e[method.toLowerCase()](path, handler(name))
  }
  e.use('/api/v2', v2)
  e.use(handler('fallback'))
  return { app, listen: () => listen(e) }
}

/**
 * Fastify 5 (find-my-way, its defaults): the Nen plugin, the routes in its scope (the /api/v2 ones
 * in a prefixed child plugin, as Fastify mounts), a wildcard route as the fallback.
 */
function fastifyStack(nen) {
  const app = createApp()
  const f = Fastify()
  const handler = (name) =>
    withNenFastify(
      (body, { request, idempotencyKey }) =>
        app.run(name, body, { req: { method: request.method, url: request.url, headers: request.headers }, idempotencyKey }, plain(request.params), plain(request.query)),
      { nen },
    )
  f.register(nenFastify, {
    nen,
    routes(scope) {
      for (const [name, method, path] of ROUTES) if (!path.startsWith('/api/v2/')) scope.route({ method, url: path, handler: handler(name) })
      scope.register(
        async (v2) => {
          for (const [name, method, path] of ROUTES) if (path.startsWith('/api/v2/')) v2.route({ method, url: path.slice('/api/v2'.length), handler: handler(name) })
        },
        { prefix: '/api/v2' },
      )
      scope.all('/*', handler('fallback'))
    },
  })
  return {
    app,
    listen: async () => {
      await f.listen({ port: 0, host: '127.0.0.1' })
      return { url: `http://127.0.0.1:${f.server.address().port}`, close: () => f.close() }
    },
  }
}

/**
 * Hono 4 on @hono/node-server: the Web handlers through `c.req.raw` (nenHono, withNenHono), the
 * /api/v2 routes in a sub-app mounted with `app.route`, a catch-all as the fallback.
 */
function honoStack(nen) {
  const app = createApp()
  const h = new Hono()
  h.use(nenHono({ nen }))
  const handler = (name) =>
    withNenHono(
      (body, c) =>
        app.run(
          name,
          body,
          { req: { method: c.req.method, url: new URL(c.req.url).pathname + new URL(c.req.url).search, headers: Object.fromEntries(c.req.raw.headers) }, idempotencyKey: idempotencyKeyOf(c.req.raw) },
          plain(c.req.param()),
          plain(c.req.queries() && Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0] : v]))),
        ),
      { nen },
    )
  const v2 = new Hono()
  for (const [name, method, path] of ROUTES) {
    if (path.startsWith('/api/v2/')) v2.on(method, path.slice('/api/v2'.length), handler(name))
    else h.on(method, path, handler(name))
  }
  h.route('/api/v2', v2)
  h.all('*', handler('fallback'))
  return {
    app,
    listen: () =>
      new Promise((resolve) => {
        const server = serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' }, () =>
          resolve({
            url: `http://127.0.0.1:${server.address().port}`,
            close: () =>
              new Promise((r) => {
                server.closeAllConnections?.()
                server.close(r)
              }),
          }),
        )
      }),
  }
}

/**
 * node:http: the Nen routes, then a router of our own. `raw`: it matches the raw `req.url` (split
 * at the first `?`); `whatwg`: it matches `new URL(req.url, base).pathname`, the usual Node idiom
 * (and test/support/app.mjs's), which resolves dot segments and `\` and reads absolute-form.
 */
function nodeStack(router, nen) {
  const app = createApp()
  const nenRoutes = nenNodeRoutes({ nen })
  const compiled = ROUTES.map(([name, method, path]) => {
    const keys = []
    const re = new RegExp(`^${path.replace(/:(\w+)/g, (_, k) => (keys.push(k), '([^/]+)'))}$`)
    const h = nenNodeHandler((body, ctx) => app.run(name, body, ctx, ctx.req.params, ctx.req.query), { nen })
    return { method, re, keys, h }
  })
  const fallback = nenNodeHandler((body, ctx) => app.run('fallback', body, ctx, {}, ctx.req.query ?? {}), { nen })
  const split = (url) => {
    if (router === 'whatwg') {
      const u = new URL(url, 'http://localhost')
      return [u.pathname, u.search.slice(1)]
    }
    const q = url.indexOf('?')
    return q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)]
  }
  const server = (req, res) => {
    if (nenRoutes(req, res)) return
    let path, query
    try {
      ;[path, query] = split(req.url)
    } catch {
      return fallback(req, res)
    }
    req.query = plain(querystring.parse(query))
    // HEAD is answered by the GET route, as Express does.
    const methods = req.method === 'HEAD' ? ['HEAD', 'GET'] : [req.method]
    for (const r of compiled) {
      const m = methods.includes(r.method) && r.re.exec(path)
      if (!m) continue
      try {
        req.params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]))
      } catch {
        break
      }
      return r.h(req, res)
    }
    return fallback(req, res)
  }
  return { app, listen: () => listen(server) }
}

function listen(handler) {
  const server = http.createServer(handler)
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections()
            server.close(r)
          }),
      }),
    ),
  )
}

// ---------------------------------------------------------------------------------------------
// Signed originals and what the hop does with them.

const CREATE = { name: 'POST /api/items', path: '/api/items', init: { method: 'POST', body: { name: 'widget' } }, intended: 'items.create' }
const ORDERS = { name: 'GET /api/orders?owner=alice', path: '/api/orders?owner=alice', init: {}, intended: 'orders.list' }
const ORDERS2 = { name: 'GET /api/orders?owner=alice&status=open', path: '/api/orders?owner=alice&status=open', init: {}, intended: 'orders.list' }
const PURGE = { name: 'POST /api/items/purge-completed (no body)', path: '/api/items/purge-completed', init: { method: 'POST' }, intended: 'items.purge' }
const UPDATE = { name: 'POST /api/items/7', path: '/api/items/7', init: { method: 'POST', body: { done: true } }, intended: 'items.update' }
const ROOT = { name: 'POST /items', path: '/items', init: { method: 'POST', body: { name: 'root' } }, intended: 'root.items' }
const V2 = { name: 'POST /api/v2/items', path: '/api/v2/items', init: { method: 'POST', body: { name: 'v2' } }, intended: 'v2.create' }

const to = (target) => (r) => ({ ...r, target })
const as = (method) => (r) => ({ ...r, method })
const SIG = [401, 'ISO-3002']
const EMPTY_PAIRS = '&'.repeat(1000)

/**
 * [label, signed original, rewrite of the captured request, [status, code] the hop gets,
 *  options]. `raw`: the request line is written by hand (node:http would upper-case the method);
 *  `survives`: the session must still be live afterwards (the target names a Nen route).
 */
const ATTACKS = [
  // `://` inside a relative target is data: it never makes the rest an absolute-form URL.
  ['`://` in the query names the signed path', CREATE, to('/api/admin/delete-all?x=a://b/api/items'), SIG],
  ['`://` in the query names the signed path and query', ORDERS, to('/api/admin/export?x=a://b/api/orders?owner=alice'), SIG],
  ['`://` in the query, mounted router', V2, to('/api/v2/admin/delete-all?x=a://b/api/v2/items'), SIG],
  ['`://` in the path names the signed path', CREATE, to('/api/admin/delete-all/a://b/api/items'), SIG],
  ['`://` towards terminate, with a body', CREATE, to('/api/nen/terminate?x=a://b/api/items'), [400, 'ISO-6008'], { survives: true }],
  ['`://` towards terminate, bodiless', PURGE, to('/api/nen/terminate?x=a://b/api/items/purge-completed'), SIG, { survives: true }],
  ['`://` towards rotate', CREATE, to('/api/nen/rotate?x=a://b/api/items'), SIG, { survives: true }],
  // Percent-encoded unreserved bytes: the same resource to some parsers, another route to others.
  ['%70urge-completed (static vs dynamic)', PURGE, to('/api/items/%70urge-completed'), SIG],
  ['%69tems', CREATE, to('/api/%69tems'), SIG],
  ['%37 for the id', UPDATE, to('/api/items/%37'), SIG],
  ['%6Frders', ORDERS, to('/api/%6Frders?owner=alice'), SIG],
  ['%6Fwner in the query', ORDERS, to('/api/orders?%6Fwner=alice'), SIG],
  ['%61lice in the query', ORDERS, to('/api/orders?owner=%61lice'), SIG],
  // Dot segments, double and trailing slashes, an empty query.
  ['/api/x/../items', CREATE, to('/api/x/../items'), SIG],
  ['/api/./items', CREATE, to('/api/./items'), SIG],
  ['/api//items', CREATE, to('/api//items'), SIG],
  ['/api/items/ (trailing slash)', CREATE, to('/api/items/'), SIG],
  ['/api/items? (empty query)', CREATE, to('/api/items?'), SIG],
  ['/api/x/../orders', ORDERS, to('/api/x/../orders?owner=alice'), SIG],
  ['/api/v2//items (mounted)', V2, to('/api/v2//items'), SIG],
  ['/api/v2/x/../items (mounted)', V2, to('/api/v2/x/../items'), SIG],
  ['/api/items/x/../purge-completed', PURGE, to('/api/items/x/../purge-completed'), SIG],
  // @hono/node-server answers a bare 400 for a target with a backslash, before Hono runs.
  ['/api\\items (backslash)', CREATE, to('/api\\items'), SIG, { except: { 'Hono 4': [400, null] } }],
  // Query parsers stop after 1000 pieces: owner=alice would vanish behind 1000 empty pairs.
  ['1000 empty pairs before owner=alice', ORDERS, to(`/api/orders?${EMPTY_PAIRS}owner=alice`), SIG],
  ['1000 empty pairs before owner=bob', ORDERS, to(`/api/orders?${EMPTY_PAIRS}owner=bob`), SIG],
  ['a trailing &', ORDERS, to('/api/orders?owner=alice&'), SIG],
  // Reordered and duplicated keys, qs brackets.
  ['reordered keys', ORDERS2, to('/api/orders?status=open&owner=alice'), SIG],
  ['owner=alice&owner=bob', ORDERS, to('/api/orders?owner=alice&owner=bob'), SIG],
  ['owner=bob&owner=alice', ORDERS, to('/api/orders?owner=bob&owner=alice'), SIG],
  ['owner=alice&owner[]=bob (qs)', ORDERS, to('/api/orders?owner=alice&owner[]=bob'), SIG],
  ['owner[]=alice (qs)', ORDERS, to('/api/orders?owner[]=alice'), SIG],
  ['owner[x]=alice (qs)', ORDERS, to('/api/orders?owner[x]=alice'), SIG],
  // Case of the path and of the method (Express routes case-insensitively).
  ['/API/items', CREATE, to('/API/items'), SIG],
  ['/api/Items', CREATE, to('/api/Items'), SIG],
  ['/api/ORDERS', ORDERS, to('/api/ORDERS?owner=alice'), SIG],
  ['OWNER=alice', ORDERS, to('/api/orders?OWNER=alice'), SIG],
  // node:http's parser refuses a method that is not upper case before any JavaScript runs.
  ['method post (lower case)', CREATE, as('post'), [400, null], { raw: true }],
  ['method Post (mixed case)', CREATE, as('Post'), [400, null], { raw: true }],
  ['method get (lower case)', ORDERS, as('get'), [400, null], { raw: true }],
  // Fastify routes only the methods it knows: its own 404 for PURGE, before any handler.
  ['method PURGE (not an HTTP method Nen takes)', CREATE, as('PURGE'), [405, 'ISO-6004'], { except: { 'Fastify 5': [404, null] } }],
  ['method PUT for a signed POST', UPDATE, as('PUT'), SIG],
  ['method DELETE for a signed POST', UPDATE, as('DELETE'), SIG],
  ['method POST for a signed GET', ORDERS, as('POST'), SIG],
  ['HEAD for a signed GET', ORDERS, as('HEAD'), SIG, { head: true }],
  // `;` parameters.
  ['/api/items;x=1', CREATE, to('/api/items;x=1'), SIG],
  ['/api/items/7;x=1', UPDATE, to('/api/items/7;x=1'), SIG],
  ['/api/orders;owner=bob', ORDERS, to('/api/orders;owner=bob?owner=alice'), SIG],
  // method-override's `_method` (Express: routes to DELETE; node:http: ignored, target differs).
  ['?_method=DELETE', UPDATE, to('/api/items/7?_method=DELETE'), SIG],
  // A fragment never crosses the wire from a client: refused as a target.
  ['#fragment', CREATE, to('/api/items#x'), [400, 'ISO-6005']],
  // Mounting: the mounted router sees req.url relative to /api/v2; the signature covers the rest.
  ['/items re-sent under the /api/v2 mount', ROOT, to('/api/v2/items'), SIG],
  ['/api/v2/items re-sent to /items', V2, to('/items'), SIG],
  ['/api/items re-sent to /api/v2/items', CREATE, to('/api/v2/items'), SIG],
  // Absolute-form naming another route.
  ['absolute-form http://h/api/admin/delete-all', CREATE, to('http://h/api/admin/delete-all'), [400, 'ISO-6005']],
]

/**
 * [label, signed original, (base URL, signed path) => absolute-form target, per-stack reply].
 * Fastify refuses a target its URL parser cannot split (FST_ERR_BAD_URL, 400) before routing;
 * @hono/node-server a non-HTTP scheme (a bare 400) before Hono runs.
 */
const ABSOLUTE = [
  ['its own origin', CREATE, (base, path) => `${base}${path}`],
  ['its own origin, with a query', ORDERS, (base, path) => `${base}${path}`],
  ['another authority', CREATE, (base, path) => `http://evil.example${path}`],
  ['another scheme and port', CREATE, (base, path) => `https://evil.example:8443${path}`],
  ['an empty authority (http:///api/items)', CREATE, (base, path) => `http://${path}`, { 'Fastify 5': [400, null] }],
  ['an empty authority (http:///items)', ROOT, (base, path) => `http://${path}`, { 'Fastify 5': [400, null] }],
  ['a `;` in the authority (http://x;/api/items)', CREATE, (base, path) => `http://x;${path}`],
  ['a non-HTTP scheme (x://y/api/items)', CREATE, (base, path) => `x://y${path}`, { 'Fastify 5': [400, null], 'Hono 4': [400, null] }],
]

/** Every counter unchanged but `expected` ({ name: delta }); the message says what ran. */
function assertRan(app, before, expected, label) {
  const ran = {}
  for (const name of NAMES) {
    const delta = app.counts.get(name) - before.get(name)
    if (delta !== 0) ran[name] = delta
  }
  assert.deepEqual(ran, expected, `${label}: handlers that ran ${JSON.stringify(ran)}, expected ${JSON.stringify(expected)}`)
}

/** The hop got exactly `[status, code]`; a HEAD reply has no body, its code rides in x-nen-error. */
function assertReply(reply, [status, code], label, { head = false } = {}) {
  assert.ok(reply, `${label}: the hop got no reply`)
  assert.equal(reply.status, status, `${label}: status (reply ${JSON.stringify(reply.text.slice(0, 200))})`)
  assert.equal(codeOf(reply), code, `${label}: code`)
  if (code !== null) {
    assert.equal(reply.headers['x-nen-error'], code, `${label}: x-nen-error`)
    assert.equal(reply.headers['x-nen-response'], undefined, `${label}: a plain error is not sealed`)
  }
  if (head) assert.equal(reply.text, '', `${label}: HEAD has no body`)
  else if (code !== null) assert.equal(JSON.parse(reply.text).error.code, code)
}

async function clientError(promise) {
  const err = await promise.then(
    (res) => assert.fail(`expected a NenError, got HTTP ${res.status}`),
    (e) => e,
  )
  assert.ok(err instanceof ClientNenError, `expected a NenError, got ${err?.stack ?? err}`)
  return err
}

// ---------------------------------------------------------------------------------------------

const STACKS = [
  ['Express 4', (nen) => expressStack(express4, nen)],
  ['Express 5', (nen) => expressStack(express5, nen)],
  ['Fastify 5', (nen) => fastifyStack(nen)],
  ['Hono 4', (nen) => honoStack(nen)],
  ['node:http', (nen) => nodeStack('raw', nen)],
  ['node:http (WHATWG URL router)', (nen) => nodeStack('whatwg', nen)],
]

// Both engines: the native addon and the WebAssembly build verify on their own code paths.
const RUNS = ['native', 'wasm'].flatMap((engine) => STACKS.map(([stackName, make]) => [engine, stackName, make]))

for (const [engine, stackName, make] of RUNS) {
  describe(`route confusion: ${stackName}, ${engine} engine`, () => {
    let srv, app, hop, client
    before(async () => {
      // Refusals are the point here: keep the output clean.
      const s = make(createNen({ engine, onError: () => {} }))
      app = s.app
      srv = await s.listen()
      hop = createHop(srv.url)
      client = new NenClient(srv.url, { fetch: hop.fetch })
    })
    after(() => srv?.close())

    /** A request the hop delivers unchanged. */
    const honest = (path, init) => client.nenFetch(path, init)

    /** The session is the same and still answers: nothing terminated or rotated it. */
    async function assertSessionLive(label, sid) {
      const handshakes = hop.handshakes
      const res = await honest('/api/items/ping')
      assert.equal(res.status, 200, label)
      assert.equal(client.sessionId, sid, `${label}: the session was replaced`)
      assert.equal(hop.handshakes, handshakes, `${label}: the client had to handshake again`)
      assert.equal((await client.status()).sid, sid, `${label}: the server no longer knows the session`)
    }

    test('honest targets work end to end and the handler sees what was sent', async () => {
      const get = async (path, name) => {
        const before = app.snapshot()
        const res = await honest(path)
        assert.equal(res.status, 200, path)
        assertRan(app, before, { [name]: 1 }, path)
        return { res: await res.json(), saw: app.saw.get(name) }
      }
      // `://` in a query is data.
      let r = await get('/api/orders?next=https://example.com/a', 'orders.list')
      assert.deepEqual(r.res, { owner: null, query: { next: 'https://example.com/a' } })
      r = await get('/api/orders?owner=alice&next=https://example.com/a?b=c://d', 'orders.list')
      assert.deepEqual(r.res.query, { owner: 'alice', next: 'https://example.com/a?b=c://d' })
      // %2F inside a segment stays one parameter.
      r = await get('/api/items/a%2Fb', 'items.get')
      assert.deepEqual(r.res, { id: 'a/b', query: {} })
      assert.equal(hop.last.target, '/api/items/a%2Fb')
      // `+`: a space in a query, itself in a path; %2B is a plus.
      r = await get('/api/orders?owner=a+b&plus=%2B', 'orders.list')
      assert.deepEqual(r.res.query, { owner: 'a b', plus: '+' })
      r = await get('/api/items/a+b', 'items.get')
      assert.equal(r.res.id, 'a+b')
      // Spaces and non-ASCII: the client percent-encodes them, and signs what it sends.
      r = await get('/api/orders?owner=al ice', 'orders.list')
      assert.equal(hop.last.target, '/api/orders?owner=al%20ice')
      assert.deepEqual(r.res.query, { owner: 'al ice' })
      r = await get('/api/items/a b', 'items.get')
      assert.equal(r.res.id, 'a b')
      r = await get('/api/items/café', 'items.get')
      assert.equal(hop.last.target, '/api/items/caf%C3%A9')
      assert.equal(r.res.id, 'café')
      r = await get('/api/orders?owner=zoë', 'orders.list')
      assert.equal(r.res.owner, 'zoë')
      // Empty values.
      r = await get('/api/orders?a=&b', 'orders.list')
      assert.deepEqual(r.res.query, { a: '', b: '' })
      r = await get('/api/orders?q=a%26b%3Dc', 'orders.list')
      assert.deepEqual(r.res.query, { q: 'a&b=c' })
      // A fragment stays in the client: neither sent nor signed.
      r = await get('/api/orders?owner=alice#frag', 'orders.list')
      assert.equal(hop.last.target, '/api/orders?owner=alice')
      assert.equal(r.res.owner, 'alice')
      // Why a hop's 1000 empty pairs matter: every parser here but Fastify's and Hono's stops after
      // 1000 pieces, so the owner vanishes (signed as sent, this is the application's own request).
      r = await get(`/api/orders?${EMPTY_PAIRS}owner=alice`, 'orders.list')
      assert.equal(r.res.owner, ['Fastify 5', 'Hono 4'].includes(stackName) ? 'alice' : null)
      // Duplicate keys, sent as such, reach the handler as such.
      r = await get('/api/orders?owner=alice&owner=bob', 'orders.list')
      assert.deepEqual(r.res.owner, ['alice', 'bob'])

      // The client resolves dot segments before signing: what it signs is what it sends.
      let before = app.snapshot()
      let res = await honest('/api/x/../items', CREATE.init)
      assert.equal(res.status, 201)
      assert.equal(hop.last.target, '/api/items')
      assertRan(app, before, { 'items.create': 1 }, 'dot segments resolved by the client')
      // A signed %70urge-completed is the dynamic route (the router does not decode to match a
      // static path), with the decoded parameter, as the application declared. Fastify's and
      // Hono's routers decode before matching: the static route. Either way the same signed bytes
      // always run the same handler (a re-spelling by a hop is refused above).
      before = app.snapshot()
      res = await honest('/api/items/%70urge-completed', { method: 'POST', body: { x: 1 } })
      if (['Fastify 5', 'Hono 4'].includes(stackName)) {
        assert.deepEqual(await res.json(), { ran: 'items.purge' })
        assertRan(app, before, { 'items.purge': 1 }, 'signed %70urge-completed')
      } else {
        assert.deepEqual(await res.json(), { updated: 'purge-completed', body: { x: 1 } })
        assertRan(app, before, { 'items.update': 1 }, 'signed %70urge-completed')
      }
      before = app.snapshot()
      res = await honest('/api/items/purge-completed', { method: 'POST' })
      assert.deepEqual(await res.json(), { ran: 'items.purge' })
      assertRan(app, before, { 'items.purge': 1 }, 'purge-completed')
      // The mounted router (Express) sees its relative URL; the signature covered the full one.
      before = app.snapshot()
      res = await honest('/api/v2/items?q=a%20b', V2.init)
      assert.equal(res.status, 201)
      assertRan(app, before, { 'v2.create': 1 }, 'mounted')
      const saw = app.saw.get('v2.create')
      assert.deepEqual(saw.query, { q: 'a b' })
      if (stackName.startsWith('Express')) {
        assert.equal(saw.url, '/items?q=a%20b')
        assert.equal(saw.originalUrl, '/api/v2/items?q=a%20b')
      }
    })

    for (const [label, original, rewrite, signedExpectation, opts = {}] of ATTACKS) {
      const expected = opts.except?.[stackName] ?? signedExpectation
      test(`${original.name} → ${label}`, async () => {
        // 1. Diverted: the hop delivers only the rewritten copy, and hands its reply back.
        const sid = client.sessionId
        let before = app.snapshot()
        hop.once((req, deliver) => deliver(rewrite(req), { raw: opts.raw }))
        const outcome = await client.nenFetch(original.path, original.init).then(
          (res) => res,
          (e) => e,
        )
        assertRan(app, before, {}, `${label} (diverted)`)
        const reply = hop.lastReply
        assert.equal(hop.exchanges.at(-1).request.target, rewrite(hop.last).target)
        assertReply(reply, expected, `${label} (diverted)`, opts)
        const err = await clientError(outcome instanceof Response ? Promise.resolve(outcome) : Promise.reject(outcome))
        // Without a JSON body (HEAD, node:http's own 400) the client cannot read a code: ISO-4004.
        assert.equal(err.code, opts.head ? 'ISO-4004' : (expected[1] ?? 'ISO-4004'), `${label}: the client's error`)
        assert.equal(err.status, expected[0])
        assert.equal(err.authenticated, false, `${label}: a plain error is never authenticated`)
        if (opts.survives && sid !== null) await assertSessionLive(label, sid)

        // 2. Delivered, then re-sent rewritten: the intended handler ran once, nothing else.
        before = app.snapshot()
        let captured
        hop.once((req, deliver) => {
          captured = req
          return deliver(req)
        })
        const res = await client.nenFetch(original.path, original.init)
        assert.ok(res.ok, `${label}: the honest request failed: ${res.status}`)
        const again = await hop.deliver(rewrite(captured), { raw: opts.raw })
        assertReply(again, expected, `${label} (re-sent)`, opts)
        assertRan(app, before, { [original.intended]: 1 }, `${label} (re-sent)`)
        if (opts.survives) await assertSessionLive(label, client.sessionId)
      })
    }

    test('replay of the exact same request: ISO-5001, the handler ran once', async () => {
      for (const original of [CREATE, ORDERS, UPDATE, V2]) {
        const before = app.snapshot()
        let captured
        hop.once((req, deliver) => {
          captured = req
          return deliver(req)
        })
        assert.ok((await client.nenFetch(original.path, original.init)).ok)
        for (let i = 0; i < 2; i++) assertReply(await hop.deliver(captured), [401, 'ISO-5001'], `replay of ${original.name}`)
        // A replay with a plain header added is still the same nonce.
        assertReply(await hop.deliver({ ...captured, headers: { ...captured.headers, 'idempotency-key': 'x' } }), [401, 'ISO-5001'], 'replay + header')
        assertRan(app, before, { [original.intended]: 1 }, `replay of ${original.name}`)
      }
    })

    // Absolute-form (`POST http://host/path HTTP/1.1`): refused (400 ISO-6005) before anything
    // runs, whatever the authority.
    for (const [label, original, absolute, except = {}] of ABSOLUTE) {
      const expected = except[stackName] ?? [400, 'ISO-6005']
      test(`absolute-form: ${original.name} → ${label}`, async () => {
        const target = absolute(srv.url, original.path)
        let before = app.snapshot()
        hop.once((req, deliver) => deliver({ ...req, target }))
        const outcome = await client.nenFetch(original.path, original.init).then(
          (res) => res,
          (e) => e,
        )
        const reply = hop.lastReply
        assert.ok(outcome instanceof ClientNenError, `${label}: accepted: ${outcome.status} ${JSON.stringify(app.saw.get('fallback'))}`)
        assertReply(reply, expected, label)
        assertRan(app, before, {}, label)
        // Delivered first, then re-sent in absolute-form: the replay guard, or the refusal.
        before = app.snapshot()
        let captured
        hop.once((req, deliver) => {
          captured = req
          return deliver(req)
        })
        assert.ok((await client.nenFetch(original.path, original.init)).ok)
        const again = await hop.deliver({ ...captured, target })
        assert.deepEqual([again.status, codeOf(again)], expected, `${label}: re-sent`)
        assertRan(app, before, { [original.intended]: 1 }, `${label} (re-sent)`)
      })
    }

    test('method-override headers: never an unsigned change of what runs', async () => {
      for (const header of ['x-http-method-override', 'x-method-override', 'x-http-method']) {
        const before = app.snapshot()
        hop.once((req, deliver) => deliver({ ...req, headers: { ...req.headers, [header]: 'DELETE' } }))
        const p = client.nenFetch(UPDATE.path, UPDATE.init)
        if (stackName.startsWith('Express') && header === 'x-http-method-override') {
          // method-override turned it into a DELETE: that is not what was signed.
          const err = await clientError(p)
          assertReply(hop.lastReply, SIG, header)
          assert.equal(err.code, 'ISO-3002')
          assertRan(app, before, {}, header)
        } else {
          // Nothing reads the header: the signed POST runs, as signed.
          const res = await p
          assert.deepEqual(await res.json(), { updated: '7', body: { done: true } })
          assertRan(app, before, { 'items.update': 1 }, header)
          assert.equal(app.saw.get('items.update').method, 'POST')
        }
      }
    })

    test('idempotency: a forged ISO-2002 and a rewritten key on the retry', async () => {
      const key = `pay-${stackName}`.replace(/\W/g, '-')
      const forged = {
        status: 401,
        headers: { 'content-type': 'application/json', 'x-nen-error': 'ISO-2002' },
        text: JSON.stringify({ error: { code: 'ISO-2002', message: 'Session expired or unknown' } }),
      }
      const before = app.snapshot()
      const executed = app.payments.executed
      const handshakes = hop.handshakes
      let first, retry
      // First attempt: delivered (the payment runs), the answer swapped for a forged ISO-2002.
      hop.once(async (req, deliver) => {
        first = req
        const real = await deliver(req)
        assert.equal(real.status, 201)
        assert.ok(real.headers['x-nen-response'] === undefined && JSON.parse(real.text).ct, 'the real answer is sealed')
        return forged
      })
      // The retry, after a fresh handshake: the hop rewrites the signed key.
      hop.once((req, deliver) => {
        retry = req
        return deliver({ ...req, headers: { ...req.headers, 'x-nen-idempotency-key': `${key}-other` } })
      })
      const err = await clientError(client.nenFetch('/api/payments', { method: 'POST', body: { amount: 100 }, idempotencyKey: key }))
      assert.equal(first.headers['x-nen-idempotency-key'], key)
      assert.equal(retry.headers['x-nen-idempotency-key'], key, 'the client retried with the same key')
      assert.notEqual(retry.headers['x-nen-session'], first.headers['x-nen-session'], 'the retry used a new session')
      assert.equal(hop.handshakes, handshakes + 1, 'one re-handshake')
      assertReply(hop.lastReply, SIG, 'rewritten idempotency key')
      assert.equal(err.code, 'ISO-3002')
      assert.equal(err.authenticated, false)
      assert.equal(app.payments.executed, executed + 1, 'the payment executed exactly once')
      assertRan(app, before, { payments: 1 }, 'rewritten key')

      // The same, with the key left alone on the retry: the handler deduplicates on it.
      const before2 = app.snapshot()
      hop.once(async (req, deliver) => {
        await deliver(req)
        return forged
      })
      hop.once((req, deliver) => deliver({ ...req, headers: { ...req.headers, 'idempotency-key': 'hop-chosen' } }))
      const res = await client.nenFetch('/api/payments', { method: 'POST', body: { amount: 100 }, idempotencyKey: `${key}-2` })
      assert.equal(res.status, 200)
      const body = await res.json()
      assert.equal(body.deduplicated, true)
      assert.equal(body.paymentId, `pay_${executed + 2}`)
      assert.equal(app.payments.executed, executed + 2, 'one more execution, not two')
      assertRan(app, before2, { payments: 2 }, 'unchanged key')
      const calls = app.payments.calls.slice(-2)
      assert.deepEqual(
        calls.map((c) => c.key),
        [`${key}-2`, `${key}-2`],
      )
      assert.equal(calls[1].plain, 'hop-chosen', 'the plain header arrived...')
      assert.equal(app.saw.get('payments').idempotencyKey, `${key}-2`, '...and is not what ctx.idempotencyKey shows')

      // A request signed without a key: a plain Idempotency-Key is not it, an added signed-key
      // header breaks the signature, and stripping the key does too.
      const before3 = app.snapshot()
      hop.once((req, deliver) => deliver({ ...req, headers: { ...req.headers, 'idempotency-key': 'hop-chosen' } }))
      assert.equal((await client.nenFetch('/api/payments', { method: 'POST', body: { amount: 5 } })).status, 201)
      assert.equal(app.saw.get('payments').idempotencyKey, null)
      assert.equal(app.payments.calls.at(-1).plain, 'hop-chosen')
      hop.once((req, deliver) => deliver({ ...req, headers: { ...req.headers, 'x-nen-idempotency-key': 'hop-chosen' } }))
      assert.equal((await clientError(client.nenFetch('/api/payments', { method: 'POST', body: { amount: 5 } }))).code, 'ISO-3002')
      assertReply(hop.lastReply, SIG, 'added signed-key header')
      hop.once((req, deliver) => {
        const headers = { ...req.headers }
        delete headers['x-nen-idempotency-key']
        return deliver({ ...req, headers })
      })
      assert.equal((await clientError(client.nenFetch('/api/payments', { method: 'POST', body: { amount: 5 }, idempotencyKey: `${key}-3` }))).code, 'ISO-3002')
      assertReply(hop.lastReply, SIG, 'stripped signed-key header')
      assertRan(app, before3, { payments: 1 }, 'keyless')

      // Without a key a POST is not retried after ISO-2002: the forged error reaches the caller.
      const before4 = app.snapshot()
      const seen = hop.seen.length
      hop.once(async (req, deliver) => {
        await deliver(req)
        return forged
      })
      const e2002 = await clientError(client.nenFetch('/api/payments', { method: 'POST', body: { amount: 7 } }))
      assert.equal(e2002.code, 'ISO-2002')
      assert.equal(e2002.authenticated, false)
      assert.equal(hop.seen.length, seen + 1, 'no retry, no handshake')
      assertRan(app, before4, { payments: 1 }, 'no key, no retry')
    })

    test('after all of it, the client still works', async () => {
      // The last forged ISO-2002 made the client drop its session: one honest request makes one.
      const handshakes = hop.handshakes
      assert.equal((await honest('/api/items/ping')).status, 200)
      assert.equal(hop.handshakes, handshakes + 1)
      await assertSessionLive('end', client.sessionId)
    })
  })
}
