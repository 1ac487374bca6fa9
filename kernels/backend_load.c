/* kernels/backend_load.c: opening a backend by name (kb_open / kb_close of backend.h).
 *
 * "cpu"  -> kb_cpu_open().
 * "cuda" -> the plugin liborionsim-cuda.so, opened with dlopen so that the orionsim
 *           binary itself never links CUDA libraries and runs where they are missing.
 *           Looked for, in order: $ORIONSIM_PLUGIN_DIR, the directory of the running
 *           executable (/proc/self/exe), then the dynamic linker's default search path.
 *           Its two C symbols, orionsim_cuda_open and orionsim_cuda_device_count, are
 *           resolved with dlsym. Any failure (file missing, libcudart missing, no GPU)
 *           comes back as NULL with the reason in err, never as a crash.
 * "auto" -> CUDA when the plugin loads, reports at least one device and opens; else the
 *           CPU, with one line on stderr saying why.
 * The plugin stays loaded for the life of the process (unloading CUDA libraries at run
 * time is fragile); loading is serialised with a mutex.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/backend.h"

#define KB_PLUGIN_NAME "liborionsim-cuda.so"

static pthread_mutex_t plugin_lock = PTHREAD_MUTEX_INITIALIZER;
static void *plugin_handle;
static kb_cuda_open_fn plugin_open;
static kb_cuda_count_fn plugin_count;

static void set_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

/* Tries dlopen(path); on failure appends "path: reason" to why (a ';'-separated list). */
static void *try_dlopen(const char *path, char *why, size_t whylen) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        size_t used = strlen(why);
        if (used < whylen)
            snprintf(why + used, whylen - used, "%s%s", used ? "; " : "", e ? e : path);
    }
    return h;
}

/* Loads the plugin and resolves its symbols; caller holds plugin_lock. */
static int load_plugin_locked(char *err, size_t errlen) {
    char why[2048] = "";
    char path[PATH_MAX + sizeof KB_PLUGIN_NAME + 2];
    void *h = NULL;

    const char *dir = getenv("ORIONSIM_PLUGIN_DIR");
    if (dir && *dir) {
        snprintf(path, sizeof path, "%s/%s", dir, KB_PLUGIN_NAME);
        h = try_dlopen(path, why, sizeof why);
    }
    if (!h) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                snprintf(path, sizeof path, "%s/%s", exe, KB_PLUGIN_NAME);
                h = try_dlopen(path, why, sizeof why);
            }
        }
    }
    if (!h) h = try_dlopen(KB_PLUGIN_NAME, why, sizeof why);
    if (!h) {
        char msg[2200];
        snprintf(msg, sizeof msg, "cannot load the CUDA plugin (%s)", why);
        set_err(err, errlen, msg);
        return -1;
    }

    /* dlsym returns void *; copying it into a function pointer is the POSIX idiom */
    void *so = dlsym(h, "orionsim_cuda_open");
    void *sc = dlsym(h, "orionsim_cuda_device_count");
    if (!so || !sc) {
        set_err(err, errlen,
                "the CUDA plugin lacks orionsim_cuda_open / orionsim_cuda_device_count");
        dlclose(h);
        return -1;
    }
    memcpy(&plugin_open, &so, sizeof plugin_open);
    memcpy(&plugin_count, &sc, sizeof plugin_count);
    plugin_handle = h;
    return 0;
}

/* Loads the plugin once (later calls reuse it); 0 on success, else -1 with err. */
static int load_plugin(char *err, size_t errlen) {
    pthread_mutex_lock(&plugin_lock);
    int rc = plugin_handle ? 0 : load_plugin_locked(err, errlen);
    pthread_mutex_unlock(&plugin_lock);
    return rc;
}

static kb_backend *open_cuda(int device, kb_dtype act, char *err, size_t errlen) {
    if (load_plugin(err, errlen) != 0) return NULL;
    kb_backend *be = plugin_open(device, act, err, errlen);
    if (!be && err && errlen && !err[0]) set_err(err, errlen, "the CUDA backend did not open");
    return be;
}

kb_backend *kb_open(const char *which, int device, kb_dtype act, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    if (!which) which = "auto";
    if (strcmp(which, "cpu") == 0) return kb_cpu_open();
    if (strcmp(which, "cuda") == 0) return open_cuda(device, act, err, errlen);
    if (strcmp(which, "auto") == 0) {
        char why[1024] = "";
        kb_backend *be = NULL;
        if (load_plugin(why, sizeof why) == 0) {
            /* With no device, open still runs: it fails and says why (no driver,
             * driver too old, ...), which is more useful than "no device". */
            int ndev = plugin_count();
            be = plugin_open(device, act, why, sizeof why);
            if (!be && !why[0])
                snprintf(why, sizeof why, "%s", ndev > 0 ? "open failed" : "no CUDA device");
        }
        if (be) return be;
        fprintf(stderr, "orionsim: CUDA backend unavailable (%s); using the CPU\n",
                why[0] ? why : "unknown reason");
        return kb_cpu_open();
    }
    char msg[256];
    snprintf(msg, sizeof msg, "unknown backend \"%.64s\" (expected cpu, cuda or auto)", which);
    set_err(err, errlen, msg);
    return NULL;
}

void kb_close(kb_backend *be) {
    if (be && be->close) be->close(be);
}
