#!/usr/bin/env bash
# Fuzzing nen-core (issue 12 item 1): the libFuzzer targets of fuzz/ (its own workspace,
# nightly). Installs cargo-fuzz if it is missing.
#
#   scripts/fuzz.sh --smoke [SECONDS]   every target for SECONDS (default 20); prints the
#                                       executions of each
#   scripts/fuzz.sh [TARGET...]         long run: -max_total_time=600 per target (10 minutes;
#                                       set FUZZ_SECONDS to change), all targets by default
#   scripts/fuzz.sh --cmin [TARGET...]  after a long run: minimises fuzz/corpus/<target> together
#                                       with the seeds (libFuzzer -merge=1), before committing it
#
# Each target starts from fuzz/corpus/<target> (committed, minimised) and fuzz/seeds/<target>
# (written by fuzz/seed.sh from docs/vectors). New corpus entries of a long run go to
# fuzz/corpus/<target>; a smoke run (the one scripts/test.sh runs) writes them to a temporary
# directory, so it leaves the checkout clean. The committed corpus was minimised together with
# the seeds, so it holds their coverage: a smoke run does not write the seeds when they are
# missing (that is a debug build of its own, about 70 s of CPU cold). Crashes go to
# fuzz/artifacts/<target>/ (reproduce: cargo +nightly fuzz run TARGET FILE). Not `cargo fuzz
# cmin` with the seeds as an extra argument: cargo-fuzz puts it first, where -merge=1 takes it
# as the output directory. FUZZ_LOG_DIR=DIR keeps each target's libFuzzer output there.
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
cmin=0
if [ "${1:-}" = "--smoke" ]; then
  smoke=1
  secs="${2:-20}"
  shift $(( $# >= 2 ? 2 : 1 ))
elif [ "${1:-}" = "--cmin" ]; then
  cmin=1
  shift
fi

cd fuzz
[ "$smoke" = 1 ] || [ -d seeds ] || ./seed.sh
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list | grep -vx seed)
cargo +nightly fuzz build
if [ "$cmin" = 1 ]; then
  bin="$CARGO_TARGET_DIR/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"
  for t in "${targets[@]}"; do
    new="$(mktemp -d)"
    mkdir -p "corpus/$t" "seeds/$t"
    "$bin/$t" -merge=1 -rss_limit_mb=2048 "$new" "corpus/$t" "seeds/$t" >"$new.log" 2>&1 ||
      { tail -n 20 "$new.log" >&2; exit 1; }
    rm -rf "corpus/$t" "$new.log"
    mv "$new" "corpus/$t" && chmod 755 "corpus/$t"
    printf '%-20s %6s files\n' "$t" "$(find "corpus/$t" -type f | wc -l)"
  done
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
log="${FUZZ_LOG_DIR:-$tmp/log}"
mkdir -p "$log"
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  # libFuzzer adds new entries to its first corpus directory and only reads the others.
  dirs=("corpus/$t")
  [ ! -d "seeds/$t" ] || dirs+=("seeds/$t")
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
