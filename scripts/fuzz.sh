#!/usr/bin/env bash
# Runs one fuzz target of llmcap's parsers for a given time and prints its executions and crashes
# (sim/fuzz.rs: a stable-Rust mutation harness, because cargo-fuzz needs a nightly toolchain).
#
#   scripts/fuzz.sh TARGET SECONDS [SEED]
#   scripts/fuzz.sh all 600            # every target, 600 s each
#
# Targets: scenario, profile, azure, burstgpt, mooncake, csv, diff, options, guidellm. Crashing (and > 1 s)
# inputs are saved under fuzz-crashes/ in the current folder. Run it niced on a shared machine:
#   nice -n 19 scripts/fuzz.sh scenario 3600
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [SEED]}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [SEED]}
seed=${3:-1}
fuzz=$(cd "$repo" && cargo build --release --quiet --features fuzz --bin llmcap-fuzz --message-format=json \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "llmcap-fuzz" and m.get("executable"):
        print(m["executable"])
')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# diff mutates one file of a real run folder (a short run of the shipped baseline, tagged).
(cd "$repo" && source scripts/common.sh && llmcap_build && \
  "$bin" run scenarios/baseline.toml --out "$tmp/run" --quiet --horizon-hours 3 --replications 2 >/dev/null)
if [ "$target" = all ]; then
  targets="scenario profile azure burstgpt mooncake csv diff options guidellm"
else
  targets=$target
fi
status=0
for t in $targets; do
  corpus=()
  # Public traces seed the trace targets when ../shared is next to the checkout (read in place).
  if [ -d "$repo/../shared/traces" ]; then corpus=(--corpus "$repo/../shared/traces"); fi
  "$fuzz" "$t" "$seconds" --seed "$seed" --repo "$repo" --run-folder "$tmp/run" --crashes fuzz-crashes "${corpus[@]}" || status=1
done
exit $status
