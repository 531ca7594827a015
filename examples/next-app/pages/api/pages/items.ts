// An encrypted Pages Router API route: the body arrives decrypted, the answer leaves sealed.
import type { NextApiRequest, NextApiResponse } from 'next'
import { nenNodeHandler } from '@withnen/server/node'

// Nen reads the raw body itself, within its own limits: Next.js must not parse it first.
export const config = { api: { bodyParser: false } }

export default nenNodeHandler<unknown, NextApiRequest, NextApiResponse>(async (body, { req }) => ({
  router: 'pages',
  method: req.method,
  body,
  query: req.query,
}))
