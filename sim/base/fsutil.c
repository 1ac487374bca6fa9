/* sim/base/fsutil.c: directory helpers (see fsutil.h). */
#include "sim/base/fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/base/util.h"

int sim_mkdir_p(const char *dir) {
    if (!*dir) {
        errno = ENOENT;
        return -1;
    }
    char *d = xstrdup(dir);
    int rc = 0;
    for (char *p = d + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(d, 0777) && errno != EEXIST) rc = -1;
            *p = c;
            if (rc || !c) break;
        }
    }
    struct stat st;
    if (!rc && (stat(d, &st) || !S_ISDIR(st.st_mode))) {
        if (!rc && !stat(d, &st)) errno = ENOTDIR;
        rc = -1;
    }
    free(d);
    return rc;
}

int sim_mkdir_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char *d = xmalloc((size_t)(slash - path) + 1);
    memcpy(d, path, (size_t)(slash - path));
    d[slash - path] = 0;
    int rc = sim_mkdir_p(d);
    free(d);
    return rc;
}
