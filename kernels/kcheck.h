/* kernels/kcheck.h: the kernels library's one error and allocation helpers.
 *
 * kernels/ depends on nothing of the project, so it has its own: a message filler for
 * validators (returns -1, so `return k_fail(msg, len, ...)` reads as the failure), an
 * abort for broken invariants that names the file and line, and a checked calloc that
 * exits naming the file and line when memory runs out. */
#ifndef KERNELS_KCHECK_H
#define KERNELS_KCHECK_H

#include <stddef.h>

/* Fill msg (if not NULL and msglen > 0) and return -1. */
int k_fail(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "file:line: msg" on stderr, then abort(): a broken invariant of the caller. */
void k_abort_at(const char *file, int line, const char *msg) __attribute__((noreturn));

/* calloc that never returns NULL: out of memory prints file:line and the size, exit 1. */
void *k_calloc_at(size_t n, size_t size, const char *file, int line);
#define K_CALLOC(n, size) k_calloc_at((n), (size), __FILE__, __LINE__)

#endif
