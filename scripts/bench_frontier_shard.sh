#!/usr/bin/env bash
# Frontier shard benchmark, on the shipped frontier (scenarios/frontier_azure.toml: 13
# configurations x 3 replications of 48 h, the sustained-rate search on the frontier), in three
# parts:
#  1. One 2-thread process, then 2 local shards (1 thread each, at the same time) + a 2-thread
#     merge that runs the rate search; then, from the same 2 grid shards, the rate search's
#     second round: 2 rate shards (1 thread each, at the same time) + a merge that simulates
#     nothing. The wall clock of each, and both merges' outputs checked byte-identical to the
#     one-process ones (but manifest.shards and manifest.threads).
#  2. Merging N shard files (default: one item each, every item of the grid), the scenario's
#     rate_steps set to 0 in a copy so the merge reads, checks and merges without simulating.
#  3. Shard file sizes, per shard and per item, for both.
# It prints the machine's load before and after: the comparison in part 1 means little while
# other builds run.
#
#   scripts/bench_frontier_shard.sh            (all three)
#   PARTS="2 3" MERGE_SHARDS=20 scripts/bench_frontier_shard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
parts=${PARTS:-"1 2 3"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scenario=${SCENARIO:-scenarios/frontier_azure.toml}
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) core(s)"

same_outputs() { # one merged
  python3 - "$@" <<'PY'
import os, re, sys
one, merged = sys.argv[1:]
a, b = sorted(os.listdir(one)), sorted(os.listdir(merged))
assert a == b, (a, b)
for f in a:
    x, y = open(os.path.join(one, f), "rb").read(), open(os.path.join(merged, f), "rb").read()
    if f == "frontier.json":
        x, y = (re.sub(rb',\n    "shards": \d+\n', b"\n", v, count=1) for v in (x, y))
        x, y = (b"\n".join(l for l in v.split(b"\n") if b'"threads":' not in l) for v in (x, y))
    assert x == y, f"{f} differs"
print(f"  merged outputs: {len(a)} files byte-identical to the one-process frontier (but manifest.shards and .threads)")
PY
}

if [[ " $parts " == *" 1 "* ]]; then
  echo "part 1: $scenario, one process against 2 shards + merge"
  t0=$(now)
  "$bin" frontier "$scenario" --threads 2 --quiet --out "$out/one"
  t1=$(now)
  one=$(elapsed "$t0" "$t1")
  echo "  one process, 2 threads: ${one} s"
  t0=$(now)
  "$bin" frontier "$scenario" --threads 1 --quiet --shard 0/2 --out "$out/p1/0" &
  p0=$!
  "$bin" frontier "$scenario" --threads 1 --quiet --shard 1/2 --out "$out/p1/1" &
  p1=$!
  wait "$p0"
  wait "$p1"
  t1=$(now)
  "$bin" merge "$out/p1" --threads 2 --quiet --out "$out/merged"
  t2=$(now)
  total=$(elapsed "$t0" "$t2")
  echo "  2 shards x 1 thread at once: $(elapsed "$t0" "$t1") s; merge (with the rate search, 2 threads) $(elapsed "$t1" "$t2") s; ${total} s in all"
  echo "  difference: $(echo "scale=1; ($total - $one) * 100 / $one" | bc)% of the one-process time"
  same_outputs "$out/one" "$out/merged"
  grid=$(elapsed "$t0" "$t1")
  t0=$(now)
  "$bin" frontier "$scenario" --threads 1 --quiet --shard 0/2 --rates-after "$out/p1" --out "$out/r1/0" &
  p0=$!
  "$bin" frontier "$scenario" --threads 1 --quiet --shard 1/2 --rates-after "$out/p1" --out "$out/r1/1" &
  p1=$!
  wait "$p0"
  wait "$p1"
  t1=$(now)
  "$bin" merge "$out/p1" "$out/r1" --threads 2 --quiet --out "$out/merged-r"
  t2=$(now)
  total=$(echo "$grid + $(elapsed "$t0" "$t2")" | bc)
  echo "  second round: 2 rate shards x 1 thread at once: $(elapsed "$t0" "$t1") s; merge of both rounds (nothing simulated) $(elapsed "$t1" "$t2") s"
  echo "  2 grid shards + 2 rate shards + merge: ${total} s in all, $(echo "scale=1; ($total - $one) * 100 / $one" | bc)% against one process"
  same_outputs "$out/one" "$out/merged-r"
fi

if [[ " $parts " == *" 2 "* ]]; then
  # The scenario with rate_steps = 0: the merge simulates nothing.
  mkdir -p "$out/p2"
  sed 's/^rate_steps = .*/rate_steps = 0/' "$scenario" > "$out/p2/scenario.toml"
  grep -q '^rate_steps = 0' "$out/p2/scenario.toml" || { echo "error: no rate_steps line in $scenario" >&2; exit 1; }
  items=$("$bin" frontier "$out/p2/scenario.toml" --shard 0/1 --threads 1 --quiet --out "$out/p2/count" >/dev/null \
    && zcat "$out"/p2/count/shard-0-of-1.json.gz | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["manifest"]["items"]))')
  n=${MERGE_SHARDS:-$items}
  echo "part 2: merging $n shard files of the $items-item grid (rate_steps = 0)"
  t0=$(now)
  seq 0 $((n - 1)) | xargs -P 2 -I{} "$bin" frontier "$out/p2/scenario.toml" --threads 1 --quiet --shard {}/"$n" --out "$out/p2/s/{}"
  t1=$(now)
  echo "  writing the $n shards (2 at a time): $(elapsed "$t0" "$t1") s"
  t0=$(now)
  "$bin" merge "$out/p2/s" --threads 1 --quiet --out "$out/merged2"
  t1=$(now)
  echo "  merging $n shard files: $(elapsed "$t0" "$t1") s"
  t0=$(now)
  "$bin" merge "$out/p2/count" --threads 1 --quiet --out "$out/merged1"
  t1=$(now)
  echo "  merging 1 shard file of all $items items: $(elapsed "$t0" "$t1") s"
  same_outputs "$out/merged1" "$out/merged2" | sed "s/one-process frontier/1-shard merge/"
fi

if [[ " $parts " == *" 3 "* ]]; then
  echo "part 3: shard file sizes"
  for d in p1 r1 p2/s; do
    [ -d "$out/$d" ] || continue
    find "$out/$d" -name 'shard-*.json.gz' -printf '%s\n' | python3 -c '
import sys
sizes = [int(l) for l in sys.stdin]
print(f"  '"$d"': {len(sizes)} shard file(s), {min(sizes)/1e3:.1f} to {max(sizes)/1e3:.1f} kB each, {sum(sizes)/1e6:.2f} MB in all")'
  done
  if [ -d "$out/p2/count" ]; then
    size=$(stat -c %s "$out"/p2/count/shard-0-of-1.json.gz)
    echo "  one shard of every item: $(echo "scale=1; $size / 1000" | bc) kB, $(echo "scale=1; $size / $items / 1000" | bc) kB per item (a 48 h replication: outcome + TTFT histogram)"
  fi
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
