'use strict'
// The published declarations compile in the projects that consume them, with `skipLibCheck:
// false` (so every .d.ts of ours is checked, not only what the project uses): every package
// packed as npm would publish it and unpacked into a consumer's node_modules, every entry point
// imported, under each moduleResolution (bundler, node16 as ESM and as CommonJS, node10) and the
// common `lib` settings: a browser or Next.js project (dom, esnext) and a Node server without
// DOM (es2022 and @types/node). attw (package-hygiene.test.js) checks that the types resolve;
// this checks that they compile (the client's once failed on `Symbol.dispose` under es2022).

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
// Inside the repository, so that the frameworks' own types (fastify, hono, @types/node) resolve
// from its node_modules, as they would from the consumer's; ours resolve from the copies here.
const work = path.join(root, 'target', 'consumer-types')

const PACKAGES = [
  ['server-native', '.'],
  ['server', 'packages/server'],
  ['client', 'packages/client'],
  ['ai', 'packages/ai'],
]

const ENTRIES = ['@withnen/server-native', '@withnen/server', '@withnen/server/node', '@withnen/server/express', '@withnen/server/fastify', '@withnen/server/hono', '@withnen/client', '@withnen/ai', '@withnen/ai/server']

// What a consumer writes: every entry imported, one value of each used.
const esm = `${ENTRIES.map((e, i) => `import * as m${i} from '${e}'`).join('\n')}\nexport const all: unknown[] = [${ENTRIES.map((_, i) => `m${i}`).join(', ')}]\n`
const cjs = `${ENTRIES.map((e, i) => `import m${i} = require('${e}')`).join('\n')}\nexport const all: unknown[] = [${ENTRIES.map((_, i) => `m${i}`).join(', ')}]\n`

const LIBS = {
  'dom+esnext': { lib: ['esnext', 'dom', 'dom.iterable'], types: [] },
  'es2022+node': { lib: ['es2022'], types: ['node'] },
}
const MODES = {
  bundler: { module: 'esnext', moduleResolution: 'bundler', file: 'index.ts' },
  'node16 esm': { module: 'node16', moduleResolution: 'node16', file: 'index.mts' },
  'node16 cjs': { module: 'node16', moduleResolution: 'node16', file: 'index.cts' },
  node10: { module: 'commonjs', moduleResolution: 'node10', file: 'index.ts' },
}

test.before(() => {
  fs.rmSync(work, { recursive: true, force: true })
  const tarballs = path.join(work, 'tarballs')
  fs.mkdirSync(tarballs, { recursive: true })
  for (const [name, dir] of PACKAGES) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tarballs], { cwd: path.join(root, dir), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const { filename } = JSON.parse(out.slice(out.lastIndexOf('\n[') + 1))[0]
    const dest = path.join(work, 'node_modules/@withnen', name)
    fs.mkdirSync(dest, { recursive: true })
    execFileSync('tar', ['xzf', path.join(tarballs, filename), '-C', dest, '--strip-components=1'])
  }
  fs.writeFileSync(path.join(work, 'index.ts'), esm)
  fs.writeFileSync(path.join(work, 'index.mts'), esm)
  fs.writeFileSync(path.join(work, 'index.cts'), cjs)
})

for (const [libName, lib] of Object.entries(LIBS)) {
  for (const [modeName, mode] of Object.entries(MODES)) {
    // node10 has no exports map: the subpaths resolve through typesVersions.
    test(`a consumer with ${modeName} resolution and lib ${libName} compiles, skipLibCheck off`, { timeout: 90_000 }, () => {
      const config = path.join(work, `tsconfig.${modeName.replace(' ', '-')}.${libName}.json`)
      const compilerOptions = {
        noEmit: true,
        strict: true,
        target: 'es2022',
        module: mode.module,
        moduleResolution: mode.moduleResolution,
        lib: lib.lib,
        types: lib.types,
        skipLibCheck: false,
        esModuleInterop: true,
      }
      fs.writeFileSync(config, JSON.stringify({ compilerOptions, files: [mode.file] }))
      const r = spawnSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8', timeout: 85_000 })
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
    })
  }
}
