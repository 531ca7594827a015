// Statistics and number formatting shared by every section.

/** The q-quantile (0..1) of `xs`, linear between order statistics. */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const at = (s.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  return s[lo] + (s[hi] - s[lo]) * (at - lo)
}

export const median = (xs) => quantile(xs, 0.5)

/** Median, min, max and quartiles of a list of samples. */
export function summary(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75), n: xs.length }
}

/** The p-th percentile (0..100) of an already sorted typed array. */
export function percentileSorted(sorted, p) {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

export const fmtUs = (us) => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2))
export const fmtRate = (r) => Math.round(r).toLocaleString('en-US').replace(/,/g, ' ')
export const fmtX = (x) => `${x.toFixed(x >= 10 ? 1 : 2)}x`
export const fmtBytes = (b) => (Math.abs(b) >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : Math.abs(b) >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`)

/** "median (min–max)" of a summary, with `fmt` for each number. */
export const fmtSpread = (s, fmt) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`
