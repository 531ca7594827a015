// The edge builds' stand-in for native.ts: no import of @withnen/server-native, static or
// dynamic, so edge bundlers (wrangler, Next.js edge) never meet the addon or its loader. The
// engine choice 'auto' then goes straight to WebAssembly; 'native' is a configuration error.

import type { Engine, EngineOptions } from './types.js'

/**
 * Uncoded on purpose: createEngine takes it as "no addon here" (WebAssembly, not reported as a
 * fallback), and turns it into ISO-9001 only when the configuration asked for 'native'.
 */
export async function createNativeEngine(_options: EngineOptions): Promise<Engine> {
  throw Object.assign(new Error("the native engine does not exist in this runtime's build of @withnen/server (edge): use engine 'auto' or 'wasm'"), { edgeBuild: true })
}
