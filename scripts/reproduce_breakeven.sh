#!/usr/bin/env bash
# Reproduces the break-even utilization of reserved capacity for each shipped
# case (scenarios/breakeven_*.toml): one line per case and term, simulated and
# closed form, and whether it falls in the lesson's 40-60% band.
#
#   scripts/reproduce_breakeven.sh [extra llmcap sweep flags, e.g. --replications 2]
#
# Each case also leaves its full report under results/breakeven/<case>/
# (report.md, sweep.csv, breakeven.png, cost_vs_units.png, sensitivity.png).
# Inputs, sources and why the cases land where they do: docs/breakeven.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
for scenario in scenarios/breakeven_*.toml; do
    case_name=$(basename "$scenario" .toml)
    # The break-even lines go to stderr; keep them, drop the rest.
    ./target/release/llmcap sweep "$scenario" --out "results/breakeven/$case_name" "$@" 2>&1 >/dev/null \
        | grep -E 'break-even utilization|no break-even' || true
done
echo "reports: results/breakeven/<case>/report.md"
