/* sim/report/plot_sweep.c: (f) heat maps of a sweep file (sim/report/plot.h).
 *
 * The whole /points table goes to <sweep>-points.csv (parameters, status, error and
 * every summary field). The heat maps put the first --vary key on the y axis and the
 * second on the x axis, one cell per point, categorical axes in value order; with one
 * key they are a single row, and with more than two there is one map per combination of
 * the other keys. Metrics: utilisation, mfu_overall, tokens_per_s, and resbm_loss_gap
 * when some point has it. Failed and pending points are grey cells that say so.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/fields.h"
#include "sim/report/plot.h"
#include "sim/scenario/scenario_schema.h"
#include "sim/sweep/sweep_file.h"
#include "sim/base/util.h"

typedef struct {
    const char *field; /* summary field */
    const char *slug;  /* file name part */
    double scale;
    const char *label;   /* colour-bar label */
    const char *cellfmt; /* cell text */
    int lower_better;    /* 1: the palette runs the other way (dark green = low) */
} metric;

static const metric metrics[] = {
    {"utilisation", "utilisation", 100, "utilisation (% of wall-clock in training)", "%.1f%%", 0},
    {"mfu_overall", "mfu", 100, "MFU over the whole run (%)", "%.1f%%", 0},
    {"tokens_per_s", "tokens", 1, "throughput (tokens/s)", "%.0f", 0},
    {"resbm_loss_gap", "resbm-loss", 1, "ResBM loss gap (nats/token; lower is better)", "%.3f", 1},
};
#define N_METRICS (sizeof metrics / sizeof metrics[0])

/* Distinct values of key k, numeric ascending when every value is numeric, else in
 * order of first appearance. Returns indices into pts (a representative each). */
static size_t *distinct(const sweep_point *pts, size_t n, size_t k, size_t *nd) {
    size_t *d = xcalloc(n ? n : 1, sizeof *d), m = 0;
    int numeric = 1;
    for (size_t i = 0; i < n; i++) {
        numeric &= pts[i].params[k].numeric;
        size_t j = 0;
        while (j < m && !sweep_value_eq(&pts[d[j]].params[k], &pts[i].params[k])) j++;
        if (j == m) d[m++] = i;
    }
    if (numeric) /* insertion sort: a handful of values */
        for (size_t i = 1; i < m; i++)
            for (size_t j = i; j > 0 && pts[d[j]].params[k].num < pts[d[j - 1]].params[k].num;
                 j--) {
                size_t x = d[j];
                d[j] = d[j - 1];
                d[j - 1] = x;
            }
    *nd = m;
    return d;
}

static size_t index_of(const sweep_point *pts, const size_t *d, size_t nd, size_t k,
                       const sweep_value *v) {
    for (size_t j = 0; j < nd; j++)
        if (sweep_value_eq(&pts[d[j]].params[k], v)) return j;
    return nd;
}

/* "(\"1\" 0, \"10\" 1, ...)" for gnuplot's set xtics. */
static char *tics(const sweep_point *pts, const size_t *d, size_t nd, size_t k) {
    size_t cap = 8, at = 0;
    for (size_t j = 0; j < nd; j++) cap += strlen(pts[d[j]].params[k].text) * 2 + 24;
    char *s = xmalloc(cap);
    at += (size_t)snprintf(s, cap, "(");
    for (size_t j = 0; j < nd; j++) {
        at += (size_t)snprintf(s + at, cap - at, "%s\"", j ? ", " : "");
        for (const char *p = pts[d[j]].params[k].text; *p && at + 4 < cap; p++) {
            if (*p == '"' || *p == '\\') s[at++] = '\\';
            s[at++] = *p;
        }
        at += (size_t)snprintf(s + at, cap - at, "\" %zu", j);
    }
    snprintf(s + at, cap - at, ")");
    return s;
}

static char *axis_label(const char *key) {
    char norm[256], buf[320];
    const sk_entry *e = sk_normalize(key, norm, sizeof norm) ? NULL : sk_find(norm);
    if (e && e->units && *e->units) snprintf(buf, sizeof buf, "%s (%s)", key, e->units);
    else snprintf(buf, sizeof buf, "%s", key);
    return xstrdup(buf);
}

static void cell_text(char *buf, size_t n, const sweep_point *p, const metric *m, double v) {
    char num[48];
    if (!strcmp(p->status, "failed")) snprintf(buf, n, "failed");
    else if (!sweep_point_done(p)) snprintf(buf, n, "%s", p->status);
    else if (!isfinite(v)) snprintf(buf, n, "n/a");
    else if (!strcmp(p->status, "stopped")) { /* the figure so far, marked */
        snprintf(num, sizeof num, m->cellfmt, v * m->scale);
        snprintf(buf, n, "%s*", num);
    } else snprintf(buf, n, m->cellfmt, v * m->scale);
}

static int write_points_csv(const char *csv, const sweep_meta *m, const sweep_point *pts, size_t n,
                            char *err, size_t errlen) {
    FILE *f = fopen(csv, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", csv, strerror(errno));
        return -1;
    }
    for (size_t k = 0; k < m->n_keys; k++) {
        sim_csv_string(f, m->keys[k], strlen(m->keys[k]));
        fputc(',', f);
    }
    fputs("status,error", f);
    sim_fields_csv_header(f, sim_summary_fields, sim_summary_n_fields, 1);
    fputc('\n', f);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < m->n_keys; k++) {
            int numeric = 1;
            for (size_t j = 0; j < n; j++) numeric &= pts[j].params[k].numeric;
            if (numeric) sim_csv_double(f, pts[i].params[k].num);
            else sim_csv_string(f, pts[i].params[k].text, strlen(pts[i].params[k].text));
            fputc(',', f);
        }
        sim_csv_string(f, pts[i].status, SWEEP_STATUS_LEN);
        fputc(',', f);
        sim_csv_string(f, pts[i].error, SWEEP_ERROR_LEN);
        sim_fields_csv_row(f, sim_summary_fields, sim_summary_n_fields, &pts[i].sum, 1);
        fputc('\n', f);
    }
    if (fclose(f)) {
        snprintf(err, errlen, "%s: write error: %s", csv, strerror(errno));
        return -1;
    }
    return 0;
}

typedef struct {
    plot_ctx *c;
    const sweep_meta *m;
    const sweep_point *pts;
    size_t n;
    const char *stem;
    size_t **dv; /* distinct values per key */
    size_t *nd;
    int have_gap;
} heat_job;

/* One slice: the points whose keys 2.. have the values of `fixed` (indices per key). */
static int heat_slice(heat_job *h, const size_t *fixed, char *err, size_t errlen) {
    const sweep_meta *m = h->m;
    size_t nk = m->n_keys;
    char suffix[512] = "", subtitle[512] = "";
    for (size_t k = 2; k < nk; k++) {
        const char *v = h->pts[h->dv[k][fixed[k]]].params[k].text;
        size_t sl = strlen(suffix), tl = strlen(subtitle);
        snprintf(suffix + sl, sizeof suffix - sl, "-%s=%s", m->keys[k], v);
        snprintf(subtitle + tl, sizeof subtitle - tl, "%s%s = %s", tl ? ", " : " at ", m->keys[k],
                 v);
    }
    for (char *p = suffix; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-' || *p == '=' || *p == '+'))
            *p = '-';
    char name[1024];
    snprintf(name, sizeof name, "%s-heat%s.csv", h->stem, suffix);
    char *csv = plot_path(h->c->datadir, name);
    FILE *f = fopen(csv, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", csv, strerror(errno));
        free(csv);
        return -1;
    }
    fprintf(f, "ix,iy");
    for (size_t j = 0; j < N_METRICS; j++)
        fprintf(f, ",%s,text_%s", metrics[j].field, metrics[j].field);
    fputc('\n', f);
    size_t cells = 0, stopped = 0;
    for (size_t i = 0; i < h->n; i++) {
        const sweep_point *p = &h->pts[i];
        int in = 1;
        for (size_t k = 2; k < nk && in; k++)
            in = index_of(h->pts, h->dv[k], h->nd[k], k, &p->params[k]) == fixed[k];
        if (!in) continue;
        stopped += !strcmp(p->status, "stopped");
        size_t iy = index_of(h->pts, h->dv[0], h->nd[0], 0, &p->params[0]);
        size_t ix = nk > 1 ? index_of(h->pts, h->dv[1], h->nd[1], 1, &p->params[1]) : 0;
        fprintf(f, "%zu,%zu", ix, iy);
        for (size_t j = 0; j < N_METRICS; j++) {
            double v = sim_summary_get(&p->sum, sim_summary_field(metrics[j].field));
            char txt[64];
            cell_text(txt, sizeof txt, p, &metrics[j], v);
            fputc(',', f);
            sim_csv_double(f, sweep_point_done(p) ? v * metrics[j].scale : NAN);
            fputc(',', f);
            sim_csv_string(f, txt, sizeof txt);
        }
        fputc('\n', f);
        cells++;
    }
    if (fclose(f)) {
        snprintf(err, errlen, "%s: write error: %s", csv, strerror(errno));
        free(csv);
        return -1;
    }
    char *xt = nk > 1 ? tics(h->pts, h->dv[1], h->nd[1], 1) : xstrdup("(\"\" 0)");
    char *yt = tics(h->pts, h->dv[0], h->nd[0], 0);
    char *xl = nk > 1 ? axis_label(m->keys[1]) : xstrdup("");
    char *yl = axis_label(m->keys[0]);
    int rc = 0;
    for (size_t j = 0; j < N_METRICS && !rc && cells; j++) {
        if (!strcmp(metrics[j].field, "resbm_loss_gap") && !h->have_gap) continue;
        gp_vars vs = {0};
        char title[1024];
        snprintf(title, sizeof title, "%s sweep: %s%s%s", m->scenario_name, metrics[j].label,
                 subtitle, stopped ? " (*: stopped at max_sim, figure of the part run)" : "");
        gp_var_str(&vs, "data", csv);
        gp_var_str(&vs, "title", title);
        gp_var_str(&vs, "col", metrics[j].field);
        char tcol[64];
        snprintf(tcol, sizeof tcol, "text_%s", metrics[j].field);
        gp_var_str(&vs, "tcol", tcol);
        gp_var_str(&vs, "cblabel", metrics[j].label);
        gp_var_str(&vs, "xt", xt);
        gp_var_str(&vs, "yt", yt);
        gp_var_str(&vs, "xl", xl);
        gp_var_str(&vs, "yl", yl);
        gp_var_num(&vs, "nx", nk > 1 ? (double)h->nd[1] : 1);
        gp_var_num(&vs, "ny", (double)h->nd[0]);
        gp_var_num(&vs, "lower_better", metrics[j].lower_better);
        snprintf(name, sizeof name, "%s-heat-%s%s", h->stem, metrics[j].slug, suffix);
        char *stem = plot_path(h->c->outdir, name);
        rc = gp_render(h->c->gp, "heatmap", stem, &vs, err, errlen);
        if (!rc) plot_made(h->c, stem);
        free(stem);
        gp_vars_free(&vs);
    }
    free(xt);
    free(yt);
    free(xl);
    free(yl);
    free(csv);
    return rc;
}

int plot_sweep(plot_ctx *c, const char *path, char *err, size_t errlen) {
    sweep_meta m;
    sweep_point *pts;
    size_t n;
    char rerr[512];
    if (sweep_file_read(path, &m, &pts, &n, rerr, sizeof rerr)) {
        snprintf(err, errlen, "%s: %s", path, rerr);
        return -1;
    }
    char *stem = plot_stem(path);
    char name[512];
    snprintf(name, sizeof name, "%s-points.csv", stem);
    char *csv = plot_path(c->datadir, name);
    int rc = write_points_csv(csv, &m, pts, n, err, errlen);
    free(csv);
    if (!rc && (!n || !m.n_keys)) {
        plot_skip(c, stem, "the sweep file has no points");
    } else if (!rc) {
        heat_job h = {c, &m, pts, n, stem, NULL, NULL, 0};
        h.dv = xcalloc(m.n_keys, sizeof *h.dv);
        h.nd = xcalloc(m.n_keys, sizeof *h.nd);
        for (size_t k = 0; k < m.n_keys; k++) h.dv[k] = distinct(pts, n, k, &h.nd[k]);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(pts[i].status, "ok") && isfinite(pts[i].sum.resbm_loss_gap)) h.have_gap = 1;
        /* every combination of the keys beyond the first two */
        size_t *fixed = xcalloc(m.n_keys, sizeof *fixed);
        for (;;) {
            rc = heat_slice(&h, fixed, err, errlen);
            if (rc) break;
            size_t k = m.n_keys;
            while (k > 2 && ++fixed[k - 1] == h.nd[k - 1]) fixed[--k] = 0;
            if (k <= 2) break;
        }
        free(fixed);
        for (size_t k = 0; k < m.n_keys; k++) free(h.dv[k]);
        free(h.dv);
        free(h.nd);
    }
    free(stem);
    sweep_points_free(pts, n, m.n_keys);
    sweep_meta_free(&m);
    return rc;
}
