/* sim/scenario/scenario_load.c: sim_scenario_load: read the file and its bases, apply overrides, check, resolve. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_fill.h"
#include "sim/scenario/scenario_schema.h"
#include "sim/scenario/scenario_set.h"
#include "sim/scenario/scenario_text.h"
#include "sim/base/fsutil.h"
#include "sim/base/util.h"

#define MAX_BASE_DEPTH 16

int sim_dtype_bytes(sim_dtype d) {
    switch (d) {
    case SIM_DTYPE_FP32: return 4;
    case SIM_DTYPE_BF16:
    case SIM_DTYPE_FP16: return 2;
    case SIM_DTYPE_INT8: return 1;
    }
    return 0;
}

const char *sim_dtype_name(sim_dtype d) {
    static const char *const names[] = {"fp32", "bf16", "fp16", "int8"};
    return (unsigned)d < 4 ? names[d] : "?";
}

const char *sim_eff_name(sim_eff_kind k) {
    static const char *const names[] = {"forward", "backward", "recompute", "optimizer", "merge"};
    return (unsigned)k < SIM_EFF_KINDS ? names[k] : "?";
}

double sim_scenario_peak_flops(const sim_scenario *sc) {
    double sum = 0;
    for (int p = 0; p < sc->swarm.n_peers; p++)
        sum += sc->devices.dev[sc->swarm.peers[p].device].bf16_flops * sc->swarm.gpus_per_peer;
    return sum;
}

static void add_source(sim_scenario *sc, const char *path, char *text) {
    for (int i = 0; i < sc->n_sources; i++)
        if (!strcmp(sc->sources[i].path, path)) {
            free(text);
            return;
        }
    sc->sources = xrealloc(sc->sources, (size_t)(sc->n_sources + 1) * sizeof *sc->sources);
    sc->sources[sc->n_sources].path = xstrdup(path);
    sc->sources[sc->n_sources].text = text;
    sc->n_sources++;
}

/* The group at a dotted path from the root, or NULL. */
static sn_node *group_at(sn_node *root, const char *path) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    sn_node *n = root;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && n;
         tok = strtok_r(NULL, ".", &save))
        n = sn_member(n, tok);
    return n && n->type == SN_GROUP ? n : NULL;
}

/* A variant that sets one of a set of alternative keys drops the base's others. */
static void drop_alternatives(sn_node *base, sn_node *over) {
    for (int i = 0; i < sk_alternatives_len; i++) {
        const sk_alternative *a = &sk_alternatives[i];
        sn_node *bg = group_at(base, a->group), *og = group_at(over, a->group);
        if (!bg || !og) continue;
        int sets_one = 0;
        for (int k = 0; a->keys[k]; k++) sets_one |= sn_member(og, a->keys[k]) != NULL;
        if (!sets_one) continue;
        for (int k = 0; a->keys[k]; k++)
            if (!sn_member(og, a->keys[k])) sn_remove(bg, a->keys[k]);
    }
}

/* A variant that gives a controlling key another value drops the base's dependent key
 * (sk_dependents): the base's value applied only under the base's setting. */
static void drop_dependents(sn_node *base, sn_node *over) {
    for (int i = 0; i < sk_dependents_len; i++) {
        const sk_dependent *d = &sk_dependents[i];
        sn_node *bg = group_at(base, d->group), *og = group_at(over, d->group);
        if (!bg || !og) continue;
        sn_node *k = sn_member(og, d->key);
        if (!k || (k->type == SN_STRING && !strcmp(k->s, d->value))) continue;
        if (!sn_member(og, d->dependent)) sn_remove(bg, d->dependent);
    }
}

/* Parse `path`, record its text (and its @includes'), follow `base` and merge. */
static sn_node *load_chain(sim_scenario *sc, const char *path, char **visited, int depth, char *err,
                           size_t errlen) {
    sn_files files = {0};
    sn_node *root = sn_parse_file(path, &files, err, errlen);
    if (!root) {
        sn_files_free(&files);
        return NULL;
    }
    for (int i = 0; i < files.n; i++) {
        char *text = st_read_file(files.paths[i], err, errlen);
        if (!text) {
            sn_files_free(&files);
            sn_free(root);
            return NULL;
        }
        add_source(sc, files.paths[i], text);
    }
    sn_files_free(&files);
    sn_node *base = sn_member(root, "base");
    if (!base) return root;
    if (base->type != SN_STRING || !base->s[0]) {
        snprintf(err, errlen, "%s:%d: base: expected a file name (a string), got %s", base->file,
                 base->line, sn_type_desc(base->type));
        sn_free(root);
        return NULL;
    }
    char *dir = st_dirname(base->file);
    char *base_path = st_join_path(dir, base->s);
    free(dir);
    char resolved[PATH_MAX];
    sn_node *merged = NULL;
    char why[600];
    if (!realpath(base_path, resolved)) {
        snprintf(err, errlen, "%s:%d: base: cannot read '%s'", base->file, base->line, base_path);
    } else if (sim_file_check(base_path, why, sizeof why)) {
        snprintf(err, errlen, "%s:%d: base: %s", base->file, base->line, why);
    } else if (depth + 1 >= MAX_BASE_DEPTH) {
        snprintf(err, errlen, "%s:%d: base: more than %d files deep", base->file, base->line,
                 MAX_BASE_DEPTH);
    } else {
        int cycle = 0;
        for (int i = 0; i <= depth; i++)
            if (!strcmp(visited[i], resolved)) cycle = 1;
        if (cycle) {
            snprintf(err, errlen, "%s:%d: base: '%s' extends itself (a cycle of base files)",
                     base->file, base->line, base_path);
        } else {
            visited[depth + 1] = xstrdup(resolved);
            merged = load_chain(sc, base_path, visited, depth + 1, err, errlen);
            free(visited[depth + 1]);
            visited[depth + 1] = NULL;
        }
    }
    free(base_path);
    if (!merged) {
        sn_free(root);
        return NULL;
    }
    sn_remove(root, "base");
    /* Published figures belong to one run: a variant does not inherit its base's. */
    sn_remove(merged, "reference");
    drop_alternatives(merged, root);
    drop_dependents(merged, root);
    sn_merge(merged, root);
    /* messages about keys missing at the top level name this file, not its base */
    free(merged->file);
    merged->file = xstrdup(path);
    return merged;
}

int sim_scenario_load(const char *path, const char **sets, int n_sets, sim_scenario *out, char *err,
                      size_t errlen) {
    memset(out, 0, sizeof *out);
    out->path = xstrdup(path);
    char *visited[MAX_BASE_DEPTH + 1] = {0};
    char resolved[PATH_MAX];
    sn_node *root = NULL;
    char *dir = st_dirname(path);
    if (!realpath(path, resolved)) {
        char *text = st_read_file(path, err, errlen); /* for the reason */
        if (text) {
            free(text);
            snprintf(err, errlen, "%s: cannot resolve the path", path);
        }
        goto fail;
    }
    visited[0] = xstrdup(resolved);
    root = load_chain(out, path, visited, 0, err, errlen);
    free(visited[0]);
    if (!root) goto fail;
    for (int i = 0; i < n_sets; i++) {
        if (sc_apply_set(root, sets[i], err, errlen)) goto fail;
        out->sets = xrealloc(out->sets, (size_t)(out->n_sets + 1) * sizeof *out->sets);
        out->sets[out->n_sets++] = xstrdup(sets[i]);
    }
    sr_ctx c = {root, path, dir, err, errlen};
    if (sr_check_tree(&c) || sc_fill_general(&c, out) || sc_fill_network(&c, out) ||
        sc_fill_swarm(&c, out) || sc_fill_sync(&c, out) || sc_fill_faults(&c, out) ||
        sc_fill_compute(&c, out))
        goto fail;
    double longest = sim_scenario_longest_task_s(out);
    if (longest > SIM_MAX_TASK_S) {
        snprintf(err, errlen,
                 "%s: model: one compute task would take %.3g s (> %g s) on the slowest device at "
                 "the lowest efficiency: the model, microbatch or device is out of any physical "
                 "range",
                 path, longest, SIM_MAX_TASK_S);
        goto fail;
    }
    sn_free(root);
    free(dir);
    return EXIT_OK;
fail:
    sn_free(root);
    free(dir);
    sim_scenario_free(out);
    return EXIT_INPUT;
}

void sim_scenario_free(sim_scenario *sc) {
    if (!sc) return;
    free(sc->name);
    free(sc->description);
    free(sc->path);
    for (int i = 0; i < sc->n_sources; i++) {
        free(sc->sources[i].path);
        free(sc->sources[i].text);
    }
    free(sc->sources);
    for (int i = 0; i < sc->n_sets; i++) free(sc->sets[i]);
    free(sc->sets);
    free(sc->training.data);
    for (int i = 0; i < sc->network.n_regions; i++)
        free(sc->network.regions ? sc->network.regions[i] : NULL);
    free(sc->network.regions);
    free(sc->network.latency_s);
    sim_devices_free(&sc->devices);
    free(sc->swarm.peers);
    free(sc->swarm.bandwidth.classes);
    for (int i = 0; i < sc->faults.n_profiles; i++) free(sc->faults.profiles[i].path);
    free(sc->faults.profiles);
    free(sc->compute.kernel_profile);
    free(sc->output.trace);
    free(sc->output.trace_where);
    sim_reference *r = &sc->reference;
    free(r->source);
    free(r->url);
    free(r->notes);
    for (int i = 0; i < r->n_extra_sources; i++) free(r->extra_sources[i]);
    free(r->extra_sources);
    free(r->uncertainty);
    for (int i = 0; i < sc->n_notices; i++) free(sc->notices[i]);
    free(sc->notices);
    free(r->where);
    memset(sc, 0, sizeof *sc);
}
