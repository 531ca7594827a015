// The Express adapters over real HTTP on Express 5 and 4, with and without body parsers in
// front, on Connect, and mounted under a prefix.

import test from 'node:test'
import assert from 'node:assert/strict'
import express5 from 'express'
import express4 from 'express4'
import connect from 'connect'
import { configureNen } from '../dist/index.mjs'
import { nenExpress, withNenExpress, withNenStreamExpress } from '../dist/express.mjs'
import { NenClient, createApp, fullRoundTrip, listen, recordingFetch } from './support/app.mjs'

configureNen({ onError: () => {} })

/** Express serving the Nen routes and the test application; `parser` runs before everything. */
function expressServer(app, parser, express = express5) {
  const e = express()
  if (parser) e.use(parser)
  e.use(nenExpress())
  const json = withNenExpress((body, { req }) => app.route(req.path).run(req.method, body, req.query))
  const stream = withNenStreamExpress((body, { req }) => app.route(req.path).run(req.method, body))
  e.all(/^\/api\//, (req, res, next) => {
    const r = app.route(req.path)
    if (!r) return next()
    ;(r.kind === 'stream' ? stream : json)(req, res, next)
  })
  return listen(e)
}

for (const [version, express] of [
  ['Express 5', express5],
  ['Express 4', express4],
]) {
  for (const [name, parser] of [
    ['no body parser', undefined],
    ['express.json() in front', express.json()],
    ['express.text() in front', express.text({ type: '*/*' })],
    ['express.raw() in front', express.raw({ type: '*/*' })],
  ]) {
    test(`full round trip through ${version}, ${name}`, { timeout: 30000 }, async () => {
      const app = createApp()
      const srv = await expressServer(app, parser, express)
      try {
        const wire = []
        await fullRoundTrip(srv.url, recordingFetch(wire), { wire, app })
      } finally {
        await srv.close()
      }
    })
  }
}

test('full round trip through Connect (no router: one middleware dispatching on the path)', { timeout: 30000 }, async () => {
  const app = createApp()
  const c = connect()
  c.use(nenExpress())
  const path = (req) => req.url.split('?')[0]
  const query = (req) => Object.fromEntries(new URL(req.url, 'http://localhost').searchParams)
  const json = withNenExpress((body, { req }) => app.route(path(req)).run(req.method, body, query(req)))
  const stream = withNenStreamExpress((body, { req }) => app.route(path(req)).run(req.method, body))
  c.use((req, res, next) => {
    const r = app.route(path(req))
    if (!r) return next()
    ;(r.kind === 'stream' ? stream : json)(req, res, next)
  })
  const srv = await listen(c)
  try {
    const wire = []
    await fullRoundTrip(srv.url, recordingFetch(wire), { wire, app })
  } finally {
    await srv.close()
  }
})

test('mounted under prefixes: routes match relative to the mount, signatures use the full URL', { timeout: 10000 }, async () => {
  const e = express5()
  e.use('/mounted/nen', nenExpress({ basePath: '' }))
  const v1 = express5.Router()
  v1.put(
    '/things/:id',
    withNenExpress((body, { req }) => ({ id: req.params.id, body, q: req.query.q, url: req.url, originalUrl: req.originalUrl })),
  )
  e.use('/v1', v1)
  e.use((req, res) => res.status(404).end())
  const srv = await listen(e)
  try {
    const client = new NenClient(srv.url, { basePath: '/mounted/nen' })
    const res = await client.nenFetch('/v1/things/7?q=a%20b', { method: 'PUT', body: { n: 1 } })
    assert.deepEqual(await res.json(), { id: '7', body: { n: 1 }, q: 'a b', url: '/things/7?q=a%20b', originalUrl: '/v1/things/7?q=a%20b' })
    assert.equal((await client.status()).sid, client.sessionId)
    await client.rotate()
    await client.terminate()
    // The unmounted path is not served by the Nen middleware.
    assert.equal((await fetch(`${srv.url}/api/nen/handshake`, { method: 'POST', body: '{}' })).status, 404)
  } finally {
    await srv.close()
  }
})
