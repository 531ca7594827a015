// The request target the Web adapters (web.ts, web-routes.ts) verify: the one the client sent,
// as far as the runtime lets a handler see it, and never one a rewrite has pointed at another
// handler.

import { env } from './env.js'
import { NenError } from './errors.js'

/** What the hook below records of a request when `node:http` starts it. */
interface RequestLine {
  /** `IncomingMessage.url` before anything ran: the request-target of the request line. */
  readonly target: string
  /** The IncomingMessage itself, for the path Next.js dispatched it on (`invokePath`). */
  readonly message: object
}

interface Hook {
  current(): RequestLine | undefined
}

// One hook per process, whatever the number of copies of this package a bundler made (Next.js
// may bundle it once per route).
const HOOK = Symbol.for('@withnen/server:request-line')

/**
 * Subscribes to `node:http`'s `http.server.request.start` diagnostics channel (published just
 * before the server emits 'request', for every node:http and node:https server in the process)
 * and binds the request line to the rest of that request's async context. Only through
 * `process.getBuiltinModule` (Node >= 20.16): a static `node:` import would break bundles for
 * edge runtimes, which have neither the channel nor the request line.
 */
function installHook(): Hook | null {
  const g = globalThis as Record<symbol, Hook | null | undefined> & { process?: { getBuiltinModule?: (id: string) => unknown } }
  const known = g[HOOK]
  if (known !== undefined) return known
  let hook: Hook | null = null
  try {
    const builtin = g.process?.getBuiltinModule
    if (typeof builtin === 'function') {
      const dc = builtin('node:diagnostics_channel') as { subscribe?(name: string, fn: (message: unknown) => void): void } | undefined
      const ah = builtin('node:async_hooks') as { AsyncLocalStorage?: new () => { enterWith(store: RequestLine): void; getStore(): RequestLine | undefined } } | undefined
      if (typeof dc?.subscribe === 'function' && typeof ah?.AsyncLocalStorage === 'function') {
        const als = new ah.AsyncLocalStorage()
        dc.subscribe('http.server.request.start', (message) => {
          const request = (message as { request?: { url?: unknown } } | null)?.request
          if (request && typeof request.url === 'string') als.enterWith({ target: request.url, message: request })
        })
        hook = { current: () => als.getStore() }
      }
    }
  } catch {
    hook = null
  }
  g[HOOK] = hook
  return hook
}

// At import: the earlier this runs, the more requests it sees (under Next.js, import
// @withnen/server from instrumentation.ts so it runs before the first request).
const hook = installHook()
let warned = false
let warnedNoInvokePath = false

/** Where Next.js keeps its per-request state on the IncomingMessage (next/dist/server/request-meta). */
const NEXT_META = Symbol.for('NextInternalRequestMeta')

/** The path Next.js invoked the route for, after its rewrites, basePath included; null if unknown. */
function nextInvokePath(message: object): string | null {
  const meta = (message as Record<symbol, unknown>)[NEXT_META]
  const path = meta && typeof meta === 'object' ? (meta as { invokePath?: unknown }).invokePath : undefined
  return typeof path === 'string' ? path : null
}

/** The values of each key, in order; the order of keys is free (Next.js groups repeated keys). */
function sameQuery(a: URLSearchParams, b: URLSearchParams): boolean {
  const group = (p: URLSearchParams) => {
    const m = new Map<string, string[]>()
    for (const [k, v] of p) {
      const l = m.get(k)
      if (l) l.push(v)
      else m.set(k, [v])
    }
    return m
  }
  const x = group(a)
  const y = group(b)
  if (x.size !== y.size) return false
  for (const [k, v] of x) {
    const w = y.get(k)
    if (!w || w.length !== v.length || v.some((s, i) => s !== w[i])) return false
  }
  return true
}

/**
 * The request target a Web adapter verifies the signature against (the engines take this
 * `path?query`, or an absolute URL, byte for byte):
 *
 * - **Under Next.js on Node** (`next start`, `next dev`, the standalone server): the
 *   request-target of the request line, exactly as the client sent it: the client signs the
 *   `pathname + search` it puts there. `request.url` is not that: Next.js resolves dot segments,
 *   strips the basePath, and re-serialises the query (`?next=a://b` becomes `?next=a%3A%2F%2Fb`,
 *   `?a` becomes `?a=`, empty pairs go), and after an internal rewrite (`proxy.ts`/middleware
 *   `NextResponse.rewrite`, `rewrites` in next.config) it still shows the path the client asked
 *   for while another route's handler runs. So the request line is read from `node:http` itself
 *   (a diagnostics-channel hook installed when this package is imported), and Next.js's
 *   `invokePath` (the path it ran the route for, after rewrites) must be that target's path
 *   (dot segments resolved, as routing does); its query must hold the same values as
 *   `request.url`'s, which is what the handler reads. If either differs, a rewrite made another
 *   handler run than the one the signed target names: the target returned is then the one Next.js
 *   dispatched on, which verifies only if the client signed that one (`ISO-3002` otherwise). A
 *   request that arrived before the hook was installed (no `instrumentation.ts` importing
 *   `@withnen/server`, first request of the process) is refused with `ISO-3002`: whether it was
 *   rewritten cannot be told. Headers such as `x-matched-path`, `x-invoke-path` or
 *   `x-middleware-rewrite` are never read: a client can send some of them, and Next.js passes
 *   some through.
 * - **Any other server on `node:http`** (`@hono/node-server`, a custom server building Web
 *   Requests): the request line too, when `request.url` has the same path (dot segments
 *   resolved) and query values; else `request.url`'s own target.
 * - **Generic Fetch runtimes** (Deno, Bun, Workers, edge runtimes, the Next.js Edge runtime, Node
 *   before 20.16, and Requests built in code): `request.url`, the URL the runtime parsed from the
 *   request line and its router dispatches on. It differs from the bytes sent only by WHATWG
 *   URL parsing (dot segments resolved, a few characters percent-encoded), which is what a
 *   client's URL already is, so honest requests verify and a re-spelled one reaches the same
 *   handler with the same parameters. Under the Next.js Edge runtime rewrites cannot be detected
 *   this way (see packages/server/README.md, "Which target is verified").
 */
export function signedTarget(req: Request): string {
  const line = hook?.current()
  const runtime = env('NEXT_RUNTIME')
  if (!line) {
    if (hook && runtime === 'nodejs') {
      if (!warned) {
        warned = true
        console.warn(
          '@withnen/server: a request reached a Nen route before the package was loaded, so its request line is unknown and it was refused (ISO-3002). Import @withnen/server from instrumentation.ts (see "Which target is verified" in its README).',
        )
      }
      throw new NenError('ISO-3002', { message: 'request line unavailable under Next.js' })
    }
    return req.url
  }
  // Absolute form (`POST http://host/path`) is refused, as by the Node adapters: its authority is
  // unsigned and routers disagree about where its path starts.
  if (!line.target.startsWith('/')) throw new NenError('ISO-6005')
  const seen = new URL(req.url)
  const invoked = nextInvokePath(line.message)
  // What the router dispatched on: Next.js's invoked path, else the Request's.
  const dispatchedPath = invoked ?? (runtime === undefined ? seen.pathname : null)
  if (dispatchedPath === null) {
    if (!warnedNoInvokePath) {
      warnedNoInvokePath = true
      console.warn(
        '@withnen/server: Next.js did not record which path it dispatched this request on (its request meta has no invokePath, as before Next.js 14.2.7), so a rewrite cannot be told apart and every signed request to an App Router route is refused (ISO-3002). Upgrade to Next.js 14.2.7 or later, or use Pages Router API routes (@withnen/server/node).',
      )
    }
    throw new NenError('ISO-3002', { message: 'Next.js did not say which path it dispatched on' })
  }
  const dispatched = dispatchedPath + seen.search
  let sent: URL
  try {
    sent = new URL(line.target, 'http://n')
  } catch {
    return dispatched
  }
  // The Request's path is the dispatched one, less the basePath under Next.js.
  const samePath = sent.pathname === dispatchedPath && (invoked === null ? seen.pathname === sent.pathname : sent.pathname.endsWith(seen.pathname))
  return samePath && sameQuery(sent.searchParams, seen.searchParams) ? line.target : dispatched
}
