// The checks of the example's Edge-runtime route and Pages Router routes, driven by the real
// @withnen/client from Node against a served Next.js app (next start). Shared by the example's
// test (Next 16) and the per-version builds (next-versions.test.mjs, Next 13 to 16).

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const clientDist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../packages/client/dist/index.mjs')

/** A client on `basePath` whose fetch records every body and can re-target the next request. */
async function clientFor(url, basePath) {
  const { NenClient } = await import(clientDist)
  const wire = []
  const hop = { retarget: null }
  const fetchVia = async (input, init) => {
    const target = hop.retarget ? hop.retarget(String(input)) : String(input)
    if (typeof init?.body === 'string') wire.push(init.body)
    const res = await fetch(target, init)
    wire.push(await res.clone().text())
    return res
  }
  return { client: new NenClient(url, { basePath, fetch: fetchVia }), wire, hop }
}

async function rejectsWithCode(promise, code) {
  const err = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e) => e,
  )
  assert.equal(err?.code, code, String(err?.stack ?? err))
}

/**
 * app/api/edge/[...path]/route.ts (`runtime = 'edge'`): every method, a stream, a re-targeted
 * request refused, rotate and terminate; the route reports the WebAssembly engine.
 */
export async function checkEdgeRoute(url) {
  const { client, wire, hop } = await clientFor(url, '/api/edge/nen')
  const secret = `edge-${randomBytes(6).toString('hex')}`
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    const res = await client.nenFetch('/api/edge/items', { method, body: { secret } })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { runtime: 'edge', engine: 'wasm', method, body: { secret }, search: '' })
  }
  const got = await client.nenFetch('/api/edge/items?page=2')
  assert.deepEqual(await got.json(), { runtime: 'edge', engine: 'wasm', method: 'GET', body: null, search: '?page=2' })
  const tokens = []
  for await (const t of client.nenStream('/api/edge/stream', { body: { n: 5 } })) tokens.push(t)
  assert.deepEqual(tokens, ['edge ', 'stream 5'])
  hop.retarget = (u) => u.replace('/api/edge/items', '/api/edge/admin')
  await rejectsWithCode(client.nenFetch('/api/edge/items', { method: 'POST', body: { secret } }), 'ISO-3002')
  hop.retarget = null
  const sid = client.sessionId
  await client.rotate()
  assert.notEqual(client.sessionId, sid)
  assert.equal((await (await client.nenFetch('/api/edge/items', { method: 'POST', body: { secret } })).json()).body.secret, secret)
  await client.terminate()
  assert.equal(client.sessionId, null)
  for (const w of wire) assert.ok(!w.includes(secret), 'plaintext on the wire')
}

/**
 * pages/api/pages/nen/[action].ts and pages/api/pages/items.ts (Pages Router API routes, on the
 * native addon): a handshake, POST and GET with a query, a re-targeted request refused.
 */
export async function checkPagesRoutes(url) {
  const { client, wire, hop } = await clientFor(url, '/api/pages/nen')
  const secret = `pages-${randomBytes(6).toString('hex')}`
  const posted = await client.nenFetch('/api/pages/items', { method: 'POST', body: { secret } })
  assert.equal(posted.status, 200)
  assert.deepEqual(await posted.json(), { router: 'pages', method: 'POST', body: { secret }, query: {} })
  const got = await client.nenFetch('/api/pages/items?tag=a')
  assert.deepEqual(await got.json(), { router: 'pages', method: 'GET', body: null, query: { tag: 'a' } })
  hop.retarget = (u) => u.replace('tag=a', 'tag=b')
  await rejectsWithCode(client.nenFetch('/api/pages/items?tag=a'), 'ISO-3002')
  hop.retarget = null
  assert.equal((await client.status()).sid, client.sessionId)
  await client.terminate()
  for (const w of wire) assert.ok(!w.includes(secret), 'plaintext on the wire')
}
