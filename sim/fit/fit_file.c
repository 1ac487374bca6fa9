/* sim/fit/fit_file.c: writing and reading the HDF5 file of a fit (see fit_file.h). */
#include "sim/fit/fit_file.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/fields.h"
#include "sim/base/h5util.h"
#include "sim/base/util.h"
#include "sim/scenario/scenario.h"

static const sim_field figure_fields[] = {
    SIM_STR(fit_figure_rec, figure, "", NULL, "reference key of the published figure"),
    SIM_STR(fit_figure_rec, role, "", NULL,
            "fitted, held-out (predicted, not fitted) or not fitted"),
    SIM_F64(fit_figure_rec, published, "published unit", NULL, "the published value"),
    SIM_F64(fit_figure_rec, uncertainty, "fraction", NULL,
            "reference.uncertainty: a fraction of the published value"),
    SIM_F64(fit_figure_rec, best, "published unit", NULL,
            "like-for-like simulated value at the best point"),
    SIM_F64(fit_figure_rec, residual, "published unit", NULL, "best - published"),
    SIM_F64(fit_figure_rec, z, "1", NULL, "residual / (uncertainty x |published|)"),
    SIM_F64(fit_figure_rec, consistent_min, "published unit", NULL,
            "lowest simulated value over the consistent points"),
    SIM_F64(fit_figure_rec, consistent_max, "published unit", NULL,
            "highest simulated value over the consistent points"),
};
static const size_t n_figure_fields = sizeof figure_fields / sizeof figure_fields[0];

static const sim_field free_fields[] = {
    SIM_STR(fit_free_rec, key, "", NULL, "free scenario key"),
    SIM_F64(fit_free_rec, lo, "key unit", NULL, "lower end of the range"),
    SIM_F64(fit_free_rec, hi, "key unit", NULL, "upper end of the range"),
    SIM_I32(fit_free_rec, log, "flag", NULL, "1: sampled uniformly in log space"),
    SIM_I32(fit_free_rec, integer, "flag", NULL, "1: an integer key (values rounded)"),
    SIM_F64(fit_free_rec, best, "key unit", NULL, "value at the best point"),
    SIM_F64(fit_free_rec, consistent_min, "key unit", NULL,
            "lowest value over the points consistent with every fitted figure"),
    SIM_F64(fit_free_rec, consistent_max, "key unit", NULL,
            "highest value over the points consistent with every fitted figure"),
    SIM_I64(fit_free_rec, n_consistent, "1", NULL, "consistent points"),
};
static const size_t n_free_fields = sizeof free_fields / sizeof free_fields[0];

/* ---- the points table: a field table built for the free keys -------------------------- */

/* Flat record: values[d], sim[FIT_MAX_FIGS], chi2, consistent, iteration, stage, status,
 * error. */
typedef struct {
    sim_field *f;
    size_t n, rec_size;
    size_t off_sim, off_chi2, off_cons, off_iter, off_stage, off_status, off_error;
    char **names; /* owned */
    size_t n_names;
} points_layout;

static void layout_add(points_layout *l, const char *name, sim_ftype t, size_t size, size_t off,
                       const char *unit, const char *def) {
    char *nm = xstrdup(name);
    l->names = xrealloc(l->names, sizeof *l->names * (l->n_names + 1));
    l->names[l->n_names++] = nm;
    l->f = xrealloc(l->f, sizeof *l->f * (l->n + 1));
    l->f[l->n++] = (sim_field){nm, off, t, size, unit, NULL, def};
}

static void layout_make(points_layout *l, char *const *keys, size_t d) {
    memset(l, 0, sizeof *l);
    size_t off = 0;
    for (size_t k = 0; k < d; k++, off += 8)
        layout_add(l, keys[k], SIM_FT_F64, 8, off, "key unit", "free key value");
    l->off_sim = off;
    for (size_t i = 0; i < FIT_MAX_FIGS; i++, off += 8) {
        char nm[64];
        if (i < sim_reference_n_figs) snprintf(nm, sizeof nm, "sim_%s", sim_reference_figs[i].key);
        else snprintf(nm, sizeof nm, "sim_unused_%zu", i);
        layout_add(l, nm, SIM_FT_F64, 8, off, "published unit",
                   "like-for-like simulated figure (sim/fit/fit_compare.h)");
    }
    l->off_chi2 = off;
    layout_add(l, "chi2", SIM_FT_F64, 8, off, "1", "sum of z^2 over the fitted figures");
    off += 8;
    l->off_cons = off;
    layout_add(l, "consistent", SIM_FT_I32, 4, off, "flag", "|z| <= 1 for every fitted figure");
    off += 4;
    l->off_iter = off;
    layout_add(l, "iteration", SIM_FT_I32, 4, off, "1", "0: design; then the refinement step");
    off += 4;
    l->off_stage = off;
    layout_add(l, "stage", SIM_FT_STR, 8, off, "", "design or refine");
    off += 8;
    l->off_status = off;
    layout_add(l, "status", SIM_FT_STR, 8, off, "", "ok or failed");
    off += 8;
    l->off_error = off;
    layout_add(l, "error", SIM_FT_STR, FIT_ERROR_LEN, off, "", "why the point failed");
    off += FIT_ERROR_LEN;
    l->rec_size = off;
}

static void layout_free(points_layout *l) {
    for (size_t i = 0; i < l->n_names; i++) free(l->names[i]);
    free(l->names);
    free(l->f);
}

static void point_pack(const points_layout *l, const fit_point *p, size_t d, char *rec) {
    memset(rec, 0, l->rec_size);
    memcpy(rec, p->values, d * sizeof(double));
    memcpy(rec + l->off_sim, p->sim, sizeof p->sim);
    memcpy(rec + l->off_chi2, &p->chi2, 8);
    memcpy(rec + l->off_cons, &p->consistent, 4);
    memcpy(rec + l->off_iter, &p->iteration, 4);
    memcpy(rec + l->off_stage, p->stage, 8);
    memcpy(rec + l->off_status, p->status, 8);
    memcpy(rec + l->off_error, p->error, FIT_ERROR_LEN);
}

static void point_unpack(const points_layout *l, const char *rec, size_t d, fit_point *p) {
    p->values = xcalloc(d ? d : 1, sizeof *p->values);
    memcpy(p->values, rec, d * sizeof(double));
    memcpy(p->sim, rec + l->off_sim, sizeof p->sim);
    memcpy(&p->chi2, rec + l->off_chi2, 8);
    memcpy(&p->consistent, rec + l->off_cons, 4);
    memcpy(&p->iteration, rec + l->off_iter, 4);
    memcpy(p->stage, rec + l->off_stage, 8);
    p->stage[7] = 0;
    memcpy(p->status, rec + l->off_status, 8);
    p->status[7] = 0;
    memcpy(p->error, rec + l->off_error, FIT_ERROR_LEN);
    p->error[FIT_ERROR_LEN - 1] = 0;
}

/* ---- writing -------------------------------------------------------------------------- */

static int write_table(hid_t f, const char *name, const sim_field *fl, size_t nf, size_t rec_size,
                       const void *recs, size_t n, char *err, size_t errlen) {
    h5u_table t;
    if (h5u_table_create(&t, f, name, fl, nf, rec_size, n > 64 ? 64 : (n ? n : 1), 4096, err,
                         errlen))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = h5u_table_append(&t, (const char *)recs + i * rec_size, err, errlen);
    if (!rc) rc = h5u_table_flush(&t, err, errlen);
    if (h5u_table_close(&t, err, errlen)) rc = -1;
    return rc;
}

int fit_file_write(const char *path, const fit_data *d, char *err, size_t errlen) {
    h5u_quiet();
    size_t len = strlen(path) + 8;
    char *tmp = xmalloc(len);
    snprintf(tmp, len, "%s.tmp", path);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        free(tmp);
        return H5U_FAIL(err, errlen, "cannot set up file access for", path);
    }
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        int rc = H5U_FAIL(err, errlen, "cannot create fit file", tmp);
        free(tmp);
        return rc;
    }
    const fit_meta *m = &d->meta;
    int rc =
        h5u_attr_i64(f, "fit_schema_version", FIT_SCHEMA_VERSION, err, errlen) ||
        h5u_attr_str(f, "orionsim_version", m->orionsim_version, err, errlen) ||
        h5u_attr_str(f, "created", m->created, err, errlen) ||
        h5u_attr_str(f, "scenario_path", m->scenario_path, err, errlen) ||
        h5u_attr_str(f, "scenario_hash", m->scenario_hash, err, errlen) ||
        h5u_attr_strs(f, "sets", (const char *const *)m->sets, m->n_sets, err, errlen) ||
        h5u_attr_strs(f, "keys", (const char *const *)m->keys, m->n_keys, err, errlen) ||
        h5u_attr_strs(f, "free", (const char *const *)m->free_args, m->n_free_args, err, errlen) ||
        h5u_attr_strs(f, "hold_out", (const char *const *)m->hold_out, m->n_hold, err, errlen) ||
        h5u_attr_u64(f, "seed", m->seed, err, errlen) ||
        h5u_attr_i32(f, "complete", m->complete, err, errlen) ||
        h5u_attr_i64(f, "best_row", m->best_row, err, errlen);
    if (!rc) {
        points_layout l;
        layout_make(&l, m->keys, m->n_keys);
        char *recs = xcalloc(d->n_pts ? d->n_pts : 1, l.rec_size);
        for (size_t i = 0; i < d->n_pts; i++)
            point_pack(&l, &d->pts[i], m->n_keys, recs + i * l.rec_size);
        rc = write_table(f, "points", l.f, l.n, l.rec_size, recs, d->n_pts, err, errlen);
        free(recs);
        layout_free(&l);
    }
    if (!rc)
        rc = write_table(f, "figures", figure_fields, n_figure_fields, sizeof(fit_figure_rec),
                         d->figs, d->n_figs, err, errlen);
    if (!rc)
        rc = write_table(f, "free", free_fields, n_free_fields, sizeof(fit_free_rec), d->free,
                         d->n_free, err, errlen);
    if (H5Fclose(f) < 0 && !rc) rc = H5U_FAIL(err, errlen, "cannot close", tmp);
    if (!rc && rename(tmp, path)) {
        snprintf(err, errlen, "%s: cannot rename to %s", tmp, path);
        rc = -1;
    }
    if (rc) remove(tmp);
    free(tmp);
    return rc ? -1 : 0;
}

/* ---- reading -------------------------------------------------------------------------- */

int fit_file_probe(const char *path) {
    char why[512];
    hid_t f = h5u_file_open_read(path, NULL, NULL, NULL, why, sizeof why);
    if (f < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    int yes = h5u_attr_exists(f, "fit_schema_version");
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return yes;
}

int fit_file_read(const char *path, fit_data *d, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    h5u_quiet();
    char why[512];
    hid_t f = h5u_file_open_read(path, NULL, NULL, NULL, why, sizeof why);
    if (f < 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    fit_meta *m = &d->meta;
    int64_t ver = 0, best = -1;
    int rc = 0;
    if (!h5u_attr_exists(f, "fit_schema_version")) {
        snprintf(err, errlen, "not an orionsim fit file (no fit_schema_version attribute)");
        rc = -1;
    } else if (h5u_read_attr_i64(f, "fit_schema_version", &ver, err, errlen)) {
        rc = -1;
    } else if (ver != FIT_SCHEMA_VERSION) {
        snprintf(err, errlen, "fit_schema_version %lld is not supported (this orionsim reads %d)",
                 (long long)ver, FIT_SCHEMA_VERSION);
        rc = -1;
    }
    int64_t complete = 0;
    if (!rc)
        rc = h5u_read_attr_str(f, "orionsim_version", &m->orionsim_version, err, errlen) ||
             h5u_read_attr_str(f, "created", &m->created, err, errlen) ||
             h5u_read_attr_str(f, "scenario_path", &m->scenario_path, err, errlen) ||
             h5u_read_attr_str(f, "scenario_hash", &m->scenario_hash, err, errlen) ||
             h5u_read_attr_strs(f, "sets", &m->sets, &m->n_sets, err, errlen) ||
             h5u_read_attr_strs(f, "keys", &m->keys, &m->n_keys, err, errlen) ||
             h5u_read_attr_strs(f, "free", &m->free_args, &m->n_free_args, err, errlen) ||
             h5u_read_attr_strs(f, "hold_out", &m->hold_out, &m->n_hold, err, errlen) ||
             h5u_read_attr_u64(f, "seed", &m->seed, err, errlen) ||
             h5u_read_attr_i64(f, "complete", &complete, err, errlen) ||
             h5u_read_attr_i64(f, "best_row", &best, err, errlen);
    m->complete = (int)complete;
    m->best_row = best;
    if (!rc) {
        points_layout l;
        layout_make(&l, m->keys, m->n_keys);
        void *recs = NULL;
        size_t n = 0;
        rc = h5u_table_read(f, "points", l.f, l.n, l.rec_size, &recs, &n, err, errlen);
        if (!rc) {
            d->pts = xcalloc(n ? n : 1, sizeof *d->pts);
            for (size_t i = 0; i < n; i++)
                point_unpack(&l, (const char *)recs + i * l.rec_size, m->n_keys, &d->pts[i]);
            d->n_pts = n;
        }
        free(recs);
        layout_free(&l);
    }
    if (!rc)
        rc = h5u_table_read(f, "figures", figure_fields, n_figure_fields, sizeof(fit_figure_rec),
                            (void **)&d->figs, &d->n_figs, err, errlen);
    if (!rc)
        rc = h5u_table_read(f, "free", free_fields, n_free_fields, sizeof(fit_free_rec),
                            (void **)&d->free, &d->n_free, err, errlen);
    H5Fclose(f);
    if (rc) {
        fit_data_free(d);
        return -1;
    }
    return 0;
}

void fit_data_free(fit_data *d) {
    fit_meta *m = &d->meta;
    free(m->orionsim_version);
    free(m->created);
    free(m->scenario_path);
    free(m->scenario_hash);
    h5u_free_texts(m->sets, m->n_sets);
    h5u_free_texts(m->keys, m->n_keys);
    h5u_free_texts(m->free_args, m->n_free_args);
    h5u_free_texts(m->hold_out, m->n_hold);
    for (size_t i = 0; i < d->n_pts; i++) free(d->pts[i].values);
    free(d->pts);
    free(d->figs);
    free(d->free);
    memset(d, 0, sizeof *d);
}
