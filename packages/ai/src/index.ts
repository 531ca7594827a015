// @withnen/ai: OpenAI- and Anthropic-shaped clients whose prompts and token streams travel
// encrypted (Nen) between the browser and your backend, which calls the provider. The server
// side is `@withnen/ai/server`. Only the SDKs' types are used here: no SDK code reaches the page.

export { createSecureOpenAI, SecureChatCompletionStream, ChatCompletionAccumulator } from './openai.js'
export type {
  SecureOpenAI,
  SecureOpenAIOptions,
  SecureChatCompletions,
  ChatCompletionStreamParams,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  SecureChatCompletionCreateParams,
  SecureChatCompletionCreateParamsNonStreaming,
  SecureChatCompletionCreateParamsStreaming,
} from './openai.js'
export { createSecureAnthropic, SecureMessageStream, MessageAccumulator } from './anthropic.js'
export type {
  SecureAnthropic,
  SecureAnthropicOptions,
  SecureMessages,
  MessageStreamParams,
  Message,
  MessageCreateParams,
  MessageCreateParamsNonStreaming,
  MessageCreateParamsStreaming,
  MessageStreamEvent,
  RawMessageStreamEvent,
  SecureMessageCreateParams,
  SecureMessageCreateParamsNonStreaming,
  SecureMessageCreateParamsStreaming,
} from './anthropic.js'
export { SecureStream, SecureStreamBase, AccumulatingStream } from './stream.js'
export type { Accumulator, Listener } from './stream.js'
export { SecureAIError } from './transport.js'
export type { SecureAIClientOptions, SecureRequestOptions } from './transport.js'
export { NenClient, NenError, describeNenCode } from '@withnen/client'
