#!/usr/bin/env bash
# Regenerates the README chart (docs/img/baseline_hourly_cost.png) from the
# shipped baseline scenario. Never edit the image by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo run --release --quiet -- run scenarios/baseline.toml --out "$out/baseline" --quiet
mkdir -p docs/img
cp "$out/baseline/hourly_cost.png" docs/img/baseline_hourly_cost.png
echo "docs/img/baseline_hourly_cost.png"
