#!/usr/bin/env bash
# Regenerates tests/golden/schema.txt, the pinned results schema (files each command writes, CSV
# headers, JSON key paths), by running the schema test in bless mode. Run it after an intended
# change to an output's columns or keys, then review `git diff tests/golden/schema.txt`.
set -euo pipefail
cd "$(dirname "$0")/.."
LLMCAP_BLESS_SCHEMA=1 cargo test --release --test integration schema:: -- --quiet
git --no-pager diff --stat -- tests/golden/schema.txt
