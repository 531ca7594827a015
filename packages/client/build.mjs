// Builds dist/: ESM and CJS bundles (esbuild) of src/, the edge builds, one copy of the
// WebAssembly core (dist/nen.wasm, loaded on first use, never inlined), and type declarations
// (tsc; .d.ts for import, .d.cts for require). Run scripts/build-wasm.sh first.
//
// The edge builds are src/ with ../shared/wasm/source.ts (where the core comes from, shared with
// @withnen/server) replaced by a variant that imports the core as a module, the way the runtime's bundler allows: `./nen.wasm` (workerd, wrangler) or
// `./nen.wasm?module` (Next.js and Vercel edge). Those imports are left for that bundler.
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { writeCjsTypes } from '../../scripts/cjs-types.mjs'
import { writeCatalogue } from '../server/scripts/catalogue.mjs'

const here = new URL('.', import.meta.url).pathname
// The catalogue and protocol names are refreshed from the addon when it is built (packages/shared/generated/).
writeCatalogue()
if (!existsSync(`${here}wasm/nen_wasm.js`)) throw new Error('packages/client/wasm is missing: run scripts/build-wasm.sh first')
rmSync(`${here}dist`, { recursive: true, force: true })

/** Swaps shared/wasm/source.ts for `source.<variant>.ts`; keeps `.wasm` imports for the runtime. */
const variant = (name) => ({
  name: `wasm-source-${name ?? 'default'}`,
  setup(b) {
    b.onResolve({ filter: /\.wasm(\?module)?$/ }, (a) => ({ path: a.path, external: true }))
    if (name) b.onResolve({ filter: /\/shared\/wasm\/source\.js$/ }, () => ({ path: `${here}../shared/wasm/source.${name}.ts` }))
  },
})
const common = { entryPoints: [`${here}src/index.ts`], bundle: true, platform: 'neutral', target: 'es2022', logLevel: 'warning' }
await build({ ...common, format: 'esm', outfile: `${here}dist/index.mjs`, plugins: [variant()] })
await build({ ...common, format: 'cjs', outfile: `${here}dist/index.cjs`, define: { 'import.meta.url': 'undefined' }, plugins: [variant()] })
for (const name of ['edge', 'edge-light']) await build({ ...common, format: 'esm', outfile: `${here}dist/${name}.mjs`, plugins: [variant(name)] })
copyFileSync(`${here}wasm/nen_wasm_bg.wasm`, `${here}dist/nen.wasm`)

execFileSync(process.execPath, [`${here}../../node_modules/typescript/bin/tsc`, '-p', `${here}tsconfig.json`], { stdio: 'inherit' })
// The declarations refer to the core's generated types: ship those beside them.
mkdirSync(`${here}dist/types/client/wasm`, { recursive: true })
copyFileSync(`${here}wasm/nen_wasm.d.ts`, `${here}dist/types/client/wasm/nen_wasm.d.ts`)
writeCjsTypes(`${here}dist/types`, `${here}dist/types-cjs`)
writeFileSync(`${here}dist/index.d.ts`, "export * from './types/client/src/index.js'\n")
writeFileSync(`${here}dist/index.d.cts`, "export * from './types-cjs/client/src/index.cjs'\n")
