// @withnen/ai/server: the backend route behind createSecureOpenAI / createSecureAnthropic. It
// decrypts the browser's params (Nen), applies the allow-list, calls the provider with your key
// and answers encrypted: the result sealed, or each upstream chunk/event as one sealed frame.
// The leg to the provider is ordinary HTTPS: the provider sees the prompt.

import { NenError, nenResponse, withNen, withNenStream, type Nen, type NenRouteHandler } from '@withnen/server'
import { UpstreamError, toUpstreamError, type SecureAIProvider } from './provider.js'

export { openAIProvider, OPENAI_ALLOWED_PARAMS } from './openai.js'
export type { OpenAIProviderOptions, OpenAIChatClient } from './openai.js'
export { anthropicProvider, ANTHROPIC_ALLOWED_PARAMS } from './anthropic.js'
export type { AnthropicProviderOptions, AnthropicMessagesClient } from './anthropic.js'
export { applyPolicy } from './policy.js'
export type { ParamPolicy } from './policy.js'
export { UpstreamError } from './provider.js'
export type { SecureAIProvider } from './provider.js'

/** The query parameter that selects the stream variant (signed with the request URL). */
const STREAM_QUERY = 'stream'

/** What `onError` is told about a failed provider call: no provider text, no params. */
export interface SecureAIErrorInfo {
  /** The provider's name. */
  provider: string
  /** `'create'`: a complete result; `'stream'`: a stream, before or after its first item. */
  phase: 'create' | 'stream'
  /** The code the client receives. */
  code: string
  /** The HTTP status the client receives (for a stream that already started: 200, the code travels in its end frame). */
  status: number
  /** The provider's HTTP status, when it answered with one. */
  upstreamStatus: number | undefined
  /** What kind of failure it was (`'config'`: the server side is not set up, see `error.detail`). */
  kind: UpstreamError['kind']
  /**
   * The error, with the SDK's original on `error.upstream`. The original's message can quote the
   * prompt or account details: keep it out of shared logs.
   */
  error: UpstreamError
}

/** `withSecureAI` options. */
export interface WithSecureAIOptions {
  /** The Nen configuration (from `createNen`); default: the one `configureNen` set. Use the same one as your `nenRoute`. */
  nen?: Nen
  /** Pad each stream frame to a multiple of this many bytes, hiding token lengths. Default 32; 0 turns it off. */
  padBlock?: number
  /**
   * Adjusts the params after the allow-list, on the server (add a system prompt, a user id for
   * abuse tracking, check the caller's quota). Throw a `NenError` to refuse the request.
   */
  transform?: (params: Record<string, unknown>, req: Request) => Record<string, unknown> | Promise<Record<string, unknown>>
  /**
   * Called for every failed provider call except those the client cancelled, and for every call
   * the route could not make (`kind: 'config'`). Default: one `console.error` line with the
   * provider, the kind of failure, the upstream status and the code (never the provider's
   * message); for `'config'`, also `error.detail` (the SDK's configuration message, e.g. the
   * missing API key's, or the route's: no model), which names settings, never their values.
   */
  onError?: (info: SecureAIErrorInfo) => void
}

function defaultOnError(info: SecureAIErrorInfo): void {
  const upstream = info.upstreamStatus === undefined ? '' : ` (HTTP ${info.upstreamStatus})`
  const detail = info.kind === 'config' && info.error.detail ? `: ${info.error.detail}` : ''
  console.error(`[@withnen/ai] ${info.provider} ${info.phase} failed: ${info.kind}${upstream}; answered ${info.code}${detail}`)
}

/** The status the client gets for an upstream failure. */
function statusFor(e: UpstreamError): number {
  if (e.kind === 'timeout') return 504
  if (e.upstreamStatus === 429) return 429
  if (e.upstreamStatus === 503 || e.upstreamStatus === 529) return 503
  return 502
}

/** Combines `signal` into a controller of our own, so we can also abort on our side. */
function controllerFor(signal: AbortSignal): AbortController {
  const c = new AbortController()
  if (signal.aborted) c.abort(signal.reason)
  else signal.addEventListener('abort', () => c.abort(signal.reason), { once: true })
  return c
}

/**
 * The route for a provider: `export const POST = withSecureAI(openAIProvider({ apiKey }))`.
 * Answers `POST` (complete result) and `POST ?stream=1` (encrypted SSE, one frame per upstream
 * chunk or event), both through `@withnen/server`, so it needs the Nen routes (`nenRoute`) on
 * the same configuration.
 *
 * Failures reach the browser as coded errors only: a complete call answers `ISO-9000` with HTTP
 * 502 (429, 503, 504 passed through as such) and `upstreamStatus`; a call without a model (none
 * from the client, the policy or `transform`) answers `ISO-9001` (500) before any provider call; a stream answers `ISO-7002`,
 * sealed with that status if the provider failed before the first chunk, or as the stream's error
 * end after it. Aborting the browser request aborts the provider call.
 */
export function withSecureAI(provider: SecureAIProvider, options: WithSecureAIOptions = {}): NenRouteHandler {
  const padBlock = options.padBlock ?? 32
  const report = (e: UpstreamError, phase: SecureAIErrorInfo['phase'], code: string, status: number) => {
    if (e.kind === 'aborted') return
    try {
      ;(options.onError ?? defaultOnError)({ provider: provider.name, phase, code, status, upstreamStatus: e.upstreamStatus, kind: e.kind, error: e })
    } catch {}
  }
  const params = async (body: unknown, req: Request, phase: SecureAIErrorInfo['phase']) => {
    const prepared = provider.prepare(body)
    const out = options.transform ? await options.transform(prepared, req) : prepared
    const problem = provider.check?.(out)
    if (problem !== undefined) {
      // Nothing to call the provider with (no model anywhere): the server's configuration.
      report(new UpstreamError(provider.name, 'config', undefined, undefined, problem), phase, 'ISO-9001', 500)
      throw new NenError('ISO-9001', { message: problem })
    }
    return out
  }

  const complete = withNen(
    async (req, body) => {
      const upstream = await params(body, req, 'create')
      const c = controllerFor(req.signal)
      try {
        return await provider.create(upstream, c.signal)
      } catch (err) {
        const e = toUpstreamError(provider.name, err, c.signal)
        const status = statusFor(e)
        report(e, 'create', 'ISO-9000', status)
        const error: Record<string, unknown> = { code: 'ISO-9000', message: 'Upstream request failed' }
        if (e.upstreamStatus !== undefined) error.upstreamStatus = e.upstreamStatus
        return nenResponse({ error }, { status })
      } finally {
        c.abort() // the call is over: releases anything the SDK still holds
      }
    },
    { nen: options.nen },
  )

  const streamed = withNenStream(
    async (req, body) => {
      const upstream = await params(body, req, 'stream')
      const c = controllerFor(req.signal)
      const it = provider.stream(upstream, c.signal)[Symbol.asyncIterator]()
      // Wait for the first item, so a provider that refuses outright (429, 401, 500) answers
      // with a sealed status instead of an empty stream with an error end.
      let first: IteratorResult<unknown>
      try {
        first = await it.next()
      } catch (err) {
        const e = toUpstreamError(provider.name, err, c.signal) // before aborting: it reads whether the client left
        c.abort()
        const status = statusFor(e)
        report(e, 'stream', 'ISO-7002', status)
        throw new NenError('ISO-7002', { status, message: e.message })
      }
      return (async function* frames(): AsyncGenerator<string, void, undefined> {
        let complete = false
        try {
          for (let step = first; !step.done; ) {
            yield JSON.stringify(step.value)
            try {
              step = await it.next()
            } catch (err) {
              complete = true // the source failed: nothing left to close
              const e = toUpstreamError(provider.name, err, c.signal)
              report(e, 'stream', 'ISO-7002', 200)
              throw new NenError('ISO-7002', { message: e.message })
            }
          }
          complete = true
        } finally {
          // Client gone or body cancelled: stop the provider call.
          if (!complete) await it.return?.().catch(() => {})
          c.abort()
        }
      })()
    },
    { nen: options.nen, padBlock },
  )

  return async (req, ctx) => {
    let stream = false
    try {
      stream = new URL(req.url, 'http://localhost').searchParams.get(STREAM_QUERY) === '1'
    } catch {}
    return stream ? streamed(req, ctx) : complete(req, ctx)
  }
}
