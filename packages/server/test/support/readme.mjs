// The README's examples as modules: the fenced block after `<!-- example: NAME ... -->` in
// packages/server/README.md, written to .nen-test/examples/NAME.mjs (inside the package, so that
// `@withnen/server/...` resolves to this package by self-reference, in Node, Deno and Bun
// alike; outside test/, so that `node --test test/` does not take them for tests). Tests
// import these files, so the README shows exactly the code that runs.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const README = `${here}../../README.md`
export const EXAMPLES_DIR = `${here}../../.nen-test/examples/`

/** The code of example `name`, as the README shows it. */
export function exampleCode(name) {
  const text = readFileSync(README, 'utf8')
  const m = new RegExp(`<!-- example: ${name}\\b[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(text)
  if (!m) throw new Error(`no example "${name}" in ${README}`)
  return m[1]
}

/**
 * Writes example `name` (with `edit` applied, e.g. another package name for the same import)
 * as a module and returns its path.
 */
export function writeExample(name, { as = name, edit = (code) => code } = {}) {
  mkdirSync(EXAMPLES_DIR, { recursive: true })
  const file = `${EXAMPLES_DIR}${as}.mjs`
  writeFileSync(file, edit(exampleCode(name)))
  return file
}
