// `npm run bench` (through run.sh, which builds what is missing): every section side by side in
// one run, each in a child process of its own, then benchmark/RESULTS.md and benchmark/charts/.
//
//   node benchmark/main.mjs [--quick] [--only=core,adapters,memory,http] [--report-only]
//
// --quick: a smoke run of about a minute; it checks the harness works, its numbers mean nothing.
// --report-only: renders RESULTS.md and the charts again from benchmark/.work/results.json.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { runSection } from './lib/child.mjs'
import { QUICK, sections } from './lib/config.mjs'
import { nen } from './lib/inputs.mjs'
import { benchDir, loadedAddon, machineInfo, otherLoad } from './lib/machine.mjs'
import { writeReport } from './report/results.mjs'

const resultsFile = path.join(benchDir, '.work/results.json')
const only = sections()
const wanted = (name) => !only || only.has(name)
const sectionFile = (name) => path.join(benchDir, 'sections', `${name}.mjs`)

async function measure() {
  const t0 = Date.now()
  const info = machineInfo()
  void nen // loaded to name the addon file below
  const addon = loadedAddon()
  console.log(`Nen benchmark${QUICK ? ' (--quick: smoke run, numbers meaningless)' : ''}`)
  console.log(`  ${info.cpu}, ${info.cores} cores (${info.simd}), ${info.memGiB} GiB, ${info.os}`)
  console.log(`  Node ${info.node} (OpenSSL ${info.openssl}), N-API ${info.napi}; commit ${info.commit}${info.dirty ? ' + uncommitted changes' : ''}`)
  console.log(`  addon: ${addon.file}`)
  if (addon.debugInfo) console.log('  WARNING: the addon carries debug info: likely a debug (unoptimised) build; numbers are not representative.')
  const idle = otherLoad()
  await new Promise((r) => setTimeout(r, 1000))
  const before = idle()
  console.log(`  other processes kept ${before.toFixed(2)} of ${info.cores} cores busy in the second before the run`)
  const results = { info, addon, quick: QUICK, otherLoadBefore: before, only: only ? [...only] : null }
  const timed = async (title, run) => {
    console.log(`\n== ${title} ==`)
    const s0 = Date.now()
    const r = await run()
    console.log(`  (${((Date.now() - s0) / 1000).toFixed(0)} s)`)
    return r
  }
  if (wanted('core')) results.core = await timed('In process, the addon against the peers', () => runSection(sectionFile('core')))
  if (wanted('adapters')) results.adapters = await timed('In process, @withnen/server against plain handlers and the WASM engine', () => runSection(sectionFile('adapters')))
  if (wanted('memory')) {
    results.memory = await timed('RSS per live session', async () => [await runSection(sectionFile('memory'), ['--engine=native']), await runSection(sectionFile('memory'), ['--engine=wasm'])])
  }
  if (wanted('http')) results.http = await timed('Over HTTP', () => runSection(sectionFile('http')))
  results.wallS = (Date.now() - t0) / 1000
  mkdirSync(path.dirname(resultsFile), { recursive: true })
  writeFileSync(resultsFile, JSON.stringify(results))
  return results
}

const results = process.argv.includes('--report-only') ? JSON.parse(readFileSync(resultsFile, 'utf8')) : await measure()
const { file, targets } = writeReport(results)
console.log(`\nTargets (ratios of medians measured in this run):`)
for (const t of targets) console.log(`  ${t.met === null ? '  –   ' : t.met ? '✅ met ' : '❌ missed'}  ${t.what}: ${t.measured} (bar: ${t.bar})`)
console.log(`\nWrote ${path.relative(process.cwd(), file)} and its charts; measuring took ${results.wallS.toFixed(0)} s.`)
