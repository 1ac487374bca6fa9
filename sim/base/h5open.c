/* sim/base/h5open.c: opening HDF5 files this program did not write, distrusting them
 * (regular files only, no endless SWMR retries, a probe in a child process for files
 * that crash or hang libhdf5; see h5util.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/base/fsutil.h"
#include "sim/base/h5util.h"
#include "sim/base/h5util_internal.h"
#include "sim/base/util.h"

/* ---- opening files we did not write ------------------------------------------------- */

static const void *image_buf; /* an image being opened (h5u_image_open_read) */
static size_t image_len;

static hid_t open_fapl(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return fapl;
    if (image_buf) {
        /* the core driver over a copy of the image, nothing written back */
        if (H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
            H5Pset_file_image(fapl, (void *)image_buf, image_len) < 0) {
            H5Pclose(fapl);
            return H5I_INVALID_HID;
        }
    }
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1); /* a running writer may hold the file */
#endif
    H5Pset_metadata_read_attempts(fapl, 1); /* SWMR: a bad checksum fails at once */
    return fapl;
}

static hid_t open_raw(const char *path, int *swmr) {
    hid_t fapl = open_fapl();
    if (fapl < 0) return fapl;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (swmr) *swmr = 0;
    if (f < 0) {
        /* still marked open for writing: its writer runs, or was killed */
        H5Eclear2(H5E_DEFAULT);
        f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
        if (f >= 0 && swmr) *swmr = 1;
    }
    H5Pclose(fapl);
    return f;
}

static void probe_strings_of(hid_t obj, int is_dset, const char *name) {
    char err[256];
    int na = H5Aget_num_attrs(obj);
    for (int i = 0; i < na && i < 100000; i++) {
        hid_t a = H5Aopen_by_idx(obj, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, (hsize_t)i, H5P_DEFAULT,
                                 H5P_DEFAULT);
        if (a < 0)
            a = H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i, H5P_DEFAULT,
                               H5P_DEFAULT);
        if (a < 0) continue;
        hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
        char **v = NULL;
        size_t n = 0;
        if (t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING &&
            h5u_read_strings(a, t, sp, 1, name, &v, &n, err, sizeof err) == 0)
            h5u_free_texts(v, n);
        if (t >= 0) H5Tclose(t);
        if (sp >= 0) H5Sclose(sp);
        H5Aclose(a);
    }
    if (!is_dset) return;
    hid_t t = H5Dget_type(obj), sp = H5Dget_space(obj);
    char **v = NULL;
    size_t n = 0;
    if (t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING &&
        h5u_read_strings(obj, t, sp, 0, name, &v, &n, err, sizeof err) == 0)
        h5u_free_texts(v, n);
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
}

static herr_t probe_visit(hid_t root, const char *name, const H5O_info_t *info, void *data) {
    (void)data;
    hid_t o = H5Oopen(root, name, H5P_DEFAULT);
    if (o < 0) return 0;
    probe_strings_of(o, info->type == H5O_TYPE_DATASET, name);
    H5Oclose(o);
    return 0;
}

#define PROBE_LIMIT_S 5 /* the probe reads little: longer means libhdf5 is looping */

/* Set under ASan/UBSan (weak: absent otherwise). */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* In a child: read every string of the file; exit 0 if nothing crashed. */
static int probe_strings(const char *path, h5u_probe_fn probe, void *ctx, char *err,
                         size_t errlen) {
    /* Under valgrind (make valgrind sets ORIONSIM_VALGRIND) the forked child would be
     * checked too and report libhdf5's state at _exit as leaks: the test files there are
     * our own, so the probe is skipped. */
    if (getenv("ORIONSIM_VALGRIND")) return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 0; /* cannot probe: go on without */
    if (pid == 0) {
        /* the child dies quietly: default signal actions (no handler of a sanitizer or a
         * fuzzer reports its crash as the parent's), no death callback, a time limit */
        if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(NULL);
        int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 2);
        alarm(PROBE_LIMIT_S);
        hid_t f = open_raw(path, NULL);
        if (f >= 0) {
            probe_strings_of(f, 0, "/");
            H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, probe_visit, NULL);
            if (probe) probe(f, ctx); /* the caller's own reads; its errors are the parent's */
        }
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        snprintf(err, errlen,
                 "corrupt HDF5 file: reading it does not end (libhdf5 still at it "
                 "after %d s)",
                 PROBE_LIMIT_S);
    else
        snprintf(err, errlen, "corrupt HDF5 file: reading it %s %d",
                 WIFSIGNALED(status) ? "crashes libhdf5 with signal" : "fails with status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    return -1;
}

hid_t h5u_file_open_read(const char *path, int *swmr, h5u_probe_fn probe, void *ctx, char *err,
                         size_t errlen) {
    h5u_quiet();
    if (swmr) *swmr = 0;
    struct stat st;
    if (stat(path, &st)) {
        snprintf(err, errlen, "%s", strerror(errno));
        return H5I_INVALID_HID;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "is a directory, not an HDF5 file");
        return H5I_INVALID_HID;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file (a FIFO, device or socket)");
        return H5I_INVALID_HID;
    }
    if (access(path, R_OK)) {
        snprintf(err, errlen, "%s", strerror(errno));
        return H5I_INVALID_HID;
    }
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(err, errlen, "not an HDF5 file");
        return H5I_INVALID_HID;
    }
    if (probe_strings(path, probe, ctx, err, errlen)) return H5I_INVALID_HID;
    hid_t f = open_raw(path, swmr);
    if (f < 0) {
        H5U_FAIL(err, errlen, "cannot open", "the file");
        return H5I_INVALID_HID;
    }
    return f;
}

hid_t h5u_image_open_read(const void *buf, size_t len, h5u_probe_fn probe, void *ctx, char *err,
                          size_t errlen) {
    h5u_quiet();
    if (len < 8 || memcmp(buf, "\211HDF\r\n\032\n", 8)) {
        snprintf(err, errlen, "not an HDF5 file");
        return H5I_INVALID_HID;
    }
    image_buf = buf;
    image_len = len;
    hid_t f = H5I_INVALID_HID;
    if (!probe_strings("image", probe, ctx, err, errlen)) {
        f = open_raw("image", NULL);
        if (f < 0) H5U_FAIL(err, errlen, "cannot open", "the file image");
    }
    image_buf = NULL;
    image_len = 0;
    return f;
}
