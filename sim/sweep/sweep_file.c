/* sim/sweep/sweep_file.c: writing and reading the sweep file's /points table (sweep_file.h).
 *
 * The record layout is built at run time from the parameters: a sim_field array
 * (parameters, status, error, then sim_summary_fields shifted to their offset) drives the
 * HDF5 compound types through sim/h5util, exactly as fixed records do in traces.
 */
#include "sim/sweep/sweep_file.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "sim/base/fields.h"
#include "sim/base/h5util.h"
#include "sim/base/util.h"
#include "sim/base/version.h"

uint64_t sweep_fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* ---- points ------------------------------------------------------------------------ */

void sweep_point_pending(sweep_point *p) {
    snprintf(p->status, sizeof p->status, "pending");
    p->error[0] = 0;
    sim_summary_init(&p->sum);
    for (size_t i = 0; i < sim_summary_n_fields; i++) {
        const sim_field *f = &sim_summary_fields[i];
        if (f->type == SIM_FT_F64) {
            double nan = NAN;
            memcpy((char *)&p->sum + f->offset, &nan, sizeof nan);
        }
    }
}

void sweep_point_fail(sweep_point *p, const char *msg) {
    sweep_point_pending(p);
    snprintf(p->status, sizeof p->status, "failed");
    snprintf(p->error, sizeof p->error, "%s", msg && *msg ? msg : "failed");
}

int sweep_point_done(const sweep_point *p) {
    return !strcmp(p->status, "ok") || !strcmp(p->status, "stopped");
}

void sweep_meta_free(sweep_meta *m) {
    if (!m) return;
    free(m->orionsim_version);
    free(m->created);
    free(m->scenario_path);
    free(m->scenario_name);
    free(m->scenario_text);
    free(m->scenario_hash);
    h5u_free_texts(m->vary, m->n_keys);
    h5u_free_texts(m->keys, m->n_keys);
    h5u_free_texts(m->sets, m->n_sets);
    memset(m, 0, sizeof *m);
}

void sweep_points_free(sweep_point *p, size_t n, size_t n_keys) {
    if (!p) return;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < n_keys; k++) free(p[i].params[k].text);
        free(p[i].params);
    }
    free(p);
}

/* "shard I/N" or "the whole grid". */
static void shard_text(const sweep_meta *m, char *buf, size_t n) {
    if (m->shard_count > 0) snprintf(buf, n, "shard %d/%d", m->shard_index, m->shard_count);
    else snprintf(buf, n, "the whole grid");
}

const char *sweep_meta_mismatch(const sweep_meta *old, const sweep_meta *now, char *buf, size_t n) {
    int keys_eq = old->n_keys == now->n_keys;
    for (size_t i = 0; keys_eq && i < now->n_keys; i++)
        keys_eq = !strcmp(old->keys[i], now->keys[i]);
    if (!keys_eq) {
        size_t at = (size_t)snprintf(buf, n, "its --vary keys are (");
        for (size_t i = 0; i < old->n_keys && at < n; i++)
            at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? ", " : "", old->keys[i]);
        if (at < n) at += (size_t)snprintf(buf + at, n - at, "), now (");
        for (size_t i = 0; i < now->n_keys && at < n; i++)
            at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? ", " : "", now->keys[i]);
        if (at < n) snprintf(buf + at, n - at, ")");
        return buf;
    }
    if (strcmp(old->scenario_hash, now->scenario_hash)) {
        snprintf(buf, n, "it was made from other scenario files (%s, hash %s; now %s)",
                 old->scenario_path, old->scenario_hash, now->scenario_hash);
        return buf;
    }
    int sets_eq = old->n_sets == now->n_sets;
    for (size_t i = 0; sets_eq && i < now->n_sets; i++)
        sets_eq = !strcmp(old->sets[i], now->sets[i]);
    if (!sets_eq) {
        size_t at = (size_t)snprintf(buf, n, "its --set arguments were [");
        for (size_t i = 0; i < old->n_sets && at < n; i++)
            at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? " " : "", old->sets[i]);
        if (at < n) at += (size_t)snprintf(buf + at, n - at, "], now [");
        for (size_t i = 0; i < now->n_sets && at < n; i++)
            at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? " " : "", now->sets[i]);
        if (at < n) snprintf(buf + at, n - at, "]");
        return buf;
    }
    if (old->shard_count != now->shard_count ||
        (now->shard_count > 0 && old->shard_index != now->shard_index)) {
        char a[64], b[64];
        shard_text(old, a, sizeof a);
        shard_text(now, b, sizeof b);
        snprintf(buf, n, "it holds %s, now %s", a, b);
        return buf;
    }
    return NULL;
}

/* ---- layout ------------------------------------------------------------------------ */

typedef struct {
    size_t n_keys;
    int *numeric; /* per key */
    size_t *off;  /* per key: offset in the record */
    size_t *size; /* per key: 8 or the string width */
    size_t status_off, error_off, summary_off, rec_size;
    sim_field *fields;
    size_t n_fields;
    char **names; /* owned copies of the key names */
} layout;

static void layout_free(layout *l) {
    free(l->numeric);
    free(l->off);
    free(l->size);
    free(l->fields);
    h5u_free_texts(l->names, l->n_keys);
    memset(l, 0, sizeof *l);
}

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Parameter columns in --vary order; string widths are multiples of 8 (at least 16), so
 * every later field stays naturally aligned. */
static void layout_build(layout *l, char *const *keys, size_t n_keys, const int *numeric,
                         const size_t *str_width) {
    memset(l, 0, sizeof *l);
    l->n_keys = n_keys;
    l->numeric = xcalloc(n_keys ? n_keys : 1, sizeof *l->numeric);
    l->off = xcalloc(n_keys ? n_keys : 1, sizeof *l->off);
    l->size = xcalloc(n_keys ? n_keys : 1, sizeof *l->size);
    l->names = xcalloc(n_keys ? n_keys : 1, sizeof *l->names);
    l->n_fields = n_keys + 2 + sim_summary_n_fields;
    l->fields = xcalloc(l->n_fields, sizeof *l->fields);
    size_t at = 0, nf = 0;
    for (size_t k = 0; k < n_keys; k++) {
        l->names[k] = xstrdup(keys[k]);
        l->numeric[k] = numeric[k];
        l->size[k] = numeric[k] ? 8 : round8(str_width[k] < 16 ? 16 : str_width[k]);
        l->off[k] = at;
        sim_field f = {l->names[k], at,   numeric[k] ? SIM_FT_F64 : SIM_FT_STR, l->size[k],
                       "",          NULL, "swept scenario key (--vary)"};
        l->fields[nf++] = f;
        at += l->size[k];
    }
    l->status_off = at;
    sim_field fs = {"status",
                    at,
                    SIM_FT_STR,
                    SWEEP_STATUS_LEN,
                    "",
                    NULL,
                    "ok, failed (see error) or pending (not run yet)"};
    l->fields[nf++] = fs;
    at += SWEEP_STATUS_LEN;
    l->error_off = at;
    sim_field fe = {"error",
                    at,
                    SIM_FT_STR,
                    SWEEP_ERROR_LEN,
                    "",
                    NULL,
                    "why the point failed; empty otherwise"};
    l->fields[nf++] = fe;
    at += SWEEP_ERROR_LEN;
    l->summary_off = at;
    for (size_t i = 0; i < sim_summary_n_fields; i++) {
        sim_field f = sim_summary_fields[i];
        f.offset += at;
        l->fields[nf++] = f;
    }
    l->rec_size = at + sizeof(sim_summary);
}

static void to_record(const layout *l, const sweep_point *p, char *rec) {
    memset(rec, 0, l->rec_size);
    for (size_t k = 0; k < l->n_keys; k++) {
        if (l->numeric[k]) {
            double v = p->params[k].num;
            memcpy(rec + l->off[k], &v, sizeof v);
        } else {
            size_t n = strlen(p->params[k].text);
            if (n >= l->size[k]) n = l->size[k] - 1;
            memcpy(rec + l->off[k], p->params[k].text, n);
        }
    }
    memcpy(rec + l->status_off, p->status, strnlen(p->status, SWEEP_STATUS_LEN - 1));
    memcpy(rec + l->error_off, p->error, strnlen(p->error, SWEEP_ERROR_LEN - 1));
    memcpy(rec + l->summary_off, &p->sum, sizeof p->sum);
}

/* ---- writer ------------------------------------------------------------------------ */

struct sweep_writer {
    hid_t file, dset, memtype;
    layout l;
    char *rec;
    size_t rows;
};

static void writer_free(sweep_writer *w) {
    if (!w) return;
    if (w->dset >= 0) H5Dclose(w->dset);
    if (w->memtype >= 0) H5Tclose(w->memtype);
    if (w->file >= 0) H5Fclose(w->file);
    H5Eclear2(H5E_DEFAULT);
    layout_free(&w->l);
    free(w->rec);
    free(w);
}

static int write_meta(hid_t f, const sweep_meta *m, size_t rows, char *err, size_t errlen) {
    char created[40];
    if (m->created) snprintf(created, sizeof created, "%s", m->created);
    else sim_iso_now(created, sizeof created);
    const char *none[1] = {""};
    if (h5u_attr_i32(f, "sweep_schema_version", SWEEP_SCHEMA_VERSION, err, errlen) ||
        h5u_attr_str(f, "orionsim_version", ORIONSIM_VERSION, err, errlen) ||
        h5u_attr_str(f, "created", created, err, errlen) ||
        h5u_attr_str(f, "scenario_path", m->scenario_path, err, errlen) ||
        h5u_attr_str(f, "scenario_name", m->scenario_name, err, errlen) ||
        h5u_attr_str(f, "scenario", m->scenario_text, err, errlen) ||
        h5u_attr_str(f, "scenario_hash", m->scenario_hash, err, errlen) ||
        h5u_attr_strs(f, "vary", (const char *const *)m->vary, m->n_keys, err, errlen) ||
        h5u_attr_strs(f, "vary_keys", (const char *const *)m->keys, m->n_keys, err, errlen) ||
        h5u_attr_strs(f, "sets", m->n_sets ? (const char *const *)m->sets : none, m->n_sets, err,
                      errlen) ||
        h5u_attr_i64(f, "points", (int64_t)rows, err, errlen) ||
        h5u_attr_i32(f, "complete", 0, err, errlen))
        return -1;
    if (m->shard_count > 0 && (h5u_attr_i32(f, "shard_index", m->shard_index, err, errlen) ||
                               h5u_attr_i32(f, "shard_count", m->shard_count, err, errlen) ||
                               h5u_attr_i64(f, "grid_points", m->grid_points, err, errlen)))
        return -1;
    return 0;
}

sweep_writer *sweep_file_create(const char *path, const sweep_meta *m, const sweep_point *pts,
                                size_t n, char *err, size_t errlen) {
    h5u_quiet();
    int *numeric = xcalloc(m->n_keys ? m->n_keys : 1, sizeof *numeric);
    size_t *width = xcalloc(m->n_keys ? m->n_keys : 1, sizeof *width);
    for (size_t k = 0; k < m->n_keys; k++) {
        numeric[k] = 1;
        for (size_t i = 0; i < n; i++) {
            numeric[k] &= pts[i].params[k].numeric;
            size_t len = strlen(pts[i].params[k].text) + 1;
            if (len > width[k]) width[k] = len;
        }
    }
    sweep_writer *w = xcalloc(1, sizeof *w);
    w->file = w->dset = w->memtype = H5I_INVALID_HID;
    layout_build(&w->l, m->keys, m->n_keys, numeric, width);
    free(numeric);
    free(width);
    w->rows = n;
    w->rec = xmalloc(w->l.rec_size);

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* 1.8 object headers: attributes over 64 KiB (a long scenario text) go to dense storage. */
    if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0) {
        H5U_FAIL(err, errlen, "cannot set up file access for", path);
        if (fapl >= 0) H5Pclose(fapl);
        writer_free(w);
        return NULL;
    }
    w->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (w->file < 0) {
        H5U_FAIL(err, errlen, "cannot create sweep file", path);
        writer_free(w);
        return NULL;
    }
    int rc = write_meta(w->file, m, n, err, errlen);
    hid_t ft = H5I_INVALID_HID, sp = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
    if (!rc) {
        ft = h5u_compound(w->l.fields, w->l.n_fields, w->l.rec_size, H5U_FILE);
        w->memtype = h5u_compound(w->l.fields, w->l.n_fields, w->l.rec_size, H5U_MEM);
        hsize_t dims[1] = {n};
        sp = H5Screate_simple(1, dims, NULL);
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        if (ft < 0 || w->memtype < 0 || sp < 0 || dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0)
            rc = H5U_FAIL(err, errlen, "cannot set up table", "/points");
        else if ((w->dset = H5Dcreate2(w->file, "points", ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) <
                 0)
            rc = H5U_FAIL(err, errlen, "cannot create table", "/points");
    }
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!rc) rc = h5u_field_attrs(w->dset, w->l.fields, w->l.n_fields, err, errlen);
    if (!rc && n) {
        char *all = xmalloc(n * w->l.rec_size);
        for (size_t i = 0; i < n; i++) to_record(&w->l, &pts[i], all + i * w->l.rec_size);
        if (H5Dwrite(w->dset, w->memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) < 0)
            rc = H5U_FAIL(err, errlen, "cannot write table", "/points");
        free(all);
    }
    if (!rc && H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0)
        rc = H5U_FAIL(err, errlen, "cannot flush", path);
    if (rc) {
        writer_free(w);
        return NULL;
    }
    return w;
}

int sweep_file_put(sweep_writer *w, size_t row, const sweep_point *p, char *err, size_t errlen) {
    if (row >= w->rows) {
        snprintf(err, errlen, "%s:%d: row %zu of a %zu-row table", __FILE__, __LINE__, row,
                 w->rows);
        return -1;
    }
    to_record(&w->l, p, w->rec);
    hsize_t start[1] = {row}, count[1] = {1};
    hid_t fs = H5Dget_space(w->dset);
    hid_t ms = H5Screate_simple(1, count, NULL);
    int rc = 0;
    if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
        rc = H5U_FAIL(err, errlen, "cannot select a row of", "/points");
    else if (H5Dwrite(w->dset, w->memtype, ms, fs, H5P_DEFAULT, w->rec) < 0)
        rc = H5U_FAIL(err, errlen, "cannot write a row of", "/points");
    else if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0)
        rc = H5U_FAIL(err, errlen, "cannot flush", "the sweep file");
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    return rc;
}

int sweep_file_close(sweep_writer *w, int complete, char *err, size_t errlen) {
    if (!w) return 0;
    int rc = h5u_attr_i32(w->file, "complete", complete ? 1 : 0, err, errlen);
    if (w->dset >= 0 && H5Dclose(w->dset) < 0 && !rc)
        rc = H5U_FAIL(err, errlen, "cannot close", "/points");
    w->dset = H5I_INVALID_HID;
    if (H5Fclose(w->file) < 0 && !rc) rc = H5U_FAIL(err, errlen, "cannot close", "the sweep file");
    w->file = H5I_INVALID_HID;
    writer_free(w);
    return rc;
}

/* ---- reader ------------------------------------------------------------------------ */

int sweep_file_probe(const char *path) {
    char why[512];
    hid_t f = h5u_file_open_read(path, NULL, NULL, NULL, why, sizeof why);
    if (f < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    int yes = h5u_attr_exists(f, "sweep_schema_version");
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return yes;
}

static int read_meta(hid_t f, sweep_meta *m, char *err, size_t errlen) {
    int64_t ver = 0;
    if (!h5u_attr_exists(f, "sweep_schema_version")) {
        snprintf(err, errlen, "not an orionsim sweep file (no sweep_schema_version attribute)");
        return -1;
    }
    if (h5u_read_attr_i64(f, "sweep_schema_version", &ver, err, errlen)) return -1;
    if (ver != SWEEP_SCHEMA_VERSION) {
        snprintf(err, errlen, "sweep_schema_version %lld is not supported (this orionsim reads %d)",
                 (long long)ver, SWEEP_SCHEMA_VERSION);
        return -1;
    }
    size_t nk2 = 0;
    if (h5u_read_attr_str(f, "orionsim_version", &m->orionsim_version, err, errlen) ||
        h5u_read_attr_str(f, "created", &m->created, err, errlen) ||
        h5u_read_attr_str(f, "scenario_path", &m->scenario_path, err, errlen) ||
        h5u_read_attr_str(f, "scenario_name", &m->scenario_name, err, errlen) ||
        h5u_read_attr_str(f, "scenario", &m->scenario_text, err, errlen) ||
        h5u_read_attr_str(f, "scenario_hash", &m->scenario_hash, err, errlen) ||
        h5u_read_attr_strs(f, "vary", &m->vary, &m->n_keys, err, errlen) ||
        h5u_read_attr_strs(f, "vary_keys", &m->keys, &nk2, err, errlen))
        return -1;
    if (nk2 == m->n_keys && h5u_read_attr_strs(f, "sets", &m->sets, &m->n_sets, err, errlen))
        return -1;
    if (nk2 != m->n_keys) {
        snprintf(err, errlen, "attributes vary (%zu) and vary_keys (%zu) disagree", m->n_keys, nk2);
        /* keys holds nk2 strings: free it here, so that sweep_meta_free (n_keys) is exact */
        h5u_free_texts(m->keys, nk2);
        m->keys = NULL;
        return -1;
    }
    if (h5u_attr_exists(f, "shard_count")) {
        int64_t idx = -1, cnt = 0, grid = 0;
        if (h5u_read_attr_i64(f, "shard_index", &idx, err, errlen) ||
            h5u_read_attr_i64(f, "shard_count", &cnt, err, errlen) ||
            h5u_read_attr_i64(f, "grid_points", &grid, err, errlen))
            return -1;
        if (cnt < 1 || cnt > SWEEP_MAX_POINTS || idx < 0 || idx >= cnt || grid < 0) {
            snprintf(err, errlen, "shard attributes out of range (shard %lld/%lld, %lld points)",
                     (long long)idx, (long long)cnt, (long long)grid);
            return -1;
        }
        m->shard_index = (int)idx;
        m->shard_count = (int)cnt;
        m->grid_points = grid;
    }
    return 0;
}

/* Build the read layout from the file's member types; summary fields the file lacks are
 * left out of the memory type (and read as NaN / 0). */
static int read_points(hid_t f, const sweep_meta *m, sweep_point **out, size_t *nout, char *err,
                       size_t errlen) {
    hid_t d = H5Dopen2(f, "points", H5P_DEFAULT);
    if (d < 0) return H5U_FAIL(err, errlen, "cannot open table", "/points");
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
    int rc = 0;
    hsize_t dims[1] = {0};
    int *numeric = xcalloc(m->n_keys ? m->n_keys : 1, sizeof *numeric);
    size_t *width = xcalloc(m->n_keys ? m->n_keys : 1, sizeof *width);
    if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_COMPOUND ||
        H5Sget_simple_extent_ndims(sp) != 1) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(err, errlen, "/points is not a table (1-D compound dataset)");
        rc = -1;
    } else {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        for (size_t k = 0; k < m->n_keys && !rc; k++) {
            int idx = H5Tget_member_index(ft, m->keys[k]);
            hid_t mt = idx >= 0 ? H5Tget_member_type(ft, (unsigned)idx) : H5I_INVALID_HID;
            H5T_class_t cls = mt >= 0 ? H5Tget_class(mt) : H5T_NO_CLASS;
            if (cls == H5T_FLOAT) {
                numeric[k] = 1;
            } else if (cls == H5T_STRING && H5Tis_variable_str(mt) == 0) {
                width[k] = H5Tget_size(mt);
            } else {
                H5Eclear2(H5E_DEFAULT);
                snprintf(err, errlen, "/points has no float or fixed-string column %s", m->keys[k]);
                rc = -1;
            }
            if (mt >= 0) H5Tclose(mt);
        }
        static const char *const need[] = {"status", "error"};
        for (size_t i = 0; i < 2 && !rc; i++)
            if (H5Tget_member_index(ft, need[i]) < 0) {
                H5Eclear2(H5E_DEFAULT);
                snprintf(err, errlen, "/points has no column %s", need[i]);
                rc = -1;
            }
    }
    layout l;
    memset(&l, 0, sizeof l);
    hid_t mt = H5I_INVALID_HID;
    char *buf = NULL;
    if (!rc) {
        layout_build(&l, m->keys, m->n_keys, numeric, width);
        mt = H5Tcreate(H5T_COMPOUND, l.rec_size);
        if (mt < 0) rc = H5U_FAIL(err, errlen, "cannot make memory type for", "/points");
        for (size_t i = 0; i < l.n_fields && !rc; i++) {
            if (H5Tget_member_index(ft, l.fields[i].name) < 0) {
                H5Eclear2(H5E_DEFAULT);
                continue;
            }
            if (h5u_compound_insert(mt, &l.fields[i], 1, 0, H5U_MEM))
                rc = H5U_FAIL(err, errlen, "cannot make memory type for", "/points");
        }
    }
    if (!rc) {
        buf = xcalloc(dims[0] ? dims[0] : 1, l.rec_size);
        /* Fields the file lacks keep the values of a pending row. */
        sweep_point proto;
        memset(&proto, 0, sizeof proto);
        sweep_point_pending(&proto);
        for (hsize_t i = 0; i < dims[0]; i++)
            memcpy(buf + i * l.rec_size + l.summary_off, &proto.sum, sizeof proto.sum);
        if (dims[0] && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            rc = H5U_FAIL(err, errlen, "cannot read table", "/points");
    }
    if (!rc) {
        sweep_point *pts = xcalloc(dims[0] ? dims[0] : 1, sizeof *pts);
        char txt[64];
        for (hsize_t i = 0; i < dims[0]; i++) {
            const char *rec = buf + i * l.rec_size;
            pts[i].params = xcalloc(m->n_keys ? m->n_keys : 1, sizeof *pts[i].params);
            for (size_t k = 0; k < m->n_keys; k++) {
                if (l.numeric[k]) {
                    double v;
                    memcpy(&v, rec + l.off[k], sizeof v);
                    sweep_value_set(&pts[i].params[k], sim_format_double(txt, sizeof txt, v));
                } else {
                    char *s = xmalloc(l.size[k] + 1);
                    memcpy(s, rec + l.off[k], l.size[k]);
                    s[l.size[k]] = 0;
                    sweep_value_set(&pts[i].params[k], s);
                    free(s);
                }
            }
            memcpy(pts[i].status, rec + l.status_off, SWEEP_STATUS_LEN);
            pts[i].status[SWEEP_STATUS_LEN - 1] = 0;
            memcpy(pts[i].error, rec + l.error_off, SWEEP_ERROR_LEN);
            pts[i].error[SWEEP_ERROR_LEN - 1] = 0;
            memcpy(&pts[i].sum, rec + l.summary_off, sizeof pts[i].sum);
        }
        *out = pts;
        *nout = (size_t)dims[0];
    }
    free(buf);
    free(numeric);
    free(width);
    layout_free(&l);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

static int read_file(hid_t f, sweep_meta *meta, sweep_point **pts, size_t *n, char *err,
                     size_t errlen);

/* In the probe child (h5u_file_open_read): the reads sweep_file_read makes. */
static int probe_reads(hid_t f, void *ctx) {
    (void)ctx;
    sweep_meta m;
    memset(&m, 0, sizeof m);
    sweep_point *pts = NULL;
    size_t n = 0;
    char err[512];
    if (!read_meta(f, &m, err, sizeof err)) read_points(f, &m, &pts, &n, err, sizeof err);
    return 0; /* the child exits: nothing to free */
}

int sweep_file_read(const char *path, sweep_meta *meta, sweep_point **pts, size_t *n, char *err,
                    size_t errlen) {
    memset(meta, 0, sizeof *meta);
    *pts = NULL;
    *n = 0;
    char why[1024];
    hid_t f = h5u_file_open_read(path, NULL, probe_reads, NULL, why, sizeof why);
    if (f < 0) {
        /* a missing or unreadable file: "cannot open: reason"; else the reason alone */
        snprintf(err, errlen, "%s%s", access(path, R_OK) ? "cannot open: " : "", why);
        return -1;
    }
    return read_file(f, meta, pts, n, err, errlen);
}

int sweep_file_read_image(const void *buf, size_t len, sweep_meta *meta, sweep_point **pts,
                          size_t *n, char *err, size_t errlen) {
    memset(meta, 0, sizeof *meta);
    *pts = NULL;
    *n = 0;
    hid_t f = h5u_image_open_read(buf, len, probe_reads, NULL, err, errlen);
    if (f < 0) return -1;
    return read_file(f, meta, pts, n, err, errlen);
}

static int read_file(hid_t f, sweep_meta *meta, sweep_point **pts, size_t *n, char *err,
                     size_t errlen) {
    int rc = read_meta(f, meta, err, errlen);
    if (!rc) rc = read_points(f, meta, pts, n, err, errlen);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    if (rc) sweep_meta_free(meta);
    return rc;
}
