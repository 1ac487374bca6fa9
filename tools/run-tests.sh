#!/bin/sh
# Runs test binaries one after another and prints a one-line summary.
# usage: run-tests.sh "ENV=VALUE ..." BIN...
# VALGRIND=1 in the first argument runs each binary under valgrind (errors fail the run).
set -u
envs=$1; shift
fail=0; n=0; failed=""
for t in "$@"; do
  n=$((n + 1))
  name=$(basename "$t")
  case " $envs " in
    *" VALGRIND=1 "*) wrap="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=tools/valgrind.supp" ;;
    *) wrap="" ;;
  esac
  start=$(date +%s)
  # shellcheck disable=SC2086
  if env $envs $wrap "$t"; then
    echo "PASS $name ($(( $(date +%s) - start )) s)"
  else
    echo "FAIL $name"
    fail=$((fail + 1)); failed="$failed $name"
  fi
done
if [ "$fail" -ne 0 ]; then
  echo "tests: $fail of $n test programs failed:$failed"
  exit 1
fi
echo "tests: all $n test programs passed"
