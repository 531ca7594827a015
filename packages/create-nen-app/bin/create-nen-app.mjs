#!/usr/bin/env node
// create-nen-app: a new Next.js app with Nen, or Nen added to an existing App Router project.

import { readFileSync } from 'node:fs'
import { createApp } from '../lib/create.mjs'
import { addToExisting } from '../lib/existing.mjs'
import { localPackages } from '../lib/packages.mjs'

const USAGE = `Usage:
  npx create-nen-app <dir>               a new Next.js app (App Router, TypeScript) with Nen:
                                          encrypted CRUD and streaming routes, a page using them,
                                          a fresh NEN_WRAPPING_KEY in .env.local; installs it
  npx create-nen-app --existing [dir]    adds Nen to an existing App Router project (default .):
                                          app/api/nen/[action]/route, serverExternalPackages in
                                          next.config (experimental.serverComponentsExternal-
                                          Packages on Next 14; below 14.2.7 refused: its App
                                          Router routes cannot verify a signed request),
                                          NEN_WRAPPING_KEY in .env.local, and
                                          @withnen/client + @withnen/server + @withnen/server-native

Options:
  --packages-from <dir>   install the @withnen packages from the \`npm pack\` tarballs in <dir>
                          instead of the registry (offline; also NEN_LOCAL_PACKAGES=<dir>)
  --no-install            write the files only, and print the install command
  -h, --help              this text
  -v, --version           the version
`

function parse(argv) {
  const o = { install: true, packagesFrom: process.env.NEN_LOCAL_PACKAGES || undefined }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined]
    const value = () => {
      if (inline !== undefined) return inline
      const v = argv[++i]
      if (v === undefined || v.startsWith('-')) throw new Error(`${flag} needs a value`)
      return v
    }
    switch (flag) {
      case '-h':
      case '--help':
        o.help = true
        break
      case '-v':
      case '--version':
        o.version = true
        break
      case '--no-install':
        o.install = false
        break
      case '--packages-from':
        o.packagesFrom = value()
        break
      case '--existing':
        o.existing = inline ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-') ? argv[++i] : '.')
        break
      default:
        if (a.startsWith('-')) throw new Error(`unknown option ${a}`)
        if (o.dir !== undefined) throw new Error(`one directory only (got ${o.dir} and ${a})`)
        o.dir = a
    }
  }
  return o
}

function main() {
  let o
  try {
    o = parse(process.argv.slice(2))
  } catch (e) {
    console.error(`create-nen-app: ${e.message}\n\n${USAGE}`)
    return 1
  }
  if (o.help) {
    console.log(USAGE)
    return 0
  }
  if (o.version) {
    console.log(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version)
    return 0
  }
  if (o.existing !== undefined && o.dir !== undefined) {
    console.error(`create-nen-app: give the directory after --existing, not both\n\n${USAGE}`)
    return 1
  }
  if (o.existing === undefined && o.dir === undefined) {
    console.error(`create-nen-app: which directory?\n\n${USAGE}`)
    return 1
  }
  try {
    const local = o.packagesFrom ? localPackages(o.packagesFrom) : undefined
    if (o.existing !== undefined) return addToExisting(o.existing, { local, install: o.install }).ok ? 0 : 1
    createApp(o.dir, { local, install: o.install })
    return 0
  } catch (e) {
    console.error(`create-nen-app: ${e.message}`)
    return 1
  }
}

process.exitCode = main()
