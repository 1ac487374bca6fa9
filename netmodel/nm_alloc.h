/* netmodel/nm_alloc.h: checked allocation and fatal caller-bug reports for netmodel.
 *
 * netmodel has no error channel for "cannot happen" conditions: running out of memory
 * or being called with arguments that break an API contract (a negative delay, an
 * unknown node) prints "netmodel: file:line: message" to stderr and aborts, so the
 * fault is found where it happened. Input validation belongs to the callers (the
 * scenario and flows-file loaders), which report bad input with exit code 2.
 */
#ifndef NETMODEL_NM_ALLOC_H
#define NETMODEL_NM_ALLOC_H

#include <stddef.h>

/* realloc that never returns NULL: on failure prints file:line and aborts. n == 0 is
 * treated as 1 so the result is always a valid pointer to free. */
void *nm_xrealloc_at(void *p, size_t n, const char *file, int line);
#define nm_xrealloc(p, n) nm_xrealloc_at((p), (n), __FILE__, __LINE__)
#define nm_xcalloc(c, s) nm_xcalloc_at((c), (s), __FILE__, __LINE__)
void *nm_xcalloc_at(size_t count, size_t size, const char *file, int line);

/* Print "netmodel: file:line: message" and abort(). */
void nm_fatal_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
#define NM_FATAL(...) nm_fatal_at(__FILE__, __LINE__, __VA_ARGS__)

/* Abort with a file:line message naming the broken condition when cond is false. */
#define NM_REQUIRE(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) nm_fatal_at(__FILE__, __LINE__, __VA_ARGS__);                                 \
    } while (0)

#endif
