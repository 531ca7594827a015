// Compiled (never run) by types.test.mjs against dist/*.d.ts with the frameworks' own types
// (Fastify 5 needs @types/node): the plugin and wrappers fit Fastify's `register` and route
// handlers, and Hono's middleware and handlers, without casts.

import Fastify from 'fastify'
import { Hono } from 'hono'
import { nenFastify, withNenFastify, withNenStreamFastify } from '../../dist/fastify.js'
import { nenHono, withNenHono, withNenStreamHono } from '../../dist/hono.js'
import { createNen } from '../../dist/index.js'

const nen = createNen()
const app = Fastify()
await app.register(nenFastify, {
  nen,
  prefix: '/v1',
  basePath: '/secure',
  routes(scope) {
    scope.post(
      '/api/items/:id',
      withNenFastify(async (body: { name: string }, { request, idempotencyKey }) => ({ saved: body.name, url: request.raw.url, idempotencyKey })),
    )
    scope.post(
      '/api/chat',
      withNenStreamFastify(async function* (body: { prompt: string }, { signal }) {
        if (!signal.aborted) yield body.prompt
      }),
    )
  },
})
await app.register(nenFastify, { basePath: false })

const hono = new Hono()
hono.use(nenHono({ nen, basePath: '/api/nen' }))
hono.post(
  '/api/items/:id',
  withNenHono(async (body: { name: string }, c) => ({ id: c.req.param('id'), saved: body.name })),
)
hono.post(
  '/api/chat',
  withNenStreamHono(async function* (body: { prompt: string }) {
    yield body.prompt
  }),
)
export { app, hono }
