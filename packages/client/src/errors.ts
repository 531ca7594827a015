// Every failure the client reports is a NenError with a stable ISO code.

import { CATALOGUE } from '../../shared/generated/catalogue.js'

/** One entry of the error catalogue. */
export interface NenCodeInfo {
  /** `ISO-xxxx`, never renumbered. */
  code: string
  /** HTTP status the server answers with (client-side codes: the status a caller maps them to). */
  status: number
  /** Stable name, e.g. `SIGNATURE_INVALID`. */
  name: string
  /** What happened. */
  message: string
  /** What to do about it. */
  fix: string
  /** `'server'`, `'client'` or `'both'`. */
  side: string
}

/**
 * A Nen failure. `authenticated` is true only when the error reached the client inside a
 * response sealed for its request; a plain `{"error":…}` body could have been written by any hop.
 */
export class NenError extends Error {
  readonly code: string
  readonly status: number
  readonly authenticated: boolean

  constructor(code: string, options: { message?: string; status?: number; authenticated?: boolean; cause?: unknown } = {}) {
    const info = describeNenCodeSync(code)
    super(options.message ?? info?.message ?? 'Internal error', options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'NenError'
    this.code = info?.code ?? 'ISO-9000'
    this.status = options.status ?? info?.status ?? 500
    this.authenticated = options.authenticated ?? false
  }
}

// The catalogue ships with the package (scripts/catalogue.mjs writes it from nen-core's), so
// codes are described synchronously, before the WebAssembly core has loaded.
let catalogue: Map<string, NenCodeInfo> | undefined

function describeNenCodeSync(code: string): NenCodeInfo | null {
  catalogue ??= new Map(CATALOGUE.map(([c, status, name, message, fix, side]) => [c, { code: c, status, name, message, fix, side }]))
  const key = /^\d{4}$/.test(code) ? `ISO-${code}` : code
  return catalogue.get(key) ?? null
}

/** Describes an error code (`ISO-3002` or `3002`); null for unknown codes. */
export { describeNenCodeSync as describeNenCode }

const CODE = /^ISO-\d{4}$/

/** Converts an error thrown by the WASM core (its `code` set at the source) into a NenError; other values pass through. */
export function toNenError(e: unknown): unknown {
  if (e instanceof NenError) return e
  if (!(e instanceof Error)) return e
  const { code, authenticated } = e as Error & { code?: unknown; authenticated?: unknown }
  if (typeof code !== 'string' || !CODE.test(code)) return e
  // The core marks failures the server sealed for the request; those keep the catalogue text.
  const sealed = authenticated === true
  return new NenError(code, { message: sealed ? undefined : e.message, authenticated: sealed })
}

/** Runs a core call, turning its errors into NenErrors. */
export function coded<T>(f: () => T): T {
  try {
    return f()
  } catch (e) {
    throw toNenError(e)
  }
}
