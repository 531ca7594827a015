// The core for runtimes that import `.wasm` files as compiled modules (Cloudflare Workers and
// wrangler: the CompiledWasm rule). Compiling from bytes is refused there, so the bundle carries
// the module itself. Selected by the `workerd` and `worker` export conditions.

import wasm from './nen.wasm'
import type { WasmInput } from './input.js'

export async function defaultWasmSource(): Promise<WasmInput> {
  return wasm
}
