// `npm run lint --prefix benchmark` (`-- --write` to fix): Biome with the repository's own
// formatter and linter settings over this folder, which the root biome.json leaves out of its
// scope. The settings are read from ../biome.json into a temporary configuration each time, so
// they cannot drift from the rest of the repository.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const config = JSON.parse(readFileSync(path.join(here, '../biome.json'), 'utf8'))
const dir = mkdtempSync(path.join(tmpdir(), 'nen-bench-biome-'))
const own = { ...config, root: true, files: { includes: ['**/*.mjs', '!**/node_modules', '!**/.work'] }, overrides: [] }
delete own.vcs // the repository's ignore file is not beside the temporary configuration
delete own.$schema
writeFileSync(path.join(dir, 'biome.json'), JSON.stringify(own))
try {
  execFileSync(path.join(here, '../node_modules/.bin/biome'), ['check', `--config-path=${dir}`, ...process.argv.slice(2), '.'], { cwd: here, stdio: 'inherit' })
} catch {
  process.exitCode = 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
