// Writes benchmark/RESULTS.md and benchmark/charts/*.svg from one run's results.

import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { benchDir } from '../lib/machine.mjs'
import { fmtBytes, fmtRate, fmtUs } from '../lib/stats.mjs'
import { barChart, lineChart } from './charts.mjs'
import { NOTES } from './notes.mjs'
import { indexRows, targets } from './targets.mjs'

const x = (v) => (Number.isFinite(v) ? `${v.toFixed(v >= 10 ? 1 : 2)}x` : '–')
const spreadUs = (s) => `${fmtUs(s.median)} (${fmtUs(s.min)}–${fmtUs(s.max)})`
const spreadRate = (s) => `${fmtRate(s.median)} (${fmtRate(s.min)}–${fmtRate(s.max)})`

/** In-process groups: rows and the row each one is compared with (time of ref ÷ time of row). */
const INPROC = [
  ['Server handshake, hybrid', 'core.hs.hybrid', ['sync', 'async1', 'async64', 'peer'], 'peer'],
  ['Server handshake, mlkem768', 'core.hs.mlkem768', ['sync', 'async1', 'async64', 'peer'], 'peer'],
  ['Request 64 B: open + seal', 'core.req.64b', ['nen', 'peer', 'noble', 'floor'], 'peer'],
  ['Request 1 KiB: open + seal', 'core.req.1kib', ['nen', 'peer', 'noble', 'floor'], 'peer'],
  ['Request 16 KiB: open + seal', 'core.req.16kib', ['nen', 'peer', 'noble', 'floor'], 'peer'],
  ['Request 1 MiB: open + seal', 'core.req.1mib', ['nen', 'peer', 'noble', 'floor'], 'peer'],
  ['Thread hop, 1 KiB open', 'core.hop', ['sync', 'async1', 'async64'], 'sync'],
  ['Stream chunk, 16-byte token', 'core.chunk', ['nen', 'peer', 'noble'], 'peer'],
  ['Web handler in process, POST 1 KiB echo', 'web.post', ['plain', 'native', 'wasm'], 'plain'],
  ['Web handler in process, GET', 'web.get', ['plain', 'native', 'wasm'], 'plain'],
  ['openSync + JSON echo + seal, 1 KiB', 'opensync', ['plain', 'nen'], 'plain'],
  ['node:http adapter, POST 1 KiB, mock req/res', 'node.mock', ['plain', 'nen'], 'plain'],
  ['Streams, 1000 × 16-byte tokens per response (rate per chunk)', 'stream', ['plain', 'native', 'wasm'], 'plain'],
]

/** HTTP request rows and the plain row of the same stack. */
const SAME_STACK = { 'node.nen': 'node.plain', 'express.nen': 'express.plain', 'webhttp.nen': 'webhttp.plain', 'webhttp.wasm': 'webhttp.plain', 'next.nen': 'next.plain', 'redis.nen': 'node.nen' }
const HTTP_IDS = ['node.plain', 'node.nen', 'express.plain', 'express.nen', 'webhttp.plain', 'webhttp.nen', 'webhttp.wasm', 'next.plain', 'next.nen', 'redis.nen']
const kindOf = (id) => (id.includes('wasm') ? 'wasm' : id.endsWith('plain') || id.endsWith('.floor') ? 'plain' : id.endsWith('peer') || id.endsWith('noble') ? 'peer' : 'nen')

function inprocTables(rows) {
  const out = []
  for (const [title, prefix, keys, ref] of INPROC) {
    const group = keys.map((k) => rows.get(`${prefix}.${k}`)).filter(Boolean)
    if (group.length === 0) continue
    const base = rows.get(`${prefix}.${ref}`)
    out.push(`\n### ${title}\n`, `| case | µs/op median (min–max) | op/s | JS thread µs/op | tokio µs/op | ${base ? `${base.name} ÷ this (time)` : ''} |`, '|---|---|---|---|---|---|')
    for (const r of group)
      out.push(`| ${r.name} | ${spreadUs(r.us)} | ${fmtRate(r.perSec)} | ${fmtUs(r.js)} | ${r.tokio > 0.05 ? fmtUs(r.tokio) : '–'} | ${base && r !== base ? x(base.us.median / r.us.median) : '–'} |`)
  }
  return out
}

function httpTables(rows) {
  const out = []
  for (const m of ['post', 'get']) {
    const raw = rows.get(`http.${m}.node.plain`)
    const group = HTTP_IDS.map((id) => rows.get(`http.${m}.${id}`)).filter(Boolean)
    if (group.length === 0) continue
    out.push(
      `\n### ${m === 'post' ? 'POST 1 KiB JSON echo' : 'GET small JSON'}\n`,
      '| server | req/s median (min–max) | ÷ same stack without Nen | ÷ raw node:http | p50 µs | p99 µs | server CPU µs/req | server cores | generator cores (max) |',
      '|---|---|---|---|---|---|---|---|---|',
    )
    for (const r of group) {
      const id = r.id.slice(`http.${m}.`.length)
      const same = SAME_STACK[id] ? rows.get(`http.${m}.${SAME_STACK[id]}`) : null
      const cpu = r.extraUs === null || r.extraUs === undefined ? fmtUs(r.serverUs) : `${fmtUs(r.serverUs)} + Redis ${fmtUs(r.extraUs)}`
      out.push(
        `| ${r.name} | ${spreadRate(r.rps)} | ${same ? x(r.rps.median / same.rps.median) : '–'} | ${raw ? x(r.rps.median / raw.rps.median) : '–'} | ${fmtUs(r.p50)} | ${fmtUs(r.p99)} | ${cpu} | ${r.serverCores.toFixed(2)} | ${r.genCores.toFixed(2)} |`,
      )
    }
  }
  const checks = ['post', 'get'].map((m) => rows.get(`gencheck.${m}`)).filter((r) => r && !r.skipped)
  if (checks.length > 0) {
    out.push(
      '\n### Load generator check\n',
      'Our generator and wrk (`-t1 -c32`, C) against the same raw node:http server, rounds alternating. A ratio near 1 means our generator is not what limits the fastest plain row, nor the slower ones.\n',
      '| server | our generator req/s median (min–max) | its cores (max) | wrk req/s median (min–max) | ours ÷ wrk | wrk p50 / p99 µs |',
      '|---|---|---|---|---|---|',
    )
    for (const r of checks) {
      const what = r.id.endsWith('post') ? 'POST 1 KiB' : 'GET'
      out.push(`| ${r.name}, ${what} | ${spreadRate(r.ours)} | ${r.oursGenCores.toFixed(2)} | ${spreadRate(r.wrk)} | ${x(r.ours.median / r.wrk.median)} | ${fmtUs(r.p50)} / ${fmtUs(r.p99)} |`)
    }
  }
  const hs = [...rows.values()].filter((r) => r.id.startsWith('hs.'))
  if (hs.length > 0) {
    out.push(
      '\n### Handshakes over HTTP\n',
      '| server | handshakes/s median (min–max) | ÷ WASM engine, same mode | p50 µs | p99 µs | server CPU µs/handshake | generator cores (max) |',
      '|---|---|---|---|---|---|---|',
    )
    for (const r of hs) {
      const wasm = rows.get(r.id.replace(/\.[a-z]+$/, '.wasm'))
      out.push(
        `| ${r.name} | ${spreadRate(r.rps)} | ${wasm && wasm !== r ? x(r.rps.median / wasm.rps.median) : '–'} | ${fmtUs(r.p50)} | ${fmtUs(r.p99)} | ${fmtUs(r.serverUs)} | ${r.genCores.toFixed(2)} |`,
      )
    }
  }
  return out
}

function memoryTables(results) {
  const out = []
  if (results.memory) {
    out.push('\n### RSS per live session (memory store)\n', '| engine | sessions held | RSS before | RSS after | per session |', '|---|---|---|---|---|')
    for (const m of results.memory)
      out.push(
        `| ${m.engine === 'wasm' ? 'WASM engine (JavaScript memory store)' : 'native addon'} | ${fmtRate(m.sessions)} | ${fmtBytes(m.before)} | ${fmtBytes(m.after)} | ${fmtBytes(m.perSession)} |`,
      )
  }
  const s = results.http?.sustained
  if (s) {
    out.push(
      '\n### RSS under sustained load (node adapter, POST 1 KiB, memory store)\n',
      '| requests | req/s | p50 / p99 µs | RSS at start | first third after warm-up | last third | growth |',
      '|---|---|---|---|---|---|---|',
      `| ${fmtRate(s.requests)} | ${fmtRate(s.rps)} | ${fmtUs(s.p50)} / ${fmtUs(s.p99)} | ${fmtBytes(s.series[0].rss)} | ${fmtBytes(s.early)} | ${fmtBytes(s.late)} | ${(s.growth * 100).toFixed(1)}% |`,
    )
  }
  return out
}

function charts(results, rows, dir) {
  const written = []
  const put = (name, title, svg) => {
    writeFileSync(path.join(dir, name), svg)
    written.push([name, title])
  }
  for (const m of ['post', 'get']) {
    const bars = HTTP_IDS.map((id) => rows.get(`http.${m}.${id}`))
      .filter(Boolean)
      .map((r) => ({ label: r.name, value: r.rps.median, min: r.rps.min, max: r.rps.max, kind: kindOf(r.id) }))
    const title = m === 'post' ? 'HTTP POST 1 KiB JSON echo' : 'HTTP GET small JSON'
    if (bars.length) put(`http-${m}.svg`, title, barChart({ title: `${title}: req/s, ${bars.length} servers`, unit: 'requests per second (median; whiskers: min–max over rounds)', bars }))
  }
  const hs = [...rows.values()].filter((r) => r.id.startsWith('hs.'))
  if (hs.length)
    put(
      'handshakes.svg',
      'Handshakes over HTTP',
      barChart({ title: 'Handshakes over HTTP', unit: 'handshakes per second', bars: hs.map((r) => ({ label: r.name, value: r.rps.median, min: r.rps.min, max: r.rps.max, kind: kindOf(r.id) })) }),
    )
  const inproc = ['web.post', 'web.get', 'opensync', 'node.mock'].flatMap((p) => [...rows.values()].filter((r) => r.id.startsWith(`${p}.`)))
  if (inproc.length)
    put(
      'inprocess.svg',
      'Handlers in process',
      barChart({
        title: 'Handlers in process: µs per request (lower is better)',
        unit: 'µs per request',
        bars: inproc.map((r) => ({ label: r.name, value: r.us.median, min: r.us.min, max: r.us.max, kind: kindOf(r.id) })),
      }),
    )
  const ratios = []
  for (const size of ['64b', '1kib', '16kib', '1mib']) {
    const nen = rows.get(`core.req.${size}.nen`)
    for (const peer of ['peer', 'noble']) {
      const p = rows.get(`core.req.${size}.${peer}`)
      if (nen && p) ratios.push({ label: `${p.name.split(':')[0]} vs ${peer === 'peer' ? 'node:crypto' : '@noble/ciphers'}`, value: p.us.median / nen.us.median, kind: 'nen' })
    }
  }
  if (ratios.length)
    put('requests.svg', 'Request open + seal against the peers', barChart({ title: 'Request open + seal: peer time ÷ Nen time (above 1: Nen faster)', unit: 'ratio of medians', bars: ratios }))
  const streams = ['stream.plain', 'stream.native', 'stream.wasm', 'core.chunk.nen', 'core.chunk.peer', 'core.chunk.noble'].map((id) => rows.get(id)).filter(Boolean)
  if (streams.length)
    put(
      'streams.svg',
      'Stream chunks',
      barChart({
        title: 'Stream chunks per second',
        unit: 'chunks per second (median; whiskers: min–max)',
        bars: streams.map((r) => ({ label: r.name, value: r.perSec, min: (1e6 / r.us.max) * r.unit, max: (1e6 / r.us.min) * r.unit, kind: kindOf(r.id) })),
      }),
    )
  const s = results.http?.sustained
  if (s)
    put(
      'rss.svg',
      'RSS under sustained load',
      lineChart({
        title: 'Server RSS under sustained load (node adapter, POST 1 KiB)',
        unit: 'RSS, MiB, every 0.5 s',
        points: s.series.map((p) => ({ t: p.t, v: p.rss / 2 ** 20 })),
        mark: s.warmS,
        markLabel: 'replay window filled',
      }),
    )
  return written
}

/** For each group with a missed target: why, from the profile, and what would close it. */
function missedNotes(t) {
  const groups = [...new Set(t.filter((r) => !r.met).map((r) => r.group))]
  if (groups.length === 0) return []
  const out = ['## Why the missed targets are missed', '', 'Profiles: `node benchmark/profile.mjs` (in process, V8 CPU profiler, Nen against the plain path); notes in `report/notes.mjs`.', '']
  for (const g of groups) {
    const n = NOTES[g]
    if (!n) throw new Error(`no note for missed target group ${g}: add one to report/notes.mjs`)
    out.push(`### ${n.title}`, '', ...n.why.flatMap((w) => [w, '']), ...(n.close ? [`**What would close it:** ${n.close}`, ''] : []))
  }
  return out
}

export function writeReport(results) {
  const rows = indexRows(results)
  const dir = path.join(benchDir, 'charts')
  mkdirSync(dir, { recursive: true })
  const chartList = charts(results, rows, dir)
  const t = targets(results)
  const i = results.info
  const md = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench${results.quick ? ' -- --quick' : ''}\` on ${i.date.slice(0, 10)}; measuring took ${results.wallS.toFixed(0)} s. How each row is measured and kept fair: [README.md](README.md).`,
    results.quick ? '\n**This is a `--quick` smoke run: its numbers mean nothing.**' : '',
    results.only ? `\nOnly these sections ran: ${results.only.join(', ')}.` : '',
    '',
    '## Machine',
    '',
    `${i.cpu}, ${i.cores} cores (${i.simd}), ${i.memGiB} GiB, ${i.os}; Node ${i.node} (OpenSSL ${i.openssl}, N-API ${i.napi}); commit \`${i.commit}\`${i.dirty ? ' with uncommitted changes in the tree' : ''}; addon \`${path.basename(results.addon.file)}\`${results.addon.debugInfo ? ' (**carries debug info: an unoptimised build?**)' : ''}. Other processes kept ${results.otherLoadBefore.toFixed(2)} cores busy in the second before the run.`,
    '',
    '## Targets (issue 11)',
    '',
    'Ratios of medians measured side by side in this run. On a shared 2-core machine treat gaps under about 25% as ties.',
    '',
    '| target | measured | bar | |',
    '|---|---|---|---|',
    ...t.map((r) => `| ${r.what} | ${r.measured} | ${r.bar} | ${r.met ? '✅ met' : '❌ missed'} |`),
    '',
    ...missedNotes(t),
    '## Charts',
    '',
    ...chartList.map(([name, title]) => `![${title}](charts/${name})`),
    '',
    '## In process',
    '',
    "Medians over rounds (min–max in brackets). The last column is the reference row's time over this row's: above 1, this row is faster.",
    ...inprocTables(rows),
    '',
    '## Over HTTP (loopback, 32 keep-alive connections, one server process each)',
    ...httpTables(rows),
    '',
    '## Memory',
    ...memoryTables(results),
    '',
  ]
  const file = path.join(benchDir, 'RESULTS.md')
  writeFileSync(file, `${md.filter((l) => l !== null).join('\n')}\n`)
  return { file, targets: t }
}
