// What the WebAssembly core can be loaded from.

// Declared without the DOM lib, so that the declarations compile in a Node project without it
// (lib es2022 and @types/node, which has no WebAssembly namespace before v22): each part is the
// global type where the project's lib declares it, and drops out where it does not.
type Global = typeof globalThis
type WasmModule = Global extends { WebAssembly: { Module: { prototype: infer M } } } ? M : never
type FetchResponse = Global extends { Response: { prototype: infer R } } ? R : never

/** A precompiled module (edge runtimes), its bytes, or a fetch Response for them. */
export type WasmSource = WasmModule | ArrayBuffer | ArrayBufferView | FetchResponse

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
