#!/usr/bin/env node
// Packs this repository's packages with `npm pack`, the way they would be published, into
// examples/next-app/.local/ (git-ignored):
//
//   .local/tarballs/<name>.tgz   @withnen/server-native (repository root), its linux-x64-gnu
//                                platform package (with the built .node), @withnen/client and
//                                @withnen/server and @withnen/ai, under stable file names
//   .local/<name>/               each tarball unpacked: what package.json's file: deps point to
//
// Idempotent and cheap (about 2 s): a tarball whose bytes did not change is not unpacked again.
// Prints the names of the packages that changed; `packLocal()` returns {dir, tarballs, changed}.
// Build the packages first (scripts/lib.sh: build_addon, build_client).

import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
export const exampleDir = path.resolve(here, '..')
export const repoRoot = path.resolve(exampleDir, '../..')
export const localDir = path.join(exampleDir, '.local')
export const tarballDir = path.join(localDir, 'tarballs')

const BINARY = 'nen-server-native.linux-x64-gnu.node'

/** name in .local → where its package is, and files to add before packing. */
function sources() {
  return [
    { name: 'server-native', dir: repoRoot },
    { name: 'server-native-linux-x64-gnu', dir: path.join(repoRoot, 'npm', 'linux-x64-gnu'), add: [path.join(repoRoot, BINARY)] },
    { name: 'client', dir: path.join(repoRoot, 'packages', 'client') },
    { name: 'server', dir: path.join(repoRoot, 'packages', 'server') },
    { name: 'ai', dir: path.join(repoRoot, 'packages', 'ai') },
  ]
}

function npmPack(dir, dest) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 })
  // npm prints lifecycle-script output before the JSON: take the JSON array at the end.
  return JSON.parse(out.slice(out.lastIndexOf('\n[') + 1))[0]
}

export function packLocal({ log = () => {} } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('pack-local packs the linux-x64-gnu addon only: build and install on linux x64 (glibc)')
  mkdirSync(tarballDir, { recursive: true })
  const work = mkdtempSync(path.join(tmpdir(), 'nen-pack-'))
  const tarballs = {}
  const changed = []
  try {
    for (const src of sources()) {
      if (!existsSync(path.join(src.dir, 'package.json'))) throw new Error(`${src.dir} has no package.json`)
      let dir = src.dir
      if (src.add) {
        // Pack a copy, so the source tree is never touched (another process may be packing it).
        dir = path.join(work, `stage-${src.name}`)
        mkdirSync(dir)
        for (const f of readdirSync(src.dir)) if (!f.endsWith('.node')) copyFileSync(path.join(src.dir, f), path.join(dir, f))
        for (const f of src.add) {
          if (!existsSync(f)) throw new Error(`${f} is missing: build the addon first (npx napi build --platform --release)`)
          copyFileSync(f, path.join(dir, path.basename(f)))
        }
      }
      const packed = npmPack(dir, work)
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))
      const needed = [...(src.add ?? []).map((f) => path.basename(f)), path.posix.normalize(manifest.main ?? 'index.js')]
      for (const f of needed) if (!packed.files.some((p) => p.path === f)) throw new Error(`${f} is not in ${packed.name}'s tarball: build ${path.relative(repoRoot, src.dir) || 'the addon'} first`)
      const fresh = path.join(work, packed.filename)
      const target = path.join(tarballDir, `${src.name}.tgz`)
      const unpacked = path.join(localDir, src.name)
      const same = existsSync(target) && existsSync(path.join(unpacked, 'package.json')) && readFileSync(target).equals(readFileSync(fresh))
      if (!same) {
        // Unpack beside, then swap in: readers never see a half-written package.
        const tmp = mkdtempSync(path.join(localDir, `.${src.name}-`))
        execFileSync('tar', ['xzf', fresh, '-C', tmp])
        rmSync(unpacked, { recursive: true, force: true })
        renameSync(path.join(tmp, 'package'), unpacked)
        rmSync(tmp, { recursive: true, force: true })
        copyFileSync(fresh, `${target}.${process.pid}.tmp`)
        renameSync(`${target}.${process.pid}.tmp`, target)
        changed.push(src.name)
      }
      tarballs[packed.name] = target
      log(`${same ? 'unchanged' : 'packed   '} ${packed.name}@${packed.version} → ${path.relative(process.cwd(), target)}`)
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return { dir: tarballDir, tarballs, changed }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { changed } = packLocal({ log: (m) => console.error(m) })
  console.log(changed.join(' '))
}
