/* sim/run/run.c: one run of a loaded scenario (see run.h). */
#include "sim/run/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/calibrate/kernel_profile.h"
#include "sim/live/live.h"
#include "sim/run/run_config.h"
#include "sim/run/run_resume.h"
#include "sim/swarm/swarm.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_sink.h"
#include "sim/base/util.h"

#include "sim/base/version.h"

static double now_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Published figures of the scenario, named as the summary fields they stand beside. */
/* The scenario file verbatim, followed by every file it pulled in (its base, its
 * @includes), each after a "# ---- file: PATH ----" line, so a trace of a variant holds
 * everything needed to rerun it. */
static char *scenario_text_all(const sim_scenario *sc) {
    size_t n = 1;
    for (int i = 0; i < sc->n_sources; i++)
        n += strlen(sc->sources[i].text) + strlen(sc->sources[i].path) + 64;
    char *t = xmalloc(n), *p = t;
    p += sprintf(p, "%s", sc->sources[0].text);
    for (int i = 1; i < sc->n_sources; i++)
        p += sprintf(p, "%s# ---- file: %s ----\n%s", (p > t && p[-1] != '\n') ? "\n" : "",
                     sc->sources[i].path, sc->sources[i].text);
    return t;
}

/* Published figures under their reference keys (utilisation, mfu, throughput_tok_s, ...),
 * each uncertainty as uncertainty_<key>: `report` and `fit` map them to the simulated
 * figures of the same definition (sim/fit/fit_compare.h). */
static int write_reference(trace *tr, const sim_reference *r) {
    if (!r->present) return 0;
    size_t cap = 2 * sim_reference_n_figs;
    const char **names = xcalloc(cap, sizeof *names);
    char **owned = xcalloc(cap, sizeof *owned);
    double *vals = xcalloc(cap, sizeof *vals);
    size_t n = 0, no = 0;
    for (size_t i = 0; i < sim_reference_n_figs; i++) {
        double v = sim_reference_value(r, i);
        if (isnan(v)) continue;
        names[n] = sim_reference_figs[i].key;
        vals[n++] = v;
        if (isnan(r->uncertainty[i])) continue;
        size_t len = strlen(sim_reference_figs[i].key) + 16;
        owned[no] = xmalloc(len);
        snprintf(owned[no], len, "uncertainty_%s", sim_reference_figs[i].key);
        names[n] = owned[no++];
        vals[n++] = r->uncertainty[i];
    }
    char src[1024];
    snprintf(src, sizeof src, "%s%s%s", r->source ? r->source : "", r->url ? " " : "",
             r->url ? r->url : "");
    int rc = trace_write_reference(tr, names, vals, n, src);
    for (size_t i = 0; i < no; i++) free(owned[i]);
    free(owned);
    free(names);
    free(vals);
    return rc;
}

/* The co-located baseline: same fleet and engine, ideal network, no faults, 2 cycles. */
static void colocated_baseline(const swarm_config *cfg, volatile int *stop, sim_summary *sum) {
    swarm_config base = *cfg;
    base.net.ideal_network = 1;
    memset(&base.faults, 0, sizeof base.faults);
    base.tokens_target = 0;
    base.cycles_target = 2;
    base.progress = 0;
    sim_summary bs;
    sim_summary_init(&bs);
    char berr[512] = "";
    if (swarm_run(&base, NULL, &bs, stop, berr, sizeof berr) == EXIT_OK && bs.mfu_overall > 0) {
        sum->mfu_colocated = bs.mfu_overall;
        sum->speed_vs_colocated = sum->mfu_overall / bs.mfu_overall;
        sum->speed_vs_colocated_training = sum->mfu_training / bs.mfu_overall;
    } else {
        fprintf(stderr, "orionsim: co-located baseline failed: %s\n", berr[0] ? berr : "no MFU");
        sum->mfu_colocated = NAN;
        sum->speed_vs_colocated = NAN;
        sum->speed_vs_colocated_training = NAN;
    }
}

int sim_run_scenario(const sim_scenario *sc, const sim_run_opts *o, sim_summary *sum, char *err,
                     size_t errlen) {
    sim_summary_init(sum);
    sum->mfu_colocated = NAN;
    sum->speed_vs_colocated = NAN;
    sum->speed_vs_colocated_training = NAN;
    err[0] = 0;
    const int live_mode = sc->compute.mode == SIM_COMPUTE_LIVE;
    double eff[SIM_EFF_KINDS];
    const double *effp = NULL;
    const char *prof = o->profile ? o->profile : sc->compute.kernel_profile;
    if (prof) {
        int rc = kernel_profile_load(prof, eff, err, errlen);
        if (rc) return rc;
        effp = eff;
    }
    swarm_config cfg;
    scenario_to_swarm(sc, effp, &cfg);
    cfg.progress = o->progress;
    run_resume rr; /* a checkpoint to resume is checked before anything is written */
    int prc = run_resume_prepare(sc, o, &cfg, &rr, err, errlen);
    if (prc) {
        run_resume_free(&rr);
        swarm_config_free(&cfg);
        return prc;
    }
    trace *tr = NULL;
    if (o->trace_path) {
        trace_meta meta = {.orionsim_version = ORIONSIM_VERSION,
                           .scenario_path = o->scenario_path,
                           .seed = sc->seed,
                           .mode = live_mode ? "live" : "modeled",
                           /* measured durations: the task log, for --replay-times */
                           .tasks_identity =
                               live_mode && !sc->compute.live_time_modeled ? rr.identity : NULL};
        tr = trace_open(o->trace_path, &meta);
        if (!tr) {
            snprintf(err, errlen, "%s: cannot create the trace", o->trace_path);
            run_resume_free(&rr);
            swarm_config_free(&cfg);
            return EXIT_RUN;
        }
        char *text = scenario_text_all(sc);
        int bad = trace_write_scenario(tr, text, (const char *const *)sc->sets, (size_t)sc->n_sets);
        free(text);
        if (!bad && sc->n_notices)
            bad = trace_write_notices(tr, (const char *const *)sc->notices, (size_t)sc->n_notices);
        if (bad || write_reference(tr, &sc->reference) ||
            trace_set_events_window(tr, cfg.events_cycles)) {
            trace_abandon(tr);
            snprintf(err, errlen, "%s: cannot write the trace", o->trace_path);
            run_resume_free(&rr);
            swarm_config_free(&cfg);
            return EXIT_RUN;
        }
    }
    /* live mode: every peer's real stage, data and merges behind the swarm's hooks */
    swarm_live_ops live_ops;
    memset(&live_ops, 0, sizeof live_ops);
    if (live_mode) {
        live_config lc;
        run_live_config(sc, &lc);
        live_sink ls;
        if (tr) trace_live_sink_make(tr, &ls);
        int lrc = live_open(&lc, &cfg, tr ? &ls : NULL, &live_ops, err, errlen);
        if (!lrc) lrc = run_resume_attach(sc, o, &rr, &live_ops, err, errlen);
        if (lrc) {
            if (tr) trace_abandon(tr);
            live_close(&live_ops);
            run_resume_free(&rr);
            swarm_config_free(&cfg);
            return lrc;
        }
        cfg.live = &live_ops;
    }
    volatile int *stop = o->stop_flag;
    double t0 = now_wall();
    swarm_sink sink;
    if (tr) trace_sink_make(tr, &sink);
    int rc = swarm_run(&cfg, tr ? &sink : NULL, sum, stop, err, errlen);
    if (live_mode) rc = run_resume_finish(o, &rr, &live_ops, rc, err, errlen);
    if (live_mode) {
        live_fill_summary(&live_ops, sum);
        cfg.live = NULL; /* the co-located baseline times the same fleet, modeled */
    }
    int stopped = stop && *stop;
    int asked = o->checkpoint_flag && *o->checkpoint_flag; /* a stop asked after the last cycle */
    if (rc == EXIT_OK && !stopped && !asked && o->colocated && sc->metrics.colocated_baseline)
        colocated_baseline(&cfg, stop, sum);
    else {
        sum->mfu_colocated = NAN;
        sum->speed_vs_colocated = NAN;
        sum->speed_vs_colocated_training = NAN;
    }
    sum->wall_time_s = now_wall() - t0;
    stopped = stop && *stop;
    int complete = rc == EXIT_OK && !stopped && sum->complete;
    if (!complete) sum->complete = 0;
    if (tr && !complete) /* report says why */
        trace_set_end_note(tr, err[0]             ? err
                               : stopped || asked ? "interrupted (SIGINT or SIGTERM)"
                                                  : "the run failed");
    if (tr && trace_close(tr, sum, complete) && rc == EXIT_OK) {
        snprintf(err, errlen, "%s: cannot finish the trace", o->trace_path);
        rc = EXIT_RUN;
    }
    if (rc != EXIT_OK && !err[0]) snprintf(err, errlen, "the run failed");
    if (live_mode) live_close(&live_ops);
    run_resume_free(&rr);
    swarm_config_free(&cfg);
    return rc;
}
