// One small application, served through each adapter in turn (Web handlers, node:http, Express),
// and the client-side scenario every adapter must pass: the real @withnen/client, every method,
// handler status and headers, errors, streams, rotation, status and termination.

import assert from 'node:assert/strict'
import http from 'node:http'
import { NenClient, NenError as ClientNenError, createNenStream } from '../../../client/dist/index.mjs'
import { NenError, nenResponse } from '../../dist/index.mjs'
import { nenNodeHandler, nenNodeRoutes, withNenStreamNode } from '../../dist/node.mjs'

export { NenClient, ClientNenError, createNenStream }

export const SECRET = 'plaintext-marker-4111-1111'
export const TOKENS = ['The ', 'quick ', 'brown ', 'fox']
const LEAK = 'handler-detail-must-not-leak'

/** The application: an item store answering `(method, id, body, query)`. */
export function createApp() {
  const items = new Map()
  let next = 1
  // Set when a stream that never ends is stopped (the client went away).
  const stopped = { forever: 0 }

  function items_(method, id, body, query) {
    switch (method) {
      case 'GET':
        if (!id) return { items: [...items.values()], query }
        return items.has(id) ? items.get(id) : nenResponse({ error: 'not found' }, { status: 404 })
      case 'HEAD':
        return nenResponse(null, { status: items.has(id) ? 200 : 404 })
      case 'POST': {
        const item = { id: String(next++), ...body }
        items.set(item.id, item)
        // content-type and x-nen-* belong to the protocol: the adapter must drop these two.
        return nenResponse(item, { status: 201, headers: { location: `/api/items/${item.id}`, 'x-app': 'yes', 'content-type': 'text/plain', 'x-nen-response': 'forged' } })
      }
      case 'PUT':
        items.set(id, { id, ...body })
        return items.get(id)
      case 'PATCH':
        items.set(id, { ...items.get(id), ...body })
        return items.get(id)
      case 'DELETE':
        return { deleted: items.delete(id), reason: body?.reason ?? null }
    }
    throw new NenError('ISO-6004')
  }

  /** Routes every non-Nen path: `{ kind: 'json' | 'stream', run }`. */
  function route(path) {
    const m = /^\/api\/items(?:\/(\w+))?$/.exec(path)
    if (m) return { kind: 'json', run: (method, body, query) => items_(method, m[1], body, query) }
    switch (path) {
      case '/api/echo':
        return { kind: 'json', run: (method, body, query) => ({ method, body, query }) }
      case '/api/fail/coded':
        return {
          kind: 'json',
          run: () => {
            throw new NenError('ISO-6005', { message: LEAK })
          },
        }
      case '/api/fail/boom':
        return {
          kind: 'json',
          run: () => {
            throw new Error(`${LEAK} ${SECRET}`)
          },
        }
      case '/api/stream':
        return { kind: 'stream', run: () => tokens() }
      case '/api/stream/readable':
        return { kind: 'stream', run: () => readable() }
      case '/api/stream/fail':
        return { kind: 'stream', run: () => tokens(new NenError('ISO-8001')) }
      case '/api/stream/boom':
        return { kind: 'stream', run: () => tokens(new Error(LEAK)) }
      case '/api/stream/early':
        return {
          kind: 'stream',
          run: () => {
            throw new NenError('ISO-4005')
          },
        }
      case '/api/stream/forever':
        return { kind: 'stream', run: () => forever(stopped) }
    }
    return null
  }
  return { route, stopped }
}

const tick = () => new Promise((r) => setTimeout(r, 2))

async function* tokens(failWith) {
  for (const [i, t] of TOKENS.entries()) {
    if (failWith && i === 2) throw failWith
    await tick()
    yield t
  }
}

function readable() {
  const bytes = new TextEncoder()
  let i = 0
  return new ReadableStream({
    pull(c) {
      if (i === TOKENS.length) return c.close()
      // Bytes and text both: items may be either.
      c.enqueue(i % 2 ? bytes.encode(TOKENS[i]) : TOKENS[i])
      i++
    },
  })
}

async function* forever(stopped) {
  try {
    for (let i = 0; ; i++) {
      await tick()
      yield `t${i} `
    }
  } finally {
    stopped.forever++
  }
}

/**
 * A fetch that records every body sent and received (streams included) to check the wire;
 * `send` does the actual fetch (the global one, or an in-process router).
 */
export function recordingFetch(wire, send = (url, init) => fetch(url, init)) {
  const pending = []
  const f = async (url, init = {}) => {
    wire.push(String(init.body ?? ''))
    const res = await send(String(url), init)
    pending.push(
      res
        .clone()
        .text()
        .then(
          (t) => wire.push(t),
          () => {},
        ),
    )
    return res
  }
  f.settled = () => Promise.all(pending)
  return f
}

export async function rejectsWith(promise, code, status) {
  const err = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e) => e,
  )
  assert.ok(err instanceof ClientNenError, `expected NenError ${code}, got ${err?.stack ?? err}`)
  assert.equal(err.code, code, err.message)
  if (status !== undefined) assert.equal(err.status, status)
  return err
}

export async function drain(iter) {
  const out = []
  for await (const c of iter) out.push(c)
  return out
}

/** Resolves once `check()` is true; fails after `ms`. */
export async function eventually(check, what, ms = 5000) {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A node:http server on a free loopback port. */
export async function listen(handler) {
  const server = http.createServer(handler)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${server.address().port}`
  return {
    url,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.()
        server.close(r)
      }),
  }
}

/** node:http serving the Nen routes and the test application through the Node adapters. */
export function nodeServer(app, options = {}) {
  const routes = nenNodeRoutes(options)
  const parse = (req) => new URL(req.url, 'http://localhost')
  const json = nenNodeHandler((body, { req }) => {
    const url = parse(req)
    return app.route(url.pathname).run(req.method, body, Object.fromEntries(url.searchParams))
  }, options)
  const stream = withNenStreamNode((body, { req }) => app.route(parse(req).pathname).run(req.method, body), options)
  return listen((req, res) => {
    if (routes(req, res)) return
    const r = app.route(parse(req).pathname)
    if (!r) return res.writeHead(404).end()
    ;(r.kind === 'stream' ? stream : json)(req, res)
  })
}

/**
 * The full client scenario against `baseUrl` through `fetchImpl`: every method, handler status
 * and headers, coded and uncoded handler errors, streams, status, rotation and termination.
 */
export async function fullRoundTrip(baseUrl, fetchImpl, { wire, app }) {
  const client = new NenClient(baseUrl, { fetch: fetchImpl })

  // POST: the handler's status and headers arrive; the protocol's headers are not overridable.
  const created = await client.nenFetch('/api/items', { method: 'POST', body: { name: SECRET } })
  assert.equal(created.status, 201)
  assert.equal(created.headers.get('x-app'), 'yes')
  assert.equal(created.headers.get('location'), '/api/items/1')
  assert.equal(created.headers.get('content-type'), 'application/json')
  assert.equal(created.headers.get('x-nen-response'), null)
  const item = await created.json()
  assert.deepEqual(item, { id: '1', name: SECRET })

  assert.deepEqual(await (await client.nenFetch('/api/items/1')).json(), item)
  const list = await client.nenFetch('/api/items?b=2&a=%7e1')
  assert.deepEqual(await list.json(), { items: [item], query: { a: '~1', b: '2' } })

  const head = await client.nenFetch('/api/items/1', { method: 'HEAD' })
  assert.equal(head.status, 200)
  assert.equal(await head.text(), '')
  assert.equal((await client.nenFetch('/api/items/9', { method: 'HEAD' })).status, 404)

  assert.deepEqual(await (await client.nenFetch('/api/items/1', { method: 'PUT', body: { name: 'b' } })).json(), { id: '1', name: 'b' })
  assert.deepEqual(await (await client.nenFetch('/api/items/1', { method: 'PATCH', body: { qty: 2 } })).json(), { id: '1', name: 'b', qty: 2 })
  assert.deepEqual(await (await client.nenFetch('/api/items/1', { method: 'DELETE', body: { reason: 'test' } })).json(), { deleted: true, reason: 'test' })
  const missing = await client.nenFetch('/api/items/1')
  assert.equal(missing.status, 404, 'a sealed handler status is returned, not thrown')
  assert.deepEqual(await missing.json(), { error: 'not found' })
  assert.deepEqual(await (await client.nenFetch('/api/echo', { method: 'DELETE' })).json(), { method: 'DELETE', body: null, query: {} })

  // Handler errors are sealed as Nen errors (PROTOCOL.md §6.1, kind "error"): the client raises
  // them as authenticated NenErrors with the code and its status, never as results; uncoded
  // errors are ISO-9000 without detail, HEAD included.
  const coded = await rejectsWith(client.nenFetch('/api/fail/coded', { method: 'POST', body: {} }), 'ISO-6005', 400)
  assert.equal(coded.authenticated, true)
  assert.equal(coded.message, 'Request path or query is malformed')
  assert.equal((await rejectsWith(client.nenFetch('/api/fail/boom'), 'ISO-9000', 500)).authenticated, true)
  assert.equal((await rejectsWith(client.nenFetch('/api/fail/boom', { method: 'HEAD' }), 'ISO-9000', 500)).authenticated, true)

  // Streams: in order, from a generator or a ReadableStream; errors end them with their code.
  const nenStream = createNenStream(client)
  assert.deepEqual(await drain(nenStream('/api/stream', { body: { prompt: SECRET } })), TOKENS)
  assert.deepEqual(await drain(nenStream('/api/stream/readable', { body: {} })), TOKENS)
  await rejectsWith(drain(nenStream('/api/stream/fail', { body: {} })), 'ISO-8001', 503)
  await rejectsWith(drain(nenStream('/api/stream/boom', { body: {} })), 'ISO-9000', 500)
  // A throw before the first item is a sealed failure: the client raises its code, authenticated.
  const early = await rejectsWith(drain(nenStream('/api/stream/early', { body: {} })), 'ISO-4005', 413)
  assert.equal(early.authenticated, true)

  // The client going away stops the producer.
  const ac = new AbortController()
  const before = app.stopped.forever
  const it = nenStream('/api/stream/forever', { body: {}, signal: ac.signal })
  assert.equal((await it.next()).value, 't0 ')
  ac.abort()
  await assert.rejects(drain(it))
  await eventually(() => app.stopped.forever === before + 1, 'the stream generator to be stopped')

  // Lifecycle.
  const status = await client.status()
  assert.equal(status.sid, client.sessionId)
  assert.equal(status.mode, 'hybrid')
  const first = client.sessionId
  await client.rotate()
  assert.notEqual(client.sessionId, first)
  assert.equal((await client.status()).sid, client.sessionId)
  const rotated = client.sessionId
  await client.terminate()
  assert.equal(client.sessionId, null)
  assert.equal((await client.nenFetch('/api/echo')).status, 200)
  assert.notEqual(client.sessionId, rotated)

  // Nothing readable crossed the wire.
  await fetchImpl.settled?.()
  assert.ok(wire.length > 20)
  for (const body of wire) {
    assert.ok(!body.includes(SECRET), 'no plaintext on the wire')
    assert.ok(!body.includes('quick') && !body.includes(LEAK), 'no stream text or error detail on the wire')
  }
  return client
}
