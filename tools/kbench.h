/* tools/kbench.h: what bench_kernels.c and kbench_ops.c share: timing (best of R after
 * a warm-up), random device buffers, and the result rows (text table and BENCH lines). */
#ifndef TOOLS_KBENCH_H
#define TOOLS_KBENCH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels/backend.h"
#include "kernels/model.h"
#include "kernels/stage.h"

#define EXIT_BAD_RUN 1
#define EXIT_BAD_FLAGS 2

/* A call shorter than this is repeated inside one timing. */
#define MIN_TIMED_S 2e-3
#define MAX_INNER 200
/* fp32 traffic of one Adam step per parameter: read p, g, m, v; write p, m, v. */
#define OPT_BYTES_PER_PARAM 28.0

static inline double wall(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("bench_kernels: clock_gettime");
        exit(EXIT_BAD_RUN);
    }
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench_kernels: %s:%d: out of memory (%zu bytes)\n", __FILE__, __LINE__, n);
        exit(EXIT_BAD_RUN);
    }
    return p;
}

/* ---- timing ------------------------------------------------------------------------ */

typedef void (*bench_fn)(void *ctx);

/* One warm-up call, then the best of `reps` timings; returns seconds per call. */
static inline double time_best(kb_backend *be, bench_fn fn, void *ctx, int reps) {
    double t0 = wall();
    fn(ctx);
    be->synchronize(be);
    double warm = wall() - t0;
    int inner = 1;
    if (warm < MIN_TIMED_S) {
        double want = warm > 0 ? MIN_TIMED_S / warm : MAX_INNER;
        inner = want > MAX_INNER ? MAX_INNER : (int)ceil(want);
    }
    double best = INFINITY;
    for (int r = 0; r < reps; r++) {
        t0 = wall();
        for (int i = 0; i < inner; i++) fn(ctx);
        be->synchronize(be);
        double dt = (wall() - t0) / inner;
        if (dt < best) best = dt;
    }
    return best;
}

/* Small pseudo-random values in [-scale/2, scale/2) (the values do not change the
 * timing, but zeros could: a GPU draws less power on zero operands). One chunk is drawn
 * and uploaded, and copied on the device over the rest of the buffer, so that filling
 * gigabytes costs no host time. */
static inline void upload_random(kb_backend *be, void *dst, kb_dtype t, size_t n, uint64_t seed,
                                 float scale) {
    const size_t chunk = (size_t)1 << 20, es = kb_dtype_size(t);
    const size_t m = n < chunk ? n : chunk;
    float *h = xmalloc(sizeof *h * m);
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < m; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        h[i] = ((float)(x >> 40) / (float)(1u << 24) - 0.5f) * scale;
    }
    be->upload(be, dst, t, h, m);
    for (size_t off = m; off < n; off += m) {
        size_t k = n - off < m ? n - off : m;
        be->copy(be, (char *)dst + off * es, dst, k * es);
    }
    be->synchronize(be);
    free(h);
}

static inline void *alloc_random(kb_backend *be, kb_dtype t, size_t n, uint64_t seed, float scale) {
    void *p = be->alloc(be, n * kb_dtype_size(t));
    upload_random(be, p, t, n, seed, scale);
    return p;
}

/* ---- results ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    double seconds, flops;
    double gbs; /* > 0: memory-bound row (optimizer), GB/s of fp32 traffic */
} row;

typedef struct {
    const char *backend, *dtype;
    char shape[96];
    double gemm_tflops; /* the reference rate */
    double peak_tflops; /* 0: unknown */
} report;

static inline void print_header(void) {
    printf("%-22s %12s %12s %9s %8s %8s\n", "measurement", "seconds", "GFLOP", "TFLOP/s", "%GEMM",
           "%peak");
}

static inline void print_row(const report *rp, const row *r) {
    double tf = r->flops / r->seconds / 1e12;
    char pg[16] = "-", pp[16] = "-";
    if (rp->gemm_tflops > 0 && !(r->gbs > 0))
        snprintf(pg, sizeof pg, "%.1f", 100.0 * tf / rp->gemm_tflops);
    if (rp->peak_tflops > 0 && !(r->gbs > 0))
        snprintf(pp, sizeof pp, "%.1f", 100.0 * tf / rp->peak_tflops);
    printf("%-22s %12.6f %12.3f %9.4g %8s %8s", r->name, r->seconds, r->flops / 1e9, tf, pg, pp);
    if (r->gbs > 0) printf("   %.1f GB/s", r->gbs);
    printf("\n");
}

static inline void print_bench(const report *rp, const row *r) {
    double tf = r->flops / r->seconds / 1e12;
    printf("BENCH impl=orionsim name=%s seconds=%.9g flops=%.6g tflops=%.6g", r->name, r->seconds,
           r->flops, tf);
    if (rp->gemm_tflops > 0 && !(r->gbs > 0))
        printf(" pct_gemm=%.2f", 100.0 * tf / rp->gemm_tflops);
    if (rp->peak_tflops > 0 && !(r->gbs > 0))
        printf(" pct_peak=%.2f", 100.0 * tf / rp->peak_tflops);
    if (r->gbs > 0) printf(" gbs=%.4g", r->gbs);
    printf(" backend=%s dtype=%s shape=%s\n", rp->backend, rp->dtype, rp->shape);
}

/* kbench_ops.c: the cuBLAS/BLAS reference GEMM rate at the block's projection shapes,
 * and the per-operation breakdown of one block (--ops). */
void time_gemms(kb_backend *be, size_t N, size_t d, size_t f, int reps, double *t_gu,
                double *t_down);
void ops_breakdown(kb_backend *be, const km_config *c, int B, int reps, const report *rp,
                   double t_fwd_block, double t_bwd_block);

#endif
