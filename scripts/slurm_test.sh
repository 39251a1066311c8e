#!/usr/bin/env bash
# A real batch engine in the tests: installs Debian's Slurm (slurm-wlm: slurmctld, slurmd) and
# munge if they are missing, starts a one-node cluster on this machine without systemd (its
# configuration, spool and logs in a temporary folder), submits a sharded sweep as a job array
# with a merge job that depends on it, waits, and checks that the merged outputs are
# byte-identical to the same sweep run in one process. Stops the daemons it started (by pid) and
# exits 0 only if the outputs agree; it fails loudly when the packages cannot be installed.
#
#   scripts/slurm_test.sh            (as root: it installs packages and runs the daemons)
#   SHARDS=4 scripts/slurm_test.sh   (array size, default 3)
#   BIN=path/to/llmcap               (skip the build)
# The recipe is the one in docs/scale-out.md ("Slurm"); deploy/slurm/ holds the job scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
. scripts/common.sh
llmcap_build
bin=$(realpath "$bin")
shards=${SHARDS:-3}

fail() { echo "slurm_test: FAILED: $*" >&2; exit 1; }

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "Slurm and munge are not installed and this is not root: install slurm-wlm and munge (apt-get install -y slurm-wlm munge) or run as root"
  echo "slurm_test: installing slurm-wlm and munge (apt-get)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; }; then
    fail "apt-get could not install slurm-wlm and munge; the Slurm test cannot run here"
  fi
fi
[ "$(id -u)" = 0 ] || fail "the one-node cluster runs its daemons as root (SlurmUser=root); run as root"

work=$(mktemp -d /tmp/llmcap-slurm.XXXXXX)
chmod 755 "$work"
started_pids=()
cleanup() {
  # Only the daemons this script started, by their pid.
  for pid in "${started_pids[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  sleep 1
  for pid in "${started_pids[@]:-}"; do
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# munge: reuse one that answers, else start our own.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || fail "/etc/munge/munge.key is missing (the munge package creates it)"
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
  su -s /bin/sh munge -c "/usr/sbin/munged --pid-file=/run/munge/llmcap-test.pid" \
    || fail "munged did not start"
  for _ in $(seq 50); do [ -s /run/munge/llmcap-test.pid ] && break; sleep 0.1; done
  started_pids+=("$(cat /run/munge/llmcap-test.pid)")
  munge -n | unmunge >/dev/null || fail "munge does not answer"
fi

node=$(hostname)
cpus=$(nproc)
mkdir -p "$work/ctld" "$work/d" "$work/log" "$work/out"
# Ports off the defaults, so a Slurm already running here is left alone.
cat >"$work/slurm.conf" <<EOF
ClusterName=llmcap-test
SlurmctldHost=$node
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/ctld
SlurmdSpoolDir=$work/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MinJobAge=600
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
/usr/sbin/slurmctld -i -f "$SLURM_CONF" || fail "slurmctld did not start (see $work/log/slurmctld.log)"
for _ in $(seq 50); do [ -s "$work/slurmctld.pid" ] && break; sleep 0.1; done
started_pids+=("$(cat "$work/slurmctld.pid")")
/usr/sbin/slurmd -f "$SLURM_CONF" || fail "slurmd did not start (see $work/log/slurmd.log)"
for _ in $(seq 50); do [ -s "$work/slurmd.pid" ] && break; sleep 0.1; done
started_pids+=("$(cat "$work/slurmd.pid")")
for i in $(seq 60); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  [ "$i" = 60 ] && { cat "$work/log/slurmctld.log" "$work/log/slurmd.log" >&2 || true; fail "the node is not idle after 30 s (state: ${state:-none})"; }
  sleep 0.5
done
echo "slurm_test: one-node cluster up ($(sinfo -V)), node $node idle"

# The sweep: a shipped scenario made small (2 h, 2 replications, 6 points).
scenario=$repo/scenarios/breakeven_azure.toml
sweep_args=(--key deployment.ptu.reserved.units --values 15,40,80,120,160,200 --horizon-hours 2 --replications 2)
started=$(date +%s)
array=$(LLMCAP="$bin" SCENARIO="$scenario" SHARD_DIR="$work/out/shards" SWEEP_ARGS="${sweep_args[*]}" \
  sbatch --parsable --array=0-$((shards - 1)) --chdir="$work/out" --output="$work/log/shard-%a.out" \
  --export=ALL "$repo/deploy/slurm/sweep-array.sbatch") || fail "sbatch of the array job failed"
merge=$(LLMCAP="$bin" SHARD_DIR="$work/out/shards" OUT="$work/out/merged" \
  sbatch --parsable --dependency=afterok:"$array" --chdir="$work/out" --output="$work/log/merge.out" \
  --export=ALL "$repo/deploy/slurm/merge.sbatch") || fail "sbatch of the merge job failed"
echo "slurm_test: submitted array job $array (${shards} tasks) and merge job $merge (afterok:$array)"

for i in $(seq 600); do
  state=$(scontrol show job "$merge" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1)
  case "$state" in
    COMPLETED) break ;;
    FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)
      cat "$work/log/"*.out >&2 || true; fail "the merge job ended $state" ;;
  esac
  if [ "$state" = PENDING ] && scontrol show job "$merge" | grep -q 'Reason=DependencyNeverSatisfied'; then
    cat "$work/log/"*.out >&2 || true; fail "a shard task failed, so the merge never ran"
  fi
  [ "$i" = 600 ] && fail "the jobs did not finish in 300 s (merge job state: ${state:-unknown})"
  sleep 0.5
done
took=$(( $(date +%s) - started ))
echo "slurm_test: array + merge finished in ${took} s"

# The same sweep in one process (on 1 thread, as each task ran: manifest.threads records it),
# then every file compared byte for byte.
"$bin" sweep "$scenario" "${sweep_args[@]}" --threads 1 --out "$work/out/one" --quiet
python3 - "$work/out/one" "$work/out/merged" "$shards" <<'EOF' || fail "the merged outputs differ from the one-process sweep"
import os, sys
one, merged, shards = sys.argv[1], sys.argv[2], sys.argv[3]
a, b = sorted(os.listdir(one)), sorted(os.listdir(merged))
if a != b:
    sys.exit(f"different files: {a} vs {b}")
for f in a:
    x, y = open(os.path.join(one, f), "rb").read(), open(os.path.join(merged, f), "rb").read()
    if f == "sweep.json":
        field = f',\n    "shards": {shards}\n'.encode()
        if y.count(field) != 1:
            sys.exit(f"sweep.json: no manifest.shards = {shards}")
        y = y.replace(field, b"\n", 1)
    if x != y:
        sys.exit(f"{f} differs")
print(f"slurm_test: {len(a)} files byte-identical (sweep.json apart from manifest.shards = {shards})")
EOF
echo "slurm_test: ok"
