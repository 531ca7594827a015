// In process, through @withnen/server (packages/server/dist), each against the same handler
// shape without encryption, and against the WASM engine (the same nen-core compiled to
// WebAssembly: the earlier product's architecture):
//   e. Web Request handlers: withNen POST 1 KiB echo and GET, against a plain Web echo handler
//   f. openSync + JSON echo + seal, 1 KiB, against JSON.parse + JSON.stringify
//   g. the node:http adapter (nenNodeHandler) POST 1 KiB on mock req/res, against a plain handler
//   h. streams: 1000 × 16-byte tokens through withNenStream, against the same ReadableStream shape

import { section } from '../lib/child.mjs'
import { scale } from '../lib/config.mjs'
import { bench, compare, noteLoad } from '../lib/inproc.mjs'
import { SMALL, SMALL_TEXT, checkAnswer, clientSession, jsonOfSize, nen, signRequests } from '../lib/inputs.mjs'
import { nenOn, server, serverNode, sessionOn } from '../lib/server-pkg.mjs'
import { MockReq, MockRes, TOKEN, TOKENS, call, drain, plainGet, plainNode, plainPost, plainStream, tokens, webRequest } from '../lib/shapes.mjs'

const JSON_1K = jsonOfSize(1024)

async function webHandlers(rows, engines) {
  console.log('\ne. Web Request handlers in process (Request built, handler called, answer read)')
  const nenCases = []
  for (const [engine, n] of engines) {
    const session = await sessionOn(n)
    const post = server.withNen(async (_req, body) => body, { nen: n })
    const get = server.withNen(async () => SMALL, { nen: n })
    // Valid before timed: the client opens both answers to the expected JSON.
    const [p] = signRequests(session, 1, 'POST', '/api/echo', JSON_1K)
    checkAnswer(session, p.signed, 200, await call(post, webRequest('POST', '/api/echo', p.headers, p.body)), JSON_1K, `withNen POST (${engine})`)
    const [g] = signRequests(session, 1, 'GET', '/api/echo')
    checkAnswer(session, g.signed, 200, await call(get, webRequest('GET', '/api/echo', g.headers)), SMALL_TEXT, `withNen GET (${engine})`)
    nenCases.push({ engine, session, post, get })
  }
  if ((await call(plainPost, webRequest('POST', '/api/echo', {}, JSON_1K))) !== JSON_1K) throw new Error('plain Web echo answered other JSON')
  const iterations = scale(1_500)
  for (const method of ['POST', 'GET']) {
    const body = method === 'POST' ? JSON_1K : undefined
    const results = await compare([
      bench(`${method}: plain Web handler`, (_, i) => call(method === 'POST' ? plainPost : plainGet, webRequest(method, '/api/echo', {}, body)), { iterations, concurrency: 1 }),
      ...nenCases.map((c) =>
        bench(`${method}: withNen (${c.engine} engine)`, (reqs, i) => call(method === 'POST' ? c.post : c.get, webRequest(method, '/api/echo', reqs[i].headers, reqs[i].body)), {
          iterations,
          concurrency: 1,
          setup: (k) => signRequests(c.session, k, method, '/api/echo', body),
        }),
      ),
    ])
    noteLoad(results)
    rows.push({ id: `web.${method.toLowerCase()}.plain`, ...results[0] })
    for (const [k, c] of nenCases.entries()) rows.push({ id: `web.${method.toLowerCase()}.${c.engine}`, ...results[k + 1] })
  }
}

async function openSealJson(rows) {
  console.log('\nf. openSync + JSON echo + seal, 1 KiB, on the addon')
  const s = new nen.NenServer()
  const session = clientSession((body) => s.handshakeSync(body).body)
  const [check] = signRequests(session, 1, 'POST', '/api/echo', JSON_1K)
  const o = s.openSync(check)
  checkAnswer(session, check.signed, 200, s.seal(o, JSON.stringify(JSON.parse(o.body)), 200), JSON_1K, 'openSync + seal')
  const iterations = scale(10_000)
  const results = await compare([
    bench('JSON.parse + JSON.stringify', () => JSON.stringify(JSON.parse(JSON_1K)), { iterations }),
    bench(
      'openSync + JSON.parse + JSON.stringify + seal',
      (reqs, i) => {
        const opened = s.openSync(reqs[i])
        s.seal(opened, JSON.stringify(JSON.parse(opened.body)), 200)
      },
      { iterations, setup: (k) => signRequests(session, k, 'POST', '/api/echo', JSON_1K) },
    ),
  ])
  noteLoad(results)
  rows.push({ id: 'opensync.plain', ...results[0] }, { id: 'opensync.nen', ...results[1] })
}

async function nodeAdapter(rows, n) {
  console.log('\ng. node:http adapter, POST 1 KiB echo, mock req/res')
  const session = await sessionOn(n)
  const handler = serverNode.nenNodeHandler(async (body) => body, { nen: n })
  const mock = (r) => new MockReq('POST', '/api/echo', { ...r.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(r.body)) }, r.body)
  const [check] = signRequests(session, 1, 'POST', '/api/echo', JSON_1K)
  const res = new MockRes()
  await handler(mock(check), res)
  checkAnswer(session, check.signed, res.statusCode, res.body, JSON_1K, 'nenNodeHandler')
  const iterations = scale(10_000)
  const results = await compare([
    bench('plain node handler (mock req/res)', () => plainNode(mock({ headers: {}, body: JSON_1K }), new MockRes()), { iterations, concurrency: 1 }),
    bench('nenNodeHandler (mock req/res)', (reqs, i) => handler(mock(reqs[i]), new MockRes()), {
      iterations,
      concurrency: 1,
      setup: (k) => signRequests(session, k, 'POST', '/api/echo', JSON_1K),
    }),
  ])
  noteLoad(results)
  rows.push({ id: 'node.mock.plain', ...results[0] }, { id: 'node.mock.nen', ...results[1] })
}

async function streams(rows, engines) {
  console.log(`\nh. Streams: ${TOKENS} × 16-byte tokens per response, read to the end (rate: chunks/s)`)
  const cases = [bench('plain ReadableStream, same shape', async () => drain(plainStream()), { iterations: scale(40), concurrency: 1, unit: TOKENS })]
  for (const [engine, n] of engines) {
    const session = await sessionOn(n)
    const route = server.withNenStream(tokens, { nen: n })
    const [check] = signRequests(session, 1, 'POST', '/api/chat', '{"prompt":"hi"}')
    const res = await route(webRequest('POST', '/api/chat', check.headers, check.body))
    const reader = session.openStream(check.signed, res.headers.get('x-nen-stream-nonce'))
    const got = reader.push(new Uint8Array(await res.arrayBuffer()))
    reader.finish()
    if (got.length !== TOKENS || got.some((t) => t !== TOKEN)) throw new Error(`withNenStream (${engine}) did not open to the tokens sent`)
    cases.push(
      bench(`withNenStream (${engine} engine)`, (reqs, i) => route(webRequest('POST', '/api/chat', reqs[i].headers, reqs[i].body)).then(drain), {
        iterations: scale(40),
        concurrency: 1,
        unit: TOKENS,
        setup: (k) => signRequests(session, k, 'POST', '/api/chat', '{"prompt":"hi"}'),
      }),
    )
  }
  const results = await compare(cases)
  noteLoad(results)
  rows.push({ id: 'stream.plain', ...results[0] })
  for (const [k, [engine]] of engines.entries()) rows.push({ id: `stream.${engine}`, ...results[k + 1] })
}

export async function run() {
  const engines = [
    ['native', await nenOn('native')],
    ['wasm', await nenOn('wasm')],
  ]
  const rows = []
  await webHandlers(rows, engines)
  await openSealJson(rows)
  await nodeAdapter(rows, engines[0][1])
  await streams(rows, engines)
  return rows
}

section(run)
