// Shapes shared by the in-process sections and benchmark/profile.mjs: Web Requests as an adapter
// builds them, node:http req/res mocks, the plain handlers Nen is compared with, the token stream.

import { EventEmitter } from 'node:events'
import { SMALL } from './inputs.mjs'

const URL_BASE = 'http://localhost'
export const TOKEN = 'token-0123456789'
export const TOKENS = 1000

/** A Web Request as a node:http → Request adapter would build it (content-length included). */
export function webRequest(method, target, headers, body) {
  const h = { ...headers }
  if (body !== undefined) {
    h['content-type'] = 'application/json'
    h['content-length'] = String(Buffer.byteLength(body))
  }
  return new Request(URL_BASE + target, { method, headers: h, body })
}

/** node:http's IncomingMessage as far as a handler reads it; the body arrives once listened for. */
export class MockReq extends EventEmitter {
  constructor(method, url, headers, body) {
    super()
    this.method = method
    this.url = url
    this.headers = headers
    this.chunk = body === undefined ? null : Buffer.from(body)
    this.readableEnded = false
  }
  on(event, fn) {
    super.on(event, fn)
    if (event === 'end')
      queueMicrotask(() => {
        if (this.chunk) this.emit('data', this.chunk)
        this.readableEnded = true
        this.emit('end')
      })
    return this
  }
}

/** node:http's ServerResponse as far as the adapters use it. */
export class MockRes extends EventEmitter {
  headersSent = false
  destroyed = false
  writeHead(status, headers) {
    this.statusCode = status
    this.headers = headers
    this.headersSent = true
    return this
  }
  write() {
    return true
  }
  end(body) {
    this.body = body
    return this
  }
}

/** What a Node user writes without Nen: read, parse, answer. */
export const plainNode = (req, res) =>
  new Promise((resolve) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
      resolve()
    })
  })

export async function* tokens() {
  for (let i = 0; i < TOKENS; i++) yield TOKEN
}

export const encoder = new TextEncoder()

/** The same stream shape without encryption: pulled one item at a time, one SSE frame each. */
export function plainStream() {
  const it = tokens()
  const body = new ReadableStream(
    {
      async pull(c) {
        const step = await it.next()
        if (step.done) {
          c.enqueue(encoder.encode('event: end\ndata: \n\n'))
          c.close()
        } else c.enqueue(encoder.encode(`data: ${step.value}\n\n`))
      },
    },
    { highWaterMark: 0 },
  )
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
}

/** Reads a stream response to its end; returns the number of reads. */
export async function drain(res) {
  const reader = res.body.getReader()
  let reads = 0
  while (!(await reader.read()).done) reads++
  return reads
}

export const plainPost = async (req) => new Response(JSON.stringify(await req.json()), { status: 200, headers: { 'content-type': 'application/json' } })
export const plainGet = async () => new Response(JSON.stringify(SMALL), { status: 200, headers: { 'content-type': 'application/json' } })

/** Calls a Web handler and reads its whole answer; the status must be 200. */
export async function call(handler, req) {
  const res = await handler(req)
  const text = await res.text()
  if (res.status !== 200) throw new Error(`answered ${res.status}: ${text.slice(0, 200)}`)
  return text
}
