// The API reference of each package, generated from its types by TypeDoc (markdown, so it reads
// on GitHub and in the repository) into docs/api/<package>/. Entry points are the package's own
// exports map, so a new subpath is documented without touching this file; a public type that
// an export mentions but does not export is an error, not a silent gap.
//
//   node scripts/api-docs.mjs           regenerate docs/api/
//   node scripts/api-docs.mjs --check   fail if docs/api/ differs from the types (test.sh)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const check = process.argv.includes('--check')
const OUT = 'docs/api'

/** `./node` → `src/node.ts`; the package's `.` → `src/index.ts`. */
function entryPoints(dir) {
  const { exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  return Object.keys(exports)
    .map((k) => join(dir, 'src', `${k === '.' ? 'index' : k.slice(2)}.ts`))
    .filter((f) => existsSync(f))
}

const PACKAGES = [
  { name: 'server-native', entries: ['nen.d.ts'], tsconfig: 'scripts/tsconfig.addon-docs.json' },
  ...['server', 'client', 'ai'].map((p) => ({ name: p, entries: entryPoints(`packages/${p}`), tsconfig: `packages/${p}/tsconfig.json` })),
]

const target = check ? mkdtempSync(join(tmpdir(), 'nen-api-')) : OUT
const typedoc = join('node_modules', 'typedoc', 'bin', 'typedoc')
for (const p of PACKAGES) {
  execFileSync(
    process.execPath,
    [
      typedoc,
      ...['--plugin', 'typedoc-plugin-markdown', '--tsconfig', p.tsconfig, '--out', join(target, p.name)],
      ...['--name', p.name === 'server-native' ? '@withnen/server-native' : `@withnen/${p.name}`, '--readme', 'none'],
      ...['--excludePrivate', '--excludeInternal', '--disableSources', '--hidePageHeader', '--hideBreadcrumbs', '--treatWarningsAsErrors', '--logLevel', 'Warn'],
      '--entryPoints',
      ...p.entries,
    ],
    { stdio: 'inherit' },
  )
}

if (check) {
  const list = (d) =>
    existsSync(d)
      ? readdirSync(d, { recursive: true })
          .filter((f) => statSync(join(d, f)).isFile())
          .sort()
      : []
  const [have, want] = [list(OUT), list(target)]
  const differ = [...new Set([...have, ...want])].filter((f) => !have.includes(f) || !want.includes(f) || readFileSync(join(OUT, f), 'utf8') !== readFileSync(join(target, f), 'utf8'))
  rmSync(target, { recursive: true, force: true })
  if (differ.length) {
    console.error(`docs/api/ is out of date with the types (${differ.slice(0, 5).join(', ')}${differ.length > 5 ? ', ...' : ''}): run \`node scripts/api-docs.mjs\` and commit`)
    process.exit(1)
  }
  console.log('docs/api/ matches the types')
}
