// A real Next.js app under `next start`: a copy of examples/next-app in benchmark/.work/next-app
// (git-ignored) with two more routes, /api/bench/plain (Web handlers, no encryption) and
// /api/bench/nen (the same through withNen). The repository's packages are installed as packed
// tarballs (examples/next-app/scripts/pack-local.mjs), as the example's own tests do. Installing
// and building are skipped when nothing they depend on changed.

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { SMALL_TEXT } from '../lib/inputs.mjs'
import { benchDir, repoRoot } from '../lib/machine.mjs'
import { startServer } from './procs.mjs'

const example = path.join(repoRoot, 'examples/next-app')
export const work = path.join(benchDir, '.work/next-app')
const SKIP_TOP = new Set(['node_modules', '.next', '.local', 'test', 'scripts'])

const HEAD = `export const runtime = 'nodejs'\nexport const dynamic = 'force-dynamic'\n\nconst SMALL = ${SMALL_TEXT}\n`
const ROUTES = {
  'app/api/bench/plain/route.ts': `// Benchmark: the plain Web handlers (no encryption) beside /api/bench/nen.
${HEAD}const json = { 'content-type': 'application/json' }

export async function POST(req: Request) {
  return new Response(JSON.stringify(await req.json()), { headers: json })
}

export async function GET() {
  return new Response(JSON.stringify(SMALL), { headers: json })
}
`,
  'app/api/bench/nen/route.ts': `// Benchmark: the same handlers through withNen.
import { withNen } from '@withnen/server'

${HEAD}
export const POST = withNen(async (_req, body) => body)

export const GET = withNen(async () => SMALL)
`,
}

function filesUnder(dir, rel = '') {
  const out = []
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const r = path.join(rel, name)
    if (!rel && SKIP_TOP.has(name)) continue
    if (statSync(path.join(dir, r)).isDirectory()) out.push(...filesUnder(dir, r))
    else out.push(r)
  }
  return out
}

function run(cmd, args, cwd) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', npm_config_update_notifier: 'false' }, timeout: 600_000 })
}

/** Packs, copies, installs and builds as needed; returns what it did. */
export async function prepareNextApp() {
  const { packLocal } = await import(path.join(example, 'scripts/pack-local.mjs'))
  const { tarballs } = packLocal()
  const hash = createHash('sha256')
  for (const f of filesUnder(example)) hash.update(f).update(readFileSync(path.join(example, f)))
  for (const [name, file] of Object.entries(tarballs).sort()) hash.update(name).update(readFileSync(file))
  hash.update(JSON.stringify(ROUTES)).update(process.version)
  const stamp = hash.digest('hex')
  const stampFile = path.join(work, '.bench-stamp')
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(path.join(work, '.next/BUILD_ID'))) return 'up to date'
  // A fresh copy, keeping node_modules (npm install then only replaces what changed).
  mkdirSync(work, { recursive: true })
  for (const name of readdirSync(work)) if (name !== 'node_modules') rmSync(path.join(work, name), { recursive: true, force: true })
  for (const f of filesUnder(example)) {
    mkdirSync(path.dirname(path.join(work, f)), { recursive: true })
    cpSync(path.join(example, f), path.join(work, f))
  }
  mkdirSync(path.join(work, 'tarballs'))
  const manifest = JSON.parse(readFileSync(path.join(work, 'package.json'), 'utf8'))
  for (const [dep, spec] of Object.entries(manifest.dependencies)) {
    const local = /^file:\.local\/(.+)$/.exec(spec)
    if (!local) continue
    cpSync(path.join(example, '.local/tarballs', `${local[1]}.tgz`), path.join(work, 'tarballs', `${local[1]}.tgz`))
    manifest.dependencies[dep] = `file:tarballs/${local[1]}.tgz`
  }
  writeFileSync(path.join(work, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  // As scripts/install-local.sh: neither the lock file nor node_modules may keep the old packages.
  const lockFile = path.join(work, 'package-lock.json')
  const lock = JSON.parse(readFileSync(lockFile, 'utf8'))
  for (const k of Object.keys(lock.packages ?? {})) if (k.startsWith('node_modules/@withnen/')) delete lock.packages[k]
  writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`)
  rmSync(path.join(work, 'node_modules/@withnen'), { recursive: true, force: true })
  for (const [f, text] of Object.entries(ROUTES)) {
    mkdirSync(path.dirname(path.join(work, f)), { recursive: true })
    writeFileSync(path.join(work, f), text)
  }
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], work)
  run(process.execPath, [path.join(work, 'node_modules/next/dist/bin/next'), 'build'], work)
  writeFileSync(stampFile, stamp)
  return 'installed and built'
}

/** `next start` of the built copy on `port`. */
export function startNext(port) {
  return startServer([path.join(work, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(port)], {
    port,
    cwd: work,
    env: { NEXT_TELEMETRY_DISABLED: '1' },
    readyPath: '/api/bench/plain',
    timeoutMs: 60_000,
  })
}
