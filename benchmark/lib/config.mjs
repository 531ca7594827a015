// Run-wide settings, the same in every process of the run (children get the same argv flags).

export const QUICK = process.argv.includes('--quick') // a smoke run: few iterations, numbers meaningless

/** In-process sections: timed rounds per case, after one untimed warm-up round. */
export const ROUNDS = QUICK ? 1 : 7

/** Fixed per-round counts, cut to a fortieth (at least 4) in a quick run. */
export const scale = (n) => (QUICK ? Math.max(4, Math.ceil(n / 40)) : n)

/** HTTP sections: timed rounds per case, seconds per round (its request count is calibrated). */
export const HTTP_ROUNDS = QUICK ? 1 : 5
export const HTTP_ROUND_S = QUICK ? 0.15 : 2
/** Requests of the untimed warm-up round of each HTTP case, and the fewest per timed round. */
export const HTTP_WARMUP = QUICK ? 100 : 3000
export const HTTP_MIN_COUNT = QUICK ? 50 : 500
export const CONNECTIONS = 32

/** Sustained load for the RSS samples, seconds, and how long the replay window takes to fill. */
export const SUSTAIN_S = QUICK ? 3 : 75
export const SUSTAIN_WARM_S = QUICK ? 1 : 40

/** Sessions held for the RSS-per-session figure. */
export const SESSIONS = QUICK ? 5_000 : 100_000
export const WASM_SESSIONS = QUICK ? 200 : 5_000

/** Which sections run: `--only=inprocess,http` (default all). */
export function sections() {
  const arg = process.argv.find((a) => a.startsWith('--only='))
  return arg ? new Set(arg.slice('--only='.length).split(',')) : null
}
