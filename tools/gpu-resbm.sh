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
# It uses $BENCH_LIVE, else build/bundle/bench_live (static non-CUDA libraries), else
# build/bench_live, and the CUDA plugin from $ORIONSIM_PLUGIN_DIR, else beside that
# binary, else build/ (built there with nvcc if missing). Output: a table and RESULT
# lines in results/gpu-resbm[-TAG].txt, one trace per run in results/gpu-resbm[-TAG]/,
# and the markdown rows to record in results/README.md. The gaps are to the first
# variant (the uncompressed baseline), as bench_live computes them.
#
# Environment:
#   RESBM_VARIANTS  the variants, scenarios/resbm-gpu-<variant>.cfg (default: none resbm16
#                   resbm64 resbm128 linear64 int8); the first is the baseline
#   RESBM_BUDGET    seconds: a time-boxed study (tools/gpu-run.sh step "resbm" uses it).
#                   Each variant runs as its own bench_live process, all of them side by
#                   side on the GPU, each under `timeout`. First a pilot of RESBM_PILOT
#                   cycles (default 3; H = 10 inner steps each); from its pace, a second
#                   run with as many cycles as fit in what is left of the budget (at most
#                   RESBM_MAX_CYCLES, default the scenarios' 100; skipped unless it gets at
#                   least twice the pilot's cycles). The table comes from the longest run
#                   whose variants all finished; both runs' RESULT lines are kept.
#                   Unset: the whole study in one process, as the scenarios say.
#   RESBM_OUT       the output directory (default results)
#   RESBM_BACKEND   cuda (default); cpu runs the same steps on the CPU backend (a dry run
#                   of this script on a machine without a GPU: shrink the model with --set)
#   RESULTS_TAG     a tag for the output names (above)
# Exit status: 0 if every run of the reported phase finished, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."
bin=${BENCH_LIVE:-build/bundle/bench_live}
[ -x "$bin" ] || bin=build/bench_live
[ -x "$bin" ] || { echo "gpu-resbm: no bench_live: run make bundle on a build machine first" >&2; exit 1; }
backend=${RESBM_BACKEND:-cuda}
if [ -n "${ORIONSIM_PLUGIN_DIR:-}" ] && [ -f "$ORIONSIM_PLUGIN_DIR/liborionsim-cuda.so" ]; then
    dir=$ORIONSIM_PLUGIN_DIR
else
    dir=$(dirname "$bin")
    if [ "$backend" = cuda ] && [ ! -f "$dir/liborionsim-cuda.so" ] && [ ! -f build/liborionsim-cuda.so ]; then
        make --no-print-directory CUDA=1 build/liborionsim-cuda.so
    fi
    [ -f "$dir/liborionsim-cuda.so" ] || dir=build
fi
ORIONSIM_PLUGIN_DIR=$(cd "$dir" && pwd)
export ORIONSIM_PLUGIN_DIR
[ -f data/brown_train.bin ] || { echo "gpu-resbm: data/brown_train.bin missing: sh tools/fetch-brown.sh on a build machine" >&2; exit 1; }
variants=${RESBM_VARIANTS:-none resbm16 resbm64 resbm128 linear64 int8}
for v in $variants; do
    [ -f "scenarios/resbm-gpu-$v.cfg" ] || { echo "gpu-resbm: no scenarios/resbm-gpu-$v.cfg (RESBM_VARIANTS)" >&2; exit 2; }
done
tag=${RESULTS_TAG:+-$RESULTS_TAG}
res=${RESBM_OUT:-results}
mkdir -p "$res/gpu-resbm$tag"
out=$res/gpu-resbm$tag.txt
: > "$out"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /' | tee "$out.gpu" || true

# table FILE: the markdown rows of FILE's RESULT lines; gaps to the first line's run
table() {
    echo "| run | method | ratio | cycles | tokens | final train loss | gap | val loss | val gap | recon err | tokens/s |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    awk '/^RESULT / { split("", v); for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if (n++ == 0) { bl = v["loss_final"]; bv = v["val_loss_final"] }
      printf "| %s | %s | %s | %s | %s | %.4f | %+.4f | %.4f | %+.4f | %.4f | %.0f |%s\n", v["name"], v["method"], v["ratio"],
             cyc, v["tokens"], v["loss_final"], v["loss_final"] - bl, v["val_loss_final"], v["val_loss_final"] - bv,
             v["recon"], v["tokens_per_s"], v["ok"] == 1 ? "" : " (run failed)" }' cyc="${2:-}" "$1"
}

if [ -z "${RESBM_BUDGET:-}" ]; then
    # the whole study, one process
    files=""
    for v in $variants; do files="$files scenarios/resbm-gpu-$v.cfg"; done
    # shellcheck disable=SC2086
    "$bin" --time modeled --backend "$backend" --trace "$res/gpu-resbm$tag" "$@" $files | tee "$out"
    echo
    table "$out" | tee -a "$out"
    exit 0
fi

# ---- time-boxed: a pilot, then as many cycles as fit ----------------------------------
command -v timeout >/dev/null 2>&1 || { echo "gpu-resbm: RESBM_BUDGET needs the timeout command" >&2; exit 2; }
budget=$RESBM_BUDGET
pilot=${RESBM_PILOT:-3}
max_cycles=${RESBM_MAX_CYCLES:-100}
t0=$(date +%s)
left() { echo $((budget - ($(date +%s) - t0))); }
echo "gpu-resbm: time-boxed study, $budget s: variants $variants, side by side; backend $backend" | tee -a "$out"
best=""            # the file of the longest phase whose runs all finished
best_cycles=0
cycles=$pilot
for phase in pilot main; do
    lim=$(left)
    if [ "$phase" = main ]; then
        # pace from the pilot: wall per cycle inside swarm_run, and the set-up around it
        [ -n "$best" ] || { echo "gpu-resbm: the pilot did not finish: no second run" | tee -a "$out"; break; }
        wall=$(awk '/^RESULT / { for (i = 2; i <= NF; i++) if ($i ~ /^wall_s=/) { w = substr($i, 8) + 0; if (w > m) m = w } }
                    END { printf "%.3f", m }' "$best")
        cycles=$(awk -v left="$lim" -v el="$pilot_elapsed" -v w="$wall" -v p="$pilot" -v mx="$max_cycles" 'BEGIN {
            setup = el - w; if (setup < 0) setup = 0; pace = w / p; if (pace <= 0) pace = 1e-3
            c = int(0.85 * (left - setup - 10) / pace); if (c > mx) c = mx; if (c < 0) c = 0; print c }')
        echo "gpu-resbm: pilot: $pilot cycles in ${wall} s of training (${pilot_elapsed} s with set-up); $lim s left -> $cycles cycles" | tee -a "$out"
        if [ "$cycles" -lt $((2 * pilot)) ]; then
            echo "gpu-resbm: fewer than $((2 * pilot)) cycles fit: the pilot's table stands" | tee -a "$out"
            break
        fi
    fi
    if [ "$lim" -lt 10 ]; then echo "gpu-resbm: $lim s left: no $phase run" | tee -a "$out"; break; fi
    echo "gpu-resbm: $phase: $cycles cycles per variant, timeout $lim s" | tee -a "$out"
    ph0=$(date +%s)
    pids=""
    for v in $variants; do
        # --foreground: stays in the caller's process group, so a timeout around this
        # script reaches every run too
        timeout --foreground -k 5 "$lim" "$bin" --time modeled --backend "$backend" \
            --trace "$res/gpu-resbm$tag/$phase" "$@" --set "training.cycles=$cycles" \
            "scenarios/resbm-gpu-$v.cfg" > "$res/gpu-resbm$tag/$phase-$v.txt" 2>&1 &
        pids="$pids $!"
    done
    all_ok=1
    for p in $pids; do wait "$p" || all_ok=0; done
    elapsed=$(($(date +%s) - ph0))
    [ "$phase" = pilot ] && pilot_elapsed=$elapsed
    : > "$res/gpu-resbm$tag/$phase.txt"
    for v in $variants; do
        f="$res/gpu-resbm$tag/$phase-$v.txt"
        cat "$f" >> "$res/gpu-resbm$tag/$phase.txt"
        grep -q '^RESULT .* ok=1 ' "$f" || { all_ok=0; echo "gpu-resbm: $phase $v did not finish: $(grep -v '^RESULT ' "$f" | tail -n 2 | tr '\n' ' ')" | tee -a "$out"; }
    done
    grep '^RESULT ' "$res/gpu-resbm$tag/$phase.txt" | sed "s/\$/ cycles=$cycles phase=$phase/" >> "$out" || true
    echo "gpu-resbm: $phase: ${elapsed} s, $( [ "$all_ok" = 1 ] && echo "every run finished" || echo "NOT every run finished")" | tee -a "$out"
    if [ "$all_ok" = 1 ]; then best="$res/gpu-resbm$tag/$phase.txt"; best_cycles=$cycles; fi
done
echo | tee -a "$out"
if [ -z "$best" ]; then
    echo "gpu-resbm: no phase finished: no table" | tee -a "$out"
    exit 1
fi
echo "gpu-resbm: table from the $best_cycles-cycle run ($best_cycles x H inner steps per peer; each run was its" | tee -a "$out"
echo "gpu-resbm: own process, so the RESULT lines' gap fields are 0: the gaps below are to the first variant):" | tee -a "$out"
table "$best" "$best_cycles" | tee -a "$out"
