#!/usr/bin/env bash
# Regenerates the README charts from shipped scenarios. Never edit the images
# by hand.
#   docs/img/baseline_hourly_cost.png   llmcap run scenarios/baseline.toml
#   docs/img/breakeven_azure_*.png      llmcap sweep scenarios/breakeven_azure.toml
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
source scripts/common.sh
llmcap_build
"$bin" run scenarios/baseline.toml --out "$out/baseline" --quiet
"$bin" sweep scenarios/breakeven_azure.toml --out "$out/azure" --quiet
mkdir -p docs/img
cp "$out/baseline/hourly_cost.png" docs/img/baseline_hourly_cost.png
cp "$out/azure/cost_vs_units.png" docs/img/breakeven_azure_cost_vs_units.png
cp "$out/azure/sensitivity.png" docs/img/breakeven_azure_sensitivity.png
ls docs/img/*.png
