// The checks of the example's Edge-runtime route and Pages Router routes, driven by the real
// @withnen/client from Node against a served Next.js app (next start). Shared by the example's
// test (Next 16) and the per-version builds (next-versions.test.mjs, Next 13 to 16).

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const clientDist = path.resolve(here, '../../../../packages/client/dist/index.mjs')
const upstashSupport = path.resolve(here, '../../../../packages/server/test/support/upstash.mjs')

/**
 * What the edge routes share sessions through (lib/edge-nen.ts): a real redis-server behind the
 * Upstash REST API; `env` is what `next start` is given. `stop()` stops both.
 */
export async function edgeStore() {
  const { startRedis, startUpstash } = await import(upstashSupport)
  const token = randomBytes(8).toString('hex')
  const redis = await startRedis()
  const upstash = await startUpstash(redis.port, token)
  return {
    redis,
    env: { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: token, NEN_WRAPPING_KEY: randomBytes(32).toString('base64') },
    stop: async () => {
      await upstash.close?.()
      redis.stop()
    },
  }
}

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
 * app/api/edge/ (`runtime = 'edge'`, lib/edge-nen.ts): every method, a stream, a re-targeted
 * request refused, rotate and terminate; the routes report the WebAssembly engine and keep their
 * sessions in `store` (the Redis behind the Upstash API).
 */
export async function checkEdgeRoute(url, store) {
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
  assert.ok(store.redis.cli('--scan').stdout.trim().length > 0, 'the edge sessions live in the shared store')
  hop.retarget = (u) => u.replace('/api/edge/items', '/api/edge/items?admin=1')
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
