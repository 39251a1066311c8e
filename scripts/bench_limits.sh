#!/usr/bin/env bash
# Bounded-work benchmarks (issue 12): wall time of `llmcap validate` on tiled
# traces with a large time_scale (target: under 1 s each, O(rows + hours)), and
# peak memory of a 10,000-point sweep on a 1-hour horizon (target: under 200 MB).
# Not timed tests: numbers to read, on an otherwise idle machine.
#
#   scripts/bench_limits.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:00:00,10,1\n2023-11-16 18:00:01,10,1\n' > "$work/trace.csv"
scenario() { # hours time_scale
    cat <<TOML
[scenario]
name = "limits"
horizon_hours = $1
[[class]]
name = "c"
model = "m"
route = ["a"]
arrivals = { trace = "trace.csv", format = "azure", tile = true, time_scale = $2 }
[[deployment]]
name = "a"
platform = "custom"
model = "m"
latency = { median_ms = 200, p99_ms = 200 }
on_demand = { input_per_1m = 1.0, output_per_1m = 2.0 }
TOML
}
peak() { # command...: prints "<seconds> s, <max RSS> MB"
    /usr/bin/time -f '%e s, %M KB' "$@" > /dev/null 2> "$work/time" || true
    tail -1 "$work/time" | awk '{printf "%s s, %.1f MB\n", $1, $3 / 1024}'
}
for case in "1 1e6" "24 1e6" "24 1000" "8760 1000"; do
    set -- $case
    scenario "$1" "$2" > "$work/s.toml"
    echo "validate: 2-row trace tiled, time_scale $2, $1 h: $(peak "$bin" validate "$work/s.toml")"
done
echo "sweep: 10,000 points, 1 h horizon: $(peak "$bin" sweep scenarios/queueing_check.toml --key demand_scale --from 0.5 --to 1.5 --points 10000 --horizon-hours 1 --replications 1 --out "$work/sweep" --quiet)"
