#!/usr/bin/env bash
# Random outages must not slow a run down (issue 12): scenarios/baseline.toml
# over 8,760 h, once as shipped and once with a random outage every simulated
# hour on average (mtbf_hours = 1, mttr_hours = 0.05, on every deployment).
# Prints both times and their ratio; the target is a ratio of at most 1.3.
#
#   scripts/bench_outages.sh             # 8,760 h, 1 replication
#   HOURS=720 scripts/bench_outages.sh   # a shorter horizon for a quick look
#   BIN=target/release/llmcap scripts/bench_outages.sh   # an already built binary
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
hours=${HOURS:-8760}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp scenarios/baseline.toml "$tmp/plain.toml"
{
  cat scenarios/baseline.toml
  printf '\n[[outage]]\nname = "flaky"\ndeployments = ["ptu", "standard"]\nmtbf_hours = 1\nmttr_hours = 0.05\neffect = "full"\n'
} >"$tmp/outages.toml"

seconds() { # scenario -> wall seconds of one run
  python3 - "$bin" "$1" "$tmp/out-$(basename "$1" .toml)" "$hours" <<'PY'
import subprocess, sys, time
binary, scenario, out, hours = sys.argv[1:]
t = time.perf_counter()
p = subprocess.run([binary, "run", scenario, "--out", out, "--quiet", "--threads", "1",
                    "--replications", "1", "--horizon-hours", hours],
                   capture_output=True, text=True)
if p.returncode != 0:
    sys.exit(p.stderr)
print(f"{time.perf_counter() - t:.2f}")
PY
}

plain=$(seconds "$tmp/plain.toml")
outages=$(seconds "$tmp/outages.toml")
python3 -c "
p, o = $plain, $outages
print(f'baseline.toml, ${hours} h, 1 replication, 1 thread: without outages {p:.2f} s, with mtbf_hours = 1 outages {o:.2f} s: x{o / p:.2f} (target <= 1.3)')
"
