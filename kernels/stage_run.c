/* kernels/stage_run.c: the stage's computation, composed from the block and boundary
 * pieces.
 *
 *   forward       input -> decoder (or embedding) -> blocks -> encoder -> output
 *   backward      [recompute: the forward again from the input] encoder' -> blocks'
 *                 (last to first) -> decoder' (or embedding') -> dinput
 *   last step     input -> decoder -> blocks -> final norm -> LM head -> cross-entropy
 *                 (mean over the N tokens), then the same chain backwards
 */
#include "kernels/stage_internal.h"

static ks_acts *acts_of(const ks_stage *st, int slot) {
    if (st->cfg.recompute) return &st->sets[0];
    KS_CHECK(slot >= 0 && slot < st->n_sets, "stage: slot out of range");
    return &st->sets[slot];
}

static void forward_blocks(ks_stage *st, ks_acts *a, const void *in) {
    ks_decode_forward(st, a, in);
    for (int b = 0; b < st->cfg.n_blocks; b++) ks_block_forward(st, a, b);
}

/* g.dx holds the gradient of the residual after the last block. */
static void backward_blocks(ks_stage *st, ks_acts *a, const void *in, void *dinput) {
    for (int b = st->cfg.n_blocks - 1; b >= 0; b--) ks_block_backward(st, a, b);
    ks_decode_backward(st, a, in, dinput);
}

void ks_forward(ks_stage *st, int slot, const void *input, void *output) {
    KS_CHECK(!st->cfg.has_head, "ks_forward: the last stage runs ks_last_step");
    KS_CHECK(input != NULL && output != NULL, "ks_forward: NULL input or output");
    ks_acts *a = acts_of(st, slot);
    const void *in = input;
    if (!st->cfg.recompute) {
        st->be->copy(st->be, a->input, input, st->in_wire.mem_bytes);
        in = a->input;
    }
    forward_blocks(st, a, in);
    ks_encode_forward(st, a, output);
}

void ks_backward(ks_stage *st, int slot, const void *input, const void *dout, void *dinput) {
    KS_CHECK(!st->cfg.has_head, "ks_backward: the last stage runs ks_last_step");
    KS_CHECK(dout != NULL, "ks_backward: NULL output gradient");
    ks_acts *a = acts_of(st, slot);
    const void *in;
    if (st->cfg.recompute) {
        KS_CHECK(input != NULL, "ks_backward: recompute needs the stage input");
        in = input;
        forward_blocks(st, a, in);
        if (st->cfg.out.method == KM_COMP_RESBM) /* the encoder's intermediates */
            ks_encode_forward(st, a, st->g.wire_out);
    } else {
        in = a->input;
    }
    ks_encode_backward(st, a, dout);
    backward_blocks(st, a, in, dinput);
}

/* Final norm, logits and per-token losses (and their gradient if dlogits); returns the
 * mean loss. */
static float head_forward(ks_stage *st, ks_acts *a, const int32_t *targets, int want_grad) {
    kb_backend *be = st->be;
    const kb_dtype A = be->act;
    const int N = st->N, d = st->cfg.model.d_model, V = st->cfg.model.vocab;
    be->rmsnorm_fwd(be, a->head_n, a->head_rstd, a->x[st->cfg.n_blocks], ks_w(st, st->final_norm),
                    N, d, (float)st->cfg.model.norm_eps);
    be->gemm(be, 0, 1, N, V, d, 1.0f, a->head_n, A, d, ks_w(st, st->lm_head), A, d, 0.0f,
             st->g.logits, A, V);
    be->crossentropy(be, st->g.losses, want_grad ? st->g.logits : NULL, st->g.logits, targets, N, V,
                     1.0f / (float)N);
    be->download(be, st->g.host_losses, st->g.losses, KB_F32, (size_t)N);
    double sum = 0.0;
    for (int r = 0; r < N; r++) sum += st->g.host_losses[r];
    return (float)(sum / N);
}

/* g.logits holds dL/dlogits; leaves dL/dx (after the last block) in g.dx. */
static void head_backward(ks_stage *st, ks_acts *a) {
    kb_backend *be = st->be;
    ks_grads_scratch *g = &st->g;
    const kb_dtype A = be->act, F = KB_F32;
    const int N = st->N, d = st->cfg.model.d_model, V = st->cfg.model.vocab;
    be->gemm(be, 0, 0, N, d, V, 1.0f, g->logits, A, V, ks_w(st, st->lm_head), A, d, 0.0f, g->dln, A,
             d);
    be->gemm(be, 1, 0, V, d, N, 1.0f, g->logits, A, V, a->head_n, A, d, 1.0f, ks_g(st, st->lm_head),
             F, d);
    be->zero(be, g->dx, (size_t)N * d * st->asz);
    be->rmsnorm_bwd(be, g->dx, ks_g(st, st->final_norm), g->dln, a->x[st->cfg.n_blocks],
                    ks_w(st, st->final_norm), a->head_rstd, N, d);
}

void ks_last_step(ks_stage *st, const void *input, const int32_t *targets, float *loss,
                  void *dinput) {
    KS_CHECK(st->cfg.has_head, "ks_last_step: the stage has no head");
    KS_CHECK(input != NULL && targets != NULL, "ks_last_step: NULL input or targets");
    ks_acts *a = &st->sets[0];
    forward_blocks(st, a, input);
    float l = head_forward(st, a, targets, 1);
    if (loss) *loss = l;
    head_backward(st, a);
    backward_blocks(st, a, input, dinput);
}

float ks_last_loss(ks_stage *st, const void *input, const int32_t *targets) {
    KS_CHECK(st->cfg.has_head, "ks_last_loss: the stage has no head");
    KS_CHECK(input != NULL && targets != NULL, "ks_last_loss: NULL input or targets");
    ks_acts *a = &st->sets[0];
    forward_blocks(st, a, input);
    return head_forward(st, a, targets, 0);
}

const void *ks_residual_out(const ks_stage *st, int slot) {
    return acts_of(st, slot)->x[st->cfg.n_blocks];
}

const void *ks_residual_in(const ks_stage *st, int slot) { return acts_of(st, slot)->x[0]; }
