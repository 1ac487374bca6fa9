#!/bin/sh
# Benchmark of the full Orion-100B replay in modeled mode: wall time, CPU time and peak
# memory with the default trace (events of the first cycles), without the events table,
# and with the full events table. Usage: tools/bench-orion.sh [orionsim binary]
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
