// The Nen routes for the Pages Router: POST /api/pages/nen/handshake, /rotate, /terminate and
// GET /api/pages/nen/status (the client's `basePath: '/api/pages/nen'`). An App Router project
// uses app/api/nen/[action]/route.ts instead; both share the process's default store.
import type { NextApiRequest, NextApiResponse } from 'next'
import { nenNodeRoutes } from '@withnen/server/node'

// Nen reads the raw body itself: Next.js must not parse it first.
export const config = { api: { bodyParser: false } }

const routes = nenNodeRoutes({ basePath: '/api/pages/nen' })

export default function handler(req: NextApiRequest, res: NextApiResponse) {
  if (!routes(req, res)) res.status(404).end()
}
