// What a handler returns when it needs more than a JSON value: a status and headers for the
// encrypted response.

import { HEADER_PREFIX } from '../../shared/generated/protocol.js'

/** Response headers: a plain object, a `Headers`, or name/value pairs. */
export type NenHeadersInit = Record<string, string> | Headers | Array<[string, string]>

/** Status and headers of an encrypted response. */
export interface NenResponseInit {
  /** HTTP status, 200-599 except 204, 205 and 304 (they cannot carry the sealed body). Default 200. */
  status?: number
  /** Extra headers, sent in clear. `content-type` and `x-nen-*` are the protocol's and are replaced. */
  headers?: NenHeadersInit
}

// Recognised by this brand rather than `instanceof`: each entry point and build has its own class.
const BRAND = Symbol.for('@withnen/server.response')

/** A JSON value with the status and headers to seal it under. */
export class NenResponse<T = unknown> {
  readonly [BRAND] = true
  readonly value: T
  readonly status: number
  readonly headers: NenHeadersInit | undefined

  constructor(value: T, init: NenResponseInit = {}) {
    const status = init.status ?? 200
    // 204, 205 and 304 have no body on HTTP, and a response to a Nen request is its sealed body;
    // 1xx are not final answers.
    if (!Number.isInteger(status) || status < 200 || status > 599 || status === 204 || status === 205 || status === 304) {
      throw new RangeError(`nenResponse: status ${status} cannot carry a sealed body; use 200-599 other than 204, 205 and 304`)
    }
    this.value = value
    this.status = status
    this.headers = init.headers
  }
}

/** Returns `value` sealed with `status` and `headers`: `return nenResponse(item, { status: 201 })`. */
export function nenResponse<T>(value: T, init?: NenResponseInit): NenResponse<T> {
  return new NenResponse(value, init)
}

export function isNenResponse(v: unknown): v is NenResponse {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[BRAND] === true
}

/** Header pairs of `init`, every `set-cookie` kept. */
export function headerPairs(init: NenHeadersInit | undefined): Array<[string, string]> {
  if (!init) return []
  if (Array.isArray(init)) return init.map(([k, v]) => [k.toLowerCase(), String(v)])
  if (typeof Headers !== 'undefined' && init instanceof Headers) {
    const out: Array<[string, string]> = []
    init.forEach((v, k) => {
      if (k !== 'set-cookie') out.push([k, v])
    })
    for (const c of init.getSetCookie?.() ?? []) out.push(['set-cookie', c])
    return out
  }
  return Object.entries(init as Record<string, string>).map(([k, v]) => [k.toLowerCase(), String(v)])
}

/** Headers the protocol owns: a handler's value for them is dropped. */
export function isReserved(name: string): boolean {
  return name === 'content-type' || name === 'content-length' || name.startsWith(HEADER_PREFIX)
}
