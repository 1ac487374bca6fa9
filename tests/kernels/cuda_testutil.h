/* tests/kernels/cuda_testutil.h: what the CUDA-vs-CPU tests share: tolerances, the two
 * backends (the CPU reference, CUDA in fp32 and in bf16), tensors held by both, the
 * comparison, and opening/closing the backends (no CUDA device: a SKIP). Included by
 * test_cuda_vs_cpu.c (every op) and test_cuda_stage.c (whole stages) only. */
#ifndef TESTS_KERNELS_CUDA_TESTUTIL_H
#define TESTS_KERNELS_CUDA_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/model.h"
#include "kernels/prng.h"
#include "kernels/stage.h"
#include "tests/check_main.h"

#define TOL_ELEM 1e-5
#define TOL_CHAIN 1e-4
#define TOL_BF16 1e-2
#define TOL_STAGE_BF16 5e-2 /* a whole stage: bf16 rounding after every op */

static kb_backend *g_cpu;
static kb_backend *g_cuda[2]; /* [KB_F32], [KB_BF16] */

/* ---- host helpers ---- */

static inline void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort();
    }
    return p;
}

/* fp32 -> nearest bf16 (ties to even), returned as fp32. */
static inline float bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return f;
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&f, &u, 4);
    return f;
}

static inline void round_if(float *x, size_t n, kb_dtype t) {
    if (t == KB_BF16)
        for (size_t i = 0; i < n; i++) x[i] = bf16_round(x[i]);
}

static inline const char *tname(kb_dtype t) { return t == KB_BF16 ? "bf16" : "fp32"; }

static inline double tol_for(kb_dtype out_type, double fp32_tol) {
    return out_type == KB_BF16 ? TOL_BF16 : fp32_tol;
}

static inline double rel_err(const float *got, const float *ref, size_t n) {
    double dmax = 0.0, rmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        if (!(d <= dmax)) dmax = d; /* NaN propagates */
        double r = fabs((double)ref[i]);
        if (r > rmax) rmax = r;
    }
    return dmax / (rmax > 1e-30 ? rmax : 1e-30);
}

static inline void check_close(const char *what, kb_dtype t, const float *got, const float *ref,
                               size_t n, double tol) {
    double e = rel_err(got, ref, n);
    printf("  %-40s %s  rel err %.3e  (tol %.0e)\n", what, tname(t), e, tol);
    fflush(stdout);
    ck_assert_msg(e <= tol, "%s (%s): rel err %.3e > %.0e", what, tname(t), e, tol);
}

/* ---- a tensor held by both backends ----
 * c: CPU buffer (always fp32), g: CUDA buffer of type t, h: host scratch of n floats. */
typedef struct {
    kb_backend *gpu;
    kb_dtype t;
    size_t n;
    void *c, *g;
    float *h;
} pair;

static inline pair pr_new(kb_backend *gpu, kb_dtype t, size_t n) {
    pair p = {gpu, t, n, NULL, NULL, NULL};
    p.c = g_cpu->alloc(g_cpu, n * sizeof(float));
    p.g = gpu->alloc(gpu, n * kb_dtype_size(t));
    p.h = xcalloc(n, sizeof(float));
    return p;
}

static inline void pr_free(pair *p) {
    g_cpu->free(g_cpu, p->c);
    p->gpu->free(p->gpu, p->g);
    free(p->h);
    memset(p, 0, sizeof *p);
}

/* Uploads vals (rounded to the CUDA type) to both sides; vals is updated in place. */
static inline void pr_set(pair *p, float *vals) {
    round_if(vals, p->n, p->t);
    g_cpu->upload(g_cpu, p->c, KB_F32, vals, p->n);
    p->gpu->upload(p->gpu, p->g, p->t, vals, p->n);
}

static inline void pr_normal(pair *p, kprng *r, double mean, double sd) {
    for (size_t i = 0; i < p->n; i++) p->h[i] = (float)(mean + sd * kprng_normal(r));
    pr_set(p, p->h);
}

static inline void pr_uniform(pair *p, kprng *r, double lo, double hi) {
    for (size_t i = 0; i < p->n; i++) p->h[i] = (float)(lo + (hi - lo) * kprng_uniform(r));
    pr_set(p, p->h);
}

/* Downloads both sides and compares. */
static inline void pr_check(const pair *p, const char *what, double fp32_tol) {
    float *a = xcalloc(p->n, sizeof(float)), *b = xcalloc(p->n, sizeof(float));
    p->gpu->download(p->gpu, a, p->g, p->t, p->n);
    g_cpu->download(g_cpu, b, p->c, KB_F32, p->n);
    check_close(what, p->t, a, b, p->n, tol_for(p->t, fp32_tol));
    free(a);
    free(b);
}

/* int32 tokens on both sides */
typedef struct {
    kb_backend *gpu;
    size_t n;
    int32_t *c, *g, *h;
} ipair;

static inline ipair ip_new(kb_backend *gpu, size_t n, kprng *r, int lo, int hi) {
    ipair p = {gpu, n, NULL, NULL, NULL};
    p.h = xcalloc(n, sizeof(int32_t));
    for (size_t i = 0; i < n; i++) p.h[i] = lo + (int32_t)(kprng_next(r) % (uint64_t)(hi - lo));
    p.c = g_cpu->alloc(g_cpu, n * sizeof(int32_t));
    p.g = gpu->alloc(gpu, n * sizeof(int32_t));
    g_cpu->upload_raw(g_cpu, p.c, p.h, n * sizeof(int32_t));
    gpu->upload_raw(gpu, p.g, p.h, n * sizeof(int32_t));
    return p;
}

static inline void ip_free(ipair *p) {
    g_cpu->free(g_cpu, p->c);
    p->gpu->free(p->gpu, p->g);
    free(p->h);
}

static inline kb_backend *gpu_for(int i) { return g_cuda[i]; }

/* Opens the CPU backend and both CUDA precisions; no CUDA device is a SKIP. */
static inline int open_backends(void) {
    char err[1024] = "";
    g_cpu = kb_open("cpu", 0, KB_F32, err, sizeof err);
    if (!g_cpu) {
        fprintf(stderr, "cannot open the CPU backend: %s\n", err);
        return 1;
    }
    g_cuda[KB_F32] = kb_open("cuda", 0, KB_F32, err, sizeof err);
    if (!g_cuda[KB_F32]) {
        printf("SKIP: no CUDA device (%s)\n", err);
        kb_close(g_cpu);
        return CHECK_SKIP;
    }
    g_cuda[KB_BF16] = kb_open("cuda", 0, KB_BF16, err, sizeof err);
    if (!g_cuda[KB_BF16]) {
        fprintf(stderr, "the fp32 CUDA backend opened but the bf16 one did not: %s\n", err);
        return 1;
    }
    return 0;
}

static inline void close_backends(void) {
    kb_close(g_cuda[KB_BF16]);
    kb_close(g_cuda[KB_F32]);
    kb_close(g_cpu);
}

#endif
