/* kernels/stage.h: one pipeline stage, what a peer of the swarm does to a microbatch.
 *
 * A stage holds a contiguous range of transformer blocks and, where present, the token
 * embedding (stage 0), the final RMSNorm + LM head + cross-entropy (the last stage), the
 * decoder of the compressed boundary before it and the encoder of the boundary after it.
 * It is written once against the backend table (backend.h), so it runs on the CPU
 * reference and on CUDA alike; all buffers it is handed are backend memory.
 *
 * Per block: x -> RMSNorm -> fused QKV GEMM -> RoPE -> causal GQA attention -> output
 * projection -> + x; -> RMSNorm -> fused gate/up GEMM -> SwiGLU -> down projection -> +.
 * Weights are stored [out, in] row-major (y = x W^T), as PyTorch's nn.Linear.
 *
 * Parameters. All of the stage's parameters live in ONE flat fp32 master buffer (so the
 * DiLoCo merge can work on a flat view and on contiguous partitions of it), with a flat
 * fp32 gradient buffer and the optimizer moments m, v of the same length. The forward
 * and backward read a working copy in the backend's activation type: the very same
 * buffer when that type is fp32, else a converted copy refreshed after every optimizer
 * step and by ks_params_changed. Tensors, in buffer order (names are global, so the
 * same tensor has the same name and initial value however the model is split):
 *   boundary<i>.dec.w3 [hidden,k], .dec.w4 [d,hidden]      (ResBM decoder, i = first block)
 *   boundary<i>.dec.wd [d,k]                                (linear decoder)
 *   embedding [vocab,d]                                     (stage 0)
 *   block<j>.attn_norm [d], .wqkv [(nh+2nkv)hd, d], .wo [d, nh hd],
 *   block<j>.mlp_norm [d], .w_gate_up [2 ffn, d], .w_down [d, ffn]
 *   final_norm [d], lm_head [vocab,d]                       (last stage)
 *   boundary<i>.enc.norm [d], .enc.w1 [hidden,d], .enc.w2 [k,hidden]  (ResBM encoder,
 *   boundary<i>.enc.we [k,d]                                 i = last block + 1; linear)
 * Initialisation (deterministic: each tensor draws from its own stream seeded by the
 * stage seed and the tensor's name): norms 1; matrices normal(0, 0.02), the output
 * projections wo and w_down scaled by 1/sqrt(2 n_blocks of the model); ResBM W1, W3
 * normal(0, 0.02) and the output projections W2, W4 ZERO, so a fresh ResBM boundary is
 * exactly the identity path x' = pad(x[:, :k]) and learns its corrections from there;
 * linear bottleneck W_e normal(0, 1/sqrt(d)) and W_d = W_e^T (a near-orthogonal
 * projection onto a random k-dimensional subspace, so x' starts as a sensible
 * approximation of x; the two are trained independently afterwards).
 *
 * Boundaries (SPEC §3.2), x the d-wide residual stream, y what crosses the network:
 *   NONE    y = x (d wide)
 *   RESBM   encoder y  = x[:, :k] + W2 silu(W1 RMSNorm(x))          (k wide)
 *           decoder x' = pad(y, d) + W4 silu(W3 y)
 *   LINEAR  encoder y  = W_e x, decoder x' = W_d y                   (k wide, no identity)
 *   INT8    y = per-row symmetric int8 of x plus fp32 row scales; x' = dequant(y). The
 *           backward treats the quantiser as the identity (straight-through estimator),
 *           and the gradient sent back is quantised to int8 the same way.
 * The gradient crossing back has the same format as the activation. ks_wire describes
 * the buffers: mem_bytes in backend memory (activation type; fp32 on the CPU), and
 * wire_bytes, the bytes on the network in the model's dtype (km_activation_bytes).
 *
 * Microbatches: N = B sequences × T = seq_len tokens. Two ways to run the backward:
 *   recompute = 1  (IOTA's way) the forward keeps nothing; the backward is handed the
 *                  stage input again (the caller's activation cache) and recomputes the
 *                  forward before going back. One scratch set; `slot` is ignored.
 *   recompute = 0  the forward keeps its activations in slot `slot` (0 <= slot < slots,
 *                  fixed at creation), together with a copy of its input; the backward
 *                  of that slot uses them (its `input` argument may be NULL).
 * Backward ADDS parameter gradients into the flat gradient buffer (accumulation over
 * microbatches; ks_zero_grad clears it) and WRITES the gradient for the previous stage.
 */
#ifndef KERNELS_STAGE_H
#define KERNELS_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/backend.h"
#include "kernels/model.h"

typedef struct {
    km_config model;
    int first_block;   /* global index of the stage's first block */
    int n_blocks;      /* blocks held (may be 0) */
    int has_embedding; /* stage 0: input is I tokens[N] */
    int has_head;      /* last stage: final norm, LM head, loss */
    km_boundary in;    /* boundary before the stage (NONE for stage 0) */
    km_boundary out;   /* boundary after the stage (NONE for the last stage) */
    int batch;         /* B sequences per microbatch; N = batch × model.seq_len */
    int recompute;     /* 1: recompute in the backward; 0: keep activations per slot */
    int slots;         /* recompute = 0: microbatches in flight at once (>= 1) */
    uint64_t seed;     /* initialisation seed (the same for every stage of a model) */
} ks_stage_config;

typedef struct ks_stage ks_stage;

/* One named parameter tensor: elements [offset, offset + rows·cols) of the flat buffers. */
typedef struct {
    char name[48];
    size_t offset;
    int rows, cols; /* a vector has rows = 1 */
} ks_tensor;

/* ---- wire formats ---- */
typedef enum {
    KS_WIRE_TOKENS = 0, /* I tokens[N] (stage 0's input) */
    KS_WIRE_ACT,        /* A [N, width], width = d (NONE) or k (RESBM, LINEAR) */
    KS_WIRE_INT8        /* Q [N, d], then F scales[N] at byte scale_offset */
} ks_wire_kind;

typedef struct {
    ks_wire_kind kind;
    int rows, width;     /* N and elements per row */
    size_t mem_bytes;    /* size of the buffer in backend memory */
    size_t scale_offset; /* INT8: byte offset of the row scales (16-byte aligned) */
    int64_t wire_bytes;  /* bytes on the network in the model's dtype */
} ks_wire;

/* The buffer crossing boundary b for n_tokens tokens, with activations of type act. */
ks_wire ks_wire_format(const km_config *c, const km_boundary *b, kb_dtype act, int n_tokens);
/* What the stage takes in (tokens for stage 0) and puts out (undefined for the last
 * stage: kind KS_WIRE_ACT with mem_bytes 0). Gradients use the same formats. */
ks_wire ks_stage_input_wire(const ks_stage *st);
ks_wire ks_stage_output_wire(const ks_stage *st);

/* ---- life cycle ---- */
/* NULL with a message in err (naming the field) if the configuration is invalid.
 * Allocation failures abort (backend.h). Parameters are initialised from cfg->seed. */
ks_stage *ks_stage_new(kb_backend *be, const ks_stage_config *cfg, char *err, size_t errlen);
void ks_stage_free(ks_stage *st);
const ks_stage_config *ks_stage_get_config(const ks_stage *st);
int ks_stage_tokens(const ks_stage *st); /* N = batch × seq_len */

/* ---- parameters ---- */
size_t ks_stage_param_count(const ks_stage *st);
float *ks_stage_params(ks_stage *st); /* F master [count] */
float *ks_stage_grads(ks_stage *st);  /* F [count] */
float *ks_stage_adam_m(ks_stage *st); /* F [count] */
float *ks_stage_adam_v(ks_stage *st); /* F [count] */
int ks_stage_n_tensors(const ks_stage *st);
const ks_tensor *ks_stage_tensor(const ks_stage *st, int i);
/* The tensor of that name, or NULL. */
const ks_tensor *ks_stage_find_tensor(const ks_stage *st, const char *name);
/* Call after changing the master parameters from outside (merge, checkpoint load):
 * refreshes the working copy (nothing to do when the activation type is fp32). */
void ks_params_changed(ks_stage *st);

/* ---- compute ---- */
/* Stage forward (not for the last stage): input in the format of ks_stage_input_wire,
 * output in that of ks_stage_output_wire. */
void ks_forward(ks_stage *st, int slot, const void *input, void *output);
/* Backward of a forward (not for the last stage): dout is the gradient of the output
 * (output format), dinput receives the gradient of the input (input format; NULL to
 * skip, and ignored for stage 0). input: see recompute above. */
void ks_backward(ks_stage *st, int slot, const void *input, const void *dout, void *dinput);
/* Last stage: forward, mean cross-entropy over the N tokens against targets I[N]
 * (returned in *loss), and backward of that mean, in one go. dinput as above. */
void ks_last_step(ks_stage *st, const void *input, const int32_t *targets, float *loss,
                  void *dinput);
/* Last stage, forward and loss only (evaluation); no gradient is touched. */
float ks_last_loss(ks_stage *st, const void *input, const int32_t *targets);

/* ---- optimizer ---- */
void ks_zero_grad(ks_stage *st);
double ks_grad_norm(ks_stage *st); /* L2 norm of the flat gradient */
/* Multiplies the gradient by clip_scale (1 = no clipping; see ko_clip_scale), takes one
 * Adam-family step with the coefficients c over the whole flat buffer (weight decay on
 * every parameter), and refreshes the working copy. */
void ks_optimizer_step(ks_stage *st, const kb_adam_coef *c, float clip_scale);

/* ---- diagnostics ---- */
/* The d-wide residual stream at the end of the stage's blocks (before the encoder) from
 * the last forward in that slot (A [N,d], backend memory; valid until the next forward
 * that uses the slot). */
const void *ks_residual_out(const ks_stage *st, int slot);
/* The d-wide residual entering the stage's first block (the decoder's output) from the
 * last forward in that slot. */
const void *ks_residual_in(const ks_stage *st, int slot);
/* Relative reconstruction error of the input boundary, ||x' - x|| / ||x||, with x' the
 * decoded input of the last forward in that slot and x (A [N,d]) the sender's residual
 * before its encoder (ks_residual_out of the sending stage). */
double ks_recon_error(ks_stage *st, int slot, const void *x_sender);

#endif
