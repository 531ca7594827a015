#!/usr/bin/env bash
# `npm run bench` at the repository root: builds or installs only what is missing or stale, then
# runs benchmark/main.mjs (every section, then RESULTS.md and charts/). Arguments pass through:
#   npm run bench -- --quick          smoke run of about a minute, numbers meaningless
#   npm run bench -- --only=core,http  some sections (core, adapters, memory, http)
# NEN_BENCH_NO_BUILD=1 skips every build step (measure whatever is built).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ADDON=nen-server-native.linux-x64-gnu.node

# Newer than $1: any file under the other arguments.
changed_since() {
  local ref=$1
  shift
  [ -n "$(find "$@" -type f -newer "$ref" -print -quit 2>/dev/null)" ]
}

if [ "${NEN_BENCH_NO_BUILD:-0}" != 1 ]; then
  step "bench: what the run needs"
  ensure_node_deps
  # Our own redis-server (the Redis-store rows) and wrk (the load generator's check), from Debian.
  missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v wrk >/dev/null || missing+=(wrk)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
  # The release addon, unless it is newer than every Rust source and manifest.
  if [ ! -f "$ADDON" ] || [ ! -f index.js ] || changed_since "$ADDON" src crates/nen-core Cargo.toml Cargo.lock build.rs; then
    step "bench: release addon (missing or older than the Rust sources)"
    build_addon
  fi
  # The WASM core and the packages' dist/ (the server's bundles the WASM engine and the addon's
  # error catalogue; the Next.js app installs all three packed).
  for pkg in client server ai; do
    dist=packages/$pkg/dist/index.mjs
    if [ ! -f "$dist" ] || changed_since "$dist" "packages/$pkg/src" crates/nen-core/src crates/nen-wasm/src "$ADDON"; then
      step "bench: WebAssembly core and packages (missing or stale)"
      build_client
      break
    fi
  done
  if [ ! -f benchmark/node_modules/.package-lock.json ] || [ benchmark/package-lock.json -nt benchmark/node_modules/.package-lock.json ]; then
    step "bench: benchmark peers (npm ci)"
    npm ci --prefix benchmark --no-audit --no-fund
  fi
fi

step "bench: measuring"
exec node benchmark/main.mjs "$@"
