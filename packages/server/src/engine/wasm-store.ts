// The WASM engine's session store: key names and the time bound on each operation over any
// NenStoreAdapter; and the built-in in-memory adapter used when no adapter is configured.
//
// The layout is nen_core::store's (store-layout.ts, generated from it), so a native instance and
// an edge instance can share one Upstash/Redis: one record per session, `{prefix}{<sid>}`, holding
// the wrapped entry, the end of its rotation grace once rotated, and its replay records; TTL = the
// session's remaining life. Nothing can evict a replay record without the session it guards.
//
// What the adapter's answers mean (`ok`/`gone`/`replay`, `ok`/`gone`/`rotated`), the order of
// the steps and the cache of unwrapped sessions live in the core (nen_core::engine): this class
// only moves values between the core and the adapter, under the time bound.

import { NenError } from '../errors.js'
import type { NenStoreAdapter } from './types.js'

/** `Date.now()` that never steps back. */
function monotonicClock(): () => number {
  let last = 0
  return () => (last = Math.max(last, Date.now()))
}

/** A record as read from the store. */
export interface StoredRecord {
  entry: string
  retiredAt: number | null
}

/** Why a store operation did not answer in time. */
class StoreTimeout extends Error {
  constructor(ms: number) {
    super(`store operation exceeded ${ms} ms`)
    this.name = 'StoreTimeout'
  }
}

/**
 * The adapter's five operations on the session's record, each bounded by `timeoutMs`: a failure
 * or a timeout is ISO-8001 (ISO-8003, a full store, passes through). The answers of `recordNonce`
 * and `retire` go to the core as they are.
 */
export class WasmSessionStore {
  constructor(
    private readonly adapter: NenStoreAdapter,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {}

  key(sid: string): string {
    return `${this.prefix}{${sid}}`
  }

  /** Runs one adapter call under the timeout; any failure (a throw, a rejection, the timeout) is ISO-8001. */
  private bounded<T>(op: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // A full store (ISO-8003) says so; every other failure is the store being unavailable.
      const fail = (cause: unknown) => reject((cause as { code?: unknown } | null)?.code === 'ISO-8003' ? cause : new NenError('ISO-8001', { cause }))
      const timer = setTimeout(() => fail(new StoreTimeout(this.timeoutMs)), this.timeoutMs)
      let p: Promise<T>
      try {
        p = Promise.resolve(op())
      } catch (e) {
        clearTimeout(timer)
        return fail(e)
      }
      p.then(
        (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        (e) => {
          clearTimeout(timer)
          fail(e)
        },
      )
    })
  }

  /** Stores a new session (handshake, rotation). Cached only once a request of it verifies. */
  async put(sid: string, wrapped: string, ttlMs: number): Promise<void> {
    await this.bounded(() => this.adapter.put(this.key(sid), wrapped, Math.max(1, Math.ceil(ttlMs))))
  }

  /** The session's record; ISO-2002 when there is none. */
  async load(sid: string): Promise<StoredRecord> {
    const r = await this.bounded(() => this.adapter.load(this.key(sid)))
    if (r == null) throw new NenError('ISO-2002')
    if (typeof r.entry !== 'string') throw new NenError('ISO-8001', { message: 'load answered a record without an entry' })
    const retiredAt = r.retiredAt == null ? null : Number(r.retiredAt)
    if (retiredAt !== null && !Number.isFinite(retiredAt)) throw new NenError('ISO-8001', { message: 'load answered a bad retiredAt' })
    return { entry: r.entry, retiredAt }
  }

  /** The adapter's answer (`ok`, `gone` or `replay`), for the core to read. */
  async recordNonce(sid: string, field: string, nowMs: number, untilMs: number): Promise<string> {
    return String(await this.bounded(() => this.adapter.recordNonce(this.key(sid), field, nowMs, untilMs)))
  }

  async delete(sid: string): Promise<void> {
    await this.bounded(() => this.adapter.delete(this.key(sid)))
  }

  /** The adapter's answer (`ok`, `gone` or `rotated`), for the core to read. */
  async retire(sid: string, atMs: number, ttlMs: number): Promise<string> {
    return String(await this.bounded(() => this.adapter.retire(this.key(sid), atMs, Math.max(1, Math.ceil(ttlMs)))))
  }
}

const SWEEP_EVERY_MS = 1_000

/** The in-memory adapter, with a view of its size for tests and monitoring. */
export interface MemoryStoreAdapter extends NenStoreAdapter {
  /** Live records (sessions). */
  readonly size: number
  /** Replay records held, over all sessions. */
  readonly nonces: number
}

interface MemoryRecord {
  entry: string
  retiredAt: number | null
  expiresAt: number
  nonces: Map<string, number>
  pruneAt: number
}

/**
 * A NenStoreAdapter over a Map of records with TTLs, in this isolate's memory: one instance,
 * development, or a single long-lived worker. Atomic by construction (JavaScript runs one call
 * at a time), and bounded: expired records are swept as time passes, and each record prunes its
 * expired nonces, so a terminate or an expiry costs only that session's nonces.
 */
export function createMemoryStoreAdapter(options: { maxSessions?: number } = {}): MemoryStoreAdapter {
  // As the native memory store: refuse a new session when full (ISO-8003), never evict one, so
  // a handshake flood cannot log users out.
  const maxSessions = options.maxSessions ?? 200_000
  const map = new Map<string, MemoryRecord>()
  const now = monotonicClock()
  let lastSweep = 0
  const live = (key: string, t: number) => {
    const e = map.get(key)
    if (!e) return undefined
    if (e.expiresAt > t) return e
    map.delete(key)
    return undefined
  }
  const sweep = (t: number) => {
    if (t - lastSweep < SWEEP_EVERY_MS) return
    lastSweep = t
    for (const [k, e] of map) if (e.expiresAt <= t) map.delete(k)
  }
  const ttl = (ms: number) => Math.max(1, Number.isFinite(ms) ? ms : 1)
  return {
    get size() {
      const t = now()
      let n = 0
      for (const e of map.values()) if (e.expiresAt > t) n++
      return n
    },
    get nonces() {
      let n = 0
      for (const e of map.values()) n += e.nonces.size
      return n
    },
    async load(key) {
      const e = live(key, now())
      return e ? { entry: e.entry, retiredAt: e.retiredAt } : null
    },
    async put(key, entry, ttlMs) {
      const t = now()
      sweep(t)
      if (map.size >= maxSessions) {
        for (const [k, e] of map) if (e.expiresAt <= t) map.delete(k)
        if (map.size >= maxSessions) throw new NenError('ISO-8003')
      }
      map.set(key, { entry, retiredAt: null, expiresAt: t + ttl(ttlMs), nonces: new Map(), pruneAt: t + SWEEP_EVERY_MS })
    },
    async delete(key) {
      map.delete(key)
    },
    async retire(key, atMs, ttlMs) {
      const t = now()
      const e = live(key, t)
      if (!e) return 'gone'
      if (e.retiredAt !== null) return 'rotated'
      e.retiredAt = atMs
      e.expiresAt = Math.min(e.expiresAt, t + ttl(ttlMs))
      return 'ok'
    },
    async recordNonce(key, nonce, nowMs, untilMs) {
      const t = now()
      sweep(t)
      const e = live(key, t)
      if (!e) return 'gone'
      const seen = e.nonces.get(nonce)
      if (seen !== undefined && seen > nowMs) return 'replay'
      e.nonces.set(nonce, untilMs)
      if (nowMs >= e.pruneAt) {
        for (const [n, until] of e.nonces) if (until <= nowMs) e.nonces.delete(n)
        e.pruneAt = nowMs + SWEEP_EVERY_MS
      }
      return 'ok'
    },
  }
}
