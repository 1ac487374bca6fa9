/* sim/trace/trace_read.c: reading a trace back for report, plot and export (see trace_read.h). */
#include "sim/trace/trace_read.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/base/h5util.h"
#include "sim/trace/trace.h"
#include "sim/base/util.h"

struct trace_file {
    hid_t file;
    trace_info info;
    char err[512];
};

/* Tables every trace has from the moment it is opened (sim/trace/trace.c creates them all). */
static const char *const required_tables[] = {"summary", "events",     "phases", "timeseries",
                                              "loss",    "boundaries", "peers",  "peer_shares"};

const char *trace_read_error(const trace_file *tf) { return tf->err; }
const trace_info *trace_read_info(const trace_file *tf) { return &tf->info; }

void trace_read_close(trace_file *tf) {
    if (!tf) return;
    if (tf->file >= 0) H5Fclose(tf->file);
    H5Eclear2(H5E_DEFAULT);
    free(tf->info.orionsim_version);
    free(tf->info.scenario_path);
    free(tf->info.created);
    free(tf->info.mode);
    free(tf->info.platform);
    free(tf->info.end);
    free(tf);
}

static int link_exists(hid_t loc, const char *name) {
    htri_t ex = H5Lexists(loc, name, H5P_DEFAULT);
    if (ex < 0) H5Eclear2(H5E_DEFAULT);
    return ex > 0;
}

/* An optional string attribute: "" when missing. */
static int opt_str(hid_t loc, const char *name, char **out, char *err, size_t errlen) {
    if (!h5u_attr_exists(loc, name)) {
        *out = xstrdup("");
        return 0;
    }
    return h5u_read_attr_str(loc, name, out, err, errlen);
}

/* "CPU; BLAS (n threads); backend, GPU" from the platform_* attributes, "" without them. */
static int read_platform(hid_t f, char **out, char *err, size_t errlen) {
    *out = NULL;
    if (!h5u_attr_exists(f, "platform_cpu")) {
        *out = xstrdup("");
        return 0;
    }
    char *cpu = NULL, *blas = NULL, *be = NULL, *gpu = NULL;
    int64_t thr = -1;
    int rc = opt_str(f, "platform_cpu", &cpu, err, errlen) ||
             opt_str(f, "platform_blas", &blas, err, errlen) ||
             opt_str(f, "platform_backend", &be, err, errlen) ||
             opt_str(f, "platform_gpu", &gpu, err, errlen) ||
             (h5u_attr_exists(f, "platform_blas_threads") &&
              h5u_read_attr_i64(f, "platform_blas_threads", &thr, err, errlen));
    if (!rc) {
        size_t n = strlen(cpu) + strlen(blas) + strlen(be) + strlen(gpu) + 96;
        *out = xmalloc(n);
        snprintf(*out, n, "%s; %s (%lld thread%s); backend %s, GPU %s", cpu, blas, (long long)thr,
                 thr == 1 ? "" : "s", be[0] ? be : "?", gpu[0] ? gpu : "?");
    }
    free(cpu);
    free(blas);
    free(be);
    free(gpu);
    return rc ? -1 : 0;
}

static int read_info(trace_file *tf) {
    hid_t f = tf->file;
    trace_info *in = &tf->info;
    char *e = tf->err;
    size_t el = sizeof tf->err;
    if (!h5u_attr_exists(f, "schema_version")) {
        snprintf(e, el, "not an orionsim trace (no schema_version attribute)");
        return -1;
    }
    if (h5u_read_attr_i64(f, "schema_version", &in->schema_version, e, el)) return -1;
    if (in->schema_version != TRACE_SCHEMA_VERSION) {
        snprintf(e, el, "trace schema_version %lld is not supported (this orionsim reads %d)",
                 (long long)in->schema_version, TRACE_SCHEMA_VERSION);
        return -1;
    }
    for (size_t i = 0; i < sizeof required_tables / sizeof required_tables[0]; i++)
        if (!link_exists(f, required_tables[i])) {
            snprintf(e, el, "not a complete orionsim trace: table /%s is missing",
                     required_tables[i]);
            return -1;
        }
    int64_t complete = 0;
    if (h5u_read_attr_i64(f, "complete", &complete, e, el)) return -1;
    in->complete = complete == 1;
    if (opt_str(f, "orionsim_version", &in->orionsim_version, e, el) ||
        opt_str(f, "scenario_path", &in->scenario_path, e, el) ||
        opt_str(f, "created", &in->created, e, el) || opt_str(f, "mode", &in->mode, e, el) ||
        opt_str(f, "end", &in->end, e, el) || read_platform(f, &in->platform, e, el))
        return -1;
    if (h5u_attr_exists(f, "seed") && h5u_read_attr_u64(f, "seed", &in->seed, e, el)) return -1;
    in->events_window_cycles = -1;
    hid_t d = H5Dopen2(f, "events", H5P_DEFAULT);
    if (d < 0) return H5U_FAIL(e, el, "cannot open table", "/events");
    int rc = 0;
    if (h5u_attr_exists(d, "window_cycles"))
        rc = h5u_read_attr_i64(d, "window_cycles", &in->events_window_cycles, e, el);
    if (!rc && h5u_attr_exists(d, "dropped_by_window"))
        rc = h5u_read_attr_i64(d, "dropped_by_window", &in->events_dropped, e, el);
    H5Dclose(d);
    return rc;
}

static int open_common(trace_file *tf, trace_file **out, char *err, size_t errlen);

/* In the probe child (h5u_file_open_read): what every command reads first. */
static int probe_reads(hid_t f, void *ctx) {
    (void)ctx;
    trace_file tf = {0};
    tf.file = f;
    sim_summary s;
    trace_peer_rec *p = NULL;
    size_t n = 0;
    trace_reference ref;
    char *text = NULL;
    if (!read_info(&tf) && !trace_read_summary(&tf, &s) && !trace_read_reference(&tf, &ref) &&
        !trace_read_scenario(&tf, &text))
        trace_read_peers(&tf, &p, &n);
    return 0; /* the child exits: nothing to free */
}

int trace_read_open(const char *path, trace_file **out, char *err, size_t errlen) {
    *out = NULL;
    trace_file *tf = xcalloc(1, sizeof *tf);
    int swmr = 0;
    tf->file = h5u_file_open_read(path, &swmr, probe_reads, NULL, err, errlen);
    tf->info.swmr = swmr;
    return open_common(tf, out, err, errlen);
}

int trace_read_open_image(const void *buf, size_t len, trace_file **out, char *err, size_t errlen) {
    *out = NULL;
    trace_file *tf = xcalloc(1, sizeof *tf);
    tf->file = h5u_image_open_read(buf, len, probe_reads, NULL, err, errlen);
    return open_common(tf, out, err, errlen);
}

static int open_common(trace_file *tf, trace_file **out, char *err, size_t errlen) {
    if (tf->file < 0) {
        trace_read_close(tf);
        return -1;
    }
    if (read_info(tf)) {
        snprintf(err, errlen, "%s", tf->err);
        trace_read_close(tf);
        return -1;
    }
    *out = tf;
    return 0;
}

/* A run killed before it wrote its summary (SIGKILL, power loss) leaves a zero row; the
 * phases and time series are flushed with every phase, so the run's extent, cycles,
 * tokens and phase times come from them. What only the run knew (MFU, shares, cost) is
 * NaN. */
static void summary_from_tables(trace_file *tf, sim_summary *s) {
    void *ph = NULL, *ts = NULL;
    size_t nph = 0, nts = 0;
    if (trace_read_table(tf, "phases", trace_phase_fields, trace_phase_n_fields,
                         sizeof(trace_phase_rec), &ph, &nph) ||
        trace_read_table(tf, "timeseries", trace_sample_fields, trace_sample_n_fields,
                         sizeof(trace_sample_rec), &ts, &nts)) {
        free(ph);
        tf->err[0] = 0;
        return;
    }
    for (size_t i = 0; i < sim_summary_n_fields; i++)
        if (sim_summary_fields[i].type == SIM_FT_F64)
            *(double *)((char *)s + sim_summary_fields[i].offset) = NAN;
    const trace_phase_rec *p = ph;
    const trace_sample_rec *t = ts;
    double end = 0, by_kind[TRACE_PHASES] = {0};
    int n_training = 0, max_merged = -1;
    for (size_t i = 0; i < nph; i++) {
        double a = (double)p[i].t_start_ns * 1e-9, b = (double)p[i].t_end_ns * 1e-9;
        if (!(b >= a) || p[i].phase < 0 || p[i].phase >= TRACE_PHASES) continue;
        by_kind[p[i].phase] += b - a;
        if (b > end) end = b;
        if (p[i].phase == TRACE_PHASE_TRAINING) n_training++;
        if (p[i].phase == TRACE_PHASE_MERGING && p[i].cycle > max_merged) max_merged = p[i].cycle;
    }
    double tokens = 0;
    for (size_t i = 0; i < nts; i++) {
        if ((double)t[i].t_ns * 1e-9 > end) end = (double)t[i].t_ns * 1e-9;
        if ((double)t[i].tokens_trained > tokens) tokens = (double)t[i].tokens_trained;
    }
    s->cycles = max_merged + 1 > 0 && max_merged < INT32_MAX ? max_merged + 1 : 0;
    s->sim_time_s = end;
    s->tokens_trained = tokens;
    s->tokens_per_s = end > 0 ? tokens / end : NAN;
    s->time_training_s = by_kind[TRACE_PHASE_TRAINING];
    s->time_uploading_s = by_kind[TRACE_PHASE_UPLOADING];
    s->time_merging_s = by_kind[TRACE_PHASE_MERGING];
    s->time_other_s = by_kind[TRACE_PHASE_OTHER];
    s->utilisation = end > 0 ? by_kind[TRACE_PHASE_TRAINING] / end : NAN;
    s->mean_training_phase_s = n_training ? by_kind[TRACE_PHASE_TRAINING] / n_training : NAN;
    s->mean_sync_phase_s =
        s->cycles ? (by_kind[TRACE_PHASE_UPLOADING] + by_kind[TRACE_PHASE_MERGING]) / s->cycles
                  : NAN;
    tf->info.summary_derived = 1;
    free(ph);
    free(ts);
}

/* Summary fields the file lacks (a trace written before they were added) are left out of
 * the memory type and keep sim_summary_init's values (NaN for figures). */
int trace_read_summary(trace_file *tf, sim_summary *s) {
    sim_summary_init(s);
    if (!link_exists(tf->file, "summary")) {
        snprintf(tf->err, sizeof tf->err, "table /summary is missing");
        return -1;
    }
    hid_t d = H5Dopen2(tf->file, "summary", H5P_DEFAULT);
    if (d < 0) return H5U_FAIL(tf->err, sizeof tf->err, "cannot open table", "/summary");
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d), mt = H5I_INVALID_HID;
    int rc = 0;
    hsize_t dims[1] = {0};
    if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_COMPOUND ||
        H5Sget_simple_extent_ndims(sp) != 1) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(tf->err, sizeof tf->err, "/summary is not a table (1-D compound dataset)");
        rc = -1;
    } else {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        if (dims[0] != 1) {
            snprintf(tf->err, sizeof tf->err, "table /summary has %llu rows, expected 1",
                     (unsigned long long)dims[0]);
            rc = -1;
        }
    }
    size_t present = 0;
    if (!rc) {
        mt = H5Tcreate(H5T_COMPOUND, sizeof(sim_summary));
        if (mt < 0) rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot make memory type", "/summary");
        for (size_t i = 0; i < sim_summary_n_fields && !rc; i++) {
            if (H5Tget_member_index(ft, sim_summary_fields[i].name) < 0) {
                H5Eclear2(H5E_DEFAULT);
                continue;
            }
            present++;
            if (h5u_compound_insert(mt, &sim_summary_fields[i], 1, 0, H5U_MEM))
                rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot make memory type", "/summary");
        }
        if (!rc && !present) {
            snprintf(tf->err, sizeof tf->err, "table /summary has none of the summary fields");
            rc = -1;
        }
    }
    if (!rc && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0)
        rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot read table", "/summary");
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    if (rc) return -1;
    if (!tf->info.complete && s->cycles == 0 && s->sim_time_s == 0 && s->tokens_trained == 0)
        summary_from_tables(tf, s);
    return 0;
}

/* ---- reference --------------------------------------------------------------------- */

struct names {
    char **v;
    size_t n;
};

static herr_t collect_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)loc;
    (void)info;
    struct names *nm = data;
    nm->v = xrealloc(nm->v, (nm->n + 1) * sizeof *nm->v);
    nm->v[nm->n++] = xstrdup(name);
    return 0;
}

void trace_reference_free(trace_reference *ref) {
    for (size_t i = 0; i < ref->n; i++) free(ref->names[i]);
    free(ref->names);
    free(ref->values);
    free(ref->source);
    memset(ref, 0, sizeof *ref);
}

int trace_read_reference(trace_file *tf, trace_reference *ref) {
    memset(ref, 0, sizeof *ref);
    if (!link_exists(tf->file, "reference")) return 0;
    hid_t g = H5Gopen2(tf->file, "reference", H5P_DEFAULT);
    if (g < 0) return H5U_FAIL(tf->err, sizeof tf->err, "cannot open group", "/reference");
    struct names nm = {0};
    hsize_t idx = 0;
    int rc = 0;
    if (H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &nm) < 0)
        rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot list attributes of", "/reference");
    ref->names = xcalloc(nm.n ? nm.n : 1, sizeof *ref->names);
    ref->values = xcalloc(nm.n ? nm.n : 1, sizeof *ref->values);
    for (size_t i = 0; i < nm.n && !rc; i++) {
        if (!strcmp(nm.v[i], "source")) {
            rc = h5u_read_attr_str(g, "source", &ref->source, tf->err, sizeof tf->err);
            continue;
        }
        rc = h5u_read_attr_f64(g, nm.v[i], &ref->values[ref->n], tf->err, sizeof tf->err);
        if (!rc) ref->names[ref->n++] = xstrdup(nm.v[i]);
    }
    if (!rc && !ref->source) ref->source = xstrdup("");
    for (size_t i = 0; i < nm.n; i++) free(nm.v[i]);
    free(nm.v);
    H5Gclose(g);
    if (rc) trace_reference_free(ref);
    return rc;
}

/* ---- scenario ---------------------------------------------------------------------- */

int trace_read_scenario(trace_file *tf, char **text) {
    if (!link_exists(tf->file, "scenario")) {
        *text = xstrdup("");
        return 0;
    }
    char **v = NULL;
    size_t n = 0;
    if (h5u_read_texts(tf->file, "scenario", &v, &n, tf->err, sizeof tf->err)) return -1;
    if (n != 1) {
        h5u_free_texts(v, n);
        snprintf(tf->err, sizeof tf->err, "/scenario holds %zu strings, expected 1", n);
        return -1;
    }
    *text = v[0];
    free(v);
    return 0;
}

int trace_read_overrides(trace_file *tf, char ***v, size_t *n) {
    if (!link_exists(tf->file, "overrides")) {
        *v = xcalloc(1, sizeof **v);
        *n = 0;
        return 0;
    }
    return h5u_read_texts(tf->file, "overrides", v, n, tf->err, sizeof tf->err);
}

int trace_read_notices(trace_file *tf, char ***v, size_t *n) {
    if (!link_exists(tf->file, "notices")) {
        *v = xcalloc(1, sizeof **v);
        *n = 0;
        return 0;
    }
    return h5u_read_texts(tf->file, "notices", v, n, tf->err, sizeof tf->err);
}

/* ---- tables ------------------------------------------------------------------------ */

void trace_read_free_names(char **names, size_t n) { h5u_free_texts(names, n); }

/* 1 if `name` at the root is a 1-D compound dataset. */
static int is_table(hid_t f, const char *name) {
    hid_t o = H5Oopen(f, name, H5P_DEFAULT);
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    int yes = 0;
    if (H5Iget_type(o) == H5I_DATASET) {
        hid_t t = H5Dget_type(o), sp = H5Dget_space(o);
        yes = t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_COMPOUND &&
              H5Sget_simple_extent_ndims(sp) == 1;
        if (t >= 0) H5Tclose(t);
        if (sp >= 0) H5Sclose(sp);
    }
    H5Oclose(o);
    H5Eclear2(H5E_DEFAULT);
    return yes;
}

int trace_read_tables(trace_file *tf, char ***names, size_t *n) {
    H5G_info_t gi;
    if (H5Gget_info(tf->file, &gi) < 0)
        return H5U_FAIL(tf->err, sizeof tf->err, "cannot list", "the root group");
    char **v = xcalloc(gi.nlinks ? gi.nlinks : 1, sizeof *v);
    size_t k = 0;
    for (hsize_t i = 0; i < gi.nlinks; i++) {
        ssize_t len =
            H5Lget_name_by_idx(tf->file, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
        if (len < 0) {
            h5u_free_texts(v, k);
            return H5U_FAIL(tf->err, sizeof tf->err, "cannot list", "the root group");
        }
        char *name = xmalloc((size_t)len + 1);
        if (H5Lget_name_by_idx(tf->file, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, (size_t)len + 1,
                               H5P_DEFAULT) < 0) {
            free(name);
            h5u_free_texts(v, k);
            return H5U_FAIL(tf->err, sizeof tf->err, "cannot list", "the root group");
        }
        if (is_table(tf->file, name)) v[k++] = name;
        else free(name);
    }
    *names = v;
    *n = k;
    return 0;
}

int64_t trace_read_rows(trace_file *tf, const char *table) {
    hid_t d = H5Dopen2(tf->file, table, H5P_DEFAULT);
    if (d < 0) return H5U_FAIL(tf->err, sizeof tf->err, "cannot open table", table);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[1] = {0};
    int64_t rows = -1;
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
        H5Sget_simple_extent_dims(sp, dims, NULL) < 0)
        H5U_FAIL(tf->err, sizeof tf->err, "cannot get the size of table", table);
    else rows = (int64_t)dims[0];
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return rows;
}

int trace_read_table_attr(trace_file *tf, const char *table, const char *attr, char **out) {
    *out = NULL;
    hid_t d = link_exists(tf->file, table) ? H5Dopen2(tf->file, table, H5P_DEFAULT) : -1;
    if (d < 0) return H5U_FAIL(tf->err, sizeof tf->err, "cannot open table", table);
    int rc =
        h5u_attr_exists(d, attr)
            ? h5u_read_attr_str(d, attr, out, tf->err, sizeof tf->err)
            : (snprintf(tf->err, sizeof tf->err, "table /%s has no attribute %s", table, attr), -1);
    H5Dclose(d);
    return rc;
}

int trace_read_table(trace_file *tf, const char *table, const sim_field *f, size_t n,
                     size_t rec_size, void **recs, size_t *nrows) {
    return h5u_table_read(tf->file, table, f, n, rec_size, recs, nrows, tf->err, sizeof tf->err);
}

/* ---- generic CSV ------------------------------------------------------------------- */

enum col_kind { COL_INT, COL_UINT, COL_FLOAT, COL_STR, COL_VSTR, COL_ENUM };

typedef struct {
    char *name;
    enum col_kind kind;
    size_t off, size;
    hid_t mtype;
} csv_col;

static void free_cols(csv_col *c, int n) {
    for (int i = 0; i < n; i++) {
        if (c[i].name) H5free_memory(c[i].name);
        if (c[i].mtype >= 0) H5Tclose(c[i].mtype);
    }
    free(c);
}

/* Describe each member of compound type ft as a column of a packed memory record. */
static int plan_cols(trace_file *tf, const char *table, hid_t ft, csv_col **out, int *nout,
                     size_t *rec) {
    int n = H5Tget_nmembers(ft);
    if (n <= 0) return H5U_FAIL(tf->err, sizeof tf->err, "cannot list the fields of", table);
    csv_col *c = xcalloc((size_t)n, sizeof *c);
    for (int i = 0; i < n; i++) c[i].mtype = H5I_INVALID_HID;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        c[i].name = H5Tget_member_name(ft, (unsigned)i);
        hid_t m = H5Tget_member_type(ft, (unsigned)i);
        if (!c[i].name || m < 0) {
            H5U_FAIL(tf->err, sizeof tf->err, "cannot inspect the fields of", table);
            if (m >= 0) H5Tclose(m);
            free_cols(c, n);
            return -1;
        }
        H5T_class_t cls = H5Tget_class(m);
        int bad = 0;
        if (cls == H5T_INTEGER) {
            int uns = H5Tget_sign(m) == H5T_SGN_NONE;
            c[i].kind = uns ? COL_UINT : COL_INT;
            c[i].mtype = H5Tcopy(uns ? H5T_NATIVE_ULLONG : H5T_NATIVE_LLONG);
            c[i].size = 8;
        } else if (cls == H5T_FLOAT) {
            c[i].kind = COL_FLOAT;
            c[i].mtype = H5Tcopy(H5T_NATIVE_DOUBLE);
            c[i].size = sizeof(double);
        } else if (cls == H5T_STRING) {
            htri_t vl = H5Tis_variable_str(m);
            c[i].kind = vl > 0 ? COL_VSTR : COL_STR;
            c[i].mtype = H5Tcopy(m);
            c[i].size = vl > 0 ? sizeof(char *) : H5Tget_size(m);
            bad = vl < 0 || c[i].size == 0;
        } else if (cls == H5T_ENUM) {
            c[i].kind = COL_ENUM;
            c[i].mtype = H5Tget_native_type(m, H5T_DIR_ASCEND);
            c[i].size = c[i].mtype >= 0 ? H5Tget_size(c[i].mtype) : 0;
            bad = c[i].size == 0;
        } else {
            bad = 1;
        }
        H5Tclose(m);
        if (bad || c[i].mtype < 0) {
            H5Eclear2(H5E_DEFAULT);
            snprintf(tf->err, sizeof tf->err,
                     "field %s of table /%s has a type CSV export does not support", c[i].name,
                     table);
            free_cols(c, n);
            return -1;
        }
        c[i].off = off;
        off += c[i].size;
    }
    *out = c;
    *nout = n;
    *rec = off;
    return 0;
}

static void csv_value(FILE *out, const csv_col *c, const char *p) {
    switch (c->kind) {
    case COL_INT: {
        long long v;
        memcpy(&v, p, sizeof v);
        sim_csv_int(out, v);
        break;
    }
    case COL_UINT: {
        unsigned long long v;
        memcpy(&v, p, sizeof v);
        fprintf(out, "%llu", v);
        break;
    }
    case COL_FLOAT: {
        double v;
        memcpy(&v, p, sizeof v);
        sim_csv_double(out, v);
        break;
    }
    case COL_STR: sim_csv_string(out, p, c->size); break;
    case COL_VSTR: {
        const char *s;
        memcpy(&s, p, sizeof s);
        if (s) sim_csv_string(out, s, strlen(s));
        break;
    }
    case COL_ENUM: {
        char name[128];
        if (H5Tenum_nameof(c->mtype, p, name, sizeof name) >= 0)
            sim_csv_string(out, name, sizeof name);
        else H5Eclear2(H5E_DEFAULT);
        break;
    }
    }
}

#define CSV_BLOCK_ROWS 65536

static int write_csv(trace_file *tf, const char *table, hid_t d, hid_t ft, hid_t fs, FILE *out) {
    csv_col *c = NULL;
    int nc = 0;
    size_t rec = 0;
    if (plan_cols(tf, table, ft, &c, &nc, &rec)) return -1;
    hid_t mt = H5Tcreate(H5T_COMPOUND, rec);
    int rc = 0, has_vlen = 0;
    if (mt < 0) rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot make memory type for", table);
    for (int i = 0; i < nc && !rc; i++) {
        has_vlen |= c[i].kind == COL_VSTR;
        if (H5Tinsert(mt, c[i].name, c[i].off, c[i].mtype) < 0)
            rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot make memory type for", table);
    }
    for (int i = 0; i < nc; i++) {
        if (i) fputc(',', out);
        sim_csv_string(out, c[i].name, strlen(c[i].name));
    }
    fputc('\n', out);
    hsize_t dims[1] = {0};
    if (!rc && H5Sget_simple_extent_dims(fs, dims, NULL) < 0)
        rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot get the size of", table);
    char *buf = rc ? NULL : xmalloc(rec * CSV_BLOCK_ROWS);
    for (hsize_t start = 0; !rc && start < dims[0]; start += CSV_BLOCK_ROWS) {
        hsize_t cnt[1] = {dims[0] - start < CSV_BLOCK_ROWS ? dims[0] - start : CSV_BLOCK_ROWS};
        hsize_t st[1] = {start};
        hid_t ms = H5Screate_simple(1, cnt, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL) < 0 ||
            H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf) < 0) {
            rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot read table", table);
        } else {
            for (hsize_t r = 0; r < cnt[0]; r++) {
                const char *row = buf + r * rec;
                for (int i = 0; i < nc; i++) {
                    if (i) fputc(',', out);
                    csv_value(out, &c[i], row + c[i].off);
                }
                fputc('\n', out);
            }
            if (has_vlen && H5Dvlen_reclaim(mt, ms, H5P_DEFAULT, buf) < 0)
                rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot free strings read from", table);
        }
        if (ms >= 0) H5Sclose(ms);
    }
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    free_cols(c, nc);
    if (!rc && ferror(out)) {
        snprintf(tf->err, sizeof tf->err, "cannot write CSV of table /%s", table);
        rc = -1;
    }
    return rc;
}

int trace_read_table_csv(trace_file *tf, const char *table, FILE *out) {
    if (!link_exists(tf->file, table)) {
        snprintf(tf->err, sizeof tf->err, "table /%s is missing", table);
        return -1;
    }
    hid_t d = H5Dopen2(tf->file, table, H5P_DEFAULT);
    if (d < 0) return H5U_FAIL(tf->err, sizeof tf->err, "cannot open table", table);
    hid_t ft = H5Dget_type(d), fs = H5Dget_space(d);
    int rc;
    if (ft < 0 || fs < 0) rc = H5U_FAIL(tf->err, sizeof tf->err, "cannot inspect table", table);
    else if (H5Tget_class(ft) != H5T_COMPOUND || H5Sget_simple_extent_ndims(fs) != 1) {
        snprintf(tf->err, sizeof tf->err, "/%s is not a table (1-D compound dataset)", table);
        rc = -1;
    } else {
        rc = write_csv(tf, table, d, ft, fs, out);
    }
    if (ft >= 0) H5Tclose(ft);
    if (fs >= 0) H5Sclose(fs);
    H5Dclose(d);
    return rc;
}

int trace_read_peers(trace_file *tf, trace_peer_rec **out, size_t *n) {
    *out = NULL;
    *n = 0;
    int64_t rows = trace_read_rows(tf, "peers");
    if (rows < 0) return -1;
    if (rows > TRACE_READ_MAX_PEERS) {
        snprintf(tf->err, sizeof tf->err, "table /peers has %lld rows (at most %d)",
                 (long long)rows, TRACE_READ_MAX_PEERS);
        return -1;
    }
    void *recs = NULL;
    size_t np = 0;
    if (trace_read_table(tf, "peers", trace_peer_fields, trace_peer_n_fields,
                         sizeof(trace_peer_rec), &recs, &np))
        return -1;
    trace_peer_rec *p = recs;
    int32_t stages = 0, replicas = 0;
    for (size_t i = 0; i < np; i++) {
        const char *bad = NULL;
        int32_t v = 0;
        if (p[i].peer != (int32_t)i) bad = "peer", v = p[i].peer;
        else if (p[i].stage < 0 || (size_t)p[i].stage >= np) bad = "stage", v = p[i].stage;
        else if (p[i].replica < 0 || (size_t)p[i].replica >= np) bad = "replica", v = p[i].replica;
        if (bad) {
            snprintf(tf->err, sizeof tf->err,
                     "table /peers row %zu: %s %d is out of range (peer = row, stage and "
                     "replica in [0, %zu))",
                     i, bad, v, np);
            free(recs);
            return -1;
        }
        if (p[i].stage + 1 > stages) stages = p[i].stage + 1;
        if (p[i].replica + 1 > replicas) replicas = p[i].replica + 1;
    }
    if (np && (int64_t)stages * replicas > (int64_t)np * 2) {
        /* the grid is sparse beyond any layout we write (ddp: one stage, R replicas) */
        snprintf(tf->err, sizeof tf->err,
                 "table /peers: %d stages x %d replicas for %zu peers (corrupt?)", stages, replicas,
                 np);
        free(recs);
        return -1;
    }
    *out = p;
    *n = np;
    return 0;
}
