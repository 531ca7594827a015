// Express (4 and 5) and Connect: the Node adapters as middleware. They read the raw body
// themselves, or take what express.json() / express.text() / express.raw() already parsed.

import {
  nenNodeHandler,
  nenNodeRoutes,
  withNenStreamNode,
  type NenNodeHandler,
  type NenNodeOptions,
  type NenNodeRoutesOptions,
  type NenNodeStreamHandler,
  type NenNodeStreamOptions,
  type NodeRequest,
  type NodeResponse,
} from './node.js'

export type { NenNodeContext, NenNodeStreamContext, NodeRequest, NodeResponse } from './node.js'

/**
 * The parts of an Express request handlers usually read, so `req.params.id` types without
 * annotations; Express's own `Request` (from @types/express) fits it.
 */
export interface ExpressRequest extends NodeRequest {
  params: Record<string, string>
  query: Record<string, unknown>
  path: string
  originalUrl: string
}

/** An Express/Connect middleware. */
export type NenMiddleware<TReq extends NodeRequest = NodeRequest, TRes extends NodeResponse = NodeResponse> = (req: TReq, res: TRes, next: (err?: unknown) => void) => void

/**
 * The four Nen routes as middleware: `app.use(nenExpress())`. Mounted under a prefix
 * (`app.use('/api/nen', nenExpress({ basePath: '' }))`) they match relative to it, and verify
 * against the full original URL. Other requests go on to `next`.
 */
export function nenExpress(options: NenNodeRoutesOptions = {}): NenMiddleware {
  const routes = nenNodeRoutes(options)
  return (req, res, next) => {
    routes(req, res, next)
  }
}

/**
 * An encrypted Express route: `app.post('/api/items', withNenExpress(async (body, { req }) => ...))`.
 * Every outcome is answered here (sealed), so `next` is never called.
 */
export function withNenExpress<TBody = unknown, TReq extends NodeRequest = ExpressRequest, TRes extends NodeResponse = NodeResponse>(
  handler: NenNodeHandler<TBody, TReq, TRes>,
  options?: NenNodeOptions,
): NenMiddleware<TReq, TRes> {
  const h = nenNodeHandler(handler, options)
  return (req, res) => {
    void h(req, res)
  }
}

/** An encrypted SSE route for Express: see `withNenStreamNode`. */
export function withNenStreamExpress<TBody = unknown, TReq extends NodeRequest = ExpressRequest, TRes extends NodeResponse = NodeResponse>(
  handler: NenNodeStreamHandler<TBody, TReq, TRes>,
  options?: NenNodeStreamOptions,
): NenMiddleware<TReq, TRes> {
  const h = withNenStreamNode(handler, options)
  return (req, res) => {
    void h(req, res)
  }
}
