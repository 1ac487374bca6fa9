#!/bin/sh
# tools/ci-resbm.sh: the short version of the ResBM loss study (`orionsim study`,
# results/README.md "ResBM study"): the CPU-sized model (scenarios/resbm-cpu-base.cfg,
# d 128) with today's boundaries, 2 seeds each, 4 cycles, live with the deterministic
# `modeled` timing rule. Prints the study's table (mean, 95% t interval, gap to the
# uncompressed run paired by seed, significant or not) and fails (exit 1) unless
#   - every run completes and the study file says complete,
#   - the uncompressed and every ResBM run learn: mean final train and validation loss
#     < LOSS_MAX (default 3.5 nats/token, against ln 256 = 5.55 for a model that knows
#     nothing),
#   - ResBM 128x costs loss (mean train gap > 0),
#   - `orionsim plot` draws the study's two figures (PNG).
# Then a live `orionsim sweep` over the compression ratio with its loss-gap heat map.
# Needs build/orionsim (built here) and data/brown_*.bin (fetched here with npm).
# OPENBLAS_NUM_THREADS=1: one thread per run, two runs at a time (-j2); the losses do not
# depend on it (bit-identical with 1 and 2 threads, results/README.md).
set -eu
cd "$(dirname "$0")/.."
LOSS_MAX=${LOSS_MAX:-3.5}
SEEDS=${SEEDS:-2}
make --no-print-directory CUDA=0 build/orionsim >/dev/null
sh tools/fetch-brown.sh data
dir=${CI_DIR:-${RESULTS:-results}}
mkdir -p "$dir"
out=$dir/ci-resbm.txt
study=$dir/resbm-study-ci.h5
rm -rf "$study" "$dir/resbm-study-ci-runs"
if ! OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive build/orionsim study scenarios/resbm-cpu-base.cfg \
    --seeds "$SEEDS" --boundaries none,resbm:16,resbm:64,resbm:128,linear:64,int8 \
    --set training.cycles=4 -j2 -o "$study" >"$out" 2>"$dir/ci-resbm.log"; then
    cat "$out"; tail -20 "$dir/ci-resbm.log"; echo "ci-resbm: FAIL the study failed"; exit 1
fi
cat "$out"
build/orionsim plot "$study" -o "$dir/resbm-study-plots" -q
for fig in loss gap; do
    png="$dir/resbm-study-plots/resbm-study-ci-$fig.png"
    [ -f "$png" ] && [ "$(od -An -tx1 -N8 "$png" | tr -d ' \n')" = "89504e470d0a1a0a" ] &&
        [ "$(wc -c < "$png")" -gt 5000 ] || { echo "ci-resbm: FAIL $png is not a valid PNG"; exit 1; }
done
awk -F, -v max="$LOSS_MAX" -v seeds="$SEEDS" '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
{ b = $col["boundary"]; m = $col["method"]; n++
  if ($col["n"] != seeds) { print "ci-resbm: FAIL " b ": " $col["n"] " of " seeds " runs done"; bad++ }
  if ((m == "none" || m == "resbm") && !($col["loss_mean"] + 0 < max + 0 && $col["val_mean"] + 0 < max + 0)) {
      print "ci-resbm: FAIL " b ": final loss " $col["loss_mean"] " / val " $col["val_mean"] " is not below " max; bad++ }
  if (b == "resbm:128" && !($col["gap_mean"] + 0 > 0)) {
      print "ci-resbm: FAIL ResBM 128x has mean gap " $col["gap_mean"] ", expected a loss cost (> 0)"; bad++ } }
END { if (n != 6) { print "ci-resbm: FAIL: " n + 0 " boundaries in the study, expected 6"; exit 1 }
      if (bad) { print "ci-resbm: " bad " check(s) failed"; exit 1 }
      print "ci-resbm: study OK (6 boundaries x " seeds " seeds, figures drawn)" }' \
    "$dir/resbm-study-plots/data/resbm-study-ci-stats.csv"
h5dump -a complete "$study" | grep -q "(0): 1" || { echo "ci-resbm: FAIL $study is not complete"; exit 1; }

# ---- the live sweep over the compression ratio (orionsim sweep + plot) -------------------
# ResBM at 1x (k = d: nothing dropped, the baseline), 16x and 128x, four cycles each,
# live; the sweep fills each point's ResBM loss gap to the ratio-1 point and plot draws
# its heat map. Asserts: every point ok, gap 0 at ratio 1 and finite elsewhere, 128x
# costs loss (gap > 0), the figure a PNG. Measured: 16x +0.024, 128x +0.111.
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
