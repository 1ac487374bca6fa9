/* sim/fit/fit.c: the fit driver: free keys, evaluation of points in worker processes,
 * resume and the fit file (see fit.h); the search itself is sim/fit/fit_search.c. */
#include "sim/fit/fit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netmodel/rng.h"
#include "sim/base/util.h"
#include "sim/base/version.h"
#include "sim/fit/fit_file.h"
#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_schema.h"
#include "sim/sweep/sweep_file.h"
#include "sim/sweep/sweep_pool.h"
#include "sim/fit/fit_compare.h"
#include "sim/trace/trace_read.h"

static double now_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the fit's state ------------------------------------------------------------------ */

typedef struct {
    char status[8];
    char error[FIT_ERROR_LEN];
    double sim[FIT_MAX_FIGS];
} job_result;

typedef struct {
    const fit_opts *o;
    fit_free *fr;
    size_t d;
    sim_scenario sc;
    double pub[FIT_MAX_FIGS], unc[FIT_MAX_FIGS];
    int role[FIT_MAX_FIGS]; /* 0 not fitted, 1 fitted, 2 held out */
    fit_data data;          /* every evaluated point, in order */
    char **keys_text;       /* identity text of each point */
    /* the batch being evaluated */
    char ***batch_text; /* [job][key] */
    double **batch_val;
    int batch_iter;
    const char *batch_stage;
    size_t batch_done, batch_n;
    size_t ran;
    double t0;
    int tty, write_failed;
    char werr[512];
} fit_ctx;

static double chi2_of(const fit_ctx *c, const double *sim, int *consistent) {
    double s = 0;
    int ok = 1;
    for (size_t i = 0; i < sim_reference_n_figs; i++) {
        if (c->role[i] != 1) continue;
        double z = (sim[i] - c->pub[i]) / (c->unc[i] * fabs(c->pub[i]));
        if (isnan(z)) {
            *consistent = 0;
            return INFINITY;
        }
        s += z * z;
        if (fabs(z) > 1) ok = 0;
    }
    *consistent = ok;
    return s;
}

static char *identity(char *const *texts, size_t d) {
    size_t len = 1;
    for (size_t k = 0; k < d; k++) len += strlen(texts[k]) + 1;
    char *s = xmalloc(len);
    s[0] = 0;
    for (size_t k = 0; k < d; k++) {
        strcat(s, texts[k]);
        strcat(s, "\x1f");
    }
    return s;
}

static long find_point(const fit_ctx *c, const char *id) {
    for (size_t i = 0; i < c->data.n_pts; i++)
        if (!strcmp(c->keys_text[i], id)) return (long)i;
    return -1;
}

static void rescore(fit_ctx *c) {
    c->data.meta.best_row = -1;
    double best = INFINITY;
    for (size_t i = 0; i < c->data.n_pts; i++) {
        fit_point *p = &c->data.pts[i];
        int cons = 0;
        p->chi2 = strcmp(p->status, "ok") ? INFINITY : chi2_of(c, p->sim, &cons);
        p->consistent = cons;
        if (p->chi2 < best) {
            best = p->chi2;
            c->data.meta.best_row = (long)i;
        }
    }
}

/* /figures and /free from the points. */
static void summarise(fit_ctx *c) {
    rescore(c);
    fit_data *d = &c->data;
    free(d->figs);
    free(d->free);
    d->figs = xcalloc(sim_reference_n_figs, sizeof *d->figs);
    d->n_figs = 0;
    const fit_point *bp = d->meta.best_row >= 0 ? &d->pts[d->meta.best_row] : NULL;
    for (size_t i = 0; i < sim_reference_n_figs; i++) {
        if (isnan(c->pub[i])) continue;
        fit_figure_rec *r = &d->figs[d->n_figs++];
        snprintf(r->figure, sizeof r->figure, "%s", sim_reference_figs[i].key);
        snprintf(r->role, sizeof r->role, "%s",
                 c->role[i] == 1   ? "fitted"
                 : c->role[i] == 2 ? "held-out"
                                   : "not fitted");
        r->published = c->pub[i];
        r->uncertainty = c->unc[i];
        r->best = bp ? bp->sim[i] : NAN;
        r->residual = r->best - r->published;
        r->z = r->residual / (r->uncertainty * fabs(r->published));
        r->consistent_min = r->consistent_max = NAN;
        for (size_t p = 0; p < d->n_pts; p++) {
            if (!d->pts[p].consistent) continue;
            double v = d->pts[p].sim[i];
            if (isnan(r->consistent_min) || v < r->consistent_min) r->consistent_min = v;
            if (isnan(r->consistent_max) || v > r->consistent_max) r->consistent_max = v;
        }
    }
    d->free = xcalloc(c->d ? c->d : 1, sizeof *d->free);
    d->n_free = c->d;
    for (size_t k = 0; k < c->d; k++) {
        fit_free_rec *r = &d->free[k];
        snprintf(r->key, sizeof r->key, "%s", c->fr[k].key);
        r->lo = c->fr[k].lo;
        r->hi = c->fr[k].hi;
        r->log = c->fr[k].log;
        r->integer = c->fr[k].integer;
        r->best = bp ? bp->values[k] : NAN;
        r->consistent_min = r->consistent_max = NAN;
        for (size_t p = 0; p < d->n_pts; p++) {
            if (!d->pts[p].consistent) continue;
            double v = d->pts[p].values[k];
            r->n_consistent++;
            if (isnan(r->consistent_min) || v < r->consistent_min) r->consistent_min = v;
            if (isnan(r->consistent_max) || v > r->consistent_max) r->consistent_max = v;
        }
    }
}

static void save(fit_ctx *c) {
    summarise(c);
    char err[512];
    if (fit_file_write(c->o->output, &c->data, err, sizeof err)) {
        c->write_failed = 1;
        snprintf(c->werr, sizeof c->werr, "%s", err);
    }
}

/* ---- evaluation ----------------------------------------------------------------------- */

/* Copy a message into a fixed field, cut to fit. */
static void set_text(char *dst, size_t n, const char *src) {
    size_t l = strnlen(src, n - 1);
    memcpy(dst, src, l);
    dst[l] = 0;
}

static void job_run(size_t job, void *vctx, void *vres) {
    fit_ctx *c = vctx;
    job_result *r = vres;
    const fit_opts *o = c->o;
    size_t nk = 0;
    for (size_t k = 0; k < c->d; k++) nk += c->fr[k].n_keys;
    size_t n = o->n_sets + nk + 1;
    const char **sets = xcalloc(n, sizeof *sets);
    char **owned = xcalloc(nk + 1, sizeof *owned);
    for (size_t i = 0; i < o->n_sets; i++) sets[i] = o->sets[i];
    size_t at = 0;
    for (size_t k = 0; k < c->d; k++)
        for (size_t t = 0; t < c->fr[k].n_keys; t++, at++) {
            size_t len = strlen(c->fr[k].keys[t]) + strlen(c->batch_text[job][k]) + 2;
            owned[at] = xmalloc(len);
            snprintf(owned[at], len, "%s=%s", c->fr[k].keys[t], c->batch_text[job][k]);
            sets[o->n_sets + at] = owned[at];
        }
    sets[n - 1] = "output.events=none";
    for (size_t i = 0; i < FIT_MAX_FIGS; i++) r->sim[i] = NAN;
    sim_scenario sc;
    char err[2048] = "";
    if (sim_scenario_load(o->scenario, sets, (int)n, &sc, err, sizeof err)) {
        snprintf(r->status, sizeof r->status, "failed");
        set_text(r->error, sizeof r->error, err);
    } else {
        const char *tmpdir = getenv("TMPDIR");
        char tpath[1024];
        snprintf(tpath, sizeof tpath, "%s/orionsim-fit-%ld-%zu.h5",
                 tmpdir && tmpdir[0] ? tmpdir : "/tmp", (long)getpid(), job);
        sim_summary sum;
        sim_run_opts ro = {.scenario_path = o->scenario,
                           .trace_path = tpath,
                           .colocated = 1,
                           .stop_flag = o->stop_flag};
        int rc = sim_run_scenario(&sc, &ro, &sum, err, sizeof err);
        trace_file *tf = NULL;
        fit_compare_sim cs;
        if (o->stop_flag && *o->stop_flag) {
            snprintf(r->status, sizeof r->status, "pending");
        } else if (rc) {
            snprintf(r->status, sizeof r->status, "failed");
            set_text(r->error, sizeof r->error, err);
        } else if (trace_read_open(tpath, &tf, err, sizeof err) ||
                   fit_compare_read(tf, &cs, err, sizeof err)) {
            char msg[3200];
            snprintf(msg, sizeof msg, "%s: %s", tpath, err);
            snprintf(r->status, sizeof r->status, "failed");
            set_text(r->error, sizeof r->error, msg);
        } else {
            snprintf(r->status, sizeof r->status, "ok");
            for (size_t i = 0; i < sim_reference_n_figs && i < FIT_MAX_FIGS; i++) {
                const fit_compare_fig *f = fit_compare_find(sim_reference_figs[i].key);
                r->sim[i] = f ? f->simulated(&cs) : NAN;
            }
        }
        if (tf) trace_read_close(tf);
        unlink(tpath);
        sim_scenario_free(&sc);
    }
    for (size_t k = 0; k < nk; k++) free(owned[k]);
    free(owned);
    free(sets);
}

static void progress(fit_ctx *c, int final) {
    if (!c->o->progress) return;
    double best = INFINITY;
    long b = c->data.meta.best_row;
    if (b >= 0) best = c->data.pts[b].chi2;
    fprintf(stderr, "%sfit: %s %d: %zu/%zu points, %zu evaluated, best chi2 %.4g, %.0f s%s",
            c->tty ? "\r" : "", c->batch_stage, c->batch_iter, c->batch_done, c->batch_n,
            c->data.n_pts, best, now_wall() - c->t0, c->tty ? "\033[K" : "\n");
    if (final && c->tty) fputc('\n', stderr);
    fflush(stderr);
}

static void add_point(fit_ctx *c, char *const *texts, const double *vals, const job_result *r,
                      const char *why) {
    fit_data *d = &c->data;
    d->pts = xrealloc(d->pts, sizeof *d->pts * (d->n_pts + 1));
    c->keys_text = xrealloc(c->keys_text, sizeof *c->keys_text * (d->n_pts + 1));
    fit_point *p = &d->pts[d->n_pts];
    memset(p, 0, sizeof *p);
    p->values = xcalloc(c->d ? c->d : 1, sizeof *p->values);
    memcpy(p->values, vals, c->d * sizeof *vals);
    p->iteration = c->batch_iter;
    snprintf(p->stage, sizeof p->stage, "%s", c->batch_stage);
    if (r) {
        memcpy(p->sim, r->sim, sizeof p->sim);
        snprintf(p->status, sizeof p->status, "%s", r->status);
        set_text(p->error, sizeof p->error, r->error);
    } else {
        for (size_t i = 0; i < FIT_MAX_FIGS; i++) p->sim[i] = NAN;
        snprintf(p->status, sizeof p->status, "failed");
        set_text(p->error, sizeof p->error, why);
    }
    c->keys_text[d->n_pts] = identity(texts, c->d);
    d->n_pts++;
}

static void job_done(size_t job, int ok, const void *vres, const char *why, void *vctx) {
    fit_ctx *c = vctx;
    const job_result *r = vres;
    if (ok && !strcmp(r->status, "pending")) return; /* interrupted: runs on resume */
    add_point(c, c->batch_text[job], c->batch_val[job], ok ? r : NULL, why);
    c->batch_done++;
    c->ran++;
    save(c);
    progress(c, 0);
}

/* Evaluate the points x[0..n) (unit coordinates, n x d); chi2[i] gets each one's value.
 * Points already in the file are not run again. 0, or -1 when interrupted or the
 * file cannot be written. */
static int evaluate(fit_ctx *c, const double *x, size_t n, double *chi2, char *err, size_t errlen) {
    size_t d = c->d;
    c->batch_text = xcalloc(n ? n : 1, sizeof *c->batch_text);
    c->batch_val = xcalloc(n ? n : 1, sizeof *c->batch_val);
    size_t *jobs = xcalloc(n ? n : 1, sizeof *jobs);
    char **ids = xcalloc(n ? n : 1, sizeof *ids);
    size_t nj = 0;
    for (size_t i = 0; i < n; i++) {
        c->batch_text[i] = xcalloc(d ? d : 1, sizeof **c->batch_text);
        c->batch_val[i] = xcalloc(d ? d : 1, sizeof **c->batch_val);
        for (size_t k = 0; k < d; k++) {
            char t[32];
            c->batch_val[i][k] = fit_free_value(&c->fr[k], x[i * d + k], t, sizeof t);
            c->batch_text[i][k] = xstrdup(t);
        }
        ids[i] = identity(c->batch_text[i], d);
        int dup = find_point(c, ids[i]) >= 0;
        for (size_t j = 0; j < i && !dup; j++) dup = !strcmp(ids[j], ids[i]);
        if (!dup) jobs[nj++] = i;
    }
    c->batch_done = 0;
    c->batch_n = nj;
    int rc = 0;
    if (nj) {
        progress(c, 0);
        rc = sweep_pool_run(jobs, nj, c->o->jobs, sizeof(job_result), job_run, job_done, c,
                            c->o->stop_flag, err, errlen);
    }
    if (!rc && c->o->stop_flag && *c->o->stop_flag) {
        snprintf(err, errlen,
                 "interrupted; %s keeps the %zu points evaluated so far (run the "
                 "same command to resume)",
                 c->o->output, c->data.n_pts);
        rc = -1;
    }
    if (!rc && c->write_failed) {
        snprintf(err, errlen, "%s", c->werr);
        rc = -1;
    }
    rescore(c);
    for (size_t i = 0; i < n; i++) {
        long p = find_point(c, ids[i]);
        chi2[i] = p >= 0 ? c->data.pts[p].chi2 : INFINITY;
        for (size_t k = 0; k < d; k++) free(c->batch_text[i][k]);
        free(c->batch_text[i]);
        free(c->batch_val[i]);
        free(ids[i]);
    }
    free(c->batch_text);
    free(c->batch_val);
    c->batch_text = NULL;
    c->batch_val = NULL;
    free(jobs);
    free(ids);
    return rc;
}

/* ---- set-up checks -------------------------------------------------------------------- */

static int load_checked(const fit_opts *o, fit_ctx *c, char *err, size_t errlen) {
    if (sim_scenario_load(o->scenario, (const char **)o->sets, (int)o->n_sets, &c->sc, err, errlen))
        return EXIT_INPUT;
    sim_reference *r = &c->sc.reference;
    if (!r->present) {
        snprintf(err, errlen,
                 "%s: no reference group (published figures with reference.uncertainty) to fit",
                 o->scenario);
        return EXIT_INPUT;
    }
    for (size_t i = 0; i < sim_reference_n_figs && i < FIT_MAX_FIGS; i++) {
        c->pub[i] = sim_reference_value(r, i);
        c->unc[i] = r->uncertainty[i];
        c->role[i] = !isnan(c->pub[i]) && !isnan(c->unc[i]) ? 1 : 0;
    }
    for (size_t h = 0; h < o->n_hold; h++) {
        int i = sim_reference_find(o->hold_out[h]);
        if (i < 0 || isnan(c->pub[i])) {
            size_t at = (size_t)snprintf(err, errlen,
                                         "%s: --hold-out %s: not a figure of the reference group "
                                         "(figures given:",
                                         r->where ? r->where : o->scenario, o->hold_out[h]);
            for (size_t k = 0; k < sim_reference_n_figs && at < errlen; k++)
                if (!isnan(c->pub[k]))
                    at += (size_t)snprintf(err + at, errlen - at, " %s", sim_reference_figs[k].key);
            if (at < errlen) snprintf(err + at, errlen - at, ")");
            return EXIT_INPUT;
        }
        c->role[i] = 2;
    }
    int fitted = 0;
    for (size_t i = 0; i < sim_reference_n_figs; i++) fitted += c->role[i] == 1;
    if (!fitted) {
        snprintf(err, errlen,
                 "%s: reference: no figure left to fit (give reference.uncertainty.<figure> "
                 "for the figures to fit; held out: %zu)",
                 r->where ? r->where : o->scenario, o->n_hold);
        return EXIT_INPUT;
    }
    /* each end of each range must load (the schema's range of the key, for one) */
    for (size_t k = 0; k < c->d; k++) {
        for (int end = 0; end < 2; end++) {
            char t[32];
            fit_free_value(&c->fr[k], end, t, sizeof t);
            size_t nt = c->fr[k].n_keys;
            const char **sets = xcalloc(o->n_sets + nt, sizeof *sets);
            char **owned = xcalloc(nt, sizeof *owned);
            for (size_t i = 0; i < o->n_sets; i++) sets[i] = o->sets[i];
            for (size_t i = 0; i < nt; i++) {
                size_t len = strlen(c->fr[k].keys[i]) + strlen(t) + 2;
                owned[i] = xmalloc(len);
                snprintf(owned[i], len, "%s=%s", c->fr[k].keys[i], t);
                sets[o->n_sets + i] = owned[i];
            }
            sim_scenario tmp;
            char e2[1536];
            int rc =
                sim_scenario_load(o->scenario, sets, (int)(o->n_sets + nt), &tmp, e2, sizeof e2);
            for (size_t i = 0; i < nt; i++) free(owned[i]);
            free(owned);
            free(sets);
            if (rc) {
                snprintf(err, errlen, "--free %s: the %s end of the range does not load: %s",
                         o->free_args[k], end ? "upper" : "lower", e2);
                return EXIT_INPUT;
            }
            sim_scenario_free(&tmp);
        }
    }
    return 0;
}

static char *hex64(uint64_t h) {
    char *s = xmalloc(17);
    snprintf(s, 17, "%016llx", (unsigned long long)h);
    return s;
}

static char **dup_list(const char *const *v, size_t n) {
    char **o = xcalloc(n ? n : 1, sizeof *o);
    for (size_t i = 0; i < n; i++) o[i] = xstrdup(v[i]);
    return o;
}

static int same_list(char *const *a, size_t na, const char *const *b, size_t nb) {
    if (na != nb) return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i])) return 0;
    return 1;
}

/* Take the finished points of an existing file made from the same scenario text, --set
 * arguments and free keys. 0 (nothing or taken), or EXIT_INPUT with err. */
static int resume(fit_ctx *c, char *err, size_t errlen) {
    const fit_opts *o = c->o;
    if (access(o->output, F_OK)) return 0;
    if (!fit_file_probe(o->output)) {
        if (o->force) return 0;
        snprintf(err, errlen, "%s exists and is not a fit file (--force replaces it)", o->output);
        return EXIT_INPUT;
    }
    fit_data old;
    char e2[512];
    if (fit_file_read(o->output, &old, e2, sizeof e2)) {
        if (o->force) return 0;
        snprintf(err, errlen, "%s: %s (--force replaces it)", o->output, e2);
        return EXIT_INPUT;
    }
    const fit_meta *m = &c->data.meta;
    const char *why = NULL;
    if (strcmp(old.meta.scenario_hash, m->scenario_hash)) why = "other scenario files";
    else if (!same_list(old.meta.sets, old.meta.n_sets, (const char *const *)m->sets, m->n_sets))
        why = "other --set arguments";
    else if (!same_list(old.meta.keys, old.meta.n_keys, (const char *const *)m->keys, m->n_keys))
        why = "other free keys";
    if (why) {
        fit_data_free(&old);
        if (o->force) return 0;
        snprintf(err, errlen, "%s holds a fit of %s (--force replaces it)", o->output, why);
        return EXIT_INPUT;
    }
    for (size_t i = 0; i < old.n_pts; i++) {
        fit_point *p = &old.pts[i];
        if (strcmp(p->status, "ok")) continue; /* failed points run again */
        char **texts = xcalloc(c->d ? c->d : 1, sizeof *texts);
        for (size_t k = 0; k < c->d; k++) {
            char t[32];
            if (c->fr[k].boolean) snprintf(t, sizeof t, "%s", p->values[k] ? "true" : "false");
            else if (c->fr[k].integer) snprintf(t, sizeof t, "%.0f", p->values[k]);
            else snprintf(t, sizeof t, "%.6g", p->values[k]);
            texts[k] = xstrdup(t);
        }
        job_result r;
        memset(&r, 0, sizeof r);
        memcpy(r.sim, p->sim, sizeof r.sim);
        snprintf(r.status, sizeof r.status, "ok");
        c->batch_iter = p->iteration;
        c->batch_stage = p->stage;
        add_point(c, texts, p->values, &r, NULL);
        for (size_t k = 0; k < c->d; k++) free(texts[k]);
        free(texts);
    }
    fit_data_free(&old);
    c->batch_stage = "design";
    c->batch_iter = 0;
    return 0;
}

/* ---- the search ----------------------------------------------------------------------- */

/* fit_search's evaluation callback: the batch is run and recorded under its stage. */
static int search_eval(void *ctx, const char *stage, int iter, const double *x, size_t n,
                       double *chi2, char *err, size_t errlen) {
    fit_ctx *c = ctx;
    c->batch_stage = stage;
    c->batch_iter = iter;
    return evaluate(c, x, n, chi2, err, errlen);
}

/* ---- the command ---------------------------------------------------------------------- */

int fit_run(const fit_opts *o, fit_stats *st, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    fit_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.t0 = now_wall();
    c.tty = isatty(2);
    c.data.meta.best_row = -1;
    if (!o->n_free) {
        snprintf(err, errlen, "no --free KEY=LO:HI given");
        return EXIT_INPUT;
    }
    if (o->design > 100000 || o->max_evals > 1000000) {
        snprintf(err, errlen, "--%s %d: at most %d (each point is a whole replay)",
                 o->design > 100000 ? "design" : "max-evals",
                 o->design > 100000 ? o->design : o->max_evals,
                 o->design > 100000 ? 100000 : 1000000);
        return EXIT_INPUT;
    }
    {
        size_t d = o->n_free, n0 = o->design > 0 ? (size_t)o->design : (10 * d < 8 ? 8 : 10 * d);
        if (o->starts > 0 && (size_t)o->starts > n0) {
            snprintf(err, errlen, "--starts %d: at most the %zu design points", o->starts, n0);
            return EXIT_INPUT;
        }
    }
    c.fr = xcalloc(o->n_free, sizeof *c.fr);
    int rc = 0;
    for (size_t k = 0; k < o->n_free && !rc; k++) {
        if (fit_free_parse(o->free_args[k], &c.fr[k], err, errlen)) rc = EXIT_INPUT;
        else c.d = k + 1;
        for (size_t t = 0; !rc && t < c.fr[k].n_keys; t++) {
            const char *key = c.fr[k].keys[t];
            for (size_t j = 0; j <= k && !rc; j++)
                for (size_t u = 0; u < c.fr[j].n_keys && !rc; u++)
                    if ((j < k || u < t) && !strcmp(c.fr[j].keys[u], key)) {
                        snprintf(err, errlen, "--free %s: %s is free twice", o->free_args[k], key);
                        rc = EXIT_INPUT;
                    }
            size_t kl = strlen(key);
            for (size_t s = 0; s < o->n_sets && !rc; s++)
                if (!strncmp(o->sets[s], key, kl) && o->sets[s][kl] == '=') {
                    snprintf(err, errlen, "--free %s: %s is also fixed by --set %s",
                             o->free_args[k], key, o->sets[s]);
                    rc = EXIT_INPUT;
                }
        }
    }
    if (!rc) rc = load_checked(o, &c, err, errlen);
    if (!rc) {
        fit_meta *m = &c.data.meta;
        uint64_t h = SWEEP_FNV_INIT;
        for (int i = 0; i < c.sc.n_sources; i++)
            h = sweep_fnv1a(h, c.sc.sources[i].text, strlen(c.sc.sources[i].text) + 1);
        char created[40];
        sim_iso_now(created, sizeof created);
        m->orionsim_version = xstrdup(ORIONSIM_VERSION);
        m->created = xstrdup(created);
        m->scenario_path = xstrdup(o->scenario);
        m->scenario_hash = hex64(h);
        m->sets = dup_list(o->sets, o->n_sets);
        m->n_sets = o->n_sets;
        m->keys = xcalloc(c.d ? c.d : 1, sizeof *m->keys);
        for (size_t k = 0; k < c.d; k++) m->keys[k] = xstrdup(c.fr[k].key);
        m->n_keys = c.d;
        m->free_args = dup_list(o->free_args, o->n_free);
        m->n_free_args = o->n_free;
        m->hold_out = dup_list(o->hold_out, o->n_hold);
        m->n_hold = o->n_hold;
        m->seed = o->seed;
        m->best_row = -1;
        rc = resume(&c, err, errlen);
    }
    if (!rc) {
        if (c.data.n_pts && o->progress)
            fprintf(stderr, "fit: resuming %s: %zu points already evaluated\n", o->output,
                    c.data.n_pts);
        save(&c);
        if (c.write_failed) {
            snprintf(err, errlen, "%s", c.werr);
            rc = EXIT_RUN;
        }
    }
    if (!rc) {
        rc = fit_search(o, c.d, search_eval, &c, st, err, errlen) ? EXIT_RUN : 0;
        c.data.meta.complete = rc == 0;
        save(&c);
        if (!rc && c.write_failed) {
            snprintf(err, errlen, "%s", c.werr);
            rc = EXIT_RUN;
        }
        progress(&c, 1);
    }
    st->evaluated = c.data.n_pts;
    st->ran = c.ran;
    for (size_t i = 0; i < c.data.n_pts; i++) st->consistent += c.data.pts[i].consistent;
    if (c.data.meta.best_row >= 0) st->best_chi2 = c.data.pts[c.data.meta.best_row].chi2;
    st->wall_s = now_wall() - c.t0;
    for (size_t i = 0; i < c.data.n_pts; i++) free(c.keys_text[i]);
    free(c.keys_text);
    fit_data_free(&c.data);
    for (size_t k = 0; k < o->n_free; k++) fit_free_clear(&c.fr[k]);
    free(c.fr);
    sim_scenario_free(&c.sc);
    return rc;
}
