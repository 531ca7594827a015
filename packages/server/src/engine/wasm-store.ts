// The WASM engine's session store: key names, time bounds and the per-isolate cache, over any
// NenStoreAdapter; and the built-in in-memory adapter used when no adapter is configured.
//
// This is src/store/remote.rs of the native addon, in TypeScript, so a native instance and an
// edge instance can share one Upstash/Redis: the same keys, the same values (wrapped sessions,
// base64), the same TTLs and the same outcome codes.
//
//   {prefix}{<sid>}:s            wrapped session, TTL = time to expiry
//   {prefix}{<sid>}:n:<nonce>    replay record (set-if-absent), TTL = until the request leaves the window
//
// One round trip per request on a warm isolate: wrapped sessions are cached here, so a request
// costs only `recordNonce`, which checks the session still exists (a terminate or expiry on
// another instance is seen at once) and records the nonce atomically. A miss adds one `get`.

import { NenError } from '../errors.js'
import type { NenStoreAdapter } from './types.js'

/** Wrapped sessions cached per isolate, at most (the native CACHE_MAX). */
const CACHE_MAX = 10_000

/** `Date.now()` that never steps back. */
function monotonicClock(): () => number {
  let last = 0
  return () => (last = Math.max(last, Date.now()))
}

interface Cached {
  wrapped: string
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
  private readonly cache = new Map<string, Cached>()
  private readonly now = monotonicClock()

  constructor(
    private readonly adapter: NenStoreAdapter,
    private readonly prefix: string,
    private readonly timeoutMs: number,
  ) {}

  sessionKey(sid: string): string {
    return `${this.prefix}{${sid}}:s`
  }

  nonceKey(sid: string, nonceHex: string): string {
    return `${this.prefix}{${sid}}:n:${nonceHex}`
  }

  /** Runs one adapter call under the timeout; any failure (a throw, a rejection, the timeout) is ISO-8001. */
  private bounded<T>(op: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (cause: unknown) => reject(new NenError('ISO-8001', { cause }))
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

  /** Stores a new session (handshake, rotation) and caches it. */
  async put(sid: string, wrapped: string, ttlMs: number, expiresAt: number): Promise<void> {
    await this.bounded(() => this.adapter.set(this.sessionKey(sid), wrapped, ttlMs))
    if (this.cache.size >= CACHE_MAX) {
      const now = this.now()
      for (const [k, v] of this.cache) if (v.expiresAt <= now) this.cache.delete(k)
      if (this.cache.size >= CACHE_MAX) this.cache.clear()
    }
    this.cache.set(sid, { wrapped, expiresAt })
  }

  /** The wrapped session for `sid`: from the cache while unexpired, else the store; ISO-2002 if absent. */
  async load(sid: string): Promise<string> {
    const hit = this.cache.get(sid)
    if (hit && hit.expiresAt > this.now()) return hit.wrapped
    const v = await this.bounded(() => this.adapter.get(this.sessionKey(sid)))
    if (v == null) throw new NenError('ISO-2002')
    return String(v)
  }

  /** Caches an entry read from the store once it has unwrapped (its expiry is then known). */
  remember(sid: string, wrapped: string, expiresAt: number): void {
    if (this.cache.size < CACHE_MAX) this.cache.set(sid, { wrapped, expiresAt })
  }

  /** The atomic replay check: 'gone' is ISO-2002, 'replay' ISO-5001, anything else ISO-8001. */
  async recordNonce(sid: string, nonceHex: string, ttlMs: number): Promise<void> {
    const r = await this.bounded(() => this.adapter.recordNonce(this.sessionKey(sid), this.nonceKey(sid, nonceHex), ttlMs))
    switch (String(r)) {
      case 'ok':
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

  /** Deletes a session everywhere (terminate). Its nonce records expire on their own. */
  async delete(sid: string): Promise<void> {
    this.cache.delete(sid)
    await this.bounded(() => this.adapter.del(this.sessionKey(sid)))
  }

  /**
   * Marks a session rotated and shortens its lifetime to `ttlMs` from now (rotation grace).
   * With the key layout of this adapter interface the once-only rule is not atomic across
   * instances: see the store notes in README.md.
   */
  async retire(sid: string, ttlMs: number): Promise<void> {
    this.cache.delete(sid)
    await this.bounded(() => this.adapter.shorten(this.sessionKey(sid), ttlMs))
  }

  /** The session's effective end, where this store knows it (undefined: the handshake expiry). */
  expiresAt(_sid: string): number | undefined {
    return undefined
  }
}

/** How often expired entries are swept from the memory adapter, at most. */
const SWEEP_EVERY_MS = 1_000

/** The in-memory adapter, with a view of its size for tests and monitoring. */
export interface MemoryStoreAdapter extends NenStoreAdapter {
  /** Live entries: sessions and replay records. */
  readonly size: number
}

/**
 * A NenStoreAdapter over a Map with TTLs, in this isolate's memory: one instance, development,
 * or a single long-lived worker. Atomic by construction (JavaScript runs one call at a time), and
 * bounded: expired entries are swept as time passes.
 */
export function createMemoryStoreAdapter(): MemoryStoreAdapter {
  const map = new Map<string, { value: string; expiresAt: number }>()
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
    async get(key) {
      return live(key, now())?.value ?? null
    },
    async set(key, value, ttlMs) {
      const t = now()
      sweep(t)
      map.set(key, { value, expiresAt: t + ttl(ttlMs) })
    },
    async del(key) {
      map.delete(key)
    },
    async shorten(key, ttlMs) {
      const t = now()
      const e = live(key, t)
      if (e) e.expiresAt = Math.min(e.expiresAt, t + ttl(ttlMs))
    },
    async recordNonce(sessionKey, nonceKey, ttlMs) {
      const t = now()
      sweep(t)
      if (!live(sessionKey, t)) return 'gone'
      if (live(nonceKey, t)) return 'replay'
      map.set(nonceKey, { value: '1', expiresAt: t + ttl(ttlMs) })
      return 'ok'
    },
  }
}
