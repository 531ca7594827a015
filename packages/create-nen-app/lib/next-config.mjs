// Adds '@withnen/server-native' to `serverExternalPackages` in a Next.js config (Next 15 and
// later; 14 calls it `experimental.serverComponentsExternalPackages`), or writes a config
// that has it. Only plain shapes are patched (one config object literal, found by its export);
// anything else is left alone and reported, with the line to add by hand.

import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export const PACKAGE = '@withnen/server-native'
export const CONFIG_NAMES = ['next.config.ts', 'next.config.mts', 'next.config.mjs', 'next.config.js', 'next.config.cjs']

/** Where a Next.js major reads the list of packages to load with require instead of bundling. */
export function configKey(nextMajor) {
  return nextMajor !== undefined && nextMajor < 15 ? LEGACY : MODERN
}
/** Next.js 15 and later. */
export const MODERN = { key: 'serverExternalPackages', snippet: `serverExternalPackages: ['${PACKAGE}'],`, typescript: true }
/**
 * Next.js 14 (14.2.7 and later: earlier versions are refused; no next.config.ts before 15), where instrumentation.ts, which loads
 * @withnen/server before the first request, also runs only with `instrumentationHook`.
 */
export const LEGACY = {
  key: 'serverComponentsExternalPackages',
  within: 'experimental',
  snippet: `experimental: { serverComponentsExternalPackages: ['${PACKAGE}'], instrumentationHook: true },`,
  inner: `serverComponentsExternalPackages: ['${PACKAGE}'], instrumentationHook: true,`,
  typescript: false,
}
export const SNIPPET = MODERN.snippet

/** What to tell someone whose config could not be patched. */
export function manualInstructions(file, flavour = MODERN) {
  return [
    `Could not update ${path.basename(file)} safely. Add this to the object your Next.js config exports:`,
    '',
    `  ${flavour.snippet}`,
    '',
    `(or add '${PACKAGE}' to the ${flavour.within ? `${flavour.within}.` : ''}${flavour.key} you already have). Next.js must load the`,
    'native addon with require at run time instead of bundling it; without it `next build` fails.',
  ].join('\n')
}

const tsConfig = (flavour) => `import type { NextConfig } from 'next'

const nextConfig: NextConfig = {
  ${flavour.snippet}
}

export default nextConfig
`

const mjsConfig = (flavour) => `/** @type {import('next').NextConfig} */
const nextConfig = {
  ${flavour.snippet}
}

export default nextConfig
`

/** Removes comments and the contents of strings, keeping offsets, so searches see only code. */
function codeOnly(src) {
  let out = ''
  for (let i = 0; i < src.length; ) {
    const c = src[i]
    const two = src.slice(i, i + 2)
    if (two === '//') {
      const end = src.indexOf('\n', i)
      const stop = end === -1 ? src.length : end
      out += ' '.repeat(stop - i)
      i = stop
    } else if (two === '/*') {
      const end = src.indexOf('*/', i + 2)
      const stop = end === -1 ? src.length : end + 2
      out += src.slice(i, stop).replace(/[^\n]/g, ' ')
      i = stop
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1
      out += c + src.slice(i + 1, j).replace(/[^\n]/g, ' ') + (j < src.length ? c : '')
      i = j + 1
    } else {
      out += c
      i++
    }
  }
  return out
}

/**
 * Patches `text` (a config's source). Returns {text, action: 'present' | 'patched'} or
 * {action: 'manual', reason}.
 */
export function patchConfigText(text, flavour = MODERN) {
  const code = codeOnly(text)
  const { key } = flavour
  if (text.includes(PACKAGE) && new RegExp(`\\b${key}\\b`).test(code)) return { text, action: 'present' }

  // An existing list: add to it.
  const lists = [...code.matchAll(new RegExp(`\\b${key}\\s*:\\s*\\[`, 'g'))]
  if (lists.length === 1) {
    const at = lists[0].index + lists[0][0].length
    const empty = /^\s*\]/.test(code.slice(at))
    return { text: text.slice(0, at) + `'${PACKAGE}'` + (empty ? '' : ', ') + text.slice(at), action: 'patched' }
  }
  if (new RegExp(`\\b${key}\\b`).test(code)) return { action: 'manual', reason: `${key} is set in a way this tool does not edit` }
  // Next 14: an `experimental: {` object already there takes the key inside it.
  if (flavour.within) {
    const blocks = [...code.matchAll(new RegExp(`\\b${flavour.within}\\s*:\\s*\\{`, 'g'))]
    if (blocks.length === 1) {
      const at = blocks[0].index + blocks[0][0].length
      return { text: `${text.slice(0, at)} ${flavour.inner}${text.slice(at)}`, action: 'patched' }
    }
    if (new RegExp(`\\b${flavour.within}\\b`).test(code)) return { action: 'manual', reason: `${flavour.within} is set in a way this tool does not edit` }
  }
  const snippet = flavour.snippet

  // The exported object literal: `export default {`, `module.exports = {`, or a variable
  // holding one that an export names (also through a plugin: `export default withX(config)`).
  const candidates = []
  for (const m of code.matchAll(/\bexport\s+default\s*\{|\bmodule\.exports\s*=\s*\{/g)) candidates.push(m.index + m[0].length)
  for (const m of code.matchAll(/\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::\s*[A-Za-z_$][\w$.]*(?:<[^>{}=]*>)?\s*)?=\s*\{/g)) {
    const exported = new RegExp(`(?:\\bexport\\s+default|\\bmodule\\.exports\\s*=)[^;\\n]*\\b${m[1].replace(/\$/g, '\\$')}\\b`)
    if (exported.test(code)) candidates.push(m.index + m[0].length)
  }
  if (candidates.length !== 1) return { action: 'manual', reason: candidates.length ? 'more than one config object' : 'no config object literal found (a function or an import?)' }
  const at = candidates[0]
  const rest = text.slice(at)
  // The object's own level: its closing brace, and whether it spreads another object (whose
  // serverExternalPackages would then win over the one added here).
  let depth = 0
  let close = -1
  let spreads = false
  for (let i = at; i < code.length && close < 0; i++) {
    const c = code[i]
    if (c === '{' || c === '[' || c === '(') depth++
    else if (c === '}' || c === ']' || c === ')') {
      if (depth === 0) close = i
      else depth--
    } else if (depth === 0 && code.startsWith('...', i)) spreads = true
  }
  if (close < 0) return { action: 'manual', reason: 'the config object does not close' }
  if (spreads) return { action: 'manual', reason: 'the config object spreads another one' }
  // An empty object (`{}`, `{ }`) gets its own lines; otherwise the entry goes first, indented
  // like the line after the brace.
  if (/^\s*\}/.test(rest)) return { text: text.slice(0, at) + `\n  ${snippet}\n` + rest.replace(/^\s*/, ''), action: 'patched' }
  if (!text.slice(at, close).includes('\n')) {
    // One line: `{ a: 1 }` → `{ serverExternalPackages: [...], a: 1 }`.
    const body = text.slice(at, close).trim()
    return { text: text.slice(0, at) + ` ${snippet}` + (body ? ` ${body} ` : ' ') + text.slice(close), action: 'patched' }
  }
  const indent = /^[^\S\n]*\n([^\S\n]+)\S/.exec(rest)?.[1] ?? '  '
  return { text: text.slice(0, at) + `\n${indent}${snippet}` + rest, action: 'patched' }
}

/** Node can check the syntax of JavaScript configs; TypeScript ones are checked by `next build`. */
function syntaxOk(file) {
  if (!/\.(m|c)?js$/.test(file)) return true
  return spawnSync(process.execPath, ['--check', file], { stdio: 'ignore' }).status === 0
}

/**
 * Makes the project's Next.js config external-ise the addon. Returns {file, action} with action
 * 'created', 'patched', 'present' or 'manual' (then also `instructions`); never leaves a file it
 * could not patch changed.
 */
export function ensureNextConfig(projectDir, { typescript, flavour = MODERN }) {
  const found = CONFIG_NAMES.map((n) => path.join(projectDir, n)).filter((f) => existsSync(f))
  if (found.length === 0) {
    const ts = typescript && flavour.typescript
    const file = path.join(projectDir, ts ? 'next.config.ts' : 'next.config.mjs')
    writeFileSync(file, ts ? tsConfig(flavour) : mjsConfig(flavour))
    return { file, action: 'created' }
  }
  const file = found[0]
  if (found.length > 1) return { file, action: 'manual', instructions: `More than one Next.js config (${found.map((f) => path.basename(f)).join(', ')}).\n` + manualInstructions(file) }
  const before = readFileSync(file, 'utf8')
  const r = patchConfigText(before, flavour)
  if (r.action === 'present') return { file, action: 'present' }
  if (r.action === 'manual') return { file, action: 'manual', reason: r.reason, instructions: manualInstructions(file, flavour) }
  writeFileSync(file, r.text)
  if (!syntaxOk(file)) {
    writeFileSync(file, before)
    return { file, action: 'manual', reason: 'the patched file did not parse', instructions: manualInstructions(file, flavour) }
  }
  return { file, action: 'patched' }
}
