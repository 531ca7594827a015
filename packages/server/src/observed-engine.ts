// Wraps an Engine so that every adapter reports the same events (events.ts): refusals by code,
// store outages and latency, handshakes, rotations and terminations, and, in debug mode, what
// the server verified when a signature did not match. The wrapper adds no work to a request
// that succeeds on the memory store beyond one comparison; events are built only when they fire.

import type { Engine, EngineRequest, NenReply } from './engine/index.js'
import { type EngineOp, type NenEvent, debugHeaders, failureEvent, sidPrefix } from './events.js'
import { REQUEST_HEADERS } from '../../shared/generated/protocol.js'

export interface Observation {
  emit: (e: NenEvent) => void
  /** Whether store-latency events are wanted (an `onEvent` hook, and a shared store). */
  latency: boolean
  /** Development mode: explain ISO-3002. */
  debug: boolean
}

/** The session header's name, from the protocol's list (no wire literal retyped here). */
const SESSION_HEADER = REQUEST_HEADERS.find((h) => h.endsWith('-session')) ?? ''

const SID = /"sid"\s*:\s*"([0-9a-f]{8})/

/**
 * A monotonic clock where the runtime has one. Next.js 13's Edge sandbox has no `performance`
 * (a bare `performance.now()` there failed every handshake with ISO-9000): Date.now() then.
 */
const now: () => number = typeof globalThis.performance?.now === 'function' ? () => globalThis.performance.now() : () => Date.now()

/** The first 8 hex digits of the session a handshake or rotation reply names, if plain JSON shows it. */
function replySid(r: NenReply): string | undefined {
  const m = r.status === 200 ? SID.exec(r.body) : null
  return m ? `${m[1]}…` : undefined
}

export function observeEngine(engine: Engine, o: Observation): Engine {
  const since = (op: EngineOp, t0: number) => {
    if (o.latency) o.emit({ type: 'store-latency', op, ms: now() - t0 })
  }
  const failed = (op: EngineOp, e: unknown, req?: EngineRequest) => {
    const ev = failureEvent(e, op, req?.method, req?.url)
    if (ev) o.emit(ev)
    if (o.debug && req && ev?.type === 'refused' && ev.code === 'ISO-3002') {
      o.emit({ type: 'signature-debug', method: req.method, target: req.url, headers: debugHeaders(req.headers, REQUEST_HEADERS) })
    }
  }
  // Lifecycle calls answer sealed replies (their failures are sealed too), so success is a 200.
  const lifecycle = (op: 'rotate' | 'terminate' | 'status') => async (req: EngineRequest) => {
    const t0 = now()
    try {
      const r = await engine[op](req)
      since(op, t0)
      if (r.status === 200 && op !== 'status') {
        const sid = op === 'terminate' ? req.headers[SESSION_HEADER] : undefined
        o.emit({ type: op, sid: sid ? sidPrefix(sid) : replySid(r) })
      }
      return r
    } catch (e) {
      failed(op, e, req)
      throw e
    }
  }
  // Engines may be class instances (the WASM one): delegate, never spread.
  return {
    seal: (opened, json, status) => engine.seal(opened, json, status),
    sealHead: (opened, status) => engine.sealHead(opened, status),
    sealError: (opened, code) => engine.sealError(opened, code),
    stream: (opened, padBlock) => engine.stream(opened, padBlock),
    handshake: async (body) => {
      const t0 = now()
      try {
        const r = await engine.handshake(body)
        since('handshake', t0)
        o.emit({ type: 'handshake', sid: replySid(r) })
        return r
      } catch (e) {
        failed('handshake', e)
        throw e
      }
    },
    open: (req) => {
      const t0 = o.latency ? now() : 0
      return engine.open(req).then(
        (opened) => {
          since('open', t0)
          return opened
        },
        (e) => {
          failed('open', e, req)
          throw e
        },
      )
    },
    rotate: lifecycle('rotate'),
    terminate: lifecycle('terminate'),
    status: lifecycle('status'),
  }
}
