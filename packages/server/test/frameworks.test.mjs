// The README's framework examples (Express 5 and 4, Connect, Fastify 5, Hono 4 on
// @hono/node-server, Koa), each imported from the README itself (support/readme.mjs), served on
// loopback and driven by the real client through the same scenario (support/example-scenario.mjs):
// every route, a stream, status, rotate, terminate, and a re-targeted request refused with
// ISO-3002. One server per framework.

import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { serve } from '@hono/node-server'
import { configureNen } from '../dist/index.mjs'
import { EXPECTED, exampleScenario } from './support/example-scenario.mjs'
import { listen } from './support/app.mjs'
import { writeExample } from './support/readme.mjs'

// The refused request is the point of one step: keep the output clean.
configureNen({ onError: () => {} })

/** [name, README example, how to serve its default export, edit of the example's code]. */
const FRAMEWORKS = [
  ['Express 5', 'express', 'listener'],
  // The same block on Express 4: only the package it imports differs.
  ['Express 4', 'express', 'listener', (code) => code.replace("from 'express'", "from 'express4'")],
  ['Connect', 'connect', 'listener'],
  ['Fastify 5', 'fastify', 'fastify'],
  ['Hono 4 (@hono/node-server)', 'hono', 'fetch'],
  ['Koa 3', 'koa', 'listener'],
]

async function start(kind, app) {
  if (kind === 'listener') return listen(app)
  if (kind === 'fastify') {
    await app.listen({ port: 0, host: '127.0.0.1' })
    return { url: `http://127.0.0.1:${app.server.address().port}`, close: () => app.close() }
  }
  const server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  }
}

for (const [name, example, kind, edit] of FRAMEWORKS) {
  describe(`README example: ${name}`, () => {
    let srv
    before(async () => {
      const file = writeExample(example, { as: name.replace(/\W+/g, '-').toLowerCase(), edit })
      srv = await start(kind, (await import(file)).default)
    })
    after(() => srv?.close())

    test('the client scenario, a re-targeted request refused with ISO-3002', { timeout: 20000 }, async () => {
      assert.deepEqual(await exampleScenario(srv.url), EXPECTED)
    })

    if (kind === 'fastify') {
      test("the application's other routes keep Fastify's JSON parser", async () => {
        const res = await fetch(`${srv.url}/api/plain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
        assert.deepEqual(await res.json(), { got: { a: 1 } })
      })
    }
  })
}
