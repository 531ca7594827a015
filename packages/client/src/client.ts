// NenClient: handshake, encrypted fetch for every method, encrypted streams, rotation,
// termination and status. Session keys live inside the WebAssembly core and are wiped there.

import { NenError, coded, toNenError } from './errors.js'
import { loadCore } from './wasm.js'
import type { ClientHandshake, ClientSession, SignedRequest } from '../wasm/nen_wasm.js'
import { ERROR_HEADER, RESPONSE_HEADER, STREAM_NONCE_HEADER } from '../../shared/generated/protocol.js'

/** Options of `new NenClient(baseUrl, options)`. */
export interface NenClientOptions {
  /**
   * `'tls'` (default): the server's identity rests on TLS, as for any HTTPS API; an active
   * TLS-terminating hop could sit in the middle of the handshake. `'pqc'`: the server must sign
   * each handshake transcript with its ML-DSA-65 key, checked against `serverIdentityKey`.
   */
  identityMode?: 'tls' | 'pqc'
  /**
   * The server's ML-DSA-65 public key (base64), required with `identityMode: 'pqc'`, which it
   * implies when `identityMode` is not given (with `identityMode: 'tls'` it is ISO-9001).
   */
  serverIdentityKey?: string
  /** `'hybrid'` (X25519 + ML-KEM-768, default) or `'mlkem768'` (ML-KEM-768 only). */
  keyExchange?: 'hybrid' | 'mlkem768'
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch
  /** Where the Nen routes live (default `/api/nen`). */
  basePath?: string
  /**
   * What fetch does with a redirect: `'error'` (default) fails the request, because following
   * one would re-send the signed headers and the ciphertext wherever a hop points it. `'manual'`
   * hands the 3xx back (it is never opened: ISO-4004). On Cloudflare Workers, whose fetch
   * rejects `'error'`, the default is `'manual'`: neither follows a redirect.
   */
  redirect?: 'error' | 'manual'
  /**
   * The server's routes end in `/` (Next.js `trailingSlash: true`, which answers the other
   * spelling with a 308 that the client does not follow): the Nen routes are called as
   * `…/handshake/` and so on. Your own paths are sent as you write them.
   */
  trailingSlash?: boolean
}

/** Options of one encrypted request. */
export interface NenRequestInit {
  /** HTTP method (default GET, or POST when `body` is given). */
  method?: string
  /** A JSON-serialisable value, encrypted as the request body. */
  body?: unknown
  /** Extra headers (sent in clear: do not put secrets here). */
  headers?: Record<string, string>
  /**
   * Marks a non-idempotent request as safe to retry once after the session expired. Signed and
   * sent as `X-Nen-Idempotency-Key` (1 to 128 visible ASCII characters, e.g. a UUID): the server
   * reads it only from the verified request (`ctx.idempotencyKey`, `idempotencyKeyOf(req)`) and
   * deduplicates on it, so a hop can neither forge nor rewrite it.
   */
  idempotencyKey?: string
  /** Aborts the request (and a stream being read). */
  signal?: AbortSignal
}

/** The decrypted status of the session, from `GET /api/nen/status`. */
export interface NenStatus {
  sid: string
  mode: 'hybrid' | 'mlkem768'
  exp: number
  v: number
}

const SAFE_METHODS = new Set(['GET', 'HEAD'])

/** A live session and the requests using it (rotation wipes the old one when they finish). */
class Live {
  inflight = 0
  retired = false
  constructor(readonly session: ClientSession) {}
  release() {
    this.inflight--
    if (this.retired && this.inflight === 0) this.session.wipe()
  }
}

/**
 * The base URL every path resolves against: an absolute http(s) URL, checked now so that a
 * mistake is a configuration error (ISO-9001) at construction, not a network failure later.
 * A relative base would resolve differently on the server (no `location`) and in the browser.
 */
function checkedBase(baseUrl: unknown): string {
  const shown = typeof baseUrl === 'string' ? JSON.stringify(baseUrl.length > 100 ? `${baseUrl.slice(0, 100)}…` : baseUrl) : typeof baseUrl
  let url: URL | undefined
  try {
    url = typeof baseUrl === 'string' ? new URL(baseUrl) : undefined
  } catch {}
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new NenError('ISO-9001', {
      message: `the base URL must be an absolute http(s) URL, such as https://api.example.com or location.origin in a browser; got ${shown}`,
    })
  }
  return baseUrl as string
}

export class NenClient {
  readonly baseUrl: string
  private readonly opts: Required<Pick<NenClientOptions, 'identityMode' | 'keyExchange' | 'basePath'>> & NenClientOptions
  private live: Live | undefined
  private pending: Promise<Live> | undefined

  constructor(baseUrl: string, options: NenClientOptions = {}) {
    this.baseUrl = checkedBase(baseUrl)
    // A pinned key implies 'pqc': a key given and silently not checked would be worse than none.
    const identityMode = options.identityMode ?? (options.serverIdentityKey ? 'pqc' : 'tls')
    this.opts = { keyExchange: 'hybrid', basePath: '/api/nen', ...options, identityMode }
    if (identityMode === 'tls' && options.serverIdentityKey) {
      throw new NenError('ISO-9001', { message: "serverIdentityKey is given but identityMode is 'tls': drop the key or use 'pqc'" })
    }
    if (this.opts.identityMode === 'pqc' && !this.opts.serverIdentityKey) {
      throw new NenError('ISO-9001', { message: "identityMode 'pqc' needs serverIdentityKey" })
    }
  }

  /** The current session id, or null before the first handshake. */
  get sessionId(): string | null {
    return this.live?.session.sid ?? null
  }

  private fetchImpl(): typeof fetch {
    return this.opts.fetch ?? globalThis.fetch.bind(globalThis)
  }

  private url(path: string): URL {
    return new URL(path, this.baseUrl)
  }

  /** A Nen route's path, with the app's trailing-slash convention. */
  private route(action: 'handshake' | 'rotate' | 'terminate' | 'status'): string {
    return `${this.opts.basePath}/${action}${this.opts.trailingSlash ? '/' : ''}`
  }

  /** The fetch init every request shares. */
  private get redirect(): RequestRedirect {
    return this.opts.redirect ?? defaultRedirect()
  }

  private pin(): string | undefined {
    return this.opts.identityMode === 'pqc' ? this.opts.serverIdentityKey : undefined
  }

  /** Runs a handshake now, replacing any current session. */
  async handshake(): Promise<void> {
    this.pending = undefined
    await this.session(true)
  }

  /** The session, handshaking first if there is none; concurrent callers share one handshake. */
  private session(fresh = false): Promise<Live> {
    if (!fresh && this.live && this.live.session.expiresAt > Date.now()) return Promise.resolve(this.live)
    this.pending ??= this.runHandshake().finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  private async runHandshake(): Promise<Live> {
    const core = await loadCore()
    const hs = coded(() => core.ClientHandshake.start(this.opts.keyExchange))
    let res: Response
    try {
      res = await this.fetchImpl()(this.url(this.route('handshake')), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: hs.body,
        redirect: this.redirect,
      })
    } catch (cause) {
      throw new NenError('ISO-1003', { cause })
    }
    const text = await res.text().catch(() => '')
    if (res.status !== 200) throw plainError(res.status, text) ?? new NenError('ISO-1004', { status: res.status })
    const session = coded(() => hs.finish(text, this.pin()))
    this.retire()
    this.live = new Live(session)
    return this.live
  }

  private retire() {
    const old = this.live
    this.live = undefined
    if (old) {
      old.retired = true
      if (old.inflight === 0) old.session.wipe()
    }
  }

  /**
   * An encrypted request. Resolves to a standard `Response` holding the decrypted JSON (read it
   * with `res.json()`), with the status and headers the handler set; HEAD responses have no body.
   * Rejects with a NenError for protocol failures (bad signature, expired session, tampering…).
   */
  async nenFetch(path: string, init: NenRequestInit = {}): Promise<Response> {
    const method = (init.method ?? (init.body === undefined ? 'GET' : 'POST')).toUpperCase()
    const retryable = SAFE_METHODS.has(method) || init.idempotencyKey !== undefined
    try {
      return await this.send(path, method, init)
    } catch (e) {
      // ISO-2002: the session is gone server-side; ISO-8002: the server can no longer read it (its
      // wrapping key was rotated away). Either way forget it and handshake again. Only a request
      // that is safe to run twice is retried, once, because these errors are unauthenticated and
      // the first attempt may have run.
      if (!(e instanceof NenError) || (e.code !== 'ISO-2002' && e.code !== 'ISO-8002') || e.authenticated) throw e
      this.retire()
      if (!retryable) throw e
      return this.send(path, method, init)
    }
  }

  private async send(path: string, method: string, init: NenRequestInit): Promise<Response> {
    const live = await this.session()
    live.inflight++
    try {
      const { signed, res } = await this.exchange(live, path, method, init, 'application/json')
      const text = await res.text()
      return openResponse(live.session, signed, method, res, text)
    } finally {
      live.release()
    }
  }

  private async exchange(live: Live, path: string, method: string, init: NenRequestInit, accept: string) {
    const url = this.url(path)
    // The origin-form target as fetch puts it on the wire (PROTOCOL.md §5.1): the WHATWG
    // serialisation `pathname + search`. The URL handed to fetch is rebuilt from exactly these
    // bytes, so an empty query (`/a?`, which `search` drops) or a fragment cannot make the signed
    // target and the sent one differ.
    const target = url.pathname + url.search
    const json = init.body === undefined ? undefined : JSON.stringify(init.body)
    const signed: SignedRequest = coded(() => live.session.sign(method, target, json, undefined, init.idempotencyKey))
    const headers: Record<string, string> = { accept, ...init.headers, ...(signed.headers as Record<string, string>) }
    if (signed.body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await this.fetchImpl()(url.origin + target, { method, headers, body: signed.body, signal: init.signal, redirect: this.redirect })
    } catch (cause) {
      if (init.signal?.aborted) throw cause
      throw new NenError(accept === 'text/event-stream' ? 'ISO-7002' : 'ISO-1003', { cause })
    }
    return { signed, res }
  }

  /**
   * An encrypted stream: yields each decrypted chunk (text) as it arrives. Throws ISO-7003 if
   * the stream ends without its authenticated end, ISO-7004 if a chunk was tampered with.
   */
  async *nenStream(path: string, init: NenRequestInit = {}): AsyncGenerator<string, void, undefined> {
    const method = (init.method ?? (init.body === undefined ? 'GET' : 'POST')).toUpperCase()
    const live = await this.session()
    live.inflight++
    try {
      const { signed, res } = await this.exchange(live, path, method, init, 'text/event-stream')
      if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        const text = await res.text()
        // A sealed non-stream answer (a handler error) is authentic: surface it with its code.
        const body = tryOpen(live.session, signed, res.status, text)
        if (body instanceof NenError) throw body
        if (body !== undefined) throw new NenError('ISO-7002', { status: res.status, authenticated: true, message: body })
        const err = plainError(res.status, text)
        if (err?.code === 'ISO-2002') this.retire()
        throw err ?? new NenError(res.ok ? 'ISO-4004' : 'ISO-7002', { status: res.status })
      }
      const reader = coded(() => live.session.openStream(signed, res.headers.get(STREAM_NONCE_HEADER) ?? undefined))
      if (!res.body) throw new NenError('ISO-7003')
      const body = res.body.getReader()
      try {
        for (;;) {
          let step: ReadableStreamReadResult<Uint8Array>
          try {
            step = await body.read()
          } catch (cause) {
            if (init.signal?.aborted) throw cause
            throw new NenError('ISO-7003', { cause })
          }
          if (step.done) break
          for (const chunk of coded(() => reader.push(step.value) as string[])) yield chunk
        }
        coded(() => reader.finish())
      } finally {
        body.releaseLock()
      }
    } finally {
      live.release()
    }
  }

  /** Rotates the session: a fresh key exchange, authenticated by the current session. */
  async rotate(): Promise<void> {
    const live = await this.session()
    live.inflight++
    let next: ClientSession
    try {
      const hs: ClientHandshake = coded(() => live.session.beginRotation(this.opts.keyExchange))
      const { signed, res } = await this.exchange(live, this.route('rotate'), 'POST', { body: JSON.parse(hs.body) }, 'application/json')
      const res2 = openResponse(live.session, signed, 'POST', res, await res.text())
      if (!res2.ok) throw new NenError('ISO-1004', { status: res2.status })
      const plain = await res2.text()
      next = coded(() => hs.finish(plain, this.pin()))
    } finally {
      live.release()
    }
    this.retire()
    this.live = new Live(next)
  }

  /** Ends the session on the server and wipes its keys here. */
  async terminate(): Promise<void> {
    const live = this.live
    if (!live) return
    live.inflight++
    try {
      const { signed, res } = await this.exchange(live, this.route('terminate'), 'POST', {}, 'application/json')
      openResponse(live.session, signed, 'POST', res, await res.text())
    } finally {
      live.release()
      if (this.live === live) this.retire()
    }
  }

  /** The session's status as the server sees it. */
  async status(): Promise<NenStatus> {
    const res = await this.nenFetch(this.route('status'))
    return (await res.json()) as NenStatus
  }
}

/**
 * The decrypted JSON text if `text` is an envelope sealed for `signed` under `status`; the
 * authenticated NenError if it is a sealed failure; undefined if it is neither.
 */
function tryOpen(session: ClientSession, signed: SignedRequest, status: number, text: string): string | NenError | undefined {
  try {
    return session.open(signed, status, text)
  } catch (e) {
    const err = toNenError(e)
    return err instanceof NenError && err.authenticated ? err : undefined
  }
}

/** A plain `{"error":{"code"}}` body as an (unauthenticated) NenError, or null. */
function plainError(status: number, text: string): NenError | null {
  try {
    const code = JSON.parse(text)?.error?.code
    return typeof code === 'string' && /^ISO-\d{4}$/.test(code) ? new NenError(code, { status }) : null
  } catch {
    return null
  }
}

function openResponse(session: ClientSession, signed: SignedRequest, method: string, res: Response, text: string): Response {
  const headers = new Headers(res.headers)
  headers.delete('content-length')
  if (method === 'HEAD') {
    const header = res.headers.get(RESPONSE_HEADER) ?? undefined
    try {
      session.openHead(signed, res.status, header)
      return new Response(null, { status: res.status, headers })
    } catch (e) {
      if (res.ok || header !== undefined) throw toNenError(e)
      // A plain error on HEAD has no body: its code rides in x-nen-error (unauthenticated).
      const code = res.headers.get(ERROR_HEADER)
      if (code && /^ISO-\d{4}$/.test(code)) throw new NenError(code, { status: res.status })
      throw plainError(res.status, text) ?? new NenError('ISO-4004', { status: res.status })
    }
  }
  const plain = tryOpen(session, signed, res.status, text)
  if (plain instanceof NenError) throw plain
  if (plain !== undefined) return new Response(res.status === 204 || res.status === 304 ? null : plain, { status: res.status, headers })
  // Not sealed for this request: never handed on. A plain coded error is reported as such (and
  // marked unauthenticated); anything else, 2xx above all, is a response that is not bound.
  if (!res.ok) {
    const err = plainError(res.status, text)
    if (err) throw err
  }
  throw new NenError('ISO-4004', { status: res.status })
}

/**
 * `'error'`, except on Cloudflare Workers (navigator.userAgent `Cloudflare-Workers`), whose fetch
 * throws on `redirect: 'error'`: `'manual'` there, which never follows a redirect either.
 */
function defaultRedirect(): RequestRedirect {
  const ua = (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent
  return ua === 'Cloudflare-Workers' ? 'manual' : 'error'
}
