/* sim/sweep/sweep_merge.c: shard files into one sweep file (sweep_merge.h). */
#include "sim/sweep/sweep_merge.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/fsutil.h"
#include "sim/base/util.h"
#include "sim/sweep/sweep.h"
#include "sim/sweep/sweep_file.h"
#include "sim/sweep/sweep_spec.h"

typedef struct {
    const char *path;
    sweep_meta m;
    sweep_point *pts;
    size_t n;
} shard_file;

/* The --vary arguments, "(a, b)". */
static void vary_text(const sweep_meta *m, char *buf, size_t n) {
    size_t at = (size_t)snprintf(buf, n, "(");
    for (size_t i = 0; i < m->n_keys && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? ", " : "", m->vary[i]);
    if (at < n) snprintf(buf + at, n - at, ")");
}

/* Shard b against shard a: NULL when both are shards of one sweep, else why not. */
static const char *other_sweep(const shard_file *a, const shard_file *b, char *buf, size_t n) {
    if (a->m.shard_count != b->m.shard_count) {
        snprintf(buf, n, "it is shard %d/%d, a sweep cut into %d shards, not %d", b->m.shard_index,
                 b->m.shard_count, b->m.shard_count, a->m.shard_count);
        return buf;
    }
    sweep_meta bm = b->m;
    bm.shard_index = a->m.shard_index; /* the index is the one thing that differs */
    if (sweep_meta_mismatch(&bm, &a->m, buf, n)) return buf;
    for (size_t k = 0; k < a->m.n_keys; k++)
        if (strcmp(a->m.vary[k], b->m.vary[k])) {
            char x[400], y[400];
            vary_text(&b->m, x, sizeof x);
            vary_text(&a->m, y, sizeof y);
            snprintf(buf, n, "another grid: its --vary arguments are %s, now %s", x, y);
            return buf;
        }
    if (a->m.grid_points != b->m.grid_points) {
        snprintf(buf, n, "its grid has %lld points, now %lld", (long long)b->m.grid_points,
                 (long long)a->m.grid_points);
        return buf;
    }
    return NULL;
}

static int same_file(const struct stat *a, const char *path) {
    struct stat b;
    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* May OUT be written? EXIT_OK, or EXIT_INPUT with err. */
static int check_output(const char *out, const shard_file *sh, size_t n, int force, char *err,
                        size_t errlen) {
    struct stat os;
    if (stat(out, &os) != 0) return EXIT_OK;
    for (size_t i = 0; i < n; i++)
        if (same_file(&os, sh[i].path)) {
            snprintf(err, errlen,
                     "the output %s is the shard file %s: give the merged file's name first "
                     "(orionsim sweep-merge OUT SHARD...)",
                     out, sh[i].path);
            return EXIT_INPUT;
        }
    if (force) return EXIT_OK;
    sweep_meta m;
    sweep_point *p = NULL;
    size_t np = 0;
    char rerr[512], why[1024];
    const char *bad = NULL;
    if (sweep_file_read(out, &m, &p, &np, rerr, sizeof rerr)) {
        snprintf(why, sizeof why, "it is not a sweep file (%s)", rerr);
        bad = why;
    } else {
        sweep_meta ref = sh[0].m;
        ref.shard_count = 0;
        ref.shard_index = 0;
        ref.grid_points = 0;
        if (m.shard_count > 0) {
            snprintf(why, sizeof why, "it is a shard file (shard %d/%d)", m.shard_index,
                     m.shard_count);
            bad = why;
        } else {
            bad = sweep_meta_mismatch(&m, &ref, why, sizeof why);
        }
        sweep_points_free(p, np, m.n_keys);
        sweep_meta_free(&m);
    }
    if (!bad) return EXIT_OK;
    snprintf(err, errlen,
             "%s exists and is not a merge of this sweep: %s; use --force to replace it, or "
             "another OUT",
             out, bad);
    return EXIT_INPUT;
}

/* Write rows to OUT through a temporary file. EXIT_OK or EXIT_RUN with err. */
static int write_out(const char *out, const sweep_meta *m, const sweep_point *rows, size_t n,
                     int complete, char *err, size_t errlen) {
    if (sim_mkdir_parent(out)) {
        snprintf(err, errlen, "%s: cannot create its directory: %s", out, strerror(errno));
        return EXIT_RUN;
    }
    size_t tl = strlen(out) + 32;
    char *tmp = xmalloc(tl);
    snprintf(tmp, tl, "%s.tmp-%ld", out, (long)getpid());
    char werr[512];
    int rc = EXIT_OK;
    sweep_writer *w = sweep_file_create(tmp, m, rows, n, werr, sizeof werr);
    if (!w) {
        snprintf(err, errlen, "%s: %s", tmp, werr);
        rc = EXIT_RUN;
    } else if (sweep_file_close(w, complete, werr, sizeof werr)) {
        snprintf(err, errlen, "%s: %s", tmp, werr);
        rc = EXIT_RUN;
    } else if (rename(tmp, out)) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
        rc = EXIT_RUN;
    }
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

/* The shards read and checked, then the rows joined: EXIT_OK, or EXIT_INPUT with err. */
static int join(const char *out, shard_file *sh, size_t n, int force, sweep_merge_stats *st,
                char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        char rerr[512];
        if (sweep_file_read(sh[i].path, &sh[i].m, &sh[i].pts, &sh[i].n, rerr, sizeof rerr)) {
            snprintf(err, errlen, "%s: %s", sh[i].path, rerr);
            return EXIT_INPUT;
        }
        if (sh[i].m.shard_count == 0) {
            snprintf(err, errlen,
                     "%s is not a shard file (it holds a whole sweep; shard files come from "
                     "orionsim sweep --shard I/N)",
                     sh[i].path);
            return EXIT_INPUT;
        }
        char why[1024];
        if (i && other_sweep(&sh[0], &sh[i], why, sizeof why)) {
            snprintf(err, errlen, "%s and %s are shards of different sweeps: %s", sh[0].path,
                     sh[i].path, why);
            return EXIT_INPUT;
        }
    }
    const sweep_meta *ref = &sh[0].m;
    size_t ns = (size_t)ref->shard_count;
    size_t *which = xmalloc(ns * sizeof *which);
    for (size_t s = 0; s < ns; s++) which[s] = SIZE_MAX;
    int rc = EXIT_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t s = (size_t)sh[i].m.shard_index;
        if (which[s] != SIZE_MAX) {
            snprintf(err, errlen, "shard %zu/%zu given twice (%s and %s)", s, ns, sh[which[s]].path,
                     sh[i].path);
            rc = EXIT_INPUT;
        }
        which[s] = i;
    }
    if (!rc && n < ns) {
        size_t at = (size_t)snprintf(err, errlen, "%zu of %zu shards missing:", ns - n, ns);
        for (size_t s = 0, shown = 0; s < ns && at < errlen; s++)
            if (which[s] == SIZE_MAX && shown++ < 8)
                at += (size_t)snprintf(err + at, errlen - at, " %zu/%zu", s, ns);
        if (ns - n > 8 && at < errlen) snprintf(err + at, errlen - at, " ...");
        rc = EXIT_INPUT;
    }
    /* the grid, from the --vary arguments the shards share */
    size_t nk = ref->n_keys, grid = 0;
    sweep_axis *ax = xcalloc(nk ? nk : 1, sizeof *ax);
    size_t n_ax = 0;
    for (size_t k = 0; k < nk && !rc; k++) {
        char aerr[512];
        if (sweep_axis_parse(ref->vary[k], &ax[k], aerr, sizeof aerr)) {
            snprintf(err, errlen, "%s: %s", sh[0].path, aerr);
            rc = EXIT_INPUT;
        } else {
            n_ax++;
        }
    }
    if (!rc && sweep_grid_size(ax, n_ax, &grid, err, errlen)) rc = EXIT_INPUT;
    if (!rc && (int64_t)grid != ref->grid_points) {
        snprintf(err, errlen, "%s: grid_points says %lld, its --vary arguments give %zu",
                 sh[0].path, (long long)ref->grid_points, grid);
        rc = EXIT_INPUT;
    }
    /* every shard's first rows are its share of the grid, in grid order */
    size_t *vidx = xcalloc(nk ? nk : 1, sizeof *vidx);
    for (size_t g = 0; g < grid && !rc; g++) {
        const shard_file *f = &sh[which[g % ns]];
        size_t row = g / ns, share = grid / ns + (g % ns < grid % ns);
        if (row >= f->n) {
            snprintf(err, errlen, "%s (shard %zu/%zu) has %zu rows, fewer than its %zu points",
                     f->path, g % ns, ns, f->n, share);
            rc = EXIT_INPUT;
            break;
        }
        sweep_grid_point(ax, n_ax, g, vidx);
        for (size_t k = 0; k < nk; k++)
            if (!sweep_value_eq(&f->pts[row].params[k], &ax[k].values[vidx[k]])) {
                snprintf(err, errlen,
                         "%s (shard %zu/%zu): row %zu has %s = %s where its share of the grid "
                         "has %s",
                         f->path, g % ns, ns, row, ref->keys[k], f->pts[row].params[k].text,
                         ax[k].values[vidx[k]].text);
                rc = EXIT_INPUT;
                break;
            }
    }
    free(vidx);
    for (size_t k = 0; k < n_ax; k++) sweep_axis_free(&ax[k]);
    free(ax);
    if (!rc) rc = check_output(out, sh, n, force, err, errlen);
    if (rc) {
        free(which);
        return rc;
    }
    /* the rows: the grid, then each shard's rows from earlier grids */
    size_t total = grid;
    for (size_t s = 0; s < ns; s++) {
        size_t share = grid / ns + (s < grid % ns);
        total += sh[which[s]].n - share;
    }
    sweep_point *rows = xcalloc(total ? total : 1, sizeof *rows);
    for (size_t g = 0; g < grid; g++) rows[g] = sh[which[g % ns]].pts[g / ns];
    size_t at = grid;
    for (size_t s = 0; s < ns; s++) {
        const shard_file *f = &sh[which[s]];
        for (size_t r = grid / ns + (s < grid % ns); r < f->n; r++) rows[at++] = f->pts[r];
    }
    for (size_t g = 0; g < grid; g++) {
        if (!strcmp(rows[g].status, "pending")) st->pending++;
        else if (!sweep_point_done(&rows[g])) st->failed++;
    }
    unsigned char *changed = xcalloc(total ? total : 1, 1);
    sweep_loss_gaps(rows, total, ref->keys, nk, changed);
    free(changed);
    sweep_meta m = *ref;
    m.created = NULL; /* now */
    m.shard_index = m.shard_count = 0;
    m.grid_points = 0;
    rc = write_out(out, &m, rows, total, st->pending == 0, err, errlen);
    st->shards = n;
    st->points = grid;
    st->rows = total;
    free(rows); /* the rows' parameters belong to the shards */
    free(which);
    if (rc) return rc;
    if (st->failed || st->pending) {
        snprintf(err, errlen,
                 "%zu of %zu points failed and %zu pending in %s (run their shards again, "
                 "then merge again)",
                 st->failed, grid, st->pending, out);
        return EXIT_RUN;
    }
    return EXIT_OK;
}

int sweep_merge(const char *out, const char *const *shards, size_t n, int force,
                sweep_merge_stats *st, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    if (!n) {
        snprintf(err, errlen, "no shard files given");
        return EXIT_INPUT;
    }
    shard_file *sh = xcalloc(n, sizeof *sh);
    for (size_t i = 0; i < n; i++) sh[i].path = shards[i];
    int rc = join(out, sh, n, force, st, err, errlen);
    for (size_t i = 0; i < n; i++) {
        sweep_points_free(sh[i].pts, sh[i].n, sh[i].m.n_keys);
        sweep_meta_free(&sh[i].m);
    }
    free(sh);
    return rc;
}
