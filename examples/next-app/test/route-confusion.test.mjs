// Route confusion against the real example under `next start`, over real HTTP. A copy of the
// example gets the routes in test/fixtures/route-confusion (a static sibling of
// app/api/items/[id], an admin route, a route reading its query, rewrites in proxy.ts, and
// per-handler counters) and rewrites in next.config.ts, and is built twice: as it is, and with
// `basePath: '/base'` and `trailingSlash: true`. The real @withnen/client signs each request; a
// hop holding no key (`hop` below) re-sends those exact signed headers and body to other targets
// or with another method, over a raw socket so it can put any bytes on the request line. Each
// variant must be refused with its exact status and code, and no handler may run for it (the
// counters do not move); the hop then forwards the original, which must run the intended
// handler exactly once.

import test, { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { packLocal } from '../scripts/pack-local.mjs'
import { freePort, run, startServer } from './support/harness.mjs'
import { HEADER_CASES, assertRefused, printSummary, rawSession, runCases, signReq, wire } from '../../../packages/server/test/support/adversarial.mjs'

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const fixtures = path.join(app, 'test/fixtures/route-confusion')
const skip = process.platform !== 'linux' || process.arch !== 'x64' ? 'the local addon build is linux-x64 only' : false

// The two builds of one copy (next.config.ts picks the variant from NEN_RC_VARIANT at build and
// start; each has its own distDir).
const VARIANTS = {
  plain: { distDir: '.next', prefix: '', slash: '' },
  base: { distDir: '.next-base', prefix: '/base', slash: '/' },
}

// Spliced into the copy's next.config.ts: rewrites in the config (always internal), and the
// second build's options.
const CONFIG_ADDITIONS = `  async rewrites() {
    return {
      beforeFiles: [
        { source: '/cfg/items', destination: '/api/items' },
        { source: '/api/orders', has: [{ type: 'header', key: 'x-orders-route', value: 'admin' }], destination: '/api/admin/delete-all' },
      ],
    }
  },
  ...(process.env.NEN_RC_VARIANT === 'base' ? { basePath: '/base', trailingSlash: true, distDir: '${VARIANTS.base.distDir}' } : {}),
`

let work
let client // the @withnen/client module the copy installed
const servers = {}
const cleanups = []

before(async () => {
  if (skip) return
  const t0 = Date.now()
  packLocal()
  work = mkdtempSync(path.join(tmpdir(), 'nen-route-confusion-'))
  cleanups.push(() => rmSync(work, { recursive: true, force: true }))
  const skipTop = new Set(['node_modules', '.next', '.local', 'test', 'scripts'])
  cpSync(app, work, { recursive: true, filter: (src) => !skipTop.has(path.relative(app, src).split(path.sep)[0]) })
  // The packed packages, from their tarballs (pack-local replaces each one atomically, so a test
  // packing at the same time cannot hand a half-written one): the example's file:.local/<name>
  // dependencies become file:tarballs/<name>.tgz.
  mkdirSync(path.join(work, 'tarballs'))
  const manifestFile = path.join(work, 'package.json')
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'))
  for (const [dep, spec] of Object.entries(manifest.dependencies)) {
    const local = /^file:\.local\/(.+)$/.exec(spec)
    if (!local) continue
    copyFileSync(path.join(app, '.local/tarballs', `${local[1]}.tgz`), path.join(work, 'tarballs', `${local[1]}.tgz`))
    manifest.dependencies[dep] = `file:tarballs/${local[1]}.tgz`
  }
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n')
  // The example's own lib/items.ts stays, as items-store.ts; the fixture's lib/items.ts counts it.
  renameSync(path.join(work, 'lib/items.ts'), path.join(work, 'lib/items-store.ts'))
  cpSync(fixtures, work, { recursive: true, filter: (src) => src !== path.join(fixtures, 'README.md') })
  const config = path.join(work, 'next.config.ts')
  const anchor = 'const nextConfig: NextConfig = {\n'
  const source = readFileSync(config, 'utf8')
  assert.ok(source.includes(anchor), 'next.config.ts declares `const nextConfig: NextConfig = {`')
  writeFileSync(config, source.replace(anchor, anchor + CONFIG_ADDITIONS))
  // As scripts/install-local.sh: the lock file must not pin the @withnen packages' manifests.
  const lockFile = path.join(work, 'package-lock.json')
  const lock = JSON.parse(readFileSync(lockFile, 'utf8'))
  for (const k of Object.keys(lock.packages ?? {})) if (k.startsWith('node_modules/@withnen/')) delete lock.packages[k]
  writeFileSync(lockFile, JSON.stringify(lock, null, 2) + '\n')
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: work, timeoutMs: 180_000 })
  const next = path.join(work, 'node_modules/next/dist/bin/next')
  for (const name of Object.keys(VARIANTS)) await run(process.execPath, [next, 'build'], { cwd: work, timeoutMs: 240_000, extraEnv: { NEN_RC_VARIANT: name } })
  client = await import(pathToFileURL(path.join(work, 'node_modules/@withnen/client/dist/index.mjs')).href)
  await Promise.all(Object.keys(VARIANTS).map((name) => start(name)))
  console.error(`# route-confusion: copy, install, two builds and two servers in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
})

after(async () => {
  for (const s of Object.values(servers)) await s.stop()
  for (const c of cleanups.reverse()) await c()
})

/**
 * Starts (or restarts, on the same port) the server of one build, on `localhost`: Next.js
 * rewrites internally only to its own origin, and request.url (hence a rewrite's destination)
 * always says localhost; on another host name every rewrite becomes a proxy over HTTP to itself.
 */
async function start(name, port) {
  const v = VARIANTS[name]
  port ??= await freePort()
  const server = await startServer([path.join(work, 'node_modules/next/dist/bin/next'), 'start', '-H', 'localhost', '-p', String(port)], {
    cwd: work,
    port,
    host: 'localhost',
    readyPath: v.prefix + v.slash,
    extraEnv: { NEN_RC_VARIANT: name, NEN_EXAMPLE_TEST_HOOKS: '1' },
  })
  servers[name] = Object.assign(server, { name, port, ...v })
  return servers[name]
}

// ---------------------------------------------------------------------------------------------
// The hop: raw HTTP/1.1 on a socket, any bytes on the request line.

/** Sends one request; resolves to {status, headers (lower-case), body}. */
function send(origin, { method, target, headers = {}, body }) {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    const chunks = []
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', reject)
    socket.on('end', () => {
      try {
        resolve(parse(Buffer.concat(chunks), method))
      } catch (e) {
        reject(e)
      }
    })
    const payload = body === undefined || body === null ? Buffer.alloc(0) : Buffer.from(body)
    const lines = [`${method} ${target} HTTP/1.1`, `host: ${hostname}:${port}`, 'connection: close']
    for (const [k, v] of Object.entries(headers)) if (!['host', 'connection', 'content-length'].includes(k.toLowerCase())) lines.push(`${k}: ${v}`)
    if (payload.length > 0) lines.push(`content-length: ${payload.length}`)
    socket.write(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]))
  })
}

function parse(raw, method) {
  const end = raw.indexOf('\r\n\r\n')
  assert.ok(end > 0, `an HTTP response: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`)
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n')
  const headers = {}
  for (const l of lines) {
    const i = l.indexOf(':')
    const k = l.slice(0, i).trim().toLowerCase()
    const v = l.slice(i + 1).trim()
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v
  }
  let body = raw.subarray(end + 4)
  if (method === 'HEAD') body = Buffer.alloc(0)
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const out = []
    for (let at = 0; ; ) {
      const eol = body.indexOf('\r\n', at)
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16)
      if (!size) break
      out.push(body.subarray(eol + 2, eol + 2 + size))
      at = eol + 2 + size + 2
    }
    body = Buffer.concat(out)
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') }
}

/**
 * A fetch for @withnen/client that sends through the hop. `plan`, when set, takes the next signed
 * request ({method, target, headers, body} as the client signed and would send it) and returns
 * what to forward (that request, or another); `slashHandshake` adds the trailing slash a
 * `trailingSlash: true` app redirects to (the handshake is not signed).
 */
function hop(server, { slashHandshake = false } = {}) {
  const h = { plan: null }
  h.fetch = async (url, init = {}) => {
    const origin = new URL(url).origin
    let req = { method: init.method ?? 'GET', target: String(url).slice(origin.length), headers: { ...init.headers }, body: init.body }
    if (!('x-nen-signature' in req.headers)) {
      if (slashHandshake && !req.target.endsWith('/')) req.target += '/'
    } else if (h.plan) {
      const plan = h.plan
      h.plan = null
      req = await plan(req)
    }
    const r = await send(server.url, req)
    const empty = req.method === 'HEAD' || [204, 205, 304].includes(r.status)
    return new Response(empty ? null : r.body, { status: r.status, headers: Object.entries(r.headers) })
  }
  return h
}

async function counters(server) {
  const res = await fetch(`${server.url}${server.prefix}/api/test/counters${server.slash}`)
  assert.equal(res.status, 200, 'the counters route answers (NEN_EXAMPLE_TEST_HOOKS=1)')
  return res.json()
}

/** The handlers whose counters moved between two snapshots. */
function ran(before, after) {
  const out = {}
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0)
  return out
}

/** A refusal as the hop saw it: [status, Nen code or null] (x-nen-error carries it on HEAD too). */
const verdict = (r) => [r.status, r.headers['x-nen-error'] ?? null]

const R3002 = [401, 'ISO-3002']
const REDIRECT = [308, null]
const NOT_FOUND = [404, null]

/**
 * Has `nen(path, init)` sign a request; the hop re-sends it as each variant ([name, mutate,
 * expected verdict]) and checks that no handler ran, then forwards the original, which must run
 * `intended` once. Returns the client's response to the original.
 */
async function confuse(server, nen, h, { path: p, init = {}, variants, intended }) {
  const before = await counters(server)
  const seen = []
  let mid
  h.plan = async (signed) => {
    for (const [name, mutate, expected] of variants) {
      const sent = mutate({ ...signed, headers: { ...signed.headers } })
      seen.push({ name, sent: `${sent.method} ${sent.target}`, expected, got: verdict(await send(server.url, sent)) })
    }
    mid = await counters(server)
    return signed
  }
  // A variant that got through spends the request (ISO-5001 for the original): report it first.
  const res = await nen(p, init).catch((e) => e)
  const after = await counters(server)
  assert.ok(mid, 'the hop saw the signed request')
  assert.deepEqual(
    seen.filter((s) => JSON.stringify(s.got) !== JSON.stringify(s.expected)),
    [],
    'each variant is refused with its exact status and code',
  )
  assert.deepEqual(ran(before, mid), {}, `no handler ran for any variant of ${init.method ?? 'GET'} ${p}`)
  if (res instanceof Error) throw res
  assert.deepEqual(ran(mid, after), { [intended]: 1 }, `the original ran ${intended} once`)
  return res
}

const at = (target) => (r) => ({ ...r, target })
const as =
  (method, extra = {}) =>
  (r) => ({ ...r, method, headers: { ...r.headers, ...extra }, body: ['GET', 'HEAD'].includes(method) ? undefined : r.body })
const withHeaders = (extra) => (r) => ({ ...r, headers: { ...r.headers, ...extra } })

/** A client for one server, through its own hop; a first request runs the handshake. */
async function clientFor(server) {
  const h = hop(server, { slashHandshake: server.slash === '/' })
  const nen = client.createNenFetch(server.url, { fetch: h.fetch, basePath: `${server.prefix}/api/nen` })
  return { h, nen }
}

async function rejectsWith(promise, code) {
  const e = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e) => e,
  )
  assert.equal(e?.code, code, String(e?.stack ?? e))
}

// ---------------------------------------------------------------------------------------------

test('plain build: static and dynamic siblings, dot segments, `;`, case, slashes', { skip, timeout: 60_000 }, async () => {
  const s = servers.plain
  const { h, nen } = await clientFor(s)
  const created = await (await nen('/api/items', { method: 'POST', body: { name: 'done one' } })).json()
  await nen(`/api/items/${created.id}`, { method: 'PATCH', body: { done: true } })

  // Signed for the static route: every re-spelling Next.js routes to [id], and every one it
  // routes back to the static route, is refused.
  const purged = await confuse(s, nen, h, {
    path: '/api/items/purge-completed',
    init: { method: 'DELETE' },
    intended: 'items/purge-completed.DELETE',
    variants: [
      ['percent-encoded unreserved byte (→ [id])', at('/api/items/%70urge-completed'), R3002],
      ['percent-encoded, later byte (→ [id])', at('/api/items/purge-complet%65d'), R3002],
      ['changed case (→ [id])', at('/api/items/Purge-Completed'), R3002],
      ['`;` parameter (→ [id])', at('/api/items/purge-completed;x=1'), R3002],
      ['`;` parameter in a middle segment', at('/api/items;x/purge-completed'), NOT_FOUND],
      ['dot segment', at('/api/items/./purge-completed'), R3002],
      ['encoded dot segment', at('/api/items/%2e/purge-completed'), R3002],
      ['dot-dot segment', at('/api/items/x/../purge-completed'), R3002],
      ['empty query', at('/api/items/purge-completed?'), R3002],
      ['added query', at('/api/items/purge-completed?id=1'), R3002],
      ['double slash', at('/api/items//purge-completed'), REDIRECT],
      ['leading double slash', at('//api/items/purge-completed'), REDIRECT],
      ['backslash', at('/api/items\\purge-completed'), REDIRECT],
      ['trailing slash', at('/api/items/purge-completed/'), REDIRECT],
      ['absolute form', at(`http://localhost:${s.port}/api/items/purge-completed`), REDIRECT],
      ['fragment', at('/api/items/purge-completed#x'), [400, 'ISO-6005']],
      ['another method, with an override header', as('POST', { 'x-http-method-override': 'DELETE' }), [405, null]],
    ],
  })
  assert.deepEqual(await purged.json(), { purged: 1 })

  // Signed for [id] (the id `purge-completed`, spelled %70urge-completed): the static route and
  // other spellings of the id are refused.
  const missing = await confuse(s, nen, h, {
    path: '/api/items/%70urge-completed',
    init: { method: 'DELETE' },
    intended: 'items/[id].DELETE',
    variants: [
      ['decoded (→ the static route)', at('/api/items/purge-completed'), R3002],
      ['other case of the escape', at('/api/items/%70urge-complete%64'), R3002],
      ['double-encoded', at('/api/items/%2570urge-completed'), R3002],
    ],
  })
  assert.equal(missing.status, 404, 'sealed: no item has that id')
})

test('plain build: `://`, dot segments and rewrites towards another route; HEAD for GET; method override', { skip, timeout: 60_000 }, async () => {
  const s = servers.plain
  const { h, nen } = await clientFor(s)
  const created = await confuse(s, nen, h, {
    path: '/api/items',
    init: { method: 'POST', body: { name: 'kept' } },
    intended: 'items.POST',
    variants: [
      ['`://` in the query, naming the signed path', at('/api/admin/delete-all?x=a://b/api/items'), R3002],
      ['the signed path in the query', at('/api/admin/delete-all?next=/api/items'), R3002],
      ['another route', at('/api/admin/delete-all'), R3002],
      ['dot-dot segment to another route', at('/api/items/../admin/delete-all'), R3002],
      ['encoded dot-dot segment to another route', at('/api/items/.%2e/admin/delete-all'), R3002],
      ['absolute form naming the signed path', at(`http://localhost:${s.port}/api/items`), REDIRECT],
      ['absolute form naming another route', at(`http://localhost:${s.port}/api/admin/delete-all`), REDIRECT],
      ['a rewrite to another route (proxy.ts)', at('/old/admin'), R3002],
      ['another method (GET lists)', as('GET'), R3002],
      ['a method the route lacks', as('PUT'), [405, null]],
    ],
  })
  assert.equal(created.status, 201)
  const { id } = await created.json()

  await confuse(s, nen, h, {
    path: `/api/items/${id}`,
    init: { method: 'PATCH', body: { done: true } },
    intended: 'items/[id].PUT|PATCH',
    variants: [
      ['PUT with x-http-method-override: PATCH', as('PUT', { 'x-http-method-override': 'PATCH' }), R3002],
      ['POST with x-http-method-override: PATCH', as('POST', { 'x-http-method-override': 'PATCH', 'x-method-override': 'PATCH' }), [405, null]],
      ['DELETE', as('DELETE'), R3002],
    ],
  })
  await confuse(s, nen, h, {
    path: `/api/items/${id}`,
    intended: 'items/[id].GET|HEAD',
    variants: [
      ['HEAD for GET', as('HEAD'), R3002],
      ['POST for GET', as('POST'), [405, null]],
    ],
  })
  const list = await confuse(s, nen, h, {
    path: '/api/items',
    intended: 'items.GET',
    variants: [['HEAD for GET (Next.js answers HEAD with GET)', as('HEAD'), R3002]],
  })
  assert.ok((await list.json()).items.some((i) => i.id === id))
})

test('plain build: queries — reordered, duplicated, case, `;`, 1000 empty pairs, re-encoded', { skip, timeout: 60_000 }, async () => {
  const s = servers.plain
  const { h, nen } = await clientFor(s)
  const res = await confuse(s, nen, h, {
    path: '/api/orders?a=1&b=2',
    intended: 'orders.GET',
    variants: [
      ['reordered keys', at('/api/orders?b=2&a=1'), R3002],
      ['duplicated key', at('/api/orders?a=1&b=2&a=1'), R3002],
      ['duplicated pair in place', at('/api/orders?a=1&a=1&b=2'), R3002],
      ['changed case of a key', at('/api/orders?A=1&b=2'), R3002],
      ['percent-encoded key', at('/api/orders?%61=1&b=2'), R3002],
      ['percent-encoded value', at('/api/orders?a=%31&b=2'), R3002],
      ['`;` separator', at('/api/orders?a=1;b=2'), R3002],
      ['1000 empty pairs after', at('/api/orders?a=1&b=2' + '&'.repeat(1000)), R3002],
      ['1000 empty pairs before', at('/api/orders?' + '&'.repeat(1000) + 'a=1&b=2'), R3002],
      ['a trailing `&`', at('/api/orders?a=1&b=2&'), R3002],
      ['an added `://` pair', at('/api/orders?a=1&b=2&next=a://b'), R3002],
      ['POST for GET', as('POST'), R3002],
      ['HEAD for GET', as('HEAD'), R3002],
      ['trailing slash', at('/api/orders/?a=1&b=2'), REDIRECT],
      ['changed case of the path', at('/api/Orders?a=1&b=2'), NOT_FOUND],
    ],
  })
  assert.deepEqual(await res.json(), {
    query: [
      ['a', '1'],
      ['b', '2'],
    ],
  })

  // `://` in a value: the request line keeps it, Next.js's request.url re-encodes it; the signed
  // bytes are verified, and Next.js's own spelling of them is refused.
  const next = await confuse(s, nen, h, {
    path: '/api/orders?next=https://example.com/x?y=1',
    intended: 'orders.GET',
    variants: [['Next.js’s re-serialisation of the query', at('/api/orders?next=https%3A%2F%2Fexample.com%2Fx%3Fy%3D1'), R3002]],
  })
  assert.deepEqual(await next.json(), { query: [['next', 'https://example.com/x?y=1']] })
})

test('plain build: a rewrite that depends on a header; forged routing headers change nothing', { skip, timeout: 60_000 }, async () => {
  const s = servers.plain
  const { h, nen } = await clientFor(s)
  // proxy.ts and next.config send POST /api/orders with a header to /api/admin/delete-all;
  // request.url still reads /api/orders there, so only the invoked path tells.
  const order = await confuse(s, nen, h, {
    path: '/api/orders',
    init: { method: 'POST', body: { sku: 'A-1' } },
    intended: 'orders.POST',
    variants: [
      ['x-orders-variant: admin (proxy.ts rewrites to delete-all)', withHeaders({ 'x-orders-variant': 'admin' }), R3002],
      ['x-orders-route: admin (next.config rewrites to delete-all)', withHeaders({ 'x-orders-route': 'admin' }), R3002],
    ],
  })
  assert.equal(order.status, 201)

  // Headers Next.js uses internally, forged by the hop: stripped or ignored, the signed route runs
  // (once: the request is then spent).
  for (const extra of [
    {
      'x-matched-path': '/api/admin/delete-all',
      'x-invoke-path': '/api/admin/delete-all',
      'x-invoke-output': '/api/admin/delete-all',
      'x-invoke-query': encodeURIComponent('{}'),
      'x-middleware-rewrite': '/api/admin/delete-all',
      'x-nextjs-rewrite': '/api/admin/delete-all',
      'next-url': '/api/admin/delete-all',
      'x-now-route-matches': 'id=1',
      'x-middleware-subrequest': 'proxy:proxy:proxy:proxy:proxy',
    },
    { 'x-http-method-override': 'DELETE', 'x-method-override': 'DELETE' },
  ]) {
    const before = await counters(s)
    h.plan = async (signed) => withHeaders(extra)(signed)
    const res = await nen('/api/orders', { method: 'POST', body: { sku: 'B-2' } })
    assert.equal(res.status, 201, `forged ${Object.keys(extra).join(', ')}`)
    assert.deepEqual((await res.json()).order, { sku: 'B-2' })
    assert.deepEqual(ran(before, await counters(s)), { 'orders.POST': 1 })
  }

  // A rewrite that leads to the route the client signed for runs it: the invoked route is the
  // signed one.
  for (const [signedFor, via, handler] of [
    ['/api/admin/delete-all', '/old/admin', 'admin/delete-all.POST'],
    ['/api/items', '/cfg/items', 'items.POST'],
  ]) {
    const before = await counters(s)
    h.plan = async (signed) => at(via)(signed)
    const res = await nen(signedFor, { method: 'POST', body: { name: 'via a rewrite' } })
    assert.ok(res.ok, `${signedFor} via ${via}: ${res.status}`)
    assert.deepEqual(ran(before, await counters(s)), { [handler]: 1 })
  }
})

test('plain build: honest requests — rewritten paths are refused, the rest verify byte for byte', { skip, timeout: 60_000 }, async () => {
  const s = servers.plain
  const { h, nen } = await clientFor(s)
  // Through a rewrite (proxy.ts, next.config) the client signed /old/items, and /api/items would
  // run: refused.
  for (const p of ['/old/items', '/cfg/items']) {
    const before = await counters(s)
    await rejectsWith(nen(p, { method: 'POST', body: { name: 'x' } }), 'ISO-3002')
    assert.deepEqual(ran(before, await counters(s)), {}, `nothing ran for POST ${p}`)
  }

  const query = "next=https://example.com/a?b=c&q=a+b&path=a%2Fb&plus=%2B&name=Zoë&city=東京&empty=&bare&&x=1&quote=it's(1)*"
  const before = await counters(s)
  const res = await nen(`/api/orders?${query}`)
  assert.equal(res.status, 200)
  assert.deepEqual((await res.json()).query, [
    ['next', 'https://example.com/a?b=c'],
    ['q', 'a b'],
    ['path', 'a/b'],
    ['plus', '+'],
    ['name', 'Zoë'],
    ['city', '東京'],
    ['empty', ''],
    ['bare', ''],
    ['x', '1'],
    ['quote', "it's(1)*"],
  ])
  const posted = await nen(`/api/orders?${query}`, { method: 'POST', body: { sku: 'Zoë' } })
  assert.equal(posted.status, 201)
  for (const p of ['/api/items/a%2Fb', "/api/items/it's(1)", '/api/items/%C3%A9t%C3%A9', '/api/items/été', '/api/items/a:b@c']) {
    assert.equal((await nen(p)).status, 404, `GET ${p} reaches [id] and is verified (sealed 404: no such item)`)
  }
  assert.deepEqual(ran(before, await counters(s)), { 'orders.GET': 1, 'orders.POST': 1, 'items/[id].GET|HEAD': 5 })

  // The Nen routes themselves: the signed status request, re-spelled.
  const status = await (async () => {
    h.plan = async (signed) => {
      for (const [target, expected] of [
        ['/api/nen/%73tatus', NOT_FOUND],
        ['/api/nen/./status', R3002],
        ['/api/nen/status?x', R3002],
        ['/api/nen/x/../status', R3002],
      ]) {
        assert.deepEqual(verdict(await send(s.url, at(target)(signed))), expected, target)
      }
      return signed
    }
    return nen.client.status()
  })()
  assert.equal(status.sid, nen.client.sessionId)
})

test('basePath + trailingSlash build: the client’s target is verified, with the basePath and the slash', { skip, timeout: 60_000 }, async () => {
  const s = servers.base
  const { h, nen } = await clientFor(s)
  // request.url here lacks /base; the request line (what the client signed) has it.
  const created = await confuse(s, nen, h, {
    path: '/base/api/items/',
    init: { method: 'POST', body: { name: 'based' } },
    intended: 'items.POST',
    variants: [
      ['without the basePath', at('/api/items/'), NOT_FOUND],
      ['without the trailing slash', at('/base/api/items'), REDIRECT],
      ['changed case of the basePath', at('/BASE/api/items/'), NOT_FOUND],
      ['dot-dot segment', at('/base/api/x/../items/'), R3002],
      ['empty query', at('/base/api/items/?'), R3002],
      ['1000 empty pairs', at('/base/api/items/?' + '&'.repeat(1000)), R3002],
      ['double slash after the basePath', at('/base//api/items/'), REDIRECT],
      ['a rewrite to another route', at('/base/old/admin/'), R3002],
      ['another route', at('/base/api/admin/delete-all/'), R3002],
    ],
  })
  assert.equal(created.status, 201)
  const { id } = await created.json()
  await nen(`/base/api/items/${id}/`, { method: 'PATCH', body: { done: true } })
  const purged = await confuse(s, nen, h, {
    path: '/base/api/items/purge-completed/',
    init: { method: 'DELETE' },
    intended: 'items/purge-completed.DELETE',
    variants: [
      ['percent-encoded unreserved byte (→ [id])', at('/base/api/items/%70urge-completed/'), R3002],
      ['`;` parameter (→ [id])', at('/base/api/items/purge-completed;x=1/'), R3002],
      ['dot segment', at('/base/api/items/./purge-completed/'), R3002],
    ],
  })
  assert.deepEqual(await purged.json(), { purged: 1 })

  const before = await counters(s)
  const res = await nen('/base/api/orders/?next=https://example.com/a?b=c&bare&q=a+b&name=Zoë')
  assert.deepEqual((await res.json()).query, [
    ['next', 'https://example.com/a?b=c'],
    ['bare', ''],
    ['q', 'a b'],
    ['name', 'Zoë'],
  ])
  for (const p of ['/base/old/items/', '/base/cfg/items/']) await rejectsWith(nen(p, { method: 'POST', body: { name: 'x' } }), 'ISO-3002')
  for (const header of ['x-orders-variant', 'x-orders-route']) {
    h.plan = async (signed) => withHeaders({ [header]: 'admin' })(signed)
    await rejectsWith(nen('/base/api/orders/', { method: 'POST', body: { sku: 'A' } }), 'ISO-3002')
  }
  assert.deepEqual(ran(before, await counters(s)), { 'orders.GET': 1 })
})

// The adversarial suite's table (packages/server/test/adversarial.test.mjs, which runs it against
// node:http, Express and the Web handlers on WASM) against this build under `next start`: every
// signed header and `ct` flipped, dropped, duplicated on the wire and swapped; replays (the same
// server, across a rotation, after terminate); stream frames reordered, dropped and cut. Each
// refusal has its exact code and runs no handler; the honest request then runs once.
test('adversarial: the signed-header table, replays and stream tampering under next start', { skip, timeout: 60_000 }, async () => {
  const s = servers.plain
  const session = await rawSession(s.url)
  const other = await rawSession(s.url)
  let n = 0
  const sign = (sess, opts = {}) => signReq(sess, { target: '/api/items', json: JSON.stringify({ name: `adv-${++n}` }), ...opts })
  /** The honest request: answered 201 sealed for it, items.POST run once. */
  const honest = async (sess, r) => {
    const before = await counters(s)
    const reply = await wire(s.url, r)
    assert.equal(reply.status, 201, `the honest request: ${reply.status} ${reply.text.slice(0, 160)}`)
    assert.match(JSON.parse(sess.open(r.signed, 201, reply.text)).name, /^adv-/)
    assert.deepEqual(ran(before, await counters(s)), { 'items.POST': 1 })
  }
  const refusedNoHandler = async (r, expected) => {
    const before = await counters(s)
    assertRefused(await wire(s.url, r), expected)
    assert.deepEqual(ran(before, await counters(s)), {}, 'no handler ran')
  }
  const cases = HEADER_CASES.map(([label, mutate, expected]) => [
    label,
    expected[0] === 200 ? 'accepted' : 'refused',
    async () => {
      const a = sign(session)
      const bad = mutate(a, { b: sign(session, { ts: Date.now() - 1000 }), other: sign(other) })
      if (expected[0] === 200) return honest(session, bad)
      await refusedNoHandler(bad, expected)
      await honest(session, a)
    },
  ])
  // The finding of the main suite (JSON arrays taken as envelopes), here too.
  cases.push([
    'the envelope as a JSON array (["<ct>"])',
    'refused',
    async () => {
      const a = sign(session)
      await refusedNoHandler({ ...a, body: `[${JSON.stringify(JSON.parse(a.body).ct)}]` }, [400, 'ISO-6001'])
      await honest(session, a)
    },
  ])
  // Replays.
  const sent = async (sess) => {
    const r = sign(sess)
    await honest(sess, r)
    return r
  }
  cases.push(['replayed', 'refused', async () => refusedNoHandler(await sent(session), [401, 'ISO-5001'])])
  cases.push([
    'replayed after a rotation; a request signed before it still passes once',
    'refused',
    async () => {
      const old = await rawSession(s.url)
      const r = await sent(old)
      const unsent = sign(old)
      const rot = old.beginRotation('hybrid')
      const rotate = signReq(old, { target: '/api/nen/rotate', json: rot.body, idem: null })
      const reply = await wire(s.url, rotate)
      assert.equal(reply.status, 200, reply.text)
      const next = rot.finish(old.open(rotate.signed, 200, reply.text))
      await refusedNoHandler(r, [401, 'ISO-5001'])
      await refusedNoHandler(rotate, [401, 'ISO-5001'])
      await honest(old, unsent)
      await refusedNoHandler(unsent, [401, 'ISO-5001'])
      await sent(next)
    },
  ])
  cases.push([
    'replayed after terminate',
    'refused',
    async () => {
      const doomed = await rawSession(s.url)
      const r = await sent(doomed)
      const unsent = sign(doomed)
      const term = signReq(doomed, { target: '/api/nen/terminate', json: undefined, idem: null })
      assert.equal((await wire(s.url, term)).status, 200)
      await refusedNoHandler(r, [401, 'ISO-2002'])
      await refusedNoHandler(unsent, [401, 'ISO-2002'])
      await refusedNoHandler(term, [401, 'ISO-2002'])
    },
  ])
  // Stream frames (the example's /api/stream: "You said: <prompt>", a word per frame).
  const streamCases = [
    ['stream: frames 0 and 1 swapped', (f) => [f[1], f[0], ...f.slice(2)], 'ISO-7004'],
    ['stream: frame 1 dropped', (f) => [f[0], ...f.slice(2)], 'ISO-7004'],
    ['stream: frame 1 duplicated', (f) => [f[0], f[1], ...f.slice(1)], 'ISO-7004'],
    ['stream: the end frame dropped', (f) => f.slice(0, -1), 'ISO-7003'],
    ['stream: cut inside a frame', (f) => `${f[0]}\n\n${f[1].slice(0, 20)}`, 'ISO-7003'],
  ]
  for (const [label, edit, code] of streamCases) {
    cases.push([
      label,
      'refused',
      async () => {
        const c = new client.NenClient(s.url, {
          fetch: async (url, init) => {
            const res = await fetch(url, init)
            if (!String(url).endsWith('/api/stream')) return res
            const frames = (await res.text()).split('\n\n').filter((f) => f !== '')
            const out = edit(frames)
            return new Response(typeof out === 'string' ? out : out.map((f) => `${f}\n\n`).join(''), { status: res.status, headers: res.headers })
          },
        })
        const got = []
        const err = await (async () => {
          for await (const t of client.createNenStream(c)('/api/stream', { body: { prompt: 'one two three' } })) got.push(t)
        })().then(
          () => assert.fail(`the stream was accepted: ${JSON.stringify(got)}`),
          (e) => e,
        )
        assert.equal(err?.code, code, String(err?.stack ?? err))
        assert.deepEqual(got, ['You', ' said:', ' one', ' two', ' three'].slice(0, got.length))
      },
    ])
  }
  try {
    await runCases('Next.js (next start)', cases)
  } finally {
    printSummary('adversarial (Next.js)')
  }
})

test('after a restart the first request is judged on its request line (instrumentation.ts loads the hook)', { skip, timeout: 60_000 }, async () => {
  let s = servers.plain
  const { h, nen } = await clientFor(s)
  assert.equal((await nen('/api/orders?warm=1')).status, 200)
  await s.stop()
  s = await start('plain', s.port)
  // The session died with the old process: the new one must say so (ISO-2002), which it can only
  // do for a request whose target it could check; a refusal for want of the request line would
  // be ISO-3002. The client then handshakes again and retries the GET.
  const first = []
  h.plan = async (signed) => {
    first.push(verdict(await send(s.url, signed)))
    return signed
  }
  const res = await nen('/api/orders?next=https://example.com/x')
  assert.deepEqual(first, [[401, 'ISO-2002']])
  assert.deepEqual((await res.json()).query, [['next', 'https://example.com/x']])
  assert.ok(existsSync(path.join(work, '.next/server/instrumentation.js')), 'the build has the example’s instrumentation.ts')
})
