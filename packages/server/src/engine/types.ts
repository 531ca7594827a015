// The Engine: every server-side protocol step, behind one interface that mirrors the native
// NenServer of @withnen/server-native, so the native addon and the WebAssembly build are
// interchangeable under the handlers. Engines throw (or reject with) NenErrors only.

/** A reply ready to send: status, headers (lower-case names) and body. */
export interface NenReply {
  status: number
  headers: Record<string, string>
  body: string
}

/** An incoming request as engines see it. */
export interface EngineRequest {
  /** HTTP method, exactly as received. */
  method: string
  /**
   * The target exactly as received, the bytes the router dispatched on (`path?query`), or an
   * absolute URL (reduced to its `path?query` only when it starts with `scheme://`).
   */
  url: string
  /** At least the `x-nen-*` headers, lower-case names. */
  headers: Record<string, string>
  /** The raw `{"ct"}` envelope, as read (bytes need no decoding); absent or empty for none. */
  body?: string | Uint8Array
}

/**
 * A verified, decrypted request. Engines hand back their own object: pass it only to the engine
 * that opened it (`seal`, `sealHead`, `stream`).
 */
export interface Opened {
  /** Session id (32 hex digits). */
  readonly sid: string
  /** Upper-case HTTP method. */
  readonly method: string
  /** Request timestamp, Unix ms. */
  readonly timestamp: number
  /** The decrypted body as JSON text, or null when the request had none. */
  readonly body: string | null
  /**
   * The verified `x-nen-idempotency-key`, or null. Deduplicate on this one only: a plain
   * `Idempotency-Key` header is outside the signature and any hop may have set or changed it.
   */
  readonly idempotencyKey: string | null
}

/** An encrypted server-sent-event stream answering one request. */
export interface EngineStream {
  /** Headers to send before the first frame. */
  readonly headers: Record<string, string>
  /** Seals one chunk into a complete SSE frame. */
  chunk(data: string | Uint8Array): string
  /** The authenticated final frame. */
  finish(): string
  /** An authenticated final frame carrying an `ISO-xxxx` code. */
  fail(code: string): string
  /** Whether the final frame was written. */
  readonly finished: boolean
}

/**
 * A session store written in JavaScript, on the store layout every Nen store shares
 * (PROTOCOL.md §9, `store-layout.ts`): one record per session key holding the wrapped entry
 * (opaque base64), the end of its rotation grace once rotated, and its replay records, so that
 * nothing can evict a replay record without the session it guards. Every write carries a TTL.
 */
export interface NenStoreAdapter {
  /** The record at `key`: its entry and, once rotated, the end of its grace (Unix ms); null if absent. */
  load(key: string): Promise<{ entry: string; retiredAt: number | null } | null>
  /** Stores a new record at `key` holding `entry`, expiring in `ttlMs`. */
  put(key: string, entry: string, ttlMs: number): Promise<void>
  /** Deletes the record: the session and all its replay records. */
  delete(key: string): Promise<void>
  /**
   * Atomically and once: `'gone'` if the record is absent, `'rotated'` if it was retired before;
   * else records `atMs` as its end, lowers its TTL to `ttlMs` (never raises it) and answers `'ok'`.
   */
  retire(key: string, atMs: number, ttlMs: number): Promise<'ok' | 'gone' | 'rotated'>
  /**
   * Atomically: `'gone'` if the record is absent; `'replay'` if `nonce` is recorded in it with a
   * time after `nowMs`; else records `nonce` until `untilMs` inside the same record (pruning
   * expired ones) and answers `'ok'`. Replay protection rests on this being one atomic step.
   */
  recordNonce(key: string, nonce: string, nowMs: number, untilMs: number): Promise<'ok' | 'gone' | 'replay'>
}

/** Fields every store kind shares. */
export interface StoreCommon {
  /** Prefix of every key. Default `nen:`. */
  keyPrefix?: string
  /** Bound on each store operation; past it requests fail closed with ISO-8001. Default 1000. */
  timeoutMs?: number
  /** 32 bytes, base64: wraps session keys before they leave the process. */
  wrappingKey?: string
  /** Several wrapping keys: the first wraps new sessions, every one opens what it wrapped. */
  wrappingKeys?: string[]
}

/** Where sessions live, as engines receive it (environment defaults already applied). */
export type StoreConfig =
  | { kind: 'memory' }
  | (StoreCommon & { kind: 'redis'; url: string })
  | (StoreCommon & { kind: 'redis-cluster'; nodes: string[] })
  | (StoreCommon & { kind: 'js'; adapter: NenStoreAdapter })

/** The engine options passed through unchanged, by name (everything but the store). */
export const ENGINE_OPTION_KEYS = [
  'sessionTtlMs',
  'windowMs',
  'rotationGraceMs',
  'maxBodyBytes',
  'maxHandshakeBytes',
  'maxClockSkewMs',
  'maxSessions',
  'handshakeBudget',
  'streamPadding',
  'modes',
  'identitySecretKey',
  'testRngSeed',
  'testNowMs',
] as const

/** What an engine is created with: the NenServer options and the store. */
export interface EngineOptions {
  store: StoreConfig
  sessionTtlMs?: number
  windowMs?: number
  rotationGraceMs?: number
  maxBodyBytes?: number
  maxHandshakeBytes?: number
  maxClockSkewMs?: number
  maxSessions?: number
  handshakeBudget?: { perSecond: number; burst?: number }
  streamPadding?: number
  modes?: Array<'hybrid' | 'mlkem768'>
  identitySecretKey?: string
  /** Test builds of the engines only (refused by the published ones): deterministic randomness. */
  testRngSeed?: string
  /** Tests only, with `testRngSeed`: a fixed clock. */
  testNowMs?: number
}

/** The server side of the protocol. */
export interface Engine {
  /** Answers `POST /api/nen/handshake`. */
  handshake(body: string | Uint8Array): Promise<NenReply>
  /** Verifies, checks replay and decrypts a request. */
  open(req: EngineRequest): Promise<Opened>
  /** The `{"ct","n"}` body answering `opened` with `status` (default 200). */
  seal(opened: Opened, json: string, status?: number): string
  /** The `x-nen-response` header answering a HEAD request. */
  sealHead(opened: Opened, status?: number): string
  /**
   * The sealed reply failing `opened` with `code` under the code's status (HEAD: the
   * `x-nen-response` header, empty body). Every failure after authentication is answered so.
   */
  sealError(opened: Opened, code: string): NenReply
  /** An encrypted SSE stream answering `opened`; `padBlock` overrides `streamPadding`. */
  stream(opened: Opened, padBlock?: number): EngineStream
  /** Answers the authenticated `POST /api/nen/rotate`; always resolves to the reply to send. */
  rotate(req: EngineRequest): Promise<NenReply>
  /** Answers the authenticated `POST /api/nen/terminate`; always resolves to the reply to send. */
  terminate(req: EngineRequest): Promise<NenReply>
  /** Answers the authenticated `GET /api/nen/status`; always resolves to the reply to send. */
  status(req: EngineRequest): Promise<NenReply>
}
