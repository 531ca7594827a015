// A real HTTP server on loopback for the client tests: node:http in front of the native Nen
// server (@withnen/server-native from this repository). It serves the four Nen routes, a small
// encrypted API and a stream, records every body that crosses the wire, and has a few routes
// that misbehave on purpose so the client's error paths can be exercised.

import http from 'node:http'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
// The test build of the addon (scripts/lib.sh build_test_addon): the release one has no
// testRngSeed / setTestNow, which the vector reproduction needs.
const nen = require('../../../../target/nen-test/nen.js')

const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })

/**
 * @param options NenServer options
 * @param files static files served as-is (path → {type, body}), for the browser test's page
 */
export async function startServer(options = {}, files = {}) {
  let server = new nen.NenServer(options)
  const wire = [] // every request and response body as sent
  const hits = [] // every request received: method, raw target, and whether it carried a signature
  const items = new Map()
  let lastSealed // for the response-swap route

  const send = (res, status, headers, body) => {
    wire.push(body ?? '')
    res.writeHead(status, headers)
    res.end(body)
  }
  const reply = (res, r) => send(res, r.status, r.headers, r.body)
  const fail = (res, e) => reply(res, nen.errorReply(e))

  const app = async (opened, url, req) => {
    const body = opened.body === null ? null : JSON.parse(opened.body)
    const m = /^\/api\/items(?:\/([^/]+))?$/.exec(url.pathname)
    if (m) {
      // One path segment, percent-decoded: `/api/items/a%2Fb` is the item `a/b`.
      const id = m[1] === undefined ? undefined : decodeURIComponent(m[1])
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
    if (url.pathname === '/api/echo') {
      return [200, { method: opened.method, body, query: url.search, url: req.url, params: [...url.searchParams] }]
    }
    // What the handler saw of any target under /api/target: the raw request target, and the
    // path segments and query pairs a router would read from it.
    if (url.pathname === '/api/target' || url.pathname.startsWith('/api/target/')) {
      return [
        200,
        {
          method: opened.method,
          url: req.url,
          pathname: url.pathname,
          search: url.search,
          segments: url.pathname.split('/').slice(3).map(decodeURIComponent),
          params: [...url.searchParams],
        },
      ]
    }
    return [404, { error: 'no route' }]
  }

  const httpServer = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost')
    const file = files[url.pathname]
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' })
      return res.end(file.body)
    }
    const raw = await readBody(req)
    wire.push(raw)
    hits.push({ method: req.method, url: req.url, signed: 'x-nen-signature' in req.headers })
    const request = { method: req.method, url: req.url, headers: req.headers, body: raw }
    try {
      const action = /^\/api\/nen\/(handshake|rotate|terminate|status)$/.exec(url.pathname)?.[1]
      if (action === 'handshake') return reply(res, await server.handshake(raw))
      if (action) return reply(res, await server[action](request))
      if (url.pathname === '/api/plain') return send(res, 200, { 'content-type': 'application/json' }, '{"injected":true}')
      // A hop that redirects: same origin (307 keeps the method and body when followed), or to
      // wherever `?to=` says (302).
      if (url.pathname === '/api/redirect/307') return send(res, 307, { location: '/api/echo' }, '')
      if (url.pathname === '/api/redirect/302') return send(res, 302, { location: url.searchParams.get('to') ?? '/api/echo' }, '')
      if (url.pathname === '/api/fake-expired') return send(res, 401, { 'content-type': 'application/json' }, new nen.NenError('ISO-2002').toBody())

      let opened
      try {
        opened = await server.open(request)
      } catch (e) {
        return fail(res, e) // before authentication: a plain coded error
      }
      try {
        await answer(req, res, url, opened)
      } catch (e) {
        // After authentication every answer is sealed, failures included (PROTOCOL.md §6.1).
        const code = typeof e?.code === 'string' && e.code.startsWith('ISO-') ? e.code : 'ISO-9000'
        const r = server.sealError(opened, code)
        send(res, r.status, r.headers, r.body)
      }
    } catch (e) {
      fail(res, e)
    }
  })

  async function answer(req, res, url, opened) {
    if (req.headers['x-test-error']) throw new nen.NenError(req.headers['x-test-error'])
    if (url.pathname === '/api/throws') throw new Error('handler bug with secret detail')
    if (url.pathname === '/api/swap') {
      // Answers with the response sealed for the previous request.
      const mine = server.seal(opened, '{"for":"this"}', 200)
      const out = lastSealed ?? mine
      lastSealed = mine
      return send(res, 200, { 'content-type': 'application/json' }, out)
    }
    // Test-only headers (outside the signature): fix the handler's answer, for the
    // reproducibility test that must match docs/vectors byte for byte.
    const fixedReply = req.headers['x-test-reply']
    const fixedTokens = req.headers['x-test-tokens']
    if (url.pathname.startsWith('/api/stream') || fixedTokens) {
      const stream = server.stream(opened, 32)
      res.writeHead(200, stream.headers)
      const tokens = fixedTokens ? JSON.parse(fixedTokens) : ['The ', 'quick ', 'brown ', 'fox']
      for (const t of tokens) {
        const frame = stream.chunk(t)
        wire.push(frame)
        res.write(frame)
        await new Promise((r) => setTimeout(r, 2))
      }
      if (url.pathname === '/api/stream/truncated') return res.destroy()
      if (url.pathname === '/api/stream/cut') return res.end()
      if (url.pathname === '/api/stream/tampered') {
        const frame = stream.finish().replace(/data: (.)/, (_, c) => `data: ${c === 'A' ? 'B' : 'A'}`)
        wire.push(frame)
        return res.end(frame)
      }
      const end = url.pathname === '/api/stream/fail' ? stream.fail('ISO-8001') : stream.finish()
      wire.push(end)
      return res.end(end)
    }
    const [status, value] = fixedReply ? [Number(req.headers['x-test-status'] ?? 200), JSON.parse(fixedReply)] : await app(opened, url, req)
    if (opened.method === 'HEAD') {
      res.writeHead(status, { 'x-nen-response': server.sealHead(opened, status) })
      return res.end()
    }
    send(res, status, { 'content-type': 'application/json' }, server.seal(opened, JSON.stringify(value), status))
  }
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r))
  const { port } = httpServer.address()
  return {
    url: `http://127.0.0.1:${port}`,
    get server() {
      return server
    },
    /** Restarts the Nen server: every session it held is gone (like a process restart). */
    reset() {
      server = new nen.NenServer(options)
    },
    wire,
    hits,
    close: () => new Promise((r) => httpServer.close(r)),
  }
}
