// Loads the WebAssembly core once. The module ships inline as base64, so no bundler needs a wasm
// loader or a public URL for it (Next.js, Vite, esbuild and Node all take it as plain JS), and
// it is compiled asynchronously, which browsers require for modules over 4 KiB.

import init, * as glue from '../wasm/nen_wasm.js'
import { wasmBase64 } from '../wasm/nen_wasm_bytes.js'

export type Core = typeof glue

let loaded: Core | undefined
let loading: Promise<Core> | undefined

/** The core, if it has finished loading. */
export function core(): Core | undefined {
  return loaded
}

/** Loads the core (once); every client operation awaits this first. */
export function loadCore(): Promise<Core> {
  loading ??= (async () => {
    await init({ module_or_path: decodeBase64(wasmBase64) })
    loaded = glue
    return glue
  })()
  return loading
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
