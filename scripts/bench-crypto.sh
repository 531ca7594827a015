#!/usr/bin/env bash
# Side by side: the crypto door's per-operation cost with the RustCrypto reference and with the
# native provider (crates/nen-core/examples/crypto_bench.rs), medians in µs. Both binaries run
# in turn, ROUNDS times (default 3), and the median of the rounds is printed, so that a burst of
# load on the shared machine moves both columns alike. `--quick` checks that it works.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
args=()
if [[ "${1:-}" == "--quick" ]]; then rounds=1; args=(--quick); fi
target="${CARGO_TARGET_DIR:-target}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

cargo build --release --locked -p nen-core --example crypto_bench
cp "$target/release/examples/crypto_bench" "$out/rustcrypto"
cargo build --release --locked -p nen-core --example crypto_bench --features native-provider
cp "$target/release/examples/crypto_bench" "$out/native"

for ((i = 0; i < rounds; i++)); do
  for p in rustcrypto native; do "$out/$p" "${args[@]}" | grep -v '^#' >>"$out/$p.tsv"; done
done

awk -F'\t' '
  FNR == 1 { f++ }
  { if (f == 1 && !($1 in seen)) { seen[$1] = 1; order[++n] = $1 }; v[f, $1] = v[f, $1] " " $2 }
  function median(s,   a, k, i, j, t) {
    k = split(s, a, " ")
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return a[int((k + 1) / 2)]
  }
  END {
    printf "%-40s %12s %12s %8s\n", "median µs per op", "rustcrypto", "native", "ratio"
    for (i = 1; i <= n; i++) {
      r = median(v[1, order[i]]); t = median(v[2, order[i]])
      printf "%-40s %12.3f %12.3f %7.1fx\n", order[i], r, t, (t > 0 ? r / t : 0)
    }
  }' "$out/rustcrypto.tsv" "$out/native.tsv"
