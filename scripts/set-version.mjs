// Sets one version on every package of the release, in lockstep: the addon and its platform
// packages, @withnen/server, @withnen/client, @withnen/ai, create-nen-app (which installs its
// own version), the pins between them, and the Rust workspace. __test__/versions.test.js
// checks the result.
//
//   node scripts/set-version.mjs 0.5.0
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'

const version = process.argv[2]
if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version ?? '')) {
  console.error('usage: node scripts/set-version.mjs X.Y.Z')
  process.exit(2)
}

/** Every package.json of the release. */
export const MANIFESTS = ['package.json', ...readdirSync('npm').map((d) => `npm/${d}/package.json`), ...['server', 'client', 'ai', 'create-nen-app'].map((p) => `packages/${p}/package.json`)].filter(
  (f) => {
    try {
      readFileSync(f)
      return true
    } catch {
      return false
    }
  },
)

const ours = (name) => name === 'create-nen-app' || name.startsWith('@withnen/')
for (const f of MANIFESTS) {
  const pkg = JSON.parse(readFileSync(f, 'utf8'))
  pkg.version = version
  for (const field of ['dependencies', 'peerDependencies', 'devDependencies', 'optionalDependencies']) {
    for (const name of Object.keys(pkg[field] ?? {})) if (ours(name) && !String(pkg[field][name]).startsWith('file:')) pkg[field][name] = version
  }
  writeFileSync(f, `${JSON.stringify(pkg, null, 2)}\n`)
}
const cargo = readFileSync('Cargo.toml', 'utf8').replace(/(\[workspace\.package\][^[]*?\nversion = ")[^"]+"/, `$1${version}"`)
writeFileSync('Cargo.toml', cargo)
console.log(`${MANIFESTS.length} package.json files and Cargo.toml set to ${version}; run \`cargo update -w\` and \`npm install\` to refresh the lockfiles`)
