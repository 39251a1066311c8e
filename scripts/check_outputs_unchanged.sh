#!/usr/bin/env bash
# Checks that a refactoring left llmcap's outputs unchanged: builds an older commit in a temporary
# git worktree (with its own target dir) and the current tree, runs every shipped scenario (`run`),
# the shipped sweeps, a plan and every shipped pick profile at a short horizon with both binaries,
# and compares the output folders byte for byte. Prints every difference; exits 1 if there is one.
#
#   scripts/check_outputs_unchanged.sh [OLD_COMMIT]     # default f5cc9cb
#   HOURS=2 THREADS=2                                   # horizon and threads of every command
#   OLD_BIN=... NEW_BIN=...                             # skip a build and use that binary
#   OLD_TARGET=dir                                      # target dir of the old build (kept, reused)
#
# Ignored: `llmcap_version` in JSON files (the old and new builds may carry different versions).
# Nothing else is ignored: the manifest's scenario hash, seed, threads and horizon are the same on
# both sides, so they must match. Commands that fail must fail the same way (exit code and stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
old=${1:-f5cc9cb}
hours=${HOURS:-2}
threads=${THREADS:-2}
repo=$(pwd)
work=$(mktemp -d)
cleanup() {
  git -C "$repo" worktree remove --force "$work/old-tree" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The new binary (the working tree), then the old one.
BIN=${NEW_BIN:-} llmcap_build
new_bin=$bin
if [ -n "${OLD_BIN:-}" ]; then
  old_bin=$OLD_BIN
else
  target_root=${CARGO_TARGET_DIR:-$repo/target}
  old_target=${OLD_TARGET:-$target_root/check-old}
  if [ ! -d "$old_target/release" ] && [ -d "$target_root/release/deps" ]; then
    # Seed with the current build's dependencies (a copy: cargo rewrites files in place).
    mkdir -p "$old_target"
    cp -a "$target_root/release" "$old_target/"
  fi
  git -C "$repo" worktree add --detach --quiet "$work/old-tree" "$old"
  echo "building $old in a temporary worktree (target: $old_target)" >&2
  (cd "$work/old-tree" && CARGO_TARGET_DIR=$old_target cargo build --release --quiet --bin llmcap)
  old_bin=$old_target/release/llmcap
fi
echo "old: $old_bin ($old)" >&2
echo "new: $new_bin (working tree)" >&2

# The commands: name, then the arguments after the binary (OUT is replaced by the output folder).
commands=()
for s in scenarios/*.toml; do
  commands+=("run-$(basename "$s" .toml)|run $s --out OUT")
done
for s in $(grep -l '^\[sweep\]' scenarios/*.toml); do
  commands+=("sweep-$(basename "$s" .toml)|sweep $s --out OUT")
done
commands+=("plan-ondemand_vs_reserved|plan scenarios/ondemand_vs_reserved.toml --sla p99<=800ms --out OUT")
for p in scenarios/profiles/*.toml; do
  commands+=("pick-$(basename "$p" .toml)|pick $p --out OUT")
done

run_all() { # binary side
  local binary=$1 side=$2
  mkdir -p "$work/$side" "$work/logs-$side"
  for c in "${commands[@]}"; do
    local name=${c%%|*} args=${c#*|}
    local out="$work/$side/$name"
    # shellcheck disable=SC2086 # the arguments are words
    set -- ${args//OUT/$out}
    local rc=0
    "$binary" "$@" --horizon-hours "$hours" --threads "$threads" --quiet \
      >"$work/logs-$side/$name.stdout" 2>"$work/logs-$side/$name.stderr" || rc=$?
    echo "$rc" >"$work/logs-$side/$name.rc"
    echo "$side $name: exit $rc" >&2
  done
}
run_all "$old_bin" old
run_all "$new_bin" new

python3 - "$work" <<'PY'
import json, os, sys

work = sys.argv[1]
IGNORED = {"llmcap_version"}

def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in IGNORED}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v

def files(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out

def first_difference(a, b):
    try:
        la, lb = a.decode().splitlines(), b.decode().splitlines()
    except UnicodeDecodeError:
        return f"binary, {len(a)} vs {len(b)} bytes"
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return f"line {i + 1}: old {x[:120]!r} / new {y[:120]!r}"
    return f"{len(la)} vs {len(lb)} lines"

differences, ignored, compared = [], [], 0
# Exit codes and stderr of every command (stdout names the temporary folders, so only its
# presence is compared).
for n in sorted(os.listdir(f"{work}/logs-old")):
    if n.endswith(".stdout"):
        continue
    a = open(f"{work}/logs-old/{n}", "rb").read().replace(b"/old/", b"/SIDE/")
    b = open(f"{work}/logs-new/{n}", "rb").read().replace(b"/new/", b"/SIDE/")
    if a != b:
        differences.append(f"{n}: {first_difference(a, b)}")
for side_a, side_b in [("old", "new")]:
    ra, rb = f"{work}/{side_a}", f"{work}/{side_b}"
    fa, fb = files(ra), files(rb)
    for f in sorted(fa - fb):
        differences.append(f"{f}: only in the old build's output")
    for f in sorted(fb - fa):
        differences.append(f"{f}: only in the new build's output")
    for f in sorted(fa & fb):
        compared += 1
        a, b = open(f"{ra}/{f}", "rb").read(), open(f"{rb}/{f}", "rb").read()
        if a == b:
            continue
        if f.endswith(".json"):
            try:
                if strip(json.loads(a)) == strip(json.loads(b)):
                    ignored.append(f)
                    continue
            except ValueError:
                pass
        differences.append(f"{f}: {first_difference(a, b)}")
print(f"compared {compared} files of {len(os.listdir(f'{work}/old'))} output folders")
if ignored:
    print(f"{len(ignored)} JSON files differ only in ignored fields ({', '.join(sorted(IGNORED))})")
if differences:
    print(f"{len(differences)} differences:")
    for d in differences:
        print("  " + d)
    sys.exit(1)
print("identical")
PY
