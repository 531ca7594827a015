// A route on the Edge runtime: Next.js bundles @withnen/server's `edge-light` build for it (the
// WebAssembly core imported as `nen.wasm?module`, never the native addon), with nothing to set up.
// One catch-all file holds the Nen routes (/api/edge/nen/<action>, the client's `basePath`) and
// the encrypted routes, so they share this instance's memory store; a deployment with more than
// one edge instance gives `createNen` a shared store (`UpstashSessionStore()`) instead.
import { createNen, createNenRoute, withNen, withNenStream } from '@withnen/server'

export const runtime = 'edge'
export const dynamic = 'force-dynamic'

let engine: string | null = null
const nen = createNen({
  onEvent: (e) => {
    if (e.type === 'engine') engine = e.engine
  },
})
const routes = createNenRoute({ nen })
const echo = withNen(async (req, body) => ({ runtime: 'edge', engine, method: req.method, body, search: new URL(req.url).search }), { nen })
const stream = withNenStream(
  async function* (_req, body: { n?: number }) {
    yield 'edge '
    yield `stream ${body?.n ?? 0}`
  },
  { nen },
)

function route(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname
  if (path.startsWith('/api/edge/nen/')) return req.method === 'GET' ? routes.GET(req) : routes.POST(req)
  if (path === '/api/edge/stream') return stream(req)
  return echo(req)
}

export const GET = route
export const POST = route
export const PUT = route
export const PATCH = route
export const DELETE = route
export const HEAD = route
