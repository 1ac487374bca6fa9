/* kernels/stage.c: creating a stage (parameter table, deterministic initialisation,
 * buffers), its accessors and its optimizer step. The computation is in stage_run.c,
 * stage_block.c and stage_boundary.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/prng.h"
#include "kernels/stage_internal.h"
#include "kernels/kcheck.h"

/* ---- parameter table ---- */

typedef enum { INIT_ONES, INIT_ZEROS, INIT_NORMAL, INIT_TRANSPOSED_NORMAL } init_kind;

/* How a tensor is initialised: INIT_TRANSPOSED_NORMAL draws the [cols, rows] normal
 * matrix of the tensor named `source` and stores its transpose (the linear decoder,
 * W_d = W_e^T, computed identically on both sides of the boundary). */
typedef struct {
    init_kind kind;
    double std;
    char source[48];
} tensor_init;

typedef struct {
    ks_stage *st;
    tensor_init *init;
    int cap;
} table_builder;

static size_t add_tensor(table_builder *tb, const char *name, int rows, int cols, init_kind kind,
                         double std) {
    ks_stage *st = tb->st;
    KS_CHECK(st->n_tensors < tb->cap, "stage: tensor table overflow");
    KS_CHECK(strlen(name) < sizeof st->tensors[0].name, "stage: tensor name too long");
    ks_tensor *t = &st->tensors[st->n_tensors];
    tensor_init *in = &tb->init[st->n_tensors];
    strcpy(t->name, name);
    t->offset = st->n_params;
    t->rows = rows;
    t->cols = cols;
    in->kind = kind;
    in->std = std;
    st->n_tensors++;
    st->n_params += (size_t)rows * cols;
    return t->offset;
}

/* "<prefix><index>.<suffix>", e.g. "block3.wqkv" or "boundary4.enc.w1". */
static const char *indexed_name(char *buf, size_t len, const char *prefix, int index,
                                const char *suffix) {
    snprintf(buf, len, "%s%d.%s", prefix, index, suffix);
    return buf;
}

static void build_table(ks_stage *st, tensor_init **init_out) {
    const ks_stage_config *cfg = &st->cfg;
    const km_config *c = &cfg->model;
    const int d = c->d_model, f = c->ffn;
    const double out_std = 0.02 / sqrt(2.0 * c->n_blocks);
    table_builder tb = {st, NULL, 8 + 6 * cfg->n_blocks};
    char nm[64];
    st->tensors = K_CALLOC((size_t)tb.cap, sizeof *st->tensors);
    tb.init = K_CALLOC((size_t)tb.cap, sizeof *tb.init);
    st->blocks = K_CALLOC((size_t)(cfg->n_blocks ? cfg->n_blocks : 1), sizeof *st->blocks);

    const int bin = cfg->first_block, bout = cfg->first_block + cfg->n_blocks;
    if (cfg->in.method == KM_COMP_RESBM) {
        const int k = cfg->in.k, h = cfg->in.hidden;
        st->dec.w1 = add_tensor(&tb, indexed_name(nm, sizeof nm, "boundary", bin, "dec.w3"), h, k,
                                INIT_NORMAL, 0.02);
        st->dec.w2 = add_tensor(&tb, indexed_name(nm, sizeof nm, "boundary", bin, "dec.w4"), d, h,
                                INIT_ZEROS, 0.0);
    } else if (cfg->in.method == KM_COMP_LINEAR) {
        st->dec.wlin = add_tensor(&tb, indexed_name(nm, sizeof nm, "boundary", bin, "dec.wd"), d,
                                  cfg->in.k, INIT_TRANSPOSED_NORMAL, 1.0 / sqrt(d));
        indexed_name(tb.init[st->n_tensors - 1].source, sizeof tb.init[0].source, "boundary", bin,
                     "enc.we");
    }
    if (cfg->has_embedding)
        st->embedding = add_tensor(&tb, "embedding", c->vocab, d, INIT_NORMAL, 0.02);
    for (int b = 0; b < cfg->n_blocks; b++) {
        ks_block_params *p = &st->blocks[b];
        const int j = cfg->first_block + b;
        p->attn_norm = add_tensor(&tb, indexed_name(nm, sizeof nm, "block", j, "attn_norm"), 1, d,
                                  INIT_ONES, 0.0);
        p->wqkv = add_tensor(&tb, indexed_name(nm, sizeof nm, "block", j, "wqkv"), st->qkv_width, d,
                             INIT_NORMAL, 0.02);
        p->wo = add_tensor(&tb, indexed_name(nm, sizeof nm, "block", j, "wo"), d, st->att_width,
                           INIT_NORMAL, out_std);
        p->mlp_norm = add_tensor(&tb, indexed_name(nm, sizeof nm, "block", j, "mlp_norm"), 1, d,
                                 INIT_ONES, 0.0);
        p->w_gate_up = add_tensor(&tb, indexed_name(nm, sizeof nm, "block", j, "w_gate_up"), 2 * f,
                                  d, INIT_NORMAL, 0.02);
        p->w_down = add_tensor(&tb, indexed_name(nm, sizeof nm, "block", j, "w_down"), d, f,
                               INIT_NORMAL, out_std);
    }
    if (cfg->has_head) {
        st->final_norm = add_tensor(&tb, "final_norm", 1, d, INIT_ONES, 0.0);
        st->lm_head = add_tensor(&tb, "lm_head", c->vocab, d, INIT_NORMAL, 0.02);
    }
    if (cfg->out.method == KM_COMP_RESBM) {
        const int k = cfg->out.k, h = cfg->out.hidden;
        st->enc.norm = add_tensor(&tb, indexed_name(nm, sizeof nm, "boundary", bout, "enc.norm"), 1,
                                  d, INIT_ONES, 0.0);
        st->enc.w1 = add_tensor(&tb, indexed_name(nm, sizeof nm, "boundary", bout, "enc.w1"), h, d,
                                INIT_NORMAL, 0.02);
        st->enc.w2 = add_tensor(&tb, indexed_name(nm, sizeof nm, "boundary", bout, "enc.w2"), k, h,
                                INIT_ZEROS, 0.0);
    } else if (cfg->out.method == KM_COMP_LINEAR) {
        st->enc.wlin = add_tensor(&tb, indexed_name(nm, sizeof nm, "boundary", bout, "enc.we"),
                                  cfg->out.k, d, INIT_NORMAL, 1.0 / sqrt(d));
    }
    *init_out = tb.init;
}

/* Fills the host copy of the parameters from the seed; every tensor has its own stream. */
static void init_params(const ks_stage *st, const tensor_init *init, float *host) {
    for (int i = 0; i < st->n_tensors; i++) {
        const ks_tensor *t = &st->tensors[i];
        float *p = host + t->offset;
        const size_t n = (size_t)t->rows * t->cols;
        kprng r;
        switch (init[i].kind) {
        case INIT_ONES:
            for (size_t e = 0; e < n; e++) p[e] = 1.0f;
            break;
        case INIT_ZEROS: break; /* host buffer is zeroed */
        case INIT_NORMAL:
            kprng_init(&r, kprng_seed_for(st->cfg.seed, t->name));
            for (size_t e = 0; e < n; e++) p[e] = (float)(init[i].std * kprng_normal(&r));
            break;
        case INIT_TRANSPOSED_NORMAL:
            /* the source is [cols, rows]: element (a, b) lands at p[b * cols + a] */
            kprng_init(&r, kprng_seed_for(st->cfg.seed, init[i].source));
            for (int a = 0; a < t->cols; a++)
                for (int b = 0; b < t->rows; b++)
                    p[(size_t)b * t->cols + a] = (float)(init[i].std * kprng_normal(&r));
            break;
        }
    }
}

/* ---- buffers ---- */

static void *balloc(ks_stage *st, size_t bytes) { return st->be->alloc(st->be, bytes); }

static void bfree(kb_backend *be, void *p) {
    if (p) be->free(be, p);
}

static void alloc_acts(ks_stage *st, ks_acts *a, int keep_input) {
    const ks_stage_config *cfg = &st->cfg;
    const size_t N = (size_t)st->N, d = (size_t)cfg->model.d_model, f = (size_t)cfg->model.ffn;
    const size_t asz = st->asz, F = sizeof(float);
    if (keep_input) a->input = balloc(st, st->in_wire.mem_bytes);
    a->x = K_CALLOC((size_t)cfg->n_blocks + 1, sizeof *a->x);
    for (int b = 0; b <= cfg->n_blocks; b++) a->x[b] = balloc(st, N * d * asz);
    a->blk = K_CALLOC((size_t)(cfg->n_blocks ? cfg->n_blocks : 1), sizeof *a->blk);
    for (int b = 0; b < cfg->n_blocks; b++) {
        ks_block_acts *k = &a->blk[b];
        k->ln1 = balloc(st, N * d * asz);
        k->qkv = balloc(st, N * (size_t)st->qkv_width * asz);
        k->att = balloc(st, N * (size_t)st->att_width * asz);
        k->xmid = balloc(st, N * d * asz);
        k->ln2 = balloc(st, N * d * asz);
        k->gu = balloc(st, N * 2 * f * asz);
        k->sw = balloc(st, N * f * asz);
        k->rstd1 = balloc(st, N * F);
        k->rstd2 = balloc(st, N * F);
        k->lse = balloc(st, (size_t)cfg->batch * cfg->model.n_heads * st->T * F);
    }
    if (cfg->in.method == KM_COMP_RESBM) {
        a->dec_h = balloc(st, N * (size_t)cfg->in.hidden * asz);
        a->dec_s = balloc(st, N * (size_t)cfg->in.hidden * asz);
    }
    if (cfg->out.method == KM_COMP_RESBM) {
        a->enc_n = balloc(st, N * d * asz);
        a->enc_h = balloc(st, N * (size_t)cfg->out.hidden * asz);
        a->enc_s = balloc(st, N * (size_t)cfg->out.hidden * asz);
        a->enc_rstd = balloc(st, N * F);
    }
    if (cfg->has_head) {
        a->head_n = balloc(st, N * d * asz);
        a->head_rstd = balloc(st, N * F);
    }
}

static void free_acts(ks_stage *st, ks_acts *a) {
    kb_backend *be = st->be;
    bfree(be, a->input);
    if (a->x)
        for (int b = 0; b <= st->cfg.n_blocks; b++) bfree(be, a->x[b]);
    free(a->x);
    if (a->blk)
        for (int b = 0; b < st->cfg.n_blocks; b++) {
            ks_block_acts *k = &a->blk[b];
            bfree(be, k->ln1);
            bfree(be, k->qkv);
            bfree(be, k->att);
            bfree(be, k->xmid);
            bfree(be, k->ln2);
            bfree(be, k->gu);
            bfree(be, k->sw);
            bfree(be, k->rstd1);
            bfree(be, k->rstd2);
            bfree(be, k->lse);
        }
    free(a->blk);
    bfree(be, a->dec_h);
    bfree(be, a->dec_s);
    bfree(be, a->enc_n);
    bfree(be, a->enc_h);
    bfree(be, a->enc_s);
    bfree(be, a->enc_rstd);
    bfree(be, a->head_n);
    bfree(be, a->head_rstd);
}

static void alloc_scratch(ks_stage *st) {
    const ks_stage_config *cfg = &st->cfg;
    ks_grads_scratch *g = &st->g;
    const size_t N = (size_t)st->N, d = (size_t)cfg->model.d_model, f = (size_t)cfg->model.ffn;
    const size_t asz = st->asz;
    g->dx = balloc(st, N * d * asz);
    g->dln = balloc(st, N * d * asz);
    if (cfg->n_blocks > 0) {
        g->dsw = balloc(st, N * f * asz);
        g->dgu = balloc(st, N * 2 * f * asz);
        g->datt = balloc(st, N * (size_t)st->att_width * asz);
        g->dqkv = balloc(st, N * (size_t)st->qkv_width * asz);
    }
    int hmax = 0;
    if (cfg->in.method == KM_COMP_RESBM) hmax = cfg->in.hidden;
    if (cfg->out.method == KM_COMP_RESBM && cfg->out.hidden > hmax) hmax = cfg->out.hidden;
    if (hmax > 0) {
        g->ds = balloc(st, N * (size_t)hmax * asz);
        g->dh = balloc(st, N * (size_t)hmax * asz);
    }
    if (cfg->out.method == KM_COMP_RESBM && cfg->recompute)
        g->wire_out = balloc(st, st->out_wire.mem_bytes);
    if (cfg->has_head) {
        g->logits = balloc(st, N * (size_t)cfg->model.vocab * asz);
        g->losses = balloc(st, N * sizeof(float));
        g->host_losses = K_CALLOC(N, sizeof(float));
    }
}

static void free_scratch(ks_stage *st) {
    kb_backend *be = st->be;
    ks_grads_scratch *g = &st->g;
    bfree(be, g->dx);
    bfree(be, g->dln);
    bfree(be, g->dsw);
    bfree(be, g->dgu);
    bfree(be, g->datt);
    bfree(be, g->dqkv);
    bfree(be, g->ds);
    bfree(be, g->dh);
    bfree(be, g->wire_out);
    bfree(be, g->logits);
    bfree(be, g->losses);
    free(g->host_losses);
}

/* ---- life cycle ---- */

static int config_error(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return -1;
}

static int validate(const ks_stage_config *cfg, char *err, size_t errlen) {
    char msg[256];
    const km_config *c = &cfg->model;
    if (km_config_validate(c, msg, sizeof msg) != 0) return config_error(err, errlen, msg);
    if (km_boundary_validate(c, &cfg->in, msg, sizeof msg) != 0 ||
        km_boundary_validate(c, &cfg->out, msg, sizeof msg) != 0)
        return config_error(err, errlen, msg);
    if (cfg->first_block < 0 || cfg->n_blocks < 0 || cfg->first_block + cfg->n_blocks > c->n_blocks)
        return config_error(err, errlen, "stage: first_block + n_blocks exceeds model.n_blocks");
    if (cfg->has_embedding && cfg->in.method != KM_COMP_NONE)
        return config_error(err, errlen, "stage: the embedding stage has no input boundary");
    if (cfg->has_head && cfg->out.method != KM_COMP_NONE)
        return config_error(err, errlen, "stage: the head stage has no output boundary");
    if (cfg->batch < 1) return config_error(err, errlen, "stage: batch must be positive");
    if ((int64_t)cfg->batch * c->seq_len > (1 << 30) / 4)
        return config_error(err, errlen, "stage: batch × seq_len too large");
    if (!cfg->recompute && cfg->slots < 1)
        return config_error(err, errlen, "stage: slots must be positive without recompute");
    return 0;
}

ks_stage *ks_stage_new(kb_backend *be, const ks_stage_config *cfg, char *err, size_t errlen) {
    if (validate(cfg, err, errlen) != 0) return NULL;
    ks_stage *st = K_CALLOC(1, sizeof *st);
    const km_config *c = &cfg->model;
    st->be = be;
    st->cfg = *cfg;
    st->T = c->seq_len;
    st->N = cfg->batch * c->seq_len;
    st->qkv_width = (c->n_heads + 2 * c->n_kv_heads) * c->head_dim;
    st->att_width = c->n_heads * c->head_dim;
    st->asz = kb_dtype_size(be->act);
    st->in_wire = ks_wire_format(c, &cfg->in, be->act, st->N);
    if (cfg->has_embedding) {
        st->in_wire.kind = KS_WIRE_TOKENS;
        st->in_wire.width = 1;
        st->in_wire.mem_bytes = (size_t)st->N * sizeof(int32_t);
        st->in_wire.wire_bytes = (int64_t)st->N * (int64_t)sizeof(int32_t);
    }
    if (cfg->has_head) {
        ks_wire none = {.kind = KS_WIRE_ACT, .rows = st->N};
        st->out_wire = none;
    } else {
        st->out_wire = ks_wire_format(c, &cfg->out, be->act, st->N);
    }

    tensor_init *init = NULL;
    build_table(st, &init);
    float *host = K_CALLOC(st->n_params, sizeof(float));
    init_params(st, init, host);
    free(init);

    const size_t pbytes = st->n_params * sizeof(float);
    st->params = balloc(st, pbytes);
    st->grads = balloc(st, pbytes);
    st->m = balloc(st, pbytes);
    st->v = balloc(st, pbytes);
    be->upload(be, st->params, KB_F32, host, st->n_params);
    free(host);
    st->work = be->act == KB_F32 ? (void *)st->params : balloc(st, st->n_params * st->asz);
    ks_params_changed(st);

    st->n_sets = cfg->recompute ? 1 : cfg->slots;
    st->sets = K_CALLOC((size_t)st->n_sets, sizeof *st->sets);
    for (int i = 0; i < st->n_sets; i++) alloc_acts(st, &st->sets[i], !cfg->recompute);
    alloc_scratch(st);
    return st;
}

void ks_stage_free(ks_stage *st) {
    if (!st) return;
    kb_backend *be = st->be;
    if (st->sets)
        for (int i = 0; i < st->n_sets; i++) free_acts(st, &st->sets[i]);
    free(st->sets);
    free_scratch(st);
    if (st->work != st->params) bfree(be, st->work);
    bfree(be, st->params);
    bfree(be, st->grads);
    bfree(be, st->m);
    bfree(be, st->v);
    free(st->tensors);
    free(st->blocks);
    free(st);
}

const ks_stage_config *ks_stage_get_config(const ks_stage *st) { return &st->cfg; }
int ks_stage_tokens(const ks_stage *st) { return st->N; }
ks_wire ks_stage_input_wire(const ks_stage *st) { return st->in_wire; }
ks_wire ks_stage_output_wire(const ks_stage *st) { return st->out_wire; }

/* ---- parameters ---- */

size_t ks_stage_param_count(const ks_stage *st) { return st->n_params; }
float *ks_stage_params(ks_stage *st) { return st->params; }
float *ks_stage_grads(ks_stage *st) { return st->grads; }
float *ks_stage_adam_m(ks_stage *st) { return st->m; }
float *ks_stage_adam_v(ks_stage *st) { return st->v; }
int ks_stage_n_tensors(const ks_stage *st) { return st->n_tensors; }

const ks_tensor *ks_stage_tensor(const ks_stage *st, int i) {
    return i >= 0 && i < st->n_tensors ? &st->tensors[i] : NULL;
}

const ks_tensor *ks_stage_find_tensor(const ks_stage *st, const char *name) {
    for (int i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

void ks_params_changed(ks_stage *st) {
    if (st->work != st->params)
        st->be->convert(st->be, st->work, st->be->act, st->params, KB_F32, st->n_params);
}

/* ---- optimizer ---- */

void ks_zero_grad(ks_stage *st) { st->be->zero(st->be, st->grads, st->n_params * sizeof(float)); }

double ks_grad_norm(ks_stage *st) {
    return sqrt(st->be->sumsq(st->be, st->grads, KB_F32, st->n_params));
}

void ks_optimizer_step(ks_stage *st, const kb_adam_coef *c, float clip_scale) {
    kb_backend *be = st->be;
    if (clip_scale != 1.0f) be->scale(be, st->grads, KB_F32, st->n_params, clip_scale);
    be->adam_step(be, st->params, st->grads, st->m, st->v, st->n_params, c);
    ks_params_changed(st);
}
