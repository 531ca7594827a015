// The soak's verdict, apart from the run so it can be tested on series made to fail: a
// least-squares slope per series over the warm part of the run, against a stated bound.

/**
 * Two profiles. Steady state needs every store entry to have a bounded life: sessions end by
 * terminate or by expiry (sessionTtlMs), rotated-away ones with their grace, replay records
 * once their request can no longer pass the window (windowMs + maxClockSkewMs). The CI profile
 * shortens all of them so that 60 s hold a warm part long enough to fit.
 */
export const PROFILES = {
  full: { seconds: 600, sampleMs: 5000, nen: { sessionTtlMs: 30_000, windowMs: 30_000, maxClockSkewMs: 5_000, rotationGraceMs: 5_000 } },
  ci: { seconds: 60, sampleMs: 1000, nen: { sessionTtlMs: 5_000, windowMs: 5_000, maxClockSkewMs: 1_000, rotationGraceMs: 2_000 } },
}

/**
 * Warm once every entry created at the start has had its whole life and the counts have
 * settled where expiry matches creation: twice the longest life, plus 10 s for the JIT and the
 * allocators.
 */
export function warmUpS(nen) {
  return (2 * Math.max(nen.sessionTtlMs, nen.windowMs + nen.maxClockSkewMs)) / 1000 + 10
}

/**
 * The series checked, per store, with their bounds: `perMin` is the largest slope allowed, in
 * the series' unit per minute (`ciPerMin` in the 60-second CI profile, whose warm part is 38 s:
 * there RSS still steps up by 5-6 MiB at a time as the allocators take more memory, and the
 * event-loop delay of a shared machine swings by tens of ms, so it catches gross leaks only (at
 * 300 answers/s, 24 MiB/min is 1.4 KB per answer); the 10-minute run holds the fine bounds);
 * `ciPerAnswer`, where given, raises the CI bound to that many bytes per answer at the warm
 * part's own rate (RSS: on a quiet machine the load runs at twice the rate, and the allocators'
 * first-minute growth with it: 25.5 MiB/min at 820 answers/s, 544 B per answer, failed the fixed
 * bound in one CI run while the heap stayed flat); `max`, where given, a
 * ceiling no warm sample may pass. `scale`
 * converts a sample's value to the unit shown.
 *
 * The store's counts are checked as an occupancy: live entries over the entries created within
 * one lifetime (sessions: handshakes and rotations within sessionTtlMs; nonces: signed requests
 * within the longest a nonce can be kept, max(sessionTtlMs, windowMs + maxClockSkewMs)). A raw
 * count follows the rate, which moves with whatever else runs on a shared machine; the
 * occupancy does not, is at most 1 when every entry ends with its lifetime, and grows without
 * bound when some never do.
 */
export const SERIES = [
  { key: 'rss', label: 'server RSS', unit: 'MiB', scale: 1 / 2 ** 20, perMin: 2, ciPerMin: 24, ciPerAnswer: 1536 },
  { key: 'heapUsed', label: 'V8 heap used (after a full GC)', unit: 'MiB', scale: 1 / 2 ** 20, perMin: 0.5, ciPerMin: 2 },
  { key: 'handles', label: 'active handles and requests', unit: '', scale: 1, perMin: 3, ciPerMin: 10 },
  { key: 'eldP99Ms', label: 'event-loop delay p99', unit: 'ms', scale: 1, perMin: 2, ciPerMin: 30 },
  { key: 'sessionsOcc', label: 'live sessions / created within a TTL', unit: '', scale: 1, perMin: 0.05, ciPerMin: 0.2, max: 1.1, store: 'memory' },
  { key: 'noncesOcc', label: 'remembered nonces / requests within a nonce life', unit: '', scale: 1, perMin: 0.05, ciPerMin: 0.2, max: 1.1, store: 'memory' },
  { key: 'redisUsedMemory', label: 'Redis used_memory', unit: 'MiB', scale: 1 / 2 ** 20, perMin: 1, ciPerMin: 4, store: 'redis' },
  { key: 'redisKeysOcc', label: 'Redis keys / sessions created within a TTL', unit: '', scale: 1, perMin: 0.05, ciPerMin: 0.2, max: 1.1, store: 'redis' },
]

/** Shown in the charts beside the checked series, not checked themselves. */
export const INFO = [
  { key: 'sessions', label: 'live sessions (memoryStats)', store: 'memory' },
  { key: 'nonces', label: 'remembered nonces (memoryStats)', store: 'memory' },
  { key: 'redisKeys', label: 'Redis keys (one per live session)', store: 'redis' },
  { key: 'cachedSessions', label: 'sessions cached unwrapped (at most 10 000)', store: 'redis' },
]

/** Entries created so far, from the load's cumulative counters. */
const CREATED = {
  sessions: (s) => s.handshakes + s.rotations,
  requests: (s) => s.posts + s.gets + s.streams + s.rotations + s.statuses + s.terminates,
}

/**
 * The samples with the occupancies added: each count over what was created since the last
 * sample at least one lifetime older (so over at least one lifetime: the ceiling errs towards
 * passing, never towards a false failure). Samples younger than one lifetime get none.
 */
export function withOccupancy(samples, nen) {
  const life = { sessions: nen.sessionTtlMs / 1000, nonces: Math.max(nen.sessionTtlMs, nen.windowMs + nen.maxClockSkewMs) / 1000 }
  const since = (i, seconds, created) => {
    let j = i
    while (j >= 0 && samples[j].t > samples[i].t - seconds) j--
    return j < 0 ? null : created(samples[i]) - created(samples[j])
  }
  return samples.map((s, i) => {
    const out = { ...s }
    const sessions = since(i, life.sessions, CREATED.sessions)
    const requests = since(i, life.nonces, CREATED.requests)
    if (sessions && Number.isFinite(s.sessions)) out.sessionsOcc = s.sessions / sessions
    if (requests && Number.isFinite(s.nonces)) out.noncesOcc = s.nonces / requests
    if (sessions && Number.isFinite(s.redisKeys)) out.redisKeysOcc = s.redisKeys / sessions
    return out
  })
}

/** Least-squares fit of v against t (seconds): slope per second, intercept, and the mean of v. */
export function fit(points) {
  const n = points.length
  if (n < 3) return null
  let st = 0
  let sv = 0
  for (const p of points) {
    st += p.t
    sv += p.v
  }
  const mt = st / n
  const mv = sv / n
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv)
    den += (p.t - mt) ** 2
  }
  if (den === 0) return null
  const slope = num / den
  return { slope, intercept: mv - slope * mt, mean: mv, n }
}

/** Answers per minute over `samples` from the load's cumulative counters; null without them. */
export function answersPerMin(samples) {
  const answers = (x) => x.handshakes + CREATED.requests(x)
  const first = samples[0]
  const last = samples[samples.length - 1]
  if (!first || last.t <= first.t || !Number.isFinite(answers(first)) || !Number.isFinite(answers(last))) return null
  return ((answers(last) - answers(first)) / (last.t - first.t)) * 60
}

/**
 * Checks one store's samples ({t, ...values}, t in seconds from the start) after `warmS`, with
 * the bounds of `profile` ('full' or 'ci'):
 * every series of SERIES that applies must have a warm slope at most its bound, and stay under
 * its ceiling if it has one (the occupancies: pass samples through withOccupancy). Returns
 * {ok, results: [{key, label, unit, slopePerMin, bound, mean, min, max, n, ok, why}]}. A series
 * with too few warm samples fails: a run too short to judge is not a pass.
 */
export function analyse(store, samples, warmS, profile = 'full', series = SERIES) {
  const results = []
  for (const s of series) {
    if (s.store && s.store !== store) continue
    const warm = samples.filter((x) => x.t >= warmS && Number.isFinite(x[s.key])).map((x) => ({ t: x.t, v: x[s.key] * s.scale }))
    const f = fit(warm)
    if (!f || warm.length < 8) {
      results.push({ key: s.key, label: s.label, unit: s.unit, n: warm.length, ok: false, why: `only ${warm.length} warm samples` })
      continue
    }
    const slopePerMin = f.slope * 60
    let bound = profile === 'ci' && s.ciPerMin !== undefined ? s.ciPerMin : s.perMin
    const perMin = answersPerMin(samples.filter((x) => x.t >= warmS))
    if (profile === 'ci' && s.ciPerAnswer !== undefined && perMin !== null) bound = Math.max(bound, s.ciPerAnswer * perMin * s.scale)
    const values = warm.map((p) => p.v)
    const max = Math.max(...values)
    const over = s.max !== undefined && max > s.max
    const ok = slopePerMin <= bound && !over
    results.push({
      key: s.key,
      label: s.label,
      unit: s.unit,
      slopePerMin,
      bound,
      mean: f.mean,
      min: Math.min(...values),
      max,
      ceiling: s.max,
      intercept: f.intercept,
      n: warm.length,
      ok,
      why: over ? `reaches ${max.toFixed(3)}, ceiling ${s.max}` : ok ? '' : `grows ${slopePerMin.toFixed(3)} ${s.unit}/min, bound ${bound.toFixed(3)}`,
    })
  }
  return { ok: results.every((r) => r.ok), results }
}
