// The Fastify plugin (Fastify 5) over real HTTP, beyond the README example
// (frameworks.test.mjs) and the attack tables (adversarial and route-confusion suites): the full
// client scenario of the other adapters, the plugin under a prefix with its own basePath, a wrong
// method on a Nen route, `allowHandshake` seeing the real request, a `preParsing` hook replacing
// the payload (gunzip), and `rewriteUrl`: the target Fastify dispatched on is the one verified, so
// a rewrite keyed on an unsigned header cannot run another handler under a valid signature.

import test from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { configureNen, createNen } from '../dist/index.mjs'
import { nenFastify, withNenFastify, withNenStreamFastify } from '../dist/fastify.mjs'
import { NenClient, createApp, fullRoundTrip, recordingFetch, rejectsWith } from './support/app.mjs'
import { codeOf, createHop } from './support/hop.mjs'

configureNen({ onError: () => {} })

async function listen(f) {
  await f.listen({ port: 0, host: '127.0.0.1' })
  return { url: `http://127.0.0.1:${f.server.address().port}`, close: () => f.close() }
}

const JSON_ROUTES = ['/api/items', '/api/items/:id', '/api/echo', '/api/fail/coded', '/api/fail/boom']
const STREAM_ROUTES = ['/api/stream', '/api/stream/readable', '/api/stream/fail', '/api/stream/boom', '/api/stream/early', '/api/stream/forever']

test('the full client scenario through the plugin', { timeout: 30000 }, async () => {
  const app = createApp()
  const f = Fastify()
  // The application's router key is the path (its :id is in request.params).
  const path = (request) => request.url.split('?')[0]
  f.register(nenFastify, {
    routes(nen) {
      const json = withNenFastify((body, { request }) => app.route(path(request)).run(request.method, body, request.query))
      const stream = withNenStreamFastify((body, { request }) => app.route(path(request)).run(request.method, body))
      for (const p of JSON_ROUTES) nen.all(p, json)
      for (const p of STREAM_ROUTES) nen.post(p, stream)
    },
  })
  const srv = await listen(f)
  try {
    const wire = []
    await fullRoundTrip(srv.url, recordingFetch(wire), { wire, app })
  } finally {
    await srv.close()
  }
})

test('under a prefix with its own basePath; another method on a Nen route is ISO-6007', { timeout: 10000 }, async () => {
  const f = Fastify()
  const sockets = []
  const nen = createNen({
    onError: () => {},
    // The real IncomingMessage reaches allowHandshake (its socket included).
    allowHandshake: (req) => {
      sockets.push(req.socket.remoteAddress)
      return true
    },
  })
  f.register(nenFastify, {
    prefix: '/v1',
    basePath: '/secure',
    nen,
    routes(scope) {
      scope.put(
        '/things/:id',
        withNenFastify((body, { request, idempotencyKey }) => ({ id: request.params.id, body, q: request.query.q, url: request.url, idempotencyKey }), { nen }),
      )
    },
  })
  const srv = await listen(f)
  try {
    const client = new NenClient(srv.url, { basePath: '/v1/secure' })
    const res = await client.nenFetch('/v1/things/7?q=a%20b', { method: 'PUT', body: { n: 1 }, idempotencyKey: 'k-1' })
    assert.deepEqual(await res.json(), { id: '7', body: { n: 1 }, q: 'a b', url: '/v1/things/7?q=a%20b', idempotencyKey: 'k-1' })
    assert.deepEqual(sockets, ['127.0.0.1'])
    assert.equal((await client.status()).sid, client.sessionId)
    await client.rotate()
    await client.terminate()
    const wrong = await fetch(`${srv.url}/v1/secure/handshake`, { method: 'GET' })
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.get('allow'), 'POST')
    assert.equal(wrong.headers.get('x-nen-error'), 'ISO-6007')
    // Not served outside the prefix.
    assert.equal((await fetch(`${srv.url}/api/nen/handshake`, { method: 'POST', body: '{}' })).status, 404)
  } finally {
    await srv.close()
  }
})

test('rewriteUrl: the dispatched target is verified; a header-keyed rewrite runs no other handler', { timeout: 10000 }, async () => {
  const ran = { echo: 0, admin: 0 }
  // A rewrite keyed on an unsigned header, and a legacy prefix.
  const f = Fastify({
    rewriteUrl: (req) => (req.headers['x-tenant'] === 'admin' ? '/api/admin' : req.url.replace(/^\/old\//, '/api/')),
  })
  f.register(nenFastify, {
    routes(nen) {
      nen.post(
        '/api/echo',
        withNenFastify((body) => (ran.echo++, { echo: body })),
      )
      nen.post(
        '/api/admin',
        withNenFastify(() => (ran.admin++, { admin: true })),
      )
    },
  })
  const srv = await listen(f)
  try {
    const hop = createHop(srv.url)
    const client = new NenClient(srv.url, { fetch: hop.fetch })
    assert.deepEqual(await (await client.nenFetch('/api/echo', { method: 'POST', body: { a: 1 } })).json(), { echo: { a: 1 } })
    // A hop adds the header: Fastify dispatches /api/admin, which is verified, and was not signed.
    hop.once((req, deliver) => deliver({ ...req, headers: { ...req.headers, 'x-tenant': 'admin' } }))
    await rejectsWith(client.nenFetch('/api/echo', { method: 'POST', body: { a: 2 } }), 'ISO-3002', 401)
    assert.equal(codeOf(hop.lastReply), 'ISO-3002')
    // A rewritten target verifies only if the client signed the rewritten one.
    await rejectsWith(client.nenFetch('/old/echo', { method: 'POST', body: { a: 3 } }), 'ISO-3002', 401)
    assert.deepEqual(ran, { echo: 1, admin: 0 })
  } finally {
    await srv.close()
  }
})

test('a preParsing hook that replaces the payload stream (gunzip): Nen reads the replacement', { timeout: 10000 }, async () => {
  const { createGunzip, gzipSync } = await import('node:zlib')
  const f = Fastify()
  f.register(nenFastify, {
    routes(nen) {
      // A decompression hook: Nen must read what it returns, not the gzip bytes on the wire.
      nen.addHook('preParsing', async (request, reply, payload) => (request.headers['content-encoding'] === 'gzip' ? payload.pipe(createGunzip()) : payload))
      nen.post(
        '/api/echo',
        withNenFastify((body) => ({ echo: body })),
      )
    },
  })
  const srv = await listen(f)
  try {
    // The client's body, gzipped on its way (a proxy compressing uploads, say).
    const gzipping = (url, init = {}) =>
      fetch(url, init.body && !String(url).endsWith('/handshake') ? { ...init, body: gzipSync(init.body), headers: { ...init.headers, 'content-encoding': 'gzip' } } : init)
    const client = new NenClient(srv.url, { fetch: gzipping })
    assert.deepEqual(await (await client.nenFetch('/api/echo', { method: 'POST', body: { a: 1 } })).json(), { echo: { a: 1 } })
  } finally {
    await srv.close()
  }
})
