'use strict'
// Where no binary loads, the addon says which platform package is missing, why npm may have
// left it out (npm/cli#4828) and how to fix it: the loader as published, run from a folder with
// no .node file beside it and no platform package to resolve.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const root = path.join(__dirname, '..')

/** Requires the package's entry from a copy holding only its JS files; returns what it threw. */
function loadWithout(packageJson) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nen-nobinary-'))
  try {
    for (const f of ['nen.js', 'binding-error.js', 'index.js']) fs.copyFileSync(path.join(root, f), path.join(dir, f))
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(packageJson))
    const script = `try { require('./nen.js'); console.log('{}') } catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, missingPackage: e.missingPackage, platform: e.platform, cause: String(e.cause && e.cause.message).slice(0, 40) })) }`
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' }))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const published = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const { platformName } = require('../binding-error.js')

test('a missing platform package is named, with the npm bug and the fix', () => {
  const e = loadWithout(published)
  const pkg = `@withnen/server-native-${platformName()}`
  assert.equal(e.name, 'NenBindingError')
  assert.equal(e.missingPackage, pkg)
  assert.equal(e.platform, platformName())
  assert.match(e.message, new RegExp(`the prebuilt binary for ${platformName()} did not load`))
  assert.ok(e.message.includes(`\`npm install ${pkg}\``), e.message)
  assert.ok(e.message.includes('https://github.com/npm/cli/issues/4828'), e.message)
  assert.ok(e.message.includes('delete node_modules and package-lock.json'), e.message)
  // napi's own error stays reachable as the cause.
  assert.match(e.cause, /Cannot find native binding|Failed to load native binding/)
})

test('a platform with no prebuilt binary is told so, and what runs instead', () => {
  const e = loadWithout({ ...published, napi: { ...published.napi, targets: ['x86_64-apple-darwin'] } })
  assert.equal(e.name, 'NenBindingError')
  assert.equal(e.missingPackage, undefined)
  assert.match(e.message, new RegExp(`there is no prebuilt binary for ${platformName()} \\(prebuilt: darwin-x64\\)`))
  assert.match(e.message, /WebAssembly engine/)
})
