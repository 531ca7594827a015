// Types of @withnen/server-native: the generated binding plus NenError.
export * from './index'
import type { NenReply, NenServerOptions, StoreOptions, NenSignedRequest } from './index'
import { NenServer as NativeNenServer } from './index'

declare module './index' {
  interface NenClientSession {
    /** The handler's JSON text; a sealed failure throws a NenError with `authenticated: true`. */
    open(request: NenSignedRequest, status: number, body: string): string
    /** Checks a HEAD answer; a sealed failure throws a NenError with `authenticated: true`. */
    openHead(request: NenSignedRequest, status: number, header?: string | null): void
  }
}

/**
 * A session store written in JavaScript (Upstash REST, a custom backend), on the store layout of
 * PROTOCOL.md §9: one record per session key holding the wrapped entry (opaque base64), the end of
 * its rotation grace once rotated, and its replay records, so that nothing can evict a replay
 * record without the session it guards. Every write carries a TTL.
 */
export interface NenStoreAdapter {
  /** The record at `key`: its entry and, once rotated, the end of its grace (Unix ms); null if absent. */
  load(key: string): Promise<{ entry: string; retiredAt: number | null } | null>
  /** Replaces the record at `key` with a fresh one holding `entry`, expiring in `ttlMs`. */
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

/** `NenServerOptions` whose store may be a JavaScript adapter. */
export interface NenServerInit extends Omit<NenServerOptions, 'store'> {
  store?: StoreOptions | (Omit<StoreOptions, 'kind'> & { kind?: 'js'; adapter: NenStoreAdapter })
}

/** The Nen server; see the generated `NenServer` for its methods. */
export declare class NenServer extends NativeNenServer {
  constructor(options?: NenServerInit)
}

/** Every Nen failure: a stable ISO code, its HTTP status and the catalogue message. */
export declare class NenError extends Error {
  constructor(code: string, message?: string, status?: number, authenticated?: boolean)
  readonly name: 'NenError'
  /** `ISO-xxxx`; never renumbered. */
  readonly code: string
  /** HTTP status the server answers with. */
  readonly status: number
  /**
   * True when the server sealed this failure for the request (genuine); false for a local or a
   * plain, unauthenticated error, which any hop could have forged.
   */
  readonly authenticated: boolean
  /** The wire body `{"error":{"code","message"}}`. */
  toBody(): string
}

/** Converts a native error to a NenError; other values pass through unchanged. */
export declare function toNenError(e: unknown): unknown

/** A ready-to-send reply for any failure (unknown errors become ISO-9000 without detail). */
export declare function errorReply(e: unknown): NenReply
