// Writes CommonJS declarations beside a package's ESM ones: every `.d.ts` under `from` copied to
// `to` as `.d.cts`, its relative `.js` specifiers turned into `.cjs`. The `require` condition
// then points at declarations TypeScript reads as CommonJS, as the `.cjs` bundle is (one `.d.ts`
// for both conditions is "masquerading as ESM" to CommonJS consumers).

import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export function writeCjsTypes(from, to) {
  mkdirSync(to, { recursive: true })
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name)
    if (entry.isDirectory()) {
      writeCjsTypes(src, join(to, entry.name))
    } else if (entry.name.endsWith('.d.ts')) {
      const text = readFileSync(src, 'utf8').replace(/((?:from|import)\s*\(?\s*['"]\.{1,2}\/[^'"]*?)\.js(['"])/g, '$1.cjs$2')
      writeFileSync(join(to, entry.name.replace(/\.d\.ts$/, '.d.cts')), text)
    }
  }
}
