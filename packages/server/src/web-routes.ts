// The four Nen routes (/api/nen/handshake, rotate, terminate, status) on Web Request/Response.

import { ACTION_METHOD, bodyLimit, runAction, type NenAction } from './actions.js'
import { NenError } from './errors.js'
import { defaultNen, type Nen } from './config.js'
import { errorResponse, nenHeaders, readBody, replyResponse } from './web-io.js'
import { signedTarget } from './web-target.js'

async function handle(nen: Nen, action: NenAction, req: Request): Promise<Response> {
  if (req.method !== ACTION_METHOD[action]) return errorResponse(new NenError('ISO-6007'), { allow: ACTION_METHOD[action] })
  try {
    const engine = await nen.ready(req.method, req.url)
    if (action === 'handshake') await nen.admitHandshake(req)
    const body = await readBody(req, bodyLimit(nen, action))
    // A handshake signs no target (and must not be refused for want of one).
    return replyResponse(await runAction(engine, action, req.method, action === 'handshake' ? req.url : signedTarget(req), nenHeaders(req.headers), body))
  } catch (e) {
    return errorResponse(e)
  }
}

/** `POST /api/nen/handshake`: creates a session (unauthenticated by nature). */
export function handleHandshake(req: Request): Promise<Response> {
  return handle(defaultNen(), 'handshake', req)
}

/** `POST /api/nen/rotate`: a fresh key exchange inside the current session. */
export function handleRotate(req: Request): Promise<Response> {
  return handle(defaultNen(), 'rotate', req)
}

/** `POST /api/nen/terminate`: deletes the session. */
export function handleTerminate(req: Request): Promise<Response> {
  return handle(defaultNen(), 'terminate', req)
}

/** `GET /api/nen/status`: the session's sealed status. */
export function handleStatus(req: Request): Promise<Response> {
  return handle(defaultNen(), 'status', req)
}

/** The action a path names: its last segment, if it is one of the four. */
export function actionOf(pathname: string): NenAction | null {
  const last = pathname.slice(pathname.lastIndexOf('/', pathname.length - 2) + 1).replace(/\/$/, '')
  return Object.hasOwn(ACTION_METHOD, last) ? (last as NenAction) : null
}

/** The `{ GET, POST }` pair of a dynamic `[action]` route file. */
export interface NenRoute {
  GET(req: Request): Promise<Response>
  POST(req: Request): Promise<Response>
}

/**
 * The four routes in one dynamic route file, dispatching on the last path segment (no need to
 * await Next.js's `params`). An unknown action is a plain 404 without a Nen code: the catalogue has
 * none for "no such route" (ISO-6005 means a malformed target, status 400), and inventing one
 * would make clients report a protocol failure for a wrong URL. A known action with the other
 * method is ISO-6007 (405).
 */
export function createNenRoute(options: { nen?: Nen } = {}): NenRoute {
  const dispatch = (req: Request) => {
    const action = actionOf(new URL(req.url).pathname)
    if (!action) return Promise.resolve(new Response(null, { status: 404 }))
    return handle(options.nen ?? defaultNen(), action, req)
  }
  return { GET: dispatch, POST: dispatch }
}

/** `export const { GET, POST } = nenRoute` in `app/api/nen/[action]/route.ts`. */
export const nenRoute: NenRoute = createNenRoute()
