// Builds dist/: ESM and CJS bundles (esbuild) of each entry point, and type declarations (tsc).
// The native addon and the client are left as imports (external): the addon is a platform
// binary the application installs, and bundling the client would ship a second copy of it.
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { writeCatalogue } from './scripts/catalogue.mjs'

const here = new URL('.', import.meta.url).pathname
// The error catalogue is refreshed from the addon when it is built; otherwise the committed copy
// stands (test/catalogue.test.mjs compares them).
if (!writeCatalogue()) console.warn('native addon not built: keeping src/catalogue.ts as it is')
rmSync(`${here}dist`, { recursive: true, force: true })
const entries = ['index', 'node', 'express', 'fastify', 'hono']
const common = {
  entryPoints: entries.map((e) => `${here}src/${e}.ts`),
  outdir: `${here}dist`,
  bundle: true,
  platform: 'neutral',
  target: 'es2022',
  external: ['@withnen/server-native', '@withnen/client', '@withnen/client/*'],
  logLevel: 'warning',
}
await build({ ...common, format: 'esm', outExtension: { '.js': '.mjs' } })
// The CJS build has no import.meta; the native loader then uses __filename (src/engine/native.ts).
await build({ ...common, format: 'cjs', outExtension: { '.js': '.cjs' }, define: { 'import.meta.url': 'undefined' } })
execFileSync(process.execPath, [`${here}../../node_modules/typescript/bin/tsc`, '-p', `${here}tsconfig.json`], { stdio: 'inherit' })
for (const e of entries) writeFileSync(`${here}dist/${e}.d.ts`, `export * from './types/src/${e}.js'\n`)
