/* sim/report/plot_trace.c: loading a trace for plotting, and the figures drawn from its small
 * tables: (a) utilisation breakdown, (b) MFU over time, (e) loss curves (sim/report/plot.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/fields.h"
#include "sim/report/plot.h"
#include "sim/trace/trace_read.h"
#include "sim/base/util.h"

char *plot_stem(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *s = xstrdup(b);
    size_t n = strlen(s);
    if (n >= 3 && !strcmp(s + n - 3, ".h5")) s[n - 3] = 0;
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            *p = '-';
    if (!*s) {
        free(s);
        s = xstrdup("trace");
    }
    return s;
}

char *plot_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void plot_made(plot_ctx *c, const char *outstem) {
    c->made++;
    if (!c->quiet)
        fprintf(stderr, "plot: wrote %s.png%s\n", outstem, c->gp->svg ? " and .svg" : "");
}

void plot_skip(plot_ctx *c, const char *name, const char *why) {
    c->skipped++;
    fprintf(stderr, "plot: %s: skipped: %s\n", name, why);
}

void plot_trace_free(plot_trace *t) {
    free(t->path);
    free(t->name);
    free(t->peers);
    free(t->phases);
    memset(t, 0, sizeof *t);
}

int plot_trace_load(const char *path, plot_trace *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    trace_file *tf;
    if (trace_read_open(path, &tf, err, errlen)) return -1;
    t->path = xstrdup(path);
    t->name = plot_stem(path);
    t->published_utilisation = NAN;
    trace_reference ref;
    void *peers = NULL, *phases = NULL;
    int rc = trace_read_summary(tf, &t->sum);
    if (!rc) rc = trace_read_reference(tf, &ref);
    if (!rc) {
        for (size_t i = 0; i < ref.n; i++)
            if (!strcmp(ref.names[i], "utilisation")) t->published_utilisation = ref.values[i];
        trace_reference_free(&ref);
        rc = trace_read_peers(tf, (trace_peer_rec **)&peers, &t->n_peers);
    }
    if (!rc)
        rc = trace_read_table(tf, "phases", trace_phase_fields, trace_phase_n_fields,
                              sizeof(trace_phase_rec), &phases, &t->n_phases);
    if (!rc) {
        t->loss_rows = trace_read_rows(tf, "loss");
        t->event_rows = trace_read_rows(tf, "events");
        if (t->loss_rows < 0 || t->event_rows < 0) rc = -1;
    }
    t->peers = peers;
    t->phases = phases;
    if (rc) snprintf(err, errlen, "%s", trace_read_error(tf));
    trace_read_close(tf);
    if (rc) {
        plot_trace_free(t);
        return -1;
    }
    for (size_t i = 0; i < t->n_peers; i++) {
        if (t->peers[i].stage + 1 > t->stages) t->stages = t->peers[i].stage + 1;
        if (t->peers[i].replica + 1 > t->replicas) t->replicas = t->peers[i].replica + 1;
    }
    return 0;
}

/* Export table `table` of a trace as CSV to `csv`. */
static int export_table(const char *tpath, const char *table, const char *csv, char *err,
                        size_t errlen) {
    trace_file *tf;
    if (trace_read_open(tpath, &tf, err, errlen)) return -1;
    FILE *f = fopen(csv, "w");
    int rc = 0;
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", csv, strerror(errno));
        rc = -1;
    } else {
        if (trace_read_table_csv(tf, table, f)) {
            snprintf(err, errlen, "%s", trace_read_error(tf));
            rc = -1;
        }
        if (fclose(f) && !rc) {
            snprintf(err, errlen, "%s: write error: %s", csv, strerror(errno));
            rc = -1;
        }
    }
    trace_read_close(tf);
    return rc;
}

static FILE *create_csv(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
    return f;
}

static int close_csv(FILE *f, const char *path, char *err, size_t errlen) {
    if (fclose(f)) {
        snprintf(err, errlen, "%s: write error: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- (a) utilisation breakdown ---------------------------------------------------- */

int plot_utilisation(plot_ctx *c, const plot_trace *t, size_t n, char *err, size_t errlen) {
    char *csv = plot_path(c->datadir, "utilisation.csv");
    FILE *f = create_csv(csv, err, errlen);
    if (!f) {
        free(csv);
        return -1;
    }
    fprintf(f, "run,training,uploading,merging,other,published\n");
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        const sim_summary *s = &t[i].sum;
        double tot = s->time_training_s + s->time_uploading_s + s->time_merging_s + s->time_other_s;
        if (!(tot > 0)) {
            plot_skip(c, t[i].name,
                      "no simulated time in its summary: left out of the utilisation figure");
            continue;
        }
        char v[5][40];
        double pub = t[i].published_utilisation * 100;
        fprintf(f, "%s,%s,%s,%s,%s,%s\n", t[i].name,
                sim_format_double(v[0], sizeof v[0], 100 * s->time_training_s / tot),
                sim_format_double(v[1], sizeof v[1], 100 * s->time_uploading_s / tot),
                sim_format_double(v[2], sizeof v[2], 100 * s->time_merging_s / tot),
                sim_format_double(v[3], sizeof v[3], 100 * s->time_other_s / tot),
                isnan(pub) ? "nan" : sim_format_double(v[4], sizeof v[4], pub));
        rows++;
    }
    int rc = close_csv(f, csv, err, errlen);
    if (!rc && rows) {
        gp_vars vs = {0};
        gp_var_str(&vs, "data", csv);
        gp_var_num(&vs, "nruns", (double)rows);
        size_t tl = 1;
        for (size_t i = 0; i < n; i++) tl += strlen(t[i].name) + 2;
        char *title = xcalloc(tl, 1);
        for (size_t i = 0; i < n; i++) {
            if (i) strcat(title, ", ");
            strcat(title, t[i].name);
        }
        gp_var_str(&vs, "title", title);
        free(title);
        char *stem = plot_path(c->outdir, "utilisation");
        rc = gp_render(c->gp, "utilisation", stem, &vs, err, errlen);
        if (!rc) plot_made(c, stem);
        free(stem);
        gp_vars_free(&vs);
    }
    free(csv);
    return rc;
}

/* ---- (b) MFU over time ------------------------------------------------------------ */

#define MFU_BINS 2000       /* points of the MFU curve at most */
#define MAX_SHADED_SYNCS 60 /* more sync phases than this are not shaded */

int plot_mfu(plot_ctx *c, const plot_trace *t, char *err, size_t errlen) {
    double k = t->sum.peak_flops_total / t->sum.model_flops_per_token / 100;
    if (!(k > 0) || !isfinite(k)) {
        plot_skip(c, t->name, "MFU figure: the summary has no peak FLOP/s or FLOPs per token");
        return 0;
    }
    trace_file *tf;
    if (trace_read_open(t->path, &tf, err, errlen)) return -1;
    void *recs = NULL;
    size_t ns = 0;
    int rc = trace_read_table(tf, "timeseries", trace_sample_fields, trace_sample_n_fields,
                              sizeof(trace_sample_rec), &recs, &ns);
    if (rc) snprintf(err, errlen, "%s", trace_read_error(tf));
    trace_read_close(tf);
    if (rc) return -1;
    const trace_sample_rec *s = recs;
    if (ns < 2) {
        free(recs);
        plot_skip(c, t->name, "MFU figure: fewer than 2 time-series samples");
        return 0;
    }
    int64_t s_last_ns = s[ns - 1].t_ns;
    double t_end_s = (double)s_last_ns * 1e-9;
    int hours = t_end_s > 3 * 3600;
    double unit_ns = hours ? 3.6e12 : 6e10;
    double ymax = 0;
    for (size_t i = 0; i < ns; i++) {
        double m = s[i].tokens_per_s / k;
        if (m > ymax) ymax = m;
        if (100 * s[i].mfu_window > ymax) ymax = 100 * s[i].mfu_window;
    }
    ymax = ymax > 0 ? ymax * 1.25 : 1;
    /* Best sustained window: the trailing window of the sample where it peaks, among
     * samples with a full window behind them (or the last sample of a shorter run). */
    int64_t w_ns = (int64_t)(t->sum.mfu_window_s * 1e9);
    size_t best = ns;
    for (size_t i = 0; i < ns; i++)
        if (s[i].t_ns >= w_ns && (best == ns || s[i].mfu_window > s[best].mfu_window)) best = i;
    if (best == ns) best = ns - 1;
    double b1 = (double)s[best].t_ns / unit_ns;
    double b0 = (double)(s[best].t_ns - w_ns) / unit_ns;
    if (b0 < 0) b0 = 0;
    size_t n_sync = 0;
    for (size_t i = 0; i < t->n_phases; i++) n_sync += t->phases[i].phase == TRACE_PHASE_UPLOADING;

    char name[512];
    snprintf(name, sizeof name, "%s-timeseries.csv", t->name);
    char *ts = plot_path(c->datadir, name);
    snprintf(name, sizeof name, "%s-phases.csv", t->name);
    char *ph = plot_path(c->datadir, name);
    snprintf(name, sizeof name, "%s-mfu.csv", t->name);
    char *mf = plot_path(c->datadir, name);
    rc = export_table(t->path, "timeseries", ts, err, errlen);
    if (!rc) rc = export_table(t->path, "phases", ph, err, errlen);
    /* The curve: per-sample MFU, or for long runs the mean, min and max of bins of
     * samples (at most MFU_BINS), so that thousands of sync dips stay readable. */
    FILE *f = rc ? NULL : create_csv(mf, err, errlen);
    size_t per = (ns + MFU_BINS - 1) / MFU_BINS;
    char binw[64];
    double bw_s = (double)(s_last_ns - s[0].t_ns) * 1e-9 / (double)ns * (double)per;
    if (bw_s >= 3600) snprintf(binw, sizeof binw, "%.3g h", bw_s / 3600);
    else snprintf(binw, sizeof binw, "%.3g min", bw_s / 60);
    if (!rc && !f) rc = -1;
    if (f) {
        fprintf(f, "t,mfu,lo,hi,window\n");
        for (size_t i = 0; i < ns; i += per) {
            double sum = 0, lo = INFINITY, hi = -INFINITY, win = 0;
            size_t m = 0;
            for (size_t j = i; j < ns && j < i + per; j++, m++) {
                double v = s[j].tokens_per_s / k;
                sum += v;
                win += 100 * s[j].mfu_window;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            double tc = (double)(s[i].t_ns + s[i + m - 1].t_ns) / 2 / unit_ns;
            char a[40], b[40], d[40], e[40], g[40];
            fprintf(f, "%s,%s,%s,%s,%s\n", sim_format_double(a, sizeof a, tc),
                    sim_format_double(b, sizeof b, sum / (double)m),
                    sim_format_double(d, sizeof d, lo), sim_format_double(e, sizeof e, hi),
                    sim_format_double(g, sizeof g, win / (double)m));
        }
        rc = close_csv(f, mf, err, errlen);
        if (per > 1 && !c->quiet)
            fprintf(stderr,
                    "plot: %s: MFU curve: mean, min and max of %zu-sample bins (%zu samples)\n",
                    t->name, per, ns);
    }
    free(recs);
    if (!rc) {
        gp_vars vs = {0};
        gp_var_str(&vs, "curve", mf);
        gp_var_str(&vs, "phases", ph);
        gp_var_num(&vs, "shade", n_sync <= MAX_SHADED_SYNCS);
        gp_var_num(&vs, "binned", per > 1);
        gp_var_str(&vs, "binw", binw);
        gp_var_num(&vs, "xmax", (double)s_last_ns / unit_ns);
        gp_var_str(&vs, "title", t->name);
        gp_var_num(&vs, "k", k);
        gp_var_num(&vs, "unit_ns", unit_ns);
        gp_var_str(&vs, "tunit", hours ? "h" : "min");
        gp_var_num(&vs, "ymax", ymax);
        gp_var_num(&vs, "best0", b0);
        gp_var_num(&vs, "best1", b1);
        gp_var_num(&vs, "best_mfu", 100 * t->sum.mfu_best_window);
        gp_var_num(&vs, "window_h", t->sum.mfu_window_s / 3600);
        gp_var_num(&vs, "mfu_train", 100 * t->sum.mfu_training);
        snprintf(name, sizeof name, "%s-mfu", t->name);
        char *stem = plot_path(c->outdir, name);
        rc = gp_render(c->gp, "mfu", stem, &vs, err, errlen);
        if (!rc) plot_made(c, stem);
        free(stem);
        gp_vars_free(&vs);
    }
    free(ts);
    free(ph);
    free(mf);
    return rc;
}

/* ---- (e) loss curves -------------------------------------------------------------- */

typedef struct {
    int32_t cycle, step, kind;
    int64_t tokens, t_ns;
    double sum;
    int n;
} loss_pt;

static int cmp_loss_pt(const void *a, const void *b) {
    const loss_pt *x = a, *y = b;
    if (x->kind != y->kind) return x->kind - y->kind;
    if (x->cycle != y->cycle) return x->cycle < y->cycle ? -1 : 1;
    return x->step < y->step ? -1 : x->step > y->step;
}

/* Mean over replicas of each (kind, cycle, inner step), then over the steps that share a
 * token count; writes tokens, time, loss, kind. */
static int write_loss_csv(const plot_trace *t, const char *csv, double unit_ns, char *err,
                          size_t errlen) {
    trace_file *tf;
    if (trace_read_open(t->path, &tf, err, errlen)) return -1;
    void *recs = NULL;
    size_t n = 0;
    int rc = trace_read_table(tf, "loss", trace_loss_fields, trace_loss_n_fields,
                              sizeof(trace_loss_rec), &recs, &n);
    if (rc) snprintf(err, errlen, "%s", trace_read_error(tf));
    trace_read_close(tf);
    if (rc) return -1;
    const trace_loss_rec *l = recs;
    loss_pt *p = xcalloc(n ? n : 1, sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] =
            (loss_pt){l[i].cycle, l[i].inner_step, l[i].kind, l[i].tokens, l[i].t_ns, l[i].loss, 1};
    free(recs);
    qsort(p, n, sizeof *p, cmp_loss_pt);
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (np && !cmp_loss_pt(&p[np - 1], &p[i])) {
            loss_pt *q = &p[np - 1];
            q->sum += p[i].sum;
            q->n++;
            if (p[i].tokens > q->tokens) q->tokens = p[i].tokens;
            if (p[i].t_ns > q->t_ns) q->t_ns = p[i].t_ns;
        } else {
            p[np++] = p[i];
        }
    }
    /* Inner steps that end before the next stage-0 backward share a token count: one
     * point per count (their mean, at the latest time), so the curve has no vertical
     * strokes. */
    size_t nm = 0;
    for (size_t i = 0; i < np; i++) {
        const double step_mean = p[i].sum / p[i].n;
        if (nm && p[nm - 1].kind == p[i].kind && p[nm - 1].tokens == p[i].tokens) {
            loss_pt *q = &p[nm - 1];
            q->sum += step_mean;
            q->n++;
            if (p[i].t_ns > q->t_ns) q->t_ns = p[i].t_ns;
        } else {
            p[nm] = p[i];
            p[nm].sum = step_mean;
            p[nm].n = 1;
            nm++;
        }
    }
    np = nm;
    FILE *f = create_csv(csv, err, errlen);
    if (!f) {
        free(p);
        return -1;
    }
    fprintf(f, "mtokens,time,loss,kind\n");
    for (size_t i = 0; i < np; i++) {
        char a[40], b[40], d[40];
        fprintf(f, "%s,%s,%s,%d\n", sim_format_double(a, sizeof a, (double)p[i].tokens / 1e6),
                sim_format_double(b, sizeof b, (double)p[i].t_ns / unit_ns),
                sim_format_double(d, sizeof d, p[i].sum / p[i].n), p[i].kind);
    }
    free(p);
    return close_csv(f, csv, err, errlen);
}

int plot_loss(plot_ctx *c, const plot_trace *t, size_t n, char *err, size_t errlen) {
    size_t with = 0;
    double tmax = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].loss_rows > 0) {
            with++;
            if (t[i].sum.sim_time_s > tmax) tmax = t[i].sum.sim_time_s;
        }
    if (!with) {
        plot_skip(c, "loss", "no trace has loss rows (modeled runs have none; live runs do)");
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!t[i].loss_rows) plot_skip(c, t[i].name, "no loss rows: left out of the loss figure");
    int hours = tmax > 3 * 3600;
    double unit_ns = hours ? 3.6e12 : 6e10;
    size_t cap = 64;
    for (size_t i = 0; i < n; i++) cap += 2 * strlen(t[i].name) + 48;
    char *files = xcalloc(cap, 1), *labels = xcalloc(cap, 1);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!t[i].loss_rows) continue;
        char name[512];
        snprintf(name, sizeof name, "%s-loss.csv", t[i].name);
        char *csv = plot_path(c->datadir, name);
        rc = write_loss_csv(&t[i], csv, unit_ns, err, errlen);
        free(csv);
        size_t fl = strlen(files), ll = strlen(labels);
        snprintf(files + fl, cap - fl, "%s%s", fl ? " " : "", name);
        if (isfinite(t[i].sum.compression_ratio) && t[i].sum.compression_ratio > 0)
            snprintf(labels + ll, cap - ll, "%s%s(%gx)", ll ? " " : "", t[i].name,
                     t[i].sum.compression_ratio);
        else snprintf(labels + ll, cap - ll, "%s%s", ll ? " " : "", t[i].name);
    }
    if (!rc) {
        gp_vars vs = {0};
        gp_var_str(&vs, "datadir", c->datadir);
        gp_var_str(&vs, "files", files);
        gp_var_str(&vs, "labels", labels);
        gp_var_str(&vs, "tunit", hours ? "h" : "min");
        gp_var_str(&vs, "title", with == 1 ? labels : "loss by compression ratio");
        char *stem = plot_path(c->outdir, "loss");
        rc = gp_render(c->gp, "loss", stem, &vs, err, errlen);
        if (!rc) plot_made(c, stem);
        free(stem);
        gp_vars_free(&vs);
    }
    free(files);
    free(labels);
    return rc;
}
