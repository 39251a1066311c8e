#!/usr/bin/env bash
# Sweep benchmark (issue 3's speed target): a 50-point sweep of a 7-day diurnal
# scenario with 10 replications per point (500 replications of ~1.2M requests)
# must finish in under a minute on a 2-core machine. Uses
# scenarios/breakeven_azure.toml with PTUs from 15 to 260 in steps of 5.
#
#   scripts/bench_sweep.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
"$bin" sweep scenarios/breakeven_azure.toml --out "$out/sweep" \
    --from 15 --to 260 --step 5 --key deployment.ptu.reserved.units --replications 10 2>&1 >/dev/null \
    | grep -E 'simulated in|break-even utilization, monthly'
end=$(date +%s.%N)
points=$(($(wc -l < "$out/sweep/sweep.csv") - 1))
echo "$points points x 10 replications x 168 h: $(echo "$end - $start" | bc) s wall clock in all (target < 60 s on 2 cores)"
