// Every failure is a NenError with a stable ISO code; on the wire it is only
// {"error":{"code","message"}} with the catalogue message, never detail.

import { CATALOGUE } from '../../shared/generated/catalogue.js'
import { ERROR_HEADER } from '../../shared/generated/protocol.js'

/** One entry of the error catalogue. */
export interface NenCodeInfo {
  /** `ISO-xxxx`, never renumbered. */
  code: string
  /** HTTP status the server answers with. */
  status: number
  /** Stable name, e.g. `SIGNATURE_INVALID`. */
  name: string
  /** What happened (the wire message). */
  message: string
  /** What to do about it. */
  fix: string
  /** `'server'`, `'client'` or `'both'`. */
  side: string
}

let byCode: Map<string, NenCodeInfo> | undefined

/** Describes an error code (`ISO-3002` or `3002`); null for unknown codes. */
export function describeNenCode(code: string): NenCodeInfo | null {
  byCode ??= new Map(CATALOGUE.map(([c, status, name, message, fix, side]) => [c, { code: c, status, name, message, fix, side }]))
  const info = byCode.get(/^\d{4}$/.test(code) ? `ISO-${code}` : code)
  return info ? { ...info } : null
}

/**
 * A Nen failure. Throw one from a handler to answer with its code and status; `message` is for
 * your logs only (the wire carries the catalogue message).
 */
export class NenError extends Error {
  /** `ISO-xxxx`. */
  readonly code: string
  /** HTTP status of the answer. */
  readonly status: number

  constructor(code: string, options: { message?: string; status?: number; cause?: unknown } = {}) {
    const info = describeNenCode(code)
    super(options.message ?? info?.message ?? 'Internal error', options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'NenError'
    this.code = info?.code ?? 'ISO-9000'
    this.status = options.status ?? info?.status ?? 500
  }

  /** The wire body `{"error":{"code","message"}}`: the catalogue message only. */
  toBody(): string {
    return errorBody(this.code)
  }
}

/** `{"error":{"code","message"}}` for `code`, with the catalogue message. */
export function errorBody(code: string): string {
  return JSON.stringify({ error: { code, message: describeNenCode(code)?.message ?? 'Internal error' } })
}

const CODE = /^ISO-\d{4}$/

/**
 * The NenError for `e`, or null. Recognised by its `code`, set at the source by both cores, not
 * by `instanceof`: the ESM and CJS builds and each entry point carry their own class, and the
 * native addon and @withnen/client have theirs; a coded error from any of them keeps its code.
 */
export function asNenError(e: unknown): NenError | null {
  if (e instanceof NenError) return e
  if (!(e instanceof Error)) return null
  const { code, status } = e as Error & { code?: unknown; status?: unknown }
  if (typeof code !== 'string' || !CODE.test(code)) return null
  return new NenError(code, { message: e.message, status: typeof status === 'number' ? status : undefined, cause: e })
}

/** The code to report for any failure: its own if coded, else ISO-9000. */
export function codeOf(e: unknown): string {
  return asNenError(e)?.code ?? 'ISO-9000'
}

/** A ready-to-send plain error reply: coded errors keep code and status, the rest is ISO-9000. */
export function errorReply(e: unknown): { status: number; headers: Record<string, string>; body: string } {
  const err = asNenError(e) ?? new NenError('ISO-9000')
  // x-nen-error carries the code where there is no body (HEAD); it is a hint, never trusted.
  return { status: err.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', [ERROR_HEADER]: err.code }, body: err.toBody() }
}
