#!/bin/sh
# tools/slurm-sweep.sh: one shard of an orionsim sweep per task of a Slurm job array.
#
#   sbatch --array=0-$((N-1)) [--cpus-per-task=C] tools/slurm-sweep.sh DIR SCENARIO --vary ... [sweep options]
#   orionsim sweep-merge DIR/sweep.h5 DIR/shard-*-of-N.h5        (once every task has ended)
#
# Task I of an array of N runs `orionsim sweep SCENARIO ... --shard I/N -o DIR/shard-I-of-N.h5
# -j C` (C: --cpus-per-task, else 1), so the N files together hold the whole grid; the merge
# gives the file one `orionsim sweep` would write. A task that is requeued or run again
# resumes its shard file (finished points are kept); a failed point is recorded in its
# row and the task exits 1. To merge automatically when every task has ended (afterany:
# failed points show in the merged file, and the merge exits 1):
#
#   jid=$(sbatch --parsable --array=0-7 tools/slurm-sweep.sh DIR SCENARIO --vary ...)
#   sbatch --dependency=afterany:$jid --wrap "build/orionsim sweep-merge DIR/sweep.h5 DIR/shard-*-of-8.h5"
#
# Environment: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (set by Slurm; the array must
# be 0-(N-1) without step or %limit gaps, so that task I is shard I), ORIONSIM (the binary,
# default build/orionsim; run from the repository root or set it). SHARDS overrides N.
#SBATCH --job-name=orionsim-sweep
#SBATCH --output=orionsim-sweep-%A_%a.log
set -u
if [ $# -lt 2 ]; then
    echo "usage: sbatch --array=0-(N-1) $0 DIR SCENARIO --vary KEY=VALUES... [sweep options]" >&2
    exit 2
fi
dir=$1
shift
id=${SLURM_ARRAY_TASK_ID:-}
count=${SHARDS:-${SLURM_ARRAY_TASK_COUNT:-}}
if [ -z "$id" ] || [ -z "$count" ]; then
    echo "slurm-sweep: SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT are not set: submit with sbatch --array=0-(N-1)" >&2
    exit 2
fi
bin=${ORIONSIM:-build/orionsim}
mkdir -p "$dir" || exit 1
exec "$bin" sweep "$@" --shard "$id/$count" -o "$dir/shard-$id-of-$count.h5" -j "${SLURM_CPUS_PER_TASK:-1}"
