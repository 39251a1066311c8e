#!/usr/bin/env bash
# Which gateway setting moved cost, p99 and availability: imports the shipped LiteLLM configs
# scenarios/gateway/cooldown_default.yaml and cooldown_aggressive.yaml with the same traffic and
# Bedrock degradation (scenarios/gateway/traffic_degraded.toml), runs both, and explains the
# difference with `llmcap diff` (docs/gateway.md shows a result).
#
#   scripts/gateway_diff.sh [OUT_DIR]     # default: results/gateway-diff
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
out=${1:-results/gateway-diff}
mkdir -p "$out"
for variant in default aggressive; do
  "$bin" import litellm "scenarios/gateway/cooldown_$variant.yaml" \
    --traffic scenarios/gateway/traffic_degraded.toml --out "$out/cooldown_$variant.toml" --quiet
  "$bin" run "$out/cooldown_$variant.toml" --out "$out/run-$variant" --quiet
done
# Availability and tail latency from each run's summary.json, side by side (llmcap diff's headline
# gives the same change, then explains the cost).
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print("cooldown    availability  errored/rep  served/rep  TTFT p99 ms  cost/rep")
for v in ("default", "aggressive"):
    s = json.load(open(f"{out}/run-{v}/summary.json"))
    p99 = next(p["replications"]["mean"] for p in s["ttft_ms"] if p["percentile"] == 99.0)
    r, a = s["requests"], s["resilience"]["availability"]["mean"]
    print(f"{v:<10}  {a * 100:10.2f}%  {r['errored']:11,.0f}  {r['served']:10,.0f}  {p99:11,.0f}  ${s['cost']['total_usd']['mean']:,.2f}")
PY
"$bin" diff "$out/run-default" "$out/run-aggressive" --out "$out/diff"
