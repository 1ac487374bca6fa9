/* kernels/backend_cpu.c: the CPU reference backend: host memory and the op table.
 *
 * Memory is plain host memory (calloc, so alloc returns zeroed memory as backend.h
 * requires); "device" and host pointers are the same thing, so upload/download are
 * copies. The ops live in kernels/cpu_ops_*.c (declared in cpu_ops.h), the optimizer
 * steps in kernels/cpu_optim.c.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/cpu_ops.h"
#include "kernels/cpu_optim.h"
#include "kernels/kcheck.h"

/* ---- memory ---- */

static void *cpu_alloc(kb_backend *be, size_t bytes) {
    (void)be;
    return K_CALLOC(bytes, 1);
}

static void cpu_free(kb_backend *be, void *p) {
    (void)be;
    free(p);
}

static void cpu_zero(kb_backend *be, void *p, size_t bytes) {
    (void)be;
    if (bytes) memset(p, 0, bytes);
}

static void cpu_copy(kb_backend *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    if (bytes && dst != src) memmove(dst, src, bytes);
}

static void cpu_upload(kb_backend *be, void *dst, kb_dtype t, const float *src, size_t n) {
    KCPU_REQUIRE_F32(t);
    cpu_copy(be, dst, src, n * sizeof(float));
}

static void cpu_download(kb_backend *be, float *dst, const void *src, kb_dtype t, size_t n) {
    KCPU_REQUIRE_F32(t);
    cpu_copy(be, dst, src, n * sizeof(float));
}

static void cpu_copy_raw(kb_backend *be, void *dst, const void *src, size_t bytes) {
    cpu_copy(be, dst, src, bytes);
}

static void cpu_convert(kb_backend *be, void *dst, kb_dtype dt, const void *src, kb_dtype st,
                        size_t n) {
    KCPU_REQUIRE_F32(dt);
    KCPU_REQUIRE_F32(st);
    cpu_copy(be, dst, src, n * sizeof(float));
}

static void cpu_synchronize(kb_backend *be) { (void)be; }

static void cpu_close(kb_backend *be) { free(be); }

/* ---- the table ---- */

kb_backend *kb_cpu_open(void) {
    kb_backend *be = calloc(1, sizeof *be);
    if (!be) {
        fprintf(stderr, "%s:%d: out of memory opening the CPU backend\n", __FILE__, __LINE__);
        exit(1);
    }
    /* One thread pool, not two: OpenBLAS already runs its GEMMs on every core, and an
     * OpenMP pool spinning on the same cores slowed both (stage timings 2-6x worse and
     * erratic on 2 cores). The plain-C ops then run on one thread; OMP_NUM_THREADS, when
     * set, wins. */
    if (!getenv("OMP_NUM_THREADS")) omp_set_num_threads(1);
    be->name = "cpu";
    be->act = KB_F32;
    be->device = -1;
    be->impl = NULL;
    be->close = cpu_close;

    be->alloc = cpu_alloc;
    be->free = cpu_free;
    be->zero = cpu_zero;
    be->copy = cpu_copy;
    be->upload = cpu_upload;
    be->download = cpu_download;
    be->upload_raw = cpu_copy_raw;
    be->download_raw = cpu_copy_raw;
    be->convert = cpu_convert;
    be->synchronize = cpu_synchronize;

    be->gemm = kcpu_gemm;
    be->embedding_fwd = kcpu_embedding_fwd;
    be->embedding_bwd = kcpu_embedding_bwd;
    be->rmsnorm_fwd = kcpu_rmsnorm_fwd;
    be->rmsnorm_bwd = kcpu_rmsnorm_bwd;
    be->rope_fwd = kcpu_rope_fwd;
    be->rope_bwd = kcpu_rope_bwd;
    be->attention_fwd = kcpu_attention_fwd;
    be->attention_bwd = kcpu_attention_bwd;
    be->swiglu_fwd = kcpu_swiglu_fwd;
    be->swiglu_bwd = kcpu_swiglu_bwd;
    be->silu_fwd = kcpu_silu_fwd;
    be->silu_bwd = kcpu_silu_bwd;
    be->add = kcpu_add;
    be->add_cols = kcpu_add_cols;
    be->scale = kcpu_scale;
    be->sumsq = kcpu_sumsq;
    be->crossentropy = kcpu_crossentropy;
    be->quant_int8 = kcpu_quant_int8;
    be->dequant_int8 = kcpu_dequant_int8;

    be->adam_step = kcpu_adam_step;
    be->nesterov_step = kcpu_nesterov_step;
    return be;
}
