// The soak's server: one node:http server through @withnen/server/node (the four Nen routes, an
// encrypted JSON route and an encrypted stream), in a process of its own so that its RSS, heap,
// handles and event loop are its own. Started by soak/main.mjs with `--expose-gc`; configured by
// the JSON in argv[2]: {port, store: 'memory' | 'redis', redisUrl, wrappingKey, options}.
// Answers `{op: 'sample'}` over IPC with one sample (see sample() below).

import http from 'node:http'
import { createRequire } from 'node:module'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { streamTokens } from './stream-tokens.mjs'

const require = createRequire(import.meta.url)
const config = JSON.parse(process.argv[2])

// The live session count lives in the addon (`memoryStats()`, `cachedSessions`), which the
// Engine interface of @withnen/server does not expose. @withnen/server loads the addon from this
// same file (the repository root's nen.js, one module instance per process), so a subclass put
// in its place keeps a reference to the one NenServer the adapter creates and changes nothing
// it does.
const addon = require('../nen.js')
const instances = []
const Base = addon.NenServer
addon.NenServer = class extends Base {
  constructor(options) {
    super(options)
    instances.push(this)
  }
}

const { createNen, RedisSessionStore } = await import('../packages/server/dist/index.mjs')
const { nenNodeHandler, nenNodeRoutes, withNenStreamNode } = await import('../packages/server/dist/node.mjs')

let handlerErrors = 0
const store = config.store === 'redis' ? RedisSessionStore({ url: config.redisUrl, wrappingKey: config.wrappingKey, keyPrefix: 'soak:' }) : { kind: 'memory' }
const nen = createNen({
  engine: 'native',
  store,
  ...config.options,
  // Every handler here returns; anything thrown is a failure the parent must hear of.
  onError: () => handlerErrors++,
})

const routes = nenNodeRoutes({ nen })
// POST echoes the body; GET answers a small object naming the query it was asked with.
const json = nenNodeHandler(async (body, { req }) => (req.method === 'POST' ? { echo: body } : { q: new URL(req.url, 'http://x').searchParams.get('q') }), { nen })
const stream = withNenStreamNode(
  async function* (body) {
    for (const t of streamTokens(body.n, body.seed)) yield t
  },
  { nen },
)

const server = http.createServer((req, res) => {
  if (routes(req, res)) return
  const path = req.url.split('?')[0]
  if (path === '/api/echo') return json(req, res)
  if (path === '/api/stream') return stream(req, res)
  if (path === '/health') return res.writeHead(200).end('{}')
  res.writeHead(404).end()
})
server.keepAliveTimeout = 60_000
await new Promise((r) => server.listen(config.port, '127.0.0.1', r))
// The engine is created on first use: create it now, so the first sample has it.
await nen.engine()
if (instances.length !== 1) throw new Error(`expected one NenServer in this process, found ${instances.length}`)
const engine = instances[0]

const eld = monitorEventLoopDelay({ resolution: 10 })
eld.enable()

/**
 * One sample: RSS, V8 heap used after a full GC (what is still reachable, not garbage waiting
 * for a collection), active handles and requests, event-loop delay since the last sample, and
 * the store's own counts. The forced GC's pause is kept out of the next delay figures.
 */
function sample() {
  const delay = { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 }
  eld.disable()
  globalThis.gc()
  const mem = process.memoryUsage()
  eld.reset()
  eld.enable()
  const stats = config.store === 'memory' ? engine.memoryStats() : { sessions: null, nonces: null }
  return {
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    handles: process.getActiveResourcesInfo().length,
    eldP50Ms: delay.p50,
    eldP99Ms: delay.p99,
    eldMaxMs: delay.max,
    sessions: stats.sessions,
    nonces: stats.nonces,
    cachedSessions: engine.cachedSessions,
    handlerErrors,
  }
}

process.on('message', (m) => {
  if (m.op === 'sample') process.send({ id: m.id, sample: sample() })
  if (m.op === 'exit') server.close(() => process.exit(0))
})
process.send({ ready: true })
