#!/bin/bash
# Submits a sharded sweep and its merge: N array tasks, then a merge that runs after all succeed.
#   deploy/slurm/submit.sh N SCENARIO SHARD_DIR OUT [sweep options...]
# e.g. deploy/slurm/submit.sh 32 /shared/capacity.toml /shared/shards /shared/results/capacity-sweep
# COMMAND=frontier, plan, run or pick shards that command instead (SCENARIO: pick's profile);
# sbatch passes the environment to the tasks.
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 N SCENARIO SHARD_DIR OUT [sweep options...]" >&2; exit 2; }
n=$1 scenario=$2 shard_dir=$3 out=$4
shift 4
here=$(dirname "$0")
array=$(SCENARIO="$scenario" SHARD_DIR="$shard_dir" SWEEP_ARGS="$*" \
  sbatch --parsable --array=0-$((n - 1)) "$here/sweep-array.sbatch")
merge=$(SHARD_DIR="$shard_dir" OUT="$out" \
  sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch")
echo "array job $array ($n shards), merge job $merge"
