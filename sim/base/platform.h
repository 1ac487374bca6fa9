/* sim/base/platform.h: the machine a run ran on (CPU, BLAS, threads, GPU), for traces.
 *
 * Results of live runs depend on the machine: the BLAS library and its thread count
 * choose the order of floating-point reductions, and the GPU backend computes in other
 * precisions. Every trace records these as root attributes (results/README.md):
 *   platform_cpu            CPU model ("model name" of /proc/cpuinfo), "unknown" elsewhere
 *   platform_cores          online cores
 *   platform_blas           BLAS library and its build ("OpenBLAS 0.3.21 DYNAMIC_ARCH ..."),
 *                           from openblas_get_config() when OpenBLAS is linked, else "unknown"
 *   platform_blas_version   the version alone ("0.3.21"), or "unknown"
 *   platform_blas_threads   threads the BLAS uses (openblas_get_num_threads(); -1 unknown)
 *   platform_omp_threads    OMP_NUM_THREADS as set (0 when unset: the CPU backend's own ops
 *                           then run on one thread)
 *   platform_backend        "cpu", "cuda" (the backend of a live run), or "none" (modeled)
 *   platform_gpu            the GPU a live run used ("NVIDIA H200", from the driver's
 *                           /proc/driver/nvidia/gpus/<bus>/information), or "none"
 * The backend and GPU are known only once a live run opened its backend:
 * sim_platform_note_backend records them (process-wide), and the trace writes them when
 * its first record arrives (sim/trace/trace.c).
 */
#ifndef SIM_PLATFORM_H
#define SIM_PLATFORM_H

#define SIM_PLATFORM_TEXT 160

typedef struct {
    char cpu[SIM_PLATFORM_TEXT];
    int cores;
    char blas[SIM_PLATFORM_TEXT];
    char blas_version[32];
    int blas_threads;
    int omp_threads;
    char backend[16];
    char gpu[SIM_PLATFORM_TEXT];
} sim_platform;

/* Fill p with this machine's CPU and BLAS, and the backend and GPU noted so far. */
void sim_platform_detect(sim_platform *p);

/* A live run opened `backend` ("cpu" or "cuda") on GPU ordinal `device` (-1: none). */
void sim_platform_note_backend(const char *backend, int device);

/* The version out of an OpenBLAS configuration string ("OpenBLAS 0.3.21 ..." ->
 * "0.3.21"), or "unknown". */
void sim_platform_blas_version(const char *config, char *out, int outlen);

#endif
