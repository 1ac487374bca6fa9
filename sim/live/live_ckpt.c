/* sim/live/live_ckpt.c: checkpoints of live runs and the replay that resumes them (see
 * live_ckpt.h; the file layout is documented in results/README.md). */
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
typedef struct {
    int64_t t_start;    /* simulated ns */
    int64_t microbatch; /* -1: optimizer step */
    double duration;    /* s on the nominal simulated device (the hook's answer) */
    int32_t peer, kind; /* kind: km_task */
} ck_task_rec;

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

static void vec_push(ck_vec *a, const void *rec) {
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
    live_ckpt_info info;
};

/* ---- small helpers ------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t data_hash(const live_data *d) {
    uint64_t h = 14695981039346656037ull;
    int64_t n[2] = {d->train.n, d->val.n};
    h = fnv1a(h, n, sizeof n);
    h = fnv1a(h, d->train.tok, (size_t)d->train.n * sizeof(int32_t));
    return fnv1a(h, d->val.tok, (size_t)d->val.n * sizeof(int32_t));
}

/* A 1-D dataset of n elements at `name` (intermediate groups are created). */
static int ds_write(hid_t f, const char *name, hid_t mem, hid_t file, const void *v, size_t write,
                    size_t n, char *err, size_t errlen) {
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
static int ds_read(hid_t f, const char *name, hid_t mem, size_t size, long long want, void **out,
                   size_t *n, char *err, size_t errlen) {
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

static int ds_write_table(hid_t f, const char *name, const sim_field *fl, size_t nf, size_t rec,
                          const void *v, size_t n, char *err, size_t errlen) {
    hid_t mt = h5u_compound(fl, nf, rec, H5U_MEM), ft = h5u_compound(fl, nf, rec, H5U_FILE);
    int rc = (mt < 0 || ft < 0) ? H5U_FAIL(err, errlen, "cannot make the type of", name)
                                : ds_write(f, name, mt, ft, v, n, n, err, errlen);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    return rc;
}

/* Attributes of a live_stats-like record from a field table. */
static int attrs_write(hid_t loc, const char *prefix, const sim_field *fl, size_t nf,
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

static int attrs_read(hid_t loc, const char *prefix, const sim_field *fl, size_t nf, void *rec,
                      char *err, size_t errlen) {
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

/* ---- writing ------------------------------------------------------------------------- */

static float *download(live *L, int dev, const float *p, size_t n) {
    float *h = xmalloc(sizeof *h * (n ? n : 1));
    kb_backend *be = L->dev[dev].be;
    be->download_raw(be, h, p, n * sizeof(float));
    return h;
}

/* A tensor of all +0.0 bits (a gradient after a sync) is left unwritten: HDF5 reads the
 * dataset's fill value, 0, and the file does not store it. */
static int write_f32(live *L, hid_t f, const char *name, int dev, const float *p, size_t n,
                     char *err, size_t errlen) {
    float *h = download(L, dev, p, n);
    size_t nz = 0;
    const uint32_t *bits = (const uint32_t *)h;
    while (nz < n && bits[nz] == 0) nz++;
    int rc =
        ds_write(f, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, h, nz == n ? 0 : n, n, err, errlen);
    free(h);
    return rc;
}

static int write_contents(live *L, hid_t f, int cycle, nm_time now, int64_t tokens, char *err,
                          size_t errlen) {
    struct live_ckpt *ck = L->ck;
    char name[128];
    if (h5u_attr_str(f, "kind", LIVE_CKPT_KIND, err, errlen) ||
        h5u_attr_i64(f, "checkpoint_schema_version", LIVE_CKPT_SCHEMA_VERSION, err, errlen) ||
        h5u_attr_str(f, "orionsim_version", ck->version, err, errlen) ||
        h5u_attr_i64(f, "cycle", cycle, err, errlen) ||
        h5u_attr_i64(f, "cycles_done", cycle + 1, err, errlen) ||
        h5u_attr_i64(f, "sim_time_ns", now, err, errlen) ||
        h5u_attr_i64(f, "tokens_trained", tokens, err, errlen) ||
        h5u_attr_i64(f, "n_tasks", (int64_t)ck->tasks.n, err, errlen) ||
        h5u_attr_i64(f, "data_cursor", ck->cursor, err, errlen) ||
        h5u_attr_u64(f, "data_fnv1a", ck->data_hash, err, errlen) ||
        h5u_attr_i64(f, "data_tokens_train", L->data.train.n, err, errlen) ||
        h5u_attr_i64(f, "data_tokens_val", L->data.val.n, err, errlen) ||
        h5u_attr_u64(f, "seed", L->opt.seed, err, errlen) ||
        h5u_attr_str(f, "live_time", L->opt.time == LIVE_TIME_MODELED ? "modeled" : "measured", err,
                     errlen) ||
        h5u_attr_i64(f, "n_peers", L->n_peers, err, errlen) ||
        h5u_attr_i64(f, "n_stages", L->S, err, errlen) ||
        h5u_write_text(f, "scenario", ck->identity, err, errlen))
        return -1;
    /* stages: global weights, outer momentum, the tensor table */
    for (int s = 0; s < L->S; s++) {
        ks_stage *g = L->eval[s];
        size_t n = ks_stage_param_count(g);
        snprintf(name, sizeof name, "/stages/%d/params", s);
        if (write_f32(L, f, name, 0, ks_stage_params(g), n, err, errlen)) return -1;
        snprintf(name, sizeof name, "/stages/%d/momentum", s);
        if (write_f32(L, f, name, 0, L->mom[s], n, err, errlen)) return -1;
        int nt = ks_stage_n_tensors(g);
        ck_tensor *tt = xcalloc((size_t)(nt ? nt : 1), sizeof *tt);
        for (int i = 0; i < nt; i++) {
            const ks_tensor *k = ks_stage_tensor(g, i);
            snprintf(tt[i].name, sizeof tt[i].name, "%s", k->name);
            tt[i].offset = (int64_t)k->offset;
            tt[i].rows = k->rows;
            tt[i].cols = k->cols;
        }
        snprintf(name, sizeof name, "/stages/%d/tensors", s);
        int rc = ds_write_table(f, name, tensor_fields, NF(tensor_fields), sizeof(ck_tensor), tt,
                                (size_t)nt, err, errlen);
        free(tt);
        if (rc) return -1;
        snprintf(name, sizeof name, "/stages/%d", s);
        hid_t gr = H5Gopen2(f, name, H5P_DEFAULT);
        if (gr < 0) return H5U_FAIL(err, errlen, "cannot open group", name);
        rc = h5u_attr_i64(gr, "merges", L->merges[s], err, errlen) ||
             h5u_attr_i64(gr, "param_count", (int64_t)n, err, errlen) ||
             h5u_attr_f64(gr, "time_scale_compute", L->scale_compute[s], err, errlen) ||
             h5u_attr_f64(gr, "time_scale_optimizer", L->scale_opt[s], err, errlen);
        H5Gclose(gr);
        if (rc) return -1;
    }
    /* peers */
    for (int i = 0; i < L->n_peers; i++) {
        live_peer *p = &L->peers[i];
        size_t n = ks_stage_param_count(p->st);
        float *src[W_KINDS] = {ks_stage_params(p->st), ks_stage_grads(p->st),
                               ks_stage_adam_m(p->st), ks_stage_adam_v(p->st), p->grad_backup};
        for (int k = 0; k < W_KINDS; k++) {
            if (k == W_BACKUP && p->undo_mb < 0) continue;
            snprintf(name, sizeof name, "/peers/%d/%s", i, w_names[k]);
            if (write_f32(L, f, name, p->dev, src[k], n, err, errlen)) return -1;
        }
        snprintf(name, sizeof name, "/peers/%d/accum", i);
        if (ds_write(f, name, H5T_NATIVE_INT64, H5T_STD_I64LE, p->accum, (size_t)p->n_accum,
                     (size_t)p->n_accum, err, errlen))
            return -1;
        ck_peer cp = {.stage = p->stage,
                      .replica = p->replica,
                      .up = p->up,
                      .loss_n = p->loss_n,
                      .n_accum = p->n_accum,
                      .steps = p->steps,
                      .undo_mb = p->undo_mb,
                      .undo_loss = p->undo_loss,
                      .loss_sum = p->loss_sum};
        snprintf(name, sizeof name, "/peers/%d", i);
        hid_t gr = H5Gopen2(f, name, H5P_DEFAULT);
        if (gr < 0) return H5U_FAIL(err, errlen, "cannot open group", name);
        int rc = attrs_write(gr, "", peer_fields, NF(peer_fields), &cp, err, errlen) ||
                 attrs_write(gr, "opt_", opt_fields, NF(opt_fields), &p->opt, err, errlen) ||
                 h5u_attr_i64(gr, "opt_kind", (int64_t)p->opt.kind, err, errlen);
        H5Gclose(gr);
        if (rc) return -1;
    }
    /* live mode's statistics, rows and task log */
    if (ds_write(f, "/live/recent_loss", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, L->recent.loss,
                 (size_t)L->recent.cap, (size_t)L->recent.cap, err, errlen) ||
        ds_write_table(f, "/live/loss", loss_fields, NF(loss_fields), sizeof(live_loss_row),
                       ck->loss.v, ck->loss.n, err, errlen) ||
        ds_write_table(f, "/live/boundaries", boundary_fields, NF(boundary_fields),
                       sizeof(live_boundary_row), ck->bnd.v, ck->bnd.n, err, errlen) ||
        ds_write_table(f, "/live/tasks", task_fields, NF(task_fields), sizeof(ck_task_rec),
                       ck->tasks.v, ck->tasks.n, err, errlen))
        return -1;
    hid_t gr = H5Gopen2(f, "/live", H5P_DEFAULT);
    if (gr < 0) return H5U_FAIL(err, errlen, "cannot open group", "/live");
    int rc = attrs_write(gr, "", stats_fields, NF(stats_fields), &L->st, err, errlen) ||
             h5u_attr_i64(gr, "recent_n", L->recent.n, err, errlen) ||
             h5u_attr_i64(gr, "recent_head", L->recent.head, err, errlen) ||
             h5u_attr_i64(gr, "last_t", L->last_t, err, errlen);
    for (int k = 0; k < KM_TASK_KINDS && !rc; k++) {
        snprintf(name, sizeof name, "tasks_%d", k);
        rc = h5u_attr_i64(gr, name, L->st.tasks[k], err, errlen);
    }
    H5Gclose(gr);
    if (rc) return -1;
    /* written last: a file without it was cut short */
    return h5u_attr_i32(f, "complete", 1, err, errlen);
}

static int ck_write(live *L, int cycle, nm_time now, int64_t tokens) {
    struct live_ckpt *ck = L->ck;
    char herr[512] = "";
    h5u_quiet();
    hid_t f = H5Fcreate(ck->tmp_path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        H5U_FAIL(herr, sizeof herr, "cannot create", ck->tmp_path);
        return live_fail(L, "live: checkpoint after cycle %d: %s", cycle, herr);
    }
    int rc = write_contents(L, f, cycle, now, tokens, herr, sizeof herr);
    if (H5Fclose(f) < 0 && !rc) rc = H5U_FAIL(herr, sizeof herr, "cannot close", ck->tmp_path);
    if (!rc && rename(ck->tmp_path, ck->path) != 0) {
        snprintf(herr, sizeof herr, "%s: cannot rename to %s", ck->tmp_path, ck->path);
        rc = -1;
    }
    if (rc) {
        remove(ck->tmp_path);
        return live_fail(L, "live: checkpoint after cycle %d: %s", cycle, herr);
    }
    ck->info.written++;
    ck->info.last_cycle = cycle;
    return 0;
}

/* ---- reading ------------------------------------------------------------------------- */

void live_ckpt_file_free(live_ckpt_file *c) {
    if (!c) return;
    if (c->peers)
        for (int i = 0; i < c->n_peers; i++) {
            for (int k = 0; k < W_KINDS; k++) free(c->peers[i].w[k]);
            free(c->peers[i].accum);
        }
    if (c->global)
        for (int s = 0; s < c->S; s++) {
            free(c->global[s]);
            free(c->mom[s]);
        }
    free(c->global);
    free(c->mom);
    free(c->peers);
    free(c->stage_n);
    free(c->merges);
    free(c->recent);
    free(c->scale_compute);
    free(c->scale_opt);
    free(c->tasks);
    free(c->loss);
    free(c->bnd);
    free(c->identity);
    free(c->path);
    free(c);
}

int live_ckpt_file_cycle(const live_ckpt_file *c) { return c->cycle; }

/* "line N: the checkpoint's ... / this run's ..." for the first line that differs. */
static void first_difference(const char *a, const char *b, char *out, size_t len) {
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            la = a + 1;
            lb = b + 1;
        }
        a++;
        b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    char qa[160], qb[160];
    snprintf(qa, sizeof qa, *la ? "reads '%.*s'" : "ends there", na > 120 ? 120 : na, la);
    snprintf(qb, sizeof qb, *lb ? "reads '%.*s'" : "ends there", nb > 120 ? 120 : nb, lb);
    snprintf(out, len, "line %d of the scenario text: the checkpoint's %s, this run's %s", line, qa,
             qb);
}

static int read_contents(live_ckpt_file *c, hid_t f, const char *identity, const live_config *lc,
                         const swarm_config *cfg, char *err, size_t errlen) {
    char *kind = NULL, msg[512];
    if (h5u_read_attr_str(f, "kind", &kind, msg, sizeof msg) || strcmp(kind, LIVE_CKPT_KIND)) {
        free(kind);
        snprintf(err, errlen, "%s: not an orionsim live checkpoint (no attribute kind = \"%s\")",
                 c->path, LIVE_CKPT_KIND);
        return EXIT_INPUT;
    }
    free(kind);
    int64_t v = 0;
    if (h5u_read_attr_i64(f, "checkpoint_schema_version", &v, msg, sizeof msg)) {
        snprintf(err, errlen, "%s: no checkpoint_schema_version: %s", c->path, msg);
        return EXIT_INPUT;
    }
    if (v != LIVE_CKPT_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s: checkpoint schema version %lld; this orionsim reads version %d only "
                 "(resume it with the orionsim that wrote it)",
                 c->path, (long long)v, LIVE_CKPT_SCHEMA_VERSION);
        return EXIT_INPUT;
    }
    if (!h5u_attr_exists(f, "complete")) {
        snprintf(err, errlen, "%s: incomplete checkpoint (its writing was cut short)", c->path);
        return EXIT_INPUT;
    }
    char **texts = NULL;
    size_t nt = 0;
    if (h5u_read_texts(f, "scenario", &texts, &nt, msg, sizeof msg) || nt != 1) {
        if (texts) h5u_free_texts(texts, nt);
        snprintf(err, errlen, "%s: damaged checkpoint: no scenario text (%s)", c->path, msg);
        return EXIT_INPUT;
    }
    c->identity = xstrdup(texts[0]);
    h5u_free_texts(texts, nt);
    if (strcmp(c->identity, identity) != 0) {
        first_difference(c->identity, identity, msg, sizeof msg);
        snprintf(err, errlen,
                 "%s: the checkpoint is of another scenario or other --set overrides "
                 "(output.* aside, they must be the same to resume): %s",
                 c->path, msg);
        return EXIT_INPUT;
    }
    int64_t np = 0, ns = 0, cyc = 0;
#define RD(name, dst)                                                                              \
    do {                                                                                           \
        if (h5u_read_attr_i64(f, name, &(dst), msg, sizeof msg)) goto damaged;                     \
    } while (0)
    RD("n_peers", np);
    RD("n_stages", ns);
    RD("cycle", cyc);
    RD("sim_time_ns", c->t);
    RD("tokens_trained", c->tokens);
    RD("n_tasks", c->n_tasks);
    RD("data_cursor", c->cursor);
    if (np != cfg->n_peers || ns != cfg->n_stages) {
        snprintf(err, errlen, "%s: the checkpoint has %lld peers in %lld stages, this run %d in %d",
                 c->path, (long long)np, (long long)ns, cfg->n_peers, cfg->n_stages);
        return EXIT_INPUT;
    }
    c->n_peers = (int)np;
    c->S = (int)ns;
    c->cycle = (int)cyc;
    /* the token data: the same tokens, or the data order differs */
    {
        uint64_t want = 0;
        int64_t ntr = 0, nva = 0;
        if (h5u_read_attr_u64(f, "data_fnv1a", &want, msg, sizeof msg)) goto damaged;
        RD("data_tokens_train", ntr);
        RD("data_tokens_val", nva);
        live_data d;
        const char *path = lc->data ? lc->data : "data/brown_train.bin";
        int B = (int)(cfg->microbatch_tokens / cfg->model.seq_len);
        if (live_data_open(path, lc->val_fraction, lc->val_microbatches, cfg->model.vocab, B,
                           cfg->model.seq_len, lc->seed, &d, msg, sizeof msg)) {
            snprintf(err, errlen, "resume: %s", msg);
            return EXIT_INPUT;
        }
        uint64_t h = data_hash(&d);
        int64_t dtr = d.train.n, dva = d.val.n;
        live_data_close(&d);
        if (h != want || dtr != ntr || dva != nva) {
            snprintf(err, errlen,
                     "%s: the token data differ from the checkpoint's (%s: %lld + %lld tokens, "
                     "fingerprint %016llx; the checkpoint's: %lld + %lld, %016llx)",
                     c->path, path, (long long)dtr, (long long)dva, (unsigned long long)h,
                     (long long)ntr, (long long)nva, (unsigned long long)want);
            return EXIT_INPUT;
        }
    }
    /* stages */
    char name[128];
    c->stage_n = xcalloc((size_t)c->S, sizeof *c->stage_n);
    c->global = xcalloc((size_t)c->S, sizeof *c->global);
    c->mom = xcalloc((size_t)c->S, sizeof *c->mom);
    c->merges = xcalloc((size_t)c->S, sizeof *c->merges);
    c->scale_compute = xcalloc((size_t)c->S, sizeof *c->scale_compute);
    c->scale_opt = xcalloc((size_t)c->S, sizeof *c->scale_opt);
    for (int s = 0; s < c->S; s++) {
        size_t n = 0;
        snprintf(name, sizeof name, "/stages/%d/params", s);
        if (ds_read(f, name, H5T_NATIVE_FLOAT, sizeof(float), -1, (void **)&c->global[s], &n, msg,
                    sizeof msg))
            goto damaged;
        c->stage_n[s] = n;
        snprintf(name, sizeof name, "/stages/%d/momentum", s);
        if (ds_read(f, name, H5T_NATIVE_FLOAT, sizeof(float), (long long)n, (void **)&c->mom[s],
                    NULL, msg, sizeof msg))
            goto damaged;
        snprintf(name, sizeof name, "/stages/%d", s);
        hid_t gr = H5Gopen2(f, name, H5P_DEFAULT);
        if (gr < 0) {
            H5U_FAIL(msg, sizeof msg, "cannot open group", name);
            goto damaged;
        }
        int rc =
            h5u_read_attr_i64(gr, "merges", &c->merges[s], msg, sizeof msg) ||
            h5u_read_attr_f64(gr, "time_scale_compute", &c->scale_compute[s], msg, sizeof msg) ||
            h5u_read_attr_f64(gr, "time_scale_optimizer", &c->scale_opt[s], msg, sizeof msg);
        H5Gclose(gr);
        if (rc) goto damaged;
    }
    /* peers */
    c->peers = xcalloc((size_t)c->n_peers, sizeof *c->peers);
    for (int i = 0; i < c->n_peers; i++) {
        ck_peer *p = &c->peers[i];
        snprintf(name, sizeof name, "/peers/%d", i);
        hid_t gr = H5Gopen2(f, name, H5P_DEFAULT);
        if (gr < 0) {
            H5U_FAIL(msg, sizeof msg, "cannot open group", name);
            goto damaged;
        }
        int64_t ok = 0;
        int rc = attrs_read(gr, "", peer_fields, NF(peer_fields), p, msg, sizeof msg) ||
                 attrs_read(gr, "opt_", opt_fields, NF(opt_fields), &p->opt, msg, sizeof msg) ||
                 h5u_read_attr_i64(gr, "opt_kind", &ok, msg, sizeof msg);
        H5Gclose(gr);
        if (rc) goto damaged;
        p->opt.kind = (ko_inner_kind)ok;
        if (p->stage < 0 || p->stage >= c->S || p->stage != cfg->peers[i].stage ||
            p->replica != cfg->peers[i].replica) {
            snprintf(err, errlen, "%s: peer %d is (stage %d, replica %d) there, (%d, %d) here",
                     c->path, i, p->stage, p->replica, cfg->peers[i].stage, cfg->peers[i].replica);
            return EXIT_INPUT;
        }
        for (int k = 0; k < W_KINDS; k++) {
            if (k == W_BACKUP && p->undo_mb < 0) continue;
            snprintf(name, sizeof name, "/peers/%d/%s", i, w_names[k]);
            if (ds_read(f, name, H5T_NATIVE_FLOAT, sizeof(float), (long long)c->stage_n[p->stage],
                        (void **)&p->w[k], NULL, msg, sizeof msg))
                goto damaged;
        }
        snprintf(name, sizeof name, "/peers/%d/accum", i);
        if (ds_read(f, name, H5T_NATIVE_INT64, sizeof(int64_t), p->n_accum, (void **)&p->accum,
                    NULL, msg, sizeof msg))
            goto damaged;
    }
    /* live mode */
    size_t n = 0;
    if (ds_read(f, "/live/recent_loss", H5T_NATIVE_DOUBLE, sizeof(double), -1, (void **)&c->recent,
                &n, msg, sizeof msg))
        goto damaged;
    c->recent_cap = (int64_t)n;
    void *rows = NULL;
    if (h5u_table_read(f, "live/loss", loss_fields, NF(loss_fields), sizeof(live_loss_row), &rows,
                       &c->n_loss, msg, sizeof msg))
        goto damaged;
    c->loss = rows;
    if (h5u_table_read(f, "live/boundaries", boundary_fields, NF(boundary_fields),
                       sizeof(live_boundary_row), &rows, &c->n_bnd, msg, sizeof msg))
        goto damaged;
    c->bnd = rows;
    if (h5u_table_read(f, "live/tasks", task_fields, NF(task_fields), sizeof(ck_task_rec), &rows,
                       &n, msg, sizeof msg))
        goto damaged;
    c->tasks = rows;
    if ((int64_t)n != c->n_tasks) {
        snprintf(msg, sizeof msg, "task log of %zu rows, n_tasks = %lld", n, (long long)c->n_tasks);
        goto damaged;
    }
    hid_t gr = H5Gopen2(f, "/live", H5P_DEFAULT);
    if (gr < 0) {
        H5U_FAIL(msg, sizeof msg, "cannot open group", "/live");
        goto damaged;
    }
    int rc = attrs_read(gr, "", stats_fields, NF(stats_fields), &c->st, msg, sizeof msg) ||
             h5u_read_attr_i64(gr, "recent_n", &c->recent_n, msg, sizeof msg) ||
             h5u_read_attr_i64(gr, "recent_head", &c->recent_head, msg, sizeof msg) ||
             h5u_read_attr_i64(gr, "last_t", &c->last_t, msg, sizeof msg);
    for (int k = 0; k < KM_TASK_KINDS && !rc; k++) {
        snprintf(name, sizeof name, "tasks_%d", k);
        rc = h5u_read_attr_i64(gr, name, &c->st_tasks[k], msg, sizeof msg);
    }
    H5Gclose(gr);
    if (rc) goto damaged;
#undef RD
    return 0;
damaged:
    snprintf(err, errlen, "%s: truncated or damaged checkpoint: %s", c->path, msg);
    return EXIT_INPUT;
}

int live_ckpt_probe(const char *path) {
    h5u_quiet();
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    char *kind = NULL, msg[256];
    int ok = !h5u_read_attr_str(f, "kind", &kind, msg, sizeof msg) && !strcmp(kind, LIVE_CKPT_KIND);
    free(kind);
    H5Fclose(f);
    return ok;
}

int live_ckpt_load(const char *path, const char *identity, const live_config *lc,
                   const swarm_config *cfg, live_ckpt_file **out, char *err, size_t errlen) {
    *out = NULL;
    h5u_quiet();
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        snprintf(err, errlen, "%s: cannot read the checkpoint", path);
        return EXIT_INPUT;
    }
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(err, errlen, "%s: not an HDF5 file (truncated, or not a checkpoint)", path);
        return EXIT_INPUT;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        char msg[512];
        H5U_FAIL(msg, sizeof msg, "cannot open", path);
        snprintf(err, errlen, "%s: truncated or damaged checkpoint: %s", path, msg);
        return EXIT_INPUT;
    }
    live_ckpt_file *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    int rc = read_contents(c, f, identity, lc, cfg, err, errlen);
    if (H5Fclose(f) < 0 && !rc) {
        char msg[512];
        H5U_FAIL(msg, sizeof msg, "cannot close", path);
        snprintf(err, errlen, "%s: truncated or damaged checkpoint: %s", path, msg);
        rc = EXIT_INPUT;
    }
    if (rc) {
        live_ckpt_file_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* ---- restoring ----------------------------------------------------------------------- */

static void upload(live *L, int dev, float *dst, const float *src, size_t n) {
    kb_backend *be = L->dev[dev].be;
    be->upload_raw(be, dst, src, n * sizeof(float));
}

/* The replay reached the checkpointed cycle end: take the checkpoint's state. */
static int restore(live *L, int cycle, nm_time now, int64_t tokens) {
    struct live_ckpt *ck = L->ck;
    live_ckpt_file *c = ck->resume;
    if (now != c->t || tokens != c->tokens || (int64_t)ck->replay_i != c->n_tasks ||
        ck->cursor != c->cursor)
        return live_fail(L,
                         "resume: the replay reached the end of cycle %d at t = %lld ns with %lld "
                         "tokens, %zu tasks and data cursor %lld; the checkpoint was taken at "
                         "t = %lld ns with %lld tokens, %lld tasks and cursor %lld (the engine "
                         "diverged: another orionsim build?)",
                         cycle, (long long)now, (long long)tokens, ck->replay_i,
                         (long long)ck->cursor, (long long)c->t, (long long)c->tokens,
                         (long long)c->n_tasks, (long long)c->cursor);
    if (c->recent_cap != L->recent.cap)
        return live_fail(L, "resume: the checkpoint's loss window holds %lld rows, this run's %d",
                         (long long)c->recent_cap, L->recent.cap);
    for (int s = 0; s < L->S; s++) {
        ks_stage *g = L->eval[s];
        size_t n = ks_stage_param_count(g);
        upload(L, 0, ks_stage_params(g), c->global[s], n);
        upload(L, 0, L->mom[s], c->mom[s], n);
        ks_params_changed(g);
        L->merges[s] = (int)c->merges[s];
        L->scale_compute[s] = c->scale_compute[s];
        L->scale_opt[s] = c->scale_opt[s];
    }
    for (int i = 0; i < L->n_peers; i++) {
        live_peer *p = &L->peers[i];
        ck_peer *q = &c->peers[i];
        size_t n = ks_stage_param_count(p->st);
        float *dst[W_KINDS] = {ks_stage_params(p->st), ks_stage_grads(p->st),
                               ks_stage_adam_m(p->st), ks_stage_adam_v(p->st), p->grad_backup};
        for (int k = 0; k < W_KINDS; k++)
            if (q->w[k]) upload(L, p->dev, dst[k], q->w[k], n);
        ks_params_changed(p->st);
        p->opt = q->opt;
        p->up = q->up;
        p->steps = q->steps;
        p->undo_mb = q->undo_mb;
        p->undo_loss = (float)q->undo_loss;
        p->loss_sum = q->loss_sum;
        p->loss_n = q->loss_n;
        p->n_accum = 0;
        for (int k = 0; k < q->n_accum; k++) {
            if (p->n_accum == p->cap_accum) {
                p->cap_accum = p->cap_accum ? 2 * p->cap_accum : 16;
                p->accum = xrealloc(p->accum, sizeof *p->accum * (size_t)p->cap_accum);
            }
            p->accum[p->n_accum++] = q->accum[k];
        }
        for (int k = 0; k < p->n_slots; k++) p->slot_mb[k] = -1;
        kb_backend *be = L->dev[p->dev].be;
        be->synchronize(be);
    }
    L->dev[0].be->synchronize(L->dev[0].be);
    for (size_t i = 0; i < NF(stats_fields); i++)
        memcpy((char *)&L->st + stats_fields[i].offset, (char *)&c->st + stats_fields[i].offset,
               stats_fields[i].size);
    for (int k = 0; k < KM_TASK_KINDS; k++) L->st.tasks[k] = c->st_tasks[k];
    memcpy(L->recent.loss, c->recent, sizeof *L->recent.loss * (size_t)L->recent.cap);
    L->recent.n = (int)c->recent_n;
    L->recent.head = (int)c->recent_head;
    L->last_t = c->last_t;
    /* the rows written before the checkpoint, in their order */
    for (size_t i = 0; i < c->n_loss; i++) {
        vec_push(&ck->loss, &c->loss[i]);
        if (ck->sink.loss && ck->sink.loss(ck->sink.ctx, &c->loss[i]))
            return live_fail(L, "live: writing a loss row to the trace failed");
    }
    for (size_t i = 0; i < c->n_bnd; i++) {
        vec_push(&ck->bnd, &c->bnd[i]);
        if (ck->sink.boundary && ck->sink.boundary(ck->sink.ctx, &c->bnd[i]))
            return live_fail(L, "live: writing a boundary row to the trace failed");
    }
    for (size_t i = 0; i < (size_t)c->n_tasks; i++) vec_push(&ck->tasks, &c->tasks[i]);
    ck->info.resumed_cycle = cycle;
    ck->info.replay_pending = 0;
    ck->info.tasks_replayed = c->n_tasks;
    live_ckpt_file_free(c);
    ck->resume = NULL;
    return 0;
}

/* ---- the hooks ----------------------------------------------------------------------- */

static double ck_task(void *ctx, const swarm_task_info *t) {
    live *L = ctx;
    struct live_ckpt *ck = L->ck;
    if (t->stage == 0 && (t->kind == KM_TASK_FORWARD || t->kind == KM_TASK_LAST_FUSED) &&
        t->microbatch + 1 > ck->cursor)
        ck->cursor = t->microbatch + 1;
    if (ck->resume) {
        live_ckpt_file *c = ck->resume;
        if ((int64_t)ck->replay_i >= c->n_tasks) {
            live_fail(L,
                      "resume: the engine asked for more than the %lld tasks the checkpoint "
                      "logged before the end of cycle %d (it diverged: another orionsim build?)",
                      (long long)c->n_tasks, c->cycle);
            return -1;
        }
        const ck_task_rec *r = &c->tasks[ck->replay_i];
        if (r->peer != t->peer || r->kind != (int32_t)t->kind || r->microbatch != t->microbatch ||
            r->t_start != t->t_start) {
            live_fail(L,
                      "resume: the replay diverged at task %zu: the checkpoint logged peer %d, "
                      "%s, microbatch %lld at t = %lld ns; the engine asked for peer %d, %s, "
                      "microbatch %lld at t = %lld ns",
                      ck->replay_i, r->peer, km_task_name((km_task)r->kind),
                      (long long)r->microbatch, (long long)r->t_start, t->peer,
                      km_task_name(t->kind), (long long)t->microbatch, (long long)t->t_start);
            return -1;
        }
        ck->replay_i++;
        return r->duration;
    }
    double d = ck->inner.task(ctx, t);
    if (d >= 0) {
        ck_task_rec r = {.t_start = t->t_start,
                         .microbatch = t->microbatch,
                         .duration = d,
                         .peer = t->peer,
                         .kind = (int32_t)t->kind};
        vec_push(&ck->tasks, &r);
    }
    return d;
}

static void ck_drop(void *ctx, int peer, int64_t mb) {
    live *L = ctx;
    if (!L->ck->resume && L->ck->inner.drop) L->ck->inner.drop(ctx, peer, mb);
}

static void ck_peer_down(void *ctx, int peer) {
    live *L = ctx;
    if (!L->ck->resume && L->ck->inner.peer_down) L->ck->inner.peer_down(ctx, peer);
}

static int ck_peer_join(void *ctx, int peer) {
    live *L = ctx;
    if (L->ck->resume || !L->ck->inner.peer_join) return 0;
    return L->ck->inner.peer_join(ctx, peer);
}

static int ck_sync_stage(void *ctx, int stage, const int *submitters, int n_submitters,
                         const int *receivers, int n_receivers, const int *part_ok, int n_parts) {
    live *L = ctx;
    if (L->ck->resume || !L->ck->inner.sync_stage) return 0;
    return L->ck->inner.sync_stage(ctx, stage, submitters, n_submitters, receivers, n_receivers,
                                   part_ok, n_parts);
}

static int ck_cycle_end(void *ctx, int cycle, nm_time now, int64_t tokens) {
    live *L = ctx;
    struct live_ckpt *ck = L->ck;
    if (ck->resume) {
        if (cycle < ck->resume->cycle) return 0;
        return restore(L, cycle, now, tokens);
    }
    if (ck->inner.cycle_end && ck->inner.cycle_end(ctx, cycle, now, tokens)) return -1;
    int req = ck->request && *ck->request;
    int due = ck->every > 0 && (cycle + 1) % ck->every == 0;
    if (ck->path && (due || req) && cycle != ck->info.resumed_cycle) {
        if (ck_write(L, cycle, now, tokens)) return -1;
    }
    if (req && ck->path) {
        ck->info.stopped = 1;
        if (ck->stop) *ck->stop = 1;
    }
    return 0;
}

static int ck_loss(void *ctx, const live_loss_row *r) {
    live *L = ctx;
    vec_push(&L->ck->loss, r);
    return L->ck->sink.loss ? L->ck->sink.loss(L->ck->sink.ctx, r) : 0;
}

static int ck_boundary(void *ctx, const live_boundary_row *r) {
    live *L = ctx;
    vec_push(&L->ck->bnd, r);
    return L->ck->sink.boundary ? L->ck->sink.boundary(L->ck->sink.ctx, r) : 0;
}

/* ---- attaching ----------------------------------------------------------------------- */

int live_ckpt_attach(swarm_live_ops *ops, const live_ckpt_config *cc, live_ckpt_file *resume,
                     char *err, size_t errlen) {
    live *L = ops->ctx;
    if (L->ck) {
        live_ckpt_file_free(resume);
        snprintf(err, errlen, "live: checkpoints attached twice");
        return EXIT_INPUT;
    }
    if (resume) {
        for (int s = 0; s < L->S; s++) {
            size_t n = ks_stage_param_count(L->eval[s]);
            if (n != resume->stage_n[s]) {
                snprintf(err, errlen,
                         "%s: stage %d has %zu parameters in the checkpoint, %zu in this run",
                         resume->path, s, resume->stage_n[s], n);
                live_ckpt_file_free(resume);
                return EXIT_INPUT;
            }
        }
        if (resume->recent_cap != L->recent.cap) {
            snprintf(err, errlen, "%s: loss window of %lld rows in the checkpoint, %d here",
                     resume->path, (long long)resume->recent_cap, L->recent.cap);
            live_ckpt_file_free(resume);
            return EXIT_INPUT;
        }
    }
    struct live_ckpt *ck = xcalloc(1, sizeof *ck);
    ck->every = cc ? cc->every : 0;
    if (cc && cc->path) {
        ck->path = xstrdup(cc->path);
        ck->tmp_path = xmalloc(strlen(cc->path) + 8);
        sprintf(ck->tmp_path, "%s.tmp", cc->path);
    }
    ck->identity = xstrdup(cc && cc->identity ? cc->identity : "");
    ck->version = xstrdup(cc && cc->version ? cc->version : "");
    ck->request = cc ? cc->request : NULL;
    ck->stop = cc ? cc->stop : NULL;
    ck->tasks.size = sizeof(ck_task_rec);
    ck->loss.size = sizeof(live_loss_row);
    ck->bnd.size = sizeof(live_boundary_row);
    ck->data_hash = data_hash(&L->data);
    ck->resume = resume;
    ck->info.last_cycle = -1;
    ck->info.resumed_cycle = -1;
    ck->info.replay_pending = resume != NULL;
    ck->inner = *ops;
    ck->sink = L->sink;
    L->sink.ctx = L;
    L->sink.loss = ck_loss;
    L->sink.boundary = ck_boundary;
    L->ck = ck;
    ops->task = ck_task;
    ops->drop = ck_drop;
    ops->peer_down = ck_peer_down;
    ops->peer_join = ck_peer_join;
    ops->sync_stage = ck_sync_stage;
    ops->cycle_end = ck_cycle_end;
    return 0;
}

void live_ckpt_get_info(const swarm_live_ops *ops, live_ckpt_info *info) {
    const live *L = ops->ctx;
    memset(info, 0, sizeof *info);
    info->last_cycle = info->resumed_cycle = -1;
    if (L && L->ck) *info = L->ck->info;
}

void live_ckpt_free(live *L) {
    struct live_ckpt *ck = L->ck;
    if (!ck) return;
    live_ckpt_file_free(ck->resume);
    free(ck->tasks.v);
    free(ck->loss.v);
    free(ck->bnd.v);
    free(ck->path);
    free(ck->tmp_path);
    free(ck->identity);
    free(ck->version);
    free(ck);
    L->ck = NULL;
}
