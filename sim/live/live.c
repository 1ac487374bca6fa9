/* sim/live/live.c: live mode set-up, buffers, timing rule, statistics (see live.h).
 * The hooks are in live_task.c (compute, drops, churn) and live_sync.c (merges, rejoin,
 * cycle ends, validation). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/base/platform.h"
#include "sim/live/live_internal.h"
#include "sim/base/util.h"

double live_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int live_fail(live *L, const char *fmt, ...) {
    if (L->err[0]) return -1; /* keep the first error */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err, sizeof L->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- buffers ---- */

static live_pool *pool_of(live *L, int dev, size_t bytes) {
    live_dev *d = &L->dev[dev];
    for (int i = 0; i < d->n_pools; i++)
        if (d->pools[i].bytes == bytes) return &d->pools[i];
    if (d->n_pools == (int)(sizeof d->pools / sizeof d->pools[0]))
        SIM_FAIL("live: more than %d buffer sizes on device %d", d->n_pools, dev);
    live_pool *p = &d->pools[d->n_pools++];
    memset(p, 0, sizeof *p);
    p->bytes = bytes;
    return p;
}

void *live_buf_get(live *L, int dev, size_t bytes) {
    live_pool *p = pool_of(L, dev, bytes);
    L->st.buffers_live++;
    if (L->st.buffers_live > L->st.buffers_peak) L->st.buffers_peak = L->st.buffers_live;
    if (p->n > 0) return p->free[--p->n];
    kb_backend *be = L->dev[dev].be;
    return be->alloc(be, bytes);
}

void live_buf_put(live *L, int dev, void *ptr, size_t bytes) {
    if (!ptr) return;
    live_pool *p = pool_of(L, dev, bytes);
    L->st.buffers_live--;
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->free = xrealloc(p->free, sizeof *p->free * (size_t)p->cap);
    }
    p->free[p->n++] = ptr;
}

size_t live_in_bytes(const live *L, int s) {
    return s == 0 ? L->in_wire0.mem_bytes : L->act_wire.mem_bytes;
}

void live_move(live *L, int dst_dev, void *dst, int src_dev, const void *src, size_t bytes) {
    if (dst_dev == src_dev) {
        kb_backend *be = L->dev[dst_dev].be;
        be->copy(be, dst, src, bytes);
        return;
    }
    void *tmp = xmalloc(bytes ? bytes : 1);
    L->dev[src_dev].be->download_raw(L->dev[src_dev].be, tmp, src, bytes);
    L->dev[dst_dev].be->upload_raw(L->dev[dst_dev].be, dst, tmp, bytes);
    free(tmp);
}

void live_move_f32(live *L, int dst_dev, float *dst, int src_dev, const float *src, size_t n) {
    live_move(L, dst_dev, dst, src_dev, src, n * sizeof(float));
}

/* ---- microbatch records ---- */

lmb *live_mb(live *L, int64_t id, int create) {
    if (id < 0) return NULL;
    if (id >= L->cap_mbs) {
        if (!create) return NULL;
        int64_t cap = L->cap_mbs ? L->cap_mbs : 1024;
        while (cap <= id) cap *= 2;
        L->mbs = xrealloc(L->mbs, sizeof *L->mbs * (size_t)cap);
        memset(L->mbs + L->cap_mbs, 0, sizeof *L->mbs * (size_t)(cap - L->cap_mbs));
        L->cap_mbs = cap;
    }
    if (!L->mbs[id] && create) {
        lmb *m = xcalloc(1, sizeof *m);
        size_t S = (size_t)L->S;
        m->in = xcalloc(S, sizeof *m->in);
        m->grad = xcalloc(S, sizeof *m->grad);
        m->owner = xcalloc(S, sizeof *m->owner);
        m->held = xcalloc(S, sizeof *m->held);
        m->in_dev = xcalloc(S, sizeof *m->in_dev);
        m->grad_dev = xcalloc(S, sizeof *m->grad_dev);
        for (int s = 0; s < L->S; s++) m->owner[s] = -1;
        L->mbs[id] = m;
        if (id < L->lo_mbs) L->lo_mbs = id;
    }
    return L->mbs[id];
}

void live_mb_release(live *L, int64_t id) {
    lmb *m = live_mb(L, id, 0);
    if (!m || m->n_bufs > 0) return;
    free(m->in);
    free(m->grad);
    free(m->owner);
    free(m->held);
    free(m->in_dev);
    free(m->grad_dev);
    free(m);
    L->mbs[id] = NULL;
    while (L->lo_mbs < L->cap_mbs && !L->mbs[L->lo_mbs] && L->lo_mbs < id + 1) L->lo_mbs++;
}

void live_free_in(live *L, lmb *m, int s) {
    if (!m->in[s]) return;
    live_buf_put(L, m->in_dev[s], m->in[s], live_in_bytes(L, s));
    m->in[s] = NULL;
    m->held[s] = 0;
    m->owner[s] = -1;
    m->n_bufs--;
}

void live_free_grad(live *L, lmb *m, int s) {
    if (!m->grad[s]) return;
    live_buf_put(L, m->grad_dev[s], m->grad[s], L->act_wire.mem_bytes);
    m->grad[s] = NULL;
    m->n_bufs--;
}

/* ---- set-up ---- */

static int open_devices(live *L, char *err, size_t errlen) {
    const char *which = L->opt.backend ? L->opt.backend : "auto";
    if (strcmp(which, "cpu") != 0 && strcmp(which, "cuda") != 0 && strcmp(which, "auto") != 0) {
        snprintf(err, errlen, "live: unknown backend \"%s\" (auto, cpu or cuda)", which);
        return EXIT_INPUT;
    }
    kb_dtype act = L->cfg->model.dtype_bytes == 2 ? KB_BF16 : KB_F32;
    if (!strcmp(which, "cpu")) {
        L->dev[0].be = kb_cpu_open();
        L->dev[0].owned = 1;
        L->n_dev = 1;
        sim_platform_note_backend("cpu", -1); /* recorded in the trace (platform_*) */
        return 0;
    }
    char berr[256] = "";
    kb_backend *be = kb_open(which, 0, act, berr, sizeof berr);
    if (!be) {
        snprintf(err, errlen, "live: cannot open the %s backend: %s", which, berr);
        return EXIT_INPUT;
    }
    L->dev[0].be = be;
    L->dev[0].owned = 1;
    L->n_dev = 1;
    sim_platform_note_backend(be->name, be->device); /* recorded in the trace (platform_*) */
    if (be->device < 0) return 0;                    /* auto fell back to the CPU */
    int want = L->opt.gpus > 0 ? L->opt.gpus : LIVE_MAX_DEV;
    if (want > LIVE_MAX_DEV) want = LIVE_MAX_DEV;
    if (want > L->n_peers) want = L->n_peers;
    /* Device slots: slot d runs on GPU d while there are GPUs; asked for more slots than
     * the machine has GPUs, slot d shares GPU d mod (GPUs found), with its own backend
     * (stream, buffers), so a one-GPU machine still runs the several-device path. */
    int n_gpus = 0;
    for (int d = 1; d < want; d++) {
        int gpu = n_gpus ? d % n_gpus : d;
        kb_backend *b = kb_open("cuda", gpu, act, berr, sizeof berr);
        if (!b && !n_gpus && L->opt.gpus > 0) {
            n_gpus = d; /* GPUs 0..d-1 exist: share them from now on */
            gpu = d % n_gpus;
            b = kb_open("cuda", gpu, act, berr, sizeof berr);
            if (b)
                fprintf(stderr, "orionsim: live: %d device slots over %d GPU%s\n", L->opt.gpus,
                        n_gpus, n_gpus == 1 ? "" : "s");
        }
        if (!b) {
            if (L->opt.gpus > 0) {
                snprintf(err, errlen,
                         "live: %d device slots asked for, GPU %d cannot be opened: %s",
                         L->opt.gpus, gpu, berr);
                return EXIT_INPUT;
            }
            break;
        }
        L->dev[d].be = b;
        L->dev[d].owned = 1;
        L->n_dev++;
    }
    return 0;
}

static ks_stage_config stage_config(const live *L, int s) {
    const swarm_config *c = L->cfg;
    ks_stage_config k;
    memset(&k, 0, sizeof k);
    k.model = c->model;
    int first = 0;
    for (int i = 0; i < s; i++) first += c->split.blocks[i];
    k.first_block = first;
    k.n_blocks = c->split.blocks[s];
    k.has_embedding = s == 0;
    k.has_head = s == L->S - 1;
    km_boundary none = {KM_COMP_NONE, 0, 0};
    k.in = s > 0 ? c->boundary : none;
    k.out = s < L->S - 1 ? c->boundary : none;
    k.batch = L->B;
    k.recompute = c->recompute ? 1 : 0;
    k.slots = c->recompute ? 1 : (c->cache_capacity > 0 ? c->cache_capacity : 1);
    k.seed = L->opt.seed;
    return k;
}

static ko_inner_state inner_state(const live *L, int s) {
    const live_inner_opt *o = &L->opt.inner;
    double b1 = o->beta1;
    if (o->beta1_iota) b1 = o->beta1 + o->beta1_span * (double)(L->S - (s + 1)) / (double)L->S;
    ko_inner_state st = ko_inner_init(o->kind, o->lr, b1, o->beta2, o->weight_decay);
    st.eps = o->eps;
    st.momentum_decay = o->momentum_decay;
    return st;
}

static double median3(double a, double b, double c) {
    if (a > b) {
        double t = a;
        a = b;
        b = t;
    }
    if (b > c) {
        double t = b;
        b = c;
        c = t;
    }
    if (a > b) {
        double t = a;
        a = b;
        b = t;
    }
    return b;
}

/* Measured rule without a local device: per stage, modeled work at unit peak (FLOPs /
 * efficiency, and optimizer bytes / efficiency) per second of measured wall time. */
static void calibrate(live *L) {
    const swarm_config *c = L->cfg;
    double t0 = live_now();
    kb_backend *be = L->dev[0].be;
    for (int s = 0; s < L->S; s++) {
        ks_stage *st = L->eval[s];
        void *in = live_buf_get(L, 0, live_in_bytes(L, s));
        void *out = s < L->S - 1 ? live_buf_get(L, 0, L->act_wire.mem_bytes) : NULL;
        void *g = s < L->S - 1 ? live_buf_get(L, 0, L->act_wire.mem_bytes) : NULL;
        void *din = s > 0 ? live_buf_get(L, 0, L->act_wire.mem_bytes) : NULL;
        if (s == 0) be->upload_raw(be, in, L->host_in, (size_t)L->N * sizeof(int32_t));
        double meas[3], mopt[3];
        for (int rep = 0; rep < 4; rep++) {
            double a = live_now();
            if (s == L->S - 1) {
                float loss;
                be->upload_raw(be, L->eval_tg, L->host_tg, (size_t)L->N * sizeof(int32_t));
                ks_last_step(st, in, L->eval_tg, &loss, din);
            } else {
                ks_forward(st, 0, in, out);
                ks_backward(st, 0, in, g, din);
            }
            be->synchronize(be);
            double b = live_now();
            kb_adam_coef co = {1e-12f, 0.9f, 0.95f, 1e-8f, 0.0f, 1.0f, 0.0f, 1.0f};
            ks_optimizer_step(st, &co, 1.0f);
            be->synchronize(be);
            double e = live_now();
            if (rep > 0) {
                meas[rep - 1] = b - a;
                mopt[rep - 1] = e - b;
            }
        }
        double fl = 0;
        if (s == L->S - 1)
            fl = km_task_flops(&c->model, &c->split, &c->boundary, s, KM_TASK_LAST_FUSED,
                               c->microbatch_tokens) /
                 c->compute.efficiency[KM_TASK_LAST_FUSED];
        else {
            km_task bk = c->recompute ? KM_TASK_BACKWARD_RECOMPUTE : KM_TASK_BACKWARD;
            fl = km_task_flops(&c->model, &c->split, &c->boundary, s, KM_TASK_FORWARD,
                               c->microbatch_tokens) /
                     c->compute.efficiency[KM_TASK_FORWARD] +
                 km_task_flops(&c->model, &c->split, &c->boundary, s, bk, c->microbatch_tokens) /
                     c->compute.efficiency[bk];
        }
        double ob = (double)km_params_stage(&c->model, &c->split, &c->boundary, s) *
                    c->compute.opt_bytes_per_param / c->compute.efficiency[KM_TASK_OPTIMIZER];
        double m = median3(meas[0], meas[1], meas[2]), o = median3(mopt[0], mopt[1], mopt[2]);
        L->scale_compute[s] = m > 0 ? fl / m : 0;
        L->scale_opt[s] = o > 0 ? ob / o : 0;
        live_buf_put(L, 0, in, live_in_bytes(L, s));
        if (out) live_buf_put(L, 0, out, L->act_wire.mem_bytes);
        if (g) live_buf_put(L, 0, g, L->act_wire.mem_bytes);
        if (din) live_buf_put(L, 0, din, L->act_wire.mem_bytes);
        /* back to the initial weights, held identically by every peer of the stage */
        live_peer *p = &L->peers[s];
        live_move_f32(L, 0, ks_stage_params(st), p->dev, ks_stage_params(p->st),
                      ks_stage_param_count(st));
        ks_params_changed(st);
        ks_zero_grad(st);
        be->zero(be, ks_stage_adam_m(st), ks_stage_param_count(st) * sizeof(float));
        be->zero(be, ks_stage_adam_v(st), ks_stage_param_count(st) * sizeof(float));
    }
    L->st.calibration_wall_s = live_now() - t0;
}

static void live_free_all(live *L);

static const char *live_error(void *ctx) {
    live *L = ctx;
    return L->err[0] ? L->err : "live mode: unknown error";
}

int live_open(const live_config *o, const swarm_config *cfg, const live_sink *sink,
              swarm_live_ops *ops, char *err, size_t errlen) {
    memset(ops, 0, sizeof *ops);
    err[0] = 0;
    if (strcmp(cfg->training, "pipeline") != 0) {
        snprintf(err, errlen,
                 "live mode needs a pipeline: sync.algorithm = \"ddp\" is not supported live");
        return EXIT_INPUT;
    }
    if (cfg->n_stages < 1 || cfg->n_stages > 256 ||
        cfg->n_peers != cfg->n_stages * cfg->n_replicas) {
        snprintf(err, errlen, "live: %d peers for %d stages x %d replicas", cfg->n_peers,
                 cfg->n_stages, cfg->n_replicas);
        return EXIT_INPUT;
    }
    if (cfg->model.seq_len < 1 || cfg->microbatch_tokens % cfg->model.seq_len != 0) {
        snprintf(err, errlen,
                 "live: microbatch of %lld tokens is not a whole number of sequences of %d",
                 (long long)cfg->microbatch_tokens, cfg->model.seq_len);
        return EXIT_INPUT;
    }
    live *L = xcalloc(1, sizeof *L);
    L->cfg = cfg;
    if (sink) L->sink = *sink;
    L->opt = *o;
    L->S = cfg->n_stages;
    L->R = cfg->n_replicas;
    L->n_peers = cfg->n_peers;
    L->T = cfg->model.seq_len;
    L->B = (int)(cfg->microbatch_tokens / cfg->model.seq_len);
    L->N = L->B * L->T;
    L->st.loss_final = L->st.val_loss_final = L->st.val_loss_initial = L->st.recon_error_final =
        NAN;

    const char *data = o->data ? o->data : "data/brown_train.bin";
    if (live_data_open(data, o->val_fraction, o->val_microbatches, cfg->model.vocab, L->B, L->T,
                       o->seed, &L->data, err, errlen)) {
        if (!o->data) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n,
                     " (training.data not set: the built-in corpus is data/brown_train.bin; "
                     "make it with tools/fetch-brown.sh)");
        }
        free(L);
        return EXIT_INPUT;
    }
    int rc = open_devices(L, err, errlen);
    if (rc) {
        live_free_all(L);
        return rc;
    }
    L->local_peak = o->local_peak_flops;

    /* peers */
    L->peers = xcalloc((size_t)L->n_peers, sizeof *L->peers);
    for (int i = 0; i < L->n_peers; i++) {
        live_peer *p = &L->peers[i];
        p->id = i;
        p->stage = cfg->peers[i].stage;
        p->replica = cfg->peers[i].replica;
        p->dev = i % L->n_dev;
        p->up = 1;
        p->undo_mb = -1;
        ks_stage_config kc = stage_config(L, p->stage);
        p->st = ks_stage_new(L->dev[p->dev].be, &kc, err, errlen);
        if (!p->st) {
            live_free_all(L);
            return EXIT_INPUT;
        }
        p->opt = inner_state(L, p->stage);
        char oerr[256];
        if (ko_inner_validate(&p->opt, oerr, sizeof oerr)) {
            snprintf(err, errlen, "training.optimizer: %s", oerr);
            live_free_all(L);
            return EXIT_INPUT;
        }
        kb_backend *be = L->dev[p->dev].be;
        p->grad_backup = be->alloc(be, ks_stage_param_count(p->st) * sizeof(float));
        p->n_slots = kc.recompute ? 0 : kc.slots;
        if (p->n_slots) {
            p->slot_mb = xmalloc(sizeof *p->slot_mb * (size_t)p->n_slots);
            for (int k = 0; k < p->n_slots; k++) p->slot_mb[k] = -1;
        }
        if (kc.has_head) p->targets_dev = be->alloc(be, (size_t)L->N * sizeof(int32_t));
    }
    L->in_wire0 = ks_stage_input_wire(L->peers[0].st);
    L->act_wire = L->S > 1 ? ks_stage_output_wire(L->peers[0].st) : L->in_wire0;
    L->host_in = xmalloc(sizeof *L->host_in * (size_t)L->N);
    L->host_tg = xmalloc(sizeof *L->host_tg * (size_t)L->N);
    live_data_batch(&L->data, 0, L->host_in, L->host_tg);

    /* global weights: the evaluation pipeline on device 0, initialised like every peer */
    L->eval = xcalloc((size_t)L->S, sizeof *L->eval);
    L->mom = xcalloc((size_t)L->S, sizeof *L->mom);
    L->merges = xcalloc((size_t)L->S, sizeof *L->merges);
    kb_backend *be0 = L->dev[0].be;
    for (int s = 0; s < L->S; s++) {
        ks_stage_config kc = stage_config(L, s);
        kc.recompute = 1;
        kc.slots = 1;
        L->eval[s] = ks_stage_new(be0, &kc, err, errlen);
        if (!L->eval[s]) {
            live_free_all(L);
            return EXIT_INPUT;
        }
        L->mom[s] = be0->alloc(be0, ks_stage_param_count(L->eval[s]) * sizeof(float));
    }
    L->eval_buf[0] = be0->alloc(be0, L->act_wire.mem_bytes);
    L->eval_buf[1] = be0->alloc(be0, L->act_wire.mem_bytes);
    L->eval_tok = be0->alloc(be0, (size_t)L->N * sizeof(int32_t));
    L->eval_tg = be0->alloc(be0, (size_t)L->N * sizeof(int32_t));
    L->st.buffers_bound = 3LL * L->n_peers * (cfg->cache_capacity > 0 ? cfg->cache_capacity : 1);
    L->st.n_devices = L->n_dev;
    L->recent.cap = o->loss_window * (L->R > 0 ? L->R : 1);
    if (L->recent.cap < 1) L->recent.cap = 1;
    L->recent.loss = xcalloc((size_t)L->recent.cap, sizeof *L->recent.loss);

    if (o->time == LIVE_TIME_MEASURED && L->local_peak <= 0) calibrate(L);
    if (L->data.n_val_batches > 0) L->st.val_loss_initial = live_validate(L, NULL);

    ops->ctx = L;
    ops->task = live_task;
    ops->drop = live_drop;
    ops->peer_down = live_peer_down;
    ops->peer_join = live_peer_join;
    ops->sync_stage = live_sync_stage;
    ops->cycle_end = live_cycle_end;
    ops->error = live_error;
    return 0;
}

static void live_free_all(live *L) {
    live_ckpt_free(L);
    if (L->mbs) {
        for (int64_t i = 0; i < L->cap_mbs; i++) {
            lmb *m = L->mbs[i];
            if (!m) continue;
            for (int s = 0; s < L->S; s++) {
                live_free_in(L, m, s);
                live_free_grad(L, m, s);
            }
            live_mb_release(L, i);
        }
        free(L->mbs);
    }
    if (L->peers)
        for (int i = 0; i < L->n_peers; i++) {
            live_peer *p = &L->peers[i];
            kb_backend *be = L->dev[p->dev].be;
            if (p->st) ks_stage_free(p->st);
            if (p->grad_backup) be->free(be, p->grad_backup);
            if (p->targets_dev) be->free(be, p->targets_dev);
            free(p->slot_mb);
            free(p->accum);
        }
    free(L->peers);
    kb_backend *be0 = L->dev[0].be;
    if (L->eval)
        for (int s = 0; s < L->S; s++) {
            if (L->eval[s]) ks_stage_free(L->eval[s]);
            if (L->mom[s]) be0->free(be0, L->mom[s]);
        }
    free(L->eval);
    free(L->mom);
    free(L->merges);
    if (be0) {
        if (L->eval_buf[0]) be0->free(be0, L->eval_buf[0]);
        if (L->eval_buf[1]) be0->free(be0, L->eval_buf[1]);
        if (L->eval_tok) be0->free(be0, L->eval_tok);
        if (L->eval_tg) be0->free(be0, L->eval_tg);
    }
    for (int d = 0; d < L->n_dev; d++) {
        live_dev *dv = &L->dev[d];
        for (int k = 0; k < dv->n_pools; k++) {
            for (int i = 0; i < dv->pools[k].n; i++) dv->be->free(dv->be, dv->pools[k].free[i]);
            free(dv->pools[k].free);
        }
        if (dv->owned) kb_close(dv->be);
    }
    free(L->host_in);
    free(L->host_tg);
    free(L->recent.loss);
    live_data_close(&L->data);
    free(L);
}

void live_close(swarm_live_ops *ops) {
    if (!ops || !ops->ctx) return;
    live_free_all(ops->ctx);
    memset(ops, 0, sizeof *ops);
}

/* ---- statistics ---- */

void live_get_stats(const swarm_live_ops *ops, live_stats *s) {
    const live *L = ops->ctx;
    *s = L->st;
    s->time_scale[0] = L->scale_compute[0];
    s->time_scale[1] = L->scale_opt[0];
}

void live_fill_summary(const swarm_live_ops *ops, sim_summary *s) {
    const live *L = ops->ctx;
    s->loss_final = L->st.loss_final;
    s->val_loss_final = L->st.val_loss_final;
    s->boundary_recon_error = L->st.recon_error_final;
}

void live_set_step_observer(swarm_live_ops *ops, live_step_fn fn, void *ctx) {
    live *L = ops->ctx;
    L->step_fn = fn;
    L->step_ctx = ctx;
}

void live_poison(swarm_live_ops *ops, int peer) {
    live *L = ops->ctx;
    if (peer < 0 || peer >= L->n_peers) return;
    live_peer *p = &L->peers[peer];
    /* a norm weight: every token passes through it */
    size_t at = 0;
    for (int i = 0; i < ks_stage_n_tensors(p->st); i++)
        if (strstr(ks_stage_tensor(p->st, i)->name, "norm")) {
            at = ks_stage_tensor(p->st, i)->offset;
            break;
        }
    float nan = NAN;
    kb_backend *be = L->dev[p->dev].be;
    be->upload(be, ks_stage_params(p->st) + at, KB_F32, &nan, 1);
    ks_params_changed(p->st);
}
