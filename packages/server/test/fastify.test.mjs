// The Fastify plugin (Fastify 5) over real HTTP: the full client scenario through it, the app's
// other routes keeping Fastify's JSON parser, a prefix, and rewriteUrl (the dispatched target is
// the one verified).

import test from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { configureNen } from '../dist/index.mjs'
import { nenFastify, withNenFastify, withNenStreamFastify } from '../dist/fastify.mjs'
import { NenClient, createApp, fullRoundTrip, recordingFetch, rejectsWith } from './support/app.mjs'

configureNen({ onError: () => {} })

async function listen(app) {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { url: `http://127.0.0.1:${app.server.address().port}`, close: () => app.close() }
}

/** Fastify serving the Nen routes and the test application in the plugin's scope. */
function fastifyServer(app) {
  const f = Fastify()
  f.register(nenFastify, {
    routes(nen) {
      const json = withNenFastify((body, { request }) =>
        app.route(request.routeOptions.url === '/api/items/:id' ? `/api/items/${request.params.id}` : request.url.split('?')[0]).run(request.method, body, request.query),
      )
      const stream = withNenStreamFastify((body, { request }) => app.route(request.url.split('?')[0]).run(request.method, body))
      for (const path of ['/api/items', '/api/items/:id', '/api/echo', '/api/fail/coded', '/api/fail/boom']) nen.all(path, json)
      for (const path of ['/api/stream', '/api/stream/readable', '/api/stream/fail', '/api/stream/boom', '/api/stream/early', '/api/stream/forever']) nen.post(path, stream)
    },
  })
  // Outside the plugin's scope: Fastify's own JSON parsing, untouched.
  f.post('/plain', async (request) => ({ got: request.body }))
  return listen(f)
}

test('full round trip through Fastify; the other routes keep its JSON parser', { timeout: 30000 }, async () => {
  const app = createApp()
  const srv = await fastifyServer(app)
  try {
    const wire = []
    await fullRoundTrip(srv.url, recordingFetch(wire), { wire, app })
    const plain = await fetch(`${srv.url}/plain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' })
    assert.deepEqual(await plain.json(), { got: { a: 1 } })
  } finally {
    await srv.close()
  }
})
