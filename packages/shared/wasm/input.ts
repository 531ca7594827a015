// What the WebAssembly core can be loaded from.

/**
 * `WebAssembly.Module | ArrayBuffer | ArrayBufferView | Response`: a precompiled module (edge
 * runtimes), its bytes, or a fetch Response for them. The module and the Response are the global
 * types where the project's lib declares them (the DOM lib, or a runtime's own types), so that these
 * declarations also compile in a Node project without the DOM lib.
 */
export type WasmInput =
  | (typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : never)
  | ArrayBuffer
  | ArrayBufferView
  | (typeof globalThis extends { Response: { prototype: infer R } } ? R : never)

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
