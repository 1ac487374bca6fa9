/* sim/live/live_ckpt_internal.h: the checkpoint's records and HDF5 helpers, shared by
 * live_ckpt.c (writing, restoring, the hooks) and live_ckpt_read.c (reading). */
#ifndef SIM_LIVE_CKPT_INTERNAL_H
#define SIM_LIVE_CKPT_INTERNAL_H

#include "sim/live/live_ckpt.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/fields.h"
#include "sim/base/h5util.h"
#include "sim/base/util.h"
#include "sim/live/live_internal.h"

/* ---- records ------------------------------------------------------------------------- */

/* One compute task as the engine asked for it, and what the hook answered. */
typedef live_task_row ck_task_rec;
_Static_assert(sizeof(ck_task_rec) == 3 * 8 + 2 * 4, "ck_task_rec has padding");

static const sim_field task_fields[] = {
    SIM_I64(ck_task_rec, t_start, "ns", NULL, "simulated time the task started"),
    SIM_I64(ck_task_rec, microbatch, "1", NULL, "microbatch id (-1: optimizer step)"),
    SIM_F64(ck_task_rec, duration, "s", NULL, "duration the live hook returned (nominal speed)"),
    SIM_I32(ck_task_rec, peer, "1", NULL, "peer"),
    SIM_I32(ck_task_rec, kind, "1", NULL,
            "km_task: 0 forward, 1 backward, 2 recompute backward, "
            "3 last-stage fused, 4 optimizer"),
};

/* One named tensor of a stage's flat parameter vector. */
typedef struct {
    char name[48];
    int64_t offset; /* first element in the flat vector */
    int32_t rows, cols;
} ck_tensor;

static const sim_field tensor_fields[] = {
    SIM_STR(ck_tensor, name, "", NULL, "tensor name (kernels/stage.h)"),
    SIM_I64(ck_tensor, offset, "1", NULL, "first element in the flat vector"),
    SIM_I32(ck_tensor, rows, "1", NULL, "rows (1 for a vector)"),
    SIM_I32(ck_tensor, cols, "1", NULL, "columns; row-major, [out, in] for matrices"),
};

static const sim_field loss_fields[] = {
    SIM_I64(live_loss_row, t, "ns", NULL, "simulated time"),
    SIM_I64(live_loss_row, tokens, "1", NULL, "tokens trained then"),
    SIM_I32(live_loss_row, cycle, "1", NULL, "cycle"),
    SIM_I32(live_loss_row, inner_step, "1", NULL, "inner step (-1: validation)"),
    SIM_I32(live_loss_row, replica, "1", NULL, "replica (-1: validation)"),
    SIM_I32(live_loss_row, kind, "1", NULL, "0 train, 1 validation"),
    SIM_F64(live_loss_row, loss, "nat/token", NULL, "loss"),
};

static const sim_field boundary_fields[] = {
    SIM_I64(live_boundary_row, t, "ns", NULL, "simulated time"),
    SIM_I32(live_boundary_row, cycle, "1", NULL, "cycle"),
    SIM_I32(live_boundary_row, boundary, "1", NULL, "boundary b, between stage b and b + 1"),
    SIM_F64(live_boundary_row, recon_error, "1", NULL, "||x - dec(enc(x))|| / ||x||"),
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

/* live_stats fields a resumed run continues from (time_scale and n_devices are derived). */
static const sim_field stats_fields[] = {
    SIM_F64(live_stats, kernel_wall_s, "s", NULL, ""),
    SIM_F64(live_stats, hook_wall_s, "s", NULL, ""),
    SIM_F64(live_stats, calibration_wall_s, "s", NULL, ""),
    SIM_I64(live_stats, backwards_undone, "1", NULL, ""),
    SIM_I64(live_stats, optimizer_steps, "1", NULL, ""),
    SIM_I64(live_stats, empty_steps, "1", NULL, ""),
    SIM_I64(live_stats, stage0_backwards, "1", NULL, ""),
    SIM_I64(live_stats, merges, "1", NULL, ""),
    SIM_I64(live_stats, validations, "1", NULL, ""),
    SIM_F64(live_stats, loss_final, "nat/token", NULL, ""),
    SIM_F64(live_stats, val_loss_initial, "nat/token", NULL, ""),
    SIM_F64(live_stats, val_loss_final, "nat/token", NULL, ""),
    SIM_F64(live_stats, recon_error_final, "1", NULL, ""),
    SIM_I64(live_stats, buffers_live, "1", NULL, ""),
    SIM_I64(live_stats, buffers_peak, "1", NULL, ""),
    SIM_I64(live_stats, buffers_bound, "1", NULL, ""),
    SIM_I64(live_stats, buffers_leaked, "1", NULL, ""),
};

/* The tensors of a peer's stage, in file order; backup only when undo_mb >= 0. */
enum { W_PARAMS = 0, W_GRADS, W_ADAM_M, W_ADAM_V, W_BACKUP, W_KINDS };
static const char *const w_names[W_KINDS] = {"params", "grads", "adam_m", "adam_v", "grad_backup"};

typedef struct {
    int stage, replica, up, loss_n, n_accum;
    int64_t steps, undo_mb;
    double undo_loss, loss_sum;
    ko_inner_state opt;
    float *w[W_KINDS];
    int64_t *accum;
} ck_peer;

struct live_ckpt_file {
    char *path, *identity;
    int cycle, n_peers, S;
    int64_t t, tokens, n_tasks, cursor;
    size_t *stage_n; /* parameters per stage */
    ck_peer *peers;
    float **global, **mom;
    int64_t *merges;
    live_stats st;
    int64_t st_tasks[KM_TASK_KINDS];
    double *recent;
    int64_t recent_n, recent_head, recent_cap, last_t;
    double *scale_compute, *scale_opt;
    ck_task_rec *tasks;
    live_loss_row *loss;
    size_t n_loss;
    live_boundary_row *bnd;
    size_t n_bnd;
};

/* Growing arrays of records. */
typedef struct {
    void *v;
    size_t n, cap, size;
} ck_vec;

static inline void vec_push(ck_vec *a, const void *rec) {
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 256;
        a->v = xrealloc(a->v, a->cap * a->size);
    }
    memcpy((char *)a->v + a->n * a->size, rec, a->size);
    a->n++;
}

/* Live mode's checkpoint state (L->ck). */
struct live_ckpt {
    char *path, *tmp_path, *identity, *version;
    int every;
    volatile int *request, *stop;
    swarm_live_ops inner; /* the hooks live_open installed */
    live_sink sink;       /* the sink live_open was given */
    ck_vec tasks, loss, bnd;
    int64_t cursor;
    uint64_t data_hash;
    live_ckpt_file *resume; /* while replaying */
    size_t replay_i;
    const live_task_row *times; /* replay of recorded durations (kernels run): the records */
    size_t n_times;
    char *times_source; /* where they come from, for messages */
    live_ckpt_info info;
};

/* ---- small helpers ------------------------------------------------------------------- */

static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

static inline uint64_t data_hash(const live_data *d) {
    uint64_t h = 14695981039346656037ull;
    int64_t n[2] = {d->train.n, d->val.n};
    h = fnv1a(h, n, sizeof n);
    h = fnv1a(h, d->train.tok, (size_t)d->train.n * sizeof(int32_t));
    return fnv1a(h, d->val.tok, (size_t)d->val.n * sizeof(int32_t));
}

/* A 1-D dataset of n elements at `name` (intermediate groups are created). */
static inline int ds_write(hid_t f, const char *name, hid_t mem, hid_t file, const void *v,
                           size_t write, size_t n, char *err, size_t errlen) {
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (sp < 0 || lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        if (sp >= 0) H5Sclose(sp);
        if (lcpl >= 0) H5Pclose(lcpl);
        return H5U_FAIL(err, errlen, "cannot create the dataspace of", name);
    }
    hid_t d = H5Dcreate2(f, name, file, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Sclose(sp);
    if (d < 0) return H5U_FAIL(err, errlen, "cannot create dataset", name);
    herr_t rc = write ? H5Dwrite(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : 0;
    H5Dclose(d);
    if (rc < 0) return H5U_FAIL(err, errlen, "cannot write dataset", name);
    return 0;
}

/* Read a 1-D dataset into a malloc'd array of elements of `size` bytes; with want != -1
 * its length must be want. */
static inline int ds_read(hid_t f, const char *name, hid_t mem, size_t size, long long want,
                          void **out, size_t *n, char *err, size_t errlen) {
    *out = NULL;
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return H5U_FAIL(err, errlen, "cannot open dataset", name);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[1] = {0};
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1) {
        if (sp >= 0) H5Sclose(sp);
        H5Dclose(d);
        return H5U_FAIL(err, errlen, "not a 1-D dataset:", name);
    }
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if (want >= 0 && dims[0] != (hsize_t)want) {
        H5Dclose(d);
        snprintf(err, errlen, "dataset %s has %llu elements, expected %lld", name,
                 (unsigned long long)dims[0], want);
        return -1;
    }
    void *buf = xcalloc(dims[0] ? dims[0] : 1, size);
    if (dims[0] && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        H5Dclose(d);
        return H5U_FAIL(err, errlen, "cannot read dataset", name);
    }
    H5Dclose(d);
    *out = buf;
    if (n) *n = dims[0];
    return 0;
}

static inline int ds_write_table(hid_t f, const char *name, const sim_field *fl, size_t nf,
                                 size_t rec, const void *v, size_t n, char *err, size_t errlen) {
    hid_t mt = h5u_compound(fl, nf, rec, H5U_MEM), ft = h5u_compound(fl, nf, rec, H5U_FILE);
    int rc = (mt < 0 || ft < 0) ? H5U_FAIL(err, errlen, "cannot make the type of", name)
                                : ds_write(f, name, mt, ft, v, n, n, err, errlen);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    return rc;
}

/* Attributes of a live_stats-like record from a field table. */
static inline int attrs_write(hid_t loc, const char *prefix, const sim_field *fl, size_t nf,
                              const void *rec, char *err, size_t errlen) {
    for (size_t i = 0; i < nf; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s%s", prefix, fl[i].name);
        const char *p = (const char *)rec + fl[i].offset;
        int rc = 0;
        if (fl[i].type == SIM_FT_F64) rc = h5u_attr_f64(loc, name, *(const double *)p, err, errlen);
        else if (fl[i].type == SIM_FT_I64)
            rc = h5u_attr_i64(loc, name, *(const int64_t *)p, err, errlen);
        else rc = h5u_attr_i32(loc, name, *(const int32_t *)p, err, errlen);
        if (rc) return -1;
    }
    return 0;
}

static inline int attrs_read(hid_t loc, const char *prefix, const sim_field *fl, size_t nf,
                             void *rec, char *err, size_t errlen) {
    for (size_t i = 0; i < nf; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s%s", prefix, fl[i].name);
        char *p = (char *)rec + fl[i].offset;
        int64_t v = 0;
        int rc = 0;
        if (fl[i].type == SIM_FT_F64) rc = h5u_read_attr_f64(loc, name, (double *)p, err, errlen);
        else rc = h5u_read_attr_i64(loc, name, &v, err, errlen);
        if (rc) return -1;
        if (fl[i].type == SIM_FT_I64) *(int64_t *)p = v;
        else if (fl[i].type == SIM_FT_I32) *(int32_t *)p = (int32_t)v;
    }
    return 0;
}

static const sim_field peer_fields[] = {
    SIM_I32(ck_peer, stage, "1", NULL, ""),
    SIM_I32(ck_peer, replica, "1", NULL, ""),
    SIM_I32(ck_peer, up, "1", NULL, ""),
    SIM_I32(ck_peer, loss_n, "1", NULL, ""),
    SIM_I32(ck_peer, n_accum, "1", NULL, ""),
    SIM_I64(ck_peer, steps, "1", NULL, ""),
    SIM_I64(ck_peer, undo_mb, "1", NULL, ""),
    SIM_F64(ck_peer, undo_loss, "nat/token", NULL, ""),
    SIM_F64(ck_peer, loss_sum, "nat/token", NULL, ""),
};

static const sim_field opt_fields[] = {
    SIM_F64(ko_inner_state, lr, "1", NULL, ""),
    SIM_F64(ko_inner_state, beta1, "1", NULL, ""),
    SIM_F64(ko_inner_state, beta2, "1", NULL, ""),
    SIM_F64(ko_inner_state, eps, "1", NULL, ""),
    SIM_F64(ko_inner_state, weight_decay, "1", NULL, ""),
    SIM_F64(ko_inner_state, momentum_decay, "1", NULL, ""),
    SIM_I64(ko_inner_state, step, "1", NULL, ""),
    SIM_F64(ko_inner_state, mu_product, "1", NULL, ""),
};

#endif
