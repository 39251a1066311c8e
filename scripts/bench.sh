#!/usr/bin/env bash
# Speed benchmark: simulates scenarios/bench_30d.toml (30 days at a mean of
# 100 requests/s, ~259M requests per replication) and prints simulated requests
# per second per core, the speed-up with a second core, and peak memory.
#
#   scripts/bench.sh            # full 30-day run (a few minutes)
#   HOURS=72 scripts/bench.sh   # a shorter horizon for a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
scenario=scenarios/bench_30d.toml
hours=${HOURS:-720}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

measure() { # threads replications -> prints "<stderr summary line> | peak RSS"
  local threads=$1 reps=$2
  python3 - "$bin" "$scenario" "$out/t$threads" "$threads" "$reps" "$hours" <<'PY'
import resource, subprocess, sys
def summary(stderr):
    # The run's last line wraps on the terminal width: join the words and keep the timing part.
    text = " ".join(stderr.split())
    at = text.rfind("replication(s) simulated in")
    return text[text.rfind(";", 0, at) + 1:].strip() if at >= 0 else text[-200:]
binary, scenario, out, threads, reps, hours = sys.argv[1:]
p = subprocess.run([binary, "run", scenario, "--out", out, "--threads", threads,
                    "--replications", reps, "--horizon-hours", hours],
                   capture_output=True, text=True)
if p.returncode != 0:
    sys.exit(p.stderr)
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(summary(p.stderr), f"| peak RSS {peak_mb:.0f} MB")
PY
}

echo "== 1 thread, 1 replication, ${hours} h"
one=$(measure 1 1); echo "$one"
echo "== 2 threads, 2 replications, ${hours} h"
two=$(measure 2 2); echo "$two"
rate() { sed -E 's/.*\(([0-9.]+) M requests\/s.*/\1/' <<<"$1"; }
python3 -c "
r1, r2 = float('$(rate "$one")'), float('$(rate "$two")')
print(f'simulated requests/s per core: {r1:.2f} M (target >= 5 M); with 2 cores: {r2:.2f} M total, speed-up x{r2 / r1:.2f}')
"
