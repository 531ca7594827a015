'use strict'
// Every package as npm would publish it: its types resolve for require and import under every
// moduleResolution (attw, "Are the types wrong?"), its manifest passes publint, and its tarball
// stays within a size bound, so a regression such as a WebAssembly copy per bundle (1.6 MB
// before) fails here. The table of sizes is printed for the record.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')
const bin = (name) => path.join(root, 'node_modules', '.bin', name)

// name, folder, packed-size bound (bytes), whether it has an importable entry for attw.
const PACKAGES = [
  ['@withnen/server-native', '.', 40_000, true],
  ['@withnen/server', 'packages/server', 700_000, true],
  ['@withnen/client', 'packages/client', 300_000, true],
  ['@withnen/ai', 'packages/ai', 60_000, true],
  ['create-nen-app', 'packages/create-nen-app', 200_000, false], // a CLI: bin only, nothing to import
]

const run = (cmd, args, cwd) => {
  try {
    return { ok: true, out: execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) }
  } catch (e) {
    return { ok: false, out: `${e.stdout}${e.stderr}` }
  }
}

const sizes = []
for (const [name, dir, bound, importable] of PACKAGES) {
  const cwd = path.join(root, dir)
  test(`${name}: publint finds nothing`, () => {
    const r = run(bin('publint'), ['--strict'], cwd)
    assert.ok(r.ok, r.out)
    assert.match(r.out, /All good!/)
  })
  if (importable) {
    test(`${name}: attw finds no problem in any resolution mode`, () => {
      // nen.wasm is an asset subpath, not a module: nothing for TypeScript to resolve.
      const r = run(bin('attw'), ['--pack', '.', '--exclude-entrypoints', './nen.wasm', '--format', 'ascii'], cwd)
      assert.ok(r.ok, r.out)
      assert.match(r.out, /No problems found/)
    })
  }
  test(`${name}: the tarball is under ${bound / 1000} KB`, () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd, encoding: 'utf8' }))
    sizes.push(`${name.padEnd(24)} ${String(packed.size).padStart(9)} B packed, ${String(packed.unpackedSize).padStart(9)} B unpacked, ${packed.entryCount} files`)
    assert.ok(packed.size < bound, `${name} packs to ${packed.size} bytes, over its ${bound} bound`)
  })
}

test.after(() => console.log(`tarball sizes:\n${sizes.join('\n')}`))
