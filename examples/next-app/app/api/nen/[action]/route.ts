// The Nen protocol routes: POST /api/nen/handshake, /rotate, /terminate and GET /api/nen/status.
import { nenRoute } from '@withnen/server'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
export const { GET, POST } = nenRoute
