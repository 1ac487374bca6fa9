/* sim/base/platform.c: CPU, BLAS and GPU of this machine (platform.h). */
#include "sim/base/platform.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* OpenBLAS's own queries, when OpenBLAS is linked in (weak: NULL otherwise). */
extern char *openblas_get_config(void) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

static char noted_backend[16] = "none";
static int noted_device = -1;

void sim_platform_note_backend(const char *backend, int device) {
    snprintf(noted_backend, sizeof noted_backend, "%s", backend ? backend : "none");
    noted_device = device;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t') i++;
    if (i) memmove(s, s + i, strlen(s + i) + 1);
}

/* The value of the first "key<spaces>: value" line of a file, or 0 when none. */
static int file_value(const char *path, const char *key, char *out, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[512];
    size_t kl = strlen(key);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl)) continue;
        char *colon = strchr(line + kl, ':');
        if (!colon) continue;
        snprintf(out, n, "%s", colon + 1);
        trim(out);
        found = 1;
    }
    fclose(f);
    return found;
}

void sim_platform_blas_version(const char *config, char *out, int outlen) {
    snprintf(out, (size_t)outlen, "unknown");
    if (!config || strncmp(config, "OpenBLAS ", 9)) return;
    const char *v = config + 9;
    size_t n = strcspn(v, " ");
    if (n && n < (size_t)outlen) snprintf(out, (size_t)outlen, "%.*s", (int)n, v);
}

/* The model of GPU `device` (the driver lists GPUs by bus id; ordinal = sorted order). */
static void gpu_model(int device, char *out, size_t n) {
    snprintf(out, n, "cuda device %d", device);
    const char *dir = "/proc/driver/nvidia/gpus";
    struct dirent **names = NULL;
    int k = scandir(dir, &names, NULL, alphasort), seen = 0;
    for (int i = 0; i < k; i++) {
        if (names[i]->d_name[0] != '.' && seen++ == device) {
            char path[512], model[SIM_PLATFORM_TEXT];
            snprintf(path, sizeof path, "%s/%s/information", dir, names[i]->d_name);
            if (file_value(path, "Model", model, sizeof model)) snprintf(out, n, "%s", model);
        }
        free(names[i]);
    }
    free(names);
}

void sim_platform_detect(sim_platform *p) {
    memset(p, 0, sizeof *p);
    if (!file_value("/proc/cpuinfo", "model name", p->cpu, sizeof p->cpu))
        snprintf(p->cpu, sizeof p->cpu, "unknown");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p->cores = cores > 0 ? (int)cores : -1;
    const char *cfg = openblas_get_config ? openblas_get_config() : NULL;
    snprintf(p->blas, sizeof p->blas, "%s", cfg ? cfg : "unknown");
    trim(p->blas);
    sim_platform_blas_version(cfg, p->blas_version, (int)sizeof p->blas_version);
    p->blas_threads = openblas_get_num_threads ? openblas_get_num_threads() : -1;
    const char *omp = getenv("OMP_NUM_THREADS");
    p->omp_threads = omp ? atoi(omp) : 0;
    snprintf(p->backend, sizeof p->backend, "%s", noted_backend);
    if (!strcmp(noted_backend, "cuda"))
        gpu_model(noted_device < 0 ? 0 : noted_device, p->gpu, sizeof p->gpu);
    else snprintf(p->gpu, sizeof p->gpu, "none");
}
