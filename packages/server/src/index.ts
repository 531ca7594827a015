// @withnen/server: post-quantum application-layer encryption of API payloads, on Web
// Request/Response (Next.js App Router, any Fetch-API runtime). Express and node:http adapters
// are at @withnen/server/express and @withnen/server/node. See the package README.

export { NenError, describeNenCode } from './errors.js'
export type { NenCodeInfo } from './errors.js'

export { configureNen, setSessionStore, createNen, Nen } from './config.js'
export type { NenOptions, NenErrorInfo } from './config.js'
export type {
  NenEvent,
  NenEngineEvent,
  NenRefusedEvent,
  NenStoreEvent,
  NenStoreLatencyEvent,
  NenSessionEvent,
  NenSignatureDebugEvent,
  EngineOp,
} from './events.js'

export { InMemorySessionStore, RedisSessionStore } from './stores.js'
export type { SessionStore, RedisSessionStoreOptions } from './stores.js'
export { UpstashSessionStore, UpstashStore } from './upstash.js'
export type { UpstashSessionStoreOptions } from './upstash.js'

export { handleHandshake, handleRotate, handleTerminate, handleStatus, nenRoute, createNenRoute } from './web-routes.js'
export type { NenRoute } from './web-routes.js'
export type { NenAction } from './actions.js'

export { withNen, withNenStream, idempotencyKeyOf } from './web.js'
export type { NenHandler, NenStreamHandler, NenRouteHandler, WithNenOptions, WithNenStreamOptions } from './web.js'

export { nenResponse, NenResponse } from './response.js'
export type { NenResponseInit, NenHeadersInit } from './response.js'
export type { NenStreamSource } from './stream.js'

export { initWasmEngine } from './engine/wasm.js'
export type { Engine, EngineOptions, EngineRequest, EngineStream, NenReply, NenStoreAdapter, Opened, StoreConfig, EngineChoice } from './engine/index.js'
export type { StoreCommon } from './engine/types.js'
export type { WasmInput, WasmSource } from './engine/wasm.js'
