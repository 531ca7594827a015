// Over HTTP on loopback, one server per process, load from http/loadgen.mjs (32 keep-alive
// connections):
//   i. POST 1 KiB JSON echo and GET small JSON: raw node:http, Express, Web handlers behind a
//      node:http → Request adapter (native and WASM engine), Next.js under `next start`, each plain
//      and through Nen; the node adapter with its sessions in Redis
//   j. handshakes per second, hybrid and mlkem768: node adapter, Web handlers, WASM engine
//   k. RSS of a Nen server sampled under sustained load

import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { section } from '../lib/child.mjs'
import { CONNECTIONS, HTTP_ROUNDS, HTTP_ROUND_S, SUSTAIN_S, SUSTAIN_WARM_S } from '../lib/config.mjs'
import { SMALL_TEXT, jsonOfSize } from '../lib/inputs.mjs'
import { groupRss } from '../lib/machine.mjs'
import { fmtRate, summary } from '../lib/stats.mjs'
import { compareHttp } from '../http/measure.mjs'
import { prepareNextApp, startNext } from '../http/next-app.mjs'
import { freePort, startKind, startLoadgen, startRedis } from '../http/procs.mjs'
import { hasWrk, wrkRun } from '../http/wrk.mjs'

const JSON_1K = jsonOfSize(1024)
const HS = '/api/nen/handshake'

/** The request cases: [id, label, server key, path, Nen?]. */
const TARGETS = [
  ['node.plain', 'node:http, plain', 'node-plain', '/api/echo', false],
  ['node.nen', 'node:http + nenNodeHandler', 'node-nen', '/api/echo', true],
  ['express.plain', 'Express, plain', 'express-plain', '/api/echo', false],
  ['express.nen', 'Express + withNenExpress', 'express-nen', '/api/echo', true],
  ['webhttp.plain', 'Web handlers (node:http → Request), plain', 'web-plain', '/api/echo', false],
  ['webhttp.nen', 'Web handlers + withNen (native engine)', 'web-nen', '/api/echo', true],
  ['webhttp.wasm', 'Web handlers + withNen (WASM engine)', 'web-nen-wasm', '/api/echo', true],
  ['next.plain', 'Next.js route (next start), plain', 'next-plain', '/api/bench/plain', false],
  ['next.nen', 'Next.js route (next start) + withNen', 'next-nen', '/api/bench/nen', true],
  ['redis.nen', 'node:http + nenNodeHandler, Redis store', 'node-nen-redis', '/api/echo', true],
]

async function requests(gen, redis, wrappingKey) {
  console.log('\nPreparing the Next.js app (skipped when nothing changed)')
  console.log(`  ${await prepareNextApp()}`)
  const servers = {}
  for (const kind of ['node-plain', 'node-nen', 'express-plain', 'express-nen', 'web-plain', 'web-nen', 'web-nen-wasm']) servers[kind] = await startKind(kind)
  servers['node-nen-redis'] = await startKind('node-nen', { NEN_BENCH_STORE: 'redis', REDIS_URL: redis.url, NEN_WRAPPING_KEY: wrappingKey })
  servers['next-plain'] = await startNext(await freePort())
  servers['next-nen'] = await startNext(await freePort())
  const rows = []
  try {
    for (const method of ['POST', 'GET']) {
      console.log(`\ni. HTTP ${method === 'POST' ? 'POST 1 KiB JSON echo' : 'GET small JSON'}, ${CONNECTIONS} connections`)
      const body = method === 'POST' ? JSON_1K : undefined
      const expected = method === 'POST' ? JSON_1K : SMALL_TEXT
      const cases = TARGETS.map(([id, name, key, path, isNen]) => ({
        id: `http.${method.toLowerCase()}.${id}`,
        name,
        server: servers[key],
        extraPid: key === 'node-nen-redis' ? redis.pid : undefined,
        spec: { kind: isNen ? 'nen' : 'plain', method, path, body, expected, handshakePath: HS },
      }))
      const results = await compareHttp(gen, cases)
      rows.push(...results)
      rows.push(await generatorCheck(gen, results[0], { port: servers['node-plain'].port, method, path: '/api/echo', body }))
    }
  } finally {
    for (const s of Object.values(servers)) await s.stop()
  }
  return rows
}

/**
 * Our generator and wrk against the fastest plain server, rounds alternating (ours, wrk, ours,
 * wrk ...) so both see the same server and the same machine: if wrk gets no more out of it, our
 * generator is not the limit. Skipped (and said so) without wrk.
 */
async function generatorCheck(gen, ours, target) {
  const id = `gencheck.${target.method.toLowerCase()}`
  if (!hasWrk()) {
    console.log('  generator check skipped: no wrk (apt-get install wrk)')
    return { id, skipped: true }
  }
  const seconds = Math.max(1, Math.round(HTTP_ROUND_S))
  const mine = []
  const theirs = []
  for (let k = 0; k < HTTP_ROUNDS; k++) {
    await gen.call('prepare', { name: ours.id, count: Math.round(ours.rps.median * seconds) })
    const r = await gen.call('run', { name: ours.id, connections: CONNECTIONS })
    mine.push({ rps: (r.count / r.elapsedUs) * 1e6, cores: r.genCpuUs / r.elapsedUs })
    theirs.push(await wrkRun({ ...target, connections: CONNECTIONS, seconds }))
  }
  const a = summary(mine.map((r) => r.rps))
  const b = summary(theirs.map((r) => r.rps))
  console.log(`  generator check, ${ours.name}: ours ${fmtRate(a.median)} req/s, wrk -t1 -c${CONNECTIONS} ${fmtRate(b.median)} req/s (ours ÷ wrk ${(a.median / b.median).toFixed(2)}x)`)
  return { id, name: ours.name, ours: a, oursGenCores: Math.max(...mine.map((r) => r.cores)), wrk: b, p50: summary(theirs.map((r) => r.p50)).median, p99: summary(theirs.map((r) => r.p99)).median }
}

async function handshakes(gen) {
  console.log(`\nj. Handshakes over HTTP, ${CONNECTIONS} connections (client key generation done before timing)`)
  const servers = { node: await startKind('node-nen'), web: await startKind('web-nen'), wasm: await startKind('web-nen-wasm') }
  const names = { node: 'node:http + nenNodeRoutes', web: 'Web handlers + handleHandshake (native)', wasm: 'Web handlers + handleHandshake (WASM engine)' }
  try {
    const cases = []
    for (const mode of ['hybrid', 'mlkem768']) {
      for (const key of ['node', 'web', 'wasm']) {
        cases.push({ id: `hs.${mode}.${key}`, name: `${mode}: ${names[key]}`, server: servers[key], spec: { kind: 'handshake', mode, method: 'POST', path: HS } })
      }
    }
    return await compareHttp(gen, cases)
  } finally {
    for (const s of Object.values(servers)) await s.stop()
  }
}

async function sustained(gen) {
  console.log(`\nk. RSS under sustained load: node:http + nenNodeHandler, POST 1 KiB, ${SUSTAIN_S} s, each request signed as it is sent`)
  const srv = await startKind('node-nen')
  try {
    await gen.call('target', { name: 'sustain', spec: { kind: 'nen', method: 'POST', path: '/api/echo', body: JSON_1K, expected: JSON_1K, handshakePath: HS, port: srv.port } })
    const series = []
    const t0 = Date.now()
    let running = true
    const sampler = (async () => {
      while (running) {
        series.push({ t: (Date.now() - t0) / 1000, rss: groupRss(srv.pid) })
        await sleep(500)
      }
    })()
    const r = await gen.call('live', { name: 'sustain', connections: CONNECTIONS, seconds: SUSTAIN_S })
    running = false
    await sampler
    const rest = series.filter((s) => s.t >= SUSTAIN_WARM_S)
    const third = Math.max(1, Math.floor(rest.length / 3))
    const mean = (xs) => xs.reduce((a, s) => a + s.rss, 0) / xs.length
    const early = mean(rest.slice(0, third))
    const late = mean(rest.slice(-third))
    const out = { series, requests: r.count, rps: (r.count / r.elapsedUs) * 1e6, p50: r.p50, p99: r.p99, warmS: SUSTAIN_WARM_S, early, late, growth: (late - early) / early }
    console.log(
      `  ${r.count} requests, ${Math.round(out.rps)} req/s; RSS ${(series[0].rss / 2 ** 20).toFixed(1)} MiB at start, ${(early / 2 ** 20).toFixed(1)} MiB after ${SUSTAIN_WARM_S} s, ${(late / 2 ** 20).toFixed(1)} MiB at the end (${(out.growth * 100).toFixed(1)}%)`,
    )
    return out
  } finally {
    await srv.stop()
  }
}

export async function run() {
  const gen = startLoadgen()
  const redis = await startRedis()
  const wrappingKey = randomBytes(32).toString('base64')
  try {
    const rows = await requests(gen, redis, wrappingKey)
    rows.push(...(await handshakes(gen)))
    return { rows, sustained: await sustained(gen) }
  } finally {
    await redis.stop()
    await gen.stop()
  }
}

section(run)
