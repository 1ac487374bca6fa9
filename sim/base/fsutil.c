/* sim/base/fsutil.c: directory helpers and distrustful file reads (see fsutil.h). */
#include "sim/base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

int sim_file_check(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot read: %s, not a regular file", path, kind_of(st.st_mode));
        return -1;
    }
    return 0;
}

FILE *sim_file_open(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st = {0};
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot read: %s, not a regular file", path, kind_of(st.st_mode));
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

char *sim_file_read(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
    FILE *f = sim_file_open(path, err, errlen);
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    int too_big = 0;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max) {
                too_big = 1;
                break;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n > max) {
            too_big = 1;
            break;
        }
    }
    int failed = ferror(f);
    int saved = errno;
    if (fclose(f) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (too_big || n > max) {
        snprintf(err, errlen, "%s: cannot read: larger than %zu bytes", path, max);
        free(buf);
        return NULL;
    }
    if (failed) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(saved));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* The quoted name of an "@include" directive starting at p (after blanks), or NULL. */
static char *include_name(const char *p) {
    if (strncmp(p, "@include", 8)) return NULL;
    p += 8;
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '"') return NULL;
    p++;
    const char *q = p;
    while (*q && *q != '"' && *q != '\n') q++;
    if (*q != '"') return NULL;
    char *s = xmalloc((size_t)(q - p) + 1);
    memcpy(s, p, (size_t)(q - p));
    s[q - p] = 0;
    return s;
}

static int check_includes(const char *text, const char *path, const char *dir, int depth, char *err,
                          size_t errlen) {
    int line = 1;
    for (const char *p = text; *p;) {
        const char *s = p;
        while (*s == ' ' || *s == '\t') s++;
        char *name = include_name(s);
        if (name) {
            /* libconfig 1.5 opens include_dir "/" name when an include dir is set */
            size_t n = strlen(dir ? dir : "") + strlen(name) + 2;
            char *full = xmalloc(n);
            if (dir && dir[0]) snprintf(full, n, "%s/%s", dir, name);
            else snprintf(full, n, "%s", name);
            char why[512];
            char *inc = NULL;
            int rc = 0;
            if (depth >= 10) {
                snprintf(why, sizeof why, "includes nested deeper than 10");
                rc = -1;
            } else if (!(inc = sim_file_read(full, SIM_FILE_MAX_TEXT, NULL, why, sizeof why))) {
                rc = -1;
            }
            if (rc) {
                snprintf(err, errlen, "%s:%d: @include \"%s\": %s", path, line, name, why);
            } else {
                rc = check_includes(inc, full, dir, depth + 1, err, errlen);
            }
            free(inc);
            free(full);
            free(name);
            if (rc) return rc;
        }
        while (*p && *p != '\n') p++;
        if (*p) {
            p++;
            line++;
        }
    }
    return 0;
}

int sim_file_check_includes(const char *text, const char *path, const char *dir, char *err,
                            size_t errlen) {
    return check_includes(text, path, dir, 0, err, errlen);
}
