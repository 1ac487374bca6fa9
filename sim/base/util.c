/* sim/base/util.c: checked allocation, errors, strict number parsing, timestamps. */
#include "sim/base/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void oom(size_t n, const char *file, int line) {
    fprintf(stderr, "orionsim: %s:%d: out of memory allocating %zu bytes\n", file, line, n);
    exit(EXIT_RUN);
}

void *sim_xmalloc_at(size_t n, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n, file, line);
    return p;
}

void *sim_xcalloc_at(size_t count, size_t size, const char *file, int line) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) oom(count * size, file, line);
    return p;
}

void *sim_xrealloc_at(void *p, size_t n, const char *file, int line) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n, file, line);
    return q;
}

char *sim_xstrdup_at(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *d = sim_xmalloc_at(n, file, line);
    memcpy(d, s, n);
    return d;
}

void sim_die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("orionsim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

void sim_fail_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "orionsim: %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_RUN);
}

int sim_parse_double(const char *s, double *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int sim_parse_long(const char *s, long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

void sim_iso_now(char *buf, size_t n) {
    time_t now = time(NULL);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    long v;
    if (sde && !sim_parse_long(sde, &v) && v >= 0) now = (time_t)v;
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "1970-01-01T00:00:00Z");
}

void sim_first_difference(const char *a, const char *b, const char *name_a, const char *name_b,
                          char *out, size_t len) {
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    char qa[160], qb[160];
    snprintf(qa, sizeof qa, *la ? "reads '%.*s'" : "ends there", na > 120 ? 120 : na, la);
    snprintf(qb, sizeof qb, *lb ? "reads '%.*s'" : "ends there", nb > 120 ? 120 : nb, lb);
    snprintf(out, len, "line %d of the scenario text: %s %s, %s %s", line, name_a, qa, name_b, qb);
}
