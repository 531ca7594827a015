// An encrypted route on the Edge runtime: Next.js bundles @withnen/server's `edge-light` build
// (the WebAssembly core imported as `nen.wasm?module`, never the native addon).
import { withNen } from '@withnen/server'
import { edgeNen, engine } from '@/lib/edge-nen'

export const runtime = 'edge'
export const dynamic = 'force-dynamic'

const echo = (req: Request, body: unknown) => ({ runtime: 'edge', engine, method: req.method, body, search: new URL(req.url).search })
const route = (req: Request) => withNen(echo, { nen: edgeNen() })(req)

export const GET = route
export const POST = route
export const PUT = route
export const PATCH = route
export const DELETE = route
