// Reading node:http requests and writing responses for the Node adapters, without building Web
// Request/Response objects (PERF-NOTES: that conversion alone cost a node:http server two thirds
// of its throughput).

import { type BodyLimit, requestBodyLimit } from './actions.js'
import { NenError, asNenError, errorReply } from './errors.js'
import type { Nen } from './config.js'
import type { Engine, Opened } from './engine/types.js'
import { sealFailure, sealResult, type SealedAnswer } from './seal.js'
import type { NodeRequest, NodeResponse } from './node-types.js'
import { REQUEST_HEADERS, RESPONSE_HEADER } from '../../shared/generated/protocol.js'

/** The `x-nen-*` request headers: all the engine reads. */
export function nenHeaders(headers: NodeRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of REQUEST_HEADERS) {
    const v = headers[name]
    if (typeof v === 'string') out[name] = v
  }
  return out
}

/**
 * The target the client sent, byte for byte, which is what the router dispatched on: Node's raw
 * `req.url` as it arrived. Express and Connect rewrite `req.url` inside mounted routers and keep
 * the original in `req.originalUrl`; nothing else rewrites it before a handler runs.
 */
export const signedUrl = (req: NodeRequest) => req.originalUrl ?? req.url ?? '/'

/**
 * The target to verify: `signedUrl`, which must be origin-form (start with `/`), else ISO-6005.
 * An absolute-form request line (`POST http://host/path`) is refused rather than reduced to its
 * path: Node routers disagree about its authority (`new URL('http:///api/items')` is host `api`,
 * path `/items`; parseurl reads `http://x;/api/items` as path `;/api/items`), so the path Nen
 * would verify is not the one that runs, and the authority is unsigned. Origin servers only get
 * absolute-form from proxies (RFC 9112 §3.2.2); a proxy in front of Node sends origin-form.
 */
export function originTarget(req: NodeRequest): string {
  const t = signedUrl(req)
  if (!t.startsWith('/')) throw new NenError('ISO-6005')
  return t
}

/** What a body parser left, as the raw envelope; undefined if none ran. */
function parsedBody(req: NodeRequest): { text: string | Uint8Array | undefined } | undefined {
  // body-parser (express.json() and friends) marks a body it consumed with `_body`; Express 4
  // also sets `req.body = {}` when it did not, which must not be mistaken for a body.
  const consumed = (req as { _body?: unknown })._body === true || (req.readableEnded === true && req.body !== undefined)
  if (!consumed) return undefined
  const b = req.body
  if (typeof b === 'string') return { text: b === '' ? undefined : b }
  if (b instanceof Uint8Array) return { text: b.byteLength === 0 ? undefined : b }
  // The signature covers the ciphertext's length and tag, not the envelope's bytes, so a parsed
  // {"ct"} serialised again verifies exactly as sent; any extra field is kept, and refused.
  if (b !== null && typeof b === 'object') return { text: JSON.stringify(b) }
  return { text: undefined }
}

/**
 * The raw body as read, bytes not decoded (the engine takes them as they are; undefined when
 * empty), refused with `limit.code` (ISO-4005, or ISO-1008 for a handshake) past `limit.bytes` before it is all
 * in memory.
 */
export function readBody(req: NodeRequest, limit: BodyLimit): Promise<string | Uint8Array | undefined> {
  const parsed = parsedBody(req)
  if (parsed) return Promise.resolve(parsed.text)
  // Consumed by something that left nothing behind: waiting for 'end' would wait forever.
  if (req.readableEnded) return Promise.resolve(undefined)
  const declared = Number(req.headers['content-length'])
  if (declared > limit.bytes) return Promise.reject(new NenError(limit.code))
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let total = 0
    const done = () => {
      req.removeListener('data', onData)
      req.removeListener('end', onEnd)
      req.removeListener('error', onError)
    }
    const onData = (c: Uint8Array) => {
      total += c.byteLength
      if (total > limit.bytes) {
        // The rest is not read: the 413 closes the connection (see send()).
        done()
        reject(new NenError(limit.code))
      } else chunks.push(c)
    }
    const onEnd = () => {
      done()
      if (total === 0) return resolve(undefined)
      if (chunks.length === 1) return resolve(chunks[0])
      const all = new Uint8Array(total)
      let at = 0
      for (const c of chunks) {
        all.set(c, at)
        at += c.byteLength
      }
      resolve(all)
    }
    const onError = (e: unknown) => {
      done()
      reject(e)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

export function send(res: NodeResponse, status: number, headers: Record<string, string | string[]>, body: string | null): void {
  if (res.headersSent) {
    res.end()
    return
  }
  res.writeHead(status, headers)
  res.end(body ?? undefined)
}

/** A plain coded error (§6.3), for failures before the request is authenticated. */
export function sendError(res: NodeResponse, e: unknown, extra?: Record<string, string>): void {
  const r = errorReply(e)
  const headers: Record<string, string> = extra ? { ...r.headers, ...extra } : r.headers
  // An oversized body was left unread: closing the connection stops the upload.
  if (r.status === 413) headers.connection = 'close'
  send(res, r.status, headers, r.body)
}

export function sendSealed(res: NodeResponse, a: SealedAnswer): void {
  const headers: Record<string, string | string[]> = {}
  for (const [k, v] of a.extra) {
    const prev = headers[k]
    headers[k] = prev === undefined ? v : k === 'set-cookie' ? [...(Array.isArray(prev) ? prev : [prev]), v] : `${prev}, ${v}`
  }
  headers['cache-control'] ??= 'no-store'
  if (a.head === null) headers['content-type'] = 'application/json'
  else headers[RESPONSE_HEADER] = a.head
  send(res, a.status, headers, a.body)
}

export function sendFailure(res: NodeResponse, engine: Engine, opened: Opened, e: unknown): void {
  let a: SealedAnswer
  try {
    a = sealFailure(engine, opened, e)
  } catch (e2) {
    sendError(res, asNenError(e) ? e : e2)
    return
  }
  sendSealed(res, a)
}

/** Seals and sends a handler's result; a result that cannot be sealed is a failure. */
export function sendAnswer(res: NodeResponse, o: OpenedRequest, result: unknown): void {
  let a: SealedAnswer
  try {
    a = sealResult(o.engine, o.opened, result)
  } catch (e) {
    sendFailure(res, o.engine, o.opened, e)
    return
  }
  sendSealed(res, a)
}

export interface OpenedRequest {
  engine: Engine
  opened: Opened
  body: unknown
}

/** Verifies and decrypts, or answers the error and returns null. */
export async function openRequest(nen: Nen, req: NodeRequest, res: NodeResponse): Promise<OpenedRequest | null> {
  const method = req.method ?? 'GET'
  let engine: Engine
  let opened: Opened
  try {
    engine = await nen.ready(method, signedUrl(req))
    const body = await readBody(req, requestBodyLimit(nen))
    opened = await engine.open({ method, url: originTarget(req), headers: nenHeaders(req.headers), body })
  } catch (e) {
    sendError(res, e)
    return null
  }
  try {
    return { engine, opened, body: opened.body === null ? null : JSON.parse(opened.body) }
  } catch (e) {
    sendFailure(res, engine, opened, new NenError('ISO-4003', { cause: e }))
    return null
  }
}
