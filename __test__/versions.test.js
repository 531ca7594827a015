'use strict'
// Releases are in lockstep: every package (the addon, its platform packages, @withnen/server,
// @withnen/client, @withnen/ai, create-nen-app) carries one version, above the earlier
// product's 0.4.1 under the same names, the pins between them are that version exactly, the Rust
// workspace agrees, and CHANGELOG.md has its section. The publish step's manifests
// (scripts/release-manifests.mjs) give the addon every platform package as an optional
// dependency at that version.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')
const read = (f) => JSON.parse(fs.readFileSync(path.join(root, f), 'utf8'))
const platforms = fs.readdirSync(path.join(root, 'npm')).filter((d) => fs.existsSync(path.join(root, 'npm', d, 'package.json')))
const manifests = ['package.json', ...platforms.map((d) => `npm/${d}/package.json`), ...['server', 'client', 'ai', 'create-nen-app'].map((p) => `packages/${p}/package.json`)]
const { version } = read('package.json')
const above = (v, floor) => {
  const [a, b] = [v, floor].map((x) => x.split(/[.-]/).slice(0, 3).map(Number))
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i]
  return false
}

test('one version everywhere, above 0.4.1', () => {
  assert.ok(above(version, '0.4.1'), `version ${version} must be above the earlier product's 0.4.1`)
  assert.equal(platforms.length, read('package.json').napi.targets.length)
  for (const f of manifests) {
    const pkg = read(f)
    assert.equal(pkg.version, version, `${f}: ${pkg.version}`)
    for (const field of ['dependencies', 'peerDependencies', 'devDependencies', 'optionalDependencies']) {
      for (const [name, range] of Object.entries(pkg[field] ?? {})) {
        if (name.startsWith('@withnen/') || name === 'create-nen-app') assert.equal(range, version, `${f} ${field}.${name} is ${range}`)
      }
    }
  }
  const cargo = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8')
  assert.equal(/\[workspace\.package\][^[]*?\nversion = "([^"]+)"/.exec(cargo)?.[1], version, 'Cargo.toml workspace version')
})

test('CHANGELOG.md follows Keep a Changelog and has this version', () => {
  const log = fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8')
  assert.match(log, /keepachangelog\.com/)
  assert.match(log, /semver\.org/)
  assert.match(log, /^## \[Unreleased\]$/m)
  assert.match(log, new RegExp(`^## \\[${version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'))
})

test('the published addon lists every platform package as an optional dependency', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nen-release-'))
  try {
    for (const f of manifests) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true })
      fs.copyFileSync(path.join(root, f), path.join(dir, f))
    }
    execFileSync(process.execPath, [path.join(root, 'scripts/release-manifests.mjs'), 'https://github.com/example/nen', dir], { stdio: 'ignore' })
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    const expected = Object.fromEntries(platforms.map((d) => [read(`npm/${d}/package.json`).name, version]))
    assert.deepEqual(pkg.optionalDependencies, expected)
    assert.equal(Object.keys(expected).length, 7)
    for (const f of manifests) assert.equal(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).repository.url, 'git+https://github.com/example/nen.git', f)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
