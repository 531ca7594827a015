// One HTTP server per process: `node http/server.mjs KIND` listening on 127.0.0.1:$PORT.
// Every kind answers POST /api/echo (the JSON body back), GET /api/echo (a small JSON object)
// and GET /health; the Nen kinds also POST /api/nen/handshake. Plain and Nen kinds of a
// framework differ only in Nen: same router, same handler work (parse the JSON, serialise it).
//
//   node-plain, node-nen        node:http; the Nen one through @withnen/server/node
//   express-plain, express-nen  Express 5 (express.json() + res.json(), or @withnen/server/express)
//   web-plain, web-nen, web-nen-wasm   Web Request handlers behind http/web-adapter.mjs, the Nen
//                               ones through withNen on the native or the WASM engine
//
// NEN_BENCH_STORE=redis (with REDIS_URL and NEN_WRAPPING_KEY) puts the sessions in Redis.

import http from 'node:http'
import express from 'express'
import { SMALL } from '../lib/inputs.mjs'
import { nenOn, server, serverExpress, serverNode } from '../lib/server-pkg.mjs'
import { nodeListener } from './web-adapter.mjs'

const kind = process.argv[2]
const port = Number(process.env.PORT)
const JSON_HEADERS = { 'content-type': 'application/json' }

async function nenConfig(engine) {
  const store = process.env.NEN_BENCH_STORE === 'redis' ? server.RedisSessionStore({ url: process.env.REDIS_URL }) : undefined
  return nenOn(engine, store ? { store } : {})
}

function nodePlain() {
  return http.createServer((req, res) => {
    if (req.url === '/api/echo' && req.method === 'POST') {
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        res.writeHead(200, JSON_HEADERS).end(JSON.stringify(body))
      })
    } else if (req.url === '/api/echo' || req.url === '/health') res.writeHead(200, JSON_HEADERS).end(JSON.stringify(SMALL))
    else res.writeHead(404).end()
  })
}

async function nodeNen() {
  const n = await nenConfig('native')
  const routes = serverNode.nenNodeRoutes({ nen: n })
  const post = serverNode.nenNodeHandler(async (body) => body, { nen: n })
  const get = serverNode.nenNodeHandler(async () => SMALL, { nen: n })
  return http.createServer((req, res) => {
    if (routes(req, res)) return
    if (req.url === '/api/echo') return req.method === 'POST' ? post(req, res) : get(req, res)
    if (req.url === '/health') return res.writeHead(200, JSON_HEADERS).end('{}')
    res.writeHead(404).end()
  })
}

/** Express without its default ETag (a SHA-1 of every body): neither side pays for it. */
function expressApp() {
  const app = express()
  app.set('etag', false)
  return app
}

function expressPlain() {
  const app = expressApp()
  app.post('/api/echo', express.json(), (req, res) => res.json(req.body))
  app.get('/api/echo', (_req, res) => res.json(SMALL))
  app.get('/health', (_req, res) => res.json({}))
  return http.createServer(app)
}

async function expressNen() {
  const n = await nenConfig('native')
  const app = expressApp()
  app.use(serverExpress.nenExpress({ nen: n }))
  app.post(
    '/api/echo',
    serverExpress.withNenExpress(async (body) => body, { nen: n }),
  )
  app.get(
    '/api/echo',
    serverExpress.withNenExpress(async () => SMALL, { nen: n }),
  )
  app.get('/health', (_req, res) => res.json({}))
  return http.createServer(app)
}

/** The Web handlers of one kind: plain, or withNen on an engine. */
async function web(engine) {
  const ok = () => new Response('{}', { headers: JSON_HEADERS })
  const notFound = () => new Response(null, { status: 404 })
  if (!engine) {
    const post = async (req) => new Response(JSON.stringify(await req.json()), { headers: JSON_HEADERS })
    const get = async () => new Response(JSON.stringify(SMALL), { headers: JSON_HEADERS })
    return http.createServer(nodeListener((req) => (route(req) === '/api/echo' ? (req.method === 'POST' ? post(req) : get(req)) : route(req) === '/health' ? ok() : notFound())))
  }
  const n = await nenConfig(engine)
  const nenRoute = server.createNenRoute({ nen: n })
  const post = server.withNen(async (_req, body) => body, { nen: n })
  const get = server.withNen(async () => SMALL, { nen: n })
  return http.createServer(
    nodeListener((req) => {
      const path = route(req)
      if (path === '/api/echo') return req.method === 'POST' ? post(req) : get(req)
      if (path.startsWith('/api/nen/')) return nenRoute.POST(req)
      return path === '/health' ? ok() : notFound()
    }),
  )
}

const route = (req) => new URL(req.url).pathname

const KINDS = {
  'node-plain': nodePlain,
  'node-nen': nodeNen,
  'express-plain': expressPlain,
  'express-nen': expressNen,
  'web-plain': () => web(null),
  'web-nen': () => web('native'),
  'web-nen-wasm': () => web('wasm'),
}

if (!KINDS[kind]) throw new Error(`unknown server kind ${kind}; one of ${Object.keys(KINDS).join(', ')}`)
const srv = await KINDS[kind]()
srv.keepAliveTimeout = 60_000
srv.listen(port, '127.0.0.1')
