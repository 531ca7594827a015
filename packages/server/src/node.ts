// Adapters for node:http (and everything built on it: Express, Connect) that work on the
// IncomingMessage and ServerResponse directly: encrypted routes, streams and the four Nen routes.

import { defaultNen, pathOf } from './config.js'
import { ACTION_METHOD, type NenAction } from './actions.js'
import { runNodeAction } from './node-action.js'
import { openRequest, sendAnswer, sendFailure, signedUrl } from './node-io.js'
import type { NenNodeHandler, NenNodeOptions, NenNodeRoutes, NenNodeRoutesOptions, NodeRequest, NodeResponse } from './node-types.js'

export type {
  NodeRequest,
  NodeResponse,
  NenNodeContext,
  NenNodeStreamContext,
  NenNodeHandler,
  NenNodeStreamHandler,
  NenNodeOptions,
  NenNodeStreamOptions,
  NenNodeRoutesOptions,
  NenNodeRoutes,
} from './node-types.js'
export { withNenStreamNode } from './node-stream.js'

/**
 * An encrypted node:http route: `http.createServer(nenNodeHandler(async (body) => ...))`. The
 * request is verified and decrypted before the handler runs; what it returns or throws is sealed
 * for that request (a NenError answers its code and status, anything else ISO-9000 without detail).
 */
export function nenNodeHandler<TBody = unknown, TReq extends NodeRequest = NodeRequest, TRes extends NodeResponse = NodeResponse>(
  handler: NenNodeHandler<TBody, TReq, TRes>,
  options: NenNodeOptions = {},
): (req: TReq, res: TRes) => Promise<void> {
  return async (req, res) => {
    const nen = options.nen ?? defaultNen()
    const o = await openRequest(nen, req, res)
    if (!o) return
    try {
      const result = await handler(o.body as TBody, { req, res, idempotencyKey: o.opened.idempotencyKey })
      sendAnswer(res, o, result)
    } catch (e) {
      nen.report(e, { phase: 'handler', method: req.method ?? 'GET', path: pathOf(signedUrl(req)) })
      sendFailure(res, o.engine, o.opened, e)
    }
  }
}

/**
 * The four Nen routes (`<basePath>/handshake`, `rotate`, `terminate`, `status`) for node:http:
 * `if (nenRoutes(req, res)) return`. As Express or Connect middleware (`app.use(nenRoutes)`),
 * other paths go on to `next`.
 */
export function nenNodeRoutes(options: NenNodeRoutesOptions = {}): NenNodeRoutes {
  const base = (options.basePath ?? '/api/nen').replace(/\/+$/, '')
  const routes = new Map<string, NenAction>()
  for (const action of Object.keys(ACTION_METHOD) as NenAction[]) routes.set(`${base}/${action}`, action)
  return (req, res, next) => {
    // Relative to the mount point (req.url), as middleware paths are; the signed URL is used below.
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const action = routes.get(q < 0 ? url : url.slice(0, q))
    if (!action) {
      next?.()
      return false
    }
    void runNodeAction(options.nen ?? defaultNen(), action, req, res)
    return true
  }
}
