// The README examples the tests run, one way for every package: the fenced block (js or ts)
// after `<!-- example: NAME ... -->` in a README, written as a module inside the package (so
// that its own `@withnen/...` imports resolve to the package by self-reference) and imported.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'

/** The code of example `name` in the Markdown file `readme` (a path or a file URL). */
export function readmeExample(readme, name) {
  const m = new RegExp(`<!-- example: ${name}\\b[^>]*-->\\s*\`\`\`(?:js|ts)\\n([\\s\\S]*?)\`\`\``).exec(readFileSync(readme, 'utf8'))
  if (!m) throw new Error(`no example "${name}" in ${readme}`)
  return m[1]
}

/** Writes `code` as `<name>.mjs` in `dir` (a file URL ending in `/`); returns the module's URL. */
export function writeModule(dir, name, code) {
  mkdirSync(dir, { recursive: true })
  const file = new URL(`${name}.mjs`, dir)
  writeFileSync(file, code)
  return file.href
}
