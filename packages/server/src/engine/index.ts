// Picks the engine: the native addon where it loads (Node), else the WebAssembly build (edge
// runtimes, platforms without a prebuilt binary).

import { NenError, asNenError } from '../errors.js'
import { createNativeEngine } from './native.js'
import type { Engine, EngineOptions } from './types.js'
import { createWasmEngine } from './wasm.js'

export type { Engine, EngineOptions, EngineRequest, EngineStream, NenReply, NenStoreAdapter, Opened, StoreConfig } from './types.js'

/** `'auto'` (native, else WASM), or one of them only. */
export type EngineChoice = 'auto' | 'native' | 'wasm'

/** The addon's own rejection of the options (ISO-9001) is final: never retried on WASM. */
function isConfigError(e: unknown): boolean {
  return asNenError(e)?.code === 'ISO-9001'
}

export async function createEngine(options: EngineOptions, choice: EngineChoice = 'auto'): Promise<Engine> {
  if (choice !== 'wasm') {
    try {
      return await createNativeEngine(options)
    } catch (e) {
      if (choice === 'native' || isConfigError(e)) throw asNenError(e) ?? new NenError('ISO-9001', { message: 'native engine unavailable', cause: e })
    }
  }
  return createWasmEngine(options)
}
