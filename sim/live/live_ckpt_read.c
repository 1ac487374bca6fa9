/* sim/live/live_ckpt_read.c: reading and checking a checkpoint file (see live_ckpt.h). */
#include "sim/live/live_ckpt_internal.h"

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
        sim_first_difference(c->identity, identity, "the checkpoint's", "this run's", msg,
                             sizeof msg);
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
