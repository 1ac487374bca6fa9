#!/bin/sh
# tools/bench-flows.sh: `orionsim flows` end to end against SimGrid 3.32's CM02 on the same
# flows (part of `make bench-net`; the table in netmodel/README.md comes from it).
#
#   sh tools/bench-flows.sh [BUILD_DIR] [FLOWS] [RUNS] [RATE]   (defaults: build 100000 3 1200)
#
# 1. BUILD_DIR/bench_flows writes the Orion-like mix (tools/bench_flows.c) to
#    BUILD_DIR/bench-flows/: the network, the flows as CSV and as one libconfig file, and
#    the same network as a SimGrid platform;
# 2. times, RUNS times each (the fastest run counts), from process start to the CSV
#    written: `orionsim flows mix.cfg` (libconfig), `orionsim flows net.cfg flows.csv -o`
#    (the CSV fast path) and BUILD_DIR/simgrid_flows (tools/simgrid_flows.cpp; skipped,
#    saying so, when it was not built: no libsimgrid-dev);
# 3. checks the answers: both orionsim paths byte for byte the same CSV, and every finish
#    time within 1e-6 s of SimGrid's.
# Prints wall-clock and CPU seconds (perf stat's task-clock, else GNU time's user + system);
# on a busy machine CPU time is the fairer measure. Exit 1 when an answer differs or a program fails.
set -u
B=${1:-build}
N=${2:-100000}
RUNS=${3:-3}
RATE=${4:-1200}
D=$B/bench-flows
fail() {
    echo "bench-flows: FAIL: $*" >&2
    exit 1
}
mkdir -p "$D" || fail "cannot create $D"
"$B/bench_flows" "$D" "$N" "$RATE" || fail "bench_flows exited with status $?"

# CPU time of a command: perf stat's task-clock (to the microsecond) where perf works, else
# GNU time's user + system (to 10 ms), else none.
if perf stat -x, -e task-clock -o /dev/null true >/dev/null 2>&1; then
    cpu_tool=perf
elif [ -x /usr/bin/time ]; then
    cpu_tool=time
else
    cpu_tool=none
fi

# best_of NAME OUTFILE CMD...: the fastest of RUNS runs (by CPU time, else wall), "wall cpu"
# into $D/NAME.time
best_of() {
    name=$1 out=$2
    shift 2
    best=""
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        t0=$(date +%s.%N)
        case $cpu_tool in
        perf) perf stat -x, -e task-clock -o "$D/$name.t" "$@" >"$out" 2>"$D/$name.err" ;;
        time) /usr/bin/time -f "%U %S" -o "$D/$name.t" "$@" >"$out" 2>"$D/$name.err" ;;
        *) "$@" >"$out" 2>"$D/$name.err" ;;
        esac || fail "$name exited with status $? ($(tail -1 "$D/$name.err"))"
        t1=$(date +%s.%N)
        case $cpu_tool in
        perf) cpu=$(awk -F, '$3 ~ /task-clock/ { printf "%.4f", $1 / 1000 }' "$D/$name.t") ;;
        time) cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$D/$name.t") ;;
        *) cpu=nan ;;
        esac
        t="$(echo "$t0 $t1" | awk '{ printf "%.4f", $2 - $1 }') $cpu"
        best=$(printf '%s\n%s\n' "$best" "$t" | awk 'NF { k = $2 == "nan" ? $1 : $2
            if (b == "" || k < c) { b = $0; c = k } } END { print b }')
        i=$((i + 1))
    done
    echo "$best" >"$D/$name.time"
}

BIN=$B/orionsim
best_of libconfig "$D/out-libconfig.csv" "$BIN" flows "$D/mix.cfg"
best_of csv "$D/out-csv.stdout" "$BIN" flows "$D/net.cfg" "$D/flows.csv" -o "$D/out-csv.csv"
cmp -s "$D/out-libconfig.csv" "$D/out-csv.csv" ||
    fail "the CSV path and the libconfig path give different answers ($D/out-*.csv)"
sg=""
if [ -x "$B/simgrid_flows" ]; then
    best_of simgrid "$D/out-simgrid.csv" "$B/simgrid_flows" "$D"
    sg=$(cat "$D/simgrid.time")
    # same rows, every finish time within 1e-6 s
    paste -d, "$D/out-csv.csv" "$D/out-simgrid.csv" | awk -F, '
        NR == 1 { next }
        $1 != $7 || $2 != $8 || $3 != $9 || $4 != $10 { print "row " NR ": other flow"; bad = 1; exit }
        { d = $6 - $12; if (d < 0) d = -d; if (d > m) { m = d; at = $1 } n++ }
        END { if (bad) exit 1
              printf "  %d flows: largest |finish - SimGrid finish| = %.3g s (flow %s)\n", n, m, at
              if (m > 1e-6) exit 1 }' || fail "orionsim and SimGrid disagree by more than 1e-6 s"
else
    echo "  SimGrid: SKIPPED ($B/simgrid_flows not built: apt-get install libsimgrid-dev, then make bench-net);"
    echo "  the issue's figure for SimGrid 3.32 CM02 on a 100,000-flow mix is 4.74 s"
fi
ref=${sg:-"4.74 4.74"}
printf '\n  %-40s %8s %8s %21s\n' "$N flows (best of $RUNS runs)" "wall s" "CPU s" "SimGrid / this (wall, CPU)"
for row in "libconfig:flows mix.cfg (libconfig)" "csv:flows net.cfg flows.csv -o (CSV)" "simgrid:SimGrid 3.32 CM02"; do
    k=${row%%:*}
    [ -f "$D/$k.time" ] || continue
    [ "$k" = simgrid ] && [ -z "$sg" ] && continue
    echo "$(cat "$D/$k.time") $ref" | awk -v label="${row#*:}" '
        { cpu = $2 == "nan" ? "-" : sprintf("%.1fx", $4 / $2)
          printf "  %-40s %8.3f %8.3f %12.1fx %8s\n", label, $1, $2, $3 / $1, cpu }'
done
[ -n "$sg" ] || echo "  (ratios against the issue's 4.74 s)"
