// Small SVG charts, written by hand (no chart library): horizontal bars with min–max whiskers,
// and a line over time.

export const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12"'
export const COLORS = { plain: '#9aa5b1', nen: '#2f6fdf', wasm: '#e8833a', peer: '#8e5bd0', other: '#4caf7a' }

export const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Axis ticks from 0 past `max` in 1-2-5 steps: [0, step, 2 step, ...]. */
export function ticks(max, target = 5) {
  if (!(max > 0)) return [0, 1]
  const raw = max / target
  const p = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)
  const out = []
  for (let v = 0; v < max + step * 0.999; v += step) out.push(v)
  return out
}

export const fmtAxis = (v) => (v >= 1e6 ? `${+(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toFixed(2)}`)
const fmtValue = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 100 ? Math.round(v).toLocaleString('en-US') : `${+v.toPrecision(3)}`)

/** The colour key of the kinds present. */
function legend(kinds, x, y) {
  const names = { plain: 'without encryption', nen: 'Nen (native)', wasm: 'Nen, WASM engine', peer: 'peer (noble / node:crypto)' }
  const out = []
  for (const k of Object.keys(names).filter((n) => kinds.has(n))) {
    out.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${COLORS[k]}"/><text x="${x + 14}" y="${y}" fill="#333">${names[k]}</text>`)
    x += 30 + names[k].length * 6.5
  }
  return out.join('')
}

/**
 * bars: [{label, value, min?, max?, kind}] drawn top to bottom; `unit` names the axis; `note`
 * is printed under it.
 */
export function barChart({ title, unit, bars, note = '' }) {
  const labelW = 330
  const plotW = 420
  const rowH = 22
  const top = 34
  const height = top + bars.length * rowH + 56
  const axis = ticks(Math.max(...bars.map((b) => b.max ?? b.value)))
  const top1 = axis[axis.length - 1]
  const x = (v) => labelW + (v / top1) * plotW
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 90}" height="${height}" ${FONT}>`, '<rect width="100%" height="100%" fill="#fff"/>']
  out.push(`<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`)
  for (const v of axis) {
    out.push(`<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${top + bars.length * rowH}" stroke="#e3e6ea"/>`)
    out.push(`<text x="${x(v)}" y="${top + bars.length * rowH + 14}" text-anchor="middle" fill="#555">${fmtAxis(v)}</text>`)
  }
  for (const [i, b] of bars.entries()) {
    const y = top + i * rowH
    out.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`)
    out.push(`<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, x(b.value) - labelW)}" height="${rowH - 8}" fill="${COLORS[b.kind] ?? COLORS.other}"/>`)
    if (b.min !== undefined && b.max !== undefined) {
      const cy = y + rowH / 2
      out.push(`<line x1="${x(b.min)}" y1="${cy}" x2="${x(b.max)}" y2="${cy}" stroke="#222"/>`)
      out.push(`<line x1="${x(b.min)}" y1="${cy - 4}" x2="${x(b.min)}" y2="${cy + 4}" stroke="#222"/>`)
      out.push(`<line x1="${x(b.max)}" y1="${cy - 4}" x2="${x(b.max)}" y2="${cy + 4}" stroke="#222"/>`)
    }
    out.push(`<text x="${Math.max(x(b.value), x(b.max ?? 0)) + 6}" y="${y + 15}" fill="#333">${fmtValue(b.value)}</text>`)
  }
  out.push(`<text x="${labelW}" y="${height - 20}" fill="#555">${esc(unit)}${note ? ` · ${esc(note)}` : ''}</text>`)
  out.push(legend(new Set(bars.map((b) => b.kind)), labelW, height - 4))
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

/** points: [{t, v}]; `mark` draws a dashed vertical line at that t (e.g. the end of warm-up). */
export function lineChart({ title, unit, points, mark, markLabel = '', note = '' }) {
  const left = 70
  const w = 680
  const h = 240
  const top = 34
  const tMax = Math.max(...points.map((p) => p.t), 1)
  const axis = ticks(Math.max(...points.map((p) => p.v)) * 1.05, 4)
  const vMax = axis[axis.length - 1]
  const x = (t) => left + (t / tMax) * w
  const y = (v) => top + h - (v / vMax) * h
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + w + 30}" height="${top + h + 50}" ${FONT}>`, '<rect width="100%" height="100%" fill="#fff"/>']
  out.push(`<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`)
  for (const v of axis) {
    out.push(`<line x1="${left}" y1="${y(v)}" x2="${left + w}" y2="${y(v)}" stroke="#e3e6ea"/>`)
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${fmtAxis(v)}</text>`)
  }
  for (let k = 0; k <= 5; k++) {
    const t = (tMax * k) / 5
    out.push(`<text x="${x(t)}" y="${top + h + 16}" text-anchor="middle" fill="#555">${t.toFixed(tMax < 10 ? 1 : 0)} s</text>`)
  }
  if (mark !== undefined) {
    out.push(`<line x1="${x(mark)}" y1="${top}" x2="${x(mark)}" y2="${top + h}" stroke="#999" stroke-dasharray="4 3"/>`)
    out.push(`<text x="${x(mark) + 4}" y="${top + 12}" fill="#777">${esc(markLabel)}</text>`)
  }
  out.push(`<polyline fill="none" stroke="${COLORS.nen}" stroke-width="2" points="${points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')}"/>`)
  out.push(`<text x="${left}" y="${top + h + 38}" fill="#555">${esc(unit)}${note ? ` · ${esc(note)}` : ''}</text>`)
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
