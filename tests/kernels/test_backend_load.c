/* tests/kernels/test_backend_load.c: kb_open / kb_close (kernels/backend_load.c), on any machine.
 *
 * "cpu" always opens; "cuda" with ORIONSIM_PLUGIN_DIR pointing to an empty directory
 * fails cleanly with the reason; "auto" then falls back to the CPU with its one-line
 * notice; an unknown name fails with a message; with the real plugin directory (as the
 * test environment sets it) "auto" gives CUDA where a GPU is present and the CPU with
 * the notice elsewhere, and "cuda" with a bad ordinal fails cleanly.
 *
 * The loader keeps the plugin loaded once it succeeds, so the empty-directory cases
 * come first (they also hold when tests share one process, CK_FORK=no).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/backend.h"
#include "tests/check_main.h"

static char saved_plugin_dir[4096];
static int had_plugin_dir;

/* Runs kb_open with stderr captured into buf. */
static kb_backend *open_capturing(const char *which, kb_dtype act, char *err, size_t errlen,
                                  char *buf, size_t buflen) {
    fflush(stderr);
    int saved = dup(2);
    ck_assert_int_ge(saved, 0);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    ck_assert_int_ge(dup2(fileno(tmp), 2), 0);
    kb_backend *be = kb_open(which, 0, act, err, errlen);
    fflush(stderr);
    ck_assert_int_ge(dup2(saved, 2), 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, buflen - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return be;
}

/* Points ORIONSIM_PLUGIN_DIR at a fresh empty directory (path returned in dir). */
static void use_empty_plugin_dir(char *dir, size_t len) {
    snprintf(dir, len, "/tmp/orionsim-noplugin-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(setenv("ORIONSIM_PLUGIN_DIR", dir, 1), 0);
}

static void restore_plugin_dir(void) {
    if (had_plugin_dir) setenv("ORIONSIM_PLUGIN_DIR", saved_plugin_dir, 1);
    else unsetenv("ORIONSIM_PLUGIN_DIR");
}

START_TEST(test_cpu_opens) {
    char err[256] = "x";
    kb_backend *be = kb_open("cpu", 0, KB_F32, err, sizeof err);
    ck_assert_ptr_nonnull(be);
    ck_assert_str_eq(be->name, "cpu");
    ck_assert_int_eq(be->act, KB_F32);
    ck_assert_int_eq(be->device, -1);
    float in[5] = {1, -2, 3.5f, 0, 7}, out[5] = {0};
    void *buf = be->alloc(be, sizeof in);
    be->upload(be, buf, KB_F32, in, 5);
    be->download(be, out, buf, KB_F32, 5);
    ck_assert_mem_eq(in, out, sizeof in);
    be->free(be, buf);
    kb_close(be);
    kb_close(NULL); /* harmless */
}
END_TEST

START_TEST(test_cuda_missing_plugin_fails_cleanly) {
    char dir[64];
    use_empty_plugin_dir(dir, sizeof dir);
    char err[1024] = "";
    kb_backend *be = kb_open("cuda", 0, KB_F32, err, sizeof err);
    restore_plugin_dir();
    rmdir(dir);
    ck_assert_ptr_null(be);
    ck_assert_msg(err[0] != '\0', "no error message");
    ck_assert_msg(strstr(err, "liborionsim-cuda.so") != NULL, "message lacks the file: %s", err);
    printf("cuda with an empty plugin dir: %s\n", err);
}
END_TEST

START_TEST(test_auto_falls_back_with_notice) {
    char dir[64];
    use_empty_plugin_dir(dir, sizeof dir);
    char err[256] = "", captured[2048];
    kb_backend *be = open_capturing("auto", KB_BF16, err, sizeof err, captured, sizeof captured);
    restore_plugin_dir();
    rmdir(dir);
    ck_assert_ptr_nonnull(be);
    ck_assert_str_eq(be->name, "cpu");
    ck_assert_int_eq(be->act, KB_F32);
    ck_assert_msg(strstr(captured, "orionsim: CUDA backend unavailable (") != NULL &&
                      strstr(captured, "); using the CPU\n") != NULL,
                  "notice missing, stderr was: %s", captured);
    ck_assert_msg(strchr(captured, '\n') == captured + strlen(captured) - 1,
                  "notice is not one line: %s", captured);
    kb_close(be);
}
END_TEST

START_TEST(test_unknown_name) {
    char err[256] = "";
    ck_assert_ptr_null(kb_open("tpu", 0, KB_F32, err, sizeof err));
    ck_assert_msg(strstr(err, "tpu") != NULL, "message: %s", err);
    /* a NULL or zero-length err buffer is allowed */
    ck_assert_ptr_null(kb_open("tpu", 0, KB_F32, NULL, 0));
}
END_TEST

START_TEST(test_auto_with_real_plugin_dir) {
    char err[256] = "", captured[2048];
    kb_backend *be = open_capturing("auto", KB_F32, err, sizeof err, captured, sizeof captured);
    ck_assert_ptr_nonnull(be);
    if (strcmp(be->name, "cuda") == 0) {
        ck_assert_int_ge(be->device, 0);
        ck_assert_msg(captured[0] == '\0', "unexpected notice: %s", captured);
        printf("auto: CUDA on GPU %d\n", be->device);
    } else {
        ck_assert_str_eq(be->name, "cpu");
        ck_assert_msg(strstr(captured, "orionsim: CUDA backend unavailable (") != NULL,
                      "notice missing, stderr was: %s", captured);
        printf("auto: %s", captured);
    }
    kb_close(be);
}
END_TEST

START_TEST(test_cuda_bad_ordinal) {
    char err[512] = "";
    kb_backend *be = kb_open("cuda", 9999, KB_F32, err, sizeof err);
    ck_assert_ptr_null(be);
    ck_assert_msg(err[0] != '\0', "no error message");
    printf("cuda device 9999: %s\n", err);
}
END_TEST

static int save_plugin_dir(void) {
    const char *d = getenv("ORIONSIM_PLUGIN_DIR");
    if (d) {
        had_plugin_dir = 1;
        snprintf(saved_plugin_dir, sizeof saved_plugin_dir, "%s", d);
    }
    return 0;
}

static Suite *backend_load_suite(void) {
    Suite *s = suite_create("backend_load");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cpu_opens);
    tcase_add_test(tc, test_cuda_missing_plugin_fails_cleanly);
    tcase_add_test(tc, test_auto_falls_back_with_notice);
    tcase_add_test(tc, test_unknown_name);
    tcase_add_test(tc, test_auto_with_real_plugin_dir);
    tcase_add_test(tc, test_cuda_bad_ordinal);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = backend_load_suite, .setup = save_plugin_dir)
