// @withnen/client: post-quantum application-layer encryption of API calls, for browsers, Node
// and edge runtimes. See the package README for the Next.js setup.

import { NenClient, type NenClientOptions, type NenRequestInit } from './client.js'

export { NenClient } from './client.js'
export type { NenClientOptions, NenRequestInit, NenStatus } from './client.js'
export { NenError, describeNenCode } from './errors.js'
export type { NenCodeInfo } from './errors.js'
import { loadCore } from './wasm.js'
import type { WasmInput } from '../../shared/wasm/input.js'

export type { WasmInput }

/**
 * Loads the WebAssembly core ahead of the first call. Pass the precompiled `WebAssembly.Module`
 * (edge runtimes that forbid compiling bytes), its bytes or a `Response`; without a source the
 * package's own `nen.wasm` is used. A failure is a NenError ISO-9001 and may be retried.
 */
export function preloadNen(source?: WasmInput): Promise<void> {
  return loadCore(source).then(() => undefined)
}

/** An encrypted `fetch`: `nenFetch(path, init)` resolves to a standard Response. */
export interface NenFetch {
  (path: string, init?: NenRequestInit): Promise<Response>
  /** The client behind it (rotate, terminate, status, or share it with `createNenStream`). */
  readonly client: NenClient
}

/** An encrypted stream reader: `for await (const chunk of nenStream(path, init))`. */
export interface NenStreamFn {
  (path: string, init?: NenRequestInit): AsyncGenerator<string, void, undefined>
  readonly client: NenClient
}

function clientFor(target: string | NenClient | { client: NenClient }, options?: NenClientOptions): NenClient {
  if (target instanceof NenClient) return target
  if ((typeof target === 'object' || typeof target === 'function') && target !== null && target.client instanceof NenClient) return target.client
  // Anything else is a base URL, which the client checks (ISO-9001).
  return new NenClient(target as string, options)
}

/**
 * A lazily connected encrypted fetch: the first call handshakes (concurrent first calls share
 * one handshake), later calls reuse the session. Pass a NenClient, or another `createNen*`
 * function, instead of a URL to share its session.
 */
export function createNenFetch(target: string | NenClient | { client: NenClient }, options?: NenClientOptions): NenFetch {
  const client = clientFor(target, options)
  return Object.assign((path: string, init?: NenRequestInit) => client.nenFetch(path, init), { client })
}

/** Like `createNenFetch`, for encrypted server-sent-event streams. */
export function createNenStream(target: string | NenClient | { client: NenClient }, options?: NenClientOptions): NenStreamFn {
  const client = clientFor(target, options)
  return Object.assign((path: string, init?: NenRequestInit) => client.nenStream(path, init), { client })
}
