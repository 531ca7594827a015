// One of the four Nen routes (handshake, rotate, terminate, status) answered on node:http
// objects: shared by the node:http routes (node.ts) and the Fastify plugin (fastify.ts), which
// route to it each their own way.

import { NenError } from './errors.js'
import type { Nen } from './config.js'
import { ACTION_METHOD, bodyLimit, runAction, type NenAction } from './actions.js'
import { nenHeaders, originTarget, readBody, send, sendError, signedUrl } from './node-io.js'
import type { NodeRequest, NodeResponse } from './node-types.js'

/** Answers `action` (ISO-6007 with `allow` for another method); never throws. */
export async function runNodeAction(nen: Nen, action: NenAction, req: NodeRequest, res: NodeResponse): Promise<void> {
  const method = req.method ?? 'GET'
  const allowed = ACTION_METHOD[action]
  if (method !== allowed) return sendError(res, new NenError('ISO-6007'), { allow: allowed })
  try {
    const engine = await nen.ready(method, signedUrl(req))
    if (action === 'handshake') await nen.admitHandshake(req)
    const body = await readBody(req, bodyLimit(nen, action))
    const r = await runAction(engine, action, method, originTarget(req), nenHeaders(req.headers), body)
    send(res, r.status, r.headers, r.body)
  } catch (e) {
    sendError(res, e)
  }
}
