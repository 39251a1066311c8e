#!/usr/bin/env bash
# Instructions per simulated request, counted with valgrind's cachegrind: independent of machine
# load, so two builds can be compared on a busy machine (scripts/bench.sh times them, which needs a
# quiet one). Runs bench_30d for 3 h and 5 h on one thread and divides the extra instructions by the
# extra requests, so start-up and report writing drop out; prints the total and the functions
# that take the most. (Both horizons are 3 h or more, so both keep hourly series only: a shorter run
# also fills per-minute series and draws per-minute charts, which would not cancel out.)
#
#   scripts/bench_ir.sh [BIN]        # default: the release build of this checkout
#   TOP=20 scripts/bench_ir.sh       # how many functions to list
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
if ! command -v valgrind >/dev/null || ! command -v cg_diff >/dev/null; then
  echo "bench_ir.sh needs valgrind (cachegrind, cg_diff): apt-get install valgrind" >&2
  exit 2
fi
BIN=${1:-${BIN:-}} llmcap_build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
requests() { tr '\n' ' ' | grep -oE "[0-9,]+ requests/replication" | head -1 | tr -d ',' | cut -d' ' -f1; }
for h in 3 5; do
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$work/cg.$h" \
    "$bin" run scenarios/bench_30d.toml --out "$work/run$h" --threads 1 --replications 1 \
    --horizon-hours $h 2>&1 | requests > "$work/n.$h"
done
extra=$(( $(cat "$work/n.5") - $(cat "$work/n.3") ))
cg_diff "$work/cg.3" "$work/cg.5" > "$work/cg.diff" 2>/dev/null
python3 - "$work/cg.diff" "$extra" "${TOP:-12}" <<'PY'
import collections, sys
path, extra, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per_fn, fn = collections.Counter(), None
for line in open(path):
    if line.startswith("fn="):
        fn = line[3:].strip()
    elif fn and line[:1].isdigit():
        parts = line.split()
        if len(parts) >= 2:
            per_fn[fn] += int(parts[1])
total = sum(per_fn.values())
print(f"{total / extra:,.0f} instructions per simulated request ({extra:,} requests in hours 4-5 of bench_30d)")
for name, n in per_fn.most_common(top):
    # Without debug info cachegrind names the file "???"; with it, a path: drop either.
    head, sep, rest = name.partition(":")
    print(f"{n / extra:8.1f}  {rest if sep and not rest.startswith(':') else name}")
PY
