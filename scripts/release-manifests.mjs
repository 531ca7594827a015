// Prepares the manifests for publishing (.github/workflows/release.yml, after the binaries are
// in npm/<platform>/): every package names the repository it is built from (npm provenance
// checks it), and @withnen/server-native lists each platform package as an optional
// dependency at its own version, so `npm install @withnen/server-native` fetches the one binary
// that fits. Run from a checkout; __test__/versions.test.js runs it on a copy and packs it.
//
//   node scripts/release-manifests.mjs https://github.com/OWNER/REPO [DIR]
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [repo, dir = '.'] = process.argv.slice(2)
if (!/^https:\/\/\S+$/.test(repo ?? '')) {
  console.error('usage: node scripts/release-manifests.mjs https://github.com/OWNER/REPO [DIR]')
  process.exit(2)
}
const read = (f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))
const write = (f, pkg) => writeFileSync(join(dir, f), `${JSON.stringify(pkg, null, 2)}\n`)

const platforms = readdirSync(join(dir, 'npm')).filter((d) => existsSync(join(dir, 'npm', d, 'package.json')))
const files = ['package.json', ...platforms.map((d) => `npm/${d}/package.json`), ...['server', 'client', 'ai', 'create-nen-app'].map((p) => `packages/${p}/package.json`)]
const repository = { type: 'git', url: `git+${repo.replace(/\/$/, '')}.git` }

const root = read('package.json')
root.optionalDependencies = Object.fromEntries(platforms.map((d) => read(`npm/${d}/package.json`)).map((p) => [p.name, p.version]))
for (const f of files) {
  const pkg = f === 'package.json' ? root : read(f)
  pkg.repository = repository
  write(f, pkg)
}
console.log(`${files.length} manifests name ${repository.url}; @withnen/server-native lists ${platforms.length} platform packages`)
