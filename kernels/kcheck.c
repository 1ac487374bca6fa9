/* kernels/kcheck.c: error and allocation helpers of the kernels library (see kcheck.h). */
#include "kernels/kcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int k_fail(char *msg, size_t msglen, const char *fmt, ...) {
    if (msg && msglen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void k_abort_at(const char *file, int line, const char *msg) {
    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
    abort();
}

void *k_calloc_at(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "%s:%d: out of memory (%zu × %zu bytes)\n", file, line, n, size);
        exit(1);
    }
    return p;
}
