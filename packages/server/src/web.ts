// Encrypted route handlers on Web Request/Response: Next.js App Router route handlers and any
// Fetch-API runtime.

import { requestBodyLimit } from './actions.js'
import { NenError, asNenError, codeOf } from './errors.js'
import { defaultNen, pathOf, type Nen } from './config.js'
import type { Engine, EngineStream, Opened } from './engine/types.js'
import { sealFailure, sealResult, type SealedAnswer } from './seal.js'
import { item, iterate, stop, type NenStreamSource } from './stream.js'
import { errorResponse, nenHeaders, readBody } from './web-io.js'
import { signedTarget } from './web-target.js'
import { RESPONSE_HEADER } from '../../shared/generated/protocol.js'

/** Options of `withNen`. */
export interface WithNenOptions {
  /** The configuration to use (from `createNen`). Default: the one set by `configureNen`. */
  nen?: Nen
}

/** Options of `withNenStream`. */
export interface WithNenStreamOptions extends WithNenOptions {
  /** Pad each chunk to a multiple of this many bytes (hides token lengths). Default: `streamPadding`. */
  padBlock?: number
}

/**
 * An encrypted route's handler: receives the request, the decrypted JSON body (null without one)
 * and the route context; returns a JSON value or `nenResponse(value, { status, headers })`.
 */
export type NenHandler<TBody = unknown, TCtx = unknown> = (req: Request, body: TBody, ctx: TCtx) => unknown | Promise<unknown>

/** An encrypted stream's handler: returns the chunks to send, each sealed on its own. */
export type NenStreamHandler<TBody = unknown, TCtx = unknown> = (req: Request, body: TBody, ctx: TCtx) => NenStreamSource | Promise<NenStreamSource>

/**
 * A Fetch-API route handler, as Next.js route files export them. The context is optional only
 * when the handler does not type it: Next.js rejects a route export whose second parameter is a
 * typed context `| undefined`, and runtimes other than Next.js pass none.
 */
export type NenRouteHandler<TCtx = unknown> = unknown extends TCtx ? (req: Request, ctx?: unknown) => Promise<Response> : (req: Request, ctx: TCtx) => Promise<Response>

interface OpenedRequest {
  engine: Engine
  opened: Opened
  body: unknown
}

/**
 * What each verified Request carried, for `idempotencyKeyOf`. One map per process: each entry
 * point is its own bundle, and `idempotencyKeyOf` from `@withnen/server` must see the requests
 * that `@withnen/server/hono`'s handlers verified.
 */
const VERIFIED = Symbol.for('@withnen/server:verified')
const verified: WeakMap<Request, Opened> = ((globalThis as Record<symbol, WeakMap<Request, Opened> | undefined>)[VERIFIED] ??= new WeakMap())

/**
 * The verified `x-nen-idempotency-key` of a request a Nen handler is serving (the client's
 * `idempotencyKey`), or null. Deduplicate on this one only: a plain `Idempotency-Key` header is
 * outside the signature and any hop may have set or changed it.
 */
export function idempotencyKeyOf(req: Request): string | null {
  return verified.get(req)?.idempotencyKey ?? null
}

/** Verifies and decrypts `req`, or answers the plain coded error (§6.3). */
async function openRequest(nen: Nen, req: Request): Promise<OpenedRequest | Response> {
  let engine: Engine
  let opened: Opened
  try {
    engine = await nen.ready(req.method, req.url)
    const raw = await readBody(req, requestBodyLimit(nen))
    opened = await engine.open({ method: req.method, url: signedTarget(req), headers: nenHeaders(req.headers), body: raw })
  } catch (e) {
    return errorResponse(e)
  }
  verified.set(req, opened)
  try {
    return { engine, opened, body: opened.body === null ? null : JSON.parse(opened.body) }
  } catch (e) {
    return failed(engine, opened, new NenError('ISO-4003', { cause: e }))
  }
}

function answer(a: SealedAnswer): Response {
  const own: Record<string, string> = a.head === null ? { 'content-type': 'application/json', 'cache-control': 'no-store' } : { [RESPONSE_HEADER]: a.head, 'cache-control': 'no-store' }
  if (a.extra.length === 0) return new Response(a.body, { status: a.status, headers: own })
  // The handler's headers first, so its cache-control may replace the default; the protocol's
  // own names were filtered out and are set last.
  const headers = new Headers()
  for (const [k, v] of a.extra) headers.append(k, v)
  for (const [k, v] of Object.entries(own)) if (k !== 'cache-control' || !headers.has(k)) headers.set(k, v)
  return new Response(a.body, { status: a.status, headers })
}

/** Seals a failure; if even that fails (it should not), the plain coded form. */
function failed(engine: Engine, opened: Opened, e: unknown): Response {
  try {
    return answer(sealFailure(engine, opened, e))
  } catch (e2) {
    return errorResponse(asNenError(e) ? e : e2)
  }
}

/**
 * Wraps a handler into an encrypted route: the request is verified and decrypted before the
 * handler runs, and whatever it returns or throws is sealed for that request. A thrown NenError
 * answers its code and status; anything else answers ISO-9000 (500) without detail.
 */
export function withNen<TBody = unknown, TCtx = unknown>(handler: NenHandler<TBody, TCtx>, options: WithNenOptions = {}): NenRouteHandler<TCtx> {
  const route = async (req: Request, ctx?: TCtx): Promise<Response> => {
    const nen = options.nen ?? defaultNen()
    const o = await openRequest(nen, req)
    if (o instanceof Response) return o
    try {
      const result = await handler(req, o.body as TBody, ctx as TCtx)
      return answer(sealResult(o.engine, o.opened, result))
    } catch (e) {
      nen.report(e, { phase: 'handler', method: req.method, path: pathOf(req.url) })
      return failed(o.engine, o.opened, e)
    }
  }
  return route as NenRouteHandler<TCtx>
}

const encoder = new TextEncoder()

/**
 * The sealed SSE body: pulled one item at a time (no read-ahead, so a slow reader slows the
 * producer), ended with the authenticated end frame, or with an error end carrying the code if
 * the producer throws. Aborting the request or cancelling the body stops the producer.
 */
function sealedBody(s: EngineStream, it: AsyncIterator<string | Uint8Array>, signal: AbortSignal | undefined, onError: (e: unknown) => void): ReadableStream<Uint8Array> {
  let over = false
  let controller: ReadableStreamDefaultController<Uint8Array>
  const end = (frame: string | null) => {
    over = true
    signal?.removeEventListener('abort', onAbort)
    try {
      if (frame !== null) controller.enqueue(encoder.encode(frame))
      controller.close()
    } catch {}
  }
  const onAbort = () => {
    if (over) return
    stop(it)
    end(null)
  }
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        if (signal?.aborted) onAbort()
        else signal?.addEventListener('abort', onAbort)
      },
      async pull() {
        if (over) return
        let frame: string
        try {
          const step = await it.next()
          if (over) return
          if (step.done) return end(s.finish())
          frame = s.chunk(item(step.value))
        } catch (e) {
          if (over) return
          onError(e)
          stop(it)
          return end(s.fail(codeOf(e)))
        }
        controller.enqueue(encoder.encode(frame))
      },
      cancel() {
        onAbort()
      },
    },
    { highWaterMark: 0 },
  )
}

/**
 * Wraps a stream handler into an encrypted SSE route: each item it yields becomes one sealed
 * frame, then the authenticated end. A throw before the first item is answered like `withNen`
 * (sealed, with its status); a throw while streaming ends the stream with its code (ISO-9000 if
 * uncoded), which the client raises as a NenError.
 */
export function withNenStream<TBody = unknown, TCtx = unknown>(handler: NenStreamHandler<TBody, TCtx>, options: WithNenStreamOptions = {}): NenRouteHandler<TCtx> {
  const route = async (req: Request, ctx?: TCtx): Promise<Response> => {
    const nen = options.nen ?? defaultNen()
    const o = await openRequest(nen, req)
    if (o instanceof Response) return o
    const report = (e: unknown) => nen.report(e, { phase: 'stream', method: req.method, path: pathOf(req.url) })
    // HEAD asks whether the stream would answer, not for its frames.
    if (o.opened.method === 'HEAD') {
      try {
        return answer(sealResult(o.engine, o.opened, null))
      } catch (e) {
        return failed(o.engine, o.opened, e)
      }
    }
    let it: AsyncIterator<string | Uint8Array>
    let s: EngineStream
    try {
      it = iterate(await handler(req, o.body as TBody, ctx as TCtx))
    } catch (e) {
      nen.report(e, { phase: 'handler', method: req.method, path: pathOf(req.url) })
      return failed(o.engine, o.opened, e)
    }
    try {
      s = o.engine.stream(o.opened, options.padBlock)
    } catch (e) {
      stop(it)
      return failed(o.engine, o.opened, e)
    }
    // x-accel-buffering: nginx-style proxies would otherwise buffer the stream and hold tokens back.
    return new Response(sealedBody(s, it, req.signal, report), { status: 200, headers: { ...s.headers, 'x-accel-buffering': 'no' } })
  }
  return route as NenRouteHandler<TCtx>
}
