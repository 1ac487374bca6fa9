/* sim/sweep/sweep_mpi_load.c: finding and opening the MPI plugin (sweep_mpi.h). */
#include "sim/sweep/sweep_mpi.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ORIONSIM_HAVE_MPI_BUILD
#define ORIONSIM_HAVE_MPI_BUILD 0
#endif

#if ORIONSIM_HAVE_MPI_BUILD
static const sweep_mpi_ops *loaded;

/* dlopen(path) with the symbols global (OpenMPI's components resolve libmpi's through
 * them); on failure appends "path: reason" to why. */
static void *try_open(const char *path, char *why, size_t whylen) {
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        const char *e = dlerror();
        size_t used = strlen(why);
        if (used < whylen)
            snprintf(why + used, whylen - used, "%s%s", used ? "; " : "", e ? e : path);
    }
    return h;
}

const sweep_mpi_ops *sweep_mpi_open(char *err, size_t errlen) {
    if (loaded) return loaded;
    char why[2048] = "", path[PATH_MAX + sizeof SWEEP_MPI_PLUGIN + 2];
    void *h = NULL;
    const char *dir = getenv("ORIONSIM_PLUGIN_DIR");
    if (dir && *dir) {
        snprintf(path, sizeof path, "%s/%s", dir, SWEEP_MPI_PLUGIN);
        h = try_open(path, why, sizeof why);
    }
    if (!h) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/%s", exe, SWEEP_MPI_PLUGIN);
            h = try_open(path, why, sizeof why);
        }
    }
    if (!h) h = try_open(SWEEP_MPI_PLUGIN, why, sizeof why);
    if (!h) {
        snprintf(err, errlen, "--mpi: cannot load the MPI plugin (%s)", why);
        return NULL;
    }
    void *sym = dlsym(h, "orionsim_sweep_mpi");
    sweep_mpi_entry_fn entry = NULL;
    if (sym) memcpy(&entry, &sym, sizeof entry); /* the POSIX idiom for dlsym */
    const sweep_mpi_ops *ops = entry ? entry() : NULL;
    if (!ops || ops->abi != SWEEP_MPI_ABI) {
        snprintf(err, errlen, "--mpi: %s is not this orionsim's MPI plugin (%s)", SWEEP_MPI_PLUGIN,
                 ops ? "another ABI version" : "no orionsim_sweep_mpi");
        dlclose(h);
        return NULL;
    }
    loaded = ops;
    return ops;
}
#else
const sweep_mpi_ops *sweep_mpi_open(char *err, size_t errlen) {
    snprintf(err, errlen,
             "--mpi: this orionsim was built without MPI support (mpicc was not found at build "
             "time, or MPI=0); install OpenMPI (apt-get install openmpi-bin libopenmpi-dev) "
             "and rebuild, or run without --mpi (-j N, or --shard I/N)");
    return NULL;
}
#endif
