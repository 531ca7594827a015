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

/** Which engine was created, and why not the native one when it was wanted. */
export interface EngineSelection {
  engine: 'native' | 'wasm'
  fallback: boolean
  reason?: string
  missingPackage?: string
}

/** Why the addon did not load, and which package would have provided it. */
function whyNot(e: unknown): { reason: string; missingPackage?: string } {
  const err = e as { message?: unknown; code?: unknown; missingPackage?: unknown } | undefined
  const message = typeof err?.message === 'string' ? (err.message.split('\n', 1)[0] ?? '') : String(e)
  // @withnen/server-native's own loader names the platform package (binding-error.js).
  if (typeof err?.missingPackage === 'string') return { reason: message, missingPackage: err.missingPackage }
  if ((err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && message.includes('@withnen/server-native'))
    return { reason: '@withnen/server-native is not installed', missingPackage: '@withnen/server-native' }
  return { reason: message }
}

export async function createEngine(options: EngineOptions, choice: EngineChoice = 'auto', selected?: (s: EngineSelection) => void): Promise<Engine> {
  let fallback: EngineSelection = { engine: 'wasm', fallback: false }
  if (choice !== 'wasm') {
    try {
      const engine = await createNativeEngine(options)
      selected?.({ engine: 'native', fallback: false })
      return engine
    } catch (e) {
      const edgeBuild = (e as { edgeBuild?: unknown } | undefined)?.edgeBuild === true
      if (choice === 'native' || isConfigError(e)) throw asNenError(e) ?? new NenError('ISO-9001', { message: edgeBuild ? (e as Error).message : 'native engine unavailable', cause: e })
      // The edge builds have no addon by design: WebAssembly is their engine, not a fallback.
      fallback = edgeBuild ? { engine: 'wasm', fallback: false } : { engine: 'wasm', fallback: true, ...whyNot(e) }
    }
  }
  const engine = await createWasmEngine(options)
  selected?.(fallback)
  return engine
}
