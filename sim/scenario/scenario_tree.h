/* sim/scenario/scenario_tree.h: the parsed form of a scenario file, before validation.
 *
 * libconfig parses the text; its settings are copied into this small tree (sn_node) so
 * that the rest of the loader never touches libconfig types and can do what libconfig
 * 1.5 cannot: merge a variant over its base file key by key, graft `--set` values in,
 * and remember for every value the file and line it came from (a value from
 * `--set k=v` carries the file name "--set k=v" and line 0, so errors name the
 * argument). Every node owns its name, string value and origin; sn_free releases a
 * whole subtree.
 *
 * libconfig 1.5 silently wraps integer literals beyond 32 bits (3000000000 reads as
 * -1294967296). sn_parse_file and sn_parse_value scan the text for such literals first
 * and refuse them with file:line, asking for an L suffix or a float.
 */
#ifndef SIM_SCENARIO_TREE_H
#define SIM_SCENARIO_TREE_H

#include <stddef.h>

typedef enum { SN_INT, SN_FLOAT, SN_BOOL, SN_STRING, SN_GROUP, SN_ARRAY, SN_LIST } sn_type;

typedef struct sn_node {
    char *name; /* member name; NULL for elements of arrays and lists */
    sn_type type;
    long long i;           /* SN_INT */
    double f;              /* SN_FLOAT */
    int b;                 /* SN_BOOL */
    char *s;               /* SN_STRING */
    struct sn_node **kids; /* SN_GROUP members, SN_ARRAY / SN_LIST elements */
    int n_kids, cap_kids;
    struct sn_node *parent;
    char *file; /* where the value was written ("--set k=v" for overrides) */
    int line;   /* 1-based; 0 when there is no line (overrides) */
} sn_node;

/* Every file a parse read (the file itself and its @includes), in order. */
typedef struct {
    char **paths;
    int n;
} sn_files;

/* Parse a libconfig file into a tree (root: an SN_GROUP without a name). @include
 * paths are relative to the file's directory. Returns NULL with err filled
 * ("FILE:LINE: message"). Appends the files read to `files` when not NULL. */
sn_node *sn_parse_file(const char *path, sn_files *files, char *err, size_t errlen);

/* Parse `text` as the value of one setting (libconfig syntax: 12, 1.5e9, true, "s",
 * [1,2], (..), {..}). The nodes get file `origin`, line 0. NULL with err filled
 * (without a location prefix) on a syntax error. */
sn_node *sn_parse_value(const char *text, const char *origin, char *err, size_t errlen);

sn_node *sn_new(sn_type type, const char *name, const char *file, int line);
void sn_add(sn_node *parent, sn_node *kid);
/* Replace kid i of parent by `kid` (the old one is freed). */
void sn_replace(sn_node *parent, int i, sn_node *kid);
/* Detach and free member `name` of a group; no-op when absent. */
void sn_remove(sn_node *group, const char *name);
sn_node *sn_member(const sn_node *group, const char *name);
int sn_member_index(const sn_node *group, const char *name);
void sn_free(sn_node *n);
/* Set the origin of a whole subtree. */
void sn_set_origin(sn_node *n, const char *file, int line);

/* Merge `over` into `base`: groups merge member by member, everything else replaces.
 * `over` is consumed (its nodes move into base or are freed). */
void sn_merge(sn_node *base, sn_node *over);

/* The instance path of a node: "swarm.device_mix[1].fraction". Writes into buf. */
const char *sn_path(const sn_node *n, char *buf, size_t len);
/* "an integer", "a float", "a group", ... for messages. */
const char *sn_type_desc(sn_type t);

void sn_files_free(sn_files *f);

#endif
