// Reading Web Requests and writing Web Responses for the handlers in web.ts and web-routes.ts.

import type { BodyLimit } from './actions.js'
import { NenError, errorReply } from './errors.js'
import type { NenReply } from './engine/types.js'
import { REQUEST_HEADERS } from '../../shared/generated/protocol.js'

/** The `x-nen-*` request headers: all the engine reads. */
export function nenHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of REQUEST_HEADERS) {
    const v = headers.get(name)
    if (v !== null) out[name] = v
  }
  return out
}

/**
 * The body as read, bytes not decoded (undefined when empty), refused with `limit.code` (ISO-4005, or ISO-1008 for a handshake) past `limit.bytes` before it is
 * all in memory: a declared length is checked up front, an undeclared one while reading.
 */
export async function readBody(req: Request, limit: BodyLimit): Promise<Uint8Array | undefined> {
  if (!req.body) return undefined
  const declared = req.headers.get('content-length')
  if (declared !== null) {
    if (Number(declared) > limit.bytes) throw new NenError(limit.code)
    const bytes = new Uint8Array(await req.arrayBuffer())
    return bytes.byteLength === 0 ? undefined : bytes
  }
  const reader = req.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit.bytes) {
      void reader.cancel().catch(() => {})
      throw new NenError(limit.code)
    }
    chunks.push(value)
  }
  if (total === 0) return undefined
  if (chunks.length === 1) return chunks[0]
  const all = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.byteLength
  }
  return all
}

export function replyResponse(r: NenReply): Response {
  return new Response(r.body, { status: r.status, headers: r.headers })
}

/** A plain coded error (§6.3): for failures before the request is authenticated. */
export function errorResponse(e: unknown, extra?: Record<string, string>): Response {
  const r = errorReply(e)
  return new Response(r.body, { status: r.status, headers: extra ? { ...r.headers, ...extra } : r.headers })
}
