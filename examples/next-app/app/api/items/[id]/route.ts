// One item: GET, PUT (replace), PATCH (merge), DELETE and HEAD (exists?), every answer sealed.
import { nenResponse, withNen } from '@withnen/server'
import { deleteItem, getItem, parseItem, updateItem } from '@/lib/items'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

type Ctx = { params: Promise<{ id: string }> }

const notFound = () => nenResponse({ error: 'not found' }, { status: 404 })

export const GET = withNen(async (_req, _body, ctx: Ctx) => {
  const item = getItem((await ctx.params).id)
  return item ?? notFound()
})

export const HEAD = withNen(async (_req, _body, ctx: Ctx) => nenResponse(null, { status: getItem((await ctx.params).id) ? 200 : 404 }))

const update = (replace: boolean) =>
  withNen(async (_req, body, ctx: Ctx) => {
    const fields = parseItem(body, !replace)
    if (typeof fields === 'string') return nenResponse({ error: fields }, { status: 400 })
    return updateItem((await ctx.params).id, fields, replace) ?? notFound()
  })

export const PUT = update(true)
export const PATCH = update(false)

export const DELETE = withNen(async (_req, _body, ctx: Ctx) => {
  const id = (await ctx.params).id
  return deleteItem(id) ? { deleted: id } : notFound()
})
