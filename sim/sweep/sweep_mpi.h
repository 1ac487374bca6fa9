/* sim/sweep/sweep_mpi.h: the ranks of an MPI job sharing a sweep (`orionsim sweep --mpi`).
 *
 * The MPI code is a plugin, liborionsim-mpi.so (sim/sweep/mpi/sweep_mpi.c), built with
 * OpenMPI's mpicc when the Makefile finds it (MPI=0 forces it off) and opened with dlopen
 * (RTLD_GLOBAL, as OpenMPI's own components need) only when --mpi is given: orionsim
 * itself never links libmpi, so the same binary runs where MPI is missing, and the build
 * without mpicc is the build without the plugin. Looked for like the CUDA plugin:
 * $ORIONSIM_PLUGIN_DIR, the directory of the running executable, then the dynamic
 * linker's search path. Its one C symbol, orionsim_sweep_mpi, returns the table below.
 *
 * Roles: rank 0 coordinates and writes the sweep file; ranks 1..N-1 run points. Rank 0
 * sends each idle worker the index of the next pending point; the worker runs it (in a
 * forked process, as `-j` workers do, so a crash fails the point and not the rank) and
 * sends back the fixed-size result; rank 0 writes the row and sends the next index or
 * "done". Messages are raw bytes: every rank runs the same orionsim binary on the same
 * kind of machine. With one rank there is nobody to send to: rank 0 runs the points
 * itself with the worker-process pool.
 */
#ifndef SIM_SWEEP_MPI_H
#define SIM_SWEEP_MPI_H

#include <stddef.h>

#include "sim/sweep/sweep_pool.h"

#define SWEEP_MPI_ABI 1
#define SWEEP_MPI_PLUGIN "liborionsim-mpi.so"

typedef struct {
    int abi; /* SWEEP_MPI_ABI */
    /* MPI_Init (unless already done); this process's rank and the number of ranks. */
    int (*init)(int *rank, int *size, char *err, size_t errlen);
    /* Collective: the largest v over all ranks (every rank's exit code after a step). */
    int (*max_int)(int v);
    /* Rank 0: hand jobs[0..n) out to ranks 1..size-1 as they become idle and call done()
     * (ok = 1) with each result as it arrives; when *stop becomes nonzero no new job is
     * handed out. Returns when every handed-out job is back and every worker was told
     * to end. 0, or -1 with err. */
    int (*coordinate)(const size_t *jobs, size_t n, size_t result_size, sweep_done_fn done,
                      void *ctx, volatile int *stop, char *err, size_t errlen);
    /* Ranks > 0: run the jobs rank 0 sends (run() fills a zeroed result of result_size
     * bytes) until told to end. 0, or -1 with err. */
    int (*work)(size_t result_size, sweep_job_fn run, void *ctx, char *err, size_t errlen);
    /* MPI_Finalize (when init did MPI_Init). */
    void (*finalize)(void);
} sweep_mpi_ops;

typedef const sweep_mpi_ops *(*sweep_mpi_entry_fn)(void);

/* The plugin's table, or NULL with err saying why: this orionsim was built without MPI
 * (no mpicc, or MPI=0), or the plugin or libmpi cannot be loaded. Loaded once. */
const sweep_mpi_ops *sweep_mpi_open(char *err, size_t errlen);

#endif
