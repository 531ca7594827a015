// The core for Vercel's edge runtime and Next.js `runtime = 'edge'`: their compiler turns a
// `.wasm?module` import into a WebAssembly.Module and refuses code that compiles from bytes.
// Selected by the `edge-light` export condition.

import wasm from './nen.wasm?module'
import type { WasmInput } from './input.js'

export async function defaultWasmSource(): Promise<WasmInput> {
  return wasm
}
