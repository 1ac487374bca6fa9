/* sim/sweep/mpi/sweep_mpi.c: the MPI plugin of `orionsim sweep --mpi` (sim/sweep/sweep_mpi.h).
 *
 * Built with mpicc into liborionsim-mpi.so and nothing else: the sweep itself (grid,
 * runs, file) stays in libsim and reaches this file only through the callbacks it
 * passes. Rank 0 waits for results with MPI_Test and a 1 ms sleep rather than a
 * blocking receive, which OpenMPI spins in: the coordinator takes no core from the
 * workers when ranks outnumber cores (mpirun --oversubscribe).
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sweep/sweep_mpi.h"

enum { TAG_JOB = 1, TAG_RESULT = 2 };
#define JOB_END UINT64_MAX

static int did_init;

static void mpi_text(int code, char *buf, size_t n) {
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, s, &len) != MPI_SUCCESS) len = 0;
    snprintf(buf, n, "%.*s", len, s);
}

static int mpi_init(int *rank, int *size, char *err, size_t errlen) {
    int flag = 0, rc = MPI_Initialized(&flag);
    if (rc == MPI_SUCCESS && !flag) {
        rc = MPI_Init(NULL, NULL);
        did_init = rc == MPI_SUCCESS;
    }
    if (rc == MPI_SUCCESS) rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
    if (rc == MPI_SUCCESS) rc = MPI_Comm_size(MPI_COMM_WORLD, size);
    if (rc != MPI_SUCCESS) {
        char t[MPI_MAX_ERROR_STRING + 1];
        mpi_text(rc, t, sizeof t);
        snprintf(err, errlen, "--mpi: MPI_Init failed: %s", t);
        return -1;
    }
    return 0;
}

static int mpi_max_int(int v) {
    int out = v;
    if (MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS) return v;
    return out;
}

static int send_job(uint64_t job, int to, char *err, size_t errlen) {
    int rc = MPI_Send(&job, 1, MPI_UINT64_T, to, TAG_JOB, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS) return 0;
    char t[MPI_MAX_ERROR_STRING + 1];
    mpi_text(rc, t, sizeof t);
    snprintf(err, errlen, "--mpi: cannot send a point to rank %d: %s", to, t);
    return -1;
}

static int mpi_coordinate(const size_t *jobs, size_t n, size_t result_size, sweep_done_fn done,
                          void *ctx, volatile int *stop, char *err, size_t errlen) {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t next = 0, busy = 0;
    int rc = 0;
    /* every worker gets a first job, or "done" */
    for (int r = 1; r < size; r++) {
        int go = next < n && !(stop && *stop) && !rc;
        if (send_job(go ? (uint64_t)jobs[next] : JOB_END, r, err, errlen)) rc = -1;
        else if (go) next++, busy++;
    }
    unsigned char *buf = malloc(sizeof(uint64_t) + result_size);
    if (!buf) {
        snprintf(err, errlen, "--mpi: out of memory");
        return -1;
    }
    while (busy) {
        MPI_Request rq;
        MPI_Status st;
        int flag = 0;
        if (MPI_Irecv(buf, (int)(sizeof(uint64_t) + result_size), MPI_BYTE, MPI_ANY_SOURCE,
                      TAG_RESULT, MPI_COMM_WORLD, &rq) != MPI_SUCCESS) {
            snprintf(err, errlen, "--mpi: cannot receive results");
            rc = -1;
            break;
        }
        while (!flag) {
            if (MPI_Test(&rq, &flag, &st) != MPI_SUCCESS) break;
            if (!flag) nanosleep(&(struct timespec){0, 1000000}, NULL);
        }
        if (!flag) {
            snprintf(err, errlen, "--mpi: receiving a result failed");
            rc = -1;
            break;
        }
        busy--;
        uint64_t job;
        memcpy(&job, buf, sizeof job);
        done((size_t)job, 1, buf + sizeof job, NULL, ctx);
        int go = next < n && !(stop && *stop) && !rc;
        if (send_job(go ? (uint64_t)jobs[next] : JOB_END, st.MPI_SOURCE, err, errlen)) rc = -1;
        else if (go) next++, busy++;
    }
    free(buf);
    return rc;
}

static int mpi_work(size_t result_size, sweep_job_fn run, void *ctx, char *err, size_t errlen) {
    unsigned char *buf = malloc(sizeof(uint64_t) + result_size);
    if (!buf) {
        snprintf(err, errlen, "--mpi: out of memory");
        return -1;
    }
    int rc = 0;
    for (;;) {
        uint64_t job;
        if (MPI_Recv(&job, 1, MPI_UINT64_T, 0, TAG_JOB, MPI_COMM_WORLD, MPI_STATUS_IGNORE) !=
            MPI_SUCCESS) {
            snprintf(err, errlen, "--mpi: cannot receive a point from rank 0");
            rc = -1;
            break;
        }
        if (job == JOB_END) break;
        memset(buf, 0, sizeof job + result_size);
        run((size_t)job, ctx, buf + sizeof job);
        memcpy(buf, &job, sizeof job);
        if (MPI_Send(buf, (int)(sizeof job + result_size), MPI_BYTE, 0, TAG_RESULT,
                     MPI_COMM_WORLD) != MPI_SUCCESS) {
            snprintf(err, errlen, "--mpi: cannot send a result to rank 0");
            rc = -1;
            break;
        }
    }
    free(buf);
    return rc;
}

static void mpi_finalize(void) {
    if (did_init) MPI_Finalize();
    did_init = 0;
}

static const sweep_mpi_ops ops = {SWEEP_MPI_ABI,  mpi_init, mpi_max_int,
                                  mpi_coordinate, mpi_work, mpi_finalize};

const sweep_mpi_ops *orionsim_sweep_mpi(void);
const sweep_mpi_ops *orionsim_sweep_mpi(void) { return &ops; }
