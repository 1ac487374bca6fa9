#!/bin/sh
# tools/gpu-resbm.sh: the GPU-sized ResBM study (scenarios/resbm-gpu-*.cfg: 16 stages x 3
# replicas of a ~100M-parameter byte model, 1000 inner steps per peer), live on CUDA
# with the deterministic `modeled` timing rule, one command on a GPU machine:
#
#   on a build machine:  make bundle && sh tools/fetch-brown.sh      (HDF5, libconfig, npm)
#   carry the tree (build/bundle, data/, scenarios/, tools/) to the GPU machine, then
#   on the GPU machine:  sh tools/gpu-resbm.sh [--gpus N] [--set key=value]...
#
# The scenarios use static replica paths (under IOTA's random routing the loss also
# follows the transfer timing of each wire size: results/README.md, "ResBM study"); the
# IOTA-routed control:
#   RESULTS_TAG=iota sh tools/gpu-resbm.sh --set pipeline.routing=iota
#
# It uses build/bundle/bench_live (static non-CUDA libraries) or build/bench_live, and
# builds the CUDA plugin there if it is missing (nvcc + cuBLAS). Output: a table and
# RESULT lines in results/gpu-resbm[-TAG].txt, one trace per run in results/gpu-resbm[-TAG]/, and
# the markdown rows to record in results/README.md.
set -eu
cd "$(dirname "$0")/.."
bin=${BENCH_LIVE:-build/bundle/bench_live}
[ -x "$bin" ] || bin=build/bench_live
[ -x "$bin" ] || { echo "gpu-resbm: no bench_live: run make bundle on a build machine first" >&2; exit 1; }
dir=$(dirname "$bin")
if [ ! -f "$dir/liborionsim-cuda.so" ] && [ ! -f build/liborionsim-cuda.so ]; then
    make --no-print-directory CUDA=1 build/liborionsim-cuda.so
fi
[ -f "$dir/liborionsim-cuda.so" ] || dir=build
[ -f data/brown_train.bin ] || { echo "gpu-resbm: data/brown_train.bin missing: sh tools/fetch-brown.sh on a build machine" >&2; exit 1; }
tag=${RESULTS_TAG:+-$RESULTS_TAG}
mkdir -p "results/gpu-resbm$tag"
out=results/gpu-resbm$tag.txt
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /' | tee "$out.gpu" || true
ORIONSIM_PLUGIN_DIR=$(cd "$dir" && pwd) "$bin" --time modeled --backend cuda --trace "results/gpu-resbm$tag" "$@" \
    scenarios/resbm-gpu-none.cfg scenarios/resbm-gpu-resbm16.cfg scenarios/resbm-gpu-resbm64.cfg \
    scenarios/resbm-gpu-resbm128.cfg scenarios/resbm-gpu-linear64.cfg scenarios/resbm-gpu-int8.cfg | tee "$out"
echo
echo "| run | method | ratio | tokens | final train loss | gap | val loss | val gap | recon err | tokens/s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk '/^RESULT / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "| %s | %s | %s | %s | %.4f | %+.4f | %.4f | %+.4f | %.4f | %.0f |\n", v["name"], v["method"], v["ratio"], v["tokens"],
         v["loss_final"], v["gap"], v["val_loss_final"], v["val_gap"], v["recon"], v["tokens_per_s"] }' "$out"
