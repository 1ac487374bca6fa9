/* sim/scenario/scenario_text.h: small text and path helpers of the scenario loader.
 *
 * Reading whole files (the trace keeps every scenario file verbatim), directory and
 * path joining (relative paths in a scenario are relative to the file that wrote
 * them), the wide-integer scan that guards against libconfig 1.5 wrapping literals
 * beyond 32 bits, and an edit distance for "did you mean" suggestions.
 */
#ifndef SIM_SCENARIO_TEXT_H
#define SIM_SCENARIO_TEXT_H

#include <stddef.h>

/* The whole file as a NUL-terminated string (caller frees), or NULL with err filled
 * ("PATH: cannot read: reason"). */
char *st_read_file(const char *path, char *err, size_t errlen);

/* Directory part of a path ("." when there is none); caller frees. */
char *st_dirname(const char *path);
/* dir/rel, or rel itself when it is absolute or dir is "." ; caller frees. */
char *st_join_path(const char *dir, const char *rel);

/* 1-based line of the first decimal or hexadecimal integer literal (outside comments
 * and strings, without an L suffix) that does not fit in 32 bits; 0 if none. */
int st_find_wide_int(const char *text);

/* Levenshtein distance between a and b (case-sensitive). */
int st_edit_distance(const char *a, const char *b);

#endif
