#!/usr/bin/env bash
# Cross-builds the addon for the Linux targets of package.json's napi.targets on this machine,
# with zig as the C compiler and linker (cargo-zigbuild), and checks every artefact
# (scripts/check-artefacts.mjs): ELF machine, libc, the highest GLIBC_ symbol version needed,
# and that it sits in its npm/<platform> package. The gnu builds link against glibc 2.17, the
# baseline the README documents.
#
#   bash scripts/cross-build.sh            build the four targets, check them, record the stamp
#   bash scripts/cross-build.sh --if-changed
#                                          only when the inputs differ from npm/cross-build.stamp
#                                          (what .ci/run calls: a full run takes about 15 min)
#   bash scripts/cross-build.sh --check    only check the artefacts already in npm/
#
# macOS and Windows cannot be built here (no SDKs): .github/workflows/release.yml builds them
# on their own runners.
set -euo pipefail
cd "$(dirname "$0")/.."

STAMP=npm/cross-build.stamp
# What decides the artefacts' bytes and this script's verdict: the Rust sources and lockfile,
# these scripts, the targets and the platform packages' metadata (versions left out: a release
# bump changes no byte of a binary).
inputs_hash() {
  {
    git ls-files -z Cargo.toml Cargo.lock build.rs src crates/nen-core scripts/cross-build.sh scripts/check-artefacts.mjs scripts/round-trip.cjs \
      | sort -z | xargs -0 sha256sum
    node -e 'const fs = require("fs"); 
      const strip = (f) => { const { version: _, ...o } = JSON.parse(fs.readFileSync(f, "utf8")); return o };
      console.log(JSON.stringify(JSON.parse(fs.readFileSync("package.json", "utf8")).napi));
      for (const d of fs.readdirSync("npm").sort()) if (fs.existsSync(`npm/${d}/package.json`)) console.log(JSON.stringify(strip(`npm/${d}/package.json`)))'
  } | sha256sum | cut -d' ' -f1
}

if [ "${1:-}" = "--if-changed" ]; then
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(inputs_hash)" ]; then
    echo "cross-builds: inputs unchanged since the last checked build ($STAMP); skipped"
    exit 0
  fi
  echo "cross-builds: inputs changed since $STAMP was written: building"
fi

# target  cargo target (with the glibc baseline)  npm platform
TARGETS=(
  "x86_64-unknown-linux-gnu.2.17  linux-x64-gnu"
  "aarch64-unknown-linux-gnu.2.17 linux-arm64-gnu"
  "x86_64-unknown-linux-musl      linux-x64-musl"
  "aarch64-unknown-linux-musl     linux-arm64-musl"
)

if [ "${1:-}" != "--check" ]; then
  python3 -m ziglang version 2>/dev/null | grep -qx 0.17.1 && cargo-zigbuild --version 2>/dev/null | grep -q 0.24.1 \
    || pip install -q --disable-pip-version-check ziglang==0.17.1 cargo-zigbuild==0.24.1
  for row in "${TARGETS[@]}"; do
    read -r target platform <<<"$row"
    triple=${target%.2.17}
    rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
    # musl: Node loads the addon with dlopen, so the C runtime must be the process's (dynamic),
    # not a static copy inside the .so.
    flags=""
    case "$triple" in *musl) flags="-C target-feature=-crt-static" ;; esac
    echo "== $triple ($platform)"
    RUSTFLAGS="$flags" CARGO_TARGET_DIR=target/cross cargo zigbuild --release --locked --lib --target "$target"
    cp "target/cross/$triple/release/libnen_server_native.so" "npm/$platform/nen-server-native.$platform.node"
  done
fi

node scripts/check-artefacts.mjs linux-x64-gnu linux-arm64-gnu linux-x64-musl linux-arm64-musl

# The check must be able to fail: a binary built against this machine's glibc (2.36, so it needs
# symbols above 2.17) and an x64 binary in the arm64 package must both be refused.
if [ -f nen-server-native.linux-x64-gnu.node ]; then
  bad=$(mktemp -d)
  mkdir -p "$bad/linux-x64-gnu" "$bad/linux-arm64-gnu"
  cp npm/linux-x64-gnu/package.json "$bad/linux-x64-gnu/"
  cp nen-server-native.linux-x64-gnu.node "$bad/linux-x64-gnu/"
  cp npm/linux-arm64-gnu/package.json "$bad/linux-arm64-gnu/"
  cp npm/linux-x64-gnu/nen-server-native.linux-x64-gnu.node "$bad/linux-arm64-gnu/nen-server-native.linux-arm64-gnu.node"
  out=$(NEN_NPM_DIR="$bad" node scripts/check-artefacts.mjs linux-x64-gnu linux-arm64-gnu || true)
  rm -rf "$bad"
  grep -q 'above the 2.17 baseline' <<<"$out" && grep -q 'ELF machine is Advanced Micro Devices X86-64, expected AArch64' <<<"$out" \
    || { echo "check-artefacts.mjs accepted a wrong binary:"; echo "$out"; exit 1; }
  echo "check-artefacts.mjs refuses a glibc-2.34 build and an x64 binary in the arm64 package: ok"
fi

# The x64 gnu binary built against glibc 2.17 loads and works on this machine's glibc.
[ "${1:-}" = "--check" ] || NAPI_RS_NATIVE_LIBRARY_PATH="$PWD/npm/linux-x64-gnu/nen-server-native.linux-x64-gnu.node" node scripts/round-trip.cjs

# The arm64 gnu binary, loaded for real: Debian's arm64 Node under qemu-user, from a root that
# debootstrap fetched into target/ (about 20 s the first time; the packages are unpacked, not
# installed, which is all qemu's -L needs), one handshake and one sealed round trip. The musl
# builds are not loaded here: an Alpine root would need Alpine's package mirror, which this
# machine cannot reach.
if [ "${1:-}" != "--check" ]; then
  command -v qemu-aarch64-static >/dev/null && command -v debootstrap >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static debootstrap
  }
  root=target/cross/arm64-root
  if [ ! -x "$root/usr/bin/node" ]; then
    rm -rf "$root"
    debootstrap --foreign --arch=arm64 --variant=minbase --include=nodejs bookworm "$root" http://deb.debian.org/debian >/dev/null
    for deb in "$root"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$root"; done
  fi
  NAPI_RS_NATIVE_LIBRARY_PATH="$PWD/npm/linux-arm64-gnu/nen-server-native.linux-arm64-gnu.node" \
    qemu-aarch64-static -L "$root" "$root/usr/bin/node" scripts/round-trip.cjs
fi
[ "${1:-}" = "--check" ] || inputs_hash >"$STAMP"
