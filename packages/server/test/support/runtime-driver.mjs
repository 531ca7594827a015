// Run by test/runtimes.test.mjs under Deno (`deno run -A`) and Bun: serves the default export of
// the README example given as argument (`{ fetch }`, as `deno serve` and `bun` take it) on a free
// loopback port with the runtime's own server, runs the client scenario against it in the same
// runtime, and prints one JSON line: the runtime, the engine and what the scenario returned.

import { createNen } from '@withnen/server'
import { exampleScenario } from './example-scenario.mjs'

const deno = globalThis.Deno
const bun = globalThis.Bun
// `node --test test/` also loads this file (it is under test/): there it has nothing to do.
if (deno || bun) await main()

async function main() {
  const file = deno ? deno.args[0] : process.argv[2]
  const app = (await import(file)).default
  const fetchHandler = (req) => app.fetch(req)

  // `engine: 'auto'` (what the example's default configuration uses) takes the native addon when it
  // loads: the same attempt, made on its own, says which engine served.
  let engine = 'native'
  try {
    await createNen({ engine: 'native' }).engine()
  } catch {
    engine = 'wasm'
  }

  let url
  let stop
  if (deno) {
    const server = deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, fetchHandler)
    url = `http://127.0.0.1:${server.addr.port}`
    stop = () => server.shutdown()
  } else {
    const server = bun.serve({ port: 0, hostname: '127.0.0.1', fetch: fetchHandler })
    url = `http://127.0.0.1:${server.port}`
    stop = () => server.stop(true)
  }

  let result
  try {
    result = await exampleScenario(url)
  } catch (e) {
    result = { error: String(e?.stack ?? e) }
  }
  await stop()
  console.log(JSON.stringify({ runtime: deno ? `deno ${deno.version.deno}` : `bun ${bun.version}`, engine, result }))
}
