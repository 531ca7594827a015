#!/usr/bin/env bash
# The demo: a real encrypted round trip between the Nen server and client over HTTP, printing
# what crosses the wire beside what the handler sees. Builds what it needs; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "building (first run: a few minutes)"
ensure_rust
ensure_node_deps
[ -f index.js ] && ls nen-server-native.*.node >/dev/null 2>&1 || build_addon
build_client >/dev/null

step "demo"
node scripts/demo.mjs
