/* sim/run/run_replay.c: reading the task log of a measured live run for --replay-times (see
 * run_replay.h). */
#include "sim/run/run_replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/model.h"
#include "sim/base/util.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_read.h"

/* Row i of the log, checked against the run about to start. 0, or -1 with err. */
static int check_row(const trace_task_rec *r, size_t i, const swarm_config *cfg, const char *path,
                     char *err, size_t errlen) {
    const char *bad = NULL;
    if (r->peer < 0 || r->peer >= cfg->n_peers) bad = "peer";
    else if (r->kind < 0 || r->kind >= KM_TASK_KINDS) bad = "kind";
    else if (r->microbatch < -1) bad = "microbatch";
    else if (r->t_start_ns < 0) bad = "t_start_ns";
    else if (!isfinite(r->duration_s) || r->duration_s < 0 || r->duration_s > SIM_MAX_TASK_S)
        bad = "duration_s";
    if (!bad) return 0;
    snprintf(err, errlen,
             "--replay-times %s: /tasks row %zu is out of range in %s (peer %d of %d peers, kind "
             "%d, microbatch %lld, t_start_ns %lld, duration_s %g; durations lie in [0, %g] s)",
             path, i, bad, (int)r->peer, cfg->n_peers, (int)r->kind, (long long)r->microbatch,
             (long long)r->t_start_ns, r->duration_s, SIM_MAX_TASK_S);
    return -1;
}

int run_replay_load(const char *path, const sim_scenario *sc, const char *identity,
                    const swarm_config *cfg, live_task_row **out, size_t *n, char *err,
                    size_t errlen) {
    *out = NULL;
    *n = 0;
    const char *scen = sc->path ? sc->path : sc->name;
    if (sc->compute.mode != SIM_COMPUTE_LIVE || sc->compute.live_time_modeled) {
        snprintf(err, errlen,
                 "--replay-times: %s is not a live scenario with measured timing "
                 "(compute.mode = \"live\", compute.live_time = \"measured\"): only such runs "
                 "have durations to replay",
                 scen);
        return EXIT_INPUT;
    }
    trace_file *tf = NULL;
    char why[1024];
    if (trace_read_open(path, &tf, why, sizeof why)) {
        snprintf(err, errlen, "--replay-times %s: %s", path, why);
        return EXIT_INPUT;
    }
    const trace_info *in = trace_read_info(tf);
    int rc = EXIT_INPUT;
    char *ident = NULL;
    void *recs = NULL;
    size_t rows = 0;
    if (strcmp(in->mode, "live") != 0) {
        snprintf(err, errlen,
                 "--replay-times %s: the trace of a %s run (root attribute mode = \"%s\"): only "
                 "a live run with measured timing has durations to replay",
                 path, in->mode[0] ? in->mode : "(unknown)", in->mode);
    } else if (trace_read_rows(tf, "tasks") < 0) {
        snprintf(err, errlen,
                 "--replay-times %s: the trace has no task log (/tasks): its run used "
                 "compute.live_time = \"modeled\" (nothing measured), or an orionsim without "
                 "the task log",
                 path);
    } else if (trace_read_table_attr(tf, "tasks", "scenario_identity", &ident)) {
        snprintf(err, errlen, "--replay-times %s: %s", path, trace_read_error(tf));
    } else if (strcmp(ident, identity) != 0) {
        sim_first_difference(ident, identity, "the recording's", "this run's", why, sizeof why);
        snprintf(err, errlen,
                 "--replay-times %s: recorded from another scenario or other --set overrides "
                 "(output.* aside, they must be the same to replay): %s",
                 path, why);
    } else if (trace_read_table(tf, "tasks", trace_task_fields, trace_task_n_fields,
                                sizeof(trace_task_rec), &recs, &rows)) {
        snprintf(err, errlen, "--replay-times %s: %s", path, trace_read_error(tf));
    } else if (rows == 0) {
        snprintf(err, errlen, "--replay-times %s: the task log (/tasks) is empty", path);
    } else {
        rc = 0;
        const trace_task_rec *r = recs;
        for (size_t i = 0; i < rows && !rc; i++)
            if (check_row(&r[i], i, cfg, path, err, errlen)) rc = EXIT_INPUT;
    }
    if (!rc) {
        const trace_task_rec *r = recs;
        live_task_row *v = xmalloc(sizeof *v * rows);
        for (size_t i = 0; i < rows; i++)
            v[i] = (live_task_row){.t_start = r[i].t_start_ns,
                                   .microbatch = r[i].microbatch,
                                   .duration = r[i].duration_s,
                                   .peer = r[i].peer,
                                   .kind = r[i].kind};
        *out = v;
        *n = rows;
    }
    free(recs);
    free(ident);
    trace_read_close(tf);
    return rc;
}
