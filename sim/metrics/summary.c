/* sim/metrics/summary.c: the run summary: its field table and derived figures (see summary.h). */
#include "sim/metrics/summary.h"

#include <math.h>
#include <string.h>

static const char G_RUN[] = "Run & accounting";
static const char G_MFU[] = "Throughput & MFU";
static const char G_UTIL[] = "Utilisation & phases";
static const char G_SHARE[] = "GPU shares";
static const char G_NET[] = "Network & compression";
static const char G_COST[] = "Cost";
static const char G_LOSS[] = "Loss";

const char *const sim_summary_groups[] = {G_RUN, G_MFU, G_UTIL, G_SHARE, G_NET, G_COST, G_LOSS};
const size_t sim_summary_n_groups = sizeof sim_summary_groups / sizeof sim_summary_groups[0];

#define I32(m, u, g, d) SIM_I32(sim_summary, m, u, g, d)
#define F64(m, u, g, d) SIM_F64(sim_summary, m, u, g, d)

const sim_field sim_summary_fields[] = {
    I32(complete, "flag", G_RUN, "1 if the run ended normally; 0 if it was interrupted or failed"),
    I32(cycles, "1", G_RUN, "completed cycles (training phase + synchronisation)"),
    F64(sim_time_s, "s", G_RUN, "simulated wall-clock time from start to end of the run"),
    F64(wall_time_s, "s", G_RUN, "host (real) time the simulator took"),
    F64(tokens_trained, "tokens", G_RUN,
        "tokens of microbatches whose backward completed at stage 0"),
    F64(microbatches_injected, "1", G_RUN, "microbatches that entered stage 0"),
    F64(microbatches_trained, "1", G_RUN, "microbatches whose backward completed at stage 0"),
    F64(microbatches_lost, "1", G_RUN,
        "microbatches dropped (activation timeout, peer down); their work is wasted"),
    F64(microbatches_in_flight, "1", G_RUN,
        "microbatches still in the pipeline at the end; injected = trained + lost + in flight"),
    F64(wasted_flops, "FLOP", G_RUN, "hardware FLOPs spent on microbatches that were lost"),

    F64(tokens_per_s, "tokens/s", G_MFU, "tokens trained / simulated time"),
    F64(tokens_per_s_training, "tokens/s", G_MFU, "tokens trained / time spent in training phases"),
    F64(model_flops_per_token, "FLOP/token", G_MFU,
        "6*N + 12*L*heads*head_dim*seq (PaLM App. B); N = parameters in matmuls (no input "
        "embedding); recompute excluded"),
    F64(peak_flops_total, "FLOP/s", G_MFU,
        "sum of the peak FLOP/s of every peer's GPUs (the whole fleet; MFU divides by the "
        "devices present at each moment)"),
    F64(mfu_training, "fraction", G_MFU,
        "MFU over the training phases: model FLOP/s / sum of peak FLOP/s of the devices present"),
    F64(mfu_overall, "fraction", G_MFU,
        "MFU over the whole wall-clock (sync phases and outages included)"),
    F64(mfu_best_window, "fraction", G_MFU, "best MFU sustained over any window of mfu_window_s"),
    F64(mfu_window_s, "s", G_MFU, "length of the best-window MFU window (Orion: 6 h)"),
    F64(mfu_colocated, "fraction", G_MFU,
        "MFU of the same fleet with an ideal network (same engine, zero latency, no bandwidth "
        "limit)"),
    F64(speed_vs_colocated, "fraction", G_MFU, "speed vs co-located = mfu_overall / mfu_colocated"),

    F64(utilisation, "fraction", G_UTIL,
        "training-phase time / total time (Orion: 100.2 / (100.2 + 22.2) = 81.8%)"),
    F64(time_training_s, "s", G_UTIL, "simulated time in training phases"),
    F64(time_uploading_s, "s", G_UTIL, "simulated time in weights-uploading phases"),
    F64(time_merging_s, "s", G_UTIL, "simulated time in merging phases"),
    F64(time_other_s, "s", G_UTIL, "simulated time in no phase above (start-up, rejoin, drain)"),
    F64(mean_training_phase_s, "s", G_UTIL, "mean length of a training phase"),
    F64(mean_sync_phase_s, "s", G_UTIL,
        "mean length of a synchronisation (uploading + merging) per cycle"),

    F64(share_compute, "fraction", G_SHARE,
        "fleet GPU time in forward/backward compute, recompute excluded"),
    F64(share_recompute, "fraction", G_SHARE,
        "fleet GPU time recomputing the forward inside backward"),
    F64(share_optimizer, "fraction", G_SHARE, "fleet GPU time in inner optimizer steps"),
    F64(share_merge, "fraction", G_SHARE,
        "fleet GPU time merging partitions (averaging + outer optimizer)"),
    F64(share_idle, "fraction", G_SHARE, "fleet GPU time up with no work queued"),
    F64(share_waiting, "fraction", G_SHARE,
        "fleet GPU time up but blocked on the network (uploads, downloads, quorum)"),
    F64(share_down, "fraction", G_SHARE,
        "fleet GPU time of peers that are down (churn); the seven shares sum to 1"),

    F64(activation_bytes_raw, "B", G_NET,
        "activation per hop per microbatch before compression (tokens * d_model * 2 B)"),
    F64(activation_bytes_wire, "B", G_NET,
        "activation per hop per microbatch as sent (after ResBM / quantisation)"),
    F64(compression_ratio, "x", G_NET, "activation_bytes_raw / activation_bytes_wire"),

    F64(cost_usd, "USD", G_COST, "sum over peers of price per hour * hours present"),
    F64(usd_per_hour, "USD/h", G_COST, "cost_usd / simulated hours"),
    F64(usd_per_mtok, "USD/Mtok", G_COST, "cost_usd / (tokens_trained / 1e6)"),

    F64(loss_final, "nats/token", G_LOSS,
        "training loss, mean over the final window (NaN unless live)"),
    F64(val_loss_final, "nats/token", G_LOSS, "validation loss at the end (NaN unless live)"),
    F64(resbm_loss_gap, "nats/token", G_LOSS,
        "ResBM loss = loss of the compressed model - loss of the uncompressed baseline on the "
        "same tokens, mean over a final window (NaN unless set)"),
    F64(boundary_recon_error, "fraction", G_LOSS,
        "mean relative reconstruction error ||x - dec(enc(x))|| / ||x|| over stage boundaries "
        "(NaN unless live)"),
    F64(mfu_best_training_window, "fraction", G_MFU,
        "best MFU over a window of mfu_window_s with every peer up throughout, over the window's "
        "training-phase time only (Orion's \"38% peak sustained over 6 h without churn\"); NaN "
        "when no window qualifies"),
    F64(speed_vs_colocated_training, "fraction", G_MFU,
        "mfu_training / mfu_colocated: the report's \"speed of the same GPUs co-located\" "
        "(30.8% / 65% = 38% / 82% = ~47% co-located)"),
};
const size_t sim_summary_n_fields = sizeof sim_summary_fields / sizeof sim_summary_fields[0];

_Static_assert(sizeof(sim_summary) == 2 * sizeof(int32_t) + 44 * sizeof(double),
               "sim_summary must have no padding: keep the int32 fields in pairs");

void sim_summary_init(sim_summary *s) {
    memset(s, 0, sizeof *s);
    s->loss_final = NAN;
    s->val_loss_final = NAN;
    s->resbm_loss_gap = NAN;
    s->boundary_recon_error = NAN;
    s->mfu_best_training_window = NAN;
    s->speed_vs_colocated_training = NAN;
}

const sim_field *sim_summary_field(const char *name) {
    return sim_fields_find(sim_summary_fields, sim_summary_n_fields, name);
}

double sim_summary_get(const sim_summary *s, const sim_field *f) { return sim_field_get(s, f); }

void sim_summary_csv_header(FILE *out) {
    sim_fields_csv_header(out, sim_summary_fields, sim_summary_n_fields, 0);
    fputc('\n', out);
}

void sim_summary_csv_row(FILE *out, const sim_summary *s) {
    sim_fields_csv_row(out, sim_summary_fields, sim_summary_n_fields, s, 0);
    fputc('\n', out);
}
