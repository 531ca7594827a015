#!/usr/bin/env bash
# Every test. Installs or builds what it needs; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s ==\n' "$*"; }

step "toolchain"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "nen-core builds no_std for wasm32"
cargo build -p nen-core --target wasm32-unknown-unknown --no-default-features --locked
cargo build -p nen-wasm --target wasm32-unknown-unknown --locked

step "Rust tests"
cargo test --workspace --locked
