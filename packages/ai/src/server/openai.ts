// openAIProvider: chat completions through the official `openai` SDK, with the allow-list.

import { applyPolicy, asObject, noModel, type ParamPolicy } from './policy.js'
import { configError, guarded, guardedStream, type SecureAIProvider } from './provider.js'

/**
 * Params a browser may set by default. Not included (add them with `allowParams` if you mean
 * to): `tools`, `tool_choice`, `parallel_tool_calls`, `functions`, `function_call`, `n`,
 * `logit_bias`, `store`, `metadata`, `user`, `safety_identifier`, `prompt_cache_key`,
 * `service_tier`, `prediction`, `audio`, `modalities`, `web_search_options`, `verbosity`.
 * `stream` is set by the route, never taken from the browser; of `stream_options` only
 * `include_usage` is kept.
 */
export const OPENAI_ALLOWED_PARAMS: readonly string[] = Object.freeze([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'frequency_penalty',
  'presence_penalty',
  'stop',
  'seed',
  'response_format',
  'logprobs',
  'top_logprobs',
  'reasoning_effort',
  'stream_options',
])

const TOKEN_PARAMS = ['max_tokens', 'max_completion_tokens']

/** A complete stream has a chunk with a finish reason (a usage-only chunk may follow it). */
function finishes(chunk: unknown): boolean {
  const choices = (chunk as { choices?: Array<{ finish_reason?: unknown }> } | null)?.choices
  return Array.isArray(choices) && choices.some((c) => c?.finish_reason != null)
}

/** The part of an `OpenAI` client this adapter uses (an `OpenAI` or `AzureOpenAI` instance fits). */
export interface OpenAIChatClient {
  // biome-ignore lint/suspicious/noExplicitAny: any SDK version's client fits; the adapter reads only what it checks
  chat: { completions: { create(body: any, options?: { signal?: AbortSignal }): Promise<any> } }
}

/** `openAIProvider` options. */
export interface OpenAIProviderOptions extends ParamPolicy {
  /** API key. Default: the SDK's (`OPENAI_API_KEY`). Stays on the server. */
  apiKey?: string
  /** API base URL (an OpenAI-compatible server). Default: the SDK's. */
  baseURL?: string
  /** A configured client to use instead (`new OpenAI({...})`); `apiKey`, `baseURL`, `maxRetries` and `timeout` are then unused. */
  client?: OpenAIChatClient
  /** Retries of the SDK on connection errors, 408, 409, 429 and 5xx before a stream starts. Default: the SDK's (2). */
  maxRetries?: number
  /** Per-request timeout, ms. Default: the SDK's. */
  timeout?: number
}

/**
 * OpenAI chat completions for `withSecureAI`, through the official `openai` SDK (loaded on first
 * use). The browser's params pass the allow-list (`OPENAI_ALLOWED_PARAMS` plus `allowParams`)
 * and the model and token policy before they are sent.
 */
export function openAIProvider(options: OpenAIProviderOptions = {}): SecureAIProvider {
  let client: Promise<OpenAIChatClient> | undefined
  const sdk = () =>
    (client ??= options.client
      ? Promise.resolve(options.client)
      : import('openai').then((m) => {
          const OpenAI = (m.default ?? (m as unknown as { OpenAI: typeof m.default }).OpenAI) as new (o: object) => OpenAIChatClient
          const o: Record<string, unknown> = {}
          if (options.apiKey !== undefined) o.apiKey = options.apiKey
          if (options.baseURL !== undefined) o.baseURL = options.baseURL
          if (options.maxRetries !== undefined) o.maxRetries = options.maxRetries
          if (options.timeout !== undefined) o.timeout = options.timeout
          return new OpenAI(o)
        })).catch((e: unknown) => {
      // Not an upstream failure: no key, or the SDK is not installed. Not cached, so the next
      // call tries again (the environment may have been fixed).
      client = undefined
      throw configError('openai', e)
    })

  return {
    name: 'openai',
    check: (params) => (typeof params.model === 'string' && params.model !== '' ? undefined : noModel('openAIProvider')),
    prepare(params) {
      const out = applyPolicy(params, OPENAI_ALLOWED_PARAMS, TOKEN_PARAMS, options)
      if ('stream_options' in out) {
        const include = asObject(out.stream_options).include_usage
        if (typeof include === 'boolean') out.stream_options = { include_usage: include }
        else delete out.stream_options
      }
      return out
    },
    async create(params, signal) {
      const { stream_options: _ignored, ...body } = params
      const c = await sdk()
      return guarded('openai', signal, () => c.chat.completions.create({ ...body, stream: false }, { signal }))
    },
    async *stream(params, signal) {
      const c = await sdk()
      yield* guardedStream('openai', signal, () => c.chat.completions.create({ ...params, stream: true }, { signal }), finishes)
    },
  }
}
