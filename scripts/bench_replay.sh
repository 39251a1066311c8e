#!/usr/bin/env bash
# Trace-replay memory benchmark: generates an azure-format trace of ROWS
# requests (default 50 million, ~2 GB; one request every 10 ms) in a temporary
# folder, replays it for the whole span and prints time and peak memory. Memory
# must not grow with the trace: compare ROWS=1000000 with the default.
#
#   scripts/bench_replay.sh                 # ~2 GB trace
#   ROWS=1000000 scripts/bench_replay.sh    # a small one, for comparison
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
llmcap_build
rows=${ROWS:-50000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v n="$rows" 'BEGIN {
  print "TIMESTAMP,ContextTokens,GeneratedTokens";
  for (i = 0; i < n; i++) {
    t = i / 100.0; d = int(t / 86400); s = t - d * 86400;
    h = int(s / 3600); m = int((s - h * 3600) / 60); sec = s - h * 3600 - m * 60;
    printf "2024-01-%02d %02d:%02d:%09.6f,%d,%d\n", 1 + d, h, m, sec, 200 + (i * 7919) % 3000, 20 + (i * 104729) % 400;
  }
}' > "$dir/trace.csv"
hours=$(( (rows / 100 + 3599) / 3600 ))
if [ "$hours" -gt 744 ]; then echo "ROWS too large for the 31-day date format" >&2; exit 2; fi
cat > "$dir/replay.toml" <<TOML
[scenario]
name = "bench_replay"
horizon_hours = $hours
[[class]]
name = "trace"
model = "m"
route = ["pool"]
arrivals = { trace = "trace.csv", format = "azure" }
[[deployment]]
name = "pool"
platform = "custom"
model = "m"
latency = { median_ms = 300, p99_ms = 900 }
on_demand = { input_per_1m = 1.0, output_per_1m = 2.0 }
TOML
echo "trace: $(du -h "$dir/trace.csv" | cut -f1), $rows requests over $hours h"
python3 - "$dir" "$bin" <<'PY'
import resource, subprocess, sys, time
def summary(stderr):
    # The run's last line wraps on the terminal width: join the words and keep the timing part.
    text = " ".join(stderr.split())
    at = text.rfind("replication(s) simulated in")
    return text[text.rfind(";", 0, at) + 1:].strip() if at >= 0 else text[-200:]
d, binary = sys.argv[1], sys.argv[2]
t0 = time.time()
p = subprocess.run([binary, "run", f"{d}/replay.toml", "--out", f"{d}/out", "--threads", "1"],
                   capture_output=True, text=True)
if p.returncode != 0:
    sys.exit(p.stderr)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(summary(p.stderr))
print(f"validate + replay: {time.time() - t0:.1f} s wall clock, peak RSS {peak:.0f} MB")
PY
