// The node:http adapters over real HTTP on loopback, with the real client.

import test from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { createRequire } from 'node:module'
import { configureNen, createNen, nenResponse } from '../dist/index.mjs'
import { nenNodeHandler, nenNodeRoutes, withNenStreamNode } from '../dist/node.mjs'
import { NenClient, createApp, createNenStream, eventually, fullRoundTrip, listen, nodeServer, recordingFetch, rejectsWith } from './support/app.mjs'

const require = createRequire(import.meta.url)

// Expected handler failures are part of the scenario; keep the test output clean.
configureNen({ onError: () => {} })

/** A raw HTTP request: `chunks` are written one by one (chunked transfer, no content-length). */
function raw(url, { method = 'POST', headers = {}, chunks = [] } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }))
      res.on('error', reject)
    })
    // The server may answer and close before every chunk is written.
    req.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)))
    for (const c of chunks) req.write(c)
    req.end()
  })
}

test('full round trip through the node:http adapters', { timeout: 30000 }, async () => {
  const app = createApp()
  const srv = await nodeServer(app)
  try {
    const wire = []
    await fullRoundTrip(srv.url, recordingFetch(wire), { wire, app })
  } finally {
    await srv.close()
  }
})

test('routes: only the four are taken, each with its method', { timeout: 10000 }, async () => {
  const srv = await nodeServer(createApp())
  try {
    assert.equal((await raw(`${srv.url}/api/nen/nope`)).status, 404)
    const wrong = await raw(`${srv.url}/api/nen/status`, { method: 'POST' })
    assert.equal(wrong.status, 405)
    assert.equal(wrong.headers.allow, 'GET')
    assert.equal(JSON.parse(wrong.text).error.code, 'ISO-6007')
    const unsigned = await raw(`${srv.url}/api/nen/terminate`)
    assert.equal(unsigned.status, 400)
    assert.equal(JSON.parse(unsigned.text).error.code, 'ISO-1005')
    // A handshake body far larger than any real one is refused before it is buffered.
    const huge = await raw(`${srv.url}/api/nen/handshake`, { chunks: Array.from({ length: 80 }, () => 'x'.repeat(1024)) })
    assert.equal(huge.status, 413)
    assert.equal(JSON.parse(huge.text).error.code, 'ISO-1008')
  } finally {
    await srv.close()
  }
})

test('bodies over maxBodyBytes: 413 with the connection closed, declared or chunked', { timeout: 10000 }, async () => {
  const nen = createNen({ maxBodyBytes: 4096 })
  const srv = await nodeServer(createApp(), { nen })
  try {
    const client = new NenClient(srv.url)
    await rejectsWith(client.nenFetch('/api/echo', { method: 'POST', body: { pad: 'x'.repeat(5000) } }), 'ISO-4005', 413)
    const chunked = await raw(`${srv.url}/api/echo`, { chunks: Array.from({ length: 8 }, () => 'y'.repeat(1024)) })
    assert.equal(chunked.status, 413)
    assert.equal(chunked.headers.connection, 'close')
    assert.equal(JSON.parse(chunked.text).error.code, 'ISO-4005')
    assert.equal((await (await client.nenFetch('/api/echo', { method: 'POST', body: { pad: 'ok' } })).json()).body.pad, 'ok')
  } finally {
    await srv.close()
  }
})

test('headers set on res and through nenResponse both arrive', { timeout: 10000 }, async () => {
  const routes = nenNodeRoutes()
  const handler = nenNodeHandler((body, { res }) => {
    res.setHeader('x-set-on-res', '1')
    const headers = new Headers([['x-multi', 'a']])
    headers.append('set-cookie', 'a=1')
    headers.append('set-cookie', 'b=2')
    return nenResponse({ got: body }, { status: 202, headers })
  })
  const srv = await listen((req, res) => routes(req, res) || handler(req, res))
  try {
    const res = await new NenClient(srv.url).nenFetch('/api/h', { method: 'POST', body: 'text' })
    assert.equal(res.status, 202)
    assert.equal(res.headers.get('x-set-on-res'), '1')
    assert.equal(res.headers.get('x-multi'), 'a')
    assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2'])
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.deepEqual(await res.json(), { got: 'text' })
  } finally {
    await srv.close()
  }
})

test('a client gone while a stream handler starts aborts its signal', { timeout: 10000 }, async () => {
  const seen = []
  let iterated = false
  const routes = nenNodeRoutes()
  const stream = withNenStreamNode(async (body, { signal }) => {
    // An upstream call that honours the signal (an LLM request, say).
    await new Promise((resolve) => {
      const t = setTimeout(resolve, 5000)
      signal.addEventListener('abort', () => {
        clearTimeout(t)
        resolve()
      })
    })
    seen.push(signal.aborted)
    return (async function* () {
      iterated = true
      yield 'never sent'
    })()
  })
  const srv = await listen((req, res) => routes(req, res) || stream(req, res))
  try {
    const client = new NenClient(srv.url)
    await client.handshake()
    const ac = new AbortController()
    const first = createNenStream(client)('/api/slow', { body: {}, signal: ac.signal }).next()
    setTimeout(() => ac.abort(), 50)
    await assert.rejects(first)
    await eventually(() => seen.length === 1, 'the handler to see the abort')
    assert.deepEqual(seen, [true])
    assert.equal(iterated, false)
  } finally {
    await srv.close()
  }
})

test('the CommonJS build of the node adapters', { timeout: 10000 }, async () => {
  const node = require('../dist/node.cjs')
  const routes = node.nenNodeRoutes()
  const handler = node.nenNodeHandler((body) => ({ cjs: body }))
  const srv = await listen((req, res) => routes(req, res) || handler(req, res))
  try {
    const res = await new NenClient(srv.url).nenFetch('/api/c', { method: 'PUT', body: { v: 1 } })
    assert.deepEqual(await res.json(), { cjs: { v: 1 } })
  } finally {
    await srv.close()
  }
})

test('handshake flood control: a per-client hook and a per-instance budget (ISO-1009, 429)', { timeout: 10000 }, async () => {
  // The hook sees the request: here a per-IP counter allowing three handshakes.
  const seen = new Map()
  const nen = createNen({
    allowHandshake: (req) => {
      const ip = req.socket.remoteAddress
      seen.set(ip, (seen.get(ip) ?? 0) + 1)
      return seen.get(ip) <= 3
    },
  })
  const srv = await nodeServer(createApp(), { nen })
  try {
    for (let i = 0; i < 3; i++) await new NenClient(srv.url).handshake()
    const err = await rejectsWith(new NenClient(srv.url).handshake(), 'ISO-1009', 429)
    assert.equal(err.authenticated, false)
    assert.equal(seen.get('127.0.0.1'), 4)
  } finally {
    await srv.close()
  }
  for (const engine of ['native', 'wasm']) {
    const budgeted = createNen({ engine, handshakeBudget: { perSecond: 1, burst: 2 } })
    const s2 = await nodeServer(createApp(), { nen: budgeted })
    try {
      const client = new NenClient(s2.url)
      await client.handshake()
      await new NenClient(s2.url).handshake()
      await rejectsWith(new NenClient(s2.url).handshake(), 'ISO-1009', 429)
      // Sessions already made are not limited.
      for (let i = 0; i < 5; i++) assert.equal((await client.nenFetch('/api/echo')).status, 200)
    } finally {
      await s2.close()
    }
  }
})

test('the WASM engine’s memory store is bounded like the native one (ISO-8003)', { timeout: 10000 }, async () => {
  const nen = createNen({ engine: 'wasm', maxSessions: 3 })
  const srv = await nodeServer(createApp(), { nen })
  try {
    const clients = []
    for (let i = 0; i < 3; i++) {
      const c = new NenClient(srv.url)
      await c.handshake()
      clients.push(c)
    }
    await rejectsWith(new NenClient(srv.url).handshake(), 'ISO-8003', 503)
    for (const c of clients) assert.equal((await c.nenFetch('/api/echo')).status, 200)
    await clients[0].terminate()
    await new NenClient(srv.url).handshake()
  } finally {
    await srv.close()
  }
})

test('an oversized handshake is ISO-1008 (413) over HTTP too, refused while reading, on both engines', { timeout: 10000 }, async () => {
  for (const engine of ['native', 'wasm']) {
    const srv = await nodeServer(createApp(), { nen: createNen({ engine, maxHandshakeBytes: 4096 }) })
    try {
      const big = await raw(`${srv.url}/api/nen/handshake`, { chunks: ['{"v":1,', ' '.repeat(8192), '}'] })
      assert.equal(big.status, 413)
      assert.equal(JSON.parse(big.text).error.code, 'ISO-1008')
      assert.equal(big.headers['x-nen-error'], 'ISO-1008')
      // A real handshake still fits.
      await new NenClient(srv.url).handshake()
    } finally {
      await srv.close()
    }
  }
})
