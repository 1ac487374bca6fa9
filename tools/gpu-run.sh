#!/bin/sh
# tools/gpu-run.sh: everything to run on a GPU machine, from a carried bundle.
#
#   on a build machine:  sh tools/gpu-run.sh bundle pack
#                        (make bundle, then build/gpu-bundle.tar.xz, about 12 MB: the
#                        binaries below, the CUDA plugin when one was built, and the
#                        device-slot stand-in plugin; build/bundle/ itself is ~300 MB)
#   carry the tree, build/gpu-bundle.tar.xz (or build/bundle/) and data/ to the GPU
#   machine, then, from the tree's root:
#                        sh tools/gpu-run.sh [STEP...]
#   The whole GPU run of issue 13 in one command, under 8 minutes: tools/gpu-all.sh.
#
# The binaries used: orionsim, bench_kernels, bench_live, tests/test_cuda_vs_cpu,
# tests/test_backend_load from $BUNDLE (unpacked from build/gpu-bundle.tar.xz if $BUNDLE
# has none), else build/. The CUDA plugin: $BUNDLE/liborionsim-cuda.so if its libraries
# resolve there, else one built with nvcc into build/gpu/ (the CUDA toolkit's lib64, or
# the pip nvidia-* packages' lib folders, are put on LD_LIBRARY_PATH).
#
# Steps (default: all, in this order):
#   info       nvidia-smi, nvcc and torch versions
#   test       test_cuda_vs_cpu, test_cuda_stage and test_backend_load (a SKIP counts as a failure here:
#              the CUDA backend must open on a GPU machine)
#   memcheck   test_cuda_vs_cpu (or $MEMCHECK_TEST) under compute-sanitizer --tool memcheck
#              (if installed; where it refuses the device the step says so and is
#              recorded "skipped (compute-sanitizer refused ...)")
#   racecheck  the same under --tool racecheck
#   bench      bench_kernels (CUDA, bf16) at each of $SHAPES; bench:SHAPE for one shape
#   torch      tools/bench_torch.py at the same shapes (if torch imports and sees the
#              GPU); torch:SHAPE for one shape
#   compare    "ours / torch" per measurement, from the BENCH lines of the two above
#              (needs no GPU: OUT=dir sh tools/gpu-run.sh compare works on fetched results)
#   calibrate  orionsim calibrate scenarios/orion-100b.cfg --backend cuda --device DEV
#              -o $OUT/<dev>.profile --blocks 1
# and, not part of "all":
#   prepare    only the set-up every device step does first (unpack the bundle, find or
#              build the plugin); for running several invocations side by side afterwards
#   slots      a live run (scenarios/tiny-live.cfg, modeled time) with its peers spread
#              over two CUDA device slots (bench_live --gpus 2, and `orionsim run` with
#              compute.gpus = 2), beside the same run on one; with one GPU, the two slots
#              share it through the stand-in plugin tools/cuda_slots.c. Fails unless the
#              run reports devices=2; says whether the losses match the one-device run
#   resbm      the GPU ResBM study time-boxed to this step's timeout (tools/gpu-resbm.sh
#              with RESBM_BUDGET; variants $RESBM_VARIANTS, default "none resbm64");
#              $OUT/resbm.txt
#   bundle     on the build machine: make bundle (with intermediate objects kept, so that
#              one make run suffices; see the note at step_bundle)
#   pack       on the build machine: build/gpu-bundle.tar.xz from $BUNDLE
# The device steps take minutes each; where one command may run 10 minutes at most, split
# them: "test memcheck", "racecheck", "bench torch compare", "calibrate", or use
# tools/gpu-all.sh, which fits issue 13's run into 8 minutes.
#
# Environment:
#   OUT            where everything is written (default ./gpu-out): one file per step
#                  and shape, gpu-run.log (all of it), summary.txt (each step's status and
#                  seconds)
#   BUNDLE         the bundle (default build/bundle; falls back to build/)
#   TARBALL        the packed bundle (default build/gpu-bundle.tar.xz)
#   DEVICE         the GPU's row in scenarios/devices.cfg (default: from nvidia-smi's name)
#   SHAPES         benchmark shapes (default "orion llama8b llama3b llama1b small")
#   REPS           timed repetitions per measurement (default 5)
#   STEP_TIMEOUT   seconds per step command (default 1500)
#   TIMEOUT_<name> seconds for the step command <name> (the names in summary.txt, with
#                  characters other than letters, digits and _ as _, e.g.
#                  TIMEOUT_bench_kernels_orion=70); default STEP_TIMEOUT
#   GPU_RUN_DEADLINE  a time (seconds since the epoch): no step command runs past it (each
#                  timeout is cut to what is left; with under 3 s left a step is not
#                  started and is recorded "FAIL (no time left)")
#   GPU_RUN_FORCE  1: run the GPU steps even if nvidia-smi sees no GPU (to test the script
#                  on a build machine: each step then fails cleanly, saying why)
#   GPU_RUN_BACKEND  cpu: a dry run of the plumbing on a machine without a GPU (implies
#                  GPU_RUN_FORCE=1): bench, calibrate, slots and resbm run on the CPU backend
#                  in fp32 at shapes scaled down to seconds (bench: d / 8 and 64 tokens),
#                  DEVICE defaults to H200; the figures mean nothing
#   RESBM_VARIANTS the resbm step's variants (default "none resbm64")
#   MEMCHECK_TEST  the test binary under compute-sanitizer (default test_cuda_vs_cpu)
#   JOBS           make's -j for the bundle step and the plugin build (default 2 for
#                  bundle, the core count for the plugin)
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
MORE_STEPS="prepare slots resbm bundle pack"
steps=${*:-$ALL_STEPS}
REPS=${REPS:-5}
SHAPES=${SHAPES:-orion llama8b llama3b llama1b small}
STEP_TIMEOUT=${STEP_TIMEOUT:-1500}
DRY=0
if [ "${GPU_RUN_BACKEND:-cuda}" = cpu ]; then DRY=1; GPU_RUN_FORCE=1
elif [ "${GPU_RUN_BACKEND:-cuda}" != cuda ]; then echo "gpu-run: GPU_RUN_BACKEND: cuda or cpu, not '$GPU_RUN_BACKEND'"; exit 2
fi
summary="$OUT/summary.txt"
: > "$summary"

note() { echo "gpu-run: $*"; }
now() { date +%s; }
record() { # step status (a later record of the same step replaces the earlier one)
    grep -v "^$1 " "$summary" > "$summary.tmp"
    printf '%-28s %s\n' "$1" "$2" >> "$summary.tmp"
    mv "$summary.tmp" "$summary"
}

shape_args() {
    if [ "$DRY" = 1 ]; then # d / 8 (head_dim kept where it fits), 64 tokens: seconds on a CPU
        case $1 in
            orion)   echo "--d 1152 --ffn 4032 --heads 9 --kv-heads 3 --seq 64 --seqs 1" ;;
            llama8b) echo "--d 512 --ffn 1792 --heads 4 --kv-heads 1 --seq 64 --seqs 1" ;;
            llama3b) echo "--d 384 --ffn 1024 --heads 3 --kv-heads 1 --seq 64 --seqs 1" ;;
            llama1b) echo "--d 256 --ffn 1024 --heads 4 --kv-heads 1 --seq 64 --seqs 1" ;;
            small)   echo "--d 128 --ffn 448 --heads 2 --kv-heads 1 --seq 64 --seqs 1" ;;
            *) return 1 ;;
        esac
        return
    fi
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
for s in $steps; do
    case $s in
        bench:*|torch:*)
            shape_args "${s#*:}" >/dev/null || { echo "gpu-run: unknown shape in '$s' (orion llama8b llama3b llama1b small)"; exit 2; } ;;
        *)
            case " $ALL_STEPS $MORE_STEPS " in
                *" $s "*) ;;
                *) echo "gpu-run: unknown step '$s' (steps: $ALL_STEPS $MORE_STEPS, bench:SHAPE, torch:SHAPE)"; exit 2 ;;
            esac ;;
    esac
done

# The timeout of step command $1: TIMEOUT_<name>, else STEP_TIMEOUT; cut to what is left
# before GPU_RUN_DEADLINE.
step_limit() {
    var="TIMEOUT_$(printf '%s' "$1" | tr -c 'A-Za-z0-9_' '_')"
    eval "t=\${$var:-$STEP_TIMEOUT}"
    if [ -n "${GPU_RUN_DEADLINE:-}" ]; then
        left=$((GPU_RUN_DEADLINE - $(now)))
        [ "$left" -lt "$t" ] && t=$left
    fi
    echo "$t"
}

# Runs "$@" with its output in $OUT/$name.txt (and on the terminal), under its timeout;
# records ok/FAIL and the seconds it took.
run_step() {
    name=$1; shift
    log="$OUT/$name.txt"
    lim=$(step_limit "$name")
    echo
    echo "== $name (timeout ${lim} s): $*"
    if [ "$lim" -lt 3 ]; then
        note "$name: not started: no time left before GPU_RUN_DEADLINE" | tee "$log"
        record "$name" "FAIL (no time left)"
        return 124
    fi
    if command -v timeout >/dev/null 2>&1; then set -- timeout -k 5 "$lim" "$@"; fi
    t0=$(now)
    { "$@" 2>&1; echo $? > "$log.rc"; } | tee "$log"
    rc=$(cat "$log.rc" 2>/dev/null || echo 1)
    rm -f "$log.rc"
    dt=$(($(now) - t0))
    if [ "$rc" -eq 0 ]; then record "$name" "ok (${dt} s)"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then record "$name" "FAIL (timed out after ${lim} s)"
    else
        # why, in one line: the last "program: message" line, else the last line
        why=$(grep -E '^[A-Za-z0-9_.-]+: ' "$log" | tail -n 1)
        [ -n "$why" ] || why=$(grep -v '^ *$' "$log" | tail -n 1)
        record "$name" "FAIL (exit $rc, ${dt} s: $(printf '%s' "$why" | cut -c1-110))"
    fi
    return "$rc"
}

# ---- build-machine steps (no GPU) -------------------------------------------------------
BUNDLE=${BUNDLE:-build/bundle}
BUNDLE_MADE=$BUNDLE
TARBALL=${TARBALL:-build/gpu-bundle.tar.xz}
PACKED="orionsim bench_kernels bench_live tests/test_cuda_vs_cpu tests/test_cuda_stage tests/test_backend_load"

# Makefile note: the objects of tests/ and tools/ are intermediate files of a chain of
# pattern rules, so make deletes them after linking, and the bundle's own link lines,
# which reuse them, then fail ("cannot find build/bundle-obj/obj/tests/....o"): from a
# clean tree `make bundle` needs several runs. MAKEFILES with `.SECONDARY:` keeps them
# (every make, the recursive ones too, reads it) and one run suffices.
step_bundle() {
    mk="${TMPDIR:-/tmp}/gpu-run-secondary.$$.mk"
    printf '.SECONDARY:\n' > "$mk"
    run_step bundle env MAKEFILES="$mk" make --no-print-directory -j "${JOBS:-2}" bundle
    rm -f "$mk"
}

step_pack() {
    echo
    echo "== pack: $TARBALL from $BUNDLE_MADE"
    files=""
    for f in $PACKED; do
        if [ ! -x "$BUNDLE_MADE/$f" ]; then
            note "pack: no $BUNDLE_MADE/$f: run make bundle (sh tools/gpu-run.sh bundle) first"
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
    # the device-slot stand-in (step slots), built here so the GPU machine needs no compiler
    mkdir -p "$BUNDLE_MADE/slots"
    if ${CC:-cc} -std=c11 -O2 -Wall -Wextra -shared -fPIC -I. tools/cuda_slots.c \
            -o "$BUNDLE_MADE/slots/liborionsim-cuda.so" -ldl; then
        files="$files slots/liborionsim-cuda.so"
    else
        note "pack: cannot build tools/cuda_slots.c: step slots will build it on the GPU machine"
    fi
    mkdir -p "$(dirname "$TARBALL")"
    # shellcheck disable=SC2086
    run_step pack tar -cJf "$TARBALL" -C "$BUNDLE_MADE" $files && ls -l "$TARBALL" && tar -tJvf "$TARBALL"
}

# ---- the GPU ----------------------------------------------------------------------------
needs_gpu=0
for s in $steps; do case $s in compare|pack|bundle) ;; *) needs_gpu=1 ;; esac; done
gpu_name=""
n_gpus=0
if [ "$needs_gpu" = 1 ]; then
    if ! command -v nvidia-smi >/dev/null 2>&1; then
        why="nvidia-smi is not installed"
    elif ! timeout 20 nvidia-smi -L > "$OUT/nvidia-smi-L.txt" 2>&1 || ! grep -q '^GPU ' "$OUT/nvidia-smi-L.txt"; then
        why="nvidia-smi sees no GPU: $(head -n 1 "$OUT/nvidia-smi-L.txt")"
    else
        why=""
        gpu_name=$(timeout 20 nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
        n_gpus=$(grep -c '^GPU ' "$OUT/nvidia-smi-L.txt")
    fi
    rm -f "$OUT/nvidia-smi-L.txt"
    if [ -n "$why" ]; then
        note "no NVIDIA GPU here ($why)."
        if [ "${GPU_RUN_FORCE:-0}" != 1 ]; then
            note "this script is for a GPU machine; set GPU_RUN_FORCE=1 to run the steps anyway"
            note "(each then fails cleanly), or GPU_RUN_BACKEND=cpu for a dry run on the CPU backend."
            record gpu "FAIL (no GPU: $why)"
            cat "$summary"
            exit 1
        fi
        if [ "$DRY" = 1 ]; then
            record gpu "FAIL (no GPU: $why; dry run on the CPU backend, GPU_RUN_BACKEND=cpu)"
        else
            record gpu "FAIL (no GPU: $why; going on because GPU_RUN_FORCE=1)"
        fi
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
    [ -z "$DEVICE" ] && [ "$DRY" = 1 ] && DEVICE=H200
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
if [ "$needs_gpu" = 1 ] && [ ! -x "$BUNDLE/orionsim" ] && [ -f "$TARBALL" ]; then
    note "unpacking $TARBALL into $BUNDLE"
    mkdir -p "$BUNDLE"
    t0=$(now)
    ul=$(step_limit unpack)
    [ "$ul" -ge 1 ] || ul=1   # (timeout 0 would mean none)
    if command -v xz >/dev/null 2>&1; then
        timeout -k 5 "$ul" tar -xJf "$TARBALL" -C "$BUNDLE"
    else
        timeout -k 5 "$ul" python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$TARBALL" "$BUNDLE"
    fi
    urc=$?
    if [ "$urc" -eq 0 ]; then record unpack "ok ($(($(now) - t0)) s)"
    else note "cannot unpack $TARBALL (exit $urc)"; record unpack "FAIL (exit $urc)"
    fi
fi
[ -x "$BUNDLE/bench_kernels" ] || [ -x "$BUNDLE/orionsim" ] || BUNDLE=build

# the CUDA toolkit's libraries, for the plugin's cudart/cuBLAS
for d in "${CUDA_HOME:-}/lib64" /usr/local/cuda/lib64 /usr/local/cuda/lib; do
    if [ -d "$d" ] && [ "$d" != /lib64 ]; then LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; break; fi
done
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"

plugin_missing() { # dir: what the plugin there cannot resolve (empty when all resolve)
    command -v ldd >/dev/null 2>&1 && ldd "$1/liborionsim-cuda.so" 2>&1 | grep 'not found' | tr -s ' \t\n' ' '
}
plugin_ok() { # dir: the plugin is there and every library it needs resolves
    [ -f "$1/liborionsim-cuda.so" ] || return 1
    m=$(plugin_missing "$1")
    if [ -n "$m" ]; then
        # no toolkit lib64 with them: the pip nvidia-* packages (PyTorch's) may have them
        extra=$(python3 -c 'import glob, os, sys
dirs = set()
for p in sys.path:
    for f in glob.glob(os.path.join(p, "nvidia", "*", "lib", "lib*.so*")) + glob.glob(os.path.join(p, "nvidia", "*", "*", "lib", "lib*.so*")):
        dirs.add(os.path.dirname(f))
print(":".join(sorted(dirs)))' 2>/dev/null)
        if [ -n "$extra" ]; then
            LD_LIBRARY_PATH="$LD_LIBRARY_PATH${LD_LIBRARY_PATH:+:}$extra"
            export LD_LIBRARY_PATH
            m=$(plugin_missing "$1")
        fi
    fi
    if [ -n "$m" ]; then
        note "$1/liborionsim-cuda.so: $m"
        return 1
    fi
}
plugin_dir=""
if [ "$needs_gpu" = 1 ] && [ "$DRY" = 0 ]; then
    if plugin_ok "$BUNDLE"; then
        plugin_dir=$BUNDLE
    elif plugin_ok build/gpu; then
        plugin_dir=build/gpu
    elif command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
        note "no usable liborionsim-cuda.so in $BUNDLE: building it with nvcc into build/gpu/"
        if run_step build-plugin make --no-print-directory -j "${JOBS:-$(nproc 2>/dev/null || echo 4)}" CUDA=1 BUILD=build/gpu \
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

bin() { # the bundled binary, or build/'s (also where a tests/ subfolder moved it); empty if none
    if [ -x "$BUNDLE/$1" ]; then echo "$BUNDLE/$1"; return; fi
    if [ -x "build/$1" ]; then echo "build/$1"; return; fi
    for d in "$BUNDLE" build; do
        [ -d "$d" ] || continue
        f=$(find "$d" -path "$d/bundle-obj" -prune -o -path "$d/gpu-all" -prune -o -type f -name "$(basename "$1")" -perm -u+x -print 2>/dev/null | head -n 1)
        [ -n "$f" ] && { echo "$f"; return; }
    done
}
missing() { # step binary
    note "$1: no $2 in $BUNDLE or build/ (run sh tools/gpu-run.sh bundle pack on a build machine)"
    record "$1" "FAIL (no $2)"
}
if [ "$DRY" = 1 ]; then
    BACKEND_FLAGS="--backend cpu --dtype fp32"
else
    BACKEND_FLAGS="--backend cuda --dtype bf16"
fi

# ---- steps --------------------------------------------------------------------------------
step_info() {
    echo "== info"
    { date -u; uname -a
      echo "GPU: ${gpu_name:-none} ($n_gpus found); device-table row: ${DEVICE:-unknown}; peak bf16 ${peak:-?} TFLOP/s"
      echo "bundle: $BUNDLE; plugin dir: $ORIONSIM_PLUGIN_DIR; LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
      [ "$DRY" = 1 ] && echo "DRY RUN: GPU_RUN_BACKEND=cpu (CPU backend, scaled-down shapes)"
      timeout 5 nvidia-smi 2>&1 || true
      timeout 5 nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem,power.limit --format=csv 2>&1 || true
      (command -v nvcc >/dev/null 2>&1 && nvcc --version) || (/usr/local/cuda/bin/nvcc --version 2>/dev/null) || echo "nvcc: not found"
      echo "compute-sanitizer: $(sanitizer)"
      timeout 15 python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1 || true
      echo "cpu: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
    } 2>&1 | tee "$OUT/info.txt"
    record info ok
}

step_test() {
    for name in test_cuda_vs_cpu test_cuda_stage; do
        t=$(bin tests/$name)
        if [ -z "$t" ]; then missing $name tests/$name
        elif run_step $name "$t"; then
            if grep -q '^SKIP' "$OUT/$name.txt"; then
                note "$name skipped: the CUDA backend did not open (see $OUT/$name.txt)"
                record $name "FAIL (skipped: CUDA backend did not open)"
            fi
        fi
    done
    b=$(bin tests/test_backend_load)
    if [ -z "$b" ]; then missing test_backend_load tests/test_backend_load
    else run_step test_backend_load "$b"
    fi
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
        echo "compute-sanitizer not found (not in PATH, not /usr/local/cuda/bin)" > "$OUT/$1.txt"
        record "$1" "skipped (no compute-sanitizer)"
        return
    fi
    test_name=${MEMCHECK_TEST:-test_cuda_vs_cpu}
    t=$(bin "tests/$test_name")
    [ -n "$t" ] || { missing "$1" "tests/$test_name"; return; }
    # CK_FORK=no: the tests run in the sanitizer's own process
    run_step "$1" env CK_FORK=no "$cs" --tool "$1" --error-exitcode 99 "$t"
    # the sanitizer refusing the device (seen under gVisor: "Device not supported", then
    # error 999 at the first allocation) is not a finding about our kernels
    refusal=$(grep -i -m 1 -E '^=+ .*(not supported|unsupported|Error: 999|failed to initialize)' "$OUT/$1.txt")
    if [ -n "$refusal" ]; then
        note "$1: compute-sanitizer refused: $refusal"
        record "$1" "skipped (compute-sanitizer refused: $(echo "$refusal" | sed 's/^=* *//' | cut -c1-100))"
    elif grep -q '^SKIP' "$OUT/$1.txt"; then
        record "$1" "FAIL (skipped: CUDA backend did not open)"
    fi
    grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/$1.txt" || true
}

step_bench_one() { # shape
    b=$(bin bench_kernels)
    [ -n "$b" ] || { missing "bench_kernels_$1" bench_kernels; return; }
    reps=$REPS
    [ "$DRY" = 1 ] && reps=1
    # shellcheck disable=SC2046,SC2086
    run_step "bench_kernels_$1" "$b" $BACKEND_FLAGS --reps "$reps" $peak_flag $(shape_args "$1")
}

step_torch_one() { # shape; "skipped" where torch does not import or sees no GPU
    # shellcheck disable=SC2046,SC2086
    run_step "bench_torch_$1" env PYTHONUNBUFFERED=1 python3 tools/bench_torch.py --dtype bf16 --reps "$REPS" $peak_flag \
        $(shape_args "$1")
    why=$(grep -m 1 -E '^bench_torch: (cannot import torch|torch .* sees no CUDA device)' "$OUT/bench_torch_$1.txt")
    if [ -n "$why" ]; then
        note "torch: $why"
        record "bench_torch_$1" "skipped (${why#bench_torch: })"
    fi
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
    if [ "$DRY" = 1 ]; then # Orion's head_dim 128 and kv ratio, d / 9, 64 tokens
        run_step calibrate "$o" calibrate "$scen" --backend cpu --device "$DEVICE" -o "$prof" --blocks 1 --reps 1 \
            --seqs 1 --set model.d_model=1024 --set model.ffn=3584 --set model.n_heads=8 --set model.n_kv_heads=1 \
            --set training.seq_len=64
    else
        run_step calibrate "$o" calibrate "$scen" --backend cuda --device "$DEVICE" -o "$prof" --blocks 1 --reps "$REPS"
    fi
    [ -f "$prof" ] && cat "$prof"
}

# The several-device path of live mode, on however many GPUs there are: peers on two
# device slots (two backends: streams, cuBLAS handles, buffers; moves through the host).
step_slots() {
    bl=$(bin bench_live)
    o=$(bin orionsim)
    [ -n "$bl" ] || { missing slots bench_live; return; }
    scen=scenarios/tiny-live.cfg
    slots_env=""
    if [ "$DRY" = 1 ]; then
        be=cpu
        note "slots: dry run: the CPU backend is one device, so devices=1 is expected"
    else
        be=cuda
        if [ "$n_gpus" -lt 2 ]; then
            # one GPU: the stand-in plugin opens slot d on GPU d % count
            sd=""
            if [ -f "$BUNDLE/slots/liborionsim-cuda.so" ]; then sd=$(cd "$BUNDLE/slots" && pwd)
            elif command -v "${CC:-cc}" >/dev/null 2>&1 && mkdir -p build/gpu-slots && \
                 "${CC:-cc}" -std=c11 -O2 -shared -fPIC -I. tools/cuda_slots.c -o build/gpu-slots/liborionsim-cuda.so -ldl; then
                sd=$(cd build/gpu-slots && pwd)
            fi
            if [ -z "$sd" ]; then
                note "slots: no stand-in plugin ($BUNDLE/slots/liborionsim-cuda.so) and no C compiler to build tools/cuda_slots.c"
                record slots "FAIL (no device-slot plugin)"
                return
            fi
            slots_env="ORIONSIM_PLUGIN_DIR=$sd ORIONSIM_CUDA_REAL=$ORIONSIM_PLUGIN_DIR/liborionsim-cuda.so ORIONSIM_CUDA_SLOTS=2"
            note "slots: $n_gpus GPU: two device slots on it through $sd/liborionsim-cuda.so"
        fi
    fi
    short=""
    [ "$DRY" = 1 ] && short="--set training.cycles=1"   # the CPU backend is slower
    # shellcheck disable=SC2086
    run_step slots_gpus1 "$bl" --time modeled --backend "$be" --gpus 1 $short "$scen"
    # shellcheck disable=SC2086
    run_step slots_gpus2 env $slots_env "$bl" --time modeled --backend "$be" --gpus 2 $short "$scen"
    if [ -n "$o" ]; then
        # the scenario key itself (bench_live's --gpus overrides compute.gpus)
        # shellcheck disable=SC2086
        run_step slots_run_key env $slots_env "$o" run "$scen" --set compute.backend="$be" --set compute.gpus=2 \
            --set compute.live_time=modeled $short --no-colocated -q -o "$OUT/slots-run.h5"
    fi
    d2=$(sed -n 's/^RESULT .* devices=\([0-9]*\).*/\1/p' "$OUT/slots_gpus2.txt" | head -n 1)
    l1=$(sed -n 's/^RESULT .* loss_final=\([^ ]*\).*/\1/p' "$OUT/slots_gpus1.txt" | head -n 1)
    l2=$(sed -n 's/^RESULT .* loss_final=\([^ ]*\).*/\1/p' "$OUT/slots_gpus2.txt" | head -n 1)
    if [ -z "$l1" ] || [ -z "$l2" ]; then same="loss on 1 device ${l1:-none}, on 2 slots ${l2:-none}"
    elif [ "$l1" = "$l2" ]; then same="the same loss on 1 device and on 2 slots ($l1)"
    else same="the loss differs: $l1 on 1 device, $l2 on 2 slots"
    fi
    note "slots: devices=${d2:-?}; $same"
    if [ "${d2:-0}" = 2 ]; then record slots "ok (devices=2; $same)"
    elif [ "$DRY" = 1 ] && [ "${d2:-0}" = 1 ]; then record slots "ok (dry run, CPU: devices=1; $same)"
    else record slots "FAIL (devices=${d2:-none}; $same)"
    fi
}

step_resbm() {
    bl=$(bin bench_live)
    [ -n "$bl" ] || { missing resbm bench_live; return; }
    lim=$(step_limit resbm)
    # the study's own budget: the step's timeout less a margin for the last run's exit
    # and the table
    budget=$((lim - 10))
    if [ "$DRY" = 1 ]; then
        set -- --set model.d_model=64 --set model.ffn=128 --set model.n_heads=4 --set model.n_kv_heads=2 \
            --set training.seq_len=64 --set training.microbatch_seqs=2
        pilot=1
    else
        set --
        pilot=3
    fi
    be=cuda
    [ "$DRY" = 1 ] && be=cpu
    run_step resbm env BENCH_LIVE="$bl" RESBM_BUDGET="$budget" RESBM_PILOT="${RESBM_PILOT:-$pilot}" \
        RESBM_VARIANTS="${RESBM_VARIANTS:-none resbm64}" RESBM_OUT="$OUT/resbm" RESBM_BACKEND="$be" \
        OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive sh tools/gpu-resbm.sh "$@"
    [ -f "$OUT/resbm/gpu-resbm.txt" ] && cp "$OUT/resbm/gpu-resbm.txt" "$OUT/resbm.txt"
    return 0
}

for s in $steps; do
    case $s in
        info) step_info ;;
        prepare) record prepare "ok (bundle $BUNDLE, plugin dir $ORIONSIM_PLUGIN_DIR)" ;;
        test) step_test ;;
        memcheck|racecheck) step_sanitize "$s" ;;
        bench) for shape in $SHAPES; do step_bench_one "$shape"; done ;;
        bench:*) step_bench_one "${s#*:}" ;;
        torch) for shape in $SHAPES; do step_torch_one "$shape"; done ;;
        torch:*) step_torch_one "${s#*:}" ;;
        compare) step_compare ;;
        calibrate) step_calibrate ;;
        slots) step_slots ;;
        resbm) step_resbm ;;
        bundle) step_bundle ;;
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
