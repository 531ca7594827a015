// Types of @withnen/server-native: the generated binding plus NenError.
export * from './index'
import type { NenReply } from './index'

/** Every Nen failure: a stable ISO code, its HTTP status and the catalogue message. */
export declare class NenError extends Error {
  constructor(code: string, message?: string, status?: number)
  readonly name: 'NenError'
  /** `ISO-xxxx`; never renumbered. */
  readonly code: string
  /** HTTP status the server answers with. */
  readonly status: number
  /** The wire body `{"error":{"code","message"}}`. */
  toBody(): string
}

/** Converts a native error to a NenError; other values pass through unchanged. */
export declare function toNenError(e: unknown): unknown

/** A ready-to-send reply for any failure (unknown errors become ISO-9000 without detail). */
export declare function errorReply(e: unknown): NenReply
