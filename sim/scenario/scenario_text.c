/* sim/scenario/scenario_text.c: text and path helpers of the scenario loader. */
#include "sim/scenario/scenario_text.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/fsutil.h"
#include "sim/base/util.h"

char *st_read_file(const char *path, char *err, size_t errlen) {
    size_t n = 0;
    char *buf = sim_file_read(path, SIM_FILE_MAX_TEXT, &n, err, errlen);
    if (!buf) return NULL;
    if (strlen(buf) != n) {
        snprintf(err, errlen, "%s: cannot read: the file contains a NUL byte (not text)", path);
        free(buf);
        return NULL;
    }
    return buf;
}

char *st_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    size_t n = (size_t)(slash - path);
    char *d = xmalloc(n + 1);
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

char *st_join_path(const char *dir, const char *rel) {
    if (rel[0] == '/' || !dir || !strcmp(dir, ".") || !dir[0]) return xstrdup(rel);
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
    return p;
}

static int ident_char(int c) { return isalnum(c) || c == '_' || c == '-' || c == '*'; }

int st_find_wide_int(const char *t) {
    int line = 1;
    const char *p = t;
    while (*p) {
        if (*p == '\n') {
            line++;
            p++;
        } else if (*p == '#' || (p[0] == '/' && p[1] == '/') || (*p == '@')) {
            while (*p && *p != '\n') p++; /* comments and @include lines */
        } else if (p[0] == '/' && p[1] == '*') {
            p += 2;
            while (*p && !(p[0] == '*' && p[1] == '/')) {
                if (*p == '\n') line++;
                p++;
            }
            if (*p) p += 2;
        } else if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) p++;
                if (*p == '\n') line++;
                p++;
            }
            if (*p) p++;
        } else if (isalpha((unsigned char)*p) || *p == '_' || *p == '*') {
            while (*p && ident_char((unsigned char)*p)) p++;
        } else if (isdigit((unsigned char)*p) ||
                   ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1]))) {
            int neg = *p == '-';
            if (*p == '-' || *p == '+') p++;
            if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                p += 2;
                uint64_t v = 0;
                int wide = 0;
                while (isxdigit((unsigned char)*p)) {
                    int d = isdigit((unsigned char)*p) ? *p - '0'
                                                       : tolower((unsigned char)*p) - 'a' + 10;
                    if (v > (UINT64_MAX >> 4)) wide = 1;
                    v = (v << 4) | (uint64_t)d;
                    p++;
                }
                if (*p == 'L') {
                    while (*p == 'L') p++;
                } else if (wide || v > 0x7fffffffULL) {
                    return line;
                }
                continue;
            }
            uint64_t v = 0;
            int wide = 0;
            while (isdigit((unsigned char)*p)) {
                if (v > (UINT64_MAX - 9) / 10) wide = 1;
                v = v * 10 + (uint64_t)(*p - '0');
                p++;
            }
            if (*p == '.' || *p == 'e' || *p == 'E') {
                /* a float: skip its fraction and exponent */
                if (*p == '.') {
                    p++;
                    while (isdigit((unsigned char)*p)) p++;
                }
                if (*p == 'e' || *p == 'E') {
                    p++;
                    if (*p == '+' || *p == '-') p++;
                    while (isdigit((unsigned char)*p)) p++;
                }
                continue;
            }
            if (*p == 'L') {
                while (*p == 'L') p++;
                continue;
            }
            uint64_t limit = neg ? 0x80000000ULL : 0x7fffffffULL;
            if (wide || v > limit) return line;
        } else {
            p++;
        }
    }
    return 0;
}

int st_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return (int)(la > lb ? la : lb);
    int row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = diag + cost;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}
