/* kernels/model.h: model configuration, pipeline split, parameter and FLOP accounting.
 *
 * A Llama-3.2-family decoder: token embedding, n_blocks × (RMSNorm, GQA attention with
 * RoPE, residual, RMSNorm, SwiGLU MLP, residual), final RMSNorm, untied LM head. No
 * biases. A pipeline splits the blocks over stages; stage 0 also holds the embedding,
 * the last stage the final norm and the LM head (and computes the loss). At every
 * stage boundary an optional compressor (ResBM, a plain linear bottleneck, or int8)
 * shrinks the activation that crosses the network.
 *
 * Two FLOP conventions, kept apart on purpose:
 *   - model FLOPs per token (for MFU; SPEC §5, PaLM appendix B):
 *       6 * N + 12 * L * n_heads * head_dim * seq
 *     where N counts every parameter that takes part in a matmul (all but the input
 *     embedding). Recompute is excluded.
 *   - hardware FLOPs of a task (for modeled durations): what the kernels really execute,
 *     matmuls at 2 FLOPs per multiply-add, causal attention at half the full score
 *     matrix, recompute included when the task recomputes. Elementwise work is not
 *     counted (it is memory-bound and covered by the kernel-efficiency factor).
 */
#ifndef KERNELS_MODEL_H
#define KERNELS_MODEL_H

#include <stdint.h>

#define KM_MAX_STAGES 256

typedef enum {
    KM_COMP_NONE = 0,  /* the full d-wide residual crosses the network */
    KM_COMP_RESBM,     /* ResBM: identity on the first k channels + SiLU MLP corrections */
    KM_COMP_LINEAR,    /* plain linear bottleneck d -> k -> d, no identity path */
    KM_COMP_INT8       /* int8 per-row quantisation of the d-wide activation */
} km_compression;

typedef struct {
    int d_model;
    int n_blocks;
    int n_heads;
    int n_kv_heads;
    int head_dim;       /* d_model / n_heads for Llama */
    int ffn;            /* SwiGLU hidden width */
    int vocab;
    int seq_len;        /* tokens per sequence */
    double rope_theta;
    double norm_eps;
    int dtype_bytes;    /* bytes per element on the wire and in the model (bf16: 2) */
} km_config;

typedef struct {
    km_compression method;
    int k;              /* bottleneck width (ResBM, linear); ratio = d_model / k */
    int hidden;         /* hidden width of the ResBM SiLU MLPs */
} km_boundary;

typedef struct {
    int n_stages;
    int blocks[KM_MAX_STAGES]; /* blocks per stage, summing to n_blocks */
} km_split;

/* The Orion-100B configuration (IOTA's LLAMA32_CONFIG_100B; SPEC §3.1). */
km_config km_orion_100b(void);

/* 0 if consistent; otherwise fills msg with the first problem (naming the field). */
int km_config_validate(const km_config *c, char *msg, int msglen);
int km_split_validate(const km_config *c, const km_split *s, char *msg, int msglen);
/* Even split with the first and last stages lighter (IOTA's balancer shape). */
km_split km_split_balanced(const km_config *c, int n_stages);

/* ---- parameters ---- */
int64_t km_params_block(const km_config *c);
int64_t km_params_embedding(const km_config *c);  /* vocab * d */
int64_t km_params_head(const km_config *c);       /* final norm + LM head */
int64_t km_params_total(const km_config *c);      /* embedding + blocks + head */
int64_t km_params_matmul(const km_config *c);     /* N of the MFU formula: total - embedding */
/* Parameters of the compressor on one boundary (encoder + decoder). */
int64_t km_params_boundary(const km_config *c, const km_boundary *b);
/* Parameters held by stage s (blocks, embedding/head where present, the encoder on its
 * output boundary and the decoder on its input boundary). */
int64_t km_params_stage(const km_config *c, const km_split *sp, const km_boundary *b, int s);

/* ---- FLOPs ---- */
double km_model_flops_per_token(const km_config *c);

typedef enum {
    KM_TASK_FORWARD = 0,        /* stage forward, intermediates discarded */
    KM_TASK_BACKWARD,           /* backward with kept activations */
    KM_TASK_BACKWARD_RECOMPUTE, /* recompute the forward, then backward */
    KM_TASK_LAST_FUSED,         /* last stage: forward + loss + backward in one go */
    KM_TASK_OPTIMIZER,          /* one inner optimizer step over the stage's parameters */
    KM_TASK_KINDS
} km_task;

const char *km_task_name(km_task t);

/* Hardware FLOPs of one task of stage s on a microbatch of n_tokens tokens
 * (n_tokens a multiple of seq_len). */
double km_task_flops(const km_config *c, const km_split *sp, const km_boundary *b, int s,
                     km_task t, int64_t n_tokens);

/* Bytes of the activation (or its gradient) crossing boundary after stage s, for
 * n_tokens tokens: raw d-wide, or compressed by b. */
int64_t km_activation_bytes_raw(const km_config *c, int64_t n_tokens);
int64_t km_activation_bytes(const km_config *c, const km_boundary *b, int64_t n_tokens);

#endif
