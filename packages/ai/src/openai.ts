// createSecureOpenAI: the chat-completions surface of the official `openai` SDK, with every
// prompt and token encrypted between the browser and your backend route.

import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions'
import type { NenClient } from '@withnen/client'
import { AccumulatingStream, SecureStream, type Accumulator } from './stream.js'
import { Transport, type SecureAIClientOptions, type SecureRequestOptions } from './transport.js'

export type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming }

/**
 * The SDK's params with `model` optional: the route may set it (`model` / `models` of
 * `openAIProvider`, or `transform`). When neither the route nor the call sets one, the route
 * answers `ISO-9001` (status 500) without calling the provider.
 */
export type SecureChatCompletionCreateParamsNonStreaming = Omit<ChatCompletionCreateParamsNonStreaming, 'model'> & { model?: ChatCompletionCreateParamsNonStreaming['model'] }
/** As `SecureChatCompletionCreateParamsNonStreaming`, with `stream: true`. */
export type SecureChatCompletionCreateParamsStreaming = Omit<ChatCompletionCreateParamsStreaming, 'model'> & { model?: ChatCompletionCreateParamsStreaming['model'] }
/** Either of them. */
export type SecureChatCompletionCreateParams = SecureChatCompletionCreateParamsNonStreaming | SecureChatCompletionCreateParamsStreaming

/** Params of `chat.completions.stream()`: those of `create` (`model` optional), `stream` set for you. */
export type ChatCompletionStreamParams = Omit<SecureChatCompletionCreateParamsNonStreaming, 'stream'> & { stream?: true }

/** The text a chunk adds to the first choice's content ('' when none: a role, a tool call, a finish). */
function contentDelta(chunk: ChatCompletionChunk): string {
  return chunk.choices?.find((c) => c.index === 0)?.delta?.content ?? ''
}

/**
 * What `chat.completions.stream()` returns: an async iterable of the text deltas of the answer
 * (the first choice's content, as strings; chunks without text are skipped), that also builds the
 * final `ChatCompletion`. The SDK-shaped `ChatCompletionChunk`s are its `chunks()` view. Read one
 * view, once. Events: `chunk` (chunk, snapshot), `content` (delta, snapshot text), `end`, `error`.
 */
export class SecureChatCompletionStream extends AccumulatingStream<ChatCompletionChunk, ChatCompletion> implements AsyncIterable<string> {
  /** The text deltas, in order (`for await (const delta of stream)`). */
  async *[Symbol.asyncIterator](): AsyncGenerator<string, void, undefined> {
    for await (const chunk of this.items()) {
      const delta = contentDelta(chunk)
      if (delta) yield delta
    }
  }

  /**
   * The raw view: every `ChatCompletionChunk` as the provider sent it (role, tool calls, finish
   * reasons, usage). Instead of the deltas, not as well: the stream is read once.
   */
  chunks(): AsyncIterableIterator<ChatCompletionChunk> {
    return this.items()
  }

  /** The completion as accumulated so far. */
  currentChatCompletion(): ChatCompletion | undefined {
    return this.acc.snapshot()
  }

  /** The completion the provider would have returned without streaming. */
  finalChatCompletion(): Promise<ChatCompletion> {
    return this.final()
  }

  /** The first choice's message content (null when it has none, e.g. only tool calls). */
  async finalContent(): Promise<string | null> {
    return (await this.final()).choices[0]?.message.content ?? null
  }

  /** The first choice's message. */
  async finalMessage(): Promise<ChatCompletion['choices'][number]['message']> {
    const message = (await this.final()).choices[0]?.message
    if (!message) throw new Error('stream ended without producing a message')
    return message
  }

  protected override onAccumulated(chunk: ChatCompletionChunk, snapshot: ChatCompletion | undefined): void {
    this.emit('chunk', chunk, snapshot)
    const delta = contentDelta(chunk)
    if (delta) this.emit('content', delta, snapshot?.choices[0]?.message.content ?? '')
  }
}

type Choice = ChatCompletion['choices'][number]
type Logprobs = NonNullable<Choice['logprobs']>

/** Folds `ChatCompletionChunk`s into the `ChatCompletion` they stand for. */
export class ChatCompletionAccumulator implements Accumulator<ChatCompletionChunk, ChatCompletion> {
  private result: ChatCompletion | undefined

  snapshot(): ChatCompletion | undefined {
    return this.result
  }

  add(chunk: ChatCompletionChunk): void {
    const r = (this.result ??= {
      id: chunk.id,
      object: 'chat.completion',
      created: chunk.created,
      model: chunk.model,
      choices: [],
    })
    if (chunk.system_fingerprint !== undefined) r.system_fingerprint = chunk.system_fingerprint
    if (chunk.service_tier !== undefined) r.service_tier = chunk.service_tier
    if (chunk.usage) r.usage = chunk.usage
    for (const c of chunk.choices ?? []) {
      let choice = r.choices.find((x) => x.index === c.index)
      if (!choice) {
        choice = {
          index: c.index,
          finish_reason: null as unknown as Choice['finish_reason'],
          logprobs: null,
          message: { role: 'assistant', content: null, refusal: null },
        }
        r.choices.push(choice)
        r.choices.sort((a, b) => a.index - b.index)
      }
      if (c.finish_reason) choice.finish_reason = c.finish_reason
      if (c.logprobs) {
        const lp: Logprobs = (choice.logprobs ??= { content: null, refusal: null })
        if (c.logprobs.content) lp.content = [...(lp.content ?? []), ...c.logprobs.content]
        if (c.logprobs.refusal) lp.refusal = [...(lp.refusal ?? []), ...c.logprobs.refusal]
      }
      const d = c.delta
      if (!d) continue
      const m = choice.message
      // An empty delta (the first chunk carries `content: ''`) leaves a message without text null.
      if (d.content) m.content = (m.content ?? '') + d.content
      if (d.refusal) m.refusal = (m.refusal ?? '') + d.refusal
      if (d.function_call) {
        const fc = (m.function_call ??= { name: '', arguments: '' })
        if (d.function_call.name) fc.name += d.function_call.name
        if (d.function_call.arguments) fc.arguments += d.function_call.arguments
      }
      for (const t of d.tool_calls ?? []) {
        const calls = (m.tool_calls ??= []) as ChatCompletionMessageFunctionToolCall[]
        let call = calls[t.index]
        if (!call) call = calls[t.index] = { id: '', type: 'function', function: { name: '', arguments: '' } }
        if (t.id) call.id = t.id
        if (t.type) call.type = t.type
        if (t.function?.name) call.function.name += t.function.name
        if (t.function?.arguments) call.function.arguments += t.function.arguments
      }
    }
  }
}

/** `createSecureOpenAI` options: the Nen client options plus where the route is. */
export interface SecureOpenAIOptions extends SecureAIClientOptions {
  /** Path of the `withSecureAI(openAIProvider(…))` route. Default `/api/ai/openai`. */
  path?: string
}

/** The `chat.completions` resource. */
export interface SecureChatCompletions {
  /** As `openai.chat.completions.create`: resolves to the `ChatCompletion`. */
  create(params: SecureChatCompletionCreateParamsNonStreaming, options?: SecureRequestOptions): Promise<ChatCompletion>
  /** With `stream: true`: resolves to an async iterable of `ChatCompletionChunk`s. */
  create(params: SecureChatCompletionCreateParamsStreaming, options?: SecureRequestOptions): Promise<SecureStream<ChatCompletionChunk>>
  create(params: SecureChatCompletionCreateParams, options?: SecureRequestOptions): Promise<ChatCompletion | SecureStream<ChatCompletionChunk>>
  /** Text deltas as they come (`chunks()` for the SDK's chunks), events, and `finalChatCompletion()`. */
  stream(params: ChatCompletionStreamParams, options?: SecureRequestOptions): SecureChatCompletionStream
}

/** What `createSecureOpenAI` returns: the `openai` client's chat surface, encrypted. */
export interface SecureOpenAI {
  readonly chat: { readonly completions: SecureChatCompletions }
  /** The Nen client behind it (share its session, rotate, terminate). */
  readonly nen: NenClient
}

function withoutStream(params: object): Record<string, unknown> {
  const { stream: _stream, ...rest } = params as Record<string, unknown>
  return rest
}

/**
 * An OpenAI-shaped client whose requests go, encrypted, to your backend route (which calls
 * OpenAI with your key): port existing code by changing the import and the constructor.
 *
 * ```ts
 * const openai = createSecureOpenAI({ baseUrl: location.origin })
 * const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages })
 * for await (const delta of openai.chat.completions.stream({ messages })) render(delta) // the route's model
 * ```
 */
export function createSecureOpenAI(options: SecureOpenAIOptions = {}): SecureOpenAI {
  const transport = new Transport(options, '/api/ai/openai')
  const chunks = (params: object, o: SecureRequestOptions) => (signal: AbortSignal) => transport.stream(withoutStream(params), signal, o.headers) as AsyncIterable<ChatCompletionChunk>

  const completions = {
    async create(params: SecureChatCompletionCreateParams, o: SecureRequestOptions = {}) {
      if (params.stream) return new SecureStream(chunks(params, o), o.signal)
      return (await transport.json(withoutStream(params), o)) as ChatCompletion
    },
    stream(params: ChatCompletionStreamParams, o: SecureRequestOptions = {}) {
      return new SecureChatCompletionStream(chunks(params, o), o.signal, new ChatCompletionAccumulator())
    },
  } as SecureChatCompletions
  return { chat: { completions }, nen: transport.client }
}
