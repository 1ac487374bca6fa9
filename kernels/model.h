/* kernels/model.h: model configuration, pipeline split, parameter and FLOP accounting.
 *
 * A Llama-3.2-family decoder: token embedding, n_blocks × (RMSNorm, GQA attention with
 * RoPE, residual, RMSNorm, SwiGLU MLP, residual), final RMSNorm, untied LM head. No
 * biases. A pipeline splits the blocks over stages; stage 0 also holds the embedding,
 * the last stage the final norm and the LM head (and computes the loss). At every
 * stage boundary an optional compressor (ResBM, a plain linear bottleneck, or int8)
 * shrinks the activation that crosses the network. Stage s holds the encoder of the
 * boundary after it (s < S-1) and the decoder of the boundary before it (s > 0).
 *
 * Parameter counts per block: q and o projections d·(n_heads·head_dim) each, k and v
 * d·(n_kv_heads·head_dim) each, SwiGLU gate/up/down 3·d·ffn, two RMSNorm weights d each.
 * Compressor parameters per boundary:
 *   ResBM   encoder = RMSNorm weight d + W1 d×hidden + W2 hidden×k,
 *           decoder = W3 k×hidden + W4 hidden×d
 *   linear  encoder d×k, decoder k×d
 *   int8    none
 *
 * Two FLOP conventions, kept apart on purpose:
 *   - model FLOPs per token (for MFU; SPEC §5, PaLM appendix B):
 *       6 * N + 12 * L * n_heads * head_dim * seq
 *     where N = total parameters - input embedding (km_params_matmul; the few RMSNorm
 *     weights are included, as PaLM counts every non-embedding parameter). The
 *     compressor is not part of N; km_model_flops_per_token_compressed adds it.
 *     Recompute is excluded.
 *   - hardware FLOPs of a task (for modeled durations): what the kernels really execute,
 *     matmuls at 2 FLOPs per multiply-add, causal attention at half the full score
 *     matrix, recompute included when the task recomputes. Elementwise work is not
 *     counted (it is memory-bound and covered by the kernel-efficiency factor), except
 *     the optimizer step, which is nothing but elementwise work and is counted at
 *     KM_OPTIMIZER_FLOPS_PER_PARAM per parameter. The exact rules are at the top of
 *     kernels/model.c.
 *
 * Balanced split (km_split_balanced): the embedding and the LM head each occupy
 * ceil(their parameters / block parameters) "block slots" of their stage (memory, not
 * compute, is what limits a stage: weights, gradients and optimizer state scale with
 * parameters; the embedding has no matmul at all). With c = ceil((blocks + slots of
 * both ends) / stages), the first and last stages get c minus their extra slots, the
 * middle stages share the rest as evenly as possible, the larger shares first. For
 * Orion (both ends 2 slots, c = 6) this is IOTA's [4,6×12,5,5,4].
 */
#ifndef KERNELS_MODEL_H
#define KERNELS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define KM_MAX_STAGES 256

/* Hardware FLOPs charged per parameter for one Adam-family step (see kernels/model.c). */
#define KM_OPTIMIZER_FLOPS_PER_PARAM 12

typedef enum {
    KM_COMP_NONE = 0, /* the full d-wide residual crosses the network */
    KM_COMP_RESBM,    /* ResBM: identity on the first k channels + SiLU MLP corrections */
    KM_COMP_LINEAR,   /* plain linear bottleneck d -> k -> d, no identity path */
    KM_COMP_INT8      /* int8 per-row quantisation of the d-wide activation */
} km_compression;

typedef struct {
    int d_model;
    int n_blocks;
    int n_heads;
    int n_kv_heads;
    int head_dim; /* d_model / n_heads for Llama */
    int ffn;      /* SwiGLU hidden width */
    int vocab;
    int seq_len; /* tokens per sequence */
    double rope_theta;
    double norm_eps;
    int dtype_bytes; /* bytes per element on the wire and in the model (bf16: 2) */
} km_config;

typedef struct {
    km_compression method;
    int k;      /* bottleneck width (ResBM, linear); ratio = d_model / k */
    int hidden; /* hidden width of the ResBM SiLU MLPs */
} km_boundary;

typedef struct {
    int n_stages;
    int blocks[KM_MAX_STAGES]; /* blocks per stage, summing to n_blocks */
} km_split;

/* The Orion-100B configuration (IOTA's LLAMA32_CONFIG_100B; SPEC §3.1). seq_len 800 is
 * an assumption: 8000 tokens per microbatch = 10 sequences × 800. */
km_config km_orion_100b(void);

/* 0 if consistent; otherwise fills msg with the first problem (naming the field) and
 * returns -1. msg may be NULL. */
int km_config_validate(const km_config *c, char *msg, size_t msglen);
int km_split_validate(const km_config *c, const km_split *s, char *msg, size_t msglen);
/* k and hidden are checked only where the method uses them (0 < k <= d_model,
 * hidden > 0 for ResBM). */
int km_boundary_validate(const km_config *c, const km_boundary *b, char *msg, size_t msglen);

/* Whole blocks a component of `params` parameters counts for in the balanced split:
 * ceil(params / km_params_block). */
int km_block_slots(const km_config *c, int64_t params);
/* Even split with the first and last stages lighter (IOTA's balancer shape; the rule is
 * in the comment at the top of this file). Needs 1 <= n_stages <= min(n_blocks,
 * KM_MAX_STAGES); otherwise returns a split with n_stages = 0. */
km_split km_split_balanced(const km_config *c, int n_stages);

/* ---- parameters ---- */
int64_t km_params_block(const km_config *c);
int64_t km_params_block_matmul(const km_config *c); /* a block without its two norms */
int64_t km_params_embedding(const km_config *c);    /* vocab * d */
int64_t km_params_head(const km_config *c);         /* final norm + LM head */
int64_t km_params_total(const km_config *c);        /* embedding + blocks + head */
int64_t km_params_matmul(const km_config *c);       /* N of the MFU formula: total - embedding */
/* Parameters of the compressor on one boundary (encoder + decoder), and of each half. */
int64_t km_params_boundary(const km_config *c, const km_boundary *b);
int64_t km_params_encoder(const km_config *c, const km_boundary *b);
int64_t km_params_decoder(const km_config *c, const km_boundary *b);
/* Parameters held by stage s (blocks, embedding/head where present, the encoder on its
 * output boundary and the decoder on its input boundary). -1 if s is out of range. */
int64_t km_params_stage(const km_config *c, const km_split *sp, const km_boundary *b, int s);
/* The part of them that is a matmul weight (no norms, no embedding). -1 if s is out of
 * range. */
int64_t km_params_stage_matmul(const km_config *c, const km_split *sp, const km_boundary *b, int s);

/* ---- FLOPs ---- */
double km_model_flops_per_token(const km_config *c);
/* The same with the compressors of the n_stages-1 boundaries added to N. */
double km_model_flops_per_token_compressed(const km_config *c, const km_boundary *b, int n_stages);

typedef enum {
    KM_TASK_FORWARD = 0,        /* stage forward, intermediates discarded */
    KM_TASK_BACKWARD,           /* backward with kept activations */
    KM_TASK_BACKWARD_RECOMPUTE, /* recompute the forward, then backward */
    KM_TASK_LAST_FUSED,         /* last stage: forward + loss + backward in one go */
    KM_TASK_OPTIMIZER,          /* one inner optimizer step over the stage's parameters */
    KM_TASK_KINDS
} km_task;

/* "forward", "backward", "backward_recompute", "last_fused", "optimizer"; "?" otherwise. */
const char *km_task_name(km_task t);

/* Hardware FLOPs of one task of stage s on a microbatch of n_tokens tokens
 * (n_tokens a multiple of seq_len; ignored by KM_TASK_OPTIMIZER). -1 if s or t is out
 * of range. */
double km_task_flops(const km_config *c, const km_split *sp, const km_boundary *b, int s, km_task t,
                     int64_t n_tokens);

/* Bytes of the activation (or its gradient) crossing boundary after stage s, for
 * n_tokens tokens: raw d-wide, or compressed by b (ResBM and linear: n·k·dtype_bytes;
 * int8: n·d one-byte values + n fp32 row scales). */
int64_t km_activation_bytes_raw(const km_config *c, int64_t n_tokens);
int64_t km_activation_bytes(const km_config *c, const km_boundary *b, int64_t n_tokens);

#endif
