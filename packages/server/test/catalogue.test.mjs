// The package's copy of the error catalogue (packages/shared/generated/catalogue.ts) is the addon's, and NenError
// answers with it.

import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { NenError, describeNenCode } from '../dist/index.mjs'

const require = createRequire(import.meta.url)
const native = require('../../../nen.js')

test('describeNenCode matches the native catalogue entry for entry', () => {
  const all = native.nenCatalogue()
  assert.ok(all.length > 30)
  for (const info of all) {
    assert.deepEqual(describeNenCode(info.code), { ...info })
    assert.deepEqual(describeNenCode(info.code.slice(4)), { ...info })
  }
  assert.equal(describeNenCode('ISO-0000'), null)
  assert.equal(describeNenCode('nope'), null)
})

test('NenError: code, status, wire body', () => {
  const e = new NenError('ISO-3002', { message: 'for the log only' })
  assert.equal(e.name, 'NenError')
  assert.equal(e.code, 'ISO-3002')
  assert.equal(e.status, 401)
  assert.equal(e.message, 'for the log only')
  assert.equal(e.toBody(), '{"error":{"code":"ISO-3002","message":"Request signature is invalid"}}')
  assert.equal(new NenError('ISO-8001', { status: 502 }).status, 502)
  const unknown = new NenError('ISO-0042')
  assert.deepEqual([unknown.code, unknown.status, unknown.message], ['ISO-9000', 500, 'Internal error'])
})

test('the store layout is the addon’s (nen_core::store), never retyped', async () => {
  const text = (await import('node:fs')).readFileSync(new URL('../src/store-layout.ts', import.meta.url), 'utf8')
  const l = native.nenStoreLayout()
  for (const [name, value] of [
    ['DEFAULT_KEY_PREFIX', l.defaultKeyPrefix],
    ['ENTRY_FIELD', l.entryField],
    ['RETIRED_FIELD', l.retiredField],
    ['PUT_SCRIPT', l.putScript],
    ['RECORD_SCRIPT', l.recordScript],
    ['RETIRE_SCRIPT', l.retireScript],
  ]) {
    assert.ok(text.includes(`export const ${name} = ${JSON.stringify(value)}\n`), `${name} drifted from the addon`)
  }
  assert.ok(text.includes(`export const PRUNE_EVERY_MS = ${l.pruneEveryMs}\n`))
})
