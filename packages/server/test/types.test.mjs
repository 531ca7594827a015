// The published declarations compile for the ways applications use them (test/types/usage.ts),
// Next.js's route-export checks included, and the Fastify and Hono entries with those frameworks'
// own types (test/types/frameworks.ts; Fastify's need @types/node).

import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))

test('the declarations type-check as applications use them', { timeout: 60000 }, () => {
  const tsc = `${here}../../../node_modules/typescript/bin/tsc`
  const r = spawnSync(process.execPath, [tsc, '-p', `${here}types/tsconfig.json`], { encoding: 'utf8', timeout: 55000 })
  assert.equal(r.status, 0, r.stdout + r.stderr)
})

test("the Fastify and Hono entries type-check against the frameworks' own types", { timeout: 60000 }, () => {
  const tsc = `${here}../../../node_modules/typescript/bin/tsc`
  const r = spawnSync(process.execPath, [tsc, '-p', `${here}types/tsconfig.frameworks.json`], { encoding: 'utf8', timeout: 55000 })
  assert.equal(r.status, 0, r.stdout + r.stderr)
})
