// The app template is examples/next-app of the Nen repository, the one copy kept in git. In a
// packed create-nen-app it is under template/ (scripts/sync-template.mjs writes it at `npm pack`
// time and removes it after); run from the repository, it is read from the example directly.
// Both go through listTemplate, so they cannot differ (test/create.test.mjs checks the pack).

import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const packagedTemplate = path.join(packageRoot, 'template')
export const exampleDir = path.resolve(packageRoot, '../../examples/next-app')

/** What of the example is not part of an app: installed, built or repository-only files. */
const EXCLUDED_DIRS = new Set(['node_modules', '.next', '.local', 'test', 'scripts', '.turbo'])
const EXCLUDED_FILES = new Set(['package-lock.json', '.npmrc', 'README.md', 'next-env.d.ts', '.DS_Store'])
const excludedFile = (name) => EXCLUDED_FILES.has(name) || name.endsWith('.tsbuildinfo') || /^\.env(\..*)?$/.test(name)

/** npm leaves .gitignore files out of packages: in template/ it is stored as `gitignore`. */
export const STORED_GITIGNORE = 'gitignore'

/** The template to scaffold from: the packaged copy, else the repository's example. */
export function templateRoot() {
  if (existsSync(path.join(packagedTemplate, 'package.json'))) return packagedTemplate
  if (existsSync(path.join(exampleDir, 'package.json'))) return exampleDir
  throw new Error(`no template: neither ${packagedTemplate} nor ${exampleDir} exists`)
}

/**
 * The template's files, sorted: [{rel, abs, stored}] where `rel` is the path in an app (POSIX
 * separators) and `stored` the path under template/.
 */
export function listTemplate(root = templateRoot()) {
  const out = []
  const walk = (dir, prefix) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name
      if (entry.isDirectory()) {
        if (!(prefix === '' && EXCLUDED_DIRS.has(entry.name)) && entry.name !== 'node_modules') walk(path.join(dir, entry.name), rel)
      } else if (entry.isFile() && !excludedFile(entry.name)) {
        const appRel = rel === STORED_GITIGNORE ? '.gitignore' : rel
        out.push({ rel: appRel, abs: path.join(dir, entry.name), stored: appRel === '.gitignore' ? STORED_GITIGNORE : appRel })
      }
    }
  }
  walk(root, '')
  return out.sort((a, b) => a.rel.localeCompare(b.rel))
}
