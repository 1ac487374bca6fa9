/* sim/report/plot_fit.c: (g) a fit file's consistent region and residuals (sim/report/plot.h).
 *
 * One figure per pair of free keys (the first three keys: at most 3 pairs), named
 * <fit>-fit[-<i>-<j>]: on the left each published figure's z at the best point (fitted
 * and held out apart, with the z span over the consistent points), on the right every
 * evaluated point in the plane of the two keys, the consistent ones and the best one
 * marked. With one free key the right panel is chi2 against the key. Data:
 * <fit>-fit-figures.csv and <fit>-fit-points[-<i>-<j>].csv in the data directory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/fit/fit_file.h"
#include "sim/report/plot.h"

static int write_figures(const fit_data *d, const char *path, size_t *n, char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    fprintf(f, "figure,z,heldout,lo,hi\n");
    *n = 0;
    for (size_t i = 0; i < d->n_figs; i++) {
        const fit_figure_rec *r = &d->figs[i];
        if (!strcmp(r->role, "not fitted")) continue;
        double u = r->uncertainty * fabs(r->published);
        fprintf(f, "%s,%.6g,%d,%.6g,%.6g\n", r->figure, r->z, !strcmp(r->role, "held-out"),
                (r->consistent_min - r->published) / u, (r->consistent_max - r->published) / u);
        (*n)++;
    }
    if (fclose(f)) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    return 0;
}

/* Points in the plane of keys a and b (b < 0: chi2). */
static int write_points(const fit_data *d, int a, int b, const char *path, char *err,
                        size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    fprintf(f, "a,b,consistent,best\n");
    for (size_t i = 0; i < d->n_pts; i++) {
        const fit_point *p = &d->pts[i];
        if (strcmp(p->status, "ok") || !isfinite(p->chi2)) continue;
        fprintf(f, "%.9g,%.9g,%d,%d\n", p->values[a], b >= 0 ? p->values[b] : p->chi2,
                p->consistent, (long)i == d->meta.best_row);
    }
    if (fclose(f)) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    return 0;
}

int plot_fit(plot_ctx *c, const char *path, char *err, size_t errlen) {
    fit_data d;
    char e2[512];
    if (fit_file_read(path, &d, e2, sizeof e2)) {
        snprintf(err, errlen, "%s: %s", path, e2);
        return -1;
    }
    char *stem = plot_stem(path);
    int rc = 0;
    if (d.meta.best_row < 0 || !d.n_free) {
        plot_skip(c, stem, "no finished point");
        goto out;
    }
    char name[512];
    snprintf(name, sizeof name, "%s-fit-figures.csv", stem);
    char *figs = plot_path(c->datadir, name);
    size_t nfig = 0;
    rc = write_figures(&d, figs, &nfig, err, errlen);
    size_t nk = d.n_free < 3 ? d.n_free : 3;
    for (size_t a = 0; a < nk && !rc; a++) {
        for (size_t b = a + 1; b < nk + (nk == 1) && !rc; b++) {
            int one = nk == 1;
            char suffix[32] = "";
            if (nk > 2) snprintf(suffix, sizeof suffix, "-%zu-%zu", a, b);
            snprintf(name, sizeof name, "%s-fit-points%s.csv", stem, suffix);
            char *pts = plot_path(c->datadir, name);
            rc = write_points(&d, (int)a, one ? -1 : (int)b, pts, err, errlen);
            snprintf(name, sizeof name, "%s-fit%s", stem, suffix);
            char *out = plot_path(c->outdir, name);
            gp_vars vs = {0};
            char title[600];
            snprintf(title, sizeof title, "%s: fit of %s (%zu points, best chi2 %.3g)", stem,
                     d.meta.scenario_path, d.n_pts, d.pts[d.meta.best_row].chi2);
            gp_var_str(&vs, "figs", figs);
            gp_var_str(&vs, "pts", pts);
            gp_var_str(&vs, "title", title);
            gp_var_str(&vs, "xlab", d.free[a].key);
            gp_var_str(&vs, "ylab", one ? "chi2" : d.free[b].key);
            gp_var_num(&vs, "logx", d.free[a].log);
            gp_var_num(&vs, "logy", one ? 1 : d.free[b].log);
            gp_var_num(&vs, "nfig", (double)nfig);
            gp_var_num(&vs, "width", 1400);
            if (!rc) rc = gp_render(c->gp, "fit", out, &vs, err, errlen);
            if (!rc) plot_made(c, out);
            gp_vars_free(&vs);
            free(out);
            free(pts);
        }
    }
    free(figs);
out:
    free(stem);
    fit_data_free(&d);
    return rc;
}
