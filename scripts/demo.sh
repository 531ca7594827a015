#!/usr/bin/env bash
# The demo: a real encrypted round trip, printing what crosses the wire.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet -p nen-core --example demo
