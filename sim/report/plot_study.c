/* sim/report/plot_study.c: (g) the figures of a study file (sim/study/study.h).
 *
 * <study>-loss: loss curves with their 95% bands, training (top row) and validation
 * (bottom row), one column per model width, one colour per boundary: the mean over the
 * seeds and the band mean -+ the t interval's half-width, point by point, at the points
 * every seed of the group has.
 * <study>-gap: the final validation-loss gap to the uncompressed baseline (paired by
 * seed, with its 95% interval as error bars; the training-loss gap dashed beside it) of
 * the ResBM boundaries, against the bottleneck width k (left) and the compression ratio
 * d_model / k (right), one line per width.
 * Data: DIR/data/<study>-d<W>-b<j>-{train,val}.csv (mtokens,mean,lo,hi,n) and
 * <study>-gap-d<W>.csv (k,ratio,gap,gap_ci,val_gap,val_gap_ci,n), and the whole /stats
 * table as <study>-stats.csv.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/report/plot.h"
#include "sim/study/study.h"

static FILE *open_csv(const plot_ctx *c, const char *name, char *err, size_t errlen) {
    char *p = plot_path(c->datadir, name);
    FILE *f = fopen(p, "w");
    if (!f) snprintf(err, errlen, "%s: cannot create: %s", p, strerror(errno));
    free(p);
    return f;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void num(FILE *f, double v) {
    if (isnan(v)) fprintf(f, "nan");
    else fprintf(f, "%.17g", v);
}

/* Draw plots/study-<kind>.gp over the CSVs under datadir/<stem>: the series (its
 * `widths` variable) and their labels. */
static int render_study(plot_ctx *c, const char *stem, const char *kind, const char *series,
                        const char *labels, char *err, size_t errlen) {
    gp_vars vs = {0};
    char name[512], tmpl[32];
    char *prefix = plot_path(c->datadir, stem);
    gp_var_str(&vs, "prefix", prefix);
    gp_var_str(&vs, "widths", series);
    gp_var_str(&vs, "labels", labels);
    gp_var_str(&vs, "title", stem);
    snprintf(name, sizeof name, "%s-%s", stem, kind);
    snprintf(tmpl, sizeof tmpl, "study-%s", kind);
    char *out = plot_path(c->outdir, name);
    int rc = gp_render(c->gp, tmpl, out, &vs, err, errlen);
    if (!rc) plot_made(c, out);
    free(out);
    free(prefix);
    gp_vars_free(&vs);
    return rc;
}

int plot_study(plot_ctx *c, const char *path, char *err, size_t errlen) {
    study_stat_rec *st;
    study_curve_rec *cv;
    size_t ns, nc;
    if (study_file_read(path, &st, &ns, &cv, &nc, err, errlen)) return -1;
    char *stem = plot_stem(path);
    int rc = 0;
    /* widths (ascending) and boundaries (in table order) */
    int *w = xcalloc(ns ? ns : 1, sizeof *w);
    size_t nw = 0, nb = 0;
    const char **bd = xcalloc(ns ? ns : 1, sizeof *bd);
    for (size_t i = 0; i < ns; i++) {
        size_t j = 0;
        while (j < nw && w[j] != st[i].width) j++;
        if (j == nw) w[nw++] = st[i].width;
        j = 0;
        while (j < nb && strcmp(bd[j], st[i].boundary)) j++;
        if (j == nb) bd[nb++] = st[i].boundary;
    }
    qsort(w, nw, sizeof *w, cmp_int);
    char name[512];
    /* the stats table */
    snprintf(name, sizeof name, "%s-stats.csv", stem);
    FILE *f = open_csv(c, name, err, errlen);
    if (!f) rc = -1;
    else {
        sim_fields_csv_header(f, study_stat_fields, study_stat_n_fields, 0);
        fputc('\n', f);
        for (size_t i = 0; i < ns; i++) {
            sim_fields_csv_row(f, study_stat_fields, study_stat_n_fields, &st[i], 0);
            fputc('\n', f);
        }
        fclose(f);
    }
    /* curves */
    size_t cap = 64;
    char *labels = xcalloc(cap, 1), *widths = xcalloc(16 * (nw + 1), 1);
    for (size_t j = 0; j < nb; j++) {
        size_t need = strlen(labels) + strlen(bd[j]) + 2;
        if (need > cap) labels = xrealloc(labels, cap = 2 * need);
        strcat(labels, j ? " " : "");
        strcat(labels, bd[j]);
    }
    /* widths with curve points only (a study cut short may have none at some) */
    for (size_t i = 0; i < nw; i++) {
        int has = 0;
        for (size_t r = 0; r < nc && !has; r++) has = cv[r].width == w[i];
        if (has) sprintf(widths + strlen(widths), "%s%d", widths[0] ? " " : "", w[i]);
    }
    int any = 0;
    for (size_t i = 0; i < nw && !rc; i++)
        for (size_t j = 0; j < nb && !rc; j++)
            for (int kind = 0; kind < 2 && !rc; kind++) {
                snprintf(name, sizeof name, "%s-d%d-b%zu-%s.csv", stem, w[i], j + 1,
                         kind ? "val" : "train");
                if (!(f = open_csv(c, name, err, errlen))) {
                    rc = -1;
                    break;
                }
                fprintf(f, "mtokens,mean,lo,hi,n\n");
                /* the points every seed of the group has (a replica may take an extra
                 * inner step or two while a sync waits, in some seeds only) */
                int32_t most = 0;
                for (size_t r = 0; r < nc; r++)
                    if (cv[r].width == w[i] && cv[r].kind == kind &&
                        !strcmp(cv[r].boundary, bd[j]) && cv[r].n > most)
                        most = cv[r].n;
                for (size_t r = 0; r < nc; r++) {
                    const study_curve_rec *p = &cv[r];
                    if (p->width != w[i] || p->kind != kind || strcmp(p->boundary, bd[j]) ||
                        p->n < most)
                        continue;
                    double ci = isnan(p->ci) ? 0 : p->ci;
                    num(f, p->tokens / 1e6);
                    fputc(',', f);
                    num(f, p->mean);
                    fputc(',', f);
                    num(f, p->mean - ci);
                    fputc(',', f);
                    num(f, p->mean + ci);
                    fprintf(f, ",%d\n", p->n);
                    any = 1;
                }
                fclose(f);
            }
    if (!rc && !any) plot_skip(c, "study loss", "the study has no loss rows (no run done)");
    else if (!rc) rc = render_study(c, stem, "loss", widths, labels, err, errlen);
    /* gaps of the ResBM boundaries against k and the ratio: one series per model width
     * and fixed MLP hidden width ("resbm:kK:hH"; 0 = the scenario's rule), of those
     * that have one */
    any = 0;
    int hid[16], nh = 0;
    for (size_t r = 0; r < ns; r++) {
        int h = study_spec_hidden(st[r].boundary), j = 0;
        while (j < nh && hid[j] != h) j++;
        if (j == nh && nh < 16) hid[nh++] = h;
    }
    qsort(hid, (size_t)nh, sizeof *hid, cmp_int);
    size_t scap = 32 * (nw * (size_t)nh + 1);
    char *series = xcalloc(scap, 1), *slabels = xcalloc(scap, 1);
    for (size_t i = 0; i < nw && !rc; i++)
        for (int hi = 0; hi < nh && !rc; hi++) {
            char tok[32];
            if (hid[hi] == STUDY_HIDDEN_FFN) snprintf(tok, sizeof tok, "%d-hffn", w[i]);
            else if (hid[hi]) snprintf(tok, sizeof tok, "%d-h%d", w[i], hid[hi]);
            else snprintf(tok, sizeof tok, "%d", w[i]);
            snprintf(name, sizeof name, "%s-gap-d%s.csv", stem, tok);
            /* ascending k */
            int last = 0, mine = 0;
            f = NULL;
            for (;;) {
                const study_stat_rec *best = NULL;
                for (size_t r = 0; r < ns; r++)
                    if (st[r].width == w[i] && !strcmp(st[r].method, "resbm") &&
                        study_spec_hidden(st[r].boundary) == hid[hi] && st[r].k > last &&
                        (!best || st[r].k < best->k))
                        best = &st[r];
                if (!best) break;
                last = best->k;
                if (!best->n_pairs) continue;
                if (!f) {
                    if (!(f = open_csv(c, name, err, errlen))) {
                        rc = -1;
                        break;
                    }
                    fprintf(f, "k,ratio,gap,gap_ci,val_gap,val_gap_ci,n\n");
                }
                fprintf(f, "%d,", best->k);
                num(f, best->ratio);
                fputc(',', f);
                num(f, best->gap_mean);
                fputc(',', f);
                num(f, isnan(best->gap_ci) ? 0 : best->gap_ci);
                fputc(',', f);
                num(f, best->val_gap_mean);
                fputc(',', f);
                num(f, isnan(best->val_gap_ci) ? 0 : best->val_gap_ci);
                fprintf(f, ",%d\n", best->n_pairs);
                if (!mine) {
                    sprintf(series + strlen(series), "%s%s", series[0] ? " " : "", tok);
                    if (hid[hi] == STUDY_HIDDEN_FFN)
                        sprintf(slabels + strlen(slabels), "%sd%d/hidden=ffn",
                                slabels[0] ? " " : "", w[i]);
                    else if (hid[hi])
                        sprintf(slabels + strlen(slabels), "%sd%d/hidden%d", slabels[0] ? " " : "",
                                w[i], hid[hi]);
                    else sprintf(slabels + strlen(slabels), "%sd%d", slabels[0] ? " " : "", w[i]);
                }
                any = mine = 1;
            }
            if (f) fclose(f);
        }
    if (!rc && !any) plot_skip(c, "study gap", "no ResBM boundary has a paired baseline");
    else if (!rc) rc = render_study(c, stem, "gap", series, slabels, err, errlen);
    free(series);
    free(slabels);
    free(labels);
    free(widths);
    free(bd);
    free(w);
    free(stem);
    free(st);
    free(cv);
    return rc;
}
