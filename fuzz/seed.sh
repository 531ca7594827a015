#!/usr/bin/env bash
# Writes fuzz/seeds/<target>/ from docs/vectors (valid messages in each target's input format).
# The committed corpus fuzz/corpus/ is these seeds after a run, minimised with `cargo fuzz cmin`.
set -euo pipefail
cd "$(dirname "$0")"
cargo +nightly run --quiet --bin seed
