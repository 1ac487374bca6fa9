/* kernels/stage_internal.h: the inside of a ks_stage, shared by the stage_*.c files.
 *
 *   stage.c           creation, parameter table and initialisation, optimizer, accessors
 *   stage_block.c     one transformer block, forward and backward
 *   stage_boundary.c  boundary encoders/decoders (ResBM, linear, int8, none), wire formats
 *   stage_run.c       ks_forward / ks_backward / ks_last_step: the composition
 *
 * Activations of one microbatch live in a ks_acts set: the residual stream at every block
 * boundary, each block's intermediates, the boundary and head intermediates. In
 * recompute mode there is one set; in keep mode one per slot. Gradient scratch (one of
 * each, reused block after block) is shared by all sets.
 */
#ifndef KERNELS_STAGE_INTERNAL_H
#define KERNELS_STAGE_INTERNAL_H

#include "kernels/stage.h"
#include "kernels/kcheck.h"

/* Aborts with file:line on a misuse of the stage API. */
#define KS_CHECK(cond, msg)                                                                        \
    do {                                                                                           \
        if (!(cond)) k_abort_at(__FILE__, __LINE__, (msg));                                        \
    } while (0)

/* Offsets (elements into the flat buffers) of one block's tensors. */
typedef struct {
    size_t attn_norm, wqkv, wo, mlp_norm, w_gate_up, w_down;
} ks_block_params;

/* Offsets of a boundary half's tensors (unused ones stay 0). */
typedef struct {
    size_t norm, w1, w2; /* ResBM encoder: norm, W1, W2; decoder: W3 in w1, W4 in w2 */
    size_t wlin;         /* linear: W_e (encoder) or W_d (decoder) */
} ks_boundary_params;

typedef struct {
    void *ln1, *qkv, *att, *xmid, *ln2, *gu, *sw; /* A */
    float *rstd1, *rstd2, *lse;                   /* F */
} ks_block_acts;

typedef struct {
    void *input;         /* keep mode: the slot's copy of the input; NULL in recompute mode */
    void **x;            /* [n_blocks + 1] residual stream A[N,d]; x[0] enters block 0 */
    ks_block_acts *blk;  /* [n_blocks] */
    void *dec_h, *dec_s; /* ResBM decoder: W3 y and silu of it, A[N,hidden] */
    void *enc_n, *enc_h, *enc_s; /* ResBM encoder: RMSNorm(x), W1 of it, silu */
    float *enc_rstd;
    void *head_n; /* last stage: final RMSNorm(x) */
    float *head_rstd;
} ks_acts;

/* Gradient scratch (A unless noted), reused by every block. */
typedef struct {
    void *dx;           /* [N,d] the gradient flowing down the residual stream */
    void *dln;          /* [N,d] gradient of a norm's output */
    void *dsw, *dgu;    /* [N,ffn], [N,2 ffn] */
    void *datt, *dqkv;  /* [N, nh hd], [N, (nh+2nkv) hd] */
    void *ds, *dh;      /* [N, hidden] boundary MLPs (max of both boundaries) */
    void *wire_out;     /* recompute with a ResBM encoder: the recomputed output */
    void *logits;       /* [N,V] last stage; its gradient overwrites it */
    float *losses;      /* F [N] */
    float *host_losses; /* host [N] */
} ks_grads_scratch;

struct ks_stage {
    kb_backend *be;
    ks_stage_config cfg;
    int N, T, qkv_width, att_width;
    size_t asz; /* bytes per activation element */
    ks_wire in_wire, out_wire;

    ks_tensor *tensors;
    int n_tensors;
    size_t n_params;
    ks_block_params *blocks;
    ks_boundary_params dec, enc;
    size_t embedding, final_norm, lm_head;

    float *params, *grads, *m, *v; /* F [n_params] */
    void *work;                    /* A working weights (== params when A is fp32) */

    ks_acts *sets;
    int n_sets;
    ks_grads_scratch g;
};

/* Working weight / gradient pointer of the tensor at element offset off. */
static inline void *ks_w(const ks_stage *st, size_t off) {
    return (char *)st->work + off * st->asz;
}
static inline float *ks_g(const ks_stage *st, size_t off) { return st->grads + off; }

/* stage_block.c: block b (0-based within the stage) on the activations of set a.
 * Forward reads a->x[b] and writes a->x[b+1]; backward turns g.dx from the gradient of
 * x[b+1] into that of x[b] and adds the block's parameter gradients. */
void ks_block_forward(ks_stage *st, ks_acts *a, int b);
void ks_block_backward(ks_stage *st, ks_acts *a, int b);

/* stage_boundary.c */
/* Input side: wire -> a->x[0] (decoder), and gradient g.dx of x[0] -> dinput wire (may
 * be NULL) plus the decoder's parameter gradients. in is the wire input. */
void ks_decode_forward(ks_stage *st, ks_acts *a, const void *in);
void ks_decode_backward(ks_stage *st, ks_acts *a, const void *in, void *dinput);
/* Output side: a->x[n_blocks] -> wire out (encoder), and wire gradient dout -> g.dx
 * (written) plus the encoder's parameter gradients. */
void ks_encode_forward(ks_stage *st, ks_acts *a, void *out);
void ks_encode_backward(ks_stage *st, ks_acts *a, const void *dout);

#endif
