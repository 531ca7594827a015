// The in-process harness: `bench(name, op, opts)` describes a case, `compare(cases)` runs cases
// side by side (one untimed warm-up round each, then interleaved timed rounds: A B C A B C ...)
// and reports medians and spread over rounds.

import { performance } from 'node:perf_hooks'
import v8 from 'node:v8'
import vm from 'node:vm'
import { ROUNDS } from './config.mjs'
import { otherLoad, tokioCpu } from './machine.mjs'
import { fmtRate, fmtUs, summary } from './stats.mjs'

v8.setFlagsFromString('--expose-gc')
/** A full GC: each round starts on a clean heap and pays for its own garbage only. */
export const collectGarbage = vm.runInNewContext('gc')

/**
 * One measured case: `op(ctx, i)` for i < `iterations`, per round; `setup(iterations)` prepares
 * each round's inputs untimed (a request opens once only, so every round gets fresh ones).
 * `concurrency`: 0 calls `op` in a plain loop, 1 awaits each call, n > 1 keeps n calls in flight.
 * `unit`: how many units of work one op is (1000 stream chunks per op: µs/op stays per op, the
 * rate is reported per unit).
 */
export function bench(name, op, { iterations, setup = () => undefined, concurrency = 0, unit = 1 }) {
  return {
    name,
    unit,
    async round() {
      const ctx = await setup(iterations)
      collectGarbage()
      const tokio0 = tokioCpu()
      const elu0 = performance.eventLoopUtilization()
      const t0 = process.hrtime.bigint()
      if (concurrency === 0) {
        for (let i = 0; i < iterations; i++) op(ctx, i)
      } else {
        await inFlight(concurrency, iterations, (i) => op(ctx, i))
      }
      const wall = Number(process.hrtime.bigint() - t0) / 1e3
      const loop = performance.eventLoopUtilization(elu0).active * 1e3
      return { us: wall / iterations, js: loop / iterations, tokio: (tokioCpu() - tokio0) / iterations }
    },
  }
}

/** Runs `start(i)` for i < total, keeping at most `n` promises pending. */
export async function inFlight(n, total, start) {
  let next = 0
  const lane = async () => {
    while (next < total) await start(next++)
  }
  await Promise.all(Array.from({ length: Math.min(n, total) }, lane))
}

/**
 * Runs `cases` side by side and returns, per case, the summary of its wall µs/op over rounds
 * (`us`: median, min, max, quartiles), the median event-loop and tokio µs/op, and ops/s.
 */
export async function compare(cases, { rounds = ROUNDS } = {}) {
  for (const c of cases) await c.round()
  const meter = otherLoad()
  const samples = cases.map(() => [])
  for (let r = 0; r < rounds; r++) for (const [k, c] of cases.entries()) samples[k].push(await c.round())
  const others = meter()
  return cases.map((c, k) => {
    const us = summary(samples[k].map((x) => x.us))
    const js = summary(samples[k].map((x) => x.js)).median
    const tokio = summary(samples[k].map((x) => x.tokio)).median
    const perSec = (1e6 / us.median) * c.unit
    const threads = `JS ${fmtUs(js)}${tokio > 0.05 ? ` + tokio ${fmtUs(tokio)}` : ''} µs/op`
    console.log(`  ${c.name.padEnd(62)} ${fmtUs(us.median).padStart(7)} µs/op (${fmtUs(us.min)}–${fmtUs(us.max)}) ${fmtRate(perSec).padStart(10)}/s  ${threads}`)
    return { name: c.name, unit: c.unit, us, js, tokio, perSec, others }
  })
}

/** Prints a note when other processes disturbed a comparison. */
export function noteLoad(results) {
  const others = Math.max(...results.map((r) => r.others))
  if (others > 0.1) console.log(`  (other processes kept ${others.toFixed(2)} cores busy meanwhile: expect noise)`)
}
