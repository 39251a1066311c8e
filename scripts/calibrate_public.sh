#!/usr/bin/env bash
# Calibrates a deployment to each public load test in ../shared/measurements/ (read in place,
# never copied; see docs/calibrate.md, "What the public measurements give"): every LLMPerf
# leaderboard run (one deployment per file) and the Azure OpenAI PTU load tests of
# azure-openai-benchmark (one deployment per model and region, all client counts together).
# Prints calibrate's headline per deployment; the reports are under results/calibrate-public/.
#
#   scripts/calibrate_public.sh [extra llmcap calibrate flags, e.g. --holdout 0.3]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
data=../shared/measurements
if [ ! -d "$data" ]; then
    echo "SKIPPED: $data is not there (public measurements, not in the repository)" >&2
    exit 0
fi
llmcap_build
out=results/calibrate-public
run() {
    local name=$1
    shift
    echo "== $name"
    # A run that cannot be fitted (too few served requests) says why and the script goes on.
    "$bin" calibrate "$@" --out "$out/$name" 2>&1 >/dev/null || true
}
for f in "$data"/ray-project__llmperf-leaderboard/raw_data_individual_*.json; do
    name=$(basename "$f" .json)
    run "llmperf-${name#raw_data_individual_}" "$f" --format llmperf "$@"
done
azure="$data/pablosalvador10__gbbai-azure-openai-benchmark"
run azure-gpt-4-turbo-swedencentral "$azure"/benchmarks_gpt-4-turbo_swedencentral_*_throughput_* --format azure-benchmark "$@"
run azure-gpt-4-turbo-uksouth "$azure"/benchmarks_gpt-4-turbo_uksouth_*_throughput_* --format azure-benchmark "$@"
# The eastus2 folder's log is of the swedencentral resource (its README says so).
run azure-gpt-4-turbo-eastus2-folder "$azure"/benchmarks_gpt-4-turbo_eastus2_*_throughput_* --format azure-benchmark "$@"
run azure-gpt-4-0613-swedencentral "$azure"/benchmarks_gpt4_swedencentral_*_throughput_* --format azure-benchmark "$@"
run guidellm-fixture "$data"/vllm-project__guidellm/*stripped.json --format guidellm "$@"
echo "reports: $out/<name>/calibrate.md"
