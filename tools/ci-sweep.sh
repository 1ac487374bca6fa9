#!/bin/sh
# tools/ci-sweep.sh: the sweep and figures check of CI.
#
# 1. sweeps scenarios/orion-100b.cfg over H in {1, 10, 100} x compression ratio in
#    {1, 16, 64}, one cycle per point with 20 microbatches per inner step (so that the
#    whole grid takes seconds; `training.min_local_steps=1` because the scenario's 5
#    local steps cannot be reached with H = 1);
# 2. runs the Orion, INTELLECT-1 and Covenant-72B scenarios (`orionsim run -q`);
# 3. renders the figures: heat maps of the sweep, and utilisation / MFU / timeline /
#    uploads of the three runs side by side;
# 4. shards and MPI: a 6-point grid of scenarios/tiny.cfg run by one process, as 3 shards
#    through tools/slurm-sweep.sh (Slurm's array variables set by hand) joined with
#    `orionsim sweep-merge`, and with `mpirun -n 3 ... --mpi` (skipped, saying so, without
#    mpirun or the MPI plugin): all three files must hold the same rows (tools/sweep-rows.sh);
# 5. asserts: every point ok; utilisation rises with H for each ratio; uncompressed
#    activations (ratio 1) give fewer tokens/s than 64x for each H (Orion's links); every
#    figure is a valid PNG (signature, IHDR dimensions, more than 5 KB).
# Everything goes to build/ci/ (CI_DIR overrides; ORIONSIM the binary). Exit 0 when all
# holds, else 1 with the first failure named. Prints its total time.
set -u
BIN=${ORIONSIM:-build/orionsim}
OUT=${CI_DIR:-build/ci}
T0=$(date +%s)

fail() {
    echo "ci-sweep: FAIL: $*" >&2
    exit 1
}
step() { echo "ci-sweep: $*"; }

[ -x "$BIN" ] || fail "$BIN not found (build it first: make CUDA=0 $BIN)"
rm -rf "$OUT" && mkdir -p "$OUT" || fail "cannot create $OUT"

step "sweep H x ratio on scenarios/orion-100b.cfg"
"$BIN" sweep scenarios/orion-100b.cfg -q -o "$OUT/orion-sweep.h5" \
    --vary training.H=1,10,100 --vary compression.ratio=1,16,64 \
    --set training.cycles=1 --set training.accum=20 --set training.min_local_steps=1 ||
    fail "orionsim sweep exited with status $?"

# ---- shards and MPI give the single-process rows ----------------------------------------
SMALL="--vary training.H=1,2,3 --vary compression.ratio=4,8"
step "shards and MPI on a 6-point grid of scenarios/tiny.cfg"
# shellcheck disable=SC2086
"$BIN" sweep scenarios/tiny.cfg -q -j 2 -o "$OUT/small.h5" $SMALL ||
    fail "orionsim sweep (small grid) exited with status $?"
sh tools/sweep-rows.sh "$OUT/small.h5" >"$OUT/small.rows" || fail "cannot dump $OUT/small.h5"
for i in 0 1 2; do
    # shellcheck disable=SC2086
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=3 ORIONSIM=$BIN \
        sh tools/slurm-sweep.sh "$OUT/shards" scenarios/tiny.cfg $SMALL -q ||
        fail "tools/slurm-sweep.sh (task $i of 3) exited with status $?"
done
"$BIN" sweep-merge "$OUT/small-merged.h5" "$OUT"/shards/shard-*-of-3.h5 -q ||
    fail "orionsim sweep-merge exited with status $?"
sh tools/sweep-rows.sh "$OUT/small-merged.h5" | cmp -s - "$OUT/small.rows" ||
    fail "the merged shards differ from the single-process sweep ($OUT/small-merged.h5, $OUT/small.h5)"
step "  3 shards merged: the same rows as one process"
if ! command -v mpirun >/dev/null 2>&1; then
    step "  MPI: SKIPPED (no mpirun; install openmpi-bin libopenmpi-dev and rebuild)"
elif [ ! -f "$(dirname "$BIN")/liborionsim-mpi.so" ]; then
    step "  MPI: SKIPPED ($(dirname "$BIN")/liborionsim-mpi.so not built: no mpicc, or MPI=0)"
else
    # shellcheck disable=SC2086
    mpirun --allow-run-as-root --oversubscribe -n 3 "$BIN" sweep scenarios/tiny.cfg --mpi -q \
        -o "$OUT/small-mpi.h5" $SMALL >"$OUT/mpirun.log" 2>&1 ||
        fail "mpirun -n 3 orionsim sweep --mpi exited with status $? (log: $OUT/mpirun.log)"
    sh tools/sweep-rows.sh "$OUT/small-mpi.h5" | cmp -s - "$OUT/small.rows" ||
        fail "the MPI sweep differs from the single-process sweep ($OUT/small-mpi.h5, $OUT/small.h5)"
    step "  mpirun -n 3 --mpi: the same rows as one process"
fi

for s in orion-100b intellect-1 covenant-72b; do
    step "run scenarios/$s.cfg"
    "$BIN" run "scenarios/$s.cfg" -q -o "$OUT/$s.h5" || fail "orionsim run scenarios/$s.cfg exited with status $?"
done

step "plots"
"$BIN" plot "$OUT/orion-sweep.h5" -o "$OUT/sweep-plots" -q || fail "orionsim plot (sweep) exited with status $?"
"$BIN" plot "$OUT/orion-100b.h5" "$OUT/intellect-1.h5" "$OUT/covenant-72b.h5" -o "$OUT/run-plots" -q ||
    fail "orionsim plot (runs) exited with status $?"

# ---- the sweep's figures of merit (the CSV `orionsim plot` leaves in DIR/data) ---------
CSV="$OUT/sweep-plots/data/orion-sweep-points.csv"
[ -s "$CSV" ] || fail "$CSV is missing"
awk -F, '
NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i
          split("training.H compression.ratio status utilisation tokens_per_s", need, " ")
          for (k in need) if (!(need[k] in col)) { print "column " need[k] " missing"; bad = 1; exit 1 }
          next }
{ h = $col["training.H"]; r = $col["compression.ratio"]
  if ($col["status"] != "ok") { printf "point H=%s ratio=%s is %s\n", h, r, $col["status"]; bad = 1 }
  u[h "," r] = $col["utilisation"]; t[h "," r] = $col["tokens_per_s"]; n++ }
END {
  if (bad) exit 1
  if (n != 9) { printf "expected 9 points, found %d\n", n; exit 1 }
  split("1 16 64", R, " "); split("1 10 100", H, " ")
  for (i = 1; i <= 3; i++) {
    r = R[i]
    if (!(u["1," r] + 0 < u["10," r] + 0 && u["10," r] + 0 < u["100," r] + 0)) {
      printf "utilisation does not rise with H at ratio %s: %s, %s, %s\n", r, u["1," r], u["10," r], u["100," r]; exit 1 }
    printf "  ratio %3s: utilisation %.4f < %.4f < %.4f (H = 1, 10, 100)\n", r, u["1," r], u["10," r], u["100," r]
  }
  for (i = 1; i <= 3; i++) {
    h = H[i]
    if (!(t[h ",1"] + 0 < t[h ",64"] + 0)) {
      printf "at H = %s, ratio 1 gives %s tokens/s, not fewer than 64x (%s)\n", h, t[h ",1"], t[h ",64"]; exit 1 }
    printf "  H %3s: tokens/s %.1f (ratio 1) < %.1f (ratio 64)\n", h, t[h ",1"], t[h ",64"]
  }
}' "$CSV" || fail "the sweep's figures do not hold (above; table $CSV)"

# ---- every figure is a valid, non-trivial PNG -----------------------------------------
check_png() {
    [ -f "$1" ] || fail "figure $1 is missing"
    size=$(wc -c <"$1")
    [ "$size" -gt 5000 ] || fail "figure $1 has only $size bytes"
    hex=$(od -An -tx1 -N24 "$1" | tr -d ' \n')
    [ "$(printf %s "$hex" | cut -c1-16)" = "89504e470d0a1a0a" ] || fail "$1 is not a PNG (signature)"
    [ "$(printf %s "$hex" | cut -c25-32)" = "49484452" ] || fail "$1 has no IHDR chunk first"
    w=$((0x$(printf %s "$hex" | cut -c33-40)))
    h=$((0x$(printf %s "$hex" | cut -c41-48)))
    [ "$w" -ge 400 ] && [ "$w" -le 5000 ] && [ "$h" -ge 300 ] && [ "$h" -le 5000 ] ||
        fail "$1 has implausible dimensions ${w}x$h"
    [ -s "${1%.png}.svg" ] || fail "${1%.png}.svg is missing"
    n=$((n + 1))
}
n=0
for m in utilisation mfu tokens; do check_png "$OUT/sweep-plots/orion-sweep-heat-$m.png"; done
check_png "$OUT/run-plots/utilisation.png"
for s in orion-100b intellect-1 covenant-72b; do
    for f in mfu timeline uploads; do check_png "$OUT/run-plots/$s-$f.png"; done
done
step "$n figures are valid PNGs (and SVGs)"
echo "ci-sweep: OK in $(($(date +%s) - T0)) s (outputs in $OUT)"
