#!/usr/bin/env bash
# Every test. Installs or builds what it needs; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

step "toolchain and packages"
ensure_rust
ensure_node_deps
ensure_system_packages

step "format and lints"
node scripts/check-layout.mjs
npx biome check
cargo fmt --all --check
ensure_actionlint
actionlint
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p nen-wasm --features server --all-targets --locked -- -D warnings

step "nen-core builds no_std for wasm32"
cargo build -p nen-core --target wasm32-unknown-unknown --no-default-features --locked

step "Rust tests: protocol, published vectors, tamper and property tests, WASM bindings"
cargo test --workspace --locked
# The workspace run unifies features, so the addon's `native-provider` is on in it. Both of
# nen-core's providers, each through every vector suite (the native run adds the differential
# test against the reference):
cargo test -p nen-core --features native-provider --locked
cargo test -p nen-core --locked
cargo test -p nen-wasm --features server --locked

step "constant time: every tag comparison counted under callgrind (equal, first and last byte differ)"
# Its own target dir: the symbols it needs would otherwise rebuild the release addon's crates.
CARGO_TARGET_DIR=target/ct bash scripts/ct-check.sh

step "fuzzing smoke: every libFuzzer target of fuzz/ for 5 s (nightly and cargo-fuzz installed if missing)"
# A bounded smoke, not a search: it proves every target still builds, starts from the committed
# corpus and does not crash on it. Its own target dir (sanitizer flags). The long run is
# `bash scripts/fuzz.sh` (SECURITY.md).
CARGO_TARGET_DIR=target/fuzz bash scripts/fuzz.sh --smoke 5

step "native addon (release build, and the test build with its reproducibility hooks)"
build_addon
build_test_addon
# index.d.ts is generated from the option structs' doc comments and committed: it must not drift.
git diff --exit-code --stat -- index.d.ts || { echo "index.d.ts drifted from the Rust sources: commit the regenerated file" >&2; exit 1; }

step "WebAssembly core and @withnen/client (and the test builds of the core)"
build_client
build_test_wasm
# docs/api/ is generated from the packages' types (TypeDoc) and committed: it must not drift,
# and an exported API that names an unexported type fails here.
node scripts/api-docs.mjs --check

step "addon tests: memory, Redis, Redis Cluster and JS stores, packaging"
node --test __test__/

step "native memory safety: the release addon's main paths under valgrind memcheck"
# About 30 s. The whole addon suite under AddressSanitizer and LeakSanitizer is a separate
# command, `bash scripts/sanitize.sh` (a debug nightly build of its own: about 10 min cold).
bash scripts/sanitize.sh --memcheck

step "client tests: Node, headless Chromium, reproducible vectors"
node --test packages/client/test/

step "server tests: Web handlers, node:http, Express 4/5, Connect, Fastify, Hono, Koa, Deno and Bun, Upstash and Redis stores"
node --test packages/server/test/

step "soak, 60 s: handshakes, requests, streams, rotations and terminates on the memory and Redis stores; no series may grow once warm"
(node --test soak/test/ && node soak/main.mjs --ci)

step "AI tests: OpenAI- and Anthropic-compatible upstreams on loopback, official SDKs, headless Chromium"
(cd packages/ai && node --test test/*.test.mjs)

step "Next.js example and create-nen-app: packed packages, next build, next start and standalone, route confusion under next start, headless Chromium"
NEXT_TELEMETRY_DISABLED=1 node --test examples/next-app/test/next-app.test.mjs examples/next-app/test/route-confusion.test.mjs packages/create-nen-app/test/
