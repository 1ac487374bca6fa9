/* sim/study/study_tables.c: the study's statistics (per width and boundary, curves with
 * bands), its HDF5 file and its table on stdout (see study.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/fsutil.h"
#include "sim/base/h5util.h"
#include "sim/base/platform.h"
#include "sim/base/util.h"
#include "sim/base/version.h"
#include "sim/scenario/scenario.h"
#include "sim/study/study_internal.h"
#include "sim/study/study_stats.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_read.h"

#define LEVEL 0.95

/* ---- statistics ---------------------------------------------------------------------- */

typedef struct {
    int64_t key; /* kind, cycle, step */
    size_t run;
    double tokens, loss;
} curve_pt;

static int cmp_pt(const void *a, const void *b) {
    const curve_pt *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->run > y->run) - (x->run < y->run);
}

/* Points of one run's trace: training rows averaged per (cycle, inner step), validation
 * rows per cycle. Appends to *pts. */
static int run_points(const study_run_t *r, size_t run, curve_pt **pts, size_t *n, size_t *cap,
                      char *err, size_t errlen) {
    trace_file *tf;
    if (trace_read_open(r->trace, &tf, err, errlen)) return -1;
    trace_loss_rec *rows = NULL;
    size_t nr = 0;
    if (trace_read_table(tf, "loss", trace_loss_fields, trace_loss_n_fields, sizeof *rows,
                         (void **)&rows, &nr)) {
        snprintf(err, errlen, "%s: %s", r->trace, trace_read_error(tf));
        trace_read_close(tf);
        return -1;
    }
    trace_read_close(tf);
    curve_pt *mine = xcalloc(nr ? nr : 1, sizeof *mine);
    for (size_t i = 0; i < nr; i++) {
        int kind = rows[i].kind == TRACE_LOSS_VALIDATION;
        int step = kind ? -1 : rows[i].inner_step;
        mine[i].key = ((int64_t)kind << 40) | ((int64_t)(rows[i].cycle + 1) << 20) | (step + 1);
        mine[i].run = run;
        mine[i].tokens = (double)rows[i].tokens;
        mine[i].loss = rows[i].loss;
    }
    qsort(mine, nr, sizeof *mine, cmp_pt);
    for (size_t i = 0; i < nr;) {
        size_t j = i;
        double t = 0, l = 0;
        for (; j < nr && mine[j].key == mine[i].key; j++) {
            t += mine[j].tokens;
            l += mine[j].loss;
        }
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            *pts = xrealloc(*pts, *cap * sizeof **pts);
        }
        curve_pt p = {mine[i].key, run, t / (double)(j - i), l / (double)(j - i)};
        (*pts)[(*n)++] = p;
        i = j;
    }
    free(mine);
    free(rows);
    return 0;
}

int study_build_tables(study_ctx *c, study_tables *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->n_runs = c->n_runs;
    t->runs = xcalloc(c->n_runs ? c->n_runs : 1, sizeof *t->runs);
    for (size_t i = 0; i < c->n_runs; i++) {
        const study_run_t *r = &c->runs[i];
        study_run_rec *x = &t->runs[i];
        x->ratio = r->ratio;
        x->width = r->width;
        x->k = r->k;
        x->seed = (int64_t)r->seed;
        x->seed_index = r->seed_index;
        x->done = r->done;
        x->loss_final = r->done ? r->sum.loss_final : NAN;
        x->val_loss_final = r->done ? r->sum.val_loss_final : NAN;
        x->wall_time_s = r->done ? r->sum.wall_time_s : NAN;
        x->gap = x->val_gap = NAN;
        study_set_text(x->boundary, sizeof x->boundary, c->bd[r->b].spec);
        study_set_text(x->method, sizeof x->method, study_method_names[c->bd[r->b].method]);
        study_set_text(x->trace, sizeof x->trace, r->trace);
    }
    /* the baseline of each run: the "none" run of the same width and seed */
    for (size_t i = 0; i < c->n_runs; i++)
        for (size_t j = 0; j < c->n_runs; j++) {
            const study_run_t *r = &c->runs[i], *b = &c->runs[j];
            if (b->width != r->width || b->seed_index != r->seed_index ||
                c->bd[b->b].method != KM_COMP_NONE || !r->done || !b->done)
                continue;
            t->runs[i].gap = t->runs[i].loss_final - t->runs[j].loss_final;
            t->runs[i].val_gap = t->runs[i].val_loss_final - t->runs[j].val_loss_final;
        }
    size_t groups = c->n_widths * c->n_bd, seeds = (size_t)c->o->seeds;
    t->stats = xcalloc(groups, sizeof *t->stats);
    double *a = xcalloc(seeds, sizeof *a), *v = xcalloc(seeds, sizeof *v),
           *g = xcalloc(seeds, sizeof *g), *vg = xcalloc(seeds, sizeof *vg);
    int rc = 0;
    for (size_t w = 0; w < c->n_widths && !rc; w++)
        for (size_t b = 0; b < c->n_bd && !rc; b++) {
            study_stat_rec *s = &t->stats[t->n_stats++];
            study_set_text(s->boundary, sizeof s->boundary, c->bd[b].spec);
            study_set_text(s->method, sizeof s->method, study_method_names[c->bd[b].method]);
            s->width = c->widths[w];
            int n = 0, pairs = 0;
            curve_pt *pts = NULL;
            size_t np = 0, cap = 0;
            for (size_t i = 0; i < seeds; i++) a[i] = v[i] = g[i] = vg[i] = NAN;
            for (size_t i = 0; i < c->n_runs && !rc; i++) {
                const study_run_t *r = &c->runs[i];
                if (r->width != c->widths[w] || r->b != (int)b) continue;
                s->ratio = r->ratio;
                s->k = r->k;
                if (!r->done) continue;
                n++;
                a[r->seed_index] = t->runs[i].loss_final;
                v[r->seed_index] = t->runs[i].val_loss_final;
                g[r->seed_index] = t->runs[i].gap;
                vg[r->seed_index] = t->runs[i].val_gap;
                pairs += !isnan(t->runs[i].gap);
                rc = run_points(r, i, &pts, &np, &cap, err, errlen);
            }
            study_desc d;
            study_describe(a, seeds, LEVEL, &d);
            s->loss_mean = d.mean, s->loss_sd = d.sd, s->loss_ci = d.ci;
            study_describe(v, seeds, LEVEL, &d);
            s->val_mean = d.mean, s->val_sd = d.sd, s->val_ci = d.ci;
            study_describe(g, seeds, LEVEL, &d);
            s->gap_mean = d.mean, s->gap_sd = d.sd, s->gap_ci = d.ci;
            s->gap_significant = d.significant;
            study_describe(vg, seeds, LEVEL, &d);
            s->val_gap_mean = d.mean, s->val_gap_sd = d.sd, s->val_gap_ci = d.ci;
            s->val_gap_significant = d.significant;
            s->n = n;
            s->n_pairs = pairs;
            /* curves: the points every seed of the group has, one row per key */
            qsort(pts, np, sizeof *pts, cmp_pt);
            double *l = xcalloc(np ? np : 1, sizeof *l);
            for (size_t i = 0; i < np;) {
                size_t j = i;
                double tok = 0;
                for (; j < np && pts[j].key == pts[i].key; j++) {
                    l[j - i] = pts[j].loss;
                    tok += pts[j].tokens;
                }
                study_describe(l, j - i, LEVEL, &d);
                if (t->n_curves == t->cap_curves) {
                    t->cap_curves = t->cap_curves ? 2 * t->cap_curves : 1024;
                    t->curves = xrealloc(t->curves, t->cap_curves * sizeof *t->curves);
                }
                study_curve_rec *cr = &t->curves[t->n_curves++];
                memset(cr, 0, sizeof *cr);
                cr->tokens = tok / (double)(j - i);
                cr->mean = d.mean;
                cr->sd = d.sd;
                cr->ci = d.ci;
                cr->width = s->width;
                cr->k = s->k;
                cr->kind = (int32_t)(pts[i].key >> 40);
                cr->cycle = (int32_t)((pts[i].key >> 20) & 0xfffff) - 1;
                cr->inner_step = (int32_t)(pts[i].key & 0xfffff) - 1;
                cr->n = (int32_t)(j - i);
                study_set_text(cr->boundary, sizeof cr->boundary, s->boundary);
                i = j;
            }
            free(l);
            free(pts);
        }
    free(a);
    free(v);
    free(g);
    free(vg);
    return rc;
}

void study_free_tables(study_tables *t) {
    free(t->runs);
    free(t->stats);
    free(t->curves);
}

/* ---- the study file ------------------------------------------------------------------ */

static int write_table(hid_t f, const char *name, const sim_field *fl, size_t nf, size_t rec,
                       const void *rows, size_t n, char *err, size_t errlen) {
    h5u_table t;
    if (h5u_table_create(&t, f, name, fl, nf, rec, 1024, 4096, err, errlen)) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = h5u_table_append(&t, (const char *)rows + i * rec, err, errlen);
    if (!rc) rc = h5u_table_flush(&t, err, errlen);
    char cerr[256];
    if (h5u_table_close(&t, cerr, sizeof cerr) && !rc) {
        snprintf(err, errlen, "%s", cerr);
        rc = -1;
    }
    return rc;
}

int study_write_file(study_ctx *c, const study_tables *t, const char *scenario_name,
                     const char *text, uint64_t seed_base, double wall, char *err, size_t errlen) {
    const study_opts *o = c->o;
    h5u_quiet();
    char *tmp = study_xprintf("%s.tmp-%ld", o->output, (long)getpid());
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0) H5Pset_obj_track_times(fcpl, 0);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (f < 0) {
        H5U_FAIL(err, errlen, "cannot create the study file", tmp);
        free(tmp);
        return -1;
    }
    char created[40];
    sim_iso_now(created, sizeof created);
    size_t done = 0;
    for (size_t i = 0; i < c->n_runs; i++) done += c->runs[i].done;
    char **wl = xcalloc(c->n_widths, sizeof *wl), **bl = xcalloc(c->n_bd, sizeof *bl);
    for (size_t i = 0; i < c->n_widths; i++) wl[i] = study_xprintf("%d", c->widths[i]);
    for (size_t i = 0; i < c->n_bd; i++) bl[i] = c->bd[i].spec;
    static const char *const none[1] = {""};
    sim_platform p;
    sim_platform_detect(&p);
    int rc =
        h5u_attr_i32(f, "study_schema_version", STUDY_SCHEMA_VERSION, err, errlen) ||
                h5u_attr_str(f, "orionsim_version", ORIONSIM_VERSION, err, errlen) ||
                h5u_attr_str(f, "created", created, err, errlen) ||
                h5u_attr_str(f, "scenario_path", o->scenario, err, errlen) ||
                h5u_attr_str(f, "scenario_name", scenario_name, err, errlen) ||
                h5u_attr_i32(f, "seeds", o->seeds, err, errlen) ||
                h5u_attr_u64(f, "seed_base", seed_base, err, errlen) ||
                h5u_attr_strs(f, "widths", (const char *const *)wl, c->n_widths, err, errlen) ||
                h5u_attr_strs(f, "boundaries", (const char *const *)bl, c->n_bd, err, errlen) ||
                h5u_attr_strs(f, "sets", o->n_sets ? o->sets : none, o->n_sets ? o->n_sets : 1, err,
                              errlen) ||
                h5u_attr_f64(f, "level", LEVEL, err, errlen) ||
                h5u_attr_i64(f, "runs", (int64_t)c->n_runs, err, errlen) ||
                h5u_attr_i64(f, "runs_done", (int64_t)done, err, errlen) ||
                h5u_attr_i32(f, "complete", done == c->n_runs, err, errlen) ||
                h5u_attr_f64(f, "wall_time_s", wall, err, errlen) ||
                h5u_attr_str(f, "platform_cpu", p.cpu, err, errlen) ||
                h5u_attr_i32(f, "platform_cores", p.cores, err, errlen) ||
                h5u_attr_str(f, "platform_blas", p.blas, err, errlen) ||
                h5u_attr_str(f, "platform_blas_version", p.blas_version, err, errlen) ||
                h5u_attr_i32(f, "platform_blas_threads", p.blas_threads, err, errlen) ||
                h5u_attr_i32(f, "platform_omp_threads", p.omp_threads, err, errlen) ||
                h5u_write_text(f, "scenario", text, err, errlen) ||
                write_table(f, "runs", study_run_fields, study_run_n_fields, sizeof(study_run_rec),
                            t->runs, t->n_runs, err, errlen) ||
                write_table(f, "stats", study_stat_fields, study_stat_n_fields,
                            sizeof(study_stat_rec), t->stats, t->n_stats, err, errlen) ||
                write_table(f, "curves", study_curve_fields, study_curve_n_fields,
                            sizeof(study_curve_rec), t->curves, t->n_curves, err, errlen)
            ? -1
            : 0;
    for (size_t i = 0; i < c->n_widths; i++) free(wl[i]);
    free(wl);
    free(bl);
    if (H5Fclose(f) < 0 && !rc) rc = H5U_FAIL(err, errlen, "cannot close", tmp);
    if (!rc && rename(tmp, o->output)) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, o->output, strerror(errno));
        rc = -1;
    }
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

int study_file_probe(const char *path) {
    h5u_quiet();
    char why[512]; /* refuses FIFOs and corrupt files before HDF5 opens them */
    hid_t f = h5u_file_open_read(path, NULL, NULL, NULL, why, sizeof why);
    if (f < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    int ok = h5u_attr_exists(f, "study_schema_version") > 0;
    H5Fclose(f);
    return ok;
}

int study_file_read(const char *path, study_stat_rec **stats, size_t *n_stats,
                    study_curve_rec **curves, size_t *n_curves, char *err, size_t errlen) {
    h5u_quiet();
    *stats = NULL;
    *curves = NULL;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return H5U_FAIL(err, errlen, "cannot open the study file", path);
    int rc = h5u_table_read(f, "stats", study_stat_fields, study_stat_n_fields,
                            sizeof(study_stat_rec), (void **)stats, n_stats, err, errlen) ||
                     h5u_table_read(f, "curves", study_curve_fields, study_curve_n_fields,
                                    sizeof(study_curve_rec), (void **)curves, n_curves, err, errlen)
                 ? -1
                 : 0;
    H5Fclose(f);
    if (rc) {
        free(*stats);
        free(*curves);
        *stats = NULL;
        *curves = NULL;
    }
    return rc;
}

/* ---- the table on stdout --------------------------------------------------------------- */

static const char *sig_word(int s) { return s < 0 ? "n/a" : s ? "yes" : "no"; }

void study_print_table(const study_tables *t, int seeds) {
    printf("# ResBM loss study: mean over %d seed%s, +- = half-width of the 95%% t interval; gap = "
           "run - none run of the same seed (paired)\n",
           seeds, seeds == 1 ? "" : "s");
    printf("# %-6s %-12s %5s %6s %3s %18s %18s %18s %4s %18s %4s\n", "width", "boundary", "k",
           "ratio", "n", "train loss", "val loss", "train gap", "sig", "val gap", "sig");
    for (size_t i = 0; i < t->n_stats; i++) {
        const study_stat_rec *s = &t->stats[i];
        printf("  %-6d %-12s %5d %6.0f %3d %8.4f +- %-6.4f %8.4f +- %-6.4f %+8.4f +- %-6.4f %4s "
               "%+8.4f +- %-6.4f %4s\n",
               s->width, s->boundary, s->k, s->ratio, s->n, s->loss_mean, s->loss_ci, s->val_mean,
               s->val_ci, s->gap_mean, s->gap_ci, sig_word(s->gap_significant), s->val_gap_mean,
               s->val_gap_ci, sig_word(s->val_gap_significant));
    }
    for (size_t i = 0; i < t->n_stats; i++) {
        const study_stat_rec *s = &t->stats[i];
        if (s->method[0] == 'n' && s->method[1] == 'o') continue;
        if (!s->n_pairs) {
            printf("  d%d %s: no run with its baseline done yet\n", s->width, s->boundary);
            continue;
        }
        printf("  d%d %s: the train-loss gap %+.4f is %s at 95%%; the validation gap %+.4f is "
               "%s\n",
               s->width, s->boundary, s->gap_mean,
               s->gap_significant < 0 ? "not testable (fewer than 2 seeds)"
               : s->gap_significant   ? "significant"
                                      : "not significant",
               s->val_gap_mean,
               s->val_gap_significant < 0 ? "not testable"
               : s->val_gap_significant   ? "significant"
                                          : "not significant");
    }
    fflush(stdout);
}

/* ---- the study ------------------------------------------------------------------------ */
