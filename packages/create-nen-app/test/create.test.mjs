// create-nen-app for real, offline: the repository's packages packed as tarballs (shared with the
// example's test through examples/next-app/.local), create-nen-app itself packed and run with
// `npm exec` as `npx create-nen-app` would. A new app and an existing App Router project are each
// built with `next build`, started, and sent one encrypted round trip by @withnen/client in Node.

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { packLocal, exampleDir } from '../../../examples/next-app/scripts/pack-local.mjs'
import { freePort, run, startServer } from '../../../examples/next-app/test/support/harness.mjs'
import { listTemplate } from '../lib/template.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const pkgDir = path.resolve(here, '..')
const clientDist = path.resolve(here, '../../client/dist/index.mjs')
const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'the local addon build is linux-x64 only' : false
const ADDON = 'nen-server-native.linux-x64-gnu.node'

let work
let tarballs // directory of the @withnen tarballs
let cnaTarball // create-nen-app packed
let cnaBin // create-nen-app's bin, unpacked from its tarball
const servers = []

before(() => {
  if (skip) return
  work = mkdtempSync(path.join(tmpdir(), 'nen-create-'))
  tarballs = packLocal().dir
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: pkgDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
  cnaTarball = path.join(work, JSON.parse(out.slice(out.indexOf('['))).at(-1).filename)
  mkdirSync(path.join(work, 'cna'))
  execFileSync('tar', ['xzf', cnaTarball, '-C', path.join(work, 'cna')])
  cnaBin = path.join(work, 'cna/package/bin/create-nen-app.mjs')
})

after(async () => {
  for (const s of servers) await s.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

/** Runs create-nen-app (the packed one); returns {status, out}. */
function cna(args, cwd) {
  const r = spawnSync(process.execPath, [cnaBin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NEN_LOCAL_PACKAGES: '' }, timeout: 180_000 })
  return { status: r.status, out: r.stdout + r.stderr }
}

/** One encrypted round trip with the real client: POST an item, GET it back; checks the wire. */
async function roundTrip(url, { post, get }) {
  const { createNenFetch } = await import(clientDist)
  const wire = []
  const recording = async (input, init) => {
    if (typeof init?.body === 'string') wire.push(init.body)
    const res = await fetch(input, init)
    wire.push(await res.clone().text())
    return res
  }
  const nenFetch = createNenFetch(url, { fetch: recording })
  const secret = `secret-${randomBytes(6).toString('hex')}`
  const created = await nenFetch(post, { method: 'POST', body: { name: secret } })
  const body = await created.json()
  assert.equal(body.name, secret)
  const got = await nenFetch(get(body))
  assert.equal(got.status, 200)
  assert.deepEqual(await got.json(), body)
  assert.match(nenFetch.client.sessionId, /^[0-9a-f]{32}$/)
  assert.ok(wire.length >= 5, 'handshake, POST and GET crossed the wire')
  for (const w of wire) assert.ok(!w.includes(secret), 'plaintext on the wire')
  return { status: created.status, body }
}

function assertRealCopies(app) {
  for (const name of ['client', 'server', 'server-native', 'server-native-linux-x64-gnu']) {
    const dir = path.join(app, 'node_modules/@withnen', name)
    assert.ok(lstatSync(dir).isDirectory() && !lstatSync(dir).isSymbolicLink(), `${dir} is a real copy`)
  }
  assert.ok(existsSync(path.join(app, 'node_modules/@withnen/server-native-linux-x64-gnu', ADDON)))
}

const KEY_LINE = /^NEN_WRAPPING_KEY=([A-Za-z0-9+/]{43}=)$/m

test('the packed template is examples/next-app, file for file', { skip }, () => {
  const packed = listTemplate(path.join(work, 'cna/package/template'))
  const source = listTemplate(exampleDir)
  assert.deepEqual(
    packed.map((f) => f.rel),
    source.map((f) => f.rel),
  )
  for (let i = 0; i < packed.length; i++) assert.ok(readFileSync(packed[i].abs).equals(readFileSync(source[i].abs)), `${packed[i].rel} differs from the example`)
  assert.ok(packed.some((f) => f.rel === 'app/api/nen/[action]/route.ts') && packed.some((f) => f.rel === '.gitignore'))
  assert.ok(!existsSync(path.join(pkgDir, 'template')), 'postpack removed the generated template/')
})

test('npx create-nen-app my-app --packages-from: scaffolds, builds, starts, one encrypted round trip', { skip, timeout: 300_000 }, async () => {
  await run('npm', ['exec', '--yes', `--package=${cnaTarball}`, '--', 'create-nen-app', 'my-app', '--packages-from', tarballs], { cwd: work, timeoutMs: 180_000 })
  const app = path.join(work, 'my-app')
  const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'))
  assert.equal(pkg.name, 'my-app')
  for (const n of ['@withnen/client', '@withnen/server', '@withnen/server-native', '@withnen/server-native-linux-x64-gnu']) assert.match(pkg.dependencies[n], /^file:\/.*\.tgz$/, n)
  assert.match(readFileSync(path.join(app, '.env.local'), 'utf8'), KEY_LINE)
  assert.ok(existsSync(path.join(app, '.gitignore')) && existsSync(path.join(app, 'README.md')))
  assert.ok(!existsSync(path.join(app, 'scripts')) && !existsSync(path.join(app, 'test')) && !existsSync(path.join(app, '.npmrc')))
  assertRealCopies(app)

  await run('npm', ['run', 'build'], { cwd: app, timeoutMs: 240_000 })
  const port = await freePort()
  const server = await startServer([path.join(app, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: app, port })
  servers.push(server)
  try {
    const r = await roundTrip(server.url, { post: '/api/items', get: (item) => `/api/items/${item.id}` })
    assert.equal(r.status, 201)
    assert.ok(server.loaded(ADDON), 'the native addon served it')
  } finally {
    await server.stop()
  }
})

test('create-nen-app --existing: adds Nen to an App Router project; it builds and round-trips', { skip, timeout: 300_000 }, async () => {
  const example = JSON.parse(readFileSync(path.join(exampleDir, 'package.json'), 'utf8'))
  const app = path.join(work, 'existing')
  const files = {
    'package.json': JSON.stringify(
      {
        name: 'existing',
        private: true,
        scripts: { build: 'next build', start: 'next start' },
        dependencies: { next: example.dependencies.next, react: example.dependencies.react, 'react-dom': example.dependencies['react-dom'] },
        devDependencies: { typescript: example.devDependencies.typescript, '@types/node': example.devDependencies['@types/node'], '@types/react': example.devDependencies['@types/react'] },
      },
      null,
      2,
    ),
    // What create-next-app writes.
    'next.config.ts': 'import type { NextConfig } from "next";\n\nconst nextConfig: NextConfig = {\n  /* config options here */\n};\n\nexport default nextConfig;\n',
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        target: 'ES2017',
        lib: ['dom', 'esnext'],
        strict: true,
        noEmit: true,
        module: 'esnext',
        moduleResolution: 'bundler',
        jsx: 'react-jsx',
        skipLibCheck: true,
        isolatedModules: true,
        plugins: [{ name: 'next' }],
      },
      include: ['**/*.ts', '**/*.tsx'],
    }),
    '.env.local': 'OTHER_SETTING=kept',
    'app/layout.tsx': 'export default function Layout({ children }: { children: React.ReactNode }) {\n  return <html><body>{children}</body></html>\n}\n',
    'app/page.tsx': 'export default function Page() {\n  return <p>existing</p>\n}\n',
  }
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(app, f)), { recursive: true })
    writeFileSync(path.join(app, f), text)
  }
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, timeoutMs: 180_000 })

  const first = cna(['--existing', app, '--packages-from', tarballs], work)
  assert.equal(first.status, 0, first.out)
  const route = path.join(app, 'app/api/nen/[action]/route.ts')
  assert.equal(readFileSync(route, 'utf8'), readFileSync(path.join(exampleDir, 'app/api/nen/[action]/route.ts'), 'utf8'))
  const config = readFileSync(path.join(app, 'next.config.ts'), 'utf8')
  assert.equal(
    config,
    'import type { NextConfig } from "next";\n\nconst nextConfig: NextConfig = {\n  serverExternalPackages: [\'@withnen/server-native\'],\n  /* config options here */\n};\n\nexport default nextConfig;\n',
  )
  const env = readFileSync(path.join(app, '.env.local'), 'utf8')
  assert.match(env, /^OTHER_SETTING=kept\n/)
  const key = KEY_LINE.exec(env)?.[1]
  assert.ok(key, '.env.local has a NEN_WRAPPING_KEY')
  const pkg = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'))
  for (const n of ['@withnen/client', '@withnen/server', '@withnen/server-native']) assert.ok(pkg.dependencies[n], `${n} is a dependency`)
  assertRealCopies(app)

  // Again: nothing changes, the key above all.
  const again = cna(['--existing', app, '--packages-from', tarballs, '--no-install'], work)
  assert.equal(again.status, 0, again.out)
  assert.match(again.out, /route\s+present/)
  assert.match(again.out, /next\.config\s+present/)
  assert.match(again.out, /\.env\.local\s+kept/)
  assert.equal(readFileSync(path.join(app, '.env.local'), 'utf8'), env)
  assert.equal(readFileSync(path.join(app, 'next.config.ts'), 'utf8'), config)

  // The project's own encrypted route, as its README says to write one.
  mkdirSync(path.join(app, 'app/api/notes'), { recursive: true })
  writeFileSync(
    path.join(app, 'app/api/notes/route.ts'),
    "import { nenResponse, withNen } from '@withnen/server'\n\nconst notes: unknown[] = []\n\nexport const POST = withNen(async (_req, body) => {\n  const note = { id: notes.length + 1, ...(body as object) }\n  notes.push(note)\n  return nenResponse(note, { status: 201 })\n})\n\nexport const GET = withNen(async (req) => notes[Number(new URL(req.url).searchParams.get('id')) - 1] ?? null)\n",
  )
  await run(process.execPath, [path.join(app, 'node_modules/next/dist/bin/next'), 'build'], { cwd: app, timeoutMs: 240_000 })
  const port = await freePort()
  const server = await startServer([path.join(app, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: app, port })
  servers.push(server)
  try {
    const r = await roundTrip(server.url, { post: '/api/notes', get: (note) => `/api/notes?id=${note.id}` })
    assert.equal(r.status, 201)
    assert.ok(server.loaded(ADDON), 'the native addon served it')
  } finally {
    await server.stop()
  }
})
