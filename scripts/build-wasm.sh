#!/usr/bin/env bash
# Builds the WebAssembly client core into packages/client/wasm/ (generated, git-ignored):
#   nen_wasm.js / .d.ts        wasm-bindgen glue (--target web), initialised with the bytes below
#   nen_wasm_bg.wasm           the module after wasm-opt -O3
#   nen_wasm_bytes.js / .d.ts  the same module as a base64 string, so bundlers need no wasm loader
# Installs what it needs; safe to run again. Skips the work when no input changed since the last
# successful build (FORCE=1 rebuilds anyway).
set -euo pipefail
cd "$(dirname "$0")/.."

WBG_VERSION=0.2.130      # must equal the wasm-bindgen crate pin in crates/nen-wasm/Cargo.toml
BINARYEN_VERSION=132     # npm binaryen; Debian's wasm-opt 108 emits modules that fail to load
# Two builds of the same crate: the browser client's (no server code: ML-DSA signing and the
# server engine would add about 100 KB) and the edge server engine's (client + `server` feature).
# The *-test variants add the `test-hooks` feature (a seeded generator, a fixed clock) for the
# suites that reproduce docs/vectors; they go to wasm-test/ and are never bundled or published.
VARIANT=${NEN_WASM_VARIANT:-client}
case "$VARIANT" in
  client) OUT=packages/client/wasm; FEATURES=() ;;
  server) OUT=packages/server/wasm; FEATURES=(--features server) ;;
  client-test) OUT=packages/client/wasm-test; FEATURES=(--features test-hooks) ;;
  server-test) OUT=packages/server/wasm-test; FEATURES=(--features server,test-hooks) ;;
  *) echo "NEN_WASM_VARIANT must be client, server, client-test or server-test" >&2; exit 2 ;;
esac
TARGET_DIR=${CARGO_TARGET_DIR:-target}
STAGE=$TARGET_DIR/nen-wasm-stage-$VARIANT
WASM=$TARGET_DIR/wasm32-unknown-unknown/release/nen_wasm.wasm
WASM_OPT=node_modules/.bin/wasm-opt

step() { printf '\n== %s ==\n' "$*"; }

step "toolchain"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if ! wasm-bindgen --version 2>/dev/null | grep -qw "$WBG_VERSION"; then
  # No --locked: the CLI's lockfile pins a webpki-roots the registry no longer has.
  # About 7.5 minutes on 2 cores.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION"
fi
if ! "$WASM_OPT" --version 2>/dev/null | grep -qw "version $BINARYEN_VERSION"; then
  # Installs the versions package-lock.json pins without rewriting it. Not `npm ci`: it refuses
  # this lock file, which cannot list the package's own unpublished platform packages.
  npm install --no-audit --no-fund --no-save
fi
"$WASM_OPT" --version | grep -qw "version $BINARYEN_VERSION" || {
  echo "node_modules/.bin/wasm-opt is not binaryen $BINARYEN_VERSION" >&2
  exit 1
}

# Everything the output depends on: sources and manifests of the two crates, the lock file and
# profiles, this script and the tool versions. Content hashes, not mtimes, so a checkout or a
# touch never fools it.
inputs_hash() {
  {
    find crates/nen-core/src crates/nen-wasm/src -type f -name '*.rs' -print0 | sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock crates/nen-core/Cargo.toml crates/nen-wasm/Cargo.toml scripts/build-wasm.sh
    echo "variant $VARIANT"
    rustc -V
    wasm-bindgen --version
    "$WASM_OPT" --version
  } | sha256sum | cut -d' ' -f1
}
STAMP="$OUT/.inputs.sha256"
HASH=$(inputs_hash)

report_sizes() {
  local raw gz
  raw=$(wc -c <"$OUT/nen_wasm_bg.wasm")
  gz=$(gzip -9 -c "$OUT/nen_wasm_bg.wasm" | wc -c)
  awk -v r="$raw" -v g="$gz" 'BEGIN {
    printf "nen_wasm_bg.wasm: %d bytes raw (%.1f KiB), %d bytes gzip -9 (%.1f KiB)\n", r, r / 1024, g, g / 1024
  }'
}

if [ "${FORCE:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ] \
  && [ -f "$OUT/nen_wasm.js" ] && [ -f "$OUT/nen_wasm_bytes.js" ] && [ -f "$OUT/nen_wasm_bg.wasm" ]; then
  step "up to date (FORCE=1 to rebuild)"
  report_sizes
  exit 0
fi

step "cargo build (release, wasm32)"
cargo build -p nen-wasm --target wasm32-unknown-unknown --release --locked "${FEATURES[@]}"

step "wasm-bindgen $WBG_VERSION"
# Staged, then swapped in whole: a failed run never leaves a half-updated package behind.
rm -rf "$STAGE"
mkdir -p "$STAGE"
# --omit-default-module-path: no `new URL('nen_wasm_bg.wasm', import.meta.url)` fallback, which
# bundlers would try to resolve; callers always pass the bytes from nen_wasm_bytes.js.
wasm-bindgen --target web --omit-default-module-path --out-dir "$STAGE" --out-name nen_wasm "$WASM"

step "wasm-opt -O3 (binaryen $BINARYEN_VERSION)"
# The features rustc enables by default for wasm32 (Rust >= 1.82/1.87); wasm-opt must accept
# them, and must not introduce any others the oldest supported runtimes would reject.
"$WASM_OPT" -O3 \
  --enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-reference-types --enable-multivalue \
  "$STAGE/nen_wasm_bg.wasm" -o "$STAGE/nen_wasm_bg.opt.wasm"
mv "$STAGE/nen_wasm_bg.opt.wasm" "$STAGE/nen_wasm_bg.wasm"

step "inline bytes"
node - "$STAGE" <<'EOF'
const { readFileSync, writeFileSync } = require('node:fs')
const dir = process.argv[2]
const b64 = readFileSync(`${dir}/nen_wasm_bg.wasm`).toString('base64')
const note = '// Generated by scripts/build-wasm.sh: nen_wasm_bg.wasm (after wasm-opt) as base64.\n'
writeFileSync(`${dir}/nen_wasm_bytes.js`, `${note}export const wasmBase64 = '${b64}'\n`)
writeFileSync(
  `${dir}/nen_wasm_bytes.d.ts`,
  `${note}/** The optimised WebAssembly module, standard base64 with padding. */\nexport declare const wasmBase64: string\n`,
)
EOF

echo "$HASH" >"$STAGE/.inputs.sha256"
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
mv "$STAGE" "$OUT"

step "done: $OUT"
ls -l "$OUT"
report_sizes
