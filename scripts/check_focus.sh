#!/usr/bin/env bash
# Checks llmcap's focus.csv with the FinOps Foundation's focus-validator (FOCUS 1.2 rules, default
# mode) and fails unless every failure is covered by a passing alternative (see focus/verdict.py).
#
# Sets the validator up once, in $FOCUS_VENV (default ~/.cache/llmcap/focus-validator-2.2.1), with
# the versions pinned in scripts/focus/requirements.txt (needs Python >= 3.12: $PYTHON, python3.12,
# python3 or pyenv's 3.12). It then runs offline: the FOCUS rules ship in the package, and so does
# the currency-code list, which the validator opens relative to the working directory
# (focus_validator/rules/currency_codes.csv) and would otherwise download.
#
#   scripts/check_focus.sh                 runs baseline, two_provider and ondemand_vs_reserved (30 h)
#   scripts/check_focus.sh path/focus.csv  checks that file
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
. scripts/common.sh

venv=${FOCUS_VENV:-$HOME/.cache/llmcap/focus-validator-2.2.1}
if [ ! -x "$venv/bin/focus-validator" ]; then
  py=${PYTHON:-}
  for c in python3.12 python3.13 python3 "$HOME/.pyenv/versions/3.12.1/bin/python"; do
    [ -n "$py" ] && break
    if command -v "$c" >/dev/null 2>&1 \
      && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      py=$c
    fi
  done
  if [ -z "$py" ]; then
    echo "error: focus-validator needs Python >= 3.12; set PYTHON=/path/to/python3.12" >&2
    exit 1
  fi
  echo "setting up focus-validator in $venv (once)" >&2
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/focus/requirements.txt
fi
pkg=$("$venv/bin/python" -c 'import focus_validator, os; print(os.path.dirname(focus_validator.__file__))')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/focus_validator/rules"
cp "$pkg/rules/currency_codes.csv" "$work/focus_validator/rules/"

files=()
if [ $# -gt 0 ]; then
  for f in "$@"; do files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done
else
  llmcap_build
  for s in baseline two_provider ondemand_vs_reserved; do
    "$bin" run "scenarios/$s.toml" --out "$work/$s" --horizon-hours 30 --replications 1 --quiet
    files+=("$work/$s/focus.csv")
  done
fi

status=0
for f in "${files[@]}"; do
  echo "== $f"
  (cd "$work" && "$venv/bin/focus-validator" --data-file "$f" --block-download) >"$work/report.txt" 2>&1 || {
    cat "$work/report.txt" >&2
    exit 1
  }
  "$venv/bin/python" "$here/scripts/focus/verdict.py" "$pkg/rules/model-1.2.0.1.json" <"$work/report.txt" \
    || status=1
done
exit $status
