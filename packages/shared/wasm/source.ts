// Where the WebAssembly core comes from when the application passes nothing (`preloadNen` in
// @withnen/client, `initWasmEngine` in @withnen/server):
// `nen.wasm` beside this bundle. Bundlers (webpack, Turbopack, Vite) see the
// `new URL('./nen.wasm', import.meta.url)` below, emit the file as an asset and rewrite the URL;
// browsers fetch it; Node, Deno and Bun read it from disk on first use. Nothing is read at import.
// The edge builds replace this module (source.edge.ts, source.edge-light.ts). On Node the server
// reads the file only when the native addon is unavailable and the engine falls back.

import type { WasmInput } from './input.js'

// The CJS build has no import.meta.url (build.mjs defines it as undefined) but has __filename.
declare const __filename: string | undefined

interface NodeFs {
  readFileSync(path: URL): Uint8Array
}

function nodeFs(): NodeFs | undefined {
  // Node >= 20.16, Deno and Bun: no import statement a browser bundler would try to resolve.
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  return p?.getBuiltinModule?.('node:fs') as NodeFs | undefined
}

function wasmUrl(): URL {
  if (import.meta.url) return new URL('./nen.wasm', import.meta.url)
  if (typeof __filename === 'string') return new URL('./nen.wasm', 'file://' + encodeURI(__filename.replace(/\\/g, '/').replace(/^(?!\/)/, '/')))
  throw new Error('no location for nen.wasm (this bundle has neither import.meta.url nor __filename)')
}

export async function defaultWasmSource(): Promise<WasmInput> {
  const url = wasmUrl()
  if (url.protocol === 'file:') {
    const fs = nodeFs()
    if (!fs) throw new Error('nen.wasm is a local file but this runtime has no node:fs')
    return fs.readFileSync(url)
  }
  const res = await fetch(url)
  if (!res.ok) throw new Error(`fetching ${url.pathname} answered HTTP ${res.status}`)
  return res
}
