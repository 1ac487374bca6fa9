#!/bin/sh
# Benchmark of the full Orion-100B replay in modeled mode: wall time, CPU time and peak
# memory with the default trace (events of the first cycles), without the events table,
# and with the full events table; then the 3 x 6 H x ratio sweep. Usage: tools/bench-orion.sh [orionsim binary]
set -eu
bin=${1:-build/orionsim}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
  label=$1; shift
  /usr/bin/time -f "%e %U %M" -o "$out/time" "$bin" run scenarios/orion-100b.cfg -q -o "$out/t.h5" "$@"
  read -r wall user rss < "$out/time"
  size=$(stat -c %s "$out/t.h5")
  printf '%-34s wall %6.2f s  cpu %6.2f s  peak RSS %5d MB  trace %6.1f MB\n' "$label" "$wall" "$user" $((rss / 1024)) \
    "$(echo "$size / 1048576" | bc -l)"
}
echo "Orion-100B replay, 1.1B tokens, modeled mode ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
run "default trace (+ co-located run)"
run "default trace, no co-located run" --no-colocated
run "no events table" --no-colocated --set output.events=none
run "full events table" --no-colocated --set output.events=all

# The sweep goal of SPEC/issue: the 3 x 6 (H x ratio) Orion grid in modeled mode, on every
# core. Ratio 1 (uncompressed) collapses and runs to the scenario's max_sim limit.
/usr/bin/time -f "%e %U" -o "$out/time" "$bin" sweep scenarios/orion-100b.cfg -q -o "$out/sweep.h5" \
  --vary training.H=1,10,100 --vary compression.ratio=1,8,16,32,64,128 \
  --set training.min_local_steps=1 2> "$out/sweep.err" || { cat "$out/sweep.err" >&2; exit 1; }
read -r wall user < "$out/time"
printf '%-34s wall %6.2f s  cpu %6.2f s  (%d workers; goal <= 30 s on 2 cores)\n' \
  "sweep 3 H x 6 ratios (18 points)" "$wall" "$user" "$(nproc)"
