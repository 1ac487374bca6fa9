#!/bin/sh
# tools/gpu-run.sh: everything to run on a GPU machine, from a carried bundle.
#
#   on a build machine:  make bundle && sh tools/gpu-run.sh pack
#                        (build/gpu-bundle.tar.xz, about 9 MB: the four binaries below and
#                        the CUDA plugin when one was built; build/bundle/ itself is ~300 MB)
#   carry the tree and build/gpu-bundle.tar.xz (or build/bundle/) to the GPU machine, then,
#   from the tree's root:
#                        sh tools/gpu-run.sh [STEP...]
#
# The binaries used: orionsim, bench_kernels, tests/test_cuda_vs_cpu, tests/test_backend_load
# from $BUNDLE (unpacked from build/gpu-bundle.tar.xz if $BUNDLE has none), else build/.
# The CUDA plugin: $BUNDLE/liborionsim-cuda.so if its libraries resolve there, else one
# built with nvcc into build/gpu/ (the CUDA toolkit's lib64 is put on LD_LIBRARY_PATH).
#
# Steps (default: all, in this order):
#   info       nvidia-smi, nvcc and torch versions
#   test       build/bundle/tests/test_cuda_vs_cpu and test_backend_load (a SKIP counts as
#              a failure here: the CUDA backend must open on a GPU machine)
#   memcheck   test_cuda_vs_cpu under compute-sanitizer --tool memcheck   (if installed)
#   racecheck  test_cuda_vs_cpu under compute-sanitizer --tool racecheck  (if installed)
#   bench      bench_kernels (CUDA, bf16) at Orion's block and at smaller proxy shapes
#   torch      tools/bench_torch.py at the same shapes (if torch imports and sees the GPU)
#   compare    "ours / torch" per measurement, from the BENCH lines of the two above
#              (needs no GPU: OUT=dir sh tools/gpu-run.sh compare works on fetched results)
#   calibrate  orionsim calibrate scenarios/orion-100b.cfg --backend cuda --device DEV
#              -o $OUT/<dev>.profile --blocks 1
# and, not part of "all" (no GPU needed):
#   pack       on the build machine: build/gpu-bundle.tar.xz from $BUNDLE
# The device steps take minutes each; where one command may run 10 minutes at most, split
# them: "test memcheck", "racecheck", "bench torch compare", "calibrate".
#
# Environment:
#   OUT            where everything is written (default ./gpu-out): one file per step
#                  and shape, gpu-run.log (all of it), summary.txt
#   BUNDLE         the bundle (default build/bundle; falls back to build/)
#   DEVICE         the GPU's row in scenarios/devices.cfg (default: from nvidia-smi's name)
#   SHAPES         benchmark shapes (default "orion llama8b llama3b llama1b small")
#   REPS           timed repetitions per measurement (default 5)
#   STEP_TIMEOUT   seconds per step command (default 1500)
#   GPU_RUN_FORCE  1: run the GPU steps even if nvidia-smi sees no GPU (to test the script)
# Exit status: 0 if every step passed, 1 if one failed, 2 on a bad step name.
set -u
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.." || exit 1
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT" || { echo "gpu-run: cannot create $OUT" >&2; exit 1; }
OUT=$(cd "$OUT" && pwd)

# Everything below also goes to $OUT/gpu-run.log.
if [ -z "${GPU_RUN_LOGGED:-}" ]; then
    rcfile="$OUT/.gpu-run.rc"
    { GPU_RUN_LOGGED=1 OUT="$OUT" sh "$self" "$@" 2>&1; echo $? > "$rcfile"; } | tee "$OUT/gpu-run.log"
    rc=$(cat "$rcfile" 2>/dev/null || echo 1)
    rm -f "$rcfile"
    exit "$rc"
fi

ALL_STEPS="info test memcheck racecheck bench torch compare calibrate"
steps=${*:-$ALL_STEPS}
for s in $steps; do
    case " $ALL_STEPS pack " in
        *" $s "*) ;;
        *) echo "gpu-run: unknown step '$s' (steps: $ALL_STEPS pack)"; exit 2 ;;
    esac
done
REPS=${REPS:-5}
SHAPES=${SHAPES:-orion llama8b llama3b llama1b small}
STEP_TIMEOUT=${STEP_TIMEOUT:-1500}
summary="$OUT/summary.txt"
: > "$summary"

note() { echo "gpu-run: $*"; }
record() { # step status (a later record of the same step replaces the earlier one)
    grep -v "^$1 " "$summary" > "$summary.tmp"
    printf '%-28s %s\n' "$1" "$2" >> "$summary.tmp"
    mv "$summary.tmp" "$summary"
}

# Runs "$@" with its output in $OUT/$name.txt (and on the terminal); records ok/FAIL.
run_step() {
    name=$1; shift
    log="$OUT/$name.txt"
    echo
    echo "== $name: $*"
    if command -v timeout >/dev/null 2>&1; then set -- timeout -k 30 "$STEP_TIMEOUT" "$@"; fi
    { "$@" 2>&1; echo $? > "$log.rc"; } | tee "$log"
    rc=$(cat "$log.rc" 2>/dev/null || echo 1)
    rm -f "$log.rc"
    if [ "$rc" -eq 0 ]; then record "$name" ok
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then record "$name" "FAIL (timed out after $STEP_TIMEOUT s)"
    else record "$name" "FAIL (exit $rc)"
    fi
    return "$rc"
}

shape_args() {
    case $1 in
        orion)   echo "--orion" ;;
        llama8b) echo "--d 4096 --ffn 14336 --heads 32 --kv-heads 8 --seq 800 --seqs 10" ;;
        llama3b) echo "--d 3072 --ffn 8192 --heads 24 --kv-heads 8 --seq 800 --seqs 10" ;;
        llama1b) echo "--d 2048 --ffn 8192 --heads 32 --kv-heads 8 --seq 800 --seqs 10" ;;
        small)   echo "--d 1024 --ffn 3584 --heads 16 --kv-heads 4 --seq 800 --seqs 10" ;;
        *) return 1 ;;
    esac
}
for shape in $SHAPES; do
    shape_args "$shape" >/dev/null || { echo "gpu-run: unknown shape '$shape' in SHAPES (orion llama8b llama3b llama1b small)"; exit 2; }
done

# ---- the GPU ----------------------------------------------------------------------------
needs_gpu=0
for s in $steps; do case $s in compare|pack) ;; *) needs_gpu=1 ;; esac; done
gpu_name=""
if [ "$needs_gpu" = 1 ]; then
    if ! command -v nvidia-smi >/dev/null 2>&1; then
        why="nvidia-smi is not installed"
    elif ! nvidia-smi -L > "$OUT/nvidia-smi-L.txt" 2>&1 || ! grep -q '^GPU ' "$OUT/nvidia-smi-L.txt"; then
        why="nvidia-smi sees no GPU: $(head -n 1 "$OUT/nvidia-smi-L.txt")"
    else
        why=""
        gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
    fi
    if [ -n "$why" ]; then
        note "no NVIDIA GPU here ($why)."
        note "this script is for a GPU machine; set GPU_RUN_FORCE=1 to run the steps anyway."
        if [ "${GPU_RUN_FORCE:-0}" != 1 ]; then
            record gpu "FAIL (no GPU: $why)"
            cat "$summary"
            exit 1
        fi
        record gpu "FAIL (no GPU: $why; going on because GPU_RUN_FORCE=1)"
    fi
fi

if [ -z "${DEVICE:-}" ]; then
    case $gpu_name in
        *H200*) DEVICE=H200 ;;
        *H100*PCIe*|*H100*PCIE*) DEVICE=H100-PCIe ;;
        *H100*) DEVICE=H100-SXM ;;
        *A100*80GB*) DEVICE=A100-80GB ;;
        *A100*) DEVICE=A100-40GB ;;
        *B200*) DEVICE=B200 ;;
        *4090*) DEVICE=RTX-4090 ;;
        *L40S*) DEVICE=L40S ;;
        *) DEVICE="" ;;
    esac
fi
peak=""
if [ -n "$DEVICE" ] && [ -f scenarios/devices.cfg ]; then
    peak=$(awk -v want="$DEVICE" '
        /name *=/ { n = $0; sub(/.*name *= *"/, "", n); sub(/".*/, "", n); cur = n }
        /bf16_tflops *=/ && cur == want { v = $0; sub(/.*bf16_tflops *= */, "", v); sub(/;.*/, "", v); print v; exit }
    ' scenarios/devices.cfg)
    [ -n "$peak" ] || note "DEVICE=$DEVICE is not in scenarios/devices.cfg: no % of peak, no calibration"
fi
peak_flag=""
[ -n "$peak" ] && peak_flag="--peak-tflops $peak"

# ---- the bundle ---------------------------------------------------------------------------
BUNDLE=${BUNDLE:-build/bundle}
BUNDLE_MADE=$BUNDLE
TARBALL=${TARBALL:-build/gpu-bundle.tar.xz}
PACKED="orionsim bench_kernels tests/test_cuda_vs_cpu tests/test_backend_load"
if [ "$needs_gpu" = 1 ] && [ ! -x "$BUNDLE/orionsim" ] && [ -f "$TARBALL" ]; then
    note "unpacking $TARBALL into $BUNDLE"
    mkdir -p "$BUNDLE"
    if command -v xz >/dev/null 2>&1; then
        tar -xJf "$TARBALL" -C "$BUNDLE"
    else
        python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$TARBALL" "$BUNDLE"
    fi || { note "cannot unpack $TARBALL"; record unpack "FAIL (tar)"; }
fi
[ -x "$BUNDLE/bench_kernels" ] || [ -x "$BUNDLE/orionsim" ] || BUNDLE=build

# the CUDA toolkit's libraries, for the plugin's cudart/cuBLAS
for d in "${CUDA_HOME:-}/lib64" /usr/local/cuda/lib64 /usr/local/cuda/lib; do
    if [ -d "$d" ] && [ "$d" != /lib64 ]; then LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; break; fi
done
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"

plugin_ok() { # dir: the plugin is there and every library it needs resolves
    [ -f "$1/liborionsim-cuda.so" ] || return 1
    if command -v ldd >/dev/null 2>&1 && ldd "$1/liborionsim-cuda.so" 2>&1 | grep -q 'not found'; then
        note "$1/liborionsim-cuda.so: $(ldd "$1/liborionsim-cuda.so" 2>&1 | grep 'not found' | tr -s ' \t\n' ' ')"
        return 1
    fi
}
plugin_dir=""
if [ "$needs_gpu" = 1 ]; then
    if plugin_ok "$BUNDLE"; then
        plugin_dir=$BUNDLE
    elif plugin_ok build/gpu; then
        plugin_dir=build/gpu
    elif command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
        note "no usable liborionsim-cuda.so in $BUNDLE: building it with nvcc into build/gpu/"
        if run_step build-plugin make --no-print-directory -j "$(nproc 2>/dev/null || echo 4)" CUDA=1 BUILD=build/gpu \
            build/gpu/liborionsim-cuda.so; then
            plugin_dir=build/gpu
        fi
    else
        note "no usable liborionsim-cuda.so in $BUNDLE and no nvcc to build one"
        record build-plugin "FAIL (no plugin, no nvcc)"
    fi
    [ -n "$plugin_dir" ] && plugin_dir=$(cd "$plugin_dir" && pwd)
fi
ORIONSIM_PLUGIN_DIR=${plugin_dir:-/nonexistent}
export ORIONSIM_PLUGIN_DIR

bin() { # the bundled binary, or build/'s; empty if neither
    if [ -x "$BUNDLE/$1" ]; then echo "$BUNDLE/$1"; elif [ -x "build/$1" ]; then echo "build/$1"; fi
}
missing() { # step binary
    note "$1: no $2 in $BUNDLE or build/ (run make bundle && sh tools/gpu-run.sh pack on a build machine)"
    record "$1" "FAIL (no $2)"
}

# ---- steps --------------------------------------------------------------------------------
step_info() {
    echo "== info"
    { date -u; uname -a
      echo "GPU: ${gpu_name:-none}; device-table row: ${DEVICE:-unknown}; peak bf16 ${peak:-?} TFLOP/s"
      echo "bundle: $BUNDLE; plugin dir: $ORIONSIM_PLUGIN_DIR"
      nvidia-smi 2>&1 || true
      nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem,power.limit --format=csv 2>&1 || true
      (command -v nvcc >/dev/null 2>&1 && nvcc --version) || (/usr/local/cuda/bin/nvcc --version 2>/dev/null) || echo "nvcc: not found"
      python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 || true
      echo "cpu: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
    } 2>&1 | tee "$OUT/info.txt"
    record info ok
}

step_test() {
    t=$(bin tests/test_cuda_vs_cpu)
    [ -n "$t" ] || { missing test tests/test_cuda_vs_cpu; return; }
    if run_step test_cuda_vs_cpu "$t"; then
        if grep -q '^SKIP' "$OUT/test_cuda_vs_cpu.txt"; then
            note "test_cuda_vs_cpu skipped: the CUDA backend did not open (see $OUT/test_cuda_vs_cpu.txt)"
            record test_cuda_vs_cpu "FAIL (skipped: CUDA backend did not open)"
        fi
    fi
    b=$(bin tests/test_backend_load)
    [ -n "$b" ] && run_step test_backend_load "$b"
}

sanitizer() {
    if command -v compute-sanitizer >/dev/null 2>&1; then command -v compute-sanitizer
    elif [ -x /usr/local/cuda/bin/compute-sanitizer ]; then echo /usr/local/cuda/bin/compute-sanitizer
    fi
}

step_sanitize() { # memcheck | racecheck
    cs=$(sanitizer)
    if [ -z "$cs" ]; then
        note "$1: compute-sanitizer not found"
        record "$1" "skipped (no compute-sanitizer)"
        return
    fi
    t=$(bin tests/test_cuda_vs_cpu)
    [ -n "$t" ] || { missing "$1" tests/test_cuda_vs_cpu; return; }
    # CK_FORK=no: the tests run in the sanitizer's own process
    run_step "$1" env CK_FORK=no "$cs" --tool "$1" --error-exitcode 99 "$t"
    if grep -q '^SKIP' "$OUT/$1.txt"; then record "$1" "FAIL (skipped: CUDA backend did not open)"; fi
}

step_bench() {
    b=$(bin bench_kernels)
    [ -n "$b" ] || { missing bench bench_kernels; return; }
    for shape in $SHAPES; do
        # shellcheck disable=SC2046,SC2086
        run_step "bench_kernels_$shape" "$b" --backend cuda --dtype bf16 --reps "$REPS" $peak_flag $(shape_args "$shape")
    done
}

step_torch() {
    if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' > "$OUT/torch-import.txt" 2>&1; then
        note "torch: PyTorch does not import or sees no GPU ($(tail -n 1 "$OUT/torch-import.txt"))"
        record torch "skipped (no torch with CUDA)"
        return
    fi
    for shape in $SHAPES; do
        # shellcheck disable=SC2046,SC2086
        run_step "bench_torch_$shape" python3 tools/bench_torch.py --dtype bf16 --reps "$REPS" $peak_flag \
            $(shape_args "$shape")
    done
}

step_compare() {
    echo
    echo "== compare: ours / torch = orionsim TFLOP/s / torch TFLOP/s (the same FLOP count, so"
    echo "   torch seconds / our seconds: above 1, ours is faster); ratio rows: block fwd+bwd / GEMM"
    set -- "$OUT"/bench_kernels_*.txt "$OUT"/bench_torch_*.txt
    present=""
    for f in "$@"; do [ -f "$f" ] && present="$present $f"; done
    if [ -z "$present" ]; then
        note "compare: no bench_kernels_*.txt or bench_torch_*.txt in $OUT"
        record compare "FAIL (nothing to compare)"
        return
    fi
    # shellcheck disable=SC2086
    awk '
        /^BENCH / {
            split("", kv)
            for (i = 2; i <= NF; i++) { e = index($i, "="); if (e) kv[substr($i, 1, e - 1)] = substr($i, e + 1) }
            if (kv["name"] ~ /^op\./ || kv["impl"] == "compare") next
            v = ("value" in kv) ? kv["value"] : kv["tflops"]
            k = kv["shape"] SUBSEP kv["name"]
            if (!(k in seen)) { seen[k] = 1; order[++n] = k }
            if (kv["impl"] == "torch") torch[k] = v; else ours[k] = v
        }
        END {
            if (n == 0) { print "no BENCH lines (did the benchmarks fail?)"; exit 1 }
            printf "%-30s %-32s %12s %12s %11s\n", "shape", "measurement", "ours", "torch", "ours/torch"
            for (i = 1; i <= n; i++) {
                split(order[i], p, SUBSEP)
                o[i] = (order[i] in ours) ? ours[order[i]] : "-"
                t[i] = (order[i] in torch) ? torch[order[i]] : "-"
                r[i] = (o[i] != "-" && t[i] != "-" && t[i] + 0 > 0) ? sprintf("%.3f", o[i] / t[i]) : "-"
                sh[i] = p[1]; nm[i] = p[2]
                printf "%-30s %-32s %12s %12s %11s\n", sh[i], nm[i], o[i], t[i], r[i]
            }
            for (i = 1; i <= n; i++)
                printf "BENCH impl=compare name=%s ours=%s torch=%s ratio=%s shape=%s\n", nm[i], o[i], t[i], r[i], sh[i]
        }' $present > "$OUT/compare.txt"
    rc=$?
    cat "$OUT/compare.txt"
    if [ "$rc" -eq 0 ]; then record compare ok; else record compare "FAIL (no BENCH lines in $OUT)"; fi
}

step_pack() {
    echo
    echo "== pack: $TARBALL from $BUNDLE_MADE"
    files=""
    for f in $PACKED; do
        if [ ! -x "$BUNDLE_MADE/$f" ]; then
            note "pack: no $BUNDLE_MADE/$f: run make bundle first"
            record pack "FAIL (no $BUNDLE_MADE/$f)"
            return
        fi
        files="$files $f"
    done
    if [ -f "$BUNDLE_MADE/liborionsim-cuda.so" ]; then
        files="$files liborionsim-cuda.so"
    else
        note "pack: no CUDA plugin in $BUNDLE_MADE (built without nvcc?): the GPU machine will build it with nvcc"
    fi
    mkdir -p "$(dirname "$TARBALL")"
    # shellcheck disable=SC2086
    run_step pack tar -cJf "$TARBALL" -C "$BUNDLE_MADE" $files && ls -l "$TARBALL" && tar -tJvf "$TARBALL"
}

step_calibrate() {
    o=$(bin orionsim)
    [ -n "$o" ] || { missing calibrate orionsim; return; }
    if [ -z "$DEVICE" ] || [ -z "$peak" ]; then
        note "calibrate: the GPU ('${gpu_name:-none}') has no row in scenarios/devices.cfg: set DEVICE=NAME"
        record calibrate "FAIL (unknown device)"
        return
    fi
    scen=scenarios/orion-100b.cfg
    [ -f "$scen" ] || scen=$BUNDLE/scenarios/orion-100b.cfg
    prof="$OUT/$(echo "$DEVICE" | tr '[:upper:]' '[:lower:]').profile"
    run_step calibrate "$o" calibrate "$scen" --backend cuda --device "$DEVICE" -o "$prof" --blocks 1 --reps "$REPS"
}

for s in $steps; do
    case $s in
        info) step_info ;;
        test) step_test ;;
        memcheck|racecheck) step_sanitize "$s" ;;
        bench) step_bench ;;
        torch) step_torch ;;
        compare) step_compare ;;
        calibrate) step_calibrate ;;
        pack) step_pack ;;
    esac
done

echo
echo "== summary ($OUT)"
cat "$summary"
if awk '$2 != "ok" && $2 != "skipped" { bad = 1 } END { exit bad }' "$summary"; then
    echo "gpu-run: all steps passed"
    exit 0
fi
echo "gpu-run: some steps failed (see the files in $OUT)"
exit 1
