// Nen in Next.js 13, 14, 15 and 16, each built once and served: `bash scripts/next-versions.sh`
// (about 4 minutes a version here: an npm install and a `next build` each; too slow for the test
// command, which builds the example on the version it pins). Per version, a project as
// create-next-app leaves it (React 18 below Next 15), then:
//   1. `create-nen-app --existing` adds Nen, writing the config key of that Next major
//      (next.config.mjs with experimental.serverComponentsExternalPackages below 15);
//   2. the project's own App Router route, and the example's `runtime = 'edge'` route and Pages
//      Router API routes, copied in unchanged;
//   3. `next build`, `next start`, then the real client from Node: an App Router round trip on
//      the native addon, the edge route on the WebAssembly build, the Pages Router routes;
//   4. the config key removed: `next build` fails with the text docs/troubleshooting.md quotes.
// NEN_NEXT_VERSIONS="14.2.8 16.4.6" picks the versions (default: the four below).

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { packLocal } from '../scripts/pack-local.mjs'
import { freePort, run, startServer } from './support/harness.mjs'
import { checkEdgeRoute, checkPagesRoutes, edgeStore } from './support/routes.mjs'

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const repo = path.resolve(app, '../..')
const cnaBin = path.join(repo, 'packages/create-nen-app/bin/create-nen-app.mjs')
const clientDist = path.join(repo, 'packages/client/dist/index.mjs')
const example = JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8'))
const ADDON = 'nen-server-native.linux-x64-gnu.node'
const VERSIONS = (process.env.NEN_NEXT_VERSIONS ?? '13.5.7 14.2.8 15.5.29 16.4.6').split(/\s+/).filter(Boolean)
const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'the local addon build is linux-x64 only' : false

let work
let tarballs
before(() => {
  if (skip) return
  work = mkdtempSync(path.join(tmpdir(), 'nen-next-versions-'))
  tarballs = packLocal().dir
})
after(() => work && rmSync(work, { recursive: true, force: true }))

/** The project create-next-app would leave for `version` (App Router, TypeScript). */
function scaffold(dir, version) {
  const major = Number(version.split('.')[0])
  const react = major >= 15 ? example.dependencies.react : '18.3.1'
  const types = major >= 15 ? example.devDependencies['@types/react'] : '^18.3.0'
  const files = {
    'package.json': JSON.stringify({
      name: `next-${major}`,
      private: true,
      dependencies: { next: version, react, 'react-dom': react },
      devDependencies: { typescript: example.devDependencies.typescript, '@types/node': example.devDependencies['@types/node'], '@types/react': types },
    }),
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        target: 'ES2017',
        lib: ['dom', 'dom.iterable', 'esnext'],
        strict: true,
        noEmit: true,
        module: 'esnext',
        moduleResolution: 'bundler',
        jsx: 'preserve',
        skipLibCheck: true,
        isolatedModules: true,
        esModuleInterop: true,
        resolveJsonModule: true,
        incremental: true,
        plugins: [{ name: 'next' }],
        paths: { '@/*': ['./*'] },
      },
      include: ['next-env.d.ts', '**/*.ts', '**/*.tsx', '.next/types/**/*.ts'],
      exclude: ['node_modules'],
    }),
    'app/layout.tsx': 'export default function Layout({ children }: { children: React.ReactNode }) {\n  return <html><body>{children}</body></html>\n}\n',
    'app/page.tsx': 'export default function Page() {\n  return <p>next</p>\n}\n',
  }
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true })
    writeFileSync(path.join(dir, f), text)
  }
}

/** The project's own route, as the server README writes one. */
const NOTES = `import { nenResponse, withNen } from '@withnen/server'

export const dynamic = 'force-dynamic'
const notes: unknown[] = []

export const POST = withNen(async (_req, body) => {
  const note = { id: notes.length + 1, ...(body as object) }
  notes.push(note)
  return nenResponse(note, { status: 201 })
})

export const GET = withNen(async (req) => notes[Number(new URL(req.url).searchParams.get('id')) - 1] ?? null)
`

for (const version of VERSIONS) {
  test(`Next.js ${version}: create-nen-app --existing, next build, next start; App Router, edge and Pages Router routes`, { skip, timeout: 900_000 }, async (t) => {
    const dir = path.join(work, version)
    scaffold(dir, version)
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, timeoutMs: 300_000 })
    const cna = spawnSync(process.execPath, [cnaBin, '--existing', dir, '--packages-from', tarballs], { encoding: 'utf8', env: { ...process.env, NEN_LOCAL_PACKAGES: '' }, timeout: 300_000 })
    assert.equal(cna.status, 0, cna.stdout + cna.stderr)
    const major = Number(version.split('.')[0])
    const config = readFileSync(path.join(dir, major >= 15 ? 'next.config.ts' : 'next.config.mjs'), 'utf8')
    assert.match(config, major >= 15 ? /serverExternalPackages: \['@withnen\/server-native'\]/ : /serverComponentsExternalPackages: \['@withnen\/server-native'\]/)

    mkdirSync(path.join(dir, 'app/api/notes'), { recursive: true })
    writeFileSync(path.join(dir, 'app/api/notes/route.ts'), NOTES)
    cpSync(path.join(app, 'app/api/edge'), path.join(dir, 'app/api/edge'), { recursive: true })
    cpSync(path.join(app, 'lib/edge-nen.ts'), path.join(dir, 'lib/edge-nen.ts'))
    cpSync(path.join(app, 'pages'), path.join(dir, 'pages'), { recursive: true })

    const next = path.join(dir, 'node_modules/next/dist/bin/next')
    await run(process.execPath, [next, 'build'], { cwd: dir, timeoutMs: 420_000 })
    const store = await edgeStore()
    t.after(store.stop)
    const port = await freePort()
    const server = await startServer([next, 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: dir, port, timeoutMs: 60_000, extraEnv: store.env })
    try {
      const { createNenFetch } = await import(clientDist)
      const nenFetch = createNenFetch(server.url)
      const secret = `notes-${randomBytes(6).toString('hex')}`
      const created = await nenFetch('/api/notes', { method: 'POST', body: { name: secret } })
      assert.equal(created.status, 201)
      const note = await created.json()
      assert.deepEqual(await (await nenFetch(`/api/notes?id=${note.id}`)).json(), { id: note.id, name: secret })
      assert.ok(server.loaded(ADDON), 'the App Router route ran on the native addon')
      await checkEdgeRoute(server.url, store)
      await checkPagesRoutes(server.url)
    } finally {
      await server.stop()
    }

    // Without the config key, the build fails on the addon with the text docs/troubleshooting.md
    // quotes (Turbopack from Next 16 on, webpack below).
    writeFileSync(path.join(dir, major >= 15 ? 'next.config.ts' : 'next.config.mjs'), 'export default {}\n')
    const failed = await run(process.execPath, [next, 'build'], { cwd: dir, timeoutMs: 420_000 }).then(
      (out) => assert.fail(`next build succeeded without the config key:\n${out.slice(-3000)}`),
      (e) => String(e.message),
    )
    const line = failed.split('\n').find((l) => /non-ecmascript placeable asset|Module parse failed|Unexpected character|\.node/.test(l))
    t.diagnostic(`Next.js ${version} without the config key: ${line?.trim()}`)
    assert.match(failed, /non-ecmascript placeable asset|Module parse failed: Unexpected character/)
    rmSync(dir, { recursive: true, force: true })
  })
}
