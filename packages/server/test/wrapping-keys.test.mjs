// Rotating the wrapping key without logging everyone out, as the README documents it: add the
// new key first on every instance, deploy, then drop the old one. Real HTTP, the real client,
// native and WASM engines sharing one JavaScript store.

import test from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { createNen } from '../dist/index.mjs'
import { NenClient, createApp, nodeServer, rejectsWith } from './support/app.mjs'
import { recordAdapter } from './support/record-adapter.mjs'

const key = () => crypto.randomBytes(32).toString('base64')

const kid = (entry) => Buffer.from(entry, 'base64').subarray(1, 9).toString('hex')

for (const engine of ['native', 'wasm']) {
  test(`${engine}: add the new key, deploy, drop the old one`, { timeout: 20000 }, async () => {
    const adapter = recordAdapter()
    const oldKey = key()
    const newKey = key()
    const instance = (keys) => nodeServer(createApp(), { nen: createNen({ engine, store: { kind: 'js', adapter, wrappingKeys: keys }, onError: () => {} }) })
    // Clients talk to a load balancer; `current` is the instance it routes to.
    let current
    const lb = (url, init) => fetch(String(url).replace('http://lb', current.url), init)
    const entryOf = (sid) => adapter.data.get(`nen:{${sid}}`).entry

    const before = await instance([oldKey])
    const during = await instance([newKey, oldKey])
    const after = await instance([newKey])
    try {
      current = before
      const a = new NenClient('http://lb', { fetch: lb })
      assert.equal((await a.nenFetch('/api/echo')).status, 200)
      const aSid = a.sessionId
      const oldId = kid(entryOf(aSid))

      // Step 1: every instance gets [new, old]. Old sessions keep working; new ones use the new key.
      current = during
      assert.equal((await a.nenFetch('/api/echo')).status, 200)
      assert.equal(a.sessionId, aSid, 'no re-handshake: the old session works on a redeployed instance')
      const b = new NenClient('http://lb', { fetch: lb })
      assert.equal((await b.nenFetch('/api/echo')).status, 200)
      const newId = kid(entryOf(b.sessionId))
      assert.notEqual(newId, oldId)

      // Step 2: the old key is dropped. New-key sessions work; a session still under the old key
      // answers ISO-8002, and the client handshakes again once and repeats a GET by itself.
      current = after
      assert.equal((await b.nenFetch('/api/echo')).status, 200)
      assert.equal((await a.nenFetch('/api/echo')).status, 200, 'GET retried on a fresh session')
      assert.notEqual(a.sessionId, aSid)
      assert.equal(kid(entryOf(a.sessionId)), newId)
      // A POST without an idempotency key is not repeated: the unauthenticated ISO-8002 surfaces.
      current = before
      const d = new NenClient('http://lb', { fetch: lb })
      await d.handshake()
      current = after
      const err = await rejectsWith(d.nenFetch('/api/echo', { method: 'POST', body: { pay: 1 } }), 'ISO-8002', 500)
      assert.equal(err.authenticated, false)
      // With an idempotency key it is repeated once, on a fresh session.
      current = before
      const e = new NenClient('http://lb', { fetch: lb })
      await e.handshake()
      current = after
      assert.equal((await e.nenFetch('/api/echo', { method: 'POST', body: { pay: 2 }, idempotencyKey: 'pay-2' })).status, 200)
    } finally {
      await Promise.all([before.close(), during.close(), after.close()])
    }
  })
}

test('a session that no longer unwraps is logged once per cause, with key ids only', () => {
  const script = `
    const nen = require(${JSON.stringify(new URL('../../..', import.meta.url).pathname)})
    const crypto = require('node:crypto')
    const data = new Map()
    const adapter = {
      load: async (k) => (data.has(k) ? { entry: data.get(k), retiredAt: null } : null),
      put: async (k, e) => void data.set(k, e),
      delete: async (k) => void data.delete(k),
      retire: async () => 'ok',
      recordNonce: async () => 'ok',
    }
    const k1 = crypto.randomBytes(32).toString('base64')
    const k2 = crypto.randomBytes(32).toString('base64')
    const a = new nen.NenServer({ store: { adapter, wrappingKey: k1 } })
    const b = new nen.NenServer({ store: { adapter, wrappingKey: k2 } })
    ;(async () => {
      const hs = nen.NenClientHandshake.start()
      const s = hs.finish((await a.handshake(hs.body)).body)
      for (let i = 0; i < 5; i++) {
        const signed = s.sign('GET', '/x', null)
        await b.open({ method: 'GET', url: '/x', headers: signed.headers }).catch((e) => console.log(e.code))
      }
      console.log('K1=' + k1)
    })()`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 })
  const codes = r.stdout.trim().split('\n')
  const k1 = codes.pop().slice(3)
  assert.deepEqual(codes, Array(5).fill('ISO-8002'))
  const lines = r.stderr.trim().split('\n').filter(Boolean)
  assert.equal(lines.length, 1, r.stderr)
  assert.match(lines[0], /key id [0-9a-f]{16}, which no configured wrapping key has/)
  assert.ok(!r.stderr.includes(k1), 'no key material in the log')
})
