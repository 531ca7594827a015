// The edge builds' stand-in for native.ts: no import of @withnen/server-native, static or
// dynamic, so edge bundlers (wrangler, Next.js edge) never meet the addon or its loader. The
// engine choice 'auto' then goes straight to WebAssembly; 'native' is a configuration error.

import { NenError } from '../errors.js'
import type { Engine, EngineOptions } from './types.js'

export async function createNativeEngine(_options: EngineOptions): Promise<Engine> {
  throw new NenError('ISO-9001', { message: "the native engine does not exist in this runtime's build of @withnen/server (edge): use engine 'auto' or 'wasm'" })
}
