#!/usr/bin/env bash
# Reproduces the break-even utilization of reserved capacity for each shipped
# case (scenarios/breakeven_*.toml): one line per case and term, simulated and
# closed form, and whether it falls in the 40-60% reference band.
#
#   scripts/reproduce_breakeven.sh [extra llmcap sweep flags, e.g. --replications 2]
#
# Each case also leaves its full report under results/breakeven/<case>/
# (report.md, sweep.csv, breakeven.png, cost_vs_units.png, sensitivity.png).
# Inputs, sources and why the cases land where they do: docs/breakeven.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
for scenario in scenarios/breakeven_*.toml; do
    case_name=$(basename "$scenario" .toml)
    # The break-even lines go to stderr; keep them, drop the rest. A failed sweep stops the script
    # with llmcap's whole message.
    if ! log=$("$bin" sweep "$scenario" --out "results/breakeven/$case_name" "$@" 2>&1 >/dev/null); then
        echo "$log" >&2
        echo "error: llmcap sweep $scenario failed" >&2
        exit 1
    fi
    grep -E 'break-even utilization|no break-even' <<<"$log"
done
echo "reports: results/breakeven/<case>/report.md"
