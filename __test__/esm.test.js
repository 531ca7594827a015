'use strict'
// The addon as an ES module: every export of the CommonJS entry is importable by name (the
// list in nen.mjs is checked against nen.js, so a new export cannot be forgotten), and both
// entries hand out the same classes.

const test = require('node:test')
const assert = require('node:assert/strict')
const { pathToFileURL } = require('node:url')
const path = require('node:path')

test('nen.mjs names every export of nen.js, and they are the same objects', async () => {
  const cjs = require('../nen.js')
  const esm = await import(pathToFileURL(path.join(__dirname, '..', 'nen.mjs')).href)
  const internal = new Set(['__napiBindingTarget'])
  const expected = Object.keys(cjs).filter((k) => !internal.has(k)).sort()
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), expected)
  for (const k of expected) assert.equal(esm[k], cjs[k], k)
  assert.equal(esm.default, cjs)
  const server = new esm.NenServer()
  const hs = esm.NenClientHandshake.start()
  assert.ok(hs.finish(server.handshakeSync(hs.body).body).sid)
})

test('the package resolves to nen.mjs for import and nen.js for require', () => {
  const pkg = require('../package.json')
  assert.deepEqual(pkg.exports['.'], { import: { types: './nen.d.mts', default: './nen.mjs' }, require: { types: './nen.d.ts', default: './nen.js' } })
  for (const f of ['nen.mjs', 'nen.d.mts', 'nen.js', 'nen.d.ts', 'binding-error.js']) assert.ok(pkg.files.includes(f), f)
})
