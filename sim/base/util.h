/* sim/base/util.h: checked allocation, errors and exit codes shared by the simulator.
 *
 * Every failure names the source file and line. Exit codes are the CLI's contract:
 * 0 ok, 1 run failure, 2 bad input (scenario, flags, trace file).
 */
#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stddef.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_RUN = 1, EXIT_INPUT = 2 };

void *sim_xmalloc_at(size_t n, const char *file, int line);
void *sim_xcalloc_at(size_t count, size_t size, const char *file, int line);
void *sim_xrealloc_at(void *p, size_t n, const char *file, int line);
char *sim_xstrdup_at(const char *s, const char *file, int line);
#define xmalloc(n) sim_xmalloc_at((n), __FILE__, __LINE__)
#define xcalloc(c, s) sim_xcalloc_at((c), (s), __FILE__, __LINE__)
#define xrealloc(p, n) sim_xrealloc_at((p), (n), __FILE__, __LINE__)
#define xstrdup(s) sim_xstrdup_at((s), __FILE__, __LINE__)

/* Print "orionsim: <message>" to stderr and exit with `code`. */
void sim_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* Internal failure: "orionsim: file:line: message", exit 1. */
#define SIM_FAIL(...) sim_fail_at(__FILE__, __LINE__, __VA_ARGS__)
void sim_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* Strict number parsing: the whole string must be a number. Return 0 on success. */
int sim_parse_double(const char *s, double *out);
int sim_parse_long(const char *s, long *out);

/* The current UTC time as ISO 8601 ("2026-12-04T20:19:52Z"), or SOURCE_DATE_EPOCH's
 * when that is set (reproducible files). */
void sim_iso_now(char *buf, size_t n);

/* "line N of the scenario text: NAME_A reads '...', NAME_B's reads '...'" (or "ends
 * there") for the first line where texts a and b differ; names like "the checkpoint's". */
void sim_first_difference(const char *a, const char *b, const char *name_a, const char *name_b,
                          char *out, size_t len);

#endif
