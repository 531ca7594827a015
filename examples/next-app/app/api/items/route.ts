// GET /api/items (list) and POST /api/items (create): bodies arrive decrypted, answers leave sealed.
import { nenResponse, withNen } from '@withnen/server'
import { createItem, listItems, parseItem } from '@/lib/items'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export const GET = withNen(async () => ({ items: listItems() }))

export const POST = withNen(async (_req, body) => {
  const fields = parseItem(body, false)
  if (typeof fields === 'string') return nenResponse({ error: fields }, { status: 400 })
  return nenResponse(createItem(fields), { status: 201 })
})
