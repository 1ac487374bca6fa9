/* sim/base/h5util.h: checked HDF5 helpers for the trace writer and reader.
 *
 * Errors: HDF5's automatic error-stack printing is switched off (h5u_quiet); every call
 * is checked, and a failure is turned into one message naming our source file and line,
 * what failed and on which object, plus the innermost HDF5 reason, e.g.
 *   "sim/trace/trace.c:210: cannot write dataset /events (hdf5: no space available)".
 * Functions return 0 / a valid hid on success and -1 / H5I_INVALID_HID on failure with
 * the message in `err` (never printed here: the caller decides).
 *
 * Compound types are built from sim_field tables (sim/base/fields.h): the memory type uses
 * native types at the struct offsets, the file type little-endian standard types at the
 * same offsets. Records have no padding (checked), so the two are byte-identical on
 * little-endian hosts and HDF5 converts nothing.
 *
 * Tables (h5u_table) are 1-D chunked datasets of a compound type, extendible, with the
 * shuffle + deflate filters: rows are buffered in memory and appended a block at a time
 * (one H5Dset_extent + one hyperslab write per block), or whenever the caller flushes.
 * Strings (attributes, the scenario text) are variable-length UTF-8, which h5py returns
 * as str. Object modification times are not stored, so identical runs give identical
 * files.
 */
#ifndef SIM_H5UTIL_H
#define SIM_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/base/fields.h"

/* Turn off HDF5's automatic error printing (idempotent). */
void h5u_quiet(void);

/* Opens an existing HDF5 file read-only, distrusting it: PATH must be a regular file
 * (FIFOs and devices are refused before anything opens them) and HDF5; file locking is
 * off (a running writer may hold it). Before the real open a child process opens the file
 * and reads every string attribute and string dataset, then runs `probe` (may be NULL:
 * the reads the caller is about to make): libhdf5 1.10 trusts the global heap (a corrupt
 * variable-length string makes it copy out of bounds) and can loop on a corrupt cache
 * entry, so if the child dies or runs past 5 s the file is refused as corrupt and the
 * parent never touches it. A file still marked open for writing (its writer runs, or was
 * killed) is opened with SWMR reading, as its last flush left it, with one metadata read
 * attempt (no retry loop on a bad checksum); *swmr (may be NULL) says so. Returns the
 * file, or H5I_INVALID_HID with "reason" in err. */
typedef int (*h5u_probe_fn)(hid_t file, void *ctx);
hid_t h5u_file_open_read(const char *path, int *swmr, h5u_probe_fn probe, void *ctx, char *err,
                         size_t errlen);
/* The same for an HDF5 file image in memory (len bytes at buf, copied), through the core
 * driver; for the fuzz targets. */
hid_t h5u_image_open_read(const void *buf, size_t len, h5u_probe_fn probe, void *ctx, char *err,
                          size_t errlen);

/* Fill err with "file:line: what obj (hdf5: reason)", clear the HDF5 error stack, and
 * return -1. */
int h5u_fail_at(char *err, size_t errlen, const char *file, int line, const char *what,
                const char *obj);
#define H5U_FAIL(err, errlen, what, obj)                                                           \
    h5u_fail_at((err), (errlen), __FILE__, __LINE__, (what), (obj))

/* Compound type of a field table: H5U_MEM (native) or H5U_FILE (little-endian). The
 * fields must tile rec_size exactly (a logic error otherwise: SIM_FAIL). */
enum { H5U_MEM = 0, H5U_FILE = 1 };
hid_t h5u_compound(const sim_field *f, size_t n, size_t rec_size, int which);
/* Insert the fields into an existing compound type at base + their offsets. */
int h5u_compound_insert(hid_t type, const sim_field *f, size_t n, size_t base, int which);

/* Attributes on `loc` (a file, group or dataset). Writing replaces an existing one. */
int h5u_attr_i32(hid_t loc, const char *name, int32_t v, char *err, size_t errlen);
int h5u_attr_i64(hid_t loc, const char *name, int64_t v, char *err, size_t errlen);
int h5u_attr_u64(hid_t loc, const char *name, uint64_t v, char *err, size_t errlen);
int h5u_attr_f64(hid_t loc, const char *name, double v, char *err, size_t errlen);
int h5u_attr_str(hid_t loc, const char *name, const char *s, char *err, size_t errlen);
int h5u_attr_strs(hid_t loc, const char *name, const char *const *v, size_t n, char *err,
                  size_t errlen);

/* Reading attributes. Return 0, or -1 (missing or unreadable) with err filled. */
int h5u_attr_exists(hid_t loc, const char *name);
int h5u_read_attr_i64(hid_t loc, const char *name, int64_t *v, char *err, size_t errlen);
int h5u_read_attr_u64(hid_t loc, const char *name, uint64_t *v, char *err, size_t errlen);
int h5u_read_attr_f64(hid_t loc, const char *name, double *v, char *err, size_t errlen);
/* A 1-D attribute of variable-length strings (h5u_attr_strs): *out gets n strings (free
 * with h5u_free_texts). */
int h5u_read_attr_strs(hid_t loc, const char *name, char ***out, size_t *n, char *err,
                       size_t errlen);
/* A string attribute (variable or fixed length): *out is malloc'd, NUL-terminated. */
int h5u_read_attr_str(hid_t loc, const char *name, char **out, char *err, size_t errlen);
/* A scalar or 1-D string attribute as *n malloc'd strings (free with h5u_free_texts). */
int h5u_read_attr_strs(hid_t loc, const char *name, char ***v, size_t *n, char *err, size_t errlen);

/* Most strings or records one read accepts: a larger count is a corrupt dataspace. */
#define H5U_MAX_ITEMS ((size_t)1 << 28)

/* A scalar string dataset (variable-length UTF-8) and a 1-D array of them. */
int h5u_write_text(hid_t loc, const char *name, const char *text, char *err, size_t errlen);
int h5u_write_texts(hid_t loc, const char *name, const char *const *v, size_t n, char *err,
                    size_t errlen);
/* Read a scalar or 1-D string dataset (variable or fixed length) into malloc'd strings:
 * *v gets n strings (a scalar gives n = 1). Free with h5u_free_texts. */
int h5u_read_texts(hid_t loc, const char *name, char ***v, size_t *n, char *err, size_t errlen);
void h5u_free_texts(char **v, size_t n);

/* Attributes `units` (one per field, in member order) and, when any field has one,
 * `definitions` on a dataset of a field table's compound type. */
int h5u_field_attrs(hid_t dset, const sim_field *f, size_t n, char *err, size_t errlen);

/* A chunk compressed by h5u_table_prepare, waiting for the file. */
typedef struct {
    uint64_t first_row;
    void *data;
    size_t size;
} h5u_chunk;

/* An appendable table (sim/base/h5table.c). It may be detached from its file (the
 * dataset closed, the buffer and row count kept) while the file is closed, and attached
 * again once the file is reopened: a writer that keeps its file closed between flushes
 * does so.
 *
 * Direct mode (h5u_table_set_direct; the trace writer's): the table runs the dataset's
 * filters itself (HDF5's byte shuffle, then zlib's compress2 at the dataset's deflate
 * level, the format HDF5's deflate filter reads) in h5u_table_prepare, and the flush
 * only stores the ready chunks with H5Dwrite_chunk, so the file needs to be open just
 * for that. The rows of the file's last, partial chunk stay in memory (n_tail) and the
 * chunk is written again, whole, when rows are added to it: nothing is read back. The
 * records' bytes are written as the file type's, so direct mode is taken on
 * little-endian hosts only (elsewhere set_direct leaves the table as it is). */
typedef struct {
    hid_t dset, memtype;
    char *name; /* path, for messages */
    size_t rec_size;
    char *buf; /* block buffer: n_tail rows already in the file, then n_buf new rows */
    size_t n_buf, cap;
    uint64_t n_rows;    /* rows in the file */
    size_t cache_bytes; /* chunk cache of the dataset (set at create, used at attach) */
    size_t chunk_rows;
    int filtered; /* shuffle + deflate on the dataset */
    int direct;
    size_t n_tail;    /* direct: the file's last partial chunk, held at the start of buf */
    h5u_chunk *prep;  /* direct: chunks compressed by h5u_table_prepare */
    size_t n_prep;    /* ... how many */
    size_t prep_rows; /* ... n_buf when they were compressed (0: none) */
} h5u_table;

/* Create `name` under loc with 0 rows. chunk_rows: rows per HDF5 chunk; block_rows:
 * rows buffered before an automatic append. Writes the h5u_field_attrs attributes. */
int h5u_table_create(h5u_table *t, hid_t loc, const char *name, const sim_field *f, size_t n,
                     size_t rec_size, size_t chunk_rows, size_t block_rows, char *err,
                     size_t errlen);
/* Buffer one record (appending the block when full, if attached; a detached table's
 * caller attaches and flushes it before the buffer is full: h5u_table_full). */
int h5u_table_append(h5u_table *t, const void *rec, char *err, size_t errlen);
/* 1 when the buffer holds cap rows (the next append needs the file). */
int h5u_table_full(const h5u_table *t);
/* Close the dataset only, keeping the buffered rows. */
int h5u_table_detach(h5u_table *t, char *err, size_t errlen);
/* Reopen `name` under loc after h5u_table_detach; its size must still be n_rows. */
int h5u_table_attach(h5u_table *t, hid_t loc, char *err, size_t errlen);
/* Direct mode (above), before the first row; 0. */
int h5u_table_set_direct(h5u_table *t);
/* Direct mode: compress the chunks the buffered rows touch (the file need not be open);
 * the next flush stores them. 0, or -1 with err. Does nothing in the normal mode. */
int h5u_table_prepare(h5u_table *t, char *err, size_t errlen);
/* Append the buffered rows to the file now. */
int h5u_table_flush(h5u_table *t, char *err, size_t errlen);
/* Close the dataset and free the buffer (buffered rows are discarded: flush first). */
int h5u_table_close(h5u_table *t, char *err, size_t errlen);

/* Read a whole 1-D compound dataset into records laid out by the field table (members
 * are matched by name). *out is malloc'd (free it), *nrows set. */
int h5u_table_read(hid_t loc, const char *name, const sim_field *f, size_t n, size_t rec_size,
                   void **out, size_t *nrows, char *err, size_t errlen);

#endif
