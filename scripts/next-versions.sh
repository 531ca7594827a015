#!/usr/bin/env bash
# Nen in Next.js 13, 14, 15 and 16: each version installed, given Nen by `create-nen-app
# --existing`, built with `next build`, served by `next start` and driven by the real client
# (App Router on the native addon, a `runtime = 'edge'` route on WebAssembly, Pages Router API
# routes). About 5 minutes for the four here (1 to 2 a version, npm cache warm); the test command builds only the example's own version.
# NEN_NEXT_VERSIONS="14.2.35 16.4.6" bash scripts/next-versions.sh picks versions.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "toolchain, packages and builds"
ensure_rust
ensure_node_deps
build_addon
build_client

step "Next.js ${NEN_NEXT_VERSIONS:-13.5.11 14.2.35 15.5.29 16.4.6}"
NEXT_TELEMETRY_DISABLED=1 node --test --test-concurrency=1 examples/next-app/test/next-versions.test.mjs
