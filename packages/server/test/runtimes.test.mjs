// The client and the Web handlers under Deno and Bun (the binaries of the npm packages `deno`
// and `bun`, pinned in devDependencies): the README's Web-handler and Hono examples, each served
// by the runtime's own server and driven by the client in the same runtime
// (support/runtime-driver.mjs). The scenario's output, a re-targeted request's exact ISO-3002
// included, and the engine that served are asserted here.

import test from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { EXPECTED } from './support/example-scenario.mjs'
import { writeExample } from './support/readme.mjs'

const here = fileURLToPath(new URL('.', import.meta.url))
const bin = `${here}../../../node_modules/.bin/`
const driver = `${here}support/runtime-driver.mjs`

/**
 * [runtime, command, the engine it serves with]. Both load the N-API addon: Bun by package
 * name, Deno through the repository's nen.js (the root package declares `type: commonjs`, which
 * Deno needs to import it as CommonJS).
 */
const RUNTIMES = [
  ['Deno', [`${bin}deno`, 'run', '-A', '--quiet', driver], 'deno 2.9.6', 'native'],
  ['Bun', [`${bin}bun`, driver], 'bun 1.4.5', 'native'],
]

function run([cmd, ...args], file) {
  return new Promise((resolve) => {
    execFile(cmd, [...args, file], { cwd: `${here}..`, timeout: 60_000, env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } }, (err, stdout, stderr) => resolve({ err, stdout, stderr }))
  })
}

const examples = { web: writeExample('web'), hono: writeExample('hono') }

for (const [runtime, command, version, engine] of RUNTIMES) {
  for (const [example, file] of Object.entries(examples)) {
    test(`${runtime}: the README's ${example} example, served and called in ${runtime}`, { timeout: 70_000 }, async () => {
      const { err, stdout, stderr } = await run(command, file)
      assert.equal(err, null, `${runtime} failed: ${stderr}`)
      const lines = stdout.trim().split('\n')
      assert.deepEqual(JSON.parse(lines.at(-1)), { runtime: version, engine, result: EXPECTED }, stdout + stderr)
    })
  }
}
