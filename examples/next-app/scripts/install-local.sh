#!/usr/bin/env bash
# Installs this repository's @withnen packages into the example as real copies, never symlinks
# (a symlinked package breaks `next build`): packs them with `npm pack` into .local/ (git-ignored),
# then installs. package.json points at .local/<name> and .npmrc sets install-links=true, so npm
# copies each one in. Run it again after rebuilding the addon or a package; it is idempotent.
# Build the packages first (repository root; scripts/lib.sh's build_addon and build_client):
# `npx napi build --platform --release`, `bash scripts/build-wasm.sh`,
# `NEN_WASM_VARIANT=server bash scripts/build-wasm.sh`,
# `npm run build --workspace @withnen/client --workspace @withnen/server`.
set -euo pipefail
cd "$(dirname "$0")/.."

node scripts/pack-local.mjs >/dev/null
# npm keeps a file: dependency that is already installed, and the lock file's record of its
# manifest: drop both for the @withnen packages so they are copied and read afresh.
rm -rf node_modules/@withnen
node -e '
  const fs = require("fs")
  if (!fs.existsSync("package-lock.json")) process.exit(0)
  const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"))
  for (const k of Object.keys(lock.packages ?? {})) if (k.startsWith("node_modules/@withnen/")) delete lock.packages[k]
  fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n")
'
npm install --no-audit --no-fund --prefer-offline
