# Sourced by the scripts here. Builds llmcap in release mode and sets $bin to the binary, wherever
# cargo puts it (CARGO_TARGET_DIR is respected: cargo reports the path itself). A failed build stops
# the calling script with cargo's error; nothing is hidden.
#   BIN=path/to/llmcap  skips the build and uses that binary.
llmcap_build() {
  if [ -n "${BIN:-}" ]; then
    bin=$BIN
  else
    bin=$(cargo build --release --quiet --bin llmcap --message-format=json \
      | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "llmcap" and m.get("executable"):
        print(m["executable"])
')
  fi
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "error: could not find the llmcap binary (built with cargo build --release)" >&2
    exit 1
  fi
}
