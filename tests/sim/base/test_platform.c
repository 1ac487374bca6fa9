/* tests/sim/base/test_platform.c: the machine record (sim/base/platform.h) and its place in
 * every trace: root attributes platform_*, the backend and GPU noted by a live run written
 * with the first record. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/h5util.h"
#include "sim/base/platform.h"
#include "sim/trace/trace.h"
#include "tests/check_main.h"

/* A strong reference, so that this program links OpenBLAS as orionsim does (the platform
 * module's references are weak: without BLAS it says "unknown"). */
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);

START_TEST(test_blas_version) {
    char v[32];
    sim_platform_blas_version("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH Haswell MAX_THREADS=64", v,
                              sizeof v);
    ck_assert_str_eq(v, "0.3.21");
    sim_platform_blas_version("OpenBLAS 0.3.27", v, sizeof v);
    ck_assert_str_eq(v, "0.3.27");
    sim_platform_blas_version("MKL 2024", v, sizeof v);
    ck_assert_str_eq(v, "unknown");
    sim_platform_blas_version(NULL, v, sizeof v);
    ck_assert_str_eq(v, "unknown");
}
END_TEST

START_TEST(test_detect) {
    sim_platform_note_backend("none", -1);
    sim_platform p;
    sim_platform_detect(&p);
    ck_assert(p.cpu[0]);
    ck_assert_int_eq(p.cores, (int)sysconf(_SC_NPROCESSORS_ONLN));
    ck_assert(p.blas[0] && p.blas_version[0]);
    ck_assert_str_eq(p.backend, "none");
    ck_assert_str_eq(p.gpu, "none");
    /* linked with OpenBLAS: its own configuration string, version and thread count */
    ck_assert_msg(!strncmp(p.blas, "OpenBLAS ", 9), "blas: %s", p.blas);
    ck_assert(!strncmp(p.blas, openblas_get_config(), strlen(p.blas)));
    ck_assert_int_eq(p.blas_threads, openblas_get_num_threads());
    ck_assert_int_ge(p.blas_threads, 1);
    sim_platform_note_backend("cpu", -1);
    sim_platform_detect(&p);
    ck_assert_str_eq(p.backend, "cpu");
    ck_assert_str_eq(p.gpu, "none");
    sim_platform_note_backend("cuda", 0); /* a GPU: its driver's model name, or the ordinal */
    sim_platform_detect(&p);
    ck_assert_str_eq(p.backend, "cuda");
    ck_assert(strcmp(p.gpu, "none") != 0 && p.gpu[0]);
    sim_platform_note_backend("none", -1);
}
END_TEST

static char *attr(const char *path, const char *name) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    char *v = NULL, err[256];
    ck_assert_msg(h5u_read_attr_str(f, name, &v, err, sizeof err) == 0, "%s: %s", name, err);
    H5Fclose(f);
    return v;
}

START_TEST(test_trace_attributes) {
    char path[] = "/tmp/orionsim-platform-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    /* detected: the CPU at open, the backend a live run notes before its first record */
    sim_platform_note_backend("none", -1);
    trace *t = trace_open(path, NULL);
    ck_assert_ptr_nonnull(t);
    sim_platform_note_backend("cpu", -1);
    trace_loss_rec r = {0};
    ck_assert_int_eq(trace_loss(t, &r), 0);
    ck_assert_int_eq(trace_close(t, NULL, 1), 0);
    sim_platform p;
    sim_platform_detect(&p);
    char *cpu = attr(path, "platform_cpu"), *blas = attr(path, "platform_blas"),
         *be = attr(path, "platform_backend"), *gpu = attr(path, "platform_gpu");
    ck_assert_str_eq(cpu, p.cpu);
    ck_assert_str_eq(blas, p.blas);
    ck_assert_str_eq(be, "cpu");
    ck_assert_str_eq(gpu, "none");
    free(cpu), free(blas), free(be), free(gpu);
    /* given by the caller: written as given */
    sim_platform mine = p;
    snprintf(mine.cpu, sizeof mine.cpu, "Test CPU 9000");
    snprintf(mine.backend, sizeof mine.backend, "cuda");
    snprintf(mine.gpu, sizeof mine.gpu, "NVIDIA H200");
    trace_meta m = {.platform = &mine};
    t = trace_open(path, &m);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(trace_loss(t, &r), 0);
    ck_assert_int_eq(trace_close(t, NULL, 1), 0);
    cpu = attr(path, "platform_cpu");
    gpu = attr(path, "platform_gpu");
    ck_assert_str_eq(cpu, "Test CPU 9000");
    ck_assert_str_eq(gpu, "NVIDIA H200");
    free(cpu), free(gpu);
    sim_platform_note_backend("none", -1);
    unlink(path);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("platform");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_blas_version);
    tcase_add_test(tc, test_detect);
    tcase_add_test(tc, test_trace_attributes);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = suite)
