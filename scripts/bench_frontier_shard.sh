#!/usr/bin/env bash
# The shipped frontier (scenarios/frontier_azure.toml: 13 configurations x 3 replications of
# 48 h, 37 priced rows, the sustained-rate search on the frontier) in one 2-thread process,
# then as 2 local shards (1 thread each, at the same time) + a 2-thread merge that runs the
# rate search; prints the wall clock of each and checks that the merged outputs are
# byte-identical to the one-process ones (but manifest.shards and manifest.threads).
# Run it on a quiet machine: the comparison means nothing while other builds run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scenario=${SCENARIO:-scenarios/frontier_azure.toml}
now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

t0=$(now)
"$bin" frontier "$scenario" --threads 2 --quiet --out "$out/one"
t1=$(now)
one=$(elapsed "$t0" "$t1")
echo "one process, 2 threads: ${one} s"
t0=$(now)
"$bin" frontier "$scenario" --threads 1 --quiet --shard 0/2 --out "$out/shards/0" &
p0=$!
"$bin" frontier "$scenario" --threads 1 --quiet --shard 1/2 --out "$out/shards/1" &
p1=$!
wait "$p0"
wait "$p1"
t1=$(now)
"$bin" merge "$out/shards" --threads 2 --quiet --out "$out/merged"
t2=$(now)
echo "2 shards x 1 thread at once: $(elapsed "$t0" "$t1") s; merge (with the rate search) $(elapsed "$t1" "$t2") s; $(elapsed "$t0" "$t2") s in all"
ls -l "$out"/shards/*/shard-*.json.gz | awk '{print "  shard file " $NF ": " $5 " bytes"}'
python3 - "$out/one" "$out/merged" <<'PY'
import os, sys
one, merged = sys.argv[1:]
a, b = sorted(os.listdir(one)), sorted(os.listdir(merged))
assert a == b, (a, b)
for f in a:
    x, y = open(os.path.join(one, f), "rb").read(), open(os.path.join(merged, f), "rb").read()
    if f == "frontier.json":
        y = y.replace(b',\n    "shards": 2\n', b"\n", 1)
        x, y = (b"\n".join(l for l in v.split(b"\n") if b'"threads":' not in l) for v in (x, y))
    assert x == y, f"{f} differs"
print(f"merged outputs: {len(a)} files byte-identical to the one-process frontier (but manifest.shards and .threads)")
PY
