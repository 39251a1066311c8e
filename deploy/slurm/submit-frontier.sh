#!/bin/bash
# Submits a sharded frontier in two rounds and its merge, each after the one before succeeds:
#   deploy/slurm/submit-frontier.sh GRID_N RATE_N SCENARIO SHARD_DIR OUT [frontier options...]
# e.g. deploy/slurm/submit-frontier.sh 8 4 /shared/capacity.toml /shared/frontier /shared/results/capacity-frontier
#  1. GRID_N array tasks simulate the [frontier] grid into SHARD_DIR/grid/<task>;
#  2. RATE_N array tasks (--dependency=afterok on the first array) each read the whole grid, mark
#     the frontier and search the sustained rate of their share of its configurations, into
#     SHARD_DIR/rates/<task>;
#  3. the merge (afterok on the second array) reads both and simulates nothing.
# RATE_N = 0 skips round 2: the merge then runs the rate search itself (give it cores).
# sbatch passes the environment to the tasks (LLMCAP: the binary, as for sweep-array.sbatch).
set -euo pipefail
[ $# -ge 5 ] || { echo "usage: $0 GRID_N RATE_N SCENARIO SHARD_DIR OUT [frontier options...]" >&2; exit 2; }
grid_n=$1 rate_n=$2 scenario=$3 shard_dir=$4 out=$5
shift 5
here=$(dirname "$0")
grid=$(COMMAND=frontier SCENARIO="$scenario" SHARD_DIR="$shard_dir/grid" SWEEP_ARGS="$*" \
  sbatch --parsable --array=0-$((grid_n - 1)) "$here/sweep-array.sbatch")
after=$grid
if [ "$rate_n" -gt 0 ]; then
  after=$(COMMAND=frontier SCENARIO="$scenario" SHARD_DIR="$shard_dir/rates" \
    SWEEP_ARGS="$* --rates-after $shard_dir/grid" \
    sbatch --parsable --array=0-$((rate_n - 1)) --dependency=afterok:"$grid" "$here/sweep-array.sbatch")
fi
merge=$(SHARD_DIR="$shard_dir" OUT="$out" \
  sbatch --parsable --dependency=afterok:"$after" "$here/merge.sbatch")
echo "grid array job $grid ($grid_n shards), rate array job $after ($rate_n shards), merge job $merge"
