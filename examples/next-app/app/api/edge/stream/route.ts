// An encrypted stream on the Edge runtime.
import { withNenStream } from '@withnen/server'
import { edgeNen } from '@/lib/edge-nen'

export const runtime = 'edge'
export const dynamic = 'force-dynamic'

export const POST = (req: Request) =>
  withNenStream(
    async function* (_req, body: { n?: number }) {
      yield 'edge '
      yield `stream ${body?.n ?? 0}`
    },
    { nen: edgeNen() },
  )(req)
