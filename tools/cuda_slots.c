/* tools/cuda_slots.c: a stand-in CUDA plugin that shows N device slots on fewer GPUs.
 *
 * Live mode spreads its peers over compute.gpus CUDA devices (sim/live.c: peer p on
 * device p % n, one backend each: its own streams, cuBLAS handle and buffers; moves
 * between devices go through the host). On a machine with one GPU, device 1 does not
 * exist, so that several-GPU path cannot run there. This library, built as
 * liborionsim-cuda.so in a directory of its own and found through ORIONSIM_PLUGIN_DIR,
 * loads the real plugin and opens slot d on GPU d % (real device count), so two or more
 * backends share one GPU and the several-device code runs as it would on several GPUs.
 *
 *   cc -O2 -shared -fPIC -I. tools/cuda_slots.c -o build/gpu-slots/liborionsim-cuda.so -ldl
 *   ORIONSIM_CUDA_REAL=/abs/path/liborionsim-cuda.so ORIONSIM_CUDA_SLOTS=2 \
 *   ORIONSIM_PLUGIN_DIR=build/gpu-slots build/bundle/bench_live --backend cuda --gpus 2 ...
 *
 * ORIONSIM_CUDA_REAL   the real plugin (required; an absolute path)
 * ORIONSIM_CUDA_SLOTS  how many slots (default 2); slot numbers at or past it fail to
 *                      open, as a missing GPU would
 * Each opened slot says on stderr which GPU it landed on. Used by tools/gpu-run.sh
 * (step "slots"); nothing else builds or loads it.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"

kb_backend *orionsim_cuda_open(int device, kb_dtype act, char *err, size_t errlen);
int orionsim_cuda_device_count(void);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static kb_cuda_open_fn real_open;
static kb_cuda_count_fn real_count;
static char load_err[1024];

static int load_real(void)
{
    pthread_mutex_lock(&lock);
    if (!real_open && !load_err[0]) {
        const char *path = getenv("ORIONSIM_CUDA_REAL");
        if (!path || !*path) {
            snprintf(load_err, sizeof load_err, "cuda_slots: ORIONSIM_CUDA_REAL is not set (the real plugin's path)");
        } else {
            void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (!h) {
                const char *e = dlerror();
                snprintf(load_err, sizeof load_err, "cuda_slots: cannot load %s (%s)", path, e ? e : "?");
            } else {
                void *so = dlsym(h, "orionsim_cuda_open"), *sc = dlsym(h, "orionsim_cuda_device_count");
                if (!so || !sc) {
                    snprintf(load_err, sizeof load_err, "cuda_slots: %s lacks the plugin's symbols", path);
                } else {
                    memcpy(&real_open, &so, sizeof real_open);
                    memcpy(&real_count, &sc, sizeof real_count);
                }
            }
        }
    }
    int ok = real_open != NULL;
    pthread_mutex_unlock(&lock);
    return ok ? 0 : -1;
}

static int slots(void)
{
    const char *s = getenv("ORIONSIM_CUDA_SLOTS");
    int n = s && *s ? atoi(s) : 2;
    return n > 0 ? n : 1;
}

int orionsim_cuda_device_count(void)
{
    if (load_real()) return 0;
    int n = real_count();
    return n > 0 ? (slots() > n ? slots() : n) : 0;
}

kb_backend *orionsim_cuda_open(int device, kb_dtype act, char *err, size_t errlen)
{
    if (load_real()) {
        if (err && errlen) snprintf(err, errlen, "%s", load_err);
        return NULL;
    }
    int n = real_count();
    if (n <= 0) return real_open(device, act, err, errlen); /* it says why */
    int s = slots() > n ? slots() : n;
    if (device < 0 || device >= s) {
        if (err && errlen) snprintf(err, errlen, "cuda_slots: slot %d does not exist (%d slots on %d GPU%s)", device, s, n,
                                    n == 1 ? "" : "s");
        return NULL;
    }
    kb_backend *be = real_open(device % n, act, err, errlen);
    if (be) fprintf(stderr, "cuda_slots: slot %d -> GPU %d (%d slots on %d GPU%s)\n", device, device % n, s, n,
                    n == 1 ? "" : "s");
    return be;
}
