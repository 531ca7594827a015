// The WASM engine's session store: key names, time bounds and the per-isolate cache, over any
// NenStoreAdapter; and the built-in in-memory adapter used when no adapter is configured.
//
// The layout is nen_core::store's (store-layout.ts, generated from it), so a native instance and
// an edge instance can share one Upstash/Redis: one record per session, `{prefix}{<sid>}`, holding
// the wrapped entry, the end of its rotation grace once rotated, and its replay records; TTL = the
// session's remaining life. Nothing can evict a replay record without the session it guards.
//
// One round trip per request on a warm isolate: wrapped sessions are cached here, so a request
// costs only `recordNonce`, which checks the session still exists (a terminate, rotation or
// expiry on another instance is seen at once) and records the nonce atomically. A miss adds one
// `load`. The cache is filled only once a request verified and its nonce was recorded, and holds
// at most CACHE_MAX entries, least recently used out first.

import { NenError } from '../errors.js'
import type { NenStoreAdapter } from './types.js'

/** Wrapped sessions cached per isolate, at most (the native CACHE_MAX). */
const CACHE_MAX = 10_000

/** `Date.now()` that never steps back. */
function monotonicClock(): () => number {
  let last = 0
  return () => (last = Math.max(last, Date.now()))
}

/** A record as read from the store or the cache. */
export interface StoredRecord {
  entry: string
  retiredAt: number | null
}

interface Cached extends StoredRecord {
  expiresAt: number
}

/** Why a store call failed: its own error, or the time bound. */
class StoreTimeout extends Error {
  constructor(ms: number) {
    super(`store operation exceeded ${ms} ms`)
    this.name = 'StoreTimeout'
  }
}

export class WasmSessionStore {
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least
  // recently used one.
  private readonly cache = new Map<string, Cached>()
  private readonly now = monotonicClock()

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

  /** The record for `sid`: from the cache while unexpired, else the store; ISO-2002 if absent. */
  async load(sid: string): Promise<StoredRecord> {
    const hit = this.cache.get(sid)
    if (hit && hit.expiresAt > this.now()) {
      this.cache.delete(sid)
      this.cache.set(sid, hit)
      return hit
    }
    return this.fetch(sid)
  }

  private async fetch(sid: string): Promise<StoredRecord> {
    const r = await this.bounded(() => this.adapter.load(this.key(sid)))
    if (r == null) throw new NenError('ISO-2002')
    if (typeof r.entry !== 'string') throw new NenError('ISO-8001', { message: 'load answered a record without an entry' })
    const retiredAt = r.retiredAt == null ? null : Number(r.retiredAt)
    if (retiredAt !== null && !Number.isFinite(retiredAt)) throw new NenError('ISO-8001', { message: 'load answered a bad retiredAt' })
    return { entry: r.entry, retiredAt }
  }

  /** The atomic replay check: 'gone' is ISO-2002, 'replay' ISO-5001, anything else ISO-8001. Caches the record on success. */
  async recordNonce(sid: string, record: StoredRecord, expiresAt: number, nonce: string, nowMs: number, untilMs: number): Promise<void> {
    const r = await this.bounded(() => this.adapter.recordNonce(this.key(sid), nonce, nowMs, untilMs))
    switch (String(r)) {
      case 'ok':
        this.cache.delete(sid)
        if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string)
        this.cache.set(sid, { ...record, expiresAt })
        return
      case 'gone':
        this.cache.delete(sid)
        throw new NenError('ISO-2002')
      case 'replay':
        throw new NenError('ISO-5001')
      default:
        throw new NenError('ISO-8001', { message: 'recordNonce answered neither ok, gone nor replay' })
    }
  }

  /** Deletes a session and its replay records everywhere (terminate). */
  async delete(sid: string): Promise<void> {
    this.cache.delete(sid)
    await this.bounded(() => this.adapter.delete(this.key(sid)))
  }

  /** Marks a session rotated and shortens its life to `ttlMs` from now, once (ISO-2004 after that). */
  async retire(sid: string, atMs: number, ttlMs: number): Promise<void> {
    this.cache.delete(sid)
    const r = await this.bounded(() => this.adapter.retire(this.key(sid), atMs, Math.max(1, Math.ceil(ttlMs))))
    switch (String(r)) {
      case 'ok':
        return
      case 'gone':
        throw new NenError('ISO-2002')
      case 'rotated':
        throw new NenError('ISO-2004')
      default:
        throw new NenError('ISO-8001', { message: 'retire answered neither ok, gone nor rotated' })
    }
  }

  /** The session's effective end, read from the store (another instance may have rotated it). */
  async retiredAt(sid: string): Promise<number | null> {
    return (await this.fetch(sid)).retiredAt
  }

  /** Records cached in this isolate. */
  get cached(): number {
    return this.cache.size
  }
}

/** How often expired entries are swept from the memory adapter, at most. */
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
