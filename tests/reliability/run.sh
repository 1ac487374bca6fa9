#!/bin/sh
# tests/reliability/run.sh: runs every reproducer of expected.txt and checks its exit code
# (and, where expected.txt gives one after the exit code, a text its stderr must hold).
# usage: run.sh ORIONSIM   (from anywhere; make test and make test-san run it)
# Each command gets LIMIT seconds (default 20; the reproducers take well under one); a
# sanitizer report, a signal, a hang or a wrong exit code fails the test.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
export ORIONSIM_PLOTS="${ORIONSIM_PLOTS:-$here/../../plots}"
limit=${LIMIT:-20}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/orionsim-rel-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/fifo"
cd "$here" || exit 1
n=0
fail=0
while read -r file cmd want msg; do
  case "$file" in '#'* | '') continue ;; esac
  n=$((n + 1))
  case "$file" in
    @fifo) path=$tmp/fifo ;;
    @dev-zero) path=/dev/zero ;;
    *) path=$file ;;
  esac
  case "$cmd" in
    run) case "$file" in output-trace*) set -- run "$path" --quiet ;; *) set -- run "$path" -o "$tmp/out.h5" --quiet ;; esac ;;
    plot) set -- plot "$path" -o "$tmp/plot" ;;
    flows-csv) set -- flows flows-network.cfg "$path" -o "$tmp/out.csv" ;;
    export-trace) set -- export-trace "$path" -o "$tmp/out.json" ;;
    sweep) cp "$path" "$tmp/sweep.h5" && set -- sweep ../../scenarios/tiny.cfg --vary training.H=1,2 -j1 -q -o "$tmp/sweep.h5" ;;
    *) set -- "$cmd" "$path" ;;
  esac
  start=$(date +%s)
  timeout -k 5 "$limit" "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  secs=$(($(date +%s) - start))
  why=""
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then why="timed out after $limit s"
  elif [ "$rc" -ne "$want" ]; then why="exit $rc, expected $want"
  elif grep -q "AddressSanitizer\|runtime error:\|LeakSanitizer" "$tmp/err"; then why="sanitizer report"
  elif [ "$want" -eq 2 ] && ! grep -q . "$tmp/err"; then why="exit 2 without a message"
  elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$tmp/err"; then why="stderr lacks '$msg'"
  fi
  if [ -n "$why" ]; then
    fail=$((fail + 1))
    echo "FAIL reliability: $file: orionsim $* -> $why"
    sed 's/^/    /' "$tmp/err" | head -20
  else
    echo "ok   $file ($cmd, exit $rc, ${secs} s): $(head -c 160 "$tmp/err" | head -1)"
  fi
done <expected.txt
if [ -e /tmp/orionsim-escaped.h5 ]; then echo "FAIL reliability: output.trace escaped to /tmp"; fail=$((fail + 1)); fi
if [ "$fail" -ne 0 ]; then
  echo "reliability: $fail of $n reproducers failed"
  exit 1
fi
echo "reliability: all $n reproducers exit as expected"
