/* sim/trace/trace_events.c: block reader of /events (see trace_events.h). */
#include "sim/trace/trace_events.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/h5util.h"
#include "sim/base/util.h"

struct trace_events {
    hid_t file, dset, memtype;
    uint64_t rows, next;
};

const char *trace_events_kind_name(int32_t kind, char *buf, size_t n) {
    if (kind >= 0 && kind < TRACE_EV_KINDS) return trace_event_kind_names[kind];
    snprintf(buf, n, "kind_%d", (int)kind);
    return buf;
}

void trace_events_close(trace_events *r) {
    if (!r) return;
    if (r->memtype >= 0) H5Tclose(r->memtype);
    if (r->dset >= 0) H5Dclose(r->dset);
    if (r->file >= 0) H5Fclose(r->file);
    H5Eclear2(H5E_DEFAULT);
    free(r);
}

int trace_events_open(const char *path, trace_events **out, char *err, size_t errlen) {
    *out = NULL;
    h5u_quiet();
    trace_events *r = xcalloc(1, sizeof *r);
    r->file = r->dset = r->memtype = H5I_INVALID_HID;
    char why[512] = "";
    r->file = h5u_file_open_read(path, NULL, NULL, NULL, why, sizeof why);
    int rc = 0;
    if (r->file < 0) {
        snprintf(err, errlen, "cannot open trace %s: %s", path, why);
        rc = -1;
    } else if ((r->dset = H5Dopen2(r->file, "events", H5P_DEFAULT)) < 0)
        rc = H5U_FAIL(err, errlen, "cannot open table", "/events");
    else if ((r->memtype = h5u_compound(trace_event_fields, trace_event_n_fields,
                                        sizeof(trace_event_rec), H5U_MEM)) < 0)
        rc = H5U_FAIL(err, errlen, "cannot make memory type for", "/events");
    if (!rc) {
        hid_t sp = H5Dget_space(r->dset);
        hsize_t dims[1] = {0};
        if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 ||
            H5Sget_simple_extent_dims(sp, dims, NULL) < 0)
            rc = H5U_FAIL(err, errlen, "cannot get the size of", "/events");
        if (sp >= 0) H5Sclose(sp);
        r->rows = dims[0];
    }
    if (rc) {
        trace_events_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

uint64_t trace_events_rows(const trace_events *r) { return r->rows; }
void trace_events_rewind(trace_events *r) { r->next = 0; }

int64_t trace_events_next(trace_events *r, trace_event_rec *buf, size_t cap, char *err,
                          size_t errlen) {
    if (r->next >= r->rows || cap == 0) return 0;
    uint64_t n = r->rows - r->next;
    if (n > cap) n = cap;
    hsize_t start[1] = {r->next}, count[1] = {n};
    hid_t fs = H5Dget_space(r->dset);
    hid_t ms = H5Screate_simple(1, count, NULL);
    int rc = 0;
    if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
        rc = H5U_FAIL(err, errlen, "cannot select rows of", "/events");
    else if (H5Dread(r->dset, r->memtype, ms, fs, H5P_DEFAULT, buf) < 0)
        rc = H5U_FAIL(err, errlen, "cannot read rows of", "/events");
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    if (rc) return -1;
    r->next += n;
    return (int64_t)n;
}
