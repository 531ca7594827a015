// Builds dist/: ESM and CJS bundles (esbuild) of the two entry points, `@withnen/ai` (browser)
// and `@withnen/ai/server`, and their type declarations (tsc). The Nen packages and the provider
// SDKs stay external: the app installs them once, and no SDK code reaches the browser bundle.
// Build @withnen/client and @withnen/server first (their declarations are read here).
import { build } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { writeCjsTypes } from '../../scripts/cjs-types.mjs'

const here = new URL('.', import.meta.url).pathname
rmSync(`${here}dist`, { recursive: true, force: true })
const external = ['@withnen/*', 'openai', 'openai/*', '@anthropic-ai/sdk', '@anthropic-ai/sdk/*']
const entries = [
  { name: 'index', src: 'src/index.ts', platform: 'neutral' },
  { name: 'server', src: 'src/server/index.ts', platform: 'neutral' },
]
for (const e of entries) {
  const common = { entryPoints: [`${here}${e.src}`], bundle: true, platform: e.platform, target: 'es2022', external, logLevel: 'warning' }
  await build({ ...common, format: 'esm', outfile: `${here}dist/${e.name}.mjs` })
  await build({ ...common, format: 'cjs', outfile: `${here}dist/${e.name}.cjs` })
}
execFileSync(process.execPath, [`${here}../../node_modules/typescript/bin/tsc`, '-p', `${here}tsconfig.json`], { stdio: 'inherit' })
// .d.ts for import, .d.cts for require (one file for both is "masquerading as ESM" to CJS).
writeCjsTypes(`${here}dist/types`, `${here}dist/types-cjs`)
writeFileSync(`${here}dist/index.d.ts`, "export * from './types/index.js'\n")
writeFileSync(`${here}dist/server.d.ts`, "export * from './types/server/index.js'\n")
writeFileSync(`${here}dist/index.d.cts`, "export * from './types-cjs/index.cjs'\n")
writeFileSync(`${here}dist/server.d.cts`, "export * from './types-cjs/server/index.cjs'\n")
