/* sim/run/run_resume.c: checkpoints and resume of live runs (see run_resume.h). */
#include "sim/run/run_resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/base/util.h"
#include "sim/base/version.h"
#include "sim/live/live.h"
#include "sim/run/run_config.h"
#include "sim/run/run_replay.h"

char *run_scenario_identity(const sim_scenario *sc) {
    size_t n = 64;
    for (int i = 0; i < sc->n_sources; i++)
        n += strlen(sc->sources[i].text) + strlen(sc->sources[i].path) + 64;
    for (int i = 0; i < sc->n_sets; i++) n += strlen(sc->sets[i]) + 2;
    char *t = xmalloc(n), *p = t;
    *p = 0;
    for (int i = 0; i < sc->n_sources; i++) {
        if (i > 0) /* not its path: the same files reached from another directory match */
            p += sprintf(p, "%s# ---- file %d ----\n", (p > t && p[-1] != '\n') ? "\n" : "", i);
        p += sprintf(p, "%s", sc->sources[i].text);
    }
    p += sprintf(p, "%s# ---- overrides ----\n", (p > t && p[-1] != '\n') ? "\n" : "");
    for (int i = 0; i < sc->n_sets; i++)
        if (strncmp(sc->sets[i], "output.", 7) != 0) p += sprintf(p, "%s\n", sc->sets[i]);
    return t;
}

/* 1 when a and b name the same existing file. */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (!a || !b) return 0;
    if (!strcmp(a, b)) return 1;
    if (stat(a, &sa) || stat(b, &sb)) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int run_resume_prepare(const sim_scenario *sc, const sim_run_opts *o, const swarm_config *cfg,
                       run_resume *rr, char *err, size_t errlen) {
    memset(rr, 0, sizeof *rr);
    rr->identity = run_scenario_identity(sc);
    if (o->checkpoint_path && same_file(o->checkpoint_path, o->trace_path)) {
        snprintf(err, errlen, "%s: the checkpoint path is the trace's: choose another",
                 o->checkpoint_path);
        return EXIT_INPUT;
    }
    if (o->replay_times_path) {
        if (o->resume_path) {
            snprintf(err, errlen,
                     "--replay-times with --resume: not both (replay the recording from the "
                     "start)");
            return EXIT_INPUT;
        }
        if (same_file(o->replay_times_path, o->trace_path)) {
            snprintf(err, errlen,
                     "--replay-times %s: it is also the trace path: the trace would overwrite it "
                     "(give -o another file)",
                     o->replay_times_path);
            return EXIT_INPUT;
        }
        return run_replay_load(o->replay_times_path, sc, rr->identity, cfg, &rr->times,
                               &rr->n_times, err, errlen);
    }
    if (!o->resume_path) return 0;
    if (sc->compute.mode != SIM_COMPUTE_LIVE) {
        snprintf(err, errlen,
                 "--resume: %s is a modeled scenario (compute.mode = \"modeled\"); only live runs "
                 "have checkpoints (a modeled run replays from its scenario in seconds)",
                 sc->path ? sc->path : sc->name);
        return EXIT_INPUT;
    }
    if (same_file(o->resume_path, o->trace_path)) {
        snprintf(err, errlen,
                 "--resume %s: it is also the trace path: the trace would overwrite it",
                 o->resume_path);
        return EXIT_INPUT;
    }
    live_config lc;
    run_live_config(sc, &lc);
    int rc = live_ckpt_load(o->resume_path, rr->identity, &lc, cfg, &rr->resume, err, errlen);
    if (rc) return rc;
    rr->resuming = 1;
    return 0;
}

int run_resume_attach(const sim_scenario *sc, const sim_run_opts *o, run_resume *rr,
                      swarm_live_ops *ops, char *err, size_t errlen) {
    live_ckpt_config cc = {.path = o->checkpoint_path,
                           .every = sc->output.checkpoint_every,
                           .identity = rr->identity,
                           .version = ORIONSIM_VERSION,
                           .request = o->checkpoint_flag,
                           .stop = o->stop_flag,
                           .times = rr->times,
                           .n_times = rr->n_times,
                           .times_source = o->replay_times_path};
    live_ckpt_file *f = rr->resume;
    rr->resume = NULL; /* taken over, also on failure */
    int rc = live_ckpt_attach(ops, &cc, f, err, errlen);
    if (!rc) rr->attached = 1;
    return rc;
}

int run_resume_finish(const sim_run_opts *o, run_resume *rr, const swarm_live_ops *ops, int rc,
                      char *err, size_t errlen) {
    if (!rr->attached) return rc;
    live_ckpt_info info;
    live_ckpt_get_info(ops, &info);
    if (o->checkpoint_info) *o->checkpoint_info = info;
    int stopped = o->stop_flag && *o->stop_flag;
    if (info.replay_failed) return EXIT_INPUT; /* err: the swarm's, naming trace and task */
    if (rr->times && rc == EXIT_OK && !stopped && info.times_used != info.times_recorded) {
        snprintf(err, errlen,
                 "--replay-times %s: the run ended after %lld of the %lld recorded tasks (the "
                 "engine diverged from the recording: another orionsim build?)",
                 o->replay_times_path, (long long)info.times_used, (long long)info.times_recorded);
        return EXIT_INPUT;
    }
    if (rc == EXIT_OK && info.replay_pending && !stopped) {
        snprintf(err, errlen,
                 "resume: the run ended before the replay reached the checkpoint's cycle end "
                 "(another orionsim build, or a checkpoint past this scenario's end?)");
        return EXIT_RUN;
    }
    return rc;
}

void run_resume_free(run_resume *rr) {
    free(rr->identity);
    free(rr->times);
    live_ckpt_file_free(rr->resume);
    memset(rr, 0, sizeof *rr);
}
