'use strict'
// Why the addon could not load, in words a user can act on. napi's generated loader (index.js)
// tries the .node file beside it, then the platform package, and throws one generic error;
// this names the platform package this machine needs, the npm bug that most often leaves it
// out (optional dependencies skipped when the lockfile was written on another platform,
// npm/cli#4828), and the fix.

const { readFileSync } = require('node:fs')

/** Linux: `gnu` or `musl`, from the runtime's own report (no child process). */
function linuxLibc() {
  try {
    if (readFileSync('/usr/bin/ldd', 'utf8').includes('musl')) return 'musl'
  } catch {}
  const header = process.report?.getReport?.().header
  return header && !header.glibcVersionRuntime ? 'musl' : 'gnu'
}

/** This process's platform as npm/ names it: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`. */
function platformName() {
  const base = `${process.platform}-${process.arch}`
  if (process.platform === 'linux') return `${base}-${linuxLibc()}`
  if (process.platform === 'win32') return `${base}-msvc`
  return base
}

const NPM_ARCH = { x86_64: 'x64', aarch64: 'arm64' }
/** `x86_64-unknown-linux-gnu` → `linux-x64-gnu`. */
function platformOf(triple) {
  const [arch, , os, abi] = triple.split('-')
  const system = os === 'darwin' ? 'darwin' : os === 'windows' ? 'win32' : os
  return [system, NPM_ARCH[arch] ?? arch, abi].filter(Boolean).join('-')
}

/** The error to throw when index.js could not load a binary. */
function bindingError(cause) {
  const platform = platformName()
  // Read only now: the test build (target/nen-test) ships this file without a package.json.
  let targets = []
  try {
    targets = require('./package.json').napi.targets
  } catch {}
  const supported = targets.map(platformOf)
  const pkg = `@withnen/server-native-${platform}`
  const message = supported.includes(platform)
    ? `@withnen/server-native: the prebuilt binary for ${platform} did not load. It comes from the optional dependency ${pkg}, ` +
      'which npm skips when the lockfile was written on another platform (https://github.com/npm/cli/issues/4828). ' +
      `Fix: \`npm install ${pkg}\` beside @withnen/server-native, or delete node_modules and package-lock.json and run \`npm install\` again. ` +
      '@withnen/server keeps working on its WebAssembly engine meanwhile.'
    : `@withnen/server-native: there is no prebuilt binary for ${platform} (prebuilt: ${supported.join(', ')}). ` +
      '@withnen/server runs on its WebAssembly engine here; build the addon from source with `npx napi build --platform --release` for native speed.'
  const err = new Error(message, { cause })
  err.name = 'NenBindingError'
  /** The platform package this machine needs, or undefined where none is published. */
  err.missingPackage = supported.includes(platform) ? pkg : undefined
  err.platform = platform
  return err
}

module.exports = { bindingError, platformName }
