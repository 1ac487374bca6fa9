/* kernels/model.c: parameter counts, the balanced pipeline split and FLOP accounting.
 *
 * Hardware-FLOP convention (km_task_flops), for stage s on n tokens of sequences of
 * length T:
 *   M_s  = matmul parameters of the stage: its blocks' projections (q, k, v, o, gate,
 *          up, down), the LM head on the last stage, the matmul weights of the boundary
 *          encoder it holds (s < S-1) and of the boundary decoder it holds (s > 0). The
 *          embedding on stage 0 is a lookup, not a matmul, and costs nothing here.
 *   A_s  = causal attention of its blocks: QK^T and AV are two matmuls of
 *          2·n_heads·head_dim·T FLOPs per token each over the full score matrix; the
 *          causal mask halves them: 2·2·n_heads·head_dim·T·n/2 per block.
 *   forward                 F = 2·M_s·n + A_s
 *   backward (kept acts)    2F   (gradients w.r.t. inputs and weights: two matmuls
 *                                 per forward matmul; attention likewise)
 *   backward with recompute 3F   (the forward again, then 2F)
 *   last stage fused        3F   (forward + loss + backward; the activations of this
 *                                 forward are kept, so nothing is recomputed)
 *   optimizer step          12 FLOPs per parameter of the stage, a round figure: the
 *                           fused update (kernels/cpu_optim.c) has 16 adds, multiplies,
 *                           sqrt and divide per element (14 without the NAdam term).
 *                           The step is memory-bound anyway (28 bytes of fp32 traffic
 *                           per parameter), so its efficiency factor, calibrated per
 *                           task kind, absorbs whatever this figure leaves out.
 * RMSNorm, RoPE, SwiGLU's elementwise product, softmax and cross-entropy are not
 * counted; they are memory-bound and the kernel-efficiency factor covers them.
 */
#include "kernels/model.h"
#include "kernels/kcheck.h"

#include <stdarg.h>
#include <stdio.h>

km_config km_orion_100b(void) {
    km_config c = {
        .d_model = 9216,
        .n_blocks = 90,
        .n_heads = 72,
        .n_kv_heads = 8,
        .head_dim = 128,
        .ffn = 32256,
        .vocab = 128256,
        /* Assumption: the published 140.6 MB per hop is 8000 tokens × 9216 × 2 B, read
         * as 10 sequences of 800 tokens per microbatch (SPEC §3.1). */
        .seq_len = 800,
        .rope_theta = 5e5,
        .norm_eps = 1e-5,
        .dtype_bytes = 2,
    };
    return c;
}

int km_config_validate(const km_config *c, char *msg, size_t msglen) {
    const struct {
        const char *name;
        int value;
    } ints[] = {
        {"d_model", c->d_model},       {"n_blocks", c->n_blocks}, {"n_heads", c->n_heads},
        {"n_kv_heads", c->n_kv_heads}, {"head_dim", c->head_dim}, {"ffn", c->ffn},
        {"vocab", c->vocab},           {"seq_len", c->seq_len},   {"dtype_bytes", c->dtype_bytes},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (ints[i].value <= 0)
            return k_fail(msg, msglen, "model.%s = %d: must be positive", ints[i].name,
                          ints[i].value);
    if (!(c->rope_theta > 0))
        return k_fail(msg, msglen, "model.rope_theta = %g: must be positive", c->rope_theta);
    if (!(c->norm_eps > 0))
        return k_fail(msg, msglen, "model.norm_eps = %g: must be positive", c->norm_eps);
    if ((int64_t)c->n_heads * c->head_dim != c->d_model)
        return k_fail(msg, msglen, "model.d_model = %d: must equal n_heads × head_dim = %d × %d",
                      c->d_model, c->n_heads, c->head_dim);
    if (c->n_heads % c->n_kv_heads != 0)
        return k_fail(msg, msglen, "model.n_kv_heads = %d: must divide n_heads = %d", c->n_kv_heads,
                      c->n_heads);
    if (c->head_dim % 2 != 0)
        return k_fail(msg, msglen, "model.head_dim = %d: must be even for RoPE", c->head_dim);
    return 0;
}

int km_split_validate(const km_config *c, const km_split *s, char *msg, size_t msglen) {
    if (s->n_stages < 1 || s->n_stages > KM_MAX_STAGES)
        return k_fail(msg, msglen, "pipeline.n_stages = %d: must be in [1, %d]", s->n_stages,
                      KM_MAX_STAGES);
    int64_t sum = 0;
    for (int i = 0; i < s->n_stages; i++) {
        if (s->blocks[i] < 1)
            return k_fail(msg, msglen,
                          "pipeline.blocks[%d] = %d: every stage needs at least one block", i,
                          s->blocks[i]);
        sum += s->blocks[i];
    }
    if (sum != c->n_blocks)
        return k_fail(msg, msglen, "pipeline.blocks: sum %lld differs from model.n_blocks = %d",
                      (long long)sum, c->n_blocks);
    return 0;
}

int km_boundary_validate(const km_config *c, const km_boundary *b, char *msg, size_t msglen) {
    switch (b->method) {
    case KM_COMP_NONE:
    case KM_COMP_INT8: return 0;
    case KM_COMP_RESBM:
    case KM_COMP_LINEAR:
        if (b->k < 1 || b->k > c->d_model)
            return k_fail(msg, msglen, "compression.k = %d: must be in [1, d_model = %d]", b->k,
                          c->d_model);
        if (b->method == KM_COMP_RESBM && b->hidden < 1)
            return k_fail(msg, msglen, "compression.hidden = %d: must be positive", b->hidden);
        return 0;
    }
    return k_fail(msg, msglen, "compression.method = %d: unknown", (int)b->method);
}

/* ---- parameters ---- */

int64_t km_params_block_matmul(const km_config *c) {
    const int64_t d = c->d_model;
    const int64_t q = (int64_t)c->n_heads * c->head_dim;
    const int64_t kv = (int64_t)c->n_kv_heads * c->head_dim;
    const int64_t attn = d * q + 2 * d * kv + q * d;
    const int64_t mlp = 3 * d * c->ffn;
    return attn + mlp;
}

int64_t km_params_block(const km_config *c) {
    return km_params_block_matmul(c) + 2 * (int64_t)c->d_model;
}

int64_t km_params_embedding(const km_config *c) { return (int64_t)c->vocab * c->d_model; }

int64_t km_params_head(const km_config *c) {
    return (int64_t)c->d_model + (int64_t)c->vocab * c->d_model;
}

int64_t km_params_total(const km_config *c) {
    return km_params_embedding(c) + c->n_blocks * km_params_block(c) + km_params_head(c);
}

int64_t km_params_matmul(const km_config *c) { return km_params_total(c) - km_params_embedding(c); }

/* Matmul weights of a boundary's encoder and decoder (the ResBM norm excluded). */
static int64_t encoder_matmul(const km_config *c, const km_boundary *b) {
    const int64_t d = c->d_model, k = b->k, h = b->hidden;
    switch (b->method) {
    case KM_COMP_RESBM: return d * h + h * k;
    case KM_COMP_LINEAR: return d * k;
    case KM_COMP_NONE:
    case KM_COMP_INT8: break;
    }
    return 0;
}

static int64_t decoder_matmul(const km_config *c, const km_boundary *b) {
    const int64_t d = c->d_model, k = b->k, h = b->hidden;
    switch (b->method) {
    case KM_COMP_RESBM: return k * h + h * d;
    case KM_COMP_LINEAR: return k * d;
    case KM_COMP_NONE:
    case KM_COMP_INT8: break;
    }
    return 0;
}

int64_t km_params_encoder(const km_config *c, const km_boundary *b) {
    const int64_t norm = b->method == KM_COMP_RESBM ? c->d_model : 0;
    return norm + encoder_matmul(c, b);
}

int64_t km_params_decoder(const km_config *c, const km_boundary *b) { return decoder_matmul(c, b); }

int64_t km_params_boundary(const km_config *c, const km_boundary *b) {
    return km_params_encoder(c, b) + km_params_decoder(c, b);
}

static int stage_ok(const km_split *sp, int s) {
    return sp->n_stages >= 1 && sp->n_stages <= KM_MAX_STAGES && s >= 0 && s < sp->n_stages;
}

int64_t km_params_stage(const km_config *c, const km_split *sp, const km_boundary *b, int s) {
    if (!stage_ok(sp, s)) return -1;
    int64_t p = sp->blocks[s] * km_params_block(c);
    if (s == 0) p += km_params_embedding(c);
    if (s == sp->n_stages - 1) p += km_params_head(c);
    else p += km_params_encoder(c, b);
    if (s > 0) p += km_params_decoder(c, b);
    return p;
}

int64_t km_params_stage_matmul(const km_config *c, const km_split *sp, const km_boundary *b,
                               int s) {
    if (!stage_ok(sp, s)) return -1;
    int64_t p = sp->blocks[s] * km_params_block_matmul(c);
    if (s == sp->n_stages - 1) p += (int64_t)c->vocab * c->d_model;
    else p += encoder_matmul(c, b);
    if (s > 0) p += decoder_matmul(c, b);
    return p;
}

/* ---- balanced split ---- */

int km_block_slots(const km_config *c, int64_t params) {
    const int64_t block = km_params_block(c);
    if (block <= 0 || params <= 0) return 0;
    return (int)((params + block - 1) / block);
}

km_split km_split_balanced(const km_config *c, int n_stages) {
    km_split sp = {0};
    const int L = c->n_blocks, S = n_stages;
    if (S < 1 || S > KM_MAX_STAGES || S > L) return sp;
    sp.n_stages = S;
    if (S == 1) {
        sp.blocks[0] = L;
        return sp;
    }
    const int e_first = km_block_slots(c, km_params_embedding(c));
    const int e_last = km_block_slots(c, km_params_head(c));
    /* Capacity of a stage in block slots: the smallest that holds everything. */
    const int cap = (int)(((int64_t)L + e_first + e_last + S - 1) / S);
    int first = cap - e_first < 1 ? 1 : cap - e_first;
    int last = cap - e_last < 1 ? 1 : cap - e_last;
    /* The middle never gets more than cap per stage: first + last >= 2·cap - e_first -
     * e_last and S·cap >= L + e_first + e_last, so L - first - last <= (S-2)·cap (none
     * at all with two stages). It may get too few, in tiny models whose embedding
     * outweighs many blocks: then take blocks back from the heavier end (the last
     * stage on a tie) until every middle stage can have one. Terminates as S <= L. */
    while (L - first - last < S - 2) {
        if (last >= first && last > 1) last--;
        else first--;
    }
    sp.blocks[0] = first;
    sp.blocks[S - 1] = last;
    const int mid = L - first - last, n_mid = S - 2;
    for (int i = 0; i < n_mid; i++) sp.blocks[1 + i] = mid / n_mid + (i < mid % n_mid ? 1 : 0);
    return sp;
}

/* ---- FLOPs ---- */

double km_model_flops_per_token(const km_config *c) {
    const double N = (double)km_params_matmul(c);
    const double attn = 12.0 * c->n_blocks * c->n_heads * c->head_dim * (double)c->seq_len;
    return 6.0 * N + attn;
}

double km_model_flops_per_token_compressed(const km_config *c, const km_boundary *b, int n_stages) {
    const int boundaries = n_stages > 1 ? n_stages - 1 : 0;
    return km_model_flops_per_token(c) + 6.0 * boundaries * (double)km_params_boundary(c, b);
}

const char *km_task_name(km_task t) {
    switch (t) {
    case KM_TASK_FORWARD: return "forward";
    case KM_TASK_BACKWARD: return "backward";
    case KM_TASK_BACKWARD_RECOMPUTE: return "backward_recompute";
    case KM_TASK_LAST_FUSED: return "last_fused";
    case KM_TASK_OPTIMIZER: return "optimizer";
    case KM_TASK_KINDS: break;
    }
    return "?";
}

/* F of the convention above. */
static double stage_forward_flops(const km_config *c, const km_split *sp, const km_boundary *b,
                                  int s, int64_t n_tokens) {
    const double n = (double)n_tokens;
    const double matmul = 2.0 * (double)km_params_stage_matmul(c, sp, b, s) * n;
    const double attn_per_block =
        2.0 * 2.0 * c->n_heads * c->head_dim * (double)c->seq_len * n / 2.0;
    return matmul + sp->blocks[s] * attn_per_block;
}

double km_task_flops(const km_config *c, const km_split *sp, const km_boundary *b, int s, km_task t,
                     int64_t n_tokens) {
    if (!stage_ok(sp, s)) return -1.0;
    switch (t) {
    case KM_TASK_FORWARD: return stage_forward_flops(c, sp, b, s, n_tokens);
    case KM_TASK_BACKWARD: return 2.0 * stage_forward_flops(c, sp, b, s, n_tokens);
    case KM_TASK_BACKWARD_RECOMPUTE:
    case KM_TASK_LAST_FUSED: return 3.0 * stage_forward_flops(c, sp, b, s, n_tokens);
    case KM_TASK_OPTIMIZER:
        return (double)KM_OPTIMIZER_FLOPS_PER_PARAM * (double)km_params_stage(c, sp, b, s);
    case KM_TASK_KINDS: break;
    }
    return -1.0;
}

/* ---- activation bytes ---- */

int64_t km_activation_bytes_raw(const km_config *c, int64_t n_tokens) {
    return n_tokens * c->d_model * c->dtype_bytes;
}

int64_t km_activation_bytes(const km_config *c, const km_boundary *b, int64_t n_tokens) {
    switch (b->method) {
    case KM_COMP_RESBM:
    case KM_COMP_LINEAR: return n_tokens * b->k * c->dtype_bytes;
    case KM_COMP_INT8: return n_tokens * c->d_model + n_tokens * 4;
    case KM_COMP_NONE: break;
    }
    return km_activation_bytes_raw(c, n_tokens);
}
