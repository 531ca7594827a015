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
# (written by fuzz/seed.sh from docs/vectors). New corpus entries of a long run go to
# fuzz/corpus/<target>; a smoke run (the one scripts/test.sh runs) writes them to a temporary
# directory, so it leaves the checkout clean. Crashes go to fuzz/artifacts/<target>/ (reproduce:
# cargo +nightly fuzz run TARGET FILE). After a long run, minimise before committing:
# cargo +nightly fuzz cmin TARGET. FUZZ_LOG_DIR=DIR keeps each target's libFuzzer output there.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

# A pinned cargo-fuzz, with its own lock file: the same tool on every machine. A cold install
# took 1 min 45 s here (2 shared cores); a CI cache of ~/.cargo/bin keeps it.
cargo_fuzz_version=0.13.2
rustup run nightly rustc --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz --version 2>/dev/null | grep -qF "$cargo_fuzz_version" ||
  cargo install cargo-fuzz --locked --version "$cargo_fuzz_version"

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
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log="${FUZZ_LOG_DIR:-$tmp/log}"
mkdir -p "$log"
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t"
  # libFuzzer adds new entries to its first corpus directory and only reads the others.
  dirs=("corpus/$t" "seeds/$t")
  [ "$smoke" = 1 ] && mkdir -p "$tmp/new/$t" && dirs=("$tmp/new/$t" "${dirs[@]}")
  if cargo +nightly fuzz run "$t" "${dirs[@]}" -- \
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
