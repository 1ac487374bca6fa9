/* netmodel/nm_alloc.c: checked allocation for the network model (see nm_alloc.h). */
#include "netmodel/nm_alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void *nm_xrealloc_at(void *p, size_t n, const char *file, int line) {
    void *q = realloc(p, n ? n : 1);
    if (!q) nm_fatal_at(file, line, "out of memory (%zu bytes)", n);
    return q;
}

void *nm_xcalloc_at(size_t count, size_t size, const char *file, int line) {
    void *q = calloc(count ? count : 1, size ? size : 1);
    if (!q) nm_fatal_at(file, line, "out of memory (%zu x %zu bytes)", count, size);
    return q;
}

void nm_fatal_at(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "netmodel: %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}
