// Measures HTTP cases side by side: each case is a running server plus what the load generator
// sends it. One untimed warm-up round per case calibrates its request count (HTTP_ROUND_S worth
// at the warm-up rate), then HTTP_ROUNDS timed rounds with the cases interleaved. Per round: req/s
// (requests ÷ generator wall time), p50/p99 latency, the server's CPU per request (its whole
// process group, from /proc) and the generator's own CPU (cores it kept busy).

import { CONNECTIONS, HTTP_MIN_COUNT, HTTP_ROUNDS, HTTP_ROUND_S, HTTP_WARMUP } from '../lib/config.mjs'
import { groupCpuMeter, otherLoad, pidCpuMeter } from '../lib/machine.mjs'
import { fmtRate, fmtUs, median, summary } from '../lib/stats.mjs'

const MAX_COUNT = 250_000

/**
 * `cases`: [{id, name, server: {pid, port}, spec, extraPid?}] where spec is the generator's
 * target (http/loadgen.mjs) without its port. Returns one result per case.
 */
export async function compareHttp(gen, cases) {
  const cpuOf = new Map()
  for (const c of cases) {
    await gen.call('target', { name: c.id, spec: { ...c.spec, port: c.server.port } })
    cpuOf.set(c.id, { server: groupCpuMeter(c.server.pid), extra: c.extraPid ? pidCpuMeter(c.extraPid) : null })
  }
  const genCpu = pidCpuMeter(gen.pid)
  const counts = new Map()
  for (const c of cases) {
    // Handshakes are slower (the WASM engine's much slower): a third of the warm-up.
    const r = await round(gen, c, c.spec.kind === 'handshake' ? Math.ceil(HTTP_WARMUP / 3) : HTTP_WARMUP, cpuOf.get(c.id), genCpu)
    counts.set(c.id, Math.max(HTTP_MIN_COUNT, Math.min(MAX_COUNT, Math.round(r.rps * HTTP_ROUND_S))))
  }
  const samples = new Map(cases.map((c) => [c.id, []]))
  for (let k = 0; k < HTTP_ROUNDS; k++) {
    for (const c of cases) samples.get(c.id).push(await round(gen, c, counts.get(c.id), cpuOf.get(c.id), genCpu))
  }
  return cases.map((c) => {
    const s = samples.get(c.id)
    const r = {
      id: c.id,
      name: c.name,
      rps: summary(s.map((x) => x.rps)),
      p50: median(s.map((x) => x.p50)),
      p99: median(s.map((x) => x.p99)),
      serverUs: median(s.map((x) => x.serverUs)),
      extraUs: c.extraPid ? median(s.map((x) => x.extraUs)) : null,
      genCores: Math.max(...s.map((x) => x.genCores)),
      serverCores: median(s.map((x) => x.serverCores)),
      others: Math.max(...s.map((x) => x.others)),
      requests: counts.get(c.id),
    }
    const extra = r.extraUs === null ? '' : ` + redis ${fmtUs(r.extraUs)}`
    console.log(
      `  ${c.name.padEnd(46)} ${fmtRate(r.rps.median).padStart(7)} req/s (${fmtRate(r.rps.min)}–${fmtRate(r.rps.max)})  p50 ${fmtUs(r.p50)} p99 ${fmtUs(r.p99)} µs  server ${fmtUs(r.serverUs)}${extra} µs CPU/req  generator ≤${r.genCores.toFixed(2)} cores`,
    )
    if (r.others > 0.15) console.log(`    (other processes kept ${r.others.toFixed(2)} cores busy meanwhile: expect noise)`)
    return r
  })
}

async function round(gen, c, count, cpu, genCpu) {
  await gen.call('prepare', { name: c.id, count })
  const s0 = cpu.server()
  const e0 = cpu.extra?.() ?? 0
  const others = otherLoad(() => {
    const u = process.cpuUsage()
    return u.user + u.system + cpu.server() + (cpu.extra?.() ?? 0) + genCpu()
  })
  const r = await gen.call('run', { name: c.id, connections: CONNECTIONS })
  const serverUs = cpu.server() - s0
  const extraUs = (cpu.extra?.() ?? 0) - e0
  return {
    rps: (r.count / r.elapsedUs) * 1e6,
    p50: r.p50,
    p99: r.p99,
    serverUs: serverUs / r.count,
    extraUs: extraUs / r.count,
    serverCores: serverUs / r.elapsedUs,
    genCores: r.genCpuUs / r.elapsedUs, // measured in the generator around the load only
    others: others(),
  }
}
