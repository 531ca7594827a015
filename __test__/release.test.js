'use strict'
// Test hooks exist only in test builds. The published addon and WebAssembly modules export
// nothing that seeds a generator or fixes a clock; the test builds (target/nen-test,
// packages/*/wasm-test) do, which is what shows this check can fail.

const test = require('node:test')
const assert = require('node:assert/strict')
const { readFileSync, existsSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const HOOK = /test|seed|fixed.?clock/i

/** Every name a native module exposes: its exports, their statics and prototype methods. */
function nativeNames(mod) {
  const names = []
  for (const [k, v] of Object.entries(mod)) {
    names.push(k)
    if (typeof v === 'function') {
      names.push(...Object.getOwnPropertyNames(v).map((n) => `${k}.${n}`))
      if (v.prototype) names.push(...Object.getOwnPropertyNames(v.prototype).map((n) => `${k}#${n}`))
    }
  }
  return names
}

/** The export names of a .wasm file and the names its wasm-bindgen glue defines. */
function wasmNames(dir) {
  const mod = new WebAssembly.Module(readFileSync(join(dir, 'nen_wasm_bg.wasm')))
  const glue = readFileSync(join(dir, 'nen_wasm.js'), 'utf8')
  const defined = [...glue.matchAll(/^\s*(?:export function|export class|static|)\s*([A-Za-z_$][\w$]*)\s*\(/gm)].map((m) => m[1])
  return [...WebAssembly.Module.exports(mod).map((e) => e.name), ...defined]
}

test('the release addon exports no test hook', () => {
  const names = nativeNames(require(join(root, 'index.js')))
  assert.ok(names.includes('NenServer#open') && names.includes('NenServer#sealError'), 'the listing sees the methods')
  assert.deepEqual(names.filter((n) => HOOK.test(n)), [])
})

test('the test build of the addon does export its hooks (the check above can fail)', { skip: !existsSync(join(root, 'target/nen-test/index.js')) }, () => {
  const names = nativeNames(require(join(root, 'target/nen-test/index.js')))
  assert.ok(names.includes('NenServer#setTestNow'), names.join(' '))
})

test('the release WebAssembly modules export no test hook', () => {
  for (const dir of ['packages/client/wasm', 'packages/server/wasm']) {
    const names = wasmNames(join(root, dir))
    assert.ok(names.some((n) => /clienthandshake/i.test(n)), `${dir}: the listing sees the exports`)
    assert.deepEqual(names.filter((n) => HOOK.test(n)), [], dir)
  }
})

test('the test builds of the WebAssembly modules do export their hooks', () => {
  for (const [dir, hook] of [
    ['packages/client/wasm-test', '__setTestSeed'],
    ['packages/server/wasm-test', 'serverengine_setTestNow'],
  ]) {
    const names = wasmNames(join(root, dir))
    assert.ok(names.some((n) => n.toLowerCase().includes(hook.toLowerCase())), `${dir}: ${hook} missing from ${names.filter((n) => HOOK.test(n))}`)
  }
})
