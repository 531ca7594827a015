// What the WebAssembly core can be loaded from, and the module declarations of the edge builds'
// `.wasm` imports (resolved by the runtime's bundler, never by this package's build).

/** A precompiled module (edge runtimes), its bytes, or a fetch Response for them. */
export type WasmInput = WebAssembly.Module | BufferSource | Response

/** Whether `x` is something `WasmInput` allows. */
export function isWasmInput(x: unknown): x is WasmInput {
  return (
    x instanceof WebAssembly.Module ||
    x instanceof ArrayBuffer ||
    ArrayBuffer.isView(x) ||
    (typeof Response === 'function' && x instanceof Response) ||
    // Another realm's module or buffer (an iframe, a VM context): checked by its tag.
    ['[object WebAssembly.Module]', '[object ArrayBuffer]'].includes(Object.prototype.toString.call(x))
  )
}
