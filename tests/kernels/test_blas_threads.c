/* tests/kernels/test_blas_threads.c: the CPU GEMM gives the same bits with 1 and 2 OpenBLAS
 * threads, at the shapes of the study's widest model (d 512: a microbatch of 512 tokens
 * through the fused gate/up projection, its weight gradient, and the LM head). OpenBLAS
 * splits a GEMM's output among its threads (rows and columns of C), never the inner
 * dimension, so every element is summed in the same order by one thread: the live CPU
 * losses do not depend on the thread count (results/README.md "Platform"). The kernel
 * set OpenBLAS picks for the CPU (platform_blas) does change the rounding. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/cpu_ops.h"
#include "tests/check_main.h"

extern void openblas_set_num_threads(int n);
extern int openblas_get_num_threads(void);

static float *rnd(size_t n, unsigned seed) {
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return x;
}

/* C = op(A) op(B) with `threads` threads. */
static float *gemm(int threads, int ta, int tb, int M, int N, int K, const float *A,
                   const float *B) {
    openblas_set_num_threads(threads);
    float *C = calloc((size_t)M * N, sizeof *C);
    ck_assert_ptr_nonnull(C);
    kcpu_gemm(NULL, ta, tb, M, N, K, 1.0f, A, KB_F32, ta ? M : K, B, KB_F32, tb ? K : N, 0.0f, C,
              KB_F32, N);
    return C;
}

START_TEST(test_same_bits_one_and_two_threads) {
    const int shapes[][5] = {
        /* ta, tb, M, N, K */
        {0, 1, 512, 3072, 512}, /* gate/up: x [512 tok, d] W^T [2 ffn, d] */
        {1, 0, 3072, 512, 512}, /* its weight gradient: dY^T x, summed over tokens */
        {0, 1, 512, 256, 512},  /* LM head */
        {0, 0, 512, 512, 1536}, /* down-projection gradient dX = dY W */
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ta = shapes[s][0], tb = shapes[s][1], M = shapes[s][2], N = shapes[s][3],
            K = shapes[s][4];
        float *A = rnd((size_t)M * K, 1u + (unsigned)s), *B = rnd((size_t)K * N, 7u + (unsigned)s);
        float *c1 = gemm(1, ta, tb, M, N, K, A, B), *c2 = gemm(2, ta, tb, M, N, K, A, B);
        ck_assert_int_eq(openblas_get_num_threads(), 2);
        ck_assert_msg(!memcmp(c1, c2, (size_t)M * N * sizeof *c1),
                      "shape %zu: 1 and 2 threads differ", s);
        free(A), free(B), free(c1), free(c2);
    }
    openblas_set_num_threads(1);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("blas_threads");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_same_bits_one_and_two_threads);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
