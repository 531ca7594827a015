// Loads the WebAssembly core once, on first use (never at import: Cloudflare Workers forbid I/O
// and compilation outside a request). By default from `nen.wasm` beside this bundle
// (packages/shared/wasm/source.ts, or the edge builds' compiled module); `preloadNen(source)` takes a
// precompiled WebAssembly.Module, its bytes or a Response instead. A failed load is a NenError
// ISO-9001 and is not cached: the next call, or `preloadNen(module)`, tries again.

import init, * as glue from '../wasm/nen_wasm.js'
import { NenError } from './errors.js'
import { loadFailureMessage } from '../../shared/wasm/errors.js'
import { isWasmInput, type WasmInput } from '../../shared/wasm/input.js'
import { defaultWasmSource } from '../../shared/wasm/source.js'

export type Core = typeof glue
export type { WasmInput }

let loaded: Core | undefined
let loading: Promise<Core> | undefined

/** The core, if it has finished loading. */
export function core(): Core | undefined {
  return loaded
}

function failure(e: unknown): NenError {
  if (e instanceof NenError) return e
  return new NenError('ISO-9001', { message: loadFailureMessage(e, '@withnen/client', 'preloadNen'), status: 500, cause: e })
}

async function load(source: WasmInput | undefined): Promise<Core> {
  try {
    const input = source ?? (await defaultWasmSource())
    await init({ module_or_path: input })
  } catch (e) {
    throw failure(e)
  }
  loaded = glue
  return glue
}

/**
 * Loads the core (once); every client operation awaits this first. With a `source` (a
 * precompiled WebAssembly.Module on edge runtimes, or the bytes), loads from it; without, from
 * the package's own `nen.wasm`. Once loaded, later calls resolve at once, whatever they pass.
 */
export function loadCore(source?: WasmInput): Promise<Core> {
  if (loaded) return Promise.resolve(loaded)
  if (source !== undefined && !isWasmInput(source)) {
    return Promise.reject(new NenError('ISO-9001', { message: 'preloadNen expects a WebAssembly.Module, its bytes (ArrayBuffer or typed array) or a Response', status: 500 }))
  }
  // A load already running: wait for it; if it fails and this call brought a source, use it.
  if (loading) return source === undefined ? loading : loading.catch(() => loadCore(source))
  const attempt = load(source)
  loading = attempt
  attempt.then(
    () => {},
    () => {
      // Not cached: the next call starts again (with the module, after a codegen refusal).
      if (loading === attempt) loading = undefined
    },
  )
  return attempt
}
