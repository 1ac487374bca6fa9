/* sim/fit/fit_compare.c: published figures beside like-for-like simulated ones (see
 * fit_compare.h). */
#include "sim/fit/fit_compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/scenario/scenario.h"

/* ---- the simulated side of each figure ---------------------------------------------- */

static double ratio(double a, double b) { return b > 0 && !isnan(a) ? a / b : NAN; }

static double sim_utilisation(const fit_compare_sim *s) { return s->sum.utilisation; }
static double sim_training_min(const fit_compare_sim *s) {
    return s->sum.mean_training_phase_s / 60.0;
}
static double sim_sync_min(const fit_compare_sim *s) { return s->sum.mean_sync_phase_s / 60.0; }
static double sim_mfu(const fit_compare_sim *s) { return s->sum.mfu_training; }
static double sim_mfu_peak(const fit_compare_sim *s) { return s->mfu_training_best_window; }
static double sim_window_h(const fit_compare_sim *s) { return s->sum.mfu_window_s / 3600.0; }
static double sim_throughput(const fit_compare_sim *s) { return s->sum.tokens_per_s_training; }
static double sim_speed(const fit_compare_sim *s) {
    return ratio(s->sum.mfu_training, s->sum.mfu_colocated);
}
static double sim_speed_peak(const fit_compare_sim *s) {
    return ratio(s->mfu_training_best_window, s->sum.mfu_colocated);
}
static double sim_tokens(const fit_compare_sim *s) { return s->sum.tokens_trained; }
static double sim_duration_h(const fit_compare_sim *s) { return s->sum.sim_time_s / 3600.0; }
static double sim_cycles(const fit_compare_sim *s) { return s->sum.cycles; }
static double sim_peer_hour(const fit_compare_sim *s) {
    return ratio(s->sum.usd_per_hour, s->n_peers);
}
static double sim_replica_hour(const fit_compare_sim *s) {
    return ratio(s->sum.usd_per_hour, s->n_replicas);
}
static double sim_act_raw(const fit_compare_sim *s) {
    return s->sum.activation_bytes_raw > 0 ? s->sum.activation_bytes_raw / 1048576.0 : NAN;
}
static double sim_act_wire(const fit_compare_sim *s) {
    return s->sum.activation_bytes_wire > 0 ? s->sum.activation_bytes_wire / 1048576.0 : NAN;
}
static double sim_none(const fit_compare_sim *s) {
    (void)s;
    return NAN;
}

const fit_compare_fig fit_compare_figs[] = {
    {"utilisation", "utilisation", "training-phase time / total time", sim_utilisation},
    {"training_phase_min", "mean_training_phase_s / 60", "mean training phase, minutes",
     sim_training_min},
    {"sync_phase_min", "mean_sync_phase_s / 60", "mean uploading + merging per cycle, minutes",
     sim_sync_min},
    {"mfu", "mfu_training", "\"average training MFU\": MFU over the training phases only", sim_mfu},
    {"mfu_peak", "best churn-free training window",
     "best MFU over a window of mfu_window_s with every peer up, training-phase time only",
     sim_mfu_peak},
    {"mfu_peak_window_h", "mfu_window_s / 3600", "the window of the peak figure (a setting)",
     sim_window_h},
    {"throughput_tok_s", "tokens_per_s_training", "tokens trained / training-phase time",
     sim_throughput},
    {"speed_vs_colocated", "mfu_training / mfu_colocated",
     "training MFU over the MFU of the same GPUs on an ideal network", sim_speed},
    {"speed_vs_colocated_peak", "best window / mfu_colocated",
     "peak-window training MFU over the co-located MFU", sim_speed_peak},
    {"tokens", "tokens_trained", "tokens trained (an input of the replay: its stop target)",
     sim_tokens},
    {"duration_h", "sim_time_s / 3600", "simulated wall-clock, hours", sim_duration_h},
    {"cycles", "cycles", "completed cycles", sim_cycles},
    {"cost_per_peer_hour", "usd_per_hour / peers", "an input (device price)", sim_peer_hour},
    {"cost_per_replica_hour", "usd_per_hour / replicas", "an input (device price x stages)",
     sim_replica_hour},
    {"activation_mib_raw", "activation_bytes_raw / 2^20", "activation per hop, raw", sim_act_raw},
    {"activation_mib_compressed", "activation_bytes_wire / 2^20", "activation per hop, as sent",
     sim_act_wire},
    {"params", "-", "no simulated counterpart (the model's size is an input)", sim_none},
};
const size_t fit_compare_n_figs = sizeof fit_compare_figs / sizeof fit_compare_figs[0];

const fit_compare_fig *fit_compare_find(const char *key) {
    for (size_t i = 0; i < fit_compare_n_figs; i++)
        if (!strcmp(fit_compare_figs[i].key, key)) return &fit_compare_figs[i];
    return NULL;
}

/* ---- the churn-free training window ------------------------------------------------- */

/* Training-phase seconds inside [a, b]. */
static double training_time(const trace_phase_rec *ph, size_t n, double a, double b) {
    double t = 0;
    for (size_t k = 0; k < n; k++) {
        if (ph[k].phase != TRACE_PHASE_TRAINING) continue;
        double s = (double)ph[k].t_start_ns * 1e-9, e = (double)ph[k].t_end_ns * 1e-9;
        if (s < a) s = a;
        if (e > b) e = b;
        if (e > s) t += e - s;
    }
    return t;
}

double fit_compare_best_window(const trace_sample_rec *ts, size_t n_ts, const trace_phase_rec *ph,
                               size_t n_ph, int n_peers, double flops_per_token, double peak_total,
                               double window_s) {
    if (n_ts < 2 || peak_total <= 0) return NAN;
    /* the longest churn-free stretch bounds the window */
    double longest = 0;
    for (size_t i = 0; i < n_ts;) {
        if (ts[i].active_peers != n_peers) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < n_ts && ts[j + 1].active_peers == n_peers) j++;
        double len = (double)(ts[j].t_ns - ts[i].t_ns) * 1e-9;
        if (len > longest) longest = len;
        i = j + 1;
    }
    if (longest <= 0) return NAN;
    double W = window_s < longest ? window_s : longest;
    double best = NAN;
    size_t j = 0;
    for (size_t i = 0; i < n_ts; i++) {
        if (ts[i].active_peers != n_peers) continue;
        if (j < i) j = i;
        double ti = (double)ts[i].t_ns * 1e-9;
        while (j < n_ts && ts[j].active_peers == n_peers &&
               (double)ts[j].t_ns * 1e-9 - ti < W - 1e-9)
            j++;
        if (j >= n_ts) break;
        if (ts[j].active_peers != n_peers) continue; /* the stretch ends before W */
        double tt = training_time(ph, n_ph, ti, (double)ts[j].t_ns * 1e-9);
        if (tt <= 0) continue;
        double m = (double)(ts[j].tokens_trained - ts[i].tokens_trained) * flops_per_token /
                   (tt * peak_total);
        if (isnan(best) || m > best) best = m;
    }
    return best;
}

int fit_compare_read(trace_file *tf, fit_compare_sim *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->mfu_training_best_window = NAN;
    if (trace_read_summary(tf, &out->sum)) {
        snprintf(err, errlen, "%s", trace_read_error(tf));
        return -1;
    }
    trace_peer_rec *peers = NULL;
    trace_sample_rec *ts = NULL;
    trace_phase_rec *ph = NULL;
    size_t np = 0, nts = 0, nph = 0;
    int rc = 0;
    if (trace_read_table(tf, "peers", trace_peer_fields, trace_peer_n_fields, sizeof *peers,
                         (void **)&peers, &np) ||
        trace_read_table(tf, "timeseries", trace_sample_fields, trace_sample_n_fields, sizeof *ts,
                         (void **)&ts, &nts) ||
        trace_read_table(tf, "phases", trace_phase_fields, trace_phase_n_fields, sizeof *ph,
                         (void **)&ph, &nph)) {
        snprintf(err, errlen, "%s", trace_read_error(tf));
        rc = -1;
    } else {
        out->n_peers = (int)np;
        for (size_t i = 0; i < np; i++)
            if (peers[i].replica + 1 > out->n_replicas) out->n_replicas = peers[i].replica + 1;
        out->mfu_training_best_window =
            fit_compare_best_window(ts, nts, ph, nph, out->n_peers, out->sum.model_flops_per_token,
                                    out->sum.peak_flops_total, out->sum.mfu_window_s);
    }
    free(peers);
    free(ts);
    free(ph);
    return rc;
}

/* ---- published figures of a trace --------------------------------------------------- */

/* The names sim/run/run.c gives the published figures in a trace, and their keys. */
static const struct {
    const char *trace_name, *key;
    double scale; /* published unit = trace value x scale */
} legacy[] = {
    {"utilisation", "utilisation", 1},
    {"mean_training_phase_s", "training_phase_min", 1 / 60.0},
    {"mean_sync_phase_s", "sync_phase_min", 1 / 60.0},
    {"mfu_overall", "mfu", 1}, /* written beside the whole-run MFU; it is the training MFU */
    {"mfu_best_window", "mfu_peak", 1},
    {"tokens_per_s_training", "throughput_tok_s", 1},
    {"speed_vs_colocated", "speed_vs_colocated", 1},
    {"tokens_trained", "tokens", 1},
    {"activation_bytes_raw", "activation_mib_raw", 1 / 1048576.0},
    {"activation_bytes_wire", "activation_mib_compressed", 1 / 1048576.0},
    {"cycles", "cycles", 1},
};

void fit_compare_published(const trace_reference *ref, double *pub) {
    for (size_t i = 0; i < sim_reference_n_figs; i++) pub[i] = NAN;
    for (size_t r = 0; r < ref->n; r++) {
        int k = sim_reference_find(ref->names[r]);
        double scale = 1;
        for (size_t l = 0; k < 0 && l < sizeof legacy / sizeof legacy[0]; l++)
            if (!strcmp(legacy[l].trace_name, ref->names[r])) {
                k = sim_reference_find(legacy[l].key);
                scale = legacy[l].scale;
            }
        if (k >= 0) pub[k] = ref->values[r] * scale;
    }
}
