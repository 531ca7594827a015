// A failed load of the WebAssembly core as a NenError (ISO-9001, a setup problem), with what to
// do about it. Shared by the client and the server package (each keeps a copy: no shared module).

/** Whether the runtime refused to compile WebAssembly from bytes (Workers, Next.js edge, a CSP). */
export function isCodegenRefusal(e: unknown): boolean {
  const m = e instanceof Error ? e.message : String(e)
  return /code generation disallowed|disallowed by embedder|Dynamic WASM code generation|wasm-unsafe-eval|WebAssembly\.(compile|instantiate)\(\) .*not allowed/i.test(m)
}

/** The message for a failed load; `pkg` names the package's `.wasm` export in the hint. */
export function loadFailureMessage(e: unknown, pkg: string, call: string): string {
  if (isCodegenRefusal(e)) {
    return (
      'this runtime does not allow compiling WebAssembly from bytes: pass the precompiled module, ' +
      `${call}(module) with \`import module from '${pkg}/nen.wasm'\` (Cloudflare Workers, wrangler) or ` +
      `'${pkg}/nen.wasm?module' (Next.js and Vercel edge); with the workerd / edge-light export conditions this is automatic`
    )
  }
  const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  return `the Nen WebAssembly core could not be loaded (${why}); ${call}(module or bytes) loads it from a source you give`
}
