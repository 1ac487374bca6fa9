/* sim/scenario/scenario_read.h: schema-checked access to a scenario tree (loader internals).
 *
 * sr_check_tree walks the whole tree once: every key must be in the schema (else
 * "unknown key", with a suggestion), every value must have the key's type, range and
 * choices. After it, the typed getters below read values with their defaults:
 * each returns 1 when the value is present or defaulted, 0 when it is absent without a
 * default, -1 on error (a missing required key). Getters take a base node (an element of
 * a list of groups) or NULL for a path from the root, and the schema path of the key.
 *
 * Messages: "FILE:LINE: key.path: message", the location being the value's own, or for
 * a missing key the nearest enclosing group that exists.
 */
#ifndef SIM_SCENARIO_READ_H
#define SIM_SCENARIO_READ_H

#include <stddef.h>

#include "sim/scenario/scenario_schema.h"
#include "sim/scenario/scenario_tree.h"

typedef struct {
    sn_node *root;
    const char *main_path; /* scenario file, for messages without a location */
    const char *main_dir;  /* base of relative default paths */
    char *err;
    size_t errlen;
} sr_ctx;

/* Format an error located at `at` (or the scenario file when at has no location) about
 * instance path `path`. Always returns -1. */
int sr_fail(sr_ctx *c, const sn_node *at, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Unknown keys, types, ranges, choices of the whole tree. 0 or -1. */
int sr_check_tree(sr_ctx *c);
/* Check one value against its schema row (also used for --set). 0 or -1. */
int sr_check_value(sr_ctx *c, const sk_entry *e, const sn_node *n);

/* The node of a key, or NULL when absent. */
sn_node *sr_node(sr_ctx *c, sn_node *base, const char *spath);
/* Instance path of a key under base, for messages. */
const char *sr_ipath(sn_node *base, const char *spath, char *buf, size_t len);

int sr_int(sr_ctx *c, sn_node *base, const char *spath, long long *out);
int sr_float(sr_ctx *c, sn_node *base, const char *spath, double *out);
int sr_bool(sr_ctx *c, sn_node *base, const char *spath, int *out);
/* A copy of the string (caller frees). */
int sr_string(sr_ctx *c, sn_node *base, const char *spath, char **out);
/* Index of the value among the key's choices. */
int sr_enum(sr_ctx *c, sn_node *base, const char *spath, int *out);
/* A path resolved against the directory of the file that set it (a default: against
 * the scenario's directory; an override: against the working directory). Caller frees. */
int sr_path(sr_ctx *c, sn_node *base, const char *spath, char **out);
/* Lists: the node (an array or list of scalars), or NULL when absent. */
sn_node *sr_list(sr_ctx *c, sn_node *base, const char *spath);
/* Value of element i of a number list (int or float). */
double sr_num(const sn_node *elem);

/* The node of a key that must be present, or NULL with "missing required key". */
sn_node *sr_need(sr_ctx *c, sn_node *base, const char *spath);
/* -1 with "key: not used when <why>; remove it" if the key is present, else 0. */
int sr_refuse(sr_ctx *c, sn_node *base, const char *spath, const char *why);
/* -1 with "key: required when <why>" if the key is absent, else 0. */
int sr_require(sr_ctx *c, sn_node *base, const char *spath, const char *why);

#endif
