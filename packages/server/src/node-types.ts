// The shapes the Node adapters work with. node:http's IncomingMessage and ServerResponse, and
// Express's and Connect's objects built on them, fit structurally, so neither this package nor
// its users need @types/node for them.

import type { Nen } from './config.js'
import type { NenStreamSource } from './stream.js'

/** What the adapters read of a request: node:http's IncomingMessage, or Express's or Connect's. */
export interface NodeRequest {
  method?: string
  url?: string
  /** Express and Connect: the URL before mounting stripped a prefix; it is what was signed. */
  originalUrl?: string
  headers: Record<string, string | string[] | undefined>
  /** Set by a body parser (express.json(), express.text(), express.raw()). */
  body?: unknown
  readableEnded?: boolean
  // biome-ignore lint/suspicious/noExplicitAny: node:http's listener signatures vary by event
  on(event: string, listener: (...args: any[]) => void): unknown
  // biome-ignore lint/suspicious/noExplicitAny: as above
  removeListener(event: string, listener: (...args: any[]) => void): unknown
}

/** What the adapters use of a response: node:http's ServerResponse. */
export interface NodeResponse {
  readonly headersSent: boolean
  /** True once the connection is gone (node:http); 'close' will not come again. */
  readonly destroyed?: boolean
  writeHead(status: number, headers?: Record<string, string | string[]>): unknown
  write(chunk: string): boolean
  end(chunk?: string): unknown
  flushHeaders?(): void
  // biome-ignore lint/suspicious/noExplicitAny: node:http's listener signatures vary by event
  on(event: string, listener: (...args: any[]) => void): unknown
  // biome-ignore lint/suspicious/noExplicitAny: as above
  removeListener(event: string, listener: (...args: any[]) => void): unknown
}

/** The second argument of a Node handler. */
export interface NenNodeContext<TReq extends NodeRequest = NodeRequest, TRes extends NodeResponse = NodeResponse> {
  req: TReq
  res: TRes
  /**
   * The verified `x-nen-idempotency-key` (the client's `idempotencyKey`), or null. Deduplicate
   * on this one only: a plain `Idempotency-Key` header is outside the signature.
   */
  idempotencyKey: string | null
}

/** A stream handler's context: `signal` aborts when the client goes away. */
export interface NenNodeStreamContext<TReq extends NodeRequest = NodeRequest, TRes extends NodeResponse = NodeResponse> extends NenNodeContext<TReq, TRes> {
  signal: AbortSignal
}

/**
 * An encrypted route's handler: the decrypted JSON body (null without one) and `{req, res}`;
 * returns a JSON value or `nenResponse(value, { status, headers })`. Do not write to `res`:
 * the adapter sends the sealed answer (headers set with `res.setHeader` are kept).
 */
export type NenNodeHandler<TBody = unknown, TReq extends NodeRequest = NodeRequest, TRes extends NodeResponse = NodeResponse> = (
  body: TBody,
  ctx: NenNodeContext<TReq, TRes>,
) => unknown | Promise<unknown>

/** An encrypted stream's handler: returns the chunks to send, each sealed on its own. */
export type NenNodeStreamHandler<TBody = unknown, TReq extends NodeRequest = NodeRequest, TRes extends NodeResponse = NodeResponse> = (
  body: TBody,
  ctx: NenNodeStreamContext<TReq, TRes>,
) => NenStreamSource | Promise<NenStreamSource>

/** Options of the Node adapters. */
export interface NenNodeOptions {
  /** The configuration to use (from `createNen`). Default: the one set by `configureNen`. */
  nen?: Nen
}

/** Options of the stream adapters. */
export interface NenNodeStreamOptions extends NenNodeOptions {
  /** Pad each chunk to a multiple of this many bytes. Default: `streamPadding`. */
  padBlock?: number
}

/** Options of `nenNodeRoutes`. */
export interface NenNodeRoutesOptions extends NenNodeOptions {
  /** Where the routes live, relative to where the middleware is mounted. Default `/api/nen`. */
  basePath?: string
}

/**
 * The routes' request handler: answers the four routes and returns true; for any other path it
 * calls `next` if given and returns false.
 */
export type NenNodeRoutes = (req: NodeRequest, res: NodeResponse, next?: (err?: unknown) => void) => boolean
