#!/bin/sh
# tools/sweep-rows.sh: the rows of a sweep file's /points table as text, one value a line,
# numbers to 17 significant digits, without the one machine-dependent member (wall_time_s):
# two files hold the same results exactly when their outputs are equal.
#   sh tools/sweep-rows.sh FILE
set -u
[ -r "$1" ] || { echo "sweep-rows: cannot read $1" >&2; exit 2; }
h5dump -y -w 0 -m %.17g -d /points "$1" | awk '
/^   DATATYPE/ { intype = 1; depth = 1; next }
intype {
    if ($0 ~ /^ *}/) depth--
    if (depth == 1 && $0 ~ /"[^"]*";$/) { nm++; if ($0 ~ /"wall_time_s";$/) skip = nm }
    if ($0 ~ /{ *$/) depth++
    if (depth == 0) intype = 0
    next
}
/^   DATA \{/ { indata = 1; next }
indata && /^      \{/ { k = 0; next }
indata && /^      \}/ { next }
indata { k++; if (k != skip) print }'
