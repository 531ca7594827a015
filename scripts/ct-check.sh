#!/usr/bin/env bash
# Constant-time check (issue 12 item 4): runs crates/nen-core/examples/ct_compare.rs under
# callgrind three times -- matching tags, tags differing in the first byte, in the last byte --
# counting only the comparison function (--toggle-collect), and fails unless the three
# instruction counts are identical. A control runs an early-exit comparison the same way and
# must see different counts (first vs last byte), or the measurement proves nothing. Needs
# valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "ct-check: valgrind is not installed" >&2; exit 1; }
# Release code as shipped (fat LTO), but with symbols: callgrind toggles on `compare` by name.
CARGO_PROFILE_RELEASE_STRIP=none cargo build --release -p nen-core --example ct_compare --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/examples/ct_compare"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
declare -A count
run() { # case, function to count
  valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" \
    --toggle-collect="ct_compare::$2" "$bin" "$1" >"$out/$1.log" 2>&1 \
    || { cat "$out/$1.log" >&2; exit 1; }
  count[$1]="$(awk '/^(summary|totals):/ {print $2; exit}' "$out/$1.out")"
  echo "ct-check: $1: ${count[$1]} instructions in $2 ($(grep -o '[0-9]* of [0-9]* comparisons equal' "$out/$1.log"))"
}
run leaky-first compare_leaky
run leaky-last compare_leaky
if [ -z "${count[leaky-first]}" ] || [ "${count[leaky-first]}" = "${count[leaky-last]}" ]; then
  echo "ct-check: FAIL, the control (early-exit comparison) shows no difference: the measurement is blind" >&2
  exit 1
fi
for case in match first last; do run "$case" compare; done
[ -n "${count[match]}" ] && [ "${count[match]}" != 0 ] || { echo "ct-check: nothing counted (was compare inlined?)" >&2; exit 1; }
if [ "${count[match]}" = "${count[first]}" ] && [ "${count[match]}" = "${count[last]}" ]; then
  echo "ct-check: OK, identical instruction counts"
else
  echo "ct-check: FAIL, instruction counts differ" >&2
  exit 1
fi
