// The README's examples as modules: the fenced block after `<!-- example: NAME ... -->` in
// packages/server/README.md, written to .nen-test/examples/NAME.mjs (inside the package, so that
// `@withnen/server/...` resolves to this package by self-reference, in Node, Deno and Bun
// alike; outside test/, so that `node --test test/` does not take them for tests). Tests
// import these files, so the README shows exactly the code that runs.

import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { readmeExample } from '../../../../__test__/support/readme.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const README = `${here}../../README.md`
export const EXAMPLES_DIR = `${here}../../.nen-test/examples/`

/** The code of example `name`, as the README shows it. */
export function exampleCode(name) {
  return readmeExample(README, name)
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
