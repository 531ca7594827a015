// RSS per live session in the memory store: this process's RSS (after full GCs) before and after
// holding N sessions, divided by N. `--engine=native` (the addon's NenServer, handshake() with 64
// in flight) or `--engine=wasm` (@withnen/server's WASM engine and its JavaScript memory store,
// the earlier product's architecture; fewer sessions, it is slower). Handshake bodies come from a
// pool of 256 client handshakes: the server keeps one session per handshake it answers, whatever
// the key it was sent.

import { setTimeout as sleep } from 'node:timers/promises'
import { section } from '../lib/child.mjs'
import { SESSIONS, WASM_SESSIONS } from '../lib/config.mjs'
import { collectGarbage, inFlight } from '../lib/inproc.mjs'
import { nen } from '../lib/inputs.mjs'
import { selfRss } from '../lib/machine.mjs'

const engine = process.argv.find((a) => a.startsWith('--engine='))?.slice('--engine='.length) ?? 'native'

async function settledRss() {
  for (let i = 0; i < 3; i++) {
    collectGarbage()
    await sleep(100)
  }
  return selfRss()
}

export async function run() {
  const bodies = Array.from({ length: 256 }, () => nen.NenClientHandshake.start('hybrid').body)
  const count = engine === 'wasm' ? WASM_SESSIONS : SESSIONS
  let handshake
  let live
  if (engine === 'wasm') {
    const { nenOn } = await import('../lib/server-pkg.mjs')
    const e = await (await nenOn('wasm')).engine()
    handshake = (body) => e.handshake(body)
    live = () => null // its JavaScript store does not say
  } else {
    const server = new nen.NenServer({ maxSessions: count + 1000 })
    handshake = (body) => server.handshake(body)
    live = () => server.memoryStats().sessions
  }
  // Warm up the code paths and allocator first, so the baseline is not the cold process.
  for (let i = 0; i < 256; i++) await handshake(bodies[i])
  const before = await settledRss()
  const liveBefore = live()
  const t0 = Date.now()
  await inFlight(64, count, async (i) => {
    const r = await handshake(bodies[i % bodies.length])
    if (r.status !== 200) throw new Error(`handshake answered ${r.status}`)
  })
  const seconds = (Date.now() - t0) / 1000
  const after = await settledRss()
  const held = live() === null ? count : live() - liveBefore
  if (held !== count) throw new Error(`the store holds ${held} new sessions, wanted ${count}`)
  const perSession = (after - before) / count
  console.log(`  ${engine}: ${count} sessions in ${seconds.toFixed(1)} s; RSS ${(before / 2 ** 20).toFixed(1)} → ${(after / 2 ** 20).toFixed(1)} MiB: ${perSession.toFixed(0)} B per session`)
  return { id: `mem.session.${engine}`, engine, sessions: count, before, after, perSession }
}

section(run)
