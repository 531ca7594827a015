// createSecureAnthropic: the `messages` surface of the official `@anthropic-ai/sdk`, with every
// prompt and token encrypted between the browser and your backend route.

import type { Message, MessageCreateParams, MessageCreateParamsNonStreaming, MessageCreateParamsStreaming, MessageStreamEvent, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import type { NenClient } from '@withnen/client'
import { AccumulatingStream, SecureStream, type Accumulator } from './stream.js'
import { Transport, type SecureAIClientOptions, type SecureRequestOptions } from './transport.js'

export type { Message, MessageCreateParams, MessageCreateParamsNonStreaming, MessageCreateParamsStreaming, MessageStreamEvent, RawMessageStreamEvent }

/**
 * The SDK's params with `model` and `max_tokens` optional: the route may set the model (`model` /
 * `models` of `anthropicProvider`, or `transform`) and always sets `max_tokens` when absent
 * (`defaultMaxTokens`, `maxTokens`, else 1024). When neither the route nor the call sets a model,
 * the route answers `ISO-9001` (status 500) without calling the provider.
 */
export type SecureMessageCreateParamsNonStreaming = Omit<MessageCreateParamsNonStreaming, 'model' | 'max_tokens'> & {
  model?: MessageCreateParamsNonStreaming['model']
  max_tokens?: number
}
/** As `SecureMessageCreateParamsNonStreaming`, with `stream: true`. */
export type SecureMessageCreateParamsStreaming = Omit<MessageCreateParamsStreaming, 'model' | 'max_tokens'> & { model?: MessageCreateParamsStreaming['model']; max_tokens?: number }
/** Either of them. */
export type SecureMessageCreateParams = SecureMessageCreateParamsNonStreaming | SecureMessageCreateParamsStreaming

/** Params of `messages.stream()`: those of `create` (`model`, `max_tokens` optional), `stream` set for you. */
export type MessageStreamParams = Omit<SecureMessageCreateParamsNonStreaming, 'stream'> & { stream?: true }

type Block = Message['content'][number]

/** The text an event adds ('' unless it is a text delta). */
function textDelta(event: MessageStreamEvent): string {
  return event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? event.delta.text : ''
}

/**
 * What `messages.stream()` returns: an async iterable of the text deltas of the answer (strings;
 * events without text are skipped), that also builds the final `Message`. The SDK-shaped
 * `MessageStreamEvent`s are its `events()` view. Read one view, once. Events: `streamEvent`
 * (event, snapshot), `text` (delta, snapshot text), `message` (final message), `end`, `error`.
 */
export class SecureMessageStream extends AccumulatingStream<MessageStreamEvent, Message> implements AsyncIterable<string> {
  /** The text deltas, in order (`for await (const delta of stream)`). */
  async *[Symbol.asyncIterator](): AsyncGenerator<string, void, undefined> {
    for await (const event of this.items()) {
      const delta = textDelta(event)
      if (delta) yield delta
    }
  }

  /**
   * The raw view: every `MessageStreamEvent` as the provider sent it (message start and delta,
   * block starts and stops, tool input, thinking). Instead of the deltas, not as well: the stream
   * is read once.
   */
  events(): AsyncIterableIterator<MessageStreamEvent> {
    return this.items()
  }

  /** The message as accumulated so far. */
  get currentMessage(): Message | undefined {
    return this.acc.snapshot()
  }

  /** The message the provider would have returned without streaming. */
  finalMessage(): Promise<Message> {
    return this.final()
  }

  /** The text blocks of the final message, joined by a space (as the SDK's `finalText`). */
  async finalText(): Promise<string> {
    const texts = (await this.final()).content.flatMap((b) => (b.type === 'text' ? [b.text] : []))
    if (texts.length === 0) throw new Error('stream ended without producing a text block')
    return texts.join(' ')
  }

  protected override onAccumulated(event: MessageStreamEvent, snapshot: Message | undefined): void {
    this.emit('streamEvent', event, snapshot)
    const delta = textDelta(event)
    if (delta && event.type === 'content_block_delta') {
      const block = snapshot?.content[event.index]
      this.emit('text', delta, block?.type === 'text' ? block.text : '')
    }
    if (event.type === 'message_stop' && snapshot) this.emit('message', snapshot)
  }
}

/** Folds `MessageStreamEvent`s into the `Message` they stand for. */
export class MessageAccumulator implements Accumulator<MessageStreamEvent, Message> {
  private message: Message | undefined
  /** Partial JSON of tool-input blocks, by index, parsed when the block stops. */
  private readonly json = new Map<number, string>()

  snapshot(): Message | undefined {
    return this.message
  }

  add(event: MessageStreamEvent): void {
    if (event.type === 'message_start') {
      this.message = { ...event.message, content: [...event.message.content] }
      this.json.clear()
      return
    }
    const m = this.message
    if (!m) return
    switch (event.type) {
      case 'content_block_start':
        m.content[event.index] = { ...event.content_block } as Block
        break
      case 'content_block_delta': {
        const block = m.content[event.index] as Block & Record<string, unknown>
        if (!block) break
        const d = event.delta
        if (d.type === 'text_delta') block.text = `${(block.text as string | undefined) ?? ''}${d.text}`
        else if (d.type === 'thinking_delta') block.thinking = `${(block.thinking as string | undefined) ?? ''}${d.thinking}`
        else if (d.type === 'signature_delta') block.signature = d.signature
        else if (d.type === 'citations_delta') block.citations = [...((block.citations as unknown[] | null) ?? []), d.citation]
        else if (d.type === 'input_json_delta') this.json.set(event.index, (this.json.get(event.index) ?? '') + d.partial_json)
        break
      }
      case 'content_block_stop': {
        const partial = this.json.get(event.index)
        const block = m.content[event.index] as Block & { input?: unknown }
        if (partial !== undefined && block) {
          block.input = partial === '' ? {} : JSON.parse(partial)
          this.json.delete(event.index)
        }
        break
      }
      case 'message_delta': {
        const { delta, usage } = event
        m.stop_reason = delta.stop_reason
        m.stop_sequence = delta.stop_sequence
        if (delta.stop_details !== undefined) m.stop_details = delta.stop_details
        if (delta.container !== undefined && delta.container !== null) m.container = delta.container
        if (usage) {
          // Delta usage is cumulative; null means "unchanged".
          const u = m.usage as unknown as Record<string, unknown>
          for (const [k, v] of Object.entries(usage)) if (v !== null && v !== undefined) u[k] = v
        }
        break
      }
    }
  }
}

/** `createSecureAnthropic` options: the Nen client options plus where the route is. */
export interface SecureAnthropicOptions extends SecureAIClientOptions {
  /** Path of the `withSecureAI(anthropicProvider(…))` route. Default `/api/ai/anthropic`. */
  path?: string
}

/** The `messages` resource. */
export interface SecureMessages {
  /** As `anthropic.messages.create`: resolves to the `Message`. */
  create(params: SecureMessageCreateParamsNonStreaming, options?: SecureRequestOptions): Promise<Message>
  /** With `stream: true`: resolves to an async iterable of `RawMessageStreamEvent`s. */
  create(params: SecureMessageCreateParamsStreaming, options?: SecureRequestOptions): Promise<SecureStream<RawMessageStreamEvent>>
  create(params: SecureMessageCreateParams, options?: SecureRequestOptions): Promise<Message | SecureStream<RawMessageStreamEvent>>
  /** Text deltas as they come (`events()` for the SDK's events), events, and `finalMessage()` / `finalText()`. */
  stream(params: MessageStreamParams, options?: SecureRequestOptions): SecureMessageStream
}

/** What `createSecureAnthropic` returns: the Anthropic client's messages surface, encrypted. */
export interface SecureAnthropic {
  readonly messages: SecureMessages
  /** The Nen client behind it (share its session, rotate, terminate). */
  readonly nen: NenClient
}

function withoutStream(params: object): Record<string, unknown> {
  const { stream: _stream, ...rest } = params as Record<string, unknown>
  return rest
}

/**
 * An Anthropic-shaped client whose requests go, encrypted, to your backend route (which calls
 * Anthropic with your key): port existing code by changing the import and the constructor.
 *
 * ```ts
 * const anthropic = createSecureAnthropic({ baseUrl: location.origin })
 * const stream = anthropic.messages.stream({ model, max_tokens: 1024, messages })
 * for await (const delta of stream) render(delta)
 * const message = await stream.finalMessage()
 * ```
 */
export function createSecureAnthropic(options: SecureAnthropicOptions = {}): SecureAnthropic {
  const transport = new Transport(options, '/api/ai/anthropic')
  const events = (params: object, o: SecureRequestOptions) => (signal: AbortSignal) => transport.stream(withoutStream(params), signal, o.headers) as AsyncIterable<RawMessageStreamEvent>

  const messages = {
    async create(params: SecureMessageCreateParams, o: SecureRequestOptions = {}) {
      if (params.stream) return new SecureStream(events(params, o), o.signal)
      return (await transport.json(withoutStream(params), o)) as Message
    },
    stream(params: MessageStreamParams, o: SecureRequestOptions = {}) {
      return new SecureMessageStream(events(params, o), o.signal, new MessageAccumulator())
    },
  } as SecureMessages
  return { messages, nen: transport.client }
}
