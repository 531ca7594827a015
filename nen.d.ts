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
 * A session store written in JavaScript (Upstash REST, a custom backend). Values are opaque
 * base64 strings (sessions are wrapped before they reach the adapter); every write carries a TTL.
 */
export interface NenStoreAdapter {
  /** The value at `key`, or null. */
  get(key: string): Promise<string | null>
  /** Stores `value` at `key` for `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>
  /** Deletes `key`. */
  del(key: string): Promise<void>
  /** Lowers the TTL of `key` to `ttlMs` if that is shorter (never extends it). */
  shorten(key: string, ttlMs: number): Promise<void>
  /**
   * Atomically: if `sessionKey` does not exist answer `'gone'`; else set `nonceKey` only if it
   * is absent, with `ttlMs`, answering `'ok'`, or `'replay'` if it was present. Must be atomic
   * (a Lua script, or SET NX PX after an EXISTS in one transaction): replay protection rests on it.
   */
  recordNonce(sessionKey: string, nonceKey: string, ttlMs: number): Promise<'ok' | 'gone' | 'replay'>
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
