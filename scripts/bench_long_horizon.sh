#!/usr/bin/env bash
# Long horizons (issue 16): peak memory and wall time of one replication of
# scenarios/growth_year.toml over three years (26,280 h, growing 6% a month, so
# month 36 runs at 8x month 0). Target: under 200 MB of peak RSS. A number to
# read on an otherwise idle machine, not a timed test.
#
#   scripts/bench_long_horizon.sh [HOURS]    (default 26280)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
hours=${1:-26280}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/time -f '%e s, %M KB' "$bin" run scenarios/growth_year.toml --horizon-hours "$hours" \
    --replications 1 --out "$work/out" --quiet 2> "$work/time"
requests=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(int(s["requests"]["arrived"]))' "$work/out/summary.json" 2>/dev/null || echo "?")
tail -1 "$work/time" | awk -v h="$hours" -v n="$requests" \
    '{printf "growth_year, %s h, 1 replication, %s requests: %s s, peak RSS %.1f MB (target < 200 MB)\n", h, n, $1, $3 / 1024}'
