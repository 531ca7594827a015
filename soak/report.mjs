// The soak's report: REPORT.md and one SVG per store (panels written by hand in the style of
// benchmark/report/charts.mjs, reusing its axis helpers; no chart library).

import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { COLORS, FONT, esc, fmtAxis, ticks } from '../benchmark/report/charts.mjs'

const FIT = '#e8833a'

/** Per-interval rates from the load's cumulative counters: requests (POST, GET, streams) and handshakes per second. */
export function rates(samples) {
  const out = []
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]
    const b = samples[i]
    const dt = b.t - a.t
    const req = (x) => x.posts + x.gets + x.streams + x.rotations + x.statuses + x.terminates
    out.push({ t: b.t, requests: (req(b) - req(a)) / dt, handshakes: (b.handshakes - a.handshakes) / dt })
  }
  return out
}

/** One panel: the series, the end of warm-up (dashed), and the fitted line over the warm part. */
function panel({ x0, y0, w, h, title, points, warmS, tMax, fitLine, color }) {
  const axis = ticks(Math.max(...points.map((p) => p.v), 1e-9) * 1.05, 4)
  const vMax = axis[axis.length - 1]
  const x = (t) => x0 + (t / tMax) * w
  const y = (v) => y0 + h - (Math.max(0, v) / vMax) * h
  const out = [`<text x="${x0 - 50}" y="${y0 - 10}" font-weight="bold">${esc(title)}</text>`]
  for (const v of axis) {
    out.push(`<line x1="${x0}" y1="${y(v)}" x2="${x0 + w}" y2="${y(v)}" stroke="#e3e6ea"/>`)
    out.push(`<text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${fmtAxis(v)}</text>`)
  }
  for (let k = 0; k <= 4; k++) {
    const t = (tMax * k) / 4
    out.push(`<text x="${x(t)}" y="${y0 + h + 15}" text-anchor="middle" fill="#555">${t.toFixed(0)} s</text>`)
  }
  if (warmS < tMax) out.push(`<line x1="${x(warmS)}" y1="${y0}" x2="${x(warmS)}" y2="${y0 + h}" stroke="#999" stroke-dasharray="4 3"/>`)
  out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')}"/>`)
  if (fitLine) {
    const [a, b] = [warmS, tMax].map((t) => ({ t, v: fitLine.intercept + fitLine.slope * t }))
    out.push(`<line x1="${x(a.t).toFixed(1)}" y1="${y(a.v).toFixed(1)}" x2="${x(b.t).toFixed(1)}" y2="${y(b.v).toFixed(1)}" stroke="${FIT}" stroke-width="2" stroke-dasharray="6 3"/>`)
  }
  return out.join('\n')
}

const fmt = (v, unit) => `${Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : +v.toPrecision(3)}${unit ? ` ${unit}` : ''}`

/** The SVG of one store's run: one panel per checked series, then the rates. */
export function storeChart(run, warmS, series, info = []) {
  const panels = []
  const tMax = Math.max(...run.samples.map((s) => s.t), 1)
  for (const r of run.verdict.results) {
    const s = series.find((x) => x.key === r.key)
    const points = run.samples.filter((p) => Number.isFinite(p[r.key])).map((p) => ({ t: p.t, v: p[r.key] * s.scale }))
    const verdict = r.slopePerMin === undefined ? r.why : `${r.slopePerMin >= 0 ? '+' : ''}${fmt(r.slopePerMin, `${r.unit}/min`.trim())} (bound ${fmt(r.bound, '')}) ${r.ok ? '✓' : '✗'}`
    panels.push({ title: `${r.label}${r.unit ? ` (${r.unit})` : ''}: ${verdict}`, points, fitLine: r.slopePerMin === undefined ? null : { slope: r.slopePerMin / 60, intercept: r.intercept } })
  }
  for (const i of info.filter((x) => x.store === run.store)) {
    const points = run.samples.filter((p) => Number.isFinite(p[i.key])).map((p) => ({ t: p.t, v: p[i.key] }))
    if (points.length) panels.push({ title: `${i.label} (not checked)`, points })
  }
  const rt = rates(run.samples)
  panels.push({ title: 'answers checked per second (requests, streams, lifecycle)', points: rt.map((p) => ({ t: p.t, v: p.requests })) })
  panels.push({ title: 'handshakes per second', points: rt.map((p) => ({ t: p.t, v: p.handshakes })) })
  const cols = 2
  const pw = 360
  const ph = 120
  const cellW = pw + 110
  const cellH = ph + 62
  const top = 40
  const W = cols * cellW + 20
  const H = top + Math.ceil(panels.length / cols) * cellH + 24
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ${FONT}>`, '<rect width="100%" height="100%" fill="#fff"/>']
  out.push(`<text x="10" y="20" font-size="14" font-weight="bold">${esc(`Soak, ${run.store} store: ${run.verdict.ok ? 'passed' : 'FAILED'}`)}</text>`)
  for (const [i, p] of panels.entries()) {
    const x0 = 70 + (i % cols) * cellW
    const y0 = top + 20 + Math.floor(i / cols) * cellH
    out.push(panel({ x0, y0, w: pw, h: ph, warmS, tMax, color: run.store === 'redis' ? COLORS.peer : COLORS.nen, ...p }))
  }
  out.push(`<text x="10" y="${H - 8}" fill="#555">dashed grey: end of warm-up (${warmS} s); dashed orange: least-squares fit over the warm part, whose slope is checked against the bound</text>`)
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

/** REPORT.md and charts/<store>.svg in `dir`. */
export function writeReport(dir, result, argv) {
  mkdirSync(path.join(dir, 'charts'), { recursive: true })
  const m = result.machine
  const L = []
  const ok = result.runs.every((r) => r.verdict.ok)
  L.push(`# Soak run: ${ok ? 'passed' : 'FAILED'}`, '')
  L.push(
    `\`node soak/main.mjs${argv.length ? ` ${argv.join(' ')}` : ''}\`, ${result.profile} profile: ${result.seconds} s, the ${result.runs.map((r) => r.store).join(' and ')} stores at the same time, ${result.vus} virtual users each, a sample every ${result.sampleMs / 1000} s.`,
    '',
  )
  L.push(
    `Machine: ${m.cpu}, ${m.cores} cores (shared), Node ${m.node}, commit ${m.commit ?? '?'}, ${m.date}; niceness ${m.nice}; load average ${m.loadBefore.map((x) => x.toFixed(2)).join(' ')} before, ${m.loadAfter.map((x) => x.toFixed(2)).join(' ')} after.`,
    '',
  )
  L.push(
    `Server options: ${Object.entries(result.nen)
      .map(([k, v]) => `\`${k}\` ${v}`)
      .join(', ')}. Warm after ${result.warmS} s (twice the longest entry life, sessions or replay records, plus 10 s).`,
    '',
  )
  L.push('## Traffic (every answer checked)', '')
  L.push(`| | ${result.runs.map((r) => r.store).join(' | ')} |`, `|---|${result.runs.map(() => '---:').join('|')}|`)
  const rows = [
    ['handshakes', 'handshakes'],
    ['POST (16 B to 4 KiB, echoed)', 'posts'],
    ['GET', 'gets'],
    ['streams', 'streams'],
    ['stream chunks', 'streamChunks'],
    ['rotations', 'rotations'],
    ['status', 'statuses'],
    ['terminated sessions', 'terminates'],
    ['abandoned sessions (left to expire)', 'abandoned'],
    ['replays refused with ISO-5001', 'replaysRefused'],
    ['failures', 'failures'],
  ]
  const total = (r, k) => r.totals?.[k] ?? r.samples.at(-1)?.[k] ?? 0
  for (const [label, k] of rows) L.push(`| ${label} | ${result.runs.map((r) => total(r, k).toLocaleString('en-US')).join(' | ')} |`)
  const answers = (r) => ['posts', 'gets', 'streams', 'rotations', 'statuses', 'terminates', 'handshakes', 'replaysRefused'].reduce((a, k) => a + total(r, k), 0)
  L.push(`| answers checked per second | ${result.runs.map((r) => Math.round(answers(r) / r.seconds).toLocaleString('en-US')).join(' | ')} |`)
  L.push(`| handshakes per second | ${result.runs.map((r) => Math.round(total(r, 'handshakes') / r.seconds).toLocaleString('en-US')).join(' | ')} |`)
  L.push(`| mean latency of a request or stream (ms) | ${result.runs.map((r) => (total(r, 'latencySumMs') / Math.max(1, total(r, 'latencyCount'))).toFixed(2)).join(' | ')} |`)
  L.push('')
  for (const r of result.runs) if (r.problems?.length) L.push(`Failures seen (${r.store}): ${r.problems.map((p) => `\`${p}\``).join('; ')}`, '')
  L.push('## Series once warm', '')
  L.push(
    'Least-squares slope over the warm part; a series fails when it grows faster than its bound, or passes its ceiling. The store counts are checked as occupancies: live entries over the entries created within one lifetime (sessions: handshakes and rotations within `sessionTtlMs`; nonces: signed requests within max(`sessionTtlMs`, `windowMs` + `maxClockSkewMs`)), at most 1 when every entry ends with its lifetime, whatever the rate.',
    '',
  )
  for (const r of result.runs) {
    L.push(`### ${r.store} store: ${r.verdict.ok ? 'passed' : 'FAILED'}`, '')
    L.push('| series | warm mean | warm min – max | slope per minute | bound per minute | ceiling | |', '|---|---:|---:|---:|---:|---:|---|')
    for (const x of r.verdict.results) {
      if (x.slopePerMin === undefined) L.push(`| ${x.label} | | | | | | ✗ ${x.why} |`)
      else
        L.push(
          `| ${x.label}${x.unit ? ` (${x.unit})` : ''} | ${fmt(x.mean, '')} | ${fmt(x.min, '')} – ${fmt(x.max, '')} | ${x.slopePerMin >= 0 ? '+' : ''}${fmt(x.slopePerMin, '')} | ${fmt(x.bound, '')} | ${x.ceiling ?? ''} | ${x.ok ? '✓' : `✗ ${x.why}`} |`,
        )
    }
    const last = r.samples.at(-1) ?? {}
    if (r.store === 'redis')
      L.push(
        '',
        `Sessions cached unwrapped in the server at the end: ${last.cachedSessions ?? '?'} (bounded at 10 000 by the addon; not slope-checked: abandoned sessions stay cached until a generation swap drops them).`,
      )
    L.push('', `![${r.store}](charts/${r.store}.svg)`, '')
    writeFileSync(path.join(dir, 'charts', `${r.store}.svg`), storeChart(r, result.warmS, result.series, result.info))
  }
  writeFileSync(path.join(dir, 'REPORT.md'), `${L.join('\n')}\n`)
}
