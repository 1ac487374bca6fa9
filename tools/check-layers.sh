#!/bin/sh
# tools/check-layers.sh: the dependency rules of the tree, checked on every #include "...".
#
# Each folder may include project headers only from the folders listed beside it (its
# own folder always). netmodel/ and kernels/ know nothing of each other or of sim/; the
# engine (sim/swarm/) and live mode (sim/live/) know nothing of scenario files, traces or
# the command line; nothing but the command line includes sim/cli/. A violation prints
# the file, line and the offending include, and the script fails.
set -u
cd "$(dirname "$0")/.." || exit 2

# folder: allowed include prefixes (besides the folder itself)
rules='
netmodel:
kernels:
sim/base:
sim/metrics:sim/base
sim/swarm:netmodel kernels sim/base sim/metrics
sim/live:netmodel kernels sim/base sim/metrics sim/swarm
sim/scenario:netmodel kernels sim/base
sim/flows:netmodel sim/base
sim/calibrate:netmodel kernels sim/base sim/metrics sim/scenario
sim/trace:netmodel kernels sim/base sim/metrics sim/swarm sim/live
sim/run:netmodel kernels sim/base sim/metrics sim/scenario sim/swarm sim/live sim/trace sim/calibrate
sim/sweep:netmodel kernels sim/base sim/metrics sim/scenario sim/run sim/trace
sim/sweep/mpi:sim/sweep
sim/study:netmodel kernels sim/base sim/metrics sim/scenario sim/run sim/live sim/trace sim/sweep
sim/fit:netmodel kernels sim/base sim/metrics sim/scenario sim/swarm sim/live sim/trace sim/run sim/sweep
sim/report:netmodel kernels sim/base sim/metrics sim/scenario sim/trace sim/sweep sim/fit sim/study
sim/cli:*
'

bad=0
for f in $(find netmodel kernels sim -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' | sort); do
  dir=$(dirname "$f")
  case "$dir" in kernels/cuda) dir=kernels ;; esac
  allowed=$(printf '%s\n' "$rules" | awk -F: -v d="$dir" '$1 == d { print $2 }')
  if ! printf '%s\n' "$rules" | grep -q "^$dir:"; then
    echo "check-layers: $f: folder $dir has no rule in tools/check-layers.sh (add one)"
    bad=1
    continue
  fi
  [ "$allowed" = "*" ] && continue
  grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r hit; do
    line=${hit%%:*}
    inc=$(printf '%s' "$hit" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
    idir=$(dirname "$inc")
    case "$inc" in */*) ;; *) continue ;; esac # same-folder include without a path
    [ "$idir" = "$dir" ] && continue
    [ "$dir" = kernels ] && [ "$idir" = kernels/cuda ] && continue
    ok=0
    for a in $allowed; do [ "$idir" = "$a" ] && ok=1; done
    if [ $ok = 0 ]; then
      echo "check-layers: $f:$line: includes \"$inc\" ($dir may include: ${allowed:-nothing outside itself})"
      echo x >> "${TMPDIR:-/tmp}/check-layers.$$"
    fi
  done
done
if [ -f "${TMPDIR:-/tmp}/check-layers.$$" ]; then rm -f "${TMPDIR:-/tmp}/check-layers.$$"; bad=1; fi
[ $bad = 0 ] && echo "check-layers: every include follows the layers"
exit $bad
