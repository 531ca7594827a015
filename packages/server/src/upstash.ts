// A session store over the Upstash Redis REST API: plain fetch, so it works where no TCP socket
// does (edge runtimes). Each operation is one POST of a command array; storing, retiring and
// recording a nonce are the store layout's Lua scripts run by EVAL.

import { NenError } from './errors.js'
import { env } from './env.js'
import type { NenStoreAdapter } from './engine/types.js'
import { ENTRY_FIELD, PUT_SCRIPT, RECORD_SCRIPT, RETIRED_FIELD, RETIRE_SCRIPT } from './store-layout.js'

/** Options of `UpstashSessionStore`. */
export interface UpstashSessionStoreOptions {
  /** The database's REST URL. Default: `UPSTASH_REDIS_REST_URL`. */
  url?: string
  /** The REST token. Default: `UPSTASH_REDIS_REST_TOKEN`. */
  token?: string
  /** 32 bytes, base64, the same on every instance. Default: `NEN_WRAPPING_KEY`. */
  wrappingKey?: string
  /** Several wrapping keys, the first wraps new sessions (see `RedisSessionStore`). */
  wrappingKeys?: string[]
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch
  /** Prefix of every key. Default `nen:`. */
  keyPrefix?: string
  /** Bound on each call in ms: the request is aborted and fails closed (ISO-8001). Default 1000. */
  timeoutMs?: number
}

// The store layout and its scripts are nen-core's (store-layout.ts is generated from it), so an
// edge instance on Upstash and a native one on Redis share records. Checking the session and
// recording the nonce in one script is what makes replay protection hold with many instances.

/** Redis refuses a PX of 0; the engine's TTLs are whole milliseconds, at least 1. */
const ttl = (ms: number) => String(Math.max(1, Math.ceil(ms)))

/** A JavaScript session store over Upstash; pass it to `setSessionStore`. */
export class UpstashStore implements NenStoreAdapter {
  readonly kind = 'js' as const
  readonly wrappingKey: string | undefined
  readonly wrappingKeys: string[] | undefined
  readonly keyPrefix: string | undefined
  readonly timeoutMs: number
  private readonly url: string
  private readonly auth: string
  private readonly fetchImpl: typeof fetch

  constructor(options: UpstashSessionStoreOptions = {}) {
    const url = options.url ?? env('UPSTASH_REDIS_REST_URL')
    const token = options.token ?? env('UPSTASH_REDIS_REST_TOKEN')
    if (!url || !token) throw new NenError('ISO-9001', { message: 'UpstashSessionStore needs url and token (or UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN)' })
    this.url = url
    this.auth = `Bearer ${token}`
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.wrappingKey = options.wrappingKey
    this.wrappingKeys = options.wrappingKeys
    this.keyPrefix = options.keyPrefix
    this.timeoutMs = options.timeoutMs ?? 1000
  }

  /** The store's adapter: itself. */
  get adapter(): NenStoreAdapter {
    return this
  }

  private async command(args: string[]): Promise<unknown> {
    // The engine bounds each store call too; aborting here also releases the connection.
    const res = await this.fetchImpl(this.url, {
      method: 'POST',
      headers: { authorization: this.auth, 'content-type': 'application/json' },
      body: JSON.stringify(args),
      signal: AbortSignal.timeout(this.timeoutMs),
    })
    const text = await res.text()
    let data: { result?: unknown; error?: unknown }
    try {
      data = JSON.parse(text)
    } catch {
      throw new Error(`Upstash answered ${res.status} without JSON`)
    }
    // The command and its values are not repeated in the error: they are wrapped session entries.
    if (!res.ok || data.error !== undefined) throw new Error(`Upstash ${args[0]} failed (${res.status}): ${String(data.error ?? '')}`)
    return data.result
  }

  async load(key: string): Promise<{ entry: string; retiredAt: number | null } | null> {
    const v = await this.command(['HMGET', key, ENTRY_FIELD, RETIRED_FIELD])
    if (!Array.isArray(v) || v.length !== 2) throw new Error('Upstash load: unexpected answer')
    const [entry, retired] = v as [unknown, unknown]
    if (entry == null) return null
    return { entry: String(entry), retiredAt: retired == null ? null : Number(retired) }
  }

  async put(key: string, entry: string, ttlMs: number): Promise<void> {
    await this.command(['EVAL', PUT_SCRIPT, '1', key, entry, ttl(ttlMs)])
  }

  async delete(key: string): Promise<void> {
    await this.command(['DEL', key])
  }

  async retire(key: string, atMs: number, ttlMs: number): Promise<'ok' | 'gone' | 'rotated'> {
    const r = Number(await this.command(['EVAL', RETIRE_SCRIPT, '1', key, String(Math.trunc(atMs)), ttl(ttlMs)]))
    if (r === 1) return 'ok'
    if (r === 0) return 'gone'
    if (r === -1) return 'rotated'
    throw new Error('Upstash retire: unexpected answer')
  }

  async recordNonce(key: string, nonce: string, nowMs: number, untilMs: number): Promise<'ok' | 'gone' | 'replay'> {
    const r = Number(await this.command(['EVAL', RECORD_SCRIPT, '1', key, nonce, String(Math.trunc(nowMs)), String(Math.trunc(untilMs))]))
    if (r === 1) return 'ok'
    if (r === 0) return 'gone'
    if (r === -1) return 'replay'
    throw new Error('Upstash recordNonce: unexpected answer')
  }
}

/** A session store over the Upstash Redis REST API (works on edge runtimes). */
export function UpstashSessionStore(options?: UpstashSessionStoreOptions): UpstashStore {
  return new UpstashStore(options)
}
