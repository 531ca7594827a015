// Fast checks, no install and no build: the next.config patcher on the shapes projects have, the
// .env.local rules, and the CLI's refusals (an unpatchable config: exact instructions, non-zero
// exit, file untouched).

import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureWrappingKey } from '../lib/env-file.mjs'
import { SNIPPET, patchConfigText } from '../lib/next-config.mjs'
import { appPackageJson, packageName } from '../lib/create.mjs'
import { exampleDir } from '../lib/template.mjs'
import { NEN_VERSION } from '../lib/packages.mjs'

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/create-nen-app.mjs')
const cli = (args, cwd) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NEN_LOCAL_PACKAGES: '' } })
  return { status: r.status, out: r.stdout + r.stderr }
}
const tmp = (t) => {
  const d = mkdtempSync(path.join(tmpdir(), 'nen-cna-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

const E = "'@withnen/server-native'"
const patched = [
  // create-next-app's TypeScript config
  [
    'import type { NextConfig } from "next";\n\nconst nextConfig: NextConfig = {\n  /* config options here */\n};\n\nexport default nextConfig;\n',
    `import type { NextConfig } from "next";\n\nconst nextConfig: NextConfig = {\n  serverExternalPackages: [${E}],\n  /* config options here */\n};\n\nexport default nextConfig;\n`,
  ],
  // create-next-app's JavaScript config
  [
    "/** @type {import('next').NextConfig} */\nconst nextConfig = {};\n\nexport default nextConfig;\n",
    `/** @type {import('next').NextConfig} */\nconst nextConfig = {\n  serverExternalPackages: [${E}],\n};\n\nexport default nextConfig;\n`,
  ],
  ['module.exports = { reactStrictMode: true }\n', `module.exports = { serverExternalPackages: [${E}], reactStrictMode: true }\n`],
  ['export default {\n    reactStrictMode: true,\n}\n', `export default {\n    serverExternalPackages: [${E}],\n    reactStrictMode: true,\n}\n`],
  [
    'const config = {\n  images: { domains: ["}"] },\n}\nmodule.exports = withMDX(config)\n',
    `const config = {\n  serverExternalPackages: [${E}],\n  images: { domains: ["}"] },\n}\nmodule.exports = withMDX(config)\n`,
  ],
  [
    'const nextConfig = {\n  output: "standalone",\n} satisfies NextConfig\nexport default nextConfig\n',
    `const nextConfig = {\n  serverExternalPackages: [${E}],\n  output: "standalone",\n} satisfies NextConfig\nexport default nextConfig\n`,
  ],
  ["export default {\n  serverExternalPackages: ['sharp'],\n}\n", `export default {\n  serverExternalPackages: [${E}, 'sharp'],\n}\n`],
  ['export default { serverExternalPackages: [] }\n', `export default { serverExternalPackages: [${E}] }\n`],
]

test('next.config: the usual shapes are patched', () => {
  for (const [before, after] of patched) {
    const r = patchConfigText(before)
    assert.equal(r.action, 'patched', before)
    assert.equal(r.text, after)
    assert.equal(patchConfigText(r.text).action, 'present', 'patching twice changes nothing')
  }
})

test('next.config: shapes it cannot edit safely are left to the developer', () => {
  for (const text of [
    'export default (phase) => ({ reactStrictMode: true })\n',
    'module.exports = async () => { return {} }\n',
    'const base = { a: 1 }\nconst nextConfig = { ...base }\nexport default nextConfig\n',
    "import config from './config.mjs'\nexport default config\n",
    'const a = {}\nconst b = {}\nexport default a\nmodule.exports = b\n',
    'const list = ["x"]\nexport default { serverExternalPackages: list }\n',
    '// export default {}\nexport default makeConfig()\n',
  ])
    assert.equal(patchConfigText(text).action, 'manual', text)
})

test('--existing with a config it cannot patch: exact instructions, exit 1, config untouched, the rest done', (t) => {
  const dir = tmp(t)
  mkdirSync(path.join(dir, 'src/app'), { recursive: true })
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', dependencies: { next: '16.4.6' } }))
  const config = 'module.exports = (phase) => ({ reactStrictMode: true })\n'
  writeFileSync(path.join(dir, 'next.config.js'), config)
  const r = cli(['--existing', dir, '--no-install'], dir)
  assert.equal(r.status, 1, r.out)
  assert.ok(r.out.includes(`  ${SNIPPET}\n`), r.out)
  assert.match(r.out, /Could not update next\.config\.js safely/)
  assert.equal(readFileSync(path.join(dir, 'next.config.js'), 'utf8'), config)
  // JavaScript project (no tsconfig.json), src/app: route.js there.
  assert.equal(readFileSync(path.join(dir, 'src/app/api/nen/[action]/route.js'), 'utf8'), readFileSync(path.join(exampleDir, 'app/api/nen/[action]/route.ts'), 'utf8'))
  assert.match(readFileSync(path.join(dir, '.env.local'), 'utf8'), /^NEN_WRAPPING_KEY=/m)
  // src/app: the instrumentation file that loads @withnen/server first goes to src/.
  assert.equal(readFileSync(path.join(dir, 'src/instrumentation.js'), 'utf8'), readFileSync(path.join(exampleDir, 'instrumentation.ts'), 'utf8'))
  const v = NEN_VERSION
  assert.ok(r.out.includes(`npm install @withnen/client@${v} @withnen/server@${v} @withnen/server-native@${v}`), r.out)
})

test('--existing without a next.config writes one; an existing route file is never replaced', (t) => {
  const dir = tmp(t)
  mkdirSync(path.join(dir, 'app/api/nen/[action]'), { recursive: true })
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', dependencies: { next: '16.4.6' } }))
  writeFileSync(path.join(dir, 'tsconfig.json'), '{}')
  writeFileSync(path.join(dir, 'app/api/nen/[action]/route.ts'), '// mine\n')
  const r = cli(['--existing', dir, '--no-install'], dir)
  assert.equal(r.status, 0, r.out)
  assert.equal(readFileSync(path.join(dir, 'app/api/nen/[action]/route.ts'), 'utf8'), '// mine\n')
  assert.match(r.out, /route\s+kept/)
  assert.match(readFileSync(path.join(dir, 'next.config.ts'), 'utf8'), /serverExternalPackages: \['@withnen\/server-native'\]/)
  assert.match(readFileSync(path.join(dir, 'instrumentation.ts'), 'utf8'), /await import\('@withnen\/server'\)/)
  // An instrumentation file of the app's own is kept, with a note.
  const dir2 = tmp(t)
  mkdirSync(path.join(dir2, 'app'), { recursive: true })
  writeFileSync(path.join(dir2, 'package.json'), JSON.stringify({ name: 'p', dependencies: { next: '16.4.6' } }))
  writeFileSync(path.join(dir2, 'instrumentation.ts'), 'export function register() {}\n')
  const r2 = cli(['--existing', dir2, '--no-install'], dir2)
  assert.equal(readFileSync(path.join(dir2, 'instrumentation.ts'), 'utf8'), 'export function register() {}\n')
  assert.match(r2.out, /instrumentation\s+kept/)
})

test('--existing refuses a directory that is not an App Router project', (t) => {
  const dir = tmp(t)
  writeFileSync(path.join(dir, 'package.json'), '{"name":"p"}')
  const r = cli(['--existing', dir, '--no-install'], dir)
  assert.equal(r.status, 1)
  assert.match(r.out, /no app\/ or src\/app\/ directory/)
})

test('.env.local: created, appended to, never overwritten', (t) => {
  const dir = tmp(t)
  const f = path.join(dir, '.env.local')
  assert.equal(ensureWrappingKey(f), 'created')
  const first = readFileSync(f, 'utf8')
  assert.match(first, /^NEN_WRAPPING_KEY=[A-Za-z0-9+/]{43}=$/m)
  assert.equal(Buffer.from(/^NEN_WRAPPING_KEY=(.*)$/m.exec(first)[1], 'base64').length, 32)
  assert.equal(ensureWrappingKey(f), 'kept')
  assert.equal(readFileSync(f, 'utf8'), first)
  writeFileSync(f, 'A=1')
  assert.equal(ensureWrappingKey(f), 'added')
  assert.match(readFileSync(f, 'utf8'), /^A=1\n\n# Nen/)
  writeFileSync(f, 'export NEN_WRAPPING_KEY=mine\n')
  assert.equal(ensureWrappingKey(f), 'kept')
})

test('a new app: refuses a non-empty directory; registry versions without --packages-from', (t) => {
  const dir = tmp(t)
  writeFileSync(path.join(dir, 'x'), '')
  const r = cli([dir, '--no-install'], dir)
  assert.equal(r.status, 1)
  assert.match(r.out, /exists and is not empty/)
  const app = path.join(dir, 'My App')
  const ok = cli([app, '--no-install'], dir)
  assert.equal(ok.status, 0, ok.out)
  const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'))
  assert.equal(pkg.name, 'my-app')
  assert.deepEqual(
    Object.entries(pkg.dependencies).filter(([n]) => n.startsWith('@withnen/')),
    [
      ['@withnen/ai', NEN_VERSION],
      ['@withnen/client', NEN_VERSION],
      ['@withnen/server', NEN_VERSION],
      ['@withnen/server-native', NEN_VERSION],
    ],
  )
  assert.ok(!JSON.stringify(pkg).includes('file:'))
  const other = path.join(dir, 'b')
  assert.equal(cli([other, '--no-install'], dir).status, 0)
  assert.notEqual(readFileSync(path.join(app, '.env.local'), 'utf8'), readFileSync(path.join(other, '.env.local'), 'utf8'), 'a fresh key per app')
  assert.equal(packageName('/x/.Hello World!'), 'hello-world-')
  assert.match(appPackageJson('{"name":"x","dependencies":{"@withnen/client":"file:.local/client","next":"1"}}', 'y'), new RegExp(`"@withnen/client": "${NEN_VERSION.replace(/\./g, '\\.')}"`))
})

test('usage errors', () => {
  assert.equal(cli([], tmpdir()).status, 1)
  assert.equal(cli(['a', 'b'], tmpdir()).status, 1)
  assert.equal(cli(['--bogus'], tmpdir()).status, 1)
  assert.equal(cli(['--packages-from'], tmpdir()).status, 1)
  const help = cli(['--help'], tmpdir())
  assert.equal(help.status, 0)
  assert.match(help.out, /--existing \[dir\]/)
  assert.equal(cli(['--version'], tmpdir()).out.trim(), NEN_VERSION)
  assert.equal(NEN_VERSION, '0.5.0')
})

test('--existing writes the config key of the installed Next.js major, and refuses one before 14.2.7', (t) => {
  const legacy = "experimental: { serverComponentsExternalPackages: ['@withnen/server-native'], instrumentationHook: true },"
  const cases = [
    // [next in package.json, installed version or null, expected file, expected line]
    ['14.2.7', null, 'next.config.mjs', legacy],
    ['^14.2.35', null, 'next.config.mjs', legacy],
    ['15.5.0', null, 'next.config.ts', "serverExternalPackages: ['@withnen/server-native'],"],
    ['16.4.6', null, 'next.config.ts', "serverExternalPackages: ['@withnen/server-native'],"],
    // The installed version wins over the range.
    ['latest', '14.2.35', 'next.config.mjs', legacy],
  ]
  for (const [range, installed, file, line] of cases) {
    const dir = tmp(t)
    mkdirSync(path.join(dir, 'app'), { recursive: true })
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', dependencies: { next: range } }))
    writeFileSync(path.join(dir, 'tsconfig.json'), '{}')
    if (installed) {
      mkdirSync(path.join(dir, 'node_modules/next'), { recursive: true })
      writeFileSync(path.join(dir, 'node_modules/next/package.json'), JSON.stringify({ name: 'next', version: installed }))
    }
    const r = cli(['--existing', dir, '--no-install'], dir)
    assert.equal(r.status, 0, r.out)
    assert.ok(readFileSync(path.join(dir, file), 'utf8').includes(`\n  ${line}\n`), `${range}: ${readFileSync(path.join(dir, file), 'utf8')}`)
  }
  // An existing Next 14 config with an experimental block gets the keys inside it.
  const dir = tmp(t)
  mkdirSync(path.join(dir, 'app'), { recursive: true })
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'p', dependencies: { next: '14.2.35' } }))
  writeFileSync(path.join(dir, 'next.config.js'), 'module.exports = {\n  experimental: { typedRoutes: true },\n}\n')
  assert.equal(cli(['--existing', dir, '--no-install'], dir).status, 0)
  assert.equal(
    readFileSync(path.join(dir, 'next.config.js'), 'utf8'),
    "module.exports = {\n  experimental: { serverComponentsExternalPackages: ['@withnen/server-native'], instrumentationHook: true, typedRoutes: true },\n}\n",
  )
  // Before 14.2.7 Next.js does not say which path it dispatched on (App Router routes refuse
  // every signed request), before 13.4 there are no route handlers: refused, nothing written.
  for (const range of ['14.2.6', '^14.0.0', '13.5.11', '13.4.19', '12.3.4']) {
    const old = tmp(t)
    mkdirSync(path.join(old, 'app'), { recursive: true })
    writeFileSync(path.join(old, 'package.json'), JSON.stringify({ name: 'p', dependencies: { next: range } }))
    const r = cli(['--existing', old, '--no-install'], old)
    assert.equal(r.status, 1, r.out)
    const v = /(\d+)\.(\d+)\.(\d+)/.exec(range).slice(1).join('\\.')
    assert.match(r.out, new RegExp(`next ${v}: Nen's App Router routes need Next\\.js 14\\.2\\.7 or later`))
    assert.deepEqual(readdirSync(old).sort(), ['app', 'package.json'])
  }
})
