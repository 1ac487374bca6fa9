/* sim/scenario/scenario_tree.c: scenario tree: libconfig text -> sn_node, plus the tree operations the loader needs. */
#include "sim/scenario/scenario_tree.h"

#include <libconfig.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_text.h"
#include "sim/base/fsutil.h"
#include "sim/base/util.h"

sn_node *sn_new(sn_type type, const char *name, const char *file, int line) {
    sn_node *n = xcalloc(1, sizeof *n);
    n->type = type;
    n->name = name ? xstrdup(name) : NULL;
    n->file = xstrdup(file ? file : "?");
    n->line = line;
    return n;
}

void sn_add(sn_node *parent, sn_node *kid) {
    if (parent->n_kids == parent->cap_kids) {
        parent->cap_kids = parent->cap_kids ? 2 * parent->cap_kids : 8;
        parent->kids = xrealloc(parent->kids, (size_t)parent->cap_kids * sizeof *parent->kids);
    }
    parent->kids[parent->n_kids++] = kid;
    kid->parent = parent;
}

void sn_replace(sn_node *parent, int i, sn_node *kid) {
    sn_free(parent->kids[i]);
    parent->kids[i] = kid;
    kid->parent = parent;
}

int sn_member_index(const sn_node *group, const char *name) {
    if (!group || group->type != SN_GROUP) return -1;
    for (int i = 0; i < group->n_kids; i++)
        if (group->kids[i]->name && !strcmp(group->kids[i]->name, name)) return i;
    return -1;
}

sn_node *sn_member(const sn_node *group, const char *name) {
    int i = sn_member_index(group, name);
    return i < 0 ? NULL : group->kids[i];
}

void sn_remove(sn_node *group, const char *name) {
    int i = sn_member_index(group, name);
    if (i < 0) return;
    sn_free(group->kids[i]);
    memmove(group->kids + i, group->kids + i + 1,
            (size_t)(group->n_kids - i - 1) * sizeof *group->kids);
    group->n_kids--;
}

void sn_free(sn_node *n) {
    if (!n) return;
    for (int i = 0; i < n->n_kids; i++) sn_free(n->kids[i]);
    free(n->kids);
    free(n->name);
    free(n->s);
    free(n->file);
    free(n);
}

void sn_set_origin(sn_node *n, const char *file, int line) {
    free(n->file);
    n->file = xstrdup(file);
    n->line = line;
    for (int i = 0; i < n->n_kids; i++) sn_set_origin(n->kids[i], file, line);
}

void sn_merge(sn_node *base, sn_node *over) {
    for (int i = 0; i < over->n_kids; i++) {
        sn_node *o = over->kids[i];
        int j = sn_member_index(base, o->name);
        if (j < 0) {
            sn_add(base, o);
        } else if (base->kids[j]->type == SN_GROUP && o->type == SN_GROUP) {
            sn_merge(base->kids[j], o);
        } else {
            sn_replace(base, j, o);
        }
        over->kids[i] = NULL;
    }
    over->n_kids = 0;
    sn_free(over);
}

const char *sn_path(const sn_node *n, char *buf, size_t len) {
    if (!n->parent) {
        snprintf(buf, len, "%s", "");
        return buf;
    }
    char head[512];
    sn_path(n->parent, head, sizeof head);
    if (n->name) {
        snprintf(buf, len, "%s%s%s", head, head[0] ? "." : "", n->name);
    } else {
        int idx = 0;
        for (int i = 0; i < n->parent->n_kids; i++)
            if (n->parent->kids[i] == n) idx = i;
        snprintf(buf, len, "%s[%d]", head, idx);
    }
    return buf;
}

const char *sn_type_desc(sn_type t) {
    switch (t) {
    case SN_INT: return "an integer";
    case SN_FLOAT: return "a float";
    case SN_BOOL: return "a boolean";
    case SN_STRING: return "a string";
    case SN_GROUP: return "a group";
    case SN_ARRAY: return "an array";
    case SN_LIST: return "a list";
    }
    return "?";
}

void sn_files_free(sn_files *f) {
    for (int i = 0; i < f->n; i++) free(f->paths[i]);
    free(f->paths);
    f->paths = NULL;
    f->n = 0;
}

static void files_add(sn_files *f, const char *path) {
    f->paths = xrealloc(f->paths, (size_t)(f->n + 1) * sizeof *f->paths);
    f->paths[f->n++] = xstrdup(path);
}

/* ---- libconfig -> tree ---- */

/* The name a setting's file is shown under: the main file as given, an included file
 * joined to the include directory. */
static char *display_file(const char *setting_file, const char *main_path, const char *dir) {
    if (!setting_file) return xstrdup(main_path);
    if (!strcmp(setting_file, main_path) || setting_file[0] == '/' || !dir)
        return xstrdup(setting_file);
    return st_join_path(dir, setting_file);
}

static sn_node *convert(const config_setting_t *s, const char *main_path, const char *dir) {
    sn_type t;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: t = SN_INT; break;
    case CONFIG_TYPE_FLOAT: t = SN_FLOAT; break;
    case CONFIG_TYPE_BOOL: t = SN_BOOL; break;
    case CONFIG_TYPE_STRING: t = SN_STRING; break;
    case CONFIG_TYPE_ARRAY: t = SN_ARRAY; break;
    case CONFIG_TYPE_LIST: t = SN_LIST; break;
    default: t = SN_GROUP; break;
    }
    char *file = display_file(config_setting_source_file(s), main_path, dir);
    sn_node *n = sn_new(t, config_setting_name(s), file, (int)config_setting_source_line(s));
    free(file);
    switch (t) {
    case SN_INT: n->i = config_setting_get_int64(s); break;
    case SN_FLOAT: n->f = config_setting_get_float(s); break;
    case SN_BOOL: n->b = config_setting_get_bool(s); break;
    case SN_STRING: n->s = xstrdup(config_setting_get_string(s)); break;
    default: {
        int len = config_setting_length(s);
        for (int i = 0; i < len; i++) {
            sn_node *kid = convert(config_setting_get_elem(s, (unsigned)i), main_path, dir);
            /* Scalars inside arrays carry no line of their own in libconfig 1.5. */
            if (kid->line == 0) {
                free(kid->file);
                kid->file = xstrdup(n->file);
                kid->line = n->line;
            }
            sn_add(n, kid);
        }
    }
    }
    return n;
}

sn_node *sn_parse_file(const char *path, sn_files *files, char *err, size_t errlen) {
    char *text = st_read_file(path, err, errlen);
    if (!text) return NULL;
    int bad_line = st_find_wide_int(text);
    char *inc_dir = st_dirname(path);
    int bad_include = sim_file_check_includes(text, path, inc_dir, err, errlen);
    free(inc_dir);
    free(text);
    if (bad_include) return NULL;
    if (bad_line > 0) {
        snprintf(err, errlen,
                 "%s:%d: integer literal beyond 32 bits (libconfig would wrap it); "
                 "write it with an L suffix (3000000000L) or as a float (3.0e9)",
                 path, bad_line);
        return NULL;
    }
    char *dir = st_dirname(path);
    config_t cfg;
    config_init(&cfg);
    config_set_include_dir(&cfg, dir);
    sn_node *root = NULL;
    if (!config_read_file(&cfg, path)) {
        const char *ef = config_error_file(&cfg);
        char *shown = display_file(ef, path, dir);
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s: cannot read: %s", shown,
                     config_error_text(&cfg) ? config_error_text(&cfg) : "I/O error");
        else
            snprintf(err, errlen, "%s:%d: %s", shown, config_error_line(&cfg),
                     config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
        free(shown);
        goto out;
    }
    /* Included files: check them for wide literals too, and record them. */
    for (unsigned i = 0; i < cfg.num_filenames; i++) {
        char *shown = display_file(cfg.filenames[i], path, dir);
        if (i > 0) {
            char *inc = st_read_file(shown, err, errlen);
            if (!inc) {
                free(shown);
                goto out;
            }
            int line = st_find_wide_int(inc);
            free(inc);
            if (line > 0) {
                snprintf(err, errlen,
                         "%s:%d: integer literal beyond 32 bits (libconfig would wrap it); "
                         "write it with an L suffix or as a float",
                         shown, line);
                free(shown);
                goto out;
            }
        }
        if (files) files_add(files, shown);
        free(shown);
    }
    root = convert(config_root_setting(&cfg), path, dir);
out:
    config_destroy(&cfg);
    free(dir);
    return root;
}

sn_node *sn_parse_value(const char *text, const char *origin, char *err, size_t errlen) {
    size_t n = strlen(text);
    char *src = xmalloc(n + 16);
    snprintf(src, n + 16, "v = %s;", text);
    if (st_find_wide_int(src) > 0) {
        snprintf(err, errlen,
                 "integer '%s' is beyond 32 bits; write it with an L suffix or as a float", text);
        free(src);
        return NULL;
    }
    config_t cfg;
    config_init(&cfg);
    sn_node *v = NULL;
    if (!config_read_string(&cfg, src)) {
        snprintf(err, errlen, "cannot parse value '%s' (%s)", text,
                 config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
    } else {
        config_setting_t *root = config_root_setting(&cfg);
        if (config_setting_length(root) != 1) {
            snprintf(err, errlen, "cannot parse value '%s' (more than one setting)", text);
        } else {
            v = convert(config_setting_get_elem(root, 0), "", NULL);
            sn_set_origin(v, origin, 0);
        }
    }
    config_destroy(&cfg);
    free(src);
    return v;
}
