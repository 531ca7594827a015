// What an operator needs to see, without what nobody may see: one `onEvent` hook for every
// adapter (the engine is wrapped once, in config.ts, so node:http, Express, Fastify, Hono and the
// Web handlers all report the same events), and a default logger that prints one line per
// distinct cause, then at most one summary line a minute per cause.
//
// No event carries a key, a body, a signature or a full session id: a request is named by its
// method and path (no query), a session by the first 8 of its 32 hex digits.

import { asNenError, describeNenCode } from './errors.js'

/** Which engine serves this configuration, and why. */
export interface NenEngineEvent {
  type: 'engine'
  engine: 'native' | 'wasm'
  /** True when the native addon was wanted (`engine: 'auto'`) but did not load. */
  fallback: boolean
  /** Why the addon did not load (its loader's message), when `fallback`. */
  reason?: string
  /** The npm package that would have provided it, when that is the cause. */
  missingPackage?: string
}

/** A request or handshake refused with a code (verification, replay, limits, malformed input). */
export interface NenRefusedEvent {
  type: 'refused'
  /** `ISO-xxxx` and its catalogue name. */
  code: string
  name: string
  status: number
  /** Which engine call refused it. */
  op: EngineOp
  /** Method and path (no query) of the request; absent for handshakes. */
  method?: string
  path?: string
}

/** The session store could not answer (ISO-8001), an entry did not open (ISO-8002) or it is full (ISO-8003). */
export interface NenStoreEvent {
  type: 'store'
  code: 'ISO-8001' | 'ISO-8002' | 'ISO-8003'
  /**
   * `'unavailable'`: unreachable or slower than `timeoutMs`; `'entry-invalid'`: a stored session
   * did not open under any wrapping key this instance holds (instances with different keys, or a
   * corrupted entry); `'full'`: the memory store's `maxSessions` is reached.
   */
  problem: 'unavailable' | 'entry-invalid' | 'full'
  op: EngineOp
  method?: string
  path?: string
}

/**
 * How long an engine call that touches a shared store took, ms: the store round trip plus a few
 * µs of cryptography (with Redis one round trip per request). Emitted only to an `onEvent` hook,
 * and only for shared stores (Redis, Redis Cluster, JavaScript adapters).
 */
export interface NenStoreLatencyEvent {
  type: 'store-latency'
  op: EngineOp
  ms: number
}

/** A session established (handshake) or replaced (rotate), or ended (terminate). */
export interface NenSessionEvent {
  type: 'handshake' | 'rotate' | 'terminate'
  /**
   * The first 8 hex digits of the new session (handshake) or the ended one (terminate); absent
   * for a rotation, whose reply is sealed.
   */
  sid?: string
}

/**
 * Development mode only (`debug`): what the server verified when a signature did not match
 * (ISO-3002), so a rewritten path or a dropped header can be seen. Never keys or signatures.
 */
export interface NenSignatureDebugEvent {
  type: 'signature-debug'
  method: string
  /** The target exactly as the server verified it: the bytes its router dispatched on. */
  target: string
  /** Each `x-nen-*` request header: its value where it is not secret, else only its length. */
  headers: Record<string, string>
}

export type NenEvent = NenEngineEvent | NenRefusedEvent | NenStoreEvent | NenStoreLatencyEvent | NenSessionEvent | NenSignatureDebugEvent

export type EngineOp = 'handshake' | 'open' | 'rotate' | 'terminate' | 'status'

const STORE_PROBLEM = { 'ISO-8001': 'unavailable', 'ISO-8002': 'entry-invalid', 'ISO-8003': 'full' } as const

/** The event for an engine call that failed with `error`; undefined for uncoded failures. */
export function failureEvent(error: unknown, op: EngineOp, method?: string, url?: string): NenRefusedEvent | NenStoreEvent | undefined {
  const e = asNenError(error)
  if (!e) return undefined
  const where = method === undefined ? {} : { method, path: pathOnly(url ?? '') }
  if (e.code in STORE_PROBLEM) {
    const code = e.code as keyof typeof STORE_PROBLEM
    return { type: 'store', code, problem: STORE_PROBLEM[code], op, ...where }
  }
  return { type: 'refused', code: e.code, name: describeNenCode(e.code)?.name ?? 'UNKNOWN', status: e.status, op, ...where }
}

/** `path?query` or an absolute URL → its path, never the query (it may carry data). */
export function pathOnly(url: string): string {
  const noQuery = url.split('?', 1)[0] ?? ''
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/.exec(noQuery)
  const path = m ? noQuery.slice(m[0].length) || '/' : noQuery
  // A path is attacker-chosen: bound what reaches a log line.
  return path.length > 200 ? `${path.slice(0, 200)}…` : path
}

/** The first 8 hex digits of a session id: enough to correlate, useless to an attacker. */
export function sidPrefix(sid: string): string {
  return `${sid.slice(0, 8)}…`
}

/** Values of the request headers that are safe to show; the signature only by its length. */
export function debugHeaders(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const v = headers[name]
    if (v === undefined) out[name] = '(absent)'
    else if (name.endsWith('-signature')) out[name] = `(${v.length} characters, not shown)`
    else if (name.endsWith('-session')) out[name] = `${sidPrefix(v)} (${v.length} characters)`
    else out[name] = v.length > 80 ? `${v.slice(0, 80)}…` : v
  }
  return out
}

/** One line for the default logger; undefined for events it does not print. */
export function describeEvent(e: NenEvent): { key: string; level: 'warn' | 'error'; line: string } | undefined {
  switch (e.type) {
    case 'engine':
      if (!e.fallback) return undefined
      return {
        key: 'engine',
        level: 'warn',
        line: `running on the WebAssembly engine: the native addon did not load${e.missingPackage ? ` (missing package ${e.missingPackage})` : ''}: ${e.reason ?? 'unknown reason'}`,
      }
    case 'refused':
      return { key: `refused ${e.code} ${e.op}`, level: 'warn', line: `refused ${e.op === 'handshake' ? 'a handshake' : `${e.method} ${e.path}`}: ${e.code} ${e.name}` }
    case 'store': {
      const what = {
        unavailable: 'the session store is unavailable (unreachable, or slower than timeoutMs): requests fail closed',
        'entry-invalid': 'a stored session did not open under this instance wrapping keys (instances with different NEN_WRAPPING_KEY, or a corrupted entry)',
        full: 'the memory store is full (maxSessions): new handshakes are refused',
      }[e.problem]
      return { key: `store ${e.code}`, level: 'error', line: `${e.code}: ${what}` }
    }
    case 'signature-debug':
      return {
        key: `signature-debug ${e.method} ${pathOnly(e.target)}`,
        level: 'warn',
        line:
          `ISO-3002 explained (debug mode): the server verified ${e.method} ${JSON.stringify(e.target)}, the target exactly as its router received it; ` +
          `headers seen: ${Object.entries(e.headers)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}. If the client signed another target, something between them (a rewrite, a proxy, a basePath) changed it.`,
      }
    default:
      return undefined
  }
}

const WINDOW_MS = 60_000
/** Distinct causes remembered; causes are codes and operations (a few dozen), so this never binds in practice. */
const MAX_CAUSES = 512
/** Lines a minute over all causes: debug explanations name the target, which a client chooses. */
const MAX_LINES_PER_WINDOW = 60

/**
 * The default logger: the first event of each cause is printed at once; later ones within a
 * minute are counted, and the count is printed with the next line of that cause after the minute.
 */
export function createDefaultLogger(now: () => number = Date.now, out: Pick<Console, 'warn' | 'error'> = console): (e: NenEvent) => void {
  const causes = new Map<string, { since: number; suppressed: number }>()
  let window = { since: -Infinity, lines: 0 }
  return (e) => {
    const d = describeEvent(e)
    if (!d) return
    const t = now()
    const seen = causes.get(d.key)
    if (seen && t - seen.since < WINDOW_MS) {
      seen.suppressed++
      return
    }
    if (t - window.since >= WINDOW_MS) window = { since: t, lines: 0 }
    if (++window.lines > MAX_LINES_PER_WINDOW) return
    const more = seen?.suppressed ? ` (and ${seen.suppressed} more like it in the minute before)` : ''
    if (!seen && causes.size >= MAX_CAUSES) causes.delete(causes.keys().next().value as string)
    causes.set(d.key, { since: t, suppressed: 0 })
    out[d.level](`[nen] ${d.line}${more}`)
  }
}
