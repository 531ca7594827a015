// Which @withnen packages an app gets, from the registry or from local `npm pack` tarballs, and
// how they are installed.

import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { packageRoot } from './template.mjs'

/** create-nen-app is released with the packages it installs: the same version, exactly. */
export const NEN_VERSION = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).version
export const NEN_PACKAGES = ['@withnen/client', '@withnen/server', '@withnen/server-native']
/** Only a scaffolded app gets it (the template's chat page); `--existing` adds the core three. */
export const AI_PACKAGE = '@withnen/ai'

/**
 * The @withnen packages in a directory of `npm pack` tarballs: {name: absolute path}. Each
 * tarball's name is read from its package.json, so file names do not matter.
 */
export function localPackages(dir) {
  const abs = path.resolve(dir)
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new Error(`--packages-from: ${abs} is not a directory`)
  const found = {}
  for (const f of readdirSync(abs)
    .filter((f) => f.endsWith('.tgz'))
    .sort()) {
    const file = path.join(abs, f)
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' }))
    if (manifest.name?.startsWith('@withnen/')) found[manifest.name] = file
  }
  const missing = NEN_PACKAGES.filter((n) => !found[n])
  if (missing.length) throw new Error(`--packages-from ${abs}: no tarball for ${missing.join(', ')}`)
  return found
}

/** The dependency specs to install: {name: spec}. */
export function nenDependencies(local, { ai = false } = {}) {
  const wanted = (name) => ai || name !== AI_PACKAGE
  if (local)
    return Object.fromEntries(
      Object.entries(local)
        .filter(([name]) => wanted(name))
        .map(([name, file]) => [name, `file:${file}`]),
    )
  return Object.fromEntries([...NEN_PACKAGES, ...(ai ? [AI_PACKAGE] : [])].map((n) => [n, NEN_VERSION]))
}

/** npm, pnpm, yarn or bun, from the project's lock file (npm when there is none). */
export function detectPackageManager(dir) {
  if (existsSync(path.join(dir, 'pnpm-lock.yaml'))) return 'pnpm'
  if (existsSync(path.join(dir, 'yarn.lock'))) return 'yarn'
  if (existsSync(path.join(dir, 'bun.lock')) || existsSync(path.join(dir, 'bun.lockb'))) return 'bun'
  return 'npm'
}

/** The command that installs `deps` ({name: spec}; none: everything in package.json). */
export function installCommand(pm, deps, { local = false } = {}) {
  const specs = Object.entries(deps ?? {}).map(([name, spec]) => (spec.startsWith('file:') ? spec.slice(5) : `${name}@${spec}`))
  if (pm === 'npm') return ['npm', ['install', ...specs, '--no-audit', '--no-fund', ...(local ? ['--prefer-offline'] : [])]]
  if (pm === 'yarn' || pm === 'pnpm' || pm === 'bun') return [pm, specs.length ? ['add', ...specs] : ['install']]
  throw new Error(`unknown package manager ${pm}`)
}

export function printable([cmd, args]) {
  return [cmd, ...args].map((a) => (/^[\w@./:=^-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')
}

/** Runs an install in `dir`, output to the terminal; throws if it fails. */
export function runInstall(dir, command) {
  const [cmd, args] = command
  const r = spawnSync(cmd, args, { cwd: dir, stdio: 'inherit', shell: process.platform === 'win32' })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`${printable(command)} failed (exit ${r.status})`)
}
