/* sim/scenario/scenario_schema.h: every key a scenario file may hold, in one table.
 *
 * One row per key: its dotted path, type, range, default, whether it is required,
 * units and a one-line doc. The table drives unknown-key detection, type and range
 * checks (sim/scenario/scenario_read.c), `--set` parsing (sim/scenario/scenario_set.c) and
 * `orionsim check --keys`. Keys inside lists of groups use "[]" for the index:
 * "swarm.device_mix[].fraction" is the fraction of every element of swarm.device_mix.
 *
 * Defaults are written as text in the table. A default in parentheses, such as
 * "(2 x swarm.replicas)", is derived by the loader from other keys; "-" means the key
 * is optional and has no default (its absence means something, told in the doc).
 * Requirements that depend on other keys (for example swarm.bandwidth.sigma only with
 * kind = "lognormal") are checked by the loader and stated in the doc.
 */
#ifndef SIM_SCENARIO_SCHEMA_H
#define SIM_SCENARIO_SCHEMA_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
    SK_GROUP,      /* { ... } */
    SK_GROUP_LIST, /* ( { ... }, { ... } ) */
    SK_INT,
    SK_FLOAT, /* integers are accepted too */
    SK_BOOL,
    SK_STRING,
    SK_ENUM,     /* a string, one of `choices` ("a|b|c") */
    SK_PATH,     /* a string naming a file, relative to the file that sets it */
    SK_INT_LIST, /* [1, 2, 3] */
    SK_FLOAT_LIST,
    SK_STRING_LIST,
    SK_FLOAT_MATRIX /* ( [..], [..] ): a list of float arrays */
} sk_type;

enum {
    SKF_REQUIRED = 1, /* must be present (its group too) */
    SKF_MIN_OPEN = 2, /* value > min rather than >= min */
    SKF_MAX_OPEN = 4  /* value < max rather than <= max */
};

typedef struct {
    const char *path;
    sk_type type;
    int flags;
    double min, max;  /* numbers and every element of number lists */
    const char *dflt; /* default as text; "(..)" derived; NULL none */
    const char *units;
    const char *choices; /* SK_ENUM */
    const char *doc;
} sk_entry;

extern const sk_entry sk_schema[];
extern const int sk_schema_len;

/* Keys that exclude one another (at most one of them may be given). Setting one of
 * them in a file that extends a base, or with --set, drops the others set so far, so a
 * variant can say `device_mix = (...)` over a base that says `device = "..."`. */
typedef struct {
    const char *group;   /* schema path of the group holding them */
    const char *keys[5]; /* NULL-terminated */
} sk_alternative;
extern const sk_alternative sk_alternatives[];
extern const int sk_alternatives_len;
/* Keys that only apply while another key of the same group has a given string value
 * (output.events_cycles only with output.events = "first"). A --set that gives the
 * controlling key another value drops the dependent key, so `--set output.events=all`
 * works on a file that also says events_cycles; so does a variant file (`base = ...`)
 * that sets the controlling key: the base's dependent key goes, the variant's own stays
 * (and is refused if it does not apply). */
typedef struct {
    const char *group, *key, *value, *dependent;
} sk_dependent;
extern const sk_dependent sk_dependents[];
extern const int sk_dependents_len;

/* The alternative set holding key `leaf` of group `group`, or NULL. */
const sk_alternative *sk_alternative_of(const char *group, const char *leaf);

/* The row of a schema path ("a.b[].c"), or NULL. */
const sk_entry *sk_find(const char *schema_path);
/* Instance path -> schema path: "a.b[3].c" -> "a.b[].c". Returns 0, -1 if too long. */
int sk_normalize(const char *instance, char *out, size_t len);
const char *sk_type_name(sk_type t);
/* 1 if `value` is one of e->choices. */
int sk_enum_ok(const sk_entry *e, const char *value);
/* A close known key for an unknown schema path, or NULL. */
const char *sk_suggest(const char *schema_path);
/* The table as text: path, type, default, units, range and doc. */
void sk_print(FILE *f);
/* Self-check of the table (no duplicate paths, every row documented, every parent a
 * group row, defaults parse as their type). 0, or -1 with err filled. */
int sk_self_check(char *err, size_t errlen);

#endif
