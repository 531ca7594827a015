// The targets of issue 11, each computed from medians measured in this run, with its ratio and
// whether it is met. A target whose rows did not run (--only) is left out.

import { fmtBytes, fmtRate, fmtUs } from '../lib/stats.mjs'

/** All rows of a run by id: in-process rows carry `us`/`perSec`, HTTP rows `rps`. */
export function indexRows(results) {
  const rows = new Map()
  for (const r of [...(results.core ?? []), ...(results.adapters ?? []), ...(results.memory ?? []), ...(results.http?.rows ?? [])]) rows.set(r.id, r)
  return rows
}

const rps = (r) => r.rps.median
const x = (v) => `${v.toFixed(2)}x`

export function targets(results) {
  const rows = indexRows(results)
  const out = []
  const have = (...ids) => ids.every((id) => rows.has(id))
  const ratio = (what, num, den, bar, group) => {
    if (!have(num, den)) return
    const a = rps(rows.get(num))
    const b = rps(rows.get(den))
    out.push({ what, measured: `${x(a / b)} (${fmtRate(a)} against ${fmtRate(b)} req/s)`, bar: `≥ ${x(bar)}`, ratio: a / b, met: a / b >= bar, group })
  }
  for (const m of ['post', 'get']) {
    const label = m === 'post' ? 'POST 1 KiB' : 'GET'
    ratio(`node:http adapter ÷ raw node:http, ${label}`, `http.${m}.node.nen`, `http.${m}.node.plain`, 0.75, 'node')
    ratio(`Express adapter ÷ raw node:http, ${label}`, `http.${m}.express.nen`, `http.${m}.node.plain`, 0.75, 'express')
  }
  for (const m of ['post', 'get']) {
    const label = m === 'post' ? 'POST 1 KiB' : 'GET'
    ratio(`Web handlers (node:http → Request) withNen ÷ plain, ${label}`, `http.${m}.webhttp.nen`, `http.${m}.webhttp.plain`, 0.85, 'web')
    ratio(`Next.js route withNen ÷ plain (next start), ${label}`, `http.${m}.next.nen`, `http.${m}.next.plain`, 0.85, 'web')
  }
  if (have('web.post.native', 'web.post.plain')) {
    const added = rows.get('web.post.native').us.median - rows.get('web.post.plain').us.median
    const plain = rows.get('web.post.plain').us.median
    out.push({
      what: 'in process: withNen adds to the plain Web echo (POST 1 KiB)',
      measured: `+${fmtUs(added)} µs (${fmtUs(plain + added)} against ${fmtUs(plain)} µs)`,
      bar: '≤ 15 µs',
      ratio: 15 / added,
      met: added <= 15,
      group: 'web',
    })
  }
  for (const m of ['post', 'get']) ratio(`Redis store ÷ memory store over HTTP (node adapter), ${m === 'post' ? 'POST 1 KiB' : 'GET'}`, `http.${m}.redis.nen`, `http.${m}.node.nen`, 0.7, 'redis')
  for (const k of ['node', 'web']) {
    const id = `hs.hybrid.${k}`
    if (!have(id)) continue
    const a = rps(rows.get(id))
    const where = k === 'node' ? 'node adapter' : 'Web handlers'
    out.push({
      what: `hybrid handshakes/s over HTTP, ${where}, absolute (10x the earlier product's 968/s)`,
      measured: `${fmtRate(a)}/s`,
      bar: '≥ 9 700/s',
      ratio: a / 9700,
      met: a >= 9700,
      group: 'handshake',
    })
    if (have('hs.hybrid.wasm')) {
      const b = rps(rows.get('hs.hybrid.wasm'))
      out.push({
        what: `hybrid handshakes/s over HTTP, ${where} ÷ WASM engine (earlier architecture, measured here)`,
        measured: `${x(a / b)} (${fmtRate(a)} against ${fmtRate(b)}/s)`,
        bar: '≥ 10x',
        ratio: a / b / 10,
        met: a / b >= 10,
        group: 'handshake',
      })
    }
  }
  if (have('core.hs.hybrid.sync')) {
    const us = rows.get('core.hs.hybrid.sync').us.median
    out.push({ what: 'in process: native hybrid server handshake (handshakeSync)', measured: `${fmtUs(us)} µs`, bar: '≤ 60 µs', ratio: 60 / us, met: us <= 60, group: 'handshake' })
  }
  if (have('stream.native', 'stream.plain')) {
    const a = rows.get('stream.native').perSec
    const b = rows.get('stream.plain').perSec
    out.push({
      what: `streams: withNenStream ÷ unencrypted same shape (1000 × 16-byte tokens)`,
      measured: `${x(a / b)} (${fmtRate(a)} against ${fmtRate(b)} chunks/s)`,
      bar: '≥ 0.90x',
      ratio: a / b / 0.9,
      met: a / b >= 0.9,
      group: 'stream',
    })
  }
  if (have('core.chunk.nen')) {
    const a = rows.get('core.chunk.nen').perSec
    out.push({ what: 'in process: 16-byte chunks sealed per second (NenStream.chunk)', measured: `${fmtRate(a)}/s`, bar: '≥ 2 000 000/s', ratio: a / 2e6, met: a >= 2e6, group: 'stream' })
  }
  for (const size of ['16kib', '1mib']) {
    if (!have(`core.req.${size}.nen`, `core.req.${size}.peer`)) continue
    const a = rows.get(`core.req.${size}.nen`).us.median
    const b = rows.get(`core.req.${size}.peer`).us.median
    const label = size === '16kib' ? '16 KiB' : '1 MiB'
    out.push({
      what: `${label} request (open + seal) faster than hand-written node:crypto`,
      measured: `${x(b / a)} (${fmtUs(a)} against ${fmtUs(b)} µs)`,
      bar: '> 1x',
      ratio: b / a,
      met: b / a > 1,
      group: 'large',
    })
  }
  if (have('mem.session.native')) {
    const b = rows.get('mem.session.native').perSession
    out.push({ what: 'RSS per live session, memory store', measured: fmtBytes(b), bar: '≤ 1 KiB', ratio: 1024 / b, met: b <= 1024, group: 'memory' })
  }
  const s = results.http?.sustained
  if (s) {
    out.push({
      what: `RSS flat under sustained load (last third against first third after ${s.warmS} s)`,
      measured: `${(s.growth * 100).toFixed(1)}% (${fmtBytes(s.early)} → ${fmtBytes(s.late)})`,
      bar: '≤ 5% growth',
      ratio: null,
      met: s.growth <= 0.05,
      group: 'memory',
    })
  }
  return out
}
