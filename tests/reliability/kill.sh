#!/bin/sh
# tests/reliability/kill.sh: stops runs at random moments and checks that their traces open.
# usage: kill.sh ORIONSIM [TRIALS]   (make test runs it; default 6 trials)
# Each trial runs scenarios/orion-100b.cfg (about 8 s) and sends SIGKILL or SIGTERM (in
# turn) after a random 0.3 to 3 s. Then `report`, `export-trace` and `plot` must work on the
# trace (exit 0) as its last flush left it: SIGTERM like SIGINT (exit 1, trace marked
# incomplete), SIGKILL without any help from the run. A trace that does not exist yet
# (killed before it was created) counts as a pass; no command may crash or hang.
# With h5dump installed, each trace is also opened the plain way (`h5dump -H`, no SWMR,
# no h5clear): the writer keeps the file closed between flushes, so this works unless the
# kill landed inside a write window (a few ms per flush), where the file stays marked
# open for writing; the count is printed, and only our commands must always work.
# KILL_KEEP=PREFIX keeps a copy of each trace the plain open refused (PREFIX.TRIAL.h5).
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
trials=${2:-6}
root=$(cd "$(dirname "$0")/../.." && pwd)
export ORIONSIM_PLOTS="${ORIONSIM_PLOTS:-$root/plots}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/orionsim-kill-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 1
fail=0
i=0
plain_ok=0
plain_n=0
have_h5dump=0
command -v h5dump >/dev/null 2>&1 && have_h5dump=1
while [ "$i" -lt "$trials" ]; do
  i=$((i + 1))
  sig=KILL
  [ $((i % 2)) -eq 0 ] && sig=TERM
  # a random delay in [0.3, 3.0) s from /dev/urandom
  r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
  delay=$(awk -v r="$r" 'BEGIN { printf "%.2f", 0.3 + 2.7 * r / 65536 }')
  tr=$tmp/t$i.h5
  "$bin" run scenarios/orion-100b.cfg -q -o "$tr" 2>"$tmp/run.err" &
  pid=$!
  sleep "$delay"
  kill -s "$sig" "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  rc=$?
  what="trial $i: SIG$sig after $delay s (run exit $rc)"
  if [ "$sig" = TERM ] && [ "$rc" -ne 1 ] && [ "$rc" -ne 0 ]; then
    echo "FAIL kill: $what: SIGTERM must stop the run cleanly (exit 1, or 0 if it had ended)"
    fail=$((fail + 1))
    continue
  fi
  if [ ! -s "$tr" ]; then
    echo "ok   kill: $what: no trace yet"
    continue
  fi
  plain=""
  if [ "$have_h5dump" = 1 ]; then
    plain_n=$((plain_n + 1))
    if timeout 60 h5dump -H "$tr" >/dev/null 2>&1; then
      plain_ok=$((plain_ok + 1))
      plain="; plain h5dump -H opens it"
    else
      plain="; plain h5dump -H refuses it (killed inside a write window: still marked open)"
      [ -n "${KILL_KEEP:-}" ] && cp "$tr" "$KILL_KEEP.$i.h5"
    fi
  fi
  bad=""
  timeout 60 "$bin" report "$tr" >"$tmp/report.out" 2>"$tmp/cmd.err" || bad="$bad report($?)"
  timeout 60 "$bin" export-trace "$tr" -o "$tmp/t.json" 2>>"$tmp/cmd.err" || bad="$bad export-trace($?)"
  timeout 120 "$bin" plot "$tr" -o "$tmp/plot$i" --only timeline,mfu 2>>"$tmp/cmd.err" >/dev/null ||
    bad="$bad plot($?)"
  if [ -n "$bad" ]; then
    echo "FAIL kill: $what: failed:$bad"
    sed 's/^/    /' "$tmp/cmd.err" | head -10
    fail=$((fail + 1))
  else
    cyc=$(awk '$1 == "cycles" { print $2; exit }' "$tmp/report.out")
    echo "ok   kill: $what: report, export-trace and plot work ($cyc cycles flushed)$plain"
  fi
done
[ "$have_h5dump" = 1 ] &&
  echo "kill: a plain open (h5dump -H, no SWMR) worked on $plain_ok of $plain_n traces"
if [ "$fail" -ne 0 ]; then
  echo "kill: $fail of $trials trials failed"
  exit 1
fi
echo "kill: all $trials trials left a readable trace"
