// Nen in Next.js 13, 14, 15 and 16, each built once and served: `bash scripts/next-versions.sh`
// (about 5 minutes for the four here, 1 to 2 a version with a warm npm cache: an npm install and
// two `next build`s each; too slow for the test command, which builds the example on the version
// it pins). Per version, a project as
// create-next-app leaves it (React 18 below Next 15), then:
//   1. `create-nen-app --existing` adds Nen, writing the config key of that Next major
//      (next.config.mjs with experimental.serverComponentsExternalPackages below 15); below
//      14.2.7 it refuses (see 3), and the test adds the packages and the config by hand;
//   2. the project's own App Router route, and the example's `runtime = 'edge'` routes and Pages
//      Router API routes, copied in unchanged;
//   3. `next build`, `next start`, then the real client from Node: an App Router round trip on
//      the native addon (below 14.2.7, where Next.js does not record the path it dispatched on,
//      refused with ISO-3002 and a log line saying why), the edge routes on the WebAssembly
//      build, the Pages Router routes;
//   4. the config key removed: what `next build` does then is recorded (docs/troubleshooting.md).
// NEN_NEXT_VERSIONS="14.2.35 16.4.6" picks the versions (default: the four below).

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
const VERSIONS = (process.env.NEN_NEXT_VERSIONS ?? '13.5.11 14.2.35 15.5.29 16.4.6').split(/\s+/).filter(Boolean)
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

/** Whether `version` is before `than` ("x.y.z" against [x, y, z]). */
function older(version, than) {
  const v = version.split('.').map(Number)
  for (let i = 0; i < 3; i++) if (v[i] !== than[i]) return v[i] < than[i]
  return false
}
const MIN_APP_ROUTER = [14, 2, 7]

/** Serves `dir` with `next start` (the edge routes' store in its environment) and runs `f(server)`. */
async function serve(t, dir, f) {
  const store = await edgeStore()
  t.after(store.stop)
  const port = await freePort()
  const next = path.join(dir, 'node_modules/next/dist/bin/next')
  const server = await startServer([next, 'start', '-H', '127.0.0.1', '-p', String(port)], { cwd: dir, port, timeoutMs: 60_000, extraEnv: store.env })
  try {
    return await f(server, store)
  } finally {
    await server.stop()
  }
}

/** An App Router round trip on /api/notes; returns the client's error code, or null on success. */
async function notesRoundTrip(url) {
  const { createNenFetch } = await import(clientDist)
  const nenFetch = createNenFetch(url)
  const secret = `notes-${randomBytes(6).toString('hex')}`
  try {
    const created = await nenFetch('/api/notes', { method: 'POST', body: { name: secret } })
    assert.equal(created.status, 201)
    const note = await created.json()
    assert.deepEqual(await (await nenFetch(`/api/notes?id=${note.id}`)).json(), { id: note.id, name: secret })
    return null
  } catch (e) {
    if (typeof e?.code === 'string' && e.code.startsWith('ISO-')) return e.code
    throw e
  }
}

for (const version of VERSIONS) {
  test(`Next.js ${version}: create-nen-app --existing, next build, next start; App Router, edge and Pages Router routes`, { skip, timeout: 900_000 }, async (t) => {
    const dir = path.join(work, version)
    const major = Number(version.split('.')[0])
    const configFile = path.join(dir, major >= 15 ? 'next.config.ts' : 'next.config.mjs')
    const appRouter = !older(version, MIN_APP_ROUTER)
    scaffold(dir, version)
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, timeoutMs: 300_000 })
    const cna = spawnSync(process.execPath, [cnaBin, '--existing', dir, '--packages-from', tarballs], { encoding: 'utf8', env: { ...process.env, NEN_LOCAL_PACKAGES: '' }, timeout: 300_000 })
    if (appRouter) {
      assert.equal(cna.status, 0, cna.stdout + cna.stderr)
      assert.match(readFileSync(configFile, 'utf8'), major >= 15 ? /serverExternalPackages: \['@withnen\/server-native'\]/ : /serverComponentsExternalPackages: \['@withnen\/server-native'\]/)
    } else {
      // Refused, with the reason and the way out; the test then does by hand what it would have.
      assert.equal(cna.status, 1, cna.stdout + cna.stderr)
      assert.match(cna.stdout + cna.stderr, /App Router routes need Next\.js 14\.2\.7 or later/)
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))
      const tgz = (name) => `file:${path.join(tarballs, `${name}.tgz`)}`
      pkg.dependencies = {
        ...pkg.dependencies,
        '@withnen/server': tgz('server'),
        '@withnen/client': tgz('client'),
        '@withnen/server-native': tgz('server-native'),
        '@withnen/server-native-linux-x64-gnu': tgz('server-native-linux-x64-gnu'),
      }
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg))
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--install-links'], { cwd: dir, timeoutMs: 300_000 })
      writeFileSync(configFile, "export default { experimental: { serverComponentsExternalPackages: ['@withnen/server-native'], instrumentationHook: true } }\n")
      cpSync(path.join(app, 'instrumentation.ts'), path.join(dir, 'instrumentation.ts'))
      mkdirSync(path.join(dir, 'app/api/nen/[action]'), { recursive: true })
      cpSync(path.join(app, 'app/api/nen/[action]/route.ts'), path.join(dir, 'app/api/nen/[action]/route.ts'))
    }

    mkdirSync(path.join(dir, 'app/api/notes'), { recursive: true })
    writeFileSync(path.join(dir, 'app/api/notes/route.ts'), NOTES)
    cpSync(path.join(app, 'app/api/edge'), path.join(dir, 'app/api/edge'), { recursive: true })
    cpSync(path.join(app, 'lib/edge-nen.ts'), path.join(dir, 'lib/edge-nen.ts'))
    cpSync(path.join(app, 'pages'), path.join(dir, 'pages'), { recursive: true })

    const next = path.join(dir, 'node_modules/next/dist/bin/next')
    await run(process.execPath, [next, 'build'], { cwd: dir, timeoutMs: 420_000 })
    await serve(t, dir, async (server, store) => {
      const code = await notesRoundTrip(server.url)
      if (appRouter) {
        assert.equal(code, null, `the App Router route answered ${code}`)
        assert.ok(server.loaded(ADDON), 'the App Router route ran on the native addon')
      } else {
        // Fails closed, and the server log says why and what to do.
        assert.equal(code, 'ISO-3002')
        assert.match(server.output(), /as before Next\.js 14\.2\.7.*Upgrade to Next\.js 14\.2\.7 or later, or use Pages Router API routes/)
      }
      await checkEdgeRoute(server.url, store)
      await checkPagesRoutes(server.url)
    })

    // Without the config key: what the build does is recorded (docs/troubleshooting.md quotes it);
    // if it builds, the App Router route must still work.
    writeFileSync(configFile, 'export default {}\n')
    const failed = await run(process.execPath, [next, 'build'], { cwd: dir, timeoutMs: 420_000 }).then(
      () => null,
      (e) => String(e.message),
    )
    if (failed) {
      const line = failed.split('\n').find((l) => /non-ecmascript placeable asset|Module parse failed|\.node/.test(l))
      t.diagnostic(`without the config key, next build fails: ${line?.trim()}`)
      assert.match(failed, /non-ecmascript placeable asset|Module parse failed: Unexpected character/)
    } else {
      await serve(t, dir, async (server) => {
        const code = await notesRoundTrip(server.url)
        t.diagnostic(`without the config key, next build succeeds; the App Router route answers ${code ?? 'correctly'}, on ${server.loaded(ADDON) ? 'the native addon' : 'WebAssembly'}`)
        if (appRouter) assert.equal(code, null)
      })
    }
    rmSync(dir, { recursive: true, force: true })
  })
}
