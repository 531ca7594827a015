// anthropicProvider: messages through the official `@anthropic-ai/sdk`, with the allow-list.

import { applyPolicy, noModel, type ParamPolicy } from './policy.js'
import { configError, guarded, guardedStream, type SecureAIProvider } from './provider.js'

/**
 * Params a browser may set by default. Not included (add them with `allowParams` if you mean
 * to): `tools`, `tool_choice`, `thinking`, `metadata`, `service_tier`, `container`,
 * `mcp_servers`, `output_config`, `context_management`, `cache_control`, `inference_geo`,
 * `speed`, and anything else. `stream` is set by the route, never taken from the browser.
 * Sampling params (`temperature`, `top_p`, `top_k`) pass when sent; the API decides whether
 * the model takes them.
 */
export const ANTHROPIC_ALLOWED_PARAMS: readonly string[] = Object.freeze(['model', 'messages', 'max_tokens', 'system', 'stop_sequences', 'temperature', 'top_p', 'top_k'])

/** The part of an `Anthropic` client this adapter uses. */
export interface AnthropicMessagesClient {
  // biome-ignore lint/suspicious/noExplicitAny: any SDK version's client fits; the adapter reads only what it checks
  messages: { create(body: any, options?: { signal?: AbortSignal }): Promise<any> }
}

/** `anthropicProvider` options. */
export interface AnthropicProviderOptions extends ParamPolicy {
  /** API key. Default: the SDK's (`ANTHROPIC_API_KEY`). Stays on the server. */
  apiKey?: string
  /** API base URL (an Anthropic-compatible server). Default: the SDK's. */
  baseURL?: string
  /** A configured client to use instead (`new Anthropic({...})`); `apiKey`, `baseURL`, `maxRetries` and `timeout` are then unused. */
  client?: AnthropicMessagesClient
  /** Retries of the SDK on connection errors, 408, 409, 429 and 5xx before a stream starts. Default: the SDK's (2). */
  maxRetries?: number
  /** Per-request timeout, ms. Default: the SDK's. */
  timeout?: number
  /** `max_tokens` when the browser sends none (the API requires one). Default: `maxTokens`, else 1024. */
  defaultMaxTokens?: number
}

/**
 * Anthropic messages for `withSecureAI`, through the official `@anthropic-ai/sdk` (loaded on
 * first use). The browser's params pass the allow-list (`ANTHROPIC_ALLOWED_PARAMS` plus
 * `allowParams`) and the model and token policy before they are sent.
 */
export function anthropicProvider(options: AnthropicProviderOptions = {}): SecureAIProvider {
  let client: Promise<AnthropicMessagesClient> | undefined
  const sdk = () =>
    (client ??= options.client
      ? Promise.resolve(options.client)
      : import('@anthropic-ai/sdk').then((m) => {
          const Anthropic = (m.default ?? (m as unknown as { Anthropic: typeof m.default }).Anthropic) as new (o: object) => AnthropicMessagesClient
          const o: Record<string, unknown> = {}
          if (options.apiKey !== undefined) o.apiKey = options.apiKey
          if (options.baseURL !== undefined) o.baseURL = options.baseURL
          if (options.maxRetries !== undefined) o.maxRetries = options.maxRetries
          if (options.timeout !== undefined) o.timeout = options.timeout
          return new Anthropic(o)
        })).catch((e: unknown) => {
      // Not an upstream failure: no key, or the SDK is not installed. Not cached, so the next
      // call tries again (the environment may have been fixed).
      client = undefined
      throw configError('anthropic', e)
    })

  return {
    name: 'anthropic',
    check: (params) => (typeof params.model === 'string' && params.model !== '' ? undefined : noModel('anthropicProvider')),
    prepare(params) {
      const out = applyPolicy(params, ANTHROPIC_ALLOWED_PARAMS, ['max_tokens'], options)
      if (typeof out.max_tokens !== 'number') out.max_tokens = options.defaultMaxTokens ?? options.maxTokens ?? 1024
      return out
    },
    async create(params, signal) {
      const c = await sdk()
      return guarded('anthropic', signal, () => c.messages.create({ ...params, stream: false }, { signal }))
    },
    async *stream(params, signal) {
      const c = await sdk()
      yield* guardedStream(
        'anthropic',
        signal,
        () => c.messages.create({ ...params, stream: true }, { signal }),
        (e) => (e as { type?: unknown } | null)?.type === 'message_stop',
      )
    },
  }
}
