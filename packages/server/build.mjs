// Builds dist/: ESM and CJS bundles (esbuild) of each entry point, the edge builds of the main
// entry, one copy of the WebAssembly engine (dist/nen.wasm, loaded on first use when the engine
// falls back to it, never inlined), and type declarations (tsc; .d.ts for import, .d.cts for
// require). The native addon and the client are left as imports (external): the addon is a
// platform binary the application installs, and bundling the client would ship a second copy.
//
// The edge builds (package.json's workerd / worker / edge-light / browser conditions) are the
// main entry with two modules swapped: engine/native.ts for native.edge.ts (no reference to the
// addon at all), and packages/shared/wasm/source.ts (shared with @withnen/client) for a variant that imports the core as a module the
// way the runtime's bundler allows (`./nen.wasm` for workerd and wrangler, `./nen.wasm?module`
// for Next.js and Vercel edge; the browser build fetches it by URL).
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { copyFileSync, rmSync, writeFileSync } from 'node:fs'
import { writeCjsTypes } from '../../scripts/cjs-types.mjs'
import { writeCatalogue } from './scripts/catalogue.mjs'

const here = new URL('.', import.meta.url).pathname
// The error catalogue is refreshed from the addon when it is built; otherwise the committed copy
// stands (test/catalogue.test.mjs compares them).
if (!writeCatalogue()) console.warn('native addon not built: keeping packages/shared/generated/ as it is')
rmSync(`${here}dist`, { recursive: true, force: true })
const entries = ['index', 'node', 'express', 'fastify', 'hono']
/** Keeps `.wasm` imports for the runtime's bundler; `swap` replaces engine modules by file name. */
const modules = (swap = {}) => ({
  name: 'engine-modules',
  setup(b) {
    b.onResolve({ filter: /\.wasm(\?module)?$/ }, (a) => ({ path: a.path, external: true }))
    if (swap.native) b.onResolve({ filter: /^\.\/native\.js$/ }, () => ({ path: `${here}src/engine/${swap.native}.ts` }))
    if (swap.source) b.onResolve({ filter: /\/shared\/wasm\/source\.js$/ }, () => ({ path: `${here}../shared/wasm/${swap.source}.ts` }))
  },
})
const common = {
  entryPoints: entries.map((e) => `${here}src/${e}.ts`),
  outdir: `${here}dist`,
  bundle: true,
  platform: 'neutral',
  target: 'es2022',
  external: ['@withnen/server-native', '@withnen/client', '@withnen/client/*'],
  logLevel: 'warning',
  plugins: [modules()],
}
await build({ ...common, format: 'esm', outExtension: { '.js': '.mjs' } })
// The CJS build has no import.meta; the native loader then uses __filename (src/engine/native.ts).
await build({ ...common, format: 'cjs', outExtension: { '.js': '.cjs' }, define: { 'import.meta.url': 'undefined' } })
const edge = { edge: 'source.edge', 'edge-light': 'source.edge-light', browser: 'source' }
for (const [out, source] of Object.entries(edge)) {
  const { outdir, ...one } = common
  await build({ ...one, entryPoints: [`${here}src/index.ts`], outfile: `${here}dist/${out}.mjs`, format: 'esm', plugins: [modules({ native: 'native.edge', source })] })
}
copyFileSync(`${here}wasm/nen_wasm_bg.wasm`, `${here}dist/nen.wasm`)
execFileSync(process.execPath, [`${here}../../node_modules/typescript/bin/tsc`, '-p', `${here}tsconfig.json`], { stdio: 'inherit' })
writeCjsTypes(`${here}dist/types`, `${here}dist/types-cjs`)
for (const e of entries) {
  writeFileSync(`${here}dist/${e}.d.ts`, `export * from './types/server/src/${e}.js'\n`)
  writeFileSync(`${here}dist/${e}.d.cts`, `export * from './types-cjs/server/src/${e}.cjs'\n`)
}
