// Where the time of an adapter path goes: runs one in-process path (the shapes of
// sections/adapters.mjs) under V8's sampling CPU profiler, Nen and its plain counterpart in turn,
// and prints CPU µs per operation with each one's self time by category (the @withnen/server JS,
// the addon's calls, JSON, undici, Node internals, GC) and its top functions. What Nen adds is the
// difference of the two columns. Native time inside an addon call is charged to that call.
//
//   node benchmark/profile.mjs [node|node-get|web|web-get|stream|seal]... [--out=DIR]
//
// All paths by default; --out writes each profile as a .cpuprofile (open in Chrome DevTools).
// For the time inside the addon by Rust symbol, run the same under perf (see README.md).

import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import path from 'node:path'
import { SMALL, SMALL_TEXT, checkAnswer, jsonOfSize, signRequests } from './lib/inputs.mjs'
import { nenOn, server, serverNode, sessionOn } from './lib/server-pkg.mjs'
import { MockReq, MockRes, call, drain, plainGet, plainNode, plainPost, plainStream, tokens, webRequest } from './lib/shapes.mjs'

const JSON_1K = jsonOfSize(1024)
/** Untimed warm-up operations; a path signs count + WARM + 1 requests (the last one checks the answer). */
const WARM = 2000
const args = process.argv.slice(2)
const out = args.find((a) => a.startsWith('--out='))?.slice(6)
// V8 names every addon method after the last class napi-rs defined (`NenStream`), so addon calls
// are told apart by that name and by their empty url.
const ADDON_CALLS = new Set([
  'NenStream',
  'NenServer',
  'OpenedRequest',
  'openSync',
  'open',
  'seal',
  'sealHead',
  'sealError',
  'stream',
  'chunk',
  'finish',
  'fail',
  'handshakeSync',
  'get body',
  'get method',
  'get sid',
  'get timestamp',
  'get idempotencyKey',
  'get headers',
  'get finished',
  'body',
  'method',
  'idempotencyKey',
])

/** The category of a profile node's own time. */
function category({ functionName: f, url }) {
  if (f === '(garbage collector)') return 'GC'
  if (f === '(program)' || f === '(root)') return 'V8 runtime (program)'
  if (f === '(idle)') return 'idle'
  if (url.includes('/packages/server/dist/')) return '@withnen/server (JS)'
  if (url.endsWith('/nen.js')) return 'nen.js (the addon entry: error re-classing)'
  if (url.includes('/benchmark/')) return 'harness (mocks, handler)'
  if (url.includes('undici')) return 'undici (Request, Response, Headers)'
  if (url.startsWith('node:')) return 'Node internals (events, streams, timers)'
  if (url === '' && ADDON_CALLS.has(f)) return 'addon calls (Rust + N-API)'
  if (url === '' && (f === 'parse' || f === 'stringify')) return 'JSON.parse / stringify'
  if (url === '') return 'V8 builtins'
  return 'other JS'
}

/** Runs `op` `n` times (awaiting each) under the profiler: CPU µs per op and the profile. */
async function profiled(session, n, op, warm = WARM) {
  for (let i = 0; i < warm; i++) await op(n + i) // warm the JIT, untimed, on inputs of its own
  await session.post('Profiler.start')
  const t = process.cpuUsage()
  for (let i = 0; i < n; i++) await op(i)
  const u = process.cpuUsage(t)
  const { profile } = await session.post('Profiler.stop')
  return { us: (u.user + u.system) / n, profile }
}

/**
 * Self time per category and per function, in CPU µs per op. The profiler samples wall time, so
 * the shares are scaled to the op's measured CPU time (on a busy machine wall time runs ahead).
 */
function breakdown(profile, n, cpuUs) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0))
  }
  const cats = new Map()
  const fns = new Map()
  let busy = 0
  for (const [id, t] of self) if (category(byId.get(id).callFrame) !== 'idle') busy += t
  const scale = busy > 0 ? (cpuUs * n) / busy : 0
  for (const [id, wall] of self) {
    const t = wall * scale
    const { callFrame } = byId.get(id)
    const c = category(callFrame)
    if (c === 'idle') continue
    cats.set(c, (cats.get(c) ?? 0) + t / n)
    const key = `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? path.basename(callFrame.url) : ''}:${callFrame.lineNumber + 1}`
    fns.set(key, (fns.get(key) ?? 0) + t / n)
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1])
  return { cats: sorted(cats), fns: sorted(fns).slice(0, 12) }
}

function print(name, nenCase, plainCase, n) {
  const a = breakdown(nenCase.profile, n, nenCase.us)
  const b = breakdown(plainCase.profile, n, plainCase.us)
  console.log(`\n## ${name}: Nen ${nenCase.us.toFixed(1)} µs CPU/op, plain ${plainCase.us.toFixed(1)} µs (Nen adds ${(nenCase.us - plainCase.us).toFixed(1)} µs)\n`)
  console.log('| self time by category | Nen µs/op | plain µs/op |\n|---|---:|---:|')
  const names = new Set([...a.cats.map(([c]) => c), ...b.cats.map(([c]) => c)])
  const get = (list, c) => list.find(([k]) => k === c)?.[1] ?? 0
  for (const c of names) console.log(`| ${c} | ${get(a.cats, c).toFixed(2)} | ${get(b.cats, c).toFixed(2)} |`)
  console.log('\n| top functions of the Nen run (self) | µs/op |\n|---|---:|')
  for (const [f, t] of a.fns) console.log(`| \`${f}\` | ${t.toFixed(2)} |`)
  if (out) {
    writeFileSync(path.join(out, `${name}.nen.cpuprofile`), JSON.stringify(nenCase.profile))
    writeFileSync(path.join(out, `${name}.plain.cpuprofile`), JSON.stringify(plainCase.profile))
  }
}

const n = await nenOn('native')
const session = await sessionOn(n)
const inspector = new Session()
inspector.connect()
await inspector.post('Profiler.enable')
await inspector.post('Profiler.setSamplingInterval', { interval: 50 })

const PATHS = {
  // nenNodeHandler on mock req/res (the body arrives as one 'data' event), POST 1 KiB echo.
  node: async (count) => {
    const handler = serverNode.nenNodeHandler(async (body) => body, { nen: n })
    const mock = (r) => new MockReq('POST', '/api/echo', { ...r.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(r.body)) }, r.body)
    const reqs = signRequests(session, count + WARM + 1, 'POST', '/api/echo', JSON_1K)
    const res = new MockRes()
    await handler(mock(reqs[count + WARM]), res)
    checkAnswer(session, reqs[count + WARM].signed, res.statusCode, res.body, JSON_1K, 'nenNodeHandler')
    const nenCase = await profiled(inspector, count, (i) => handler(mock(reqs[i]), new MockRes()))
    const plainCase = await profiled(inspector, count, () => plainNode(mock({ headers: {}, body: JSON_1K }), new MockRes()))
    return [nenCase, plainCase]
  },
  'node-get': async (count) => {
    const handler = serverNode.nenNodeHandler(async () => SMALL, { nen: n })
    const reqs = signRequests(session, count + WARM + 1, 'GET', '/api/echo')
    const mock = (r) => new MockReq('GET', '/api/echo', r.headers, undefined)
    const plain = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(SMALL))
    }
    const nenCase = await profiled(inspector, count, (i) => handler(mock(reqs[i]), new MockRes()))
    const plainCase = await profiled(inspector, count, () => plain(mock({ headers: {} }), new MockRes()))
    return [nenCase, plainCase]
  },
  // withNen on a Web Request built as an adapter builds it, answer read, POST 1 KiB echo.
  web: async (count) => {
    const route = server.withNen(async (_req, body) => body, { nen: n })
    const reqs = signRequests(session, count + WARM + 1, 'POST', '/api/echo', JSON_1K)
    checkAnswer(session, reqs[count + WARM].signed, 200, await call(route, webRequest('POST', '/api/echo', reqs[count + WARM].headers, reqs[count + WARM].body)), JSON_1K, 'withNen')
    const nenCase = await profiled(inspector, count, (i) => call(route, webRequest('POST', '/api/echo', reqs[i].headers, reqs[i].body)))
    const plainCase = await profiled(inspector, count, () => call(plainPost, webRequest('POST', '/api/echo', {}, JSON_1K)))
    return [nenCase, plainCase]
  },
  'web-get': async (count) => {
    const route = server.withNen(async () => SMALL, { nen: n })
    const reqs = signRequests(session, count + WARM + 1, 'GET', '/api/echo')
    checkAnswer(session, reqs[count + WARM].signed, 200, await call(route, webRequest('GET', '/api/echo', reqs[count + WARM].headers)), SMALL_TEXT, 'withNen GET')
    const nenCase = await profiled(inspector, count, (i) => call(route, webRequest('GET', '/api/echo', reqs[i].headers)))
    const plainCase = await profiled(inspector, count, () => call(plainGet, webRequest('GET', '/api/echo', {})))
    return [nenCase, plainCase]
  },
  // withNenStream, 1000 × 16-byte tokens per response: µs per response (÷ 1000 per chunk).
  stream: async (count) => {
    const route = server.withNenStream(tokens, { nen: n })
    const k = Math.max(4, Math.ceil(count / 400))
    const reqs = signRequests(session, 2 * k, 'POST', '/api/chat', '{"prompt":"hi"}')
    const nenCase = await profiled(inspector, k, (i) => route(webRequest('POST', '/api/chat', reqs[i].headers, reqs[i].body)).then(drain), k)
    const plainCase = await profiled(inspector, k, () => drain(plainStream()), k)
    return [nenCase, plainCase, k]
  },
  // The addon alone: openSync + JSON.parse + JSON.stringify + seal, 1 KiB.
  seal: async (count) => {
    const engine = await n.engine()
    const reqs = signRequests(session, count + WARM + 1, 'POST', '/api/echo', JSON_1K)
    const nenCase = await profiled(inspector, count, async (i) => {
      const o = await engine.open(reqs[i])
      engine.seal(o, JSON.stringify(JSON.parse(o.body)), 200)
    })
    const plainCase = await profiled(inspector, count, () => JSON.stringify(JSON.parse(JSON_1K)))
    return [nenCase, plainCase]
  },
}

const chosen = args.filter((a) => !a.startsWith('--'))
const COUNT = 10_000
for (const name of chosen.length ? chosen : Object.keys(PATHS)) {
  if (!PATHS[name]) throw new Error(`unknown path ${name}; one of ${Object.keys(PATHS).join(', ')}`)
  const [nenCase, plainCase, k = COUNT] = await PATHS[name](COUNT)
  print(name, nenCase, plainCase, k)
}
inspector.disconnect()
