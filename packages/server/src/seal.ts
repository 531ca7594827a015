// Turning a handler's outcome into the sealed answer, the same for Web and Node responses. Every
// answer to an authenticated request is sealed (PROTOCOL.md §6.1), errors included: the client
// can then trust the status and code, which a plain error body would not let it do.

import { asNenError } from './errors.js'
import type { Engine, Opened } from './engine/types.js'
import { headerPairs, isNenResponse, isReserved } from './response.js'
import { RESPONSE_HEADER } from '../../shared/generated/protocol.js'

export interface SealedAnswer {
  status: number
  /** The handler's own headers, protocol-owned names dropped. */
  extra: Array<[string, string]>
  /** The `{"ct","n"}` body, or null answering HEAD. */
  body: string | null
  /** The `x-nen-response` value answering HEAD, else null. */
  head: string | null
}

const NONE: Array<[string, string]> = []

function sealed(engine: Engine, opened: Opened, status: number, json: string, extra: Array<[string, string]>): SealedAnswer {
  if (opened.method === 'HEAD') return { status, extra, body: null, head: engine.sealHead(opened, status) }
  return { status, extra, body: engine.seal(opened, json, status), head: null }
}

/** Seals a handler's result: a JSON value, or a `nenResponse` with status and headers. */
export function sealResult(engine: Engine, opened: Opened, result: unknown): SealedAnswer {
  // A Response would serialise as {} and its body would bypass encryption: refuse it loudly.
  if (typeof Response !== 'undefined' && result instanceof Response) throw new TypeError('return a JSON value or nenResponse(value, init) from a Nen handler, not a Response')
  if (!isNenResponse(result)) return sealed(engine, opened, 200, json(result), NONE)
  const extra = result.headers ? headerPairs(result.headers).filter(([k]) => !isReserved(k)) : NONE
  return sealed(engine, opened, result.status, json(result.value), extra)
}

/** `undefined` (and other values JSON has no form for) answer `null`. */
function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null'
}

/**
 * Seals a failure as a Nen error (PROTOCOL.md §6.1, kind `error`): its code under the code's
 * status if coded, else ISO-9000 (500) without detail. The client raises it as an authenticated
 * NenError, never as a result. (A handler that wants its own error JSON returns
 * `nenResponse(value, { status })` instead.)
 */
export function sealFailure(engine: Engine, opened: Opened, e: unknown): SealedAnswer {
  const r = engine.sealError(opened, asNenError(e)?.code ?? 'ISO-9000')
  const head = r.headers[RESPONSE_HEADER] ?? null
  return { status: r.status, extra: NONE, body: head === null ? r.body : null, head }
}
