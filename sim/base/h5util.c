/* sim/base/h5util.c: checked HDF5 helpers: errors, compound types, attributes, strings (see h5util.h; tables in h5table.c, opening distrusted files in h5open.c). */
#include "sim/base/h5util.h"
#include "sim/base/h5util_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/base/fsutil.h"
#include "sim/base/util.h"

void h5u_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static herr_t first_reason(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    char *out = data;
    if (!out[0] && e && e->desc && e->desc[0]) snprintf(out, 160, "%s", e->desc);
    return 0;
}

int h5u_fail_at(char *err, size_t errlen, const char *file, int line, const char *what,
                const char *obj) {
    char reason[160] = "";
    /* Upward: the innermost (most specific) error first. */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_reason, reason);
    H5Eclear2(H5E_DEFAULT);
    if (err && errlen) {
        const char *o = obj ? obj : "";
        snprintf(err, errlen, "%s:%d: %s%s%s%s%s%s", file, line, what, o[0] ? " " : "", o,
                 reason[0] ? " (hdf5: " : "", reason, reason[0] ? ")" : "");
    }
    return -1;
}

/* ---- types ------------------------------------------------------------------------- */

static hid_t member_type(const sim_field *f, int which) {
    switch (f->type) {
    case SIM_FT_I32: return H5Tcopy(which == H5U_MEM ? H5T_NATIVE_INT32 : H5T_STD_I32LE);
    case SIM_FT_I64: return H5Tcopy(which == H5U_MEM ? H5T_NATIVE_INT64 : H5T_STD_I64LE);
    case SIM_FT_F64: return H5Tcopy(which == H5U_MEM ? H5T_NATIVE_DOUBLE : H5T_IEEE_F64LE);
    case SIM_FT_STR: {
        hid_t t = H5Tcopy(H5T_C_S1);
        if (t < 0) return H5I_INVALID_HID;
        if (H5Tset_size(t, f->size) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
            H5Tclose(t);
            return H5I_INVALID_HID;
        }
        return t;
    }
    }
    return H5I_INVALID_HID;
}

int h5u_compound_insert(hid_t type, const sim_field *f, size_t n, size_t base, int which) {
    for (size_t i = 0; i < n; i++) {
        hid_t mt = member_type(&f[i], which);
        if (mt < 0) return -1;
        herr_t rc = H5Tinsert(type, f[i].name, base + f[i].offset, mt);
        H5Tclose(mt);
        if (rc < 0) return -1;
    }
    return 0;
}

hid_t h5u_compound(const sim_field *f, size_t n, size_t rec_size, int which) {
    char msg[200];
    if (sim_fields_check(f, n, rec_size, msg, sizeof msg)) SIM_FAIL("record layout: %s", msg);
    hid_t t = H5Tcreate(H5T_COMPOUND, rec_size);
    if (t < 0) return H5I_INVALID_HID;
    if (h5u_compound_insert(t, f, n, 0, which)) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static hid_t vstr_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return H5I_INVALID_HID;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* ---- attributes -------------------------------------------------------------------- */

/* Write attribute `name` of file type ftype over dataspace `space` from buf (memory type
 * mtype); an existing attribute of the same type and size is overwritten in place,
 * otherwise replaced. */
static int attr_put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, hid_t space,
                    const void *buf, char *err, size_t errlen) {
    htri_t ex = H5Aexists(loc, name);
    if (ex < 0) return H5U_FAIL(err, errlen, "cannot look up attribute", name);
    hid_t a = H5I_INVALID_HID;
    if (ex > 0) {
        a = H5Aopen(loc, name, H5P_DEFAULT);
        if (a < 0) return H5U_FAIL(err, errlen, "cannot open attribute", name);
        hid_t at = H5Aget_type(a), as = H5Aget_space(a);
        int same = at >= 0 && as >= 0 && H5Tequal(at, ftype) > 0 &&
                   H5Sget_simple_extent_npoints(as) == H5Sget_simple_extent_npoints(space);
        if (at >= 0) H5Tclose(at);
        if (as >= 0) H5Sclose(as);
        if (!same) {
            H5Aclose(a);
            a = H5I_INVALID_HID;
            if (H5Adelete(loc, name) < 0)
                return H5U_FAIL(err, errlen, "cannot replace attribute", name);
        }
    }
    if (a < 0) {
        a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0) return H5U_FAIL(err, errlen, "cannot create attribute", name);
    }
    if (H5Awrite(a, mtype, buf) < 0) {
        H5U_FAIL(err, errlen, "cannot write attribute", name);
        H5Aclose(a);
        return -1;
    }
    if (H5Aclose(a) < 0) return H5U_FAIL(err, errlen, "cannot close attribute", name);
    return 0;
}

static int attr_scalar(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v,
                       char *err, size_t errlen) {
    hid_t sp = H5Screate(H5S_SCALAR);
    if (sp < 0) return H5U_FAIL(err, errlen, "cannot create dataspace for attribute", name);
    int rc = attr_put(loc, name, ftype, mtype, sp, v, err, errlen);
    H5Sclose(sp);
    return rc;
}

int h5u_attr_i32(hid_t loc, const char *name, int32_t v, char *err, size_t errlen) {
    return attr_scalar(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v, err, errlen);
}
int h5u_attr_i64(hid_t loc, const char *name, int64_t v, char *err, size_t errlen) {
    return attr_scalar(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, err, errlen);
}
int h5u_attr_u64(hid_t loc, const char *name, uint64_t v, char *err, size_t errlen) {
    return attr_scalar(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v, err, errlen);
}
int h5u_attr_f64(hid_t loc, const char *name, double v, char *err, size_t errlen) {
    return attr_scalar(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, err, errlen);
}

int h5u_attr_str(hid_t loc, const char *name, const char *s, char *err, size_t errlen) {
    hid_t t = vstr_type();
    if (t < 0) return H5U_FAIL(err, errlen, "cannot make string type for attribute", name);
    const char *p = s ? s : "";
    int rc = attr_scalar(loc, name, t, t, &p, err, errlen);
    H5Tclose(t);
    return rc;
}

int h5u_attr_strs(hid_t loc, const char *name, const char *const *v, size_t n, char *err,
                  size_t errlen) {
    hid_t t = vstr_type();
    if (t < 0) return H5U_FAIL(err, errlen, "cannot make string type for attribute", name);
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    if (sp < 0) {
        H5Tclose(t);
        return H5U_FAIL(err, errlen, "cannot create dataspace for attribute", name);
    }
    int rc = attr_put(loc, name, t, t, sp, v, err, errlen);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

int h5u_attr_exists(hid_t loc, const char *name) {
    htri_t ex = H5Aexists(loc, name);
    if (ex < 0) H5Eclear2(H5E_DEFAULT);
    return ex > 0;
}

static int read_attr_num(hid_t loc, const char *name, hid_t mtype, void *v, char *err,
                         size_t errlen) {
    if (!h5u_attr_exists(loc, name)) {
        snprintf(err, errlen, "attribute %s is missing", name);
        return -1;
    }
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return H5U_FAIL(err, errlen, "cannot open attribute", name);
    int rc = 0;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    if (t < 0 || sp < 0) {
        rc = H5U_FAIL(err, errlen, "cannot inspect attribute", name);
    } else {
        H5T_class_t c = H5Tget_class(t);
        if ((c != H5T_INTEGER && c != H5T_FLOAT) || H5Sget_simple_extent_npoints(sp) != 1) {
            snprintf(err, errlen, "attribute %s is not a number", name);
            rc = -1;
        } else if (H5Aread(a, mtype, v) < 0) {
            rc = H5U_FAIL(err, errlen, "cannot read attribute", name);
        }
    }
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

int h5u_read_attr_i64(hid_t loc, const char *name, int64_t *v, char *err, size_t errlen) {
    return read_attr_num(loc, name, H5T_NATIVE_INT64, v, err, errlen);
}

int h5u_read_attr_u64(hid_t loc, const char *name, uint64_t *v, char *err, size_t errlen) {
    return read_attr_num(loc, name, H5T_NATIVE_UINT64, v, err, errlen);
}

int h5u_read_attr_f64(hid_t loc, const char *name, double *v, char *err, size_t errlen) {
    return read_attr_num(loc, name, H5T_NATIVE_DOUBLE, v, err, errlen);
}

/* Read the strings of an attribute or dataset of string type ft over space sp. */
static herr_t rd(hid_t obj, int is_attr, hid_t mtype, void *buf) {
    return is_attr ? H5Aread(obj, mtype, buf)
                   : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

int h5u_read_strings(hid_t obj, hid_t ft, hid_t sp, int is_attr, const char *name, char ***out,
                     size_t *nout, char *err, size_t errlen) {
    if (H5Tget_class(ft) != H5T_STRING) {
        snprintf(err, errlen, "%s is not a string", name);
        return -1;
    }
    int rank = H5Sget_simple_extent_ndims(sp);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (rank < 0 || rank > 1 || np < 0) {
        snprintf(err, errlen, "%s is not a string or a list of strings", name);
        return -1;
    }
    size_t n = (size_t)np;
    if (n > H5U_MAX_ITEMS) {
        snprintf(err, errlen, "%s holds %zu strings (corrupt?)", name, n);
        return -1;
    }
    htri_t vl = H5Tis_variable_str(ft);
    if (vl < 0) return H5U_FAIL(err, errlen, "cannot inspect string type of", name);
    hid_t mt = H5Tcopy(ft);
    if (mt < 0) return H5U_FAIL(err, errlen, "cannot copy string type of", name);
    char **v = xcalloc(n ? n : 1, sizeof *v);
    int rc = 0;
    if (vl > 0) {
        char **p = xcalloc(n ? n : 1, sizeof *p);
        if (n && rd(obj, is_attr, mt, p) < 0) {
            rc = H5U_FAIL(err, errlen, "cannot read", name);
        } else {
            for (size_t i = 0; i < n; i++) v[i] = xstrdup(p[i] ? p[i] : "");
            if (n && H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, p) < 0)
                rc = H5U_FAIL(err, errlen, "cannot free strings read from", name);
        }
        free(p);
    } else {
        size_t sz = H5Tget_size(ft);
        if (sz > ((size_t)1 << 30) / (n ? n : 1)) {
            H5Tclose(mt);
            h5u_free_texts(v, n);
            snprintf(err, errlen, "%s: %zu strings of %zu bytes (corrupt?)", name, n, sz);
            return -1;
        }
        char *buf = xcalloc(n ? n : 1, sz ? sz : 1);
        if (n && rd(obj, is_attr, mt, buf) < 0) {
            rc = H5U_FAIL(err, errlen, "cannot read", name);
        } else {
            for (size_t i = 0; i < n; i++) {
                v[i] = xmalloc(sz + 1);
                memcpy(v[i], buf + i * sz, sz);
                v[i][sz] = 0;
            }
        }
        free(buf);
    }
    H5Tclose(mt);
    if (rc) {
        h5u_free_texts(v, n);
        return -1;
    }
    *out = v;
    *nout = n;
    return 0;
}

int h5u_read_attr_str(hid_t loc, const char *name, char **out, char *err, size_t errlen) {
    if (!h5u_attr_exists(loc, name)) {
        snprintf(err, errlen, "attribute %s is missing", name);
        return -1;
    }
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return H5U_FAIL(err, errlen, "cannot open attribute", name);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int rc = -1;
    char **v = NULL;
    size_t n = 0;
    if (t < 0 || sp < 0) H5U_FAIL(err, errlen, "cannot inspect attribute", name);
    else if (h5u_read_strings(a, t, sp, 1, name, &v, &n, err, errlen) == 0) {
        if (n == 1) {
            *out = v[0];
            v[0] = NULL;
            rc = 0;
        } else {
            snprintf(err, errlen, "attribute %s holds %zu strings, expected 1", name, n);
        }
        h5u_free_texts(v, n);
    }
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

int h5u_read_attr_strs(hid_t loc, const char *name, char ***v, size_t *n, char *err,
                       size_t errlen) {
    *v = NULL;
    *n = 0;
    if (!h5u_attr_exists(loc, name)) {
        snprintf(err, errlen, "attribute %s is missing", name);
        return -1;
    }
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return H5U_FAIL(err, errlen, "cannot open attribute", name);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int rc = -1;
    if (t < 0 || sp < 0) H5U_FAIL(err, errlen, "cannot inspect attribute", name);
    else rc = h5u_read_strings(a, t, sp, 1, name, v, n, err, errlen);
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    H5Aclose(a);
    return rc;
}

/* ---- text datasets ----------------------------------------------------------------- */

static int write_strings(hid_t loc, const char *name, const char *const *v, size_t n, int scalar,
                         char *err, size_t errlen) {
    hid_t t = vstr_type();
    if (t < 0) return H5U_FAIL(err, errlen, "cannot make string type for", name);
    hsize_t dims[1] = {n};
    hid_t sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int rc = 0;
    if (sp < 0 || dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0) {
        rc = H5U_FAIL(err, errlen, "cannot set up dataset", name);
    } else {
        hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (d < 0) {
            rc = H5U_FAIL(err, errlen, "cannot create dataset", name);
        } else {
            if (n && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
                rc = H5U_FAIL(err, errlen, "cannot write dataset", name);
            if (H5Dclose(d) < 0 && !rc) rc = H5U_FAIL(err, errlen, "cannot close dataset", name);
        }
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

int h5u_write_text(hid_t loc, const char *name, const char *text, char *err, size_t errlen) {
    const char *p = text ? text : "";
    return write_strings(loc, name, &p, 1, 1, err, errlen);
}

int h5u_write_texts(hid_t loc, const char *name, const char *const *v, size_t n, char *err,
                    size_t errlen) {
    return write_strings(loc, name, v, n, 0, err, errlen);
}

int h5u_read_texts(hid_t loc, const char *name, char ***v, size_t *n, char *err, size_t errlen) {
    htri_t ex = H5Lexists(loc, name, H5P_DEFAULT);
    if (ex <= 0) {
        if (ex < 0) H5Eclear2(H5E_DEFAULT);
        snprintf(err, errlen, "dataset /%s is missing", name);
        return -1;
    }
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return H5U_FAIL(err, errlen, "cannot open dataset", name);
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    int rc;
    if (t < 0 || sp < 0) rc = H5U_FAIL(err, errlen, "cannot inspect dataset", name);
    else rc = h5u_read_strings(d, t, sp, 0, name, v, n, err, errlen);
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

void h5u_free_texts(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* ---- tables ------------------------------------------------------------------------ */

int h5u_field_attrs(hid_t dset, const sim_field *f, size_t n, char *err, size_t errlen) {
    const char **units = xcalloc(n ? n : 1, sizeof *units);
    const char **defs = xcalloc(n ? n : 1, sizeof *defs);
    int any_def = 0;
    for (size_t i = 0; i < n; i++) {
        units[i] = f[i].unit ? f[i].unit : "";
        defs[i] = f[i].def ? f[i].def : "";
        any_def |= f[i].def != NULL;
    }
    int rc = h5u_attr_strs(dset, "units", units, n, err, errlen);
    if (!rc && any_def) rc = h5u_attr_strs(dset, "definitions", defs, n, err, errlen);
    free(units);
    free(defs);
    return rc;
}
