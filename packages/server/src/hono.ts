// Hono 4: the Web handlers (web.ts, web-routes.ts) on the Request Hono wraps (`c.req.raw`), on
// every runtime Hono runs on (@hono/node-server, Deno, Bun, Workers). Hono's types only (its
// Context, so that handlers' `c` types without annotations); nothing of hono is bundled.

import type { Context } from 'hono'

import { ACTION_METHOD, type NenAction } from './actions.js'
import { createNenRoute } from './web-routes.js'
import { withNen, withNenStream, type WithNenOptions, type WithNenStreamOptions } from './web.js'
import type { NenStreamSource } from './stream.js'

/** What is used of Hono's Context: the Web Request it wraps. */
export interface HonoContextLike {
  req: { raw: Request }
}

/** Options of `nenHono`. */
export interface NenHonoOptions extends WithNenOptions {
  /** Where the four routes live (the full path, as the client requests it). Default `/api/nen`. */
  basePath?: string
}

/**
 * The four Nen routes as Hono middleware: `app.use(nenHono())`. Other paths go on to `next`.
 * Verification and the target checked are the Web handlers' (see "Which target is verified").
 */
export function nenHono(options: NenHonoOptions = {}): (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | undefined> {
  const base = (options.basePath ?? '/api/nen').replace(/\/+$/, '')
  const paths = new Map<string, NenAction>()
  for (const action of Object.keys(ACTION_METHOD) as NenAction[]) paths.set(`${base}/${action}`, action)
  const routes = createNenRoute(options)
  return async (c, next) => {
    if (!paths.has(new URL(c.req.raw.url).pathname)) {
      await next()
      return undefined
    }
    // The route dispatches on the last segment and answers another method ISO-6007 itself.
    return routes.POST(c.req.raw)
  }
}

/**
 * An encrypted Hono route: `app.post('/api/items/:id', withNenHono(async (body, c) => ...))`.
 * The handler gets the decrypted body and Hono's Context (`c.req.param('id')`, `c.req.query()`),
 * and returns a JSON value or `nenResponse(...)`; the answer is sealed for the request.
 */
export function withNenHono<TBody = unknown, C extends HonoContextLike = Context>(handler: (body: TBody, c: C) => unknown | Promise<unknown>, options?: WithNenOptions): (c: C) => Promise<Response> {
  const h = withNen<TBody, C>((_req, body, c) => handler(body, c), options)
  return (c) => h(c.req.raw, c)
}

/** An encrypted SSE route for Hono: each item the handler yields is one sealed frame. */
export function withNenStreamHono<TBody = unknown, C extends HonoContextLike = Context>(
  handler: (body: TBody, c: C) => NenStreamSource | Promise<NenStreamSource>,
  options?: WithNenStreamOptions,
): (c: C) => Promise<Response> {
  const h = withNenStream<TBody, C>((_req, body, c) => handler(body, c), options)
  return (c) => h(c.req.raw, c)
}
