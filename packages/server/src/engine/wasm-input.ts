// What the WebAssembly core can be loaded from.

/** A precompiled module (edge runtimes), its bytes, or a fetch Response for them. */
export type WasmSource = WebAssembly.Module | BufferSource | Response

/** Whether `x` is something `WasmSource` allows. */
export function isWasmInput(x: unknown): x is WasmSource {
  return (
    x instanceof WebAssembly.Module ||
    x instanceof ArrayBuffer ||
    ArrayBuffer.isView(x) ||
    (typeof Response === 'function' && x instanceof Response) ||
    // Another realm's module or buffer (an iframe, a VM context): checked by its tag.
    ['[object WebAssembly.Module]', '[object ArrayBuffer]'].includes(Object.prototype.toString.call(x))
  )
}
