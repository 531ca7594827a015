// Fastify 5: a plugin serving the four Nen routes and the encrypted routes registered in it, on
// the Node adapters (node-io, node-action, node-stream) over Fastify's raw request and response.
//
// Fastify parses bodies before the handler runs and its JSON parser consumes the stream (the
// obvious wiring answered ISO-6001). Inside the plugin's encapsulated scope every content-type
// parser is replaced by one that reads nothing and hands the payload stream to the Nen adapter,
// which reads it with Nen's own limits and codes; the application's other routes keep Fastify's
// parsers. Fastify's types only (its instance, so that the routes callback's scope types);
// nothing of fastify is bundled.

import type { FastifyInstance } from 'fastify'

import { ACTION_METHOD, type NenAction } from './actions.js'
import { defaultNen } from './config.js'
import { runNodeAction } from './node-action.js'
import { nenNodeHandler, withNenStreamNode } from './node.js'
import type { NenNodeOptions, NenNodeStreamOptions, NodeRequest, NodeResponse } from './node-types.js'
import type { NenStreamSource } from './stream.js'

/** What the plugin uses of a Fastify request: `request.raw` is node:http's IncomingMessage. */
export interface FastifyRequestLike {
  raw: NodeRequest & { url?: string }
}

/** What the plugin uses of a Fastify reply. */
export interface FastifyReplyLike {
  raw: NodeResponse
  hijack(): unknown
}

/** The second argument of a Fastify Nen handler. */
export interface NenFastifyContext<TRequest = FastifyRequestLike, TReply = FastifyReplyLike> {
  request: TRequest
  reply: TReply
  /** The verified `x-nen-idempotency-key`, or null (a plain `Idempotency-Key` is unsigned). */
  idempotencyKey: string | null
}

/** A stream handler's context: `signal` aborts when the client goes away. */
export interface NenFastifyStreamContext<TRequest = FastifyRequestLike, TReply = FastifyReplyLike> extends NenFastifyContext<TRequest, TReply> {
  signal: AbortSignal
}

/**
 * An encrypted Fastify route's handler: the decrypted JSON body (null without one) and
 * `{ request, reply }`; returns a JSON value or `nenResponse(value, { status, headers })`. The
 * adapter answers (the reply is hijacked): do not call `reply.send`.
 */
export type NenFastifyHandler<TBody = unknown, TRequest = FastifyRequestLike, TReply = FastifyReplyLike> = (body: TBody, ctx: NenFastifyContext<TRequest, TReply>) => unknown | Promise<unknown>

/** An encrypted stream's handler: returns the chunks to send, each sealed on its own. */
export type NenFastifyStreamHandler<TBody = unknown, TRequest = FastifyRequestLike, TReply = FastifyReplyLike> = (
  body: TBody,
  ctx: NenFastifyStreamContext<TRequest, TReply>,
) => NenStreamSource | Promise<NenStreamSource>

/** Options of the `nenFastify` plugin (passed to `app.register`, Fastify's `prefix` included). */
export interface NenFastifyOptions<TInstance = FastifyInstance> extends NenNodeOptions {
  /** Where the four routes live, under the plugin's prefix. Default `/api/nen`; `false`: none. */
  basePath?: string | false
  /**
   * Registers the application's encrypted routes in the plugin's scope, where bodies reach Nen
   * unparsed: `routes(nen) { nen.post('/api/items', withNenFastify(...)) }`.
   */
  routes?: (scope: TInstance) => void | Promise<void>
}

/** The payload stream each request's parser was handed (after any `preParsing` hook). */
const payloads = new WeakMap<object, NodeRequest>()
/** The Fastify request and reply behind each view the Node adapters work on. */
const owners = new WeakMap<object, { request: FastifyRequestLike; reply: FastifyReplyLike }>()

/**
 * The request as the Node adapters read it: Fastify's raw IncomingMessage, with
 * - `url` what Fastify's router dispatched on (after `rewriteUrl`, if the application set one)
 *   and no `originalUrl`: Nen verifies the target that chose the handler and its params, so a
 *   rewritten target verifies only if the client signed that one (ISO-3002 otherwise);
 * - the body read from the payload stream the content-type parser was given, if any (a
 *   `preParsing` hook may have replaced it), else from the request itself (GET, HEAD).
 * Everything else (headers, socket, for `allowHandshake`) is the IncomingMessage's.
 */
function nodeView(request: FastifyRequestLike, reply: FastifyReplyLike): NodeRequest {
  const raw = request.raw
  const payload = payloads.get(request) ?? raw
  const view = new Proxy(raw, {
    get(target, key) {
      if (key === 'originalUrl' || key === 'body') return undefined
      if (key === 'readableEnded') return payload.readableEnded
      if (key === 'on' || key === 'removeListener') return payload[key].bind(payload)
      const v = Reflect.get(target, key, target)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  owners.set(view, { request, reply })
  return view
}

function ownerOf(view: object): { request: FastifyRequestLike; reply: FastifyReplyLike } {
  const o = owners.get(view)
  if (!o) throw new Error('not a Fastify request')
  return o
}

/**
 * The plugin: `await app.register(nenFastify, { routes(nen) { ... } })`. In its scope (the
 * four routes, and what `routes` registers) bodies are left to Nen; elsewhere Fastify's parsers
 * apply as before. Not wrapped in fastify-plugin on purpose: the encapsulation is the point.
 */
export async function nenFastify(scope: FastifyInstance, options: NenFastifyOptions): Promise<void> {
  scope.removeAllContentTypeParsers()
  // Any media type, or none: the Nen adapter reads the payload itself, so nothing is read here.
  scope.addContentTypeParser('*', (request, payload, done) => {
    payloads.set(request, payload)
    done(null, undefined)
  })
  if (options.basePath !== false) {
    const base = (options.basePath ?? '/api/nen').replace(/\/+$/, '')
    for (const action of Object.keys(ACTION_METHOD) as NenAction[]) {
      // Every method reaches the action, so that another one is answered ISO-6007 with `allow`.
      scope.all(`${base}/${action}`, async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
        reply.hijack()
        await runNodeAction(options.nen ?? defaultNen(), action, nodeView(request, reply), reply.raw)
      })
    }
  }
  await options.routes?.(scope)
}

/**
 * An encrypted Fastify route, registered in the plugin's scope:
 * `nen.post('/api/items/:id', withNenFastify(async (body, { request }) => ...))`. The request is
 * verified and decrypted before the handler runs; what it returns or throws is sealed for it.
 */
export function withNenFastify<TBody = unknown, TRequest extends FastifyRequestLike = FastifyRequestLike, TReply extends FastifyReplyLike = FastifyReplyLike>(
  handler: NenFastifyHandler<TBody, TRequest, TReply>,
  options?: NenNodeOptions,
): (request: TRequest, reply: TReply) => Promise<void> {
  const h = nenNodeHandler<TBody>((body, ctx) => {
    const { request, reply } = ownerOf(ctx.req)
    return handler(body, { request: request as TRequest, reply: reply as TReply, idempotencyKey: ctx.idempotencyKey })
  }, options)
  return async (request, reply) => {
    reply.hijack()
    await h(nodeView(request, reply), reply.raw)
  }
}

/** An encrypted SSE route for Fastify: see `withNenStreamNode`. */
export function withNenStreamFastify<TBody = unknown, TRequest extends FastifyRequestLike = FastifyRequestLike, TReply extends FastifyReplyLike = FastifyReplyLike>(
  handler: NenFastifyStreamHandler<TBody, TRequest, TReply>,
  options?: NenNodeStreamOptions,
): (request: TRequest, reply: TReply) => Promise<void> {
  const h = withNenStreamNode<TBody>((body, ctx) => {
    const { request, reply } = ownerOf(ctx.req)
    return handler(body, { request: request as TRequest, reply: reply as TReply, idempotencyKey: ctx.idempotencyKey, signal: ctx.signal })
  }, options)
  return async (request, reply) => {
    reply.hijack()
    await h(nodeView(request, reply), reply.raw)
  }
}
