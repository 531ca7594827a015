// Compiled (never run) by types.test.mjs against dist/*.d.ts: the public API as applications
// type it, including what Next.js demands of a route file's exports.

import {
  NenError,
  configureNen,
  createNen,
  nenResponse,
  nenRoute,
  setSessionStore,
  withNen,
  withNenStream,
  InMemorySessionStore,
  RedisSessionStore,
  UpstashSessionStore,
  type NenStoreAdapter,
} from '../../dist/index.js'
import { nenNodeHandler, nenNodeRoutes, withNenStreamNode } from '../../dist/node.js'
import { nenExpress, withNenExpress, withNenStreamExpress } from '../../dist/express.js'

// Next.js checks each export's second parameter: read as `any` when it is `unknown`, it must be
// assignable to the route context, so a typed context must not be optional.
type RouteContext = { params: Promise<{ id: string }> }
type SecondParam<F> = F extends (...args: [any, infer C]) => any ? (unknown extends C ? any : C) : never
type Holds<T extends true> = T
type Fits<A, B> = [A] extends [B] ? true : false

const plain = withNen(async () => ({ ok: true }))
const typed = withNen(async (req, body: { n: number }, { params }: RouteContext) => ({ id: (await params).id, n: body.n, url: req.url }))
const streamed = withNenStream(async function* (req, body: { prompt: string }) {
  yield body.prompt
  yield new Uint8Array([1])
})
export type Checks = [
  Holds<Fits<SecondParam<typeof plain>, RouteContext>>,
  Holds<Fits<SecondParam<typeof typed>, RouteContext>>,
  Holds<Fits<SecondParam<typeof streamed>, RouteContext>>,
  Holds<Fits<SecondParam<typeof nenRoute.GET>, RouteContext>>,
]
export const { GET, POST } = nenRoute

// Other Fetch-API runtimes call handlers with the request alone when the context is untyped.
void plain(new Request('http://x.test/'))
void typed(new Request('http://x.test/'), { params: Promise.resolve({ id: '1' }) })
// @ts-expect-error a typed context is required
void typed(new Request('http://x.test/'))

withNen(() => nenResponse({ a: 1 }, { status: 201, headers: { location: '/a' } }))
withNen(() => {
  throw new NenError('ISO-4003', { message: 'for the logs' })
})

const adapter: NenStoreAdapter = {
  load: async () => ({ entry: 'AAAA', retiredAt: null }),
  put: async () => {},
  delete: async () => {},
  retire: async () => 'rotated',
  recordNonce: async () => 'ok',
}
setSessionStore(adapter)
setSessionStore(InMemorySessionStore())
setSessionStore(RedisSessionStore({ nodes: ['redis://a:7000'], keyPrefix: 'x:' }))
setSessionStore(UpstashSessionStore({ url: 'https://u.test', token: 't' }))
configureNen({ modes: ['mlkem768'], streamPadding: 32, onError: (e, { phase }) => void [e, phase] })
const other = createNen({ maxBodyBytes: 4096, maxHandshakeBytes: 8192, maxClockSkewMs: 2000 })

// node:http and Express requests and responses fit structurally (no @types/node needed).
declare const req: {
  method?: string
  url?: string
  originalUrl: string
  path: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  on(e: string, l: (...a: any[]) => void): unknown
  removeListener(e: string, l: (...a: any[]) => void): unknown
  params: { id: string }
}
declare const res: {
  headersSent: boolean
  writeHead(s: number, h?: Record<string, string | string[]>): unknown
  write(c: string): boolean
  end(c?: string): unknown
  on(e: string, l: (...a: any[]) => void): unknown
  removeListener(e: string, l: (...a: any[]) => void): unknown
}
const routes = nenNodeRoutes({ nen: other })
const taken: boolean = routes(req, res)
void taken
void nenNodeHandler(async (body: { a: number }, ctx) => ({ a: body.a, url: ctx.req.url }))(req, res)
void withNenStreamNode(async function* (_body, { signal }) {
  if (!signal.aborted) yield 'x'
})(req, res)
nenExpress({ basePath: '' })(req, res, () => {})
withNenExpress((body, { req: r }) => ({ body, id: r.params.id }))(req, res, () => {})
withNenStreamExpress(() => new ReadableStream<string>())(req, res, () => {})
