#!/usr/bin/env bash
# Downloads the public LLM inference traces that scenarios replay, from their
# official repositories at pinned commits, into scenarios/traces/ (git ignores
# them: llmcap does not ship other projects' data), with their licence texts.
# Each file is checked against the git blob hash of the pinned commit.
#
#   scripts/fetch_traces.sh            # into scenarios/traces/
#   DEST=/data/traces scripts/fetch_traces.sh
#
# Then `llmcap run scenarios/replay_azure_conv.toml` finds its trace, or give any
# copy with `--trace PATH`. Cite the sources when you publish results
# (scenarios/traces/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${DEST:-scenarios/traces}
mkdir -p "$dest"
command -v curl >/dev/null || { echo "fetch_traces.sh: curl is needed" >&2; exit 2; }
command -v git >/dev/null || { echo "fetch_traces.sh: git is needed (git hash-object checks the files)" >&2; exit 2; }

azure=https://raw.githubusercontent.com/Azure/AzurePublicDataset/b469a113cedca53ddc3bdea71a143dc4b7d8700c
mooncake=https://raw.githubusercontent.com/kvcache-ai/Mooncake/3b5a594133958449a1feaf1c9e0fc1b553e34a28

# fetch URL FILE [BLOB_SHA1]: downloads to a temporary name, checks, then renames.
fetch() {
    local url=$1 file=$2 want=${3:-}
    echo "$dest/$file <- $url"
    curl --fail --location --silent --show-error --output "$dest/$file.part" "$url"
    if [ -n "$want" ]; then
        local got
        got=$(git hash-object --no-filters "$dest/$file.part")
        if [ "$got" != "$want" ]; then
            rm -f "$dest/$file.part"
            echo "fetch_traces.sh: $file: git blob $got, expected $want (the pinned commit's file)" >&2
            exit 1
        fi
    fi
    mv "$dest/$file.part" "$dest/$file"
}

fetch "$azure/data/AzureLLMInferenceTrace_conv.csv" azure2023_conv.csv 5b9219f2caf93bbbf95ec29894e206115658e235
fetch "$azure/data/AzureLLMInferenceTrace_code.csv" azure2023_code.csv 62bd8109d0f2b1bc48206d397ecca48d8de03aab
fetch "$azure/LICENSE" LICENSE.AzurePublicDataset.CC-BY-4.0.txt
fetch "$mooncake/FAST25-release/traces/conversation_trace.jsonl" mooncake_fast25_conversation.jsonl 5a371794b81d7fc7487ec8a02a2c631bcc7fbdf8
fetch "$mooncake/LICENSE-APACHE" LICENSE.Mooncake.Apache-2.0.txt
echo "done: $(ls "$dest" | wc -l) files in $dest"
