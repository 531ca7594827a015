// GET /api/edge/nen/status on the Edge runtime (the client's `basePath: '/api/edge/nen'`).
import { edgeRoutes } from '@/lib/edge-nen'

export const runtime = 'edge'
export const dynamic = 'force-dynamic'
export const GET = (req: Request) => edgeRoutes().GET(req)
