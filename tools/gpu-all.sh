#!/bin/sh
# tools/gpu-all.sh: all of issue 13's GPU work in one command, in under 8 minutes on one
# H200, every step under its own timeout, at most 8 files in $OUT.
#
#   on a build machine (no GPU):   sh tools/gpu-run.sh bundle pack   # -> build/gpu-bundle.tar.xz (~12 MB)
#                                  make data                         # data/brown_*.bin (~12 MB), if missing
#   on the GPU machine, from the tree's root (the binaries come from the carried bundle:
#   that machine has no Debian HDF5/libconfig):
#                                  sh tools/gpu-all.sh
#   e.g. through the device tool:  run(command="sh tools/gpu-all.sh",
#                                      carry=["build/gpu-bundle.tar.xz", "data"], timeout_s=540)
#
# What runs (tools/gpu-run.sh steps; each step command under `timeout`), with the time
# each is expected to take on one H200 and its timeout, in seconds. Estimates: FLOP
# counts at a few hundred TFLOP/s; the host-side weight initialisation of a stage
# (kernels/stage.c, one thread, Box-Muller normals), measured on the build machine at
# 18 ns of CPU per parameter (22-46 ns of wall on its loaded 2 cores): 13-25 s per Orion
# block of 1.08e9 parameters, which dominates bench_kernels_orion and calibrate; PyTorch's
# start-up. None of it was measured on a GPU yet.
#
#   phase 0, set-up                                                expected   timeout
#     unpack     build/gpu-bundle.tar.xz -> build/bundle (xz)             3        15
#     info       nvidia-smi, nvcc, compute-sanitizer, torch versions      8        25
#                (nvidia-smi 5 + 5, torch import 15)
#   phase A, correctness, side by side with the ResBM study (so the GPU is shared: nothing
#   here is a speed figure; ResBM's tokens/s is not one either)
#     (a) test_cuda_vs_cpu   every op, CUDA vs CPU (SKIP = FAIL)       7        30
#         test_cuda_stage    whole stages, CUDA vs CPU                 3        15
#         test_backend_load  (forks; a CUDA context per test)          5        15
#     (b) memcheck   compute-sanitizer --tool memcheck test_cuda_vs_cpu 40        65
#                    (a refusal of the device is recorded as such; what
#                    it found before a timeout stays in memcheck.txt)
#     (f) slots      tiny-live, modeled time: --gpus 1, --gpus 2, and
#                    `orionsim run` with compute.gpus = 2 (the scenario
#                    key), each ~1 s of CUDA set-up per slot + 3 cycles  3 x 5    3 x 20
#                                                       foreground total  ~70       175
#     (e) resbm      none vs ResBM 64x, the two runs side by side: a      175       175
#                    3-cycle pilot, then as many cycles as fit in the
#                    step's timeout less 10 s (gpu-resbm.sh RESBM_BUDGET;
#                    ~0.1-0.2 s per inner step per run expected: ~50-90
#                    cycles)                                 phase A total  175       175
#   phase B, speed (the GPU to itself)
#     (c) bench_kernels_orion    d 9216, ffn 32256, 72/8 heads, 10 x 800,
#                                bf16: two stages of 1.08e9 parameters
#                                initialised on the host, ~5 s on the GPU  35        65
#         bench_torch_orion      the same block in PyTorch (SDPA)          20        40
#     (d) calibrate              orionsim calibrate orion-100b.cfg
#                                --device H200 (one stage built)           25        45
#     (c) bench_kernels_llama8b  d 4096, ffn 14336, 32/8 heads, 10 x 800   10        25
#         bench_torch_llama8b                                              10        20
#         bench_kernels_llama1b  d 2048, ffn 8192, 32/8 heads, 10 x 800     5        15
#         bench_torch_llama1b                                               8        15
#         compare                ours / torch per measurement, and block
#                                fwd+bwd / GEMM rate for both              0         5
#                                                            phase B total  113       230
#   pack         the files below (tar 10, again without traces if > 16 MB)  3        20
#   total                                                          ~300 s (5 min)  465 s
#
# The timeouts add up to 465 s. On top, GPU_RUN_DEADLINE = start + GPU_ALL_BUDGET (445 s)
# cuts any step's timeout to what is left, so even a slow set-up (the CUDA plugin rebuilt
# with nvcc where the bundle's does not load: ~60 s, TIMEOUT_build_plugin) cannot push
# the run past 8 minutes: the last steps are then recorded "FAIL (no time left)".
# Every timeout can be overridden (TIMEOUT_<step>=seconds, as tools/gpu-run.sh says).
#
# Output, in $OUT (default ./gpu-out-all), 7 files:
#   summary.txt      every step's status and seconds, phase by phase, then the headline
#                    figures (block fwd+bwd / GEMM rate, ours / torch, the ResBM table,
#                    the slots check, the memcheck summary)
#   gpu-all.log      everything every step printed
#   compare.txt      ours / torch per shape and measurement
#   resbm.txt        the ResBM study's RESULT lines and table
#   h200.profile     the calibrated kernel profile (<device>.profile)
#   memcheck.txt     compute-sanitizer's output
#   gpu-all.tar.gz   every step's files (build/gpu-all/: one folder per phase), traces too
#
# Environment: OUT; GPU_ALL_BUDGET (seconds, default 445); GPU_ALL_WORK (the work folder,
# default build/gpu-all, emptied first); SHAPES_B (the smaller shapes, default "llama8b
# llama1b"); REPS (default 5); RESBM_VARIANTS (default "none resbm64"); and, to try it on
# a machine without a GPU, GPU_RUN_FORCE=1 (each device step fails cleanly, saying why) or
# GPU_RUN_BACKEND=cpu (the steps run on the CPU backend at scaled-down shapes: a dry run
# of the plumbing; set TIMEOUT_resbm lower there). tools/gpu-run.sh documents the rest.
# Exit status: 0 if every step passed, 1 otherwise.
set -u
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-./gpu-out-all}
mkdir -p "$OUT" || { echo "gpu-all: cannot create $OUT" >&2; exit 1; }
OUT=$(cd "$OUT" && pwd)
W=${GPU_ALL_WORK:-build/gpu-all}
rm -rf "$W" && mkdir -p "$W" || { echo "gpu-all: cannot create $W" >&2; exit 1; }
W=$(cd "$W" && pwd)
BUDGET=${GPU_ALL_BUDGET:-445}
t_start=$(date +%s)
GPU_RUN_DEADLINE=$((t_start + BUDGET))
export GPU_RUN_DEADLINE
log="$W/gpu-all.log"
say() { echo "gpu-all: $*" | tee -a "$log"; }

# the timeouts of the table above (any set in the environment wins)
: "${TIMEOUT_unpack:=15}" "${TIMEOUT_build_plugin:=120}"
: "${TIMEOUT_test_cuda_vs_cpu:=30}" "${TIMEOUT_test_cuda_stage:=15}" "${TIMEOUT_test_backend_load:=15}" "${TIMEOUT_memcheck:=65}"
: "${TIMEOUT_slots_gpus1:=20}" "${TIMEOUT_slots_gpus2:=20}" "${TIMEOUT_slots_run_key:=20}"
: "${TIMEOUT_resbm:=175}"
: "${TIMEOUT_bench_kernels_orion:=65}" "${TIMEOUT_bench_torch_orion:=40}" "${TIMEOUT_calibrate:=45}"
: "${TIMEOUT_bench_kernels_llama8b:=25}" "${TIMEOUT_bench_torch_llama8b:=20}"
: "${TIMEOUT_bench_kernels_llama1b:=15}" "${TIMEOUT_bench_torch_llama1b:=15}"
: "${TIMEOUT_bench_kernels_llama3b:=20}" "${TIMEOUT_bench_torch_llama3b:=20}"
: "${TIMEOUT_bench_kernels_small:=15}" "${TIMEOUT_bench_torch_small:=15}"
: "${TIMEOUT_compare:=5}"
export TIMEOUT_unpack TIMEOUT_build_plugin TIMEOUT_test_cuda_vs_cpu TIMEOUT_test_cuda_stage TIMEOUT_test_backend_load \
    TIMEOUT_memcheck TIMEOUT_slots_gpus1 TIMEOUT_slots_gpus2 TIMEOUT_slots_run_key TIMEOUT_resbm \
    TIMEOUT_bench_kernels_orion TIMEOUT_bench_torch_orion TIMEOUT_calibrate \
    TIMEOUT_bench_kernels_llama8b TIMEOUT_bench_torch_llama8b TIMEOUT_bench_kernels_llama1b \
    TIMEOUT_bench_torch_llama1b TIMEOUT_bench_kernels_llama3b TIMEOUT_bench_torch_llama3b \
    TIMEOUT_bench_kernels_small TIMEOUT_bench_torch_small TIMEOUT_compare
export REPS="${REPS:-5}" RESBM_VARIANTS="${RESBM_VARIANTS:-none resbm64}"
SHAPES_B=${SHAPES_B:-llama8b llama1b}

say "start $(date -u '+%Y-%m-%d %H:%M:%S') UTC; budget ${BUDGET} s (deadline $GPU_RUN_DEADLINE); work $W; out $OUT"
[ -f build/gpu-bundle.tar.xz ] || [ -x build/bundle/orionsim ] || \
    say "no build/gpu-bundle.tar.xz or build/bundle/: carry the bundle (sh tools/gpu-run.sh bundle pack on a build machine)"
[ -f data/brown_train.bin ] || say "no data/brown_train.bin: carry data/ (make data on a build machine); slots and resbm will fail"

# phase: NAME STEP...: one tools/gpu-run.sh invocation with its own folder
phase() {
    name=$1; shift
    p0=$(date +%s)
    OUT="$W/$name" sh tools/gpu-run.sh "$@"
    rc=$?
    echo "$name: $(($(date +%s) - p0)) s, exit $rc" >> "$W/phases.txt"
    return $rc
}
: > "$W/phases.txt"
status=0

# phase 0: unpack the bundle, check or build the plugin, record the machine
phase 0-setup prepare info || status=1

# phase A: correctness in the foreground, the ResBM study beside it
a0=$(date +%s)
( phase a-resbm resbm > "$W/a-resbm.out" 2>&1 ) &
resbm_pid=$!
phase a-checks test memcheck slots || status=1
say "phase A: checks done after $(($(date +%s) - a0)) s; waiting for the ResBM study"
wait "$resbm_pid" || status=1
say "phase A: $(($(date +%s) - a0)) s"

# phase B: speed, the GPU to itself; Orion first, then the smaller shapes
steps="bench:orion torch:orion calibrate"
for s in $SHAPES_B; do steps="$steps bench:$s torch:$s"; done
# shellcheck disable=SC2086
phase b-speed $steps compare || status=1

# ---- the files -----------------------------------------------------------------------
t_pack=$(date +%s)
{
    echo "gpu-all: $(date -u '+%Y-%m-%d %H:%M:%S') UTC, $((t_pack - t_start)) s so far (budget $BUDGET s)"
    echo
    echo "== phases (seconds, exit status)"
    cat "$W/phases.txt"
    for d in 0-setup a-checks a-resbm b-speed; do
        echo
        echo "== $d"
        cat "$W/$d/summary.txt" 2>/dev/null || echo "(no summary)"
    done
    echo
    echo "== block fwd+bwd / GEMM rate, and ours / torch (from compare.txt)"
    grep -E 'ratio_fwd_bwd|fwd_bwd_kept|fwd_bwd_recompute|gemm_' "$W/b-speed/compare.txt" 2>/dev/null | grep -v '^BENCH' || echo "(none)"
    echo
    echo "== ResBM (resbm.txt)"
    grep -E '^(gpu-resbm|\|)' "$W/a-resbm/resbm.txt" 2>/dev/null || echo "(none)"
    echo
    echo "== memcheck"
    grep -E 'ERROR SUMMARY|refused|not supported|not found' "$W/a-checks/memcheck.txt" 2>/dev/null | head -n 5 || echo "(none)"
    echo
    echo "== calibration"
    ls "$W"/b-speed/*.profile 2>/dev/null || echo "(no profile)"
} > "$W/summary.txt"
for d in 0-setup a-checks a-resbm b-speed; do
    { echo; echo "######## $d"; cat "$W/$d/gpu-run.log" 2>/dev/null; } >> "$log"
done
cp "$W/summary.txt" "$log" "$OUT/" 2>/dev/null
cp "$W/b-speed/compare.txt" "$OUT/compare.txt" 2>/dev/null
cp "$W/a-resbm/resbm.txt" "$OUT/resbm.txt" 2>/dev/null
cp "$W/a-checks/memcheck.txt" "$OUT/memcheck.txt" 2>/dev/null
for f in "$W"/b-speed/*.profile; do [ -f "$f" ] && cp "$f" "$OUT/"; done
# everything else in one archive (at most 16 MiB comes back: without the traces if larger)
tarball="$OUT/gpu-all.tar.gz"
timeout 10 tar -czf "$tarball" -C "$(dirname "$W")" "$(basename "$W")" 2>/dev/null || say "tar: exit $? (the archive may be cut short)"
if [ -f "$tarball" ] && [ "$(wc -c < "$tarball")" -gt 16000000 ]; then
    say "the archive is over 16 MB: again without the .h5 traces"
    timeout 10 tar -czf "$tarball" --exclude='*.h5' -C "$(dirname "$W")" "$(basename "$W")" 2>/dev/null
fi
total=$(($(date +%s) - t_start))
echo "pack: $(($(date +%s) - t_pack)) s; total $total s" >> "$W/phases.txt"
{ echo; echo "total: $total s"; } >> "$OUT/summary.txt"

echo
echo "================================================================ gpu-all summary"
cat "$OUT/summary.txt"
echo
echo "files in $OUT:"
ls -l "$OUT"
if [ "$status" = 0 ]; then say "every step passed ($total s)"; else say "some steps failed ($total s): see summary.txt"; fi
exit "$status"
