#!/usr/bin/env bash
# Memory safety of the native layer (issue 12 item 5).
#
#   scripts/sanitize.sh [TEST FILE...]   the addon's test suite under AddressSanitizer and
#                                        LeakSanitizer (default: every file of __test__/ but
#                                        release.test.js); a separate command, about 10 min cold
#   scripts/sanitize.sh --memcheck       the release addon (built by scripts/test.sh) under
#                                        valgrind memcheck, on __test__/support/memcheck.js;
#                                        the variant scripts/test.sh runs, under a minute
#
# ASan: builds the addon (debug profile, nightly, -Zsanitizer=address; aws-lc-sys and ring
# compile their C with -fsanitize=address too) in target/asan, then runs `node --test` with that
# build in place of the release one (NAPI_RS_NATIVE_LIBRARY_PATH, read by the generated
# index.js) and gcc's ASan runtime preloaded: node itself is not instrumented, so a cdylib cannot
# bring its own runtime. Every report goes to target/asan/reports/; the run fails on a failing
# test or on any report. The only suppression (scripts/lsan-node.supp) is explained there. The
# Redis ports are moved by NEN_TEST_PORT_OFFSET (default here 3000) so this can run next to a
# run of the suite on its default ports; NEN_TEST_TIME_SCALE=3 stretches the store timeouts of
# the fault tests (and one session TTL), which the debug ASan build missed at their defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--memcheck" ]; then
  command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; }
  [ -f nen-server-native.linux-x64-gnu.node ] || npx napi build --platform --release
  start=$SECONDS
  # No suppression file: node and V8 gave memcheck nothing to report here. No leak check: node
  # keeps its heap at exit; leaks are the ASan run's (LeakSanitizer, after node's teardown).
  valgrind --error-exitcode=1 --leak-check=no --quiet node __test__/support/memcheck.js
  echo "memcheck: 0 errors, $((SECONDS - start)) s"
  exit 0
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/asan}"
triple=x86_64-unknown-linux-gnu

rustup run nightly rustc --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
# --target: RUSTFLAGS then apply to the addon's code only, not to build scripts and proc macros
# (which rustc itself loads, uninstrumented).
RUSTFLAGS="-Zsanitizer=address" cargo +nightly build --locked --lib --target "$triple"
addon="$CARGO_TARGET_DIR/$triple/debug/libnen_server_native.so"
cp "$addon" "$CARGO_TARGET_DIR/nen-server-native.asan.node"

runtime="$(gcc -print-file-name=libasan.so)"
[ -e "$runtime" ] || { echo "no ASan runtime (gcc's libasan.so): apt-get install gcc" >&2; exit 1; }

reports="$CARGO_TARGET_DIR/reports"
rm -rf "$reports"
mkdir -p "$reports"
files=("$@")
# release.test.js is left out: it compares export names of the release and the test builds, and
# NAPI_RS_NATIVE_LIBRARY_PATH would load this build in place of both (no memory in question).
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(ls __test__/*.test.js | grep -vx __test__/release.test.js)

# The suite also runs redis-server, redis-cli, openssl, npm and sleep by name: they run without
# the ASan runtime (their own allocations at exit are not this addon's to report).
shim="$CARGO_TARGET_DIR/shim"
mkdir -p "$shim"
for tool in redis-server redis-cli openssl npm sleep; do
  real="$(command -v "$tool")" || continue
  printf '#!/bin/sh\nunset LD_PRELOAD\nexec %q "$@"\n' "$real" >"$shim/$tool"
  chmod +x "$shim/$tool"
done

start=$SECONDS
status=0
PATH="$shim:$PATH" \
NAPI_RS_NATIVE_LIBRARY_PATH="$CARGO_TARGET_DIR/nen-server-native.asan.node" \
NEN_TEST_PORT_OFFSET="${NEN_TEST_PORT_OFFSET:-3000}" \
NEN_TEST_TIME_SCALE="${NEN_TEST_TIME_SCALE:-3}" \
LD_PRELOAD="$runtime" \
ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:halt_on_error=1" \
LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-node.supp:print_suppressions=1" \
  node --test "${files[@]}" || status=$?

echo "sanitized run: $((SECONDS - start)) s, node --test exit $status"
# Each process that used a suppression leaves a file listing it; a report is an ERROR.
mapfile -t bad < <(grep -l -E '^==[0-9]+==(ERROR|WARNING)' "$reports"/asan.* 2>/dev/null || true)
used="$(cat "$reports"/asan.* 2>/dev/null | awk '/^ +[0-9]+ +[0-9]+ / {n[$3]+=1; if ($1 > o[$3]) o[$3]=$1} END {for (k in n) printf "  %s: in %d processes, %d objects each at most\n", k, n[k], o[k]}')"
[ -z "$used" ] || printf 'suppressed (scripts/lsan-node.supp):\n%s\n' "$used"
if [ ${#bad[@]} -gt 0 ]; then
  echo "sanitizer reports: ${#bad[@]}" >&2
  for r in "${bad[@]}"; do echo "--- $r" >&2; head -n 60 "$r" >&2; done
  exit 1
fi
echo "no sanitizer report"
exit "$status"
