#!/usr/bin/env bash
# Fuzzing nen-core (issue 12 item 1): the libFuzzer targets of fuzz/ (its own workspace,
# nightly). Installs cargo-fuzz if it is missing.
#
#   scripts/fuzz.sh --smoke [SECONDS]   every target for SECONDS (default 20); prints the
#                                       executions of each
#   scripts/fuzz.sh [TARGET...]         long run: -max_total_time=600 per target (10 minutes;
#                                       set FUZZ_SECONDS to change), all targets by default
#
# Each target starts from fuzz/corpus/<target> (committed, minimised) and fuzz/seeds/<target>
# (written by fuzz/seed.sh from docs/vectors). New corpus entries go to fuzz/corpus/<target>;
# crashes to fuzz/artifacts/<target>/ (reproduce: cargo +nightly fuzz run TARGET FILE). After a
# long run, minimise before committing: cargo +nightly fuzz cmin TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz

secs="${FUZZ_SECONDS:-600}"
smoke=0
if [ "${1:-}" = "--smoke" ]; then
  smoke=1
  secs="${2:-20}"
  shift $(( $# >= 2 ? 2 : 1 ))
fi

cd fuzz
[ -d seeds ] || ./seed.sh
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list | grep -vx seed)
cargo +nightly fuzz build
log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  if cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 >"$log/$t" 2>&1; then
    res=ok
  else
    res=FAILED; status=1
    tail -n 40 "$log/$t" >&2
  fi
  execs="$(awk '/stat::number_of_executed_units/ {print $2}' "$log/$t" | tail -n1)"
  printf '%-20s %10s execs in %ss  %s\n' "$t" "${execs:-?}" "$secs" "$res"
done
[ "$smoke" = 1 ] && echo "smoke run: ${secs}s per target"
exit "$status"
