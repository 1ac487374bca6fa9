/* kernels/cpu_ops_pointwise.c: embedding, SwiGLU, SiLU and the small vector ops on the CPU.
 *
 *   silu(x)  = x * sigmoid(x),  silu'(x) = s * (1 + x * (1 - s)) with s = sigmoid(x)
 *   swiglu   = silu(gate) * up, gate = gu[:, 0:f], up = gu[:, f:2f]
 * sumsq is the one reduction: chunks of SUMSQ_CHUNK elements are summed in double (in
 * parallel), then the chunk sums are added in index order, so the result does not
 * depend on the number of threads.
 */
#include <math.h>
#include <stdlib.h>

#include "kernels/cpu_ops.h"

#define SUMSQ_CHUNK 65536

static float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

void kcpu_embedding_fwd(kb_backend *be, void *out, const int32_t *tokens, const void *wte, int N,
                        int d) {
    (void)be;
    float *o = out;
    const float *w = wte;
#pragma omp parallel for schedule(static) if ((size_t)N * d >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        KCPU_CHECK(tokens[r] >= 0, "embedding: negative token id");
        const float *src = w + (size_t)tokens[r] * d;
        float *dst = o + (size_t)r * d;
        for (int j = 0; j < d; j++) dst[j] = src[j];
    }
}

/* Rows are scattered in order (a token can repeat), so this one stays sequential. */
void kcpu_embedding_bwd(kb_backend *be, float *dwte, const int32_t *tokens, const void *dout, int N,
                        int d) {
    (void)be;
    const float *g = dout;
    for (int r = 0; r < N; r++) {
        KCPU_CHECK(tokens[r] >= 0, "embedding: negative token id");
        float *dst = dwte + (size_t)tokens[r] * d;
        const float *src = g + (size_t)r * d;
        for (int j = 0; j < d; j++) dst[j] += src[j];
    }
}

void kcpu_swiglu_fwd(kb_backend *be, void *out, const void *gu, int N, int f) {
    (void)be;
    float *o = out;
    const float *x = gu;
#pragma omp parallel for schedule(static) if ((size_t)N * f >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *gate = x + (size_t)r * 2 * f, *up = gate + f;
        float *orow = o + (size_t)r * f;
        for (int j = 0; j < f; j++) orow[j] = gate[j] * sigmoidf(gate[j]) * up[j];
    }
}

void kcpu_swiglu_bwd(kb_backend *be, void *dgu, const void *dout, const void *gu, int N, int f) {
    (void)be;
    float *dx = dgu;
    const float *x = gu, *go = dout;
#pragma omp parallel for schedule(static) if ((size_t)N * f >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++) {
        const float *gate = x + (size_t)r * 2 * f, *up = gate + f, *g = go + (size_t)r * f;
        float *dgate = dx + (size_t)r * 2 * f, *dup = dgate + f;
        for (int j = 0; j < f; j++) {
            float s = sigmoidf(gate[j]);
            dgate[j] += g[j] * up[j] * s * (1.0f + gate[j] * (1.0f - s));
            dup[j] += g[j] * gate[j] * s;
        }
    }
}

void kcpu_silu_fwd(kb_backend *be, void *out, const void *x, size_t n) {
    (void)be;
    float *o = out;
    const float *xs = x;
#pragma omp parallel for schedule(static) if (n >= KCPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) o[i] = xs[i] * sigmoidf(xs[i]);
}

void kcpu_silu_bwd(kb_backend *be, void *dx, const void *dout, const void *x, size_t n) {
    (void)be;
    float *d = dx;
    const float *g = dout, *xs = x;
#pragma omp parallel for schedule(static) if (n >= KCPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float s = sigmoidf(xs[i]);
        d[i] += g[i] * s * (1.0f + xs[i] * (1.0f - s));
    }
}

void kcpu_add(kb_backend *be, void *out, const void *a, const void *b, size_t n) {
    (void)be;
    float *o = out;
    const float *x = a, *y = b;
#pragma omp parallel for schedule(static) if (n >= KCPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) o[i] = x[i] + y[i];
}

void kcpu_add_cols(kb_backend *be, void *dst, int ldd, const void *src, int lds, int N, int ncols) {
    (void)be;
    KCPU_CHECK(ncols <= ldd && ncols <= lds, "add_cols: ncols exceeds a row stride");
    float *d = dst;
    const float *s = src;
#pragma omp parallel for schedule(static) if ((size_t)N * ncols >= KCPU_PAR_MIN)
    for (int r = 0; r < N; r++)
        for (int j = 0; j < ncols; j++) d[(size_t)r * ldd + j] += s[(size_t)r * lds + j];
}

void kcpu_scale(kb_backend *be, void *x, kb_dtype t, size_t n, float s) {
    (void)be;
    KCPU_REQUIRE_F32(t);
    float *v = x;
#pragma omp parallel for schedule(static) if (n >= KCPU_PAR_MIN)
    for (size_t i = 0; i < n; i++) v[i] *= s;
}

double kcpu_sumsq(kb_backend *be, const void *x, kb_dtype t, size_t n) {
    (void)be;
    KCPU_REQUIRE_F32(t);
    const float *v = x;
    size_t nchunks = (n + SUMSQ_CHUNK - 1) / SUMSQ_CHUNK;
    if (nchunks <= 1) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
        return s;
    }
    double *part = malloc(nchunks * sizeof(double));
    KCPU_CHECK(part != NULL, "sumsq: out of memory");
#pragma omp parallel for schedule(static) if (n >= KCPU_PAR_MIN)
    for (size_t c = 0; c < nchunks; c++) {
        size_t lo = c * SUMSQ_CHUNK, hi = lo + SUMSQ_CHUNK < n ? lo + SUMSQ_CHUNK : n;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)v[i] * v[i];
        part[c] = s;
    }
    double total = 0.0;
    for (size_t c = 0; c < nchunks; c++) total += part[c];
    free(part);
    return total;
}
