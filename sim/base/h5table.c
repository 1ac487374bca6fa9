/* sim/base/h5table.c: appendable HDF5 tables (h5u_table, see h5util.h): buffered rows,
 * chunked compressed datasets, detaching from a closed file, and the direct mode that
 * compresses chunks here and stores them with H5Dwrite_chunk. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sim/base/h5util.h"
#include "sim/base/util.h"

#define DEFLATE_LEVEL 1 /* the datasets' H5Pset_deflate level (and the direct mode's) */

int h5u_table_create(h5u_table *t, hid_t loc, const char *name, const sim_field *f, size_t n,
                     size_t rec_size, size_t chunk_rows, size_t block_rows, char *err,
                     size_t errlen) {
    memset(t, 0, sizeof *t);
    t->dset = t->memtype = H5I_INVALID_HID;
    size_t nl = strlen(name) + 2;
    t->name = xmalloc(nl);
    snprintf(t->name, nl, "%s%s", name[0] == '/' ? "" : "/", name);
    t->rec_size = rec_size;
    t->cap = block_rows ? block_rows : 1;
    t->chunk_rows = chunk_rows ? chunk_rows : 1;
    t->buf = xcalloc(t->cap, rec_size);

    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {t->chunk_rows};
    size_t chunk_bytes = chunk[0] * rec_size, cache = 2 * chunk_bytes;
    if (cache < (1u << 20)) cache = 1u << 20;
    t->cache_bytes = cache;
    hid_t ftype = h5u_compound(f, n, rec_size, H5U_FILE);
    t->memtype = h5u_compound(f, n, rec_size, H5U_MEM);
    hid_t sp = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), dapl = H5Pcreate(H5P_DATASET_ACCESS);
    int rc = 0;
    t->filtered = H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0;
    if (ftype < 0 || t->memtype < 0 || sp < 0 || dcpl < 0 || dapl < 0 ||
        H5Pset_chunk(dcpl, 1, chunk) < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 ||
        H5Pset_chunk_cache(dapl, 521, cache, 1.0) < 0) {
        rc = H5U_FAIL(err, errlen, "cannot set up table", t->name);
    } else if (t->filtered &&
               (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0)) {
        rc = H5U_FAIL(err, errlen, "cannot set compression of table", t->name);
    } else {
        t->dset = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, dapl);
        if (t->dset < 0) rc = H5U_FAIL(err, errlen, "cannot create table", t->name);
    }
    if (ftype >= 0) H5Tclose(ftype);
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (dapl >= 0) H5Pclose(dapl);
    if (!rc) rc = h5u_field_attrs(t->dset, f, n, err, errlen);
    if (rc) {
        char ignore[8];
        h5u_table_close(t, ignore, sizeof ignore);
    }
    return rc;
}

/* ---- direct mode ------------------------------------------------------------------- */

static int little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

int h5u_table_set_direct(h5u_table *t) {
    /* the file type's bytes are the records' own only on a little-endian host */
    if (t->direct || t->n_buf || t->n_rows || !little_endian()) return 0;
    t->direct = 1;
    free(t->buf);
    t->buf = xcalloc(t->cap + t->chunk_rows, t->rec_size); /* + the file's partial chunk */
    return 0;
}

static void drop_prepared(h5u_table *t) {
    for (size_t i = 0; i < t->n_prep; i++) free(t->prep[i].data);
    free(t->prep);
    t->prep = NULL;
    t->n_prep = 0;
    t->prep_rows = 0;
}

/* HDF5's shuffle filter on one full chunk: byte b of element i goes to b * n + i. In
 * blocks of elements, so that the reads stay in cache and the writes are sequential. */
static void shuffle(const unsigned char *in, unsigned char *out, size_t n, size_t size) {
    enum { BLOCK = 256 };
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
        for (size_t b = 0; b < size; b++) {
            unsigned char *o = out + b * n;
            const unsigned char *p = in + b;
            for (size_t i = i0; i < i1; i++) o[i] = p[i * size];
        }
    }
}

int h5u_table_prepare(h5u_table *t, char *err, size_t errlen) {
    if (!t->direct || t->prep_rows == t->n_buf) return 0;
    drop_prepared(t);
    if (!t->n_buf) return 0;
    const size_t cr = t->chunk_rows, rs = t->rec_size, chunk_bytes = cr * rs;
    const size_t held = t->n_tail + t->n_buf; /* rows in buf, from a chunk boundary */
    const size_t n_chunks = (held + cr - 1) / cr;
    unsigned char *raw = xmalloc(chunk_bytes), *shuf = t->filtered ? xmalloc(chunk_bytes) : NULL;
    t->prep = xcalloc(n_chunks, sizeof *t->prep);
    int rc = 0;
    for (size_t c = 0; c < n_chunks && !rc; c++) {
        size_t rows = held - c * cr < cr ? held - c * cr : cr;
        memcpy(raw, t->buf + c * cr * rs, rows * rs);
        memset(raw + rows * rs, 0, (cr - rows) * rs); /* past the end: the fill value, 0 */
        h5u_chunk *p = &t->prep[t->n_prep];
        p->first_row = (t->n_rows - t->n_tail) + c * cr;
        if (!t->filtered) {
            p->data = xmalloc(chunk_bytes);
            memcpy(p->data, raw, chunk_bytes);
            p->size = chunk_bytes;
        } else {
            shuffle(raw, shuf, cr, rs);
            uLongf len = compressBound((uLong)chunk_bytes);
            p->data = xmalloc(len);
            int zrc = compress2(p->data, &len, shuf, (uLong)chunk_bytes, DEFLATE_LEVEL);
            if (zrc != Z_OK) {
                free(p->data);
                p->data = NULL;
                snprintf(err, errlen, "%s:%d: cannot compress a chunk of table %s (zlib: %s)",
                         __FILE__, __LINE__, t->name, zError(zrc));
                rc = -1;
                break;
            }
            p->size = len;
        }
        t->n_prep++;
    }
    free(raw);
    free(shuf);
    if (rc) {
        drop_prepared(t);
        return -1;
    }
    t->prep_rows = t->n_buf;
    return 0;
}

/* The prepared chunks into the file, then the new partial chunk becomes the tail. */
static int flush_direct(h5u_table *t, char *err, size_t errlen) {
    if (h5u_table_prepare(t, err, errlen)) return -1;
    hsize_t size[1] = {t->n_rows + t->n_buf};
    if (H5Dset_extent(t->dset, size) < 0) return H5U_FAIL(err, errlen, "cannot extend", t->name);
    for (size_t i = 0; i < t->n_prep; i++) {
        hsize_t off[1] = {t->prep[i].first_row};
        if (H5Dwrite_chunk(t->dset, H5P_DEFAULT, 0, off, t->prep[i].size, t->prep[i].data) < 0)
            return H5U_FAIL(err, errlen, "cannot write a chunk of", t->name);
    }
    drop_prepared(t);
    size_t held = t->n_tail + t->n_buf;
    t->n_rows += t->n_buf;
    size_t tail = (size_t)(t->n_rows % t->chunk_rows);
    memmove(t->buf, t->buf + (held - tail) * t->rec_size, tail * t->rec_size);
    t->n_tail = tail;
    t->n_buf = 0;
    return 0;
}

/* ---- buffered appends ---------------------------------------------------------------- */

int h5u_table_flush(h5u_table *t, char *err, size_t errlen) {
    if (!t->n_buf) return 0;
    if (t->dset < 0) {
        snprintf(err, errlen, "%s:%d: table %s is detached from its file (rows cannot be written)",
                 __FILE__, __LINE__, t->name);
        return -1;
    }
    if (t->direct) return flush_direct(t, err, errlen);
    hsize_t start[1] = {t->n_rows}, count[1] = {t->n_buf}, size[1] = {t->n_rows + t->n_buf};
    if (H5Dset_extent(t->dset, size) < 0) return H5U_FAIL(err, errlen, "cannot extend", t->name);
    hid_t fs = H5Dget_space(t->dset);
    if (fs < 0) return H5U_FAIL(err, errlen, "cannot get dataspace of", t->name);
    hid_t ms = H5Screate_simple(1, count, NULL);
    int rc = 0;
    if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
        rc = H5U_FAIL(err, errlen, "cannot select rows of", t->name);
    else if (H5Dwrite(t->dset, t->memtype, ms, fs, H5P_DEFAULT, t->buf) < 0)
        rc = H5U_FAIL(err, errlen, "cannot write rows of", t->name);
    if (ms >= 0) H5Sclose(ms);
    H5Sclose(fs);
    if (!rc) {
        t->n_rows += t->n_buf;
        t->n_buf = 0;
    }
    return rc;
}

int h5u_table_append(h5u_table *t, const void *rec, char *err, size_t errlen) {
    if (t->n_buf == t->cap && h5u_table_flush(t, err, errlen)) return -1;
    memcpy(t->buf + (t->n_tail + t->n_buf) * t->rec_size, rec, t->rec_size);
    t->n_buf++;
    if (t->n_buf == t->cap && t->dset >= 0) return h5u_table_flush(t, err, errlen);
    return 0;
}

int h5u_table_full(const h5u_table *t) { return t->n_buf >= t->cap; }

int h5u_table_detach(h5u_table *t, char *err, size_t errlen) {
    if (t->dset < 0) return 0;
    herr_t rc = H5Dclose(t->dset);
    t->dset = H5I_INVALID_HID;
    if (rc < 0) return H5U_FAIL(err, errlen, "cannot close", t->name);
    return 0;
}

int h5u_table_attach(h5u_table *t, hid_t loc, char *err, size_t errlen) {
    if (t->dset >= 0) return 0;
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    if (dapl < 0 || H5Pset_chunk_cache(dapl, 521, t->cache_bytes, 1.0) < 0) {
        if (dapl >= 0) H5Pclose(dapl);
        return H5U_FAIL(err, errlen, "cannot set up the access to table", t->name);
    }
    t->dset = H5Dopen2(loc, t->name, dapl);
    H5Pclose(dapl);
    if (t->dset < 0) return H5U_FAIL(err, errlen, "cannot reopen table", t->name);
    hid_t sp = H5Dget_space(t->dset);
    hsize_t dims[1] = {0};
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
             H5Sget_simple_extent_dims(sp, dims, NULL) >= 0;
    if (sp >= 0) H5Sclose(sp);
    if (!ok) return H5U_FAIL(err, errlen, "cannot get the size of table", t->name);
    if (dims[0] != t->n_rows) {
        snprintf(err, errlen,
                 "%s:%d: table %s has %llu rows in the file, %llu written (changed by another "
                 "program?)",
                 __FILE__, __LINE__, t->name, (unsigned long long)dims[0],
                 (unsigned long long)t->n_rows);
        return -1;
    }
    return 0;
}

int h5u_table_close(h5u_table *t, char *err, size_t errlen) {
    int rc = 0;
    if (t->dset >= 0 && H5Dclose(t->dset) < 0) rc = H5U_FAIL(err, errlen, "cannot close", t->name);
    if (t->memtype >= 0) H5Tclose(t->memtype);
    drop_prepared(t);
    free(t->buf);
    free(t->name);
    memset(t, 0, sizeof *t);
    t->dset = t->memtype = H5I_INVALID_HID;
    return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

int h5u_table_read(hid_t loc, const char *name, const sim_field *f, size_t n, size_t rec_size,
                   void **out, size_t *nrows, char *err, size_t errlen) {
    htri_t ex = H5Lexists(loc, name, H5P_DEFAULT);
    if (ex <= 0) {
        if (ex < 0) H5Eclear2(H5E_DEFAULT);
        snprintf(err, errlen, "table /%s is missing", name);
        return -1;
    }
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return H5U_FAIL(err, errlen, "cannot open table", name);
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d), mt = H5I_INVALID_HID;
    int rc = 0;
    hsize_t dims[1] = {0};
    if (ft < 0 || sp < 0) {
        rc = H5U_FAIL(err, errlen, "cannot inspect table", name);
    } else if (H5Tget_class(ft) != H5T_COMPOUND || H5Sget_simple_extent_ndims(sp) != 1) {
        snprintf(err, errlen, "/%s is not a table (1-D compound dataset)", name);
        rc = -1;
    } else {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        if (dims[0] > H5U_MAX_ITEMS) {
            snprintf(err, errlen, "table /%s claims %llu rows (at most %zu; corrupt?)", name,
                     (unsigned long long)dims[0], H5U_MAX_ITEMS);
            rc = -1;
        }
        for (size_t i = 0; i < n && !rc; i++)
            if (H5Tget_member_index(ft, f[i].name) < 0) {
                H5Eclear2(H5E_DEFAULT);
                snprintf(err, errlen, "table /%s has no field %s", name, f[i].name);
                rc = -1;
            }
    }
    char *buf = NULL;
    if (!rc) {
        mt = h5u_compound(f, n, rec_size, H5U_MEM);
        buf = xcalloc(dims[0] ? dims[0] : 1, rec_size);
        if (mt < 0) rc = H5U_FAIL(err, errlen, "cannot make memory type for table", name);
        else if (dims[0] && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            rc = H5U_FAIL(err, errlen, "cannot read table", name);
    }
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    if (rc) {
        free(buf);
        return -1;
    }
    *out = buf;
    *nrows = (size_t)dims[0];
    return 0;
}
