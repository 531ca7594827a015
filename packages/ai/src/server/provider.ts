// What `withSecureAI` needs from a provider, and the error every adapter reports instead of the
// provider's own (whose message can quote the prompt, the key's prefix or account details).

/** A provider behind `withSecureAI`: `openAIProvider`, `anthropicProvider`, or your own. */
export interface SecureAIProvider {
  /** Short name for logs (`'openai'`, `'anthropic'`). */
  readonly name: string
  /**
   * The params to send upstream for what the browser sent: the allow-list applied, the model
   * chosen, the token caps enforced. Never trust `params`: it is whatever the page sent.
   */
  prepare(params: unknown): Record<string, unknown>
  /** A complete (non-streamed) result, JSON-serialisable. Must stop when `signal` aborts. */
  create(params: Record<string, unknown>, signal: AbortSignal): Promise<unknown>
  /** The streamed result, one JSON-serialisable item per chunk/event. Must stop when `signal` aborts. */
  stream(params: Record<string, unknown>, signal: AbortSignal): AsyncIterable<unknown>
  /**
   * Optional: why the final params (after `prepare` and the route's `transform`) cannot be sent,
   * as one line that quotes nothing from them (e.g. no model anywhere), or undefined when they
   * can. The route then answers `ISO-9001` without calling `create` / `stream`.
   */
  check?(params: Record<string, unknown>): string | undefined
}

/**
 * A provider call failed. Carries only the provider's name, the HTTP status it answered with (if
 * any) and what kind of failure it was; the original error is kept on `upstream` (not
 * enumerable, never serialised) for your own `onError`, and may contain sensitive text.
 */
export class UpstreamError extends Error {
  readonly provider: string
  /** The provider's HTTP status, when it answered with an error status. */
  readonly upstreamStatus: number | undefined
  /**
   * `'http'`: an error status; `'timeout'`; `'aborted'`: the request was cancelled; `'config'`:
   * the server side is not set up to make the call (no API key, SDK not installed, no model);
   * `'failed'`: anything else (connection lost, error event mid-stream).
   */
  readonly kind: 'http' | 'timeout' | 'aborted' | 'config' | 'failed'
  /**
   * For `'config'` only: what is missing, in one line: the SDK's own configuration message
   * (which names options and environment variables, never their values) or the route's. Safe to
   * log; never sent to the browser.
   */
  readonly detail: string | undefined
  declare readonly upstream: unknown

  constructor(provider: string, kind: UpstreamError['kind'], upstreamStatus: number | undefined, upstream: unknown, detail?: string) {
    super(
      `${provider} request ${kind === 'http' ? `failed with HTTP ${upstreamStatus}` : kind === 'failed' ? 'failed' : kind === 'timeout' ? 'timed out' : kind === 'config' ? 'not sent: configuration error' : 'was aborted'}`,
    )
    this.name = 'UpstreamError'
    this.provider = provider
    this.kind = kind
    this.upstreamStatus = upstreamStatus
    this.detail = kind === 'config' ? detail : undefined
    Object.defineProperty(this, 'upstream', { value: upstream, enumerable: false })
  }
}

/** Text on one line, at most 400 characters (an SDK message can span lines). */
export function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 400 ? `${line.slice(0, 399)}…` : line
}

/**
 * The one configuration error both SDKs raise at request time rather than in their constructor:
 * no credential resolved (the Anthropic SDK without `ANTHROPIC_API_KEY`). Recognised by its
 * fixed text, a plain `Error` with nothing interpolated, so its message is safe to log; other
 * SDK errors raised without a status can quote a response body and are never logged.
 */
const AUTH_UNRESOLVED = /^Could not resolve authentication method\. /

/**
 * A configuration error from loading or constructing an SDK client: the constructors' messages
 * name options and environment variables only (read in openai 6 and @anthropic-ai/sdk 1), and a
 * failed import names the package and a path.
 */
export function configError(provider: string, e: unknown): UpstreamError {
  return new UpstreamError(provider, 'config', undefined, e, oneLine(String((e as { message?: unknown } | null)?.message ?? e)))
}

/** Classifies an SDK error (both official SDKs share these shapes) without reading its text. */
export function toUpstreamError(provider: string, e: unknown, signal: AbortSignal): UpstreamError {
  if (e instanceof UpstreamError) return e
  if (signal.aborted) return new UpstreamError(provider, 'aborted', undefined, e)
  if (e instanceof Error && e.constructor === Error && AUTH_UNRESOLVED.test(e.message)) return configError(provider, e)
  const status = (e as { status?: unknown } | null)?.status
  if (typeof status === 'number' && status >= 400) return new UpstreamError(provider, 'http', status, e)
  const ctor = (e as { constructor?: { name?: string } } | null)?.constructor?.name ?? ''
  if (/Timeout/.test(ctor)) return new UpstreamError(provider, 'timeout', undefined, e)
  return new UpstreamError(provider, 'failed', undefined, e)
}

/** Runs `f`, turning any failure into an UpstreamError. */
export async function guarded<T>(provider: string, signal: AbortSignal, f: () => Promise<T>): Promise<T> {
  try {
    return await f()
  } catch (e) {
    throw toUpstreamError(provider, e, signal)
  }
}

/**
 * Iterates `source`, turning any failure into an UpstreamError. `isEnd` recognises the item that
 * ends a complete stream: a source that stops before it (a connection closed early, which the
 * SDKs may treat as a normal end) fails too, so a cut upstream never looks like a finished answer.
 */
export async function* guardedStream(
  provider: string,
  signal: AbortSignal,
  source: () => Promise<AsyncIterable<unknown>>,
  isEnd: (item: unknown) => boolean,
): AsyncGenerator<unknown, void, undefined> {
  let iterable: AsyncIterable<unknown>
  try {
    iterable = await source()
  } catch (e) {
    throw toUpstreamError(provider, e, signal)
  }
  const it = iterable[Symbol.asyncIterator]()
  let complete = false
  let ended = false
  try {
    for (;;) {
      let step: IteratorResult<unknown>
      try {
        step = await it.next()
      } catch (e) {
        complete = true // the source failed: it has nothing left to close
        throw toUpstreamError(provider, e, signal)
      }
      if (step.done) {
        complete = true
        if (!ended) throw toUpstreamError(provider, new Error('stream ended before its last event'), signal)
        return
      }
      if (isEnd(step.value)) ended = true
      yield step.value
    }
  } finally {
    if (!complete) await it.return?.().catch(() => {})
  }
}
