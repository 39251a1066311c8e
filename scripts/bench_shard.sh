#!/usr/bin/env bash
# Shard benchmark (issue 17's speed targets), in three parts:
#  1. 2 local shards (1 thread each, run at the same time) + merge, against one 2-thread process,
#     on the 50-point x 10-replication sweep of scripts/bench_sweep.sh (7 days of
#     scenarios/breakeven_azure.toml, PTUs 15 to 260): target at most 5% more wall clock; the
#     merged outputs must be byte-identical to the one-process ones (but manifest.shards).
#  2. Merging 1,000 shard files of a 10-replication sweep (100 points x 10 replications, 1 h
#     horizon, one item per shard): target a few seconds.
#  3. Shard file sizes, per shard and per item, for both.
# Run it on a quiet machine: the comparison in part 1 means nothing while other builds run.
#
#   scripts/bench_shard.sh            (all three)
#   PARTS="2 3" scripts/bench_shard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
parts=${PARTS:-"1 2 3"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scenario=scenarios/breakeven_azure.toml
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

same_outputs() { # one merged shards
  python3 - "$1" "$2" "$3" <<'EOF'
import os, sys
one, merged, shards = sys.argv[1:]
a, b = sorted(os.listdir(one)), sorted(os.listdir(merged))
assert a == b, (a, b)
for f in a:
    x, y = open(os.path.join(one, f), "rb").read(), open(os.path.join(merged, f), "rb").read()
    if f == "sweep.json":
        y = y.replace(f',\n    "shards": {shards}\n'.encode(), b"\n", 1)
        # manifest.threads records the threads (2 for one process, 1 per shard here).
        x, y = (b"\n".join(l for l in v.split(b"\n") if b'"threads":' not in l) for v in (x, y))
    assert x == y, f"{f} differs"
print(f"  merged outputs: {len(a)} files byte-identical to the one-process sweep (but manifest.shards and .threads)")
EOF
}

if [[ " $parts " == *" 1 "* ]]; then
  sweep=(--key deployment.ptu.reserved.units --from 15 --to 260 --step 5 --replications 10 --quiet)
  echo "part 1: 50 points x 10 replications x 168 h"
  t0=$(now)
  "$bin" sweep "$scenario" "${sweep[@]}" --threads 2 --out "$out/one"
  t1=$(now)
  one=$(elapsed "$t0" "$t1")
  echo "  one process, 2 threads: ${one} s"
  t0=$(now)
  "$bin" sweep "$scenario" "${sweep[@]}" --threads 1 --shard 0/2 --out "$out/p1/0" &
  p0=$!
  "$bin" sweep "$scenario" "${sweep[@]}" --threads 1 --shard 1/2 --out "$out/p1/1" &
  p1=$!
  wait "$p0"
  wait "$p1"
  t1=$(now)
  "$bin" merge "$out/p1" --out "$out/merged" --quiet
  t2=$(now)
  shards=$(elapsed "$t0" "$t1")
  merge=$(elapsed "$t1" "$t2")
  total=$(elapsed "$t0" "$t2")
  echo "  2 shards x 1 thread at once: ${shards} s, merge ${merge} s, ${total} s in all"
  echo "  overhead: $(echo "scale=1; ($total - $one) * 100 / $one" | bc)% (target at most 5%)"
  same_outputs "$out/one" "$out/merged" 2
fi

if [[ " $parts " == *" 2 "* ]]; then
  n=1000
  sweep=(--key deployment.ptu.reserved.units --from 15 --to 510 --step 5 --replications 10 --horizon-hours 1 --threads 1 --quiet)
  echo "part 2: $n shards of a 100-point x 10-replication sweep (1 h), one item each"
  t0=$(now)
  seq 0 $((n - 1)) | xargs -P 2 -I{} "$bin" sweep "$scenario" "${sweep[@]}" --shard {}/$n --out "$out/p2/{}"
  t1=$(now)
  echo "  writing the $n shards (2 at a time): $(elapsed "$t0" "$t1") s"
  t0=$(now)
  "$bin" merge "$out/p2" --out "$out/merged2" --quiet
  t1=$(now)
  echo "  merging $n shard files: $(elapsed "$t0" "$t1") s (target: seconds)"
  "$bin" sweep "$scenario" "${sweep[@]}" --out "$out/one2"
  same_outputs "$out/one2" "$out/merged2" $n
fi

if [[ " $parts " == *" 3 "* ]]; then
  echo "part 3: shard file sizes"
  for d in p1 p2; do
    [ -d "$out/$d" ] || continue
    find "$out/$d" -name 'shard-*.json.gz' -printf '%s\n' | python3 -c '
import sys
sizes = [int(l) for l in sys.stdin]
print(f"  '"$d"': {len(sizes)} shard file(s), {min(sizes)/1e3:.1f} to {max(sizes)/1e3:.1f} kB each, {sum(sizes)/1e6:.2f} MB in all")'
  done
  if [ -d "$out/p1" ]; then
    items=$(( 50 * 10 ))
    total=$(find "$out/p1" -name 'shard-*.json.gz' -printf '%s\n' | paste -sd+ | bc)
    echo "  p1: $(echo "scale=1; $total / $items / 1000" | bc) kB per item (7-day replication: outcome + TTFT histogram)"
  fi
fi
