// Builds dist/: ESM and CJS bundles (esbuild) of src/ with the WebAssembly core inlined, and
// type declarations (tsc). Run scripts/build-wasm.sh first.
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { writeCatalogue } from '../server/scripts/catalogue.mjs'

const here = new URL('.', import.meta.url).pathname
// The catalogue and protocol names are refreshed from the addon when it is built (src/catalogue.ts).
writeCatalogue()
if (!existsSync(`${here}wasm/nen_wasm.js`)) throw new Error('packages/client/wasm is missing: run scripts/build-wasm.sh first')
rmSync(`${here}dist`, { recursive: true, force: true })
const common = { entryPoints: [`${here}src/index.ts`], bundle: true, platform: 'neutral', target: 'es2022', logLevel: 'warning' }
await build({ ...common, format: 'esm', outfile: `${here}dist/index.mjs` })
await build({ ...common, format: 'cjs', outfile: `${here}dist/index.cjs`, define: { 'import.meta.url': 'undefined' } })
execFileSync(process.execPath, [`${here}../../node_modules/typescript/bin/tsc`, '-p', `${here}tsconfig.json`], { stdio: 'inherit' })
// The declarations refer to the core's generated types: ship those beside them.
mkdirSync(`${here}dist/types/wasm`, { recursive: true })
for (const f of ['nen_wasm.d.ts', 'nen_wasm_bytes.d.ts']) copyFileSync(`${here}wasm/${f}`, `${here}dist/types/wasm/${f}`)
writeFileSync(`${here}dist/index.d.ts`, "export * from './types/src/index.js'\n")
