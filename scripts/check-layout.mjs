#!/usr/bin/env node
// The architecture's arrows, checked from imports and manifests (DEVELOPERS.md "Architecture"):
//   nen-core imports no binding and has no I/O or clock of its own;
//   the bindings depend on nen-core, never on each other;
//   @withnen/client never imports the server or the native addon;
//   @withnen/server does not depend on @withnen/client;
//   no wire literal (a header name, a label, the store layout) outside nen-core and the files
//   generated from it.
// Every rule first runs on a sample that breaks it and must report it, so this check can fail.

import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname

function files(dir, exts) {
  const out = []
  for (const name of readdirSync(join(root, dir))) {
    const p = join(dir, name)
    const st = statSync(join(root, p))
    if (st.isDirectory()) out.push(...files(p, exts))
    else if (exts.some((e) => name.endsWith(e))) out.push(p)
  }
  return out
}

/** Source without comments (line and block), so documentation may name headers. */
function code(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

/** The [dependencies] table of a Cargo.toml, as a string. */
function cargoDeps(toml) {
  const m = /^\[dependencies\]\n([\s\S]*?)(?=^\[)/m.exec(toml + '\n[')
  return m ? m[1] : ''
}

const importsOf = (text) => [...code(text).matchAll(/(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1])

const RULES = [
  {
    name: 'nen-core imports no binding, and has no I/O or clock of its own',
    check: (read) => {
      const bad = []
      for (const dep of ['napi', 'wasm-bindgen', 'js-sys', 'web-sys', 'tokio', 'redis']) {
        if (new RegExp(`^${dep}\\s*=`, 'm').test(cargoDeps(read('crates/nen-core/Cargo.toml')))) bad.push(`crates/nen-core/Cargo.toml depends on ${dep}`)
      }
      for (const f of read.files('crates/nen-core/src', ['.rs'])) {
        const t = code(read(f))
        for (const w of ['napi', 'wasm_bindgen', 'js_sys', 'tokio', 'SystemTime', 'Instant::now', 'std::net', 'std::fs']) if (t.includes(w)) bad.push(`${f} uses ${w}`)
      }
      return bad
    },
    sample: { 'crates/nen-core/Cargo.toml': '[dependencies]\ntokio = "1"\n', 'crates/nen-core/src/x.rs': 'use std::time::SystemTime;' },
  },
  {
    name: 'the bindings depend on nen-core, never on each other',
    check: (read) => {
      const bad = []
      if (/^nen-wasm\s*=/m.test(cargoDeps(read('Cargo.toml')))) bad.push('the addon depends on nen-wasm')
      if (/^nen-server-native\s*=/m.test(cargoDeps(read('crates/nen-wasm/Cargo.toml')))) bad.push('nen-wasm depends on the addon')
      return bad
    },
    sample: { 'Cargo.toml': '[dependencies]\nnen-wasm = { path = "x" }\n', 'crates/nen-wasm/Cargo.toml': '[dependencies]\n' },
  },
  {
    name: '@withnen/client never imports the server or the native addon',
    check: (read) => {
      const bad = []
      const pkg = JSON.parse(read('packages/client/package.json'))
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const d of Object.keys(pkg[field] ?? {})) if (/^@withnen\/server/.test(d)) bad.push(`packages/client/package.json ${field} has ${d}`)
      }
      for (const f of read.files('packages/client/src', ['.ts'])) {
        for (const i of importsOf(read(f))) if (/@withnen\/server|\.\.\/\.\.\/server|nen\.js$|\.node$/.test(i)) bad.push(`${f} imports ${i}`)
      }
      return bad
    },
    sample: { 'packages/client/package.json': '{"dependencies":{"@withnen/server-native":"1"}}', 'packages/client/src/x.ts': "import { NenServer } from '@withnen/server'" },
  },
  {
    name: '@withnen/server does not depend on @withnen/client',
    check: (read) => {
      const bad = []
      const pkg = JSON.parse(read('packages/server/package.json'))
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        if (pkg[field]?.['@withnen/client']) bad.push(`packages/server/package.json ${field} has @withnen/client`)
      }
      for (const f of read.files('packages/server/src', ['.ts'])) {
        for (const i of importsOf(read(f))) if (/@withnen\/client|\.\.\/\.\.\/client|\.\.\/client\//.test(i)) bad.push(`${f} imports ${i}`)
      }
      return bad
    },
    sample: { 'packages/server/package.json': '{"peerDependencies":{"@withnen/client":"1"}}', 'packages/server/src/x.ts': "import { NenClient } from '@withnen/client'" },
  },
  {
    name: 'no wire literal outside nen-core and the files generated from it',
    check: (read) => {
      const bad = []
      const GENERATED = /(catalogue|store-layout|protocol)\.ts$/
      const WIRE = /['"`](x-nen-[a-z-]+|nen\/1 [a-z ]+|nen:)['"`]|redis\.call\(/i
      const sources = [
        ...['packages/client/src', 'packages/server/src', 'packages/ai/src', 'packages/shared'].flatMap((d) => read.files(d, ['.ts'])).filter((f) => !GENERATED.test(f)),
        ...['src', 'crates/nen-wasm/src'].flatMap((d) => read.files(d, ['.rs'])).filter((f) => !/tests?\.rs$/.test(f)),
      ]
      for (const f of sources) {
        code(read(f))
          .split('\n')
          // napi's js_name must be a literal: an attribute, checked against nen-core by the tests.
          .filter((l) => !/^\s*#\[napi\(js_name = /.test(l))
          .forEach((l, n) => {
            const m = WIRE.exec(l)
            if (m) bad.push(`${f}: ${m[0]}`)
          })
      }
      return bad
    },
    sample: { 'packages/server/src/x.ts': "const h = 'x-nen-session'", 'src/x.rs': 'let s = "nen/1 request";' },
  },
]

/** A reader over the repository, or over a sample's files only. */
function reader(sample) {
  const read = (f) => (sample ? (sample[f] ?? '') : readFileSync(join(root, f), 'utf8'))
  read.files = (dir, exts) => (sample ? Object.keys(sample).filter((f) => f.startsWith(dir + '/') && exts.some((e) => f.endsWith(e))) : files(dir, exts))
  return read
}

let failed = false
for (const rule of RULES) {
  const caught = rule.check(reader(rule.sample))
  if (caught.length === 0) {
    console.error(`layout check broken: "${rule.name}" does not catch its own bad sample`)
    failed = true
  }
  const found = rule.check(reader(null))
  for (const f of found) console.error(`layout: ${rule.name}: ${relative(root, join(root, f))}`)
  if (found.length > 0) failed = true
}
if (failed) process.exit(1)
console.log(`layout: ${RULES.length} rules hold (each also caught its own bad sample)`)
