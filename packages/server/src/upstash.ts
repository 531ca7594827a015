// A session store over the Upstash Redis REST API: plain fetch, so it works where no TCP socket
// does (edge runtimes). Each operation is one POST of a command array; the two that must be
// atomic (recording a nonce, shortening a TTL) are small Lua scripts run by EVAL.

import { NenError } from './errors.js'
import { env } from './env.js'
import type { NenStoreAdapter } from './engine/types.js'

/** Options of `UpstashSessionStore`. */
export interface UpstashSessionStoreOptions {
  /** The database's REST URL. Default: `UPSTASH_REDIS_REST_URL`. */
  url?: string
  /** The REST token. Default: `UPSTASH_REDIS_REST_TOKEN`. */
  token?: string
  /** 32 bytes, base64, the same on every instance. Default: `NEN_WRAPPING_KEY`. */
  wrappingKey?: string
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch
  /** Prefix of every key. Default `nen:`. */
  keyPrefix?: string
  /** Bound on each call in ms: the request is aborted and fails closed (ISO-8001). Default 1000. */
  timeoutMs?: number
}

// Checking the session and recording the nonce in one script is what makes replay protection
// hold with many instances: between a separate EXISTS and SET another request could land.
const RECORD_NONCE = `if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 'ok' end
return 'replay'`

// PEXPIRE's LT flag needs Redis 7; a script lowers the TTL on any version.
const SHORTEN = `local t = redis.call('PTTL', KEYS[1])
if t == -2 then return 0 end
if t == -1 or t > tonumber(ARGV[1]) then return redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0`

/** Redis refuses a PX of 0; the engine's TTLs are whole milliseconds, at least 1. */
const ttl = (ms: number) => String(Math.max(1, Math.ceil(ms)))

/** A JavaScript session store over Upstash; pass it to `setSessionStore`. */
export class UpstashStore implements NenStoreAdapter {
  readonly kind = 'js' as const
  readonly wrappingKey: string | undefined
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

  async get(key: string): Promise<string | null> {
    const v = await this.command(['GET', key])
    return v == null ? null : String(v)
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.command(['SET', key, value, 'PX', ttl(ttlMs)])
  }

  async del(key: string): Promise<void> {
    await this.command(['DEL', key])
  }

  async shorten(key: string, ttlMs: number): Promise<void> {
    await this.command(['EVAL', SHORTEN, '1', key, ttl(ttlMs)])
  }

  async recordNonce(sessionKey: string, nonceKey: string, ttlMs: number): Promise<'ok' | 'gone' | 'replay'> {
    const r = await this.command(['EVAL', RECORD_NONCE, '2', sessionKey, nonceKey, ttl(ttlMs)])
    if (r === 'ok' || r === 'gone' || r === 'replay') return r
    throw new Error('Upstash recordNonce: unexpected answer')
  }
}

/** A session store over the Upstash Redis REST API (works on edge runtimes). */
export function UpstashSessionStore(options?: UpstashSessionStoreOptions): UpstashStore {
  return new UpstashStore(options)
}
