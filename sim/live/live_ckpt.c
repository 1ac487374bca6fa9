/* sim/live/live_ckpt.c: checkpoints of live runs and the replay that resumes them (see
 * live_ckpt.h; the file layout is documented in results/README.md). */
#include "sim/live/live_ckpt_internal.h"

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
    for (size_t i = 0; i < (size_t)c->n_tasks; i++) {
        vec_push(&ck->tasks, &c->tasks[i]);
        if (L->opt.time == LIVE_TIME_MEASURED && ck->sink.task &&
            ck->sink.task(ck->sink.ctx, &c->tasks[i]))
            return live_fail(L, "live: writing a task row to the trace failed");
    }
    ck->info.resumed_cycle = cycle;
    ck->info.replay_pending = 0;
    ck->info.tasks_replayed = c->n_tasks;
    live_ckpt_file_free(c);
    ck->resume = NULL;
    return 0;
}

/* ---- the hooks ----------------------------------------------------------------------- */

/* A logged task against the engine's request: 0 when they agree, else -1 with "WHAT
 * diverged at task I: SOURCE logged ..., the engine asked for ..." (the resume's replay
 * and the replay of recorded durations share it). */
static int replay_check(live *L, const ck_task_rec *r, size_t i, const swarm_task_info *t,
                        const char *what, const char *source) {
    if (r->peer == t->peer && r->kind == (int32_t)t->kind && r->microbatch == t->microbatch &&
        r->t_start == t->t_start)
        return 0;
    return live_fail(L,
                     "%s diverged at task %zu: %s logged peer %d, %s, microbatch %lld at t = %lld "
                     "ns; the engine asked for peer %d, %s, microbatch %lld at t = %lld ns",
                     what, i, source, r->peer, km_task_name((km_task)r->kind),
                     (long long)r->microbatch, (long long)r->t_start, t->peer,
                     km_task_name(t->kind), (long long)t->microbatch, (long long)t->t_start);
}

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
        if (replay_check(L, r, ck->replay_i, t, "resume: the replay", "the checkpoint")) return -1;
        ck->replay_i++;
        return r->duration;
    }
    const ck_task_rec *want = NULL; /* replay of recorded durations: this task's record */
    if (ck->times) {
        size_t i = ck->tasks.n;
        if (i >= ck->n_times) {
            ck->info.replay_failed = 1;
            live_fail(L,
                      "--replay-times %s: the engine asked for task %zu (peer %d, %s, microbatch "
                      "%lld at t = %lld ns), but the recording ends after %zu tasks",
                      ck->times_source, i, t->peer, km_task_name(t->kind), (long long)t->microbatch,
                      (long long)t->t_start, ck->n_times);
            return -1;
        }
        want = &ck->times[i];
        char what[600];
        snprintf(what, sizeof what, "--replay-times %s: the replay", ck->times_source);
        if (replay_check(L, want, i, t, what, "the recording")) {
            ck->info.replay_failed = 1;
            return -1;
        }
    }
    double d = ck->inner.task(ctx, t);
    if (d >= 0) {
        if (want) d = want->duration; /* the kernels ran; the clock takes the record */
        ck_task_rec r = {.t_start = t->t_start,
                         .microbatch = t->microbatch,
                         .duration = d,
                         .peer = t->peer,
                         .kind = (int32_t)t->kind};
        vec_push(&ck->tasks, &r);
        if (L->opt.time == LIVE_TIME_MEASURED && ck->sink.task && ck->sink.task(ck->sink.ctx, &r)) {
            live_fail(L, "live: writing a task row to the trace failed");
            return -1;
        }
        if (want) ck->info.times_used = (int64_t)ck->tasks.n;
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
    if (cc && cc->times) {
        ck_task_rec *copy = xmalloc(sizeof *copy * (cc->n_times ? cc->n_times : 1));
        memcpy(copy, cc->times, sizeof *copy * cc->n_times);
        ck->times = copy;
        ck->n_times = cc->n_times;
        ck->times_source = xstrdup(cc->times_source ? cc->times_source : "(records)");
        ck->info.times_recorded = (int64_t)cc->n_times;
    }
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
    free((void *)ck->times);
    free(ck->times_source);
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
