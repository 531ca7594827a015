// The encrypted leg between the browser and the backend route: one Nen request per call, the
// params as its encrypted body, the answer as a sealed JSON body or an encrypted stream.

import { NenClient, NenError, type NenClientOptions } from '@withnen/client'

/** Options shared by `createSecureOpenAI` and `createSecureAnthropic`. */
export interface SecureAIClientOptions extends NenClientOptions {
  /**
   * Origin of your backend, e.g. `https://app.example.com`. Default: the page's origin
   * (`location.origin`); required outside a browser.
   */
  baseUrl?: string
  /** Path of the route serving `withSecureAI` (each factory has its own default). */
  path?: string
  /**
   * Share the Nen session of an existing client: a `NenClient`, or a function made by
   * `createNenFetch` / `createNenStream`. The other `NenClientOptions` are then ignored.
   */
  client?: NenClient | { client: NenClient }
  /**
   * Resend a call once after the backend answered that it no longer knows the session
   * (ISO-2002, e.g. after a restart). Off by default, like `@withnen/client`'s rule for POSTs:
   * that answer is unauthenticated, so a hop could forge it after the backend already ran (and
   * paid for) the call. Turn it on if a duplicate completion costs less than a failed one.
   */
  retryOnExpiredSession?: boolean
}

/** Per-request options, the second argument of every call (as in the official SDKs). */
export interface SecureRequestOptions {
  /** Aborts the request; for a stream, also the provider call behind it. */
  signal?: AbortSignal | null
  /** Extra headers. They travel in clear: never put secrets here. */
  headers?: Record<string, string>
}

/**
 * An error carrying a Nen code. Upstream (provider) failures arrive as `ISO-9000` (a completed
 * request) or `ISO-7002` (a stream), with `upstreamStatus` when the provider answered with an
 * HTTP error; the provider's own message is never forwarded.
 */
export class SecureAIError extends NenError {
  /** The provider's HTTP status (429, 500…), when it answered with one. */
  readonly upstreamStatus: number | undefined

  constructor(code: string, options: { status?: number; upstreamStatus?: number; authenticated?: boolean; cause?: unknown } = {}) {
    super(code, options)
    this.name = 'NenError'
    this.upstreamStatus = options.upstreamStatus
  }
}

/** The query parameter that selects the stream variant of the route (part of the signed URL). */
export const STREAM_QUERY = 'stream'

function resolveClient(options: SecureAIClientOptions): NenClient {
  if (options.client) return options.client instanceof NenClient ? options.client : options.client.client
  const { baseUrl, path: _path, client: _client, ...nen } = options
  const origin = baseUrl ?? (globalThis as { location?: { origin?: string } }).location?.origin
  if (!origin) throw new NenError('ISO-9001', { message: 'baseUrl is required outside a browser' })
  return new NenClient(origin, nen)
}

/** A coded error from a decrypted `{"error":{"code",…}}` body, or null. */
export function decodeError(status: number, text: string, authenticated: boolean): SecureAIError | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  const err = (parsed as { error?: { code?: unknown; upstreamStatus?: unknown } } | null)?.error
  if (!err || typeof err.code !== 'string' || !/^ISO-\d{4}$/.test(err.code)) return null
  const upstreamStatus = typeof err.upstreamStatus === 'number' ? err.upstreamStatus : undefined
  return new SecureAIError(err.code, { status, upstreamStatus, authenticated })
}

/** Links `signal` (if any) to `controller`: aborting the signal aborts the controller. */
export function linkSignal(controller: AbortController, signal: AbortSignal | null | undefined): void {
  if (!signal) return
  if (signal.aborted) controller.abort(signal.reason)
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true })
}

const isExpired = (e: unknown) => e instanceof NenError && e.code === 'ISO-2002'

export class Transport {
  readonly client: NenClient
  readonly path: string
  private readonly retryExpired: boolean

  constructor(options: SecureAIClientOptions, defaultPath: string) {
    this.client = resolveClient(options)
    this.path = options.path ?? defaultPath
    this.retryExpired = options.retryOnExpiredSession ?? false
  }

  private streamPath(): string {
    return `${this.path}${this.path.includes('?') ? '&' : '?'}${STREAM_QUERY}=1`
  }

  /**
   * One request answered with a sealed JSON body; failures throw a coded error. A session the
   * server no longer knows (ISO-2002) is always replaced by the client; the call itself is sent
   * once more only with `retryOnExpiredSession` (see there).
   */
  async json(params: Record<string, unknown>, options: SecureRequestOptions = {}): Promise<unknown> {
    try {
      return await this.jsonOnce(params, options)
    } catch (e) {
      if (!this.retryExpired || !isExpired(e) || options.signal?.aborted) throw e
      return this.jsonOnce(params, options)
    }
  }

  private async jsonOnce(params: Record<string, unknown>, options: SecureRequestOptions): Promise<unknown> {
    const res = await this.client.nenFetch(this.path, {
      method: 'POST',
      body: params,
      headers: options.headers,
      signal: options.signal ?? undefined,
    })
    const text = await res.text()
    if (!res.ok) throw decodeError(res.status, text, true) ?? new SecureAIError('ISO-9000', { status: res.status, authenticated: true })
    try {
      return JSON.parse(text)
    } catch (cause) {
      throw new SecureAIError('ISO-4003', { status: res.status, authenticated: true, cause })
    }
  }

  /** One request answered with an encrypted stream: yields each decrypted item, parsed. Retried on ISO-2002 as `json`. */
  async *stream(params: Record<string, unknown>, signal: AbortSignal, headers?: Record<string, string>): AsyncGenerator<unknown, void, undefined> {
    let started = false
    try {
      for await (const item of this.streamOnce(params, signal, headers)) {
        started = true
        yield item
      }
    } catch (e) {
      if (started || !this.retryExpired || !isExpired(e) || signal.aborted) throw e
      yield* this.streamOnce(params, signal, headers)
    }
  }

  private async *streamOnce(params: Record<string, unknown>, signal: AbortSignal, headers?: Record<string, string>): AsyncGenerator<unknown, void, undefined> {
    const chunks = this.client.nenStream(this.streamPath(), { method: 'POST', body: params, headers, signal })
    try {
      for await (const text of chunks) {
        let item: unknown
        try {
          item = JSON.parse(text)
        } catch (cause) {
          throw new SecureAIError('ISO-4003', { authenticated: true, cause })
        }
        yield item
      }
    } catch (e) {
      // A sealed error answer instead of a stream (the route refused before streaming): the
      // client reports it as ISO-7002 with the decrypted body as message; recover its code.
      if (e instanceof NenError && e.authenticated && !(e instanceof SecureAIError)) {
        throw decodeError(e.status, e.message, true) ?? e
      }
      throw e
    }
  }
}
