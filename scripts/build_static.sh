#!/usr/bin/env bash
# Builds llmcap as one static binary (x86_64-unknown-linux-musl: no glibc, no shared libraries),
# the binary the batch engines run: copied to every Slurm node, or into the empty container image
# of deploy/container/Containerfile for Kubernetes and AWS Batch. Then checks that it is static
# and that it runs (llmcap --version, and a one-hour run of a shipped scenario).
#
#   scripts/build_static.sh            -> target/x86_64-unknown-linux-musl/release/llmcap
#   OUT=deploy/container/llmcap scripts/build_static.sh   (also copies it there)
# Needs the musl target: rustup target add x86_64-unknown-linux-musl (Rust's own musl and linker
# are used; no musl-gcc is needed since llmcap has no C code to compile).
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  echo "build_static: the $target target is not installed: rustup target add $target" >&2
  exit 1
fi
cargo build --release --quiet --target "$target" --bin llmcap
dir=${CARGO_TARGET_DIR:-target}
bin=$dir/$target/release/llmcap
if ldd "$bin" 2>&1 | grep -q '=>'; then
  echo "build_static: $bin links shared libraries:" >&2
  ldd "$bin" >&2
  exit 1
fi
file "$bin" 2>/dev/null | grep -qE 'static(ally|-pie) linked' \
  || { echo "build_static: $bin is not statically linked: $(file "$bin")" >&2; exit 1; }
"$bin" --version
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" run scenarios/baseline.toml --horizon-hours 1 --replications 1 --out "$tmp/run" --quiet
[ -s "$tmp/run/summary.json" ] || { echo "build_static: the static binary did not write summary.json" >&2; exit 1; }
echo "build_static: $bin: static, $(du -h "$bin" | cut -f1), runs"
if [ -n "${OUT:-}" ]; then
  cp "$bin" "$OUT"
  echo "build_static: copied to $OUT"
fi
