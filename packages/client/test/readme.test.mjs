// The README's quickstart, run as written (its TypeScript stripped by esbuild, nothing else but
// the stream's path, `/api/chat` there and `/api/stream` on the test server): in Node, with the
// page's `location` and `render` given, against the real server on loopback. A README edit
// that breaks it fails here.

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { transformSync } from 'esbuild'
import { readmeExample, writeModule } from '../../../__test__/support/readme.mjs'
import { startServer } from './support/server.mjs'

const README = new URL('../README.md', import.meta.url)
// Inside the package, so `@withnen/client` resolves to this package by self-reference.
const DIR = new URL('../.nen-test/readme/', import.meta.url)

let api
before(async () => {
  api = await startServer()
})
after(() => api?.close())

test('the quickstart, as written, against a real server', { timeout: 30_000 }, async () => {
  const ts = readmeExample(README, 'quickstart').replace("'/api/chat'", "'/api/stream'")
  const js = transformSync(`${ts}\nexport { item }\n`, { loader: 'ts', format: 'esm', target: 'es2022' }).code
  const file = writeModule(DIR, 'quickstart', js)
  const tokens = []
  globalThis.location = new URL(api.url)
  globalThis.render = (t) => tokens.push(t)
  try {
    const { item } = await import(file)
    assert.deepEqual(item, { id: '1', name: 'widget' })
    assert.ok(tokens.length > 0 && tokens.every((t) => typeof t === 'string'), `tokens: ${JSON.stringify(tokens)}`)
    assert.ok(!api.wire.some((b) => b.includes('widget')), 'plaintext on the wire')
  } finally {
    delete globalThis.location
    delete globalThis.render
  }
})
