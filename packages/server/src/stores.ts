// Session stores: descriptors handed to the engine. The memory and Redis stores are run by the
// engine itself (the native addon talks to Redis from tokio); JavaScript stores are adapters.

import { NenError } from './errors.js'
import { env } from './env.js'
import type { NenStoreAdapter, StoreConfig } from './engine/types.js'

/** Where sessions live: one of the stores below, or your own `NenStoreAdapter`. */
export type SessionStore = StoreConfig

/** Options of `RedisSessionStore`. Give `url` (one server) or `nodes` (Redis Cluster). */
export interface RedisSessionStoreOptions {
  /** `redis://` or `rediss://` URL of a single server. Default: `REDIS_URL`. */
  url?: string
  /** Seed node URLs of a Redis Cluster. */
  nodes?: string[]
  /** Prefix of every key. Default `nen:`. */
  keyPrefix?: string
  /** Bound on each Redis operation in ms; past it requests fail closed with ISO-8001. Default 1000. */
  timeoutMs?: number
  /** 32 bytes, base64, the same on every instance. Default: `NEN_WRAPPING_KEY` (a comma-separated list works like `wrappingKeys`). */
  wrappingKey?: string
  /**
   * Several wrapping keys, to rotate it without logging anyone out: the first wraps new sessions,
   * every one opens what it wrapped. Add the new key first everywhere, drop the old one once its
   * sessions expired.
   */
  wrappingKeys?: string[]
}

/** Sessions in this process's memory: development and single-instance deployments. */
export function InMemorySessionStore(): SessionStore {
  return { kind: 'memory' }
}

/**
 * Sessions in Redis or Redis Cluster, shared by every instance: one round trip per request,
 * entries wrapped under the wrapping key, failing closed (ISO-8001) when Redis is unreachable.
 */
export function RedisSessionStore(urlOrOptions?: string | RedisSessionStoreOptions): SessionStore {
  const o: RedisSessionStoreOptions = typeof urlOrOptions === 'string' ? { url: urlOrOptions } : { ...urlOrOptions }
  const common = { keyPrefix: o.keyPrefix, timeoutMs: o.timeoutMs, wrappingKey: o.wrappingKey, wrappingKeys: o.wrappingKeys }
  if (o.nodes && o.nodes.length > 0) {
    if (o.url) throw new NenError('ISO-9001', { message: 'RedisSessionStore takes url or nodes, not both' })
    return { kind: 'redis-cluster', nodes: [...o.nodes], ...common }
  }
  const url = o.url ?? env('REDIS_URL')
  if (!url) throw new NenError('ISO-9001', { message: 'RedisSessionStore needs a url (or REDIS_URL), or nodes' })
  return { kind: 'redis', url, ...common }
}

function isAdapter(v: unknown): v is NenStoreAdapter {
  const a = v as Partial<NenStoreAdapter> | null
  return !!a && ['load', 'put', 'delete', 'retire', 'recordNonce'].every((m) => typeof a[m as keyof NenStoreAdapter] === 'function')
}

/**
 * The store as the engine receives it: a bare adapter becomes a JavaScript store, and the
 * wrapping key defaults to `NEN_WRAPPING_KEY` here rather than in each engine, because the WASM
 * engine may run where it cannot read the environment itself.
 */
export function resolveStore(store: SessionStore | NenStoreAdapter | undefined): StoreConfig {
  if (store === undefined) return { kind: 'memory' }
  if (!('kind' in store) || (store as { kind?: unknown }).kind === undefined) {
    if (!isAdapter(store)) throw new NenError('ISO-9001', { message: 'not a session store' })
    return { kind: 'js', adapter: store, wrappingKey: env('NEN_WRAPPING_KEY') }
  }
  const s = store as StoreConfig
  if (s.kind === 'memory') return { kind: 'memory' }
  const common = { keyPrefix: s.keyPrefix, timeoutMs: s.timeoutMs, wrappingKey: s.wrappingKey ?? env('NEN_WRAPPING_KEY'), wrappingKeys: s.wrappingKeys }
  switch (s.kind) {
    case 'redis':
      return { kind: 'redis', url: s.url, ...common }
    case 'redis-cluster':
      return { kind: 'redis-cluster', nodes: s.nodes, ...common }
    case 'js':
      if (!isAdapter(s.adapter)) throw new NenError('ISO-9001', { message: 'store.adapter is not a NenStoreAdapter' })
      return { kind: 'js', adapter: s.adapter, ...common }
    default:
      throw new NenError('ISO-9001', { message: `unknown store kind ${String((s as { kind: unknown }).kind)}` })
  }
}
