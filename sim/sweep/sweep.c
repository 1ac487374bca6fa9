/* sim/sweep/sweep.c: the sweep driver: grid, resume, worker results into the file (sweep.h). */
#include "sim/sweep/sweep.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/base/fsutil.h"
#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_schema.h"
#include "sim/sweep/sweep_file.h"
#include "sim/sweep/sweep_mpi.h"
#include "sim/sweep/sweep_pool.h"
#include "sim/sweep/sweep_spec.h"
#include "sim/base/util.h"

static double now_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

char *sweep_trace_name(const char *dir, const char *scenario_name, char *const *keys,
                       char *const *values, size_t n) {
    size_t len = strlen(dir) + strlen(scenario_name) + 8;
    for (size_t i = 0; i < n; i++) len += strlen(keys[i]) + strlen(values[i]) + 2;
    char *s = xmalloc(len);
    size_t at = (size_t)snprintf(s, len, "%s/", dir);
    size_t name0 = at;
    at += (size_t)snprintf(s + at, len - at, "%s", scenario_name);
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(s + at, len - at, "_%s=%s", keys[i], values[i]);
    for (size_t i = name0; i < at; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+' || c == '='))
            s[i] = '-';
    }
    snprintf(s + at, len - at, ".h5");
    return s;
}

/* ---- matching points by value ------------------------------------------------------ */

/* A text that is equal for equal parameter values: numbers in hex float, others as text. */
static char *canonical(const sweep_value *v, size_t n) {
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(v[i].text) + 48;
    char *s = xmalloc(len);
    size_t at = 0;
    s[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].numeric)
            at += (size_t)snprintf(s + at, len - at, "n%a\x1f", v[i].num == 0 ? 0.0 : v[i].num);
        else at += (size_t)snprintf(s + at, len - at, "s%s\x1f", v[i].text);
    }
    return s;
}

typedef struct {
    char *key;
    size_t row;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

static int cmp_key_only(const void *a, const void *b) {
    return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

/* ---- the sweep ---------------------------------------------------------------------- */

typedef struct {
    char status[SWEEP_STATUS_LEN];
    char error[SWEEP_ERROR_LEN];
    sim_summary sum;
} job_result;

typedef struct {
    const sweep_opts *o;
    sweep_axis *axes;
    size_t n_axes;
    char *scenario_name;
    sweep_point *pts; /* grid points, then extra rows kept from the old file */
    size_t n_grid, n_rows;
    sweep_writer *w;
    sweep_stats *st;
    size_t to_run, done;
    size_t n_ok; /* points finished ok now, and their summed run time */
    double ok_wall;
    double t0;
    int tty;
    int write_failed;
    char werr[512];
    int workers;              /* processes running points at a time (progress ETA) */
    size_t grid_points;       /* the whole grid (n_grid is this shard's share of it) */
    const sweep_mpi_ops *mpi; /* --mpi, else NULL */
    int rank, ranks;
} sweep_ctx;

/* Copy a message into a fixed field, cut to fit. */
static void set_text(char *dst, size_t n, const char *src) {
    size_t l = strnlen(src, n - 1);
    memcpy(dst, src, l);
    dst[l] = 0;
}

static void job_run(size_t job, void *vctx, void *vres) {
    sweep_ctx *c = vctx;
    job_result *r = vres;
    const sweep_opts *o = c->o;
    sweep_point *p = &c->pts[job];
    size_t n = o->n_sets + c->n_axes;
    const char **sets = xcalloc(n ? n : 1, sizeof *sets);
    char **owned = xcalloc(c->n_axes ? c->n_axes : 1, sizeof *owned);
    char **keys = xcalloc(c->n_axes ? c->n_axes : 1, sizeof *keys);
    char **vals = xcalloc(c->n_axes ? c->n_axes : 1, sizeof *vals);
    for (size_t i = 0; i < o->n_sets; i++) sets[i] = o->sets[i];
    for (size_t k = 0; k < c->n_axes; k++) {
        size_t len = strlen(c->axes[k].key) + strlen(p->params[k].text) + 2;
        owned[k] = xmalloc(len);
        snprintf(owned[k], len, "%s=%s", c->axes[k].key, p->params[k].text);
        sets[o->n_sets + k] = owned[k];
        keys[k] = c->axes[k].key;
        vals[k] = p->params[k].text;
    }
    sim_scenario sc;
    char err[2048] = "";
    int rc = sim_scenario_load(o->scenario, sets, (int)n, &sc, err, sizeof err);
    if (!rc && sim_scenario_memory_check(&sc, err, sizeof err)) {
        sim_scenario_free(&sc);
        rc = EXIT_INPUT;
    }
    if (rc) {
        snprintf(r->status, sizeof r->status, "failed");
        set_text(r->error, sizeof r->error, err);
    } else {
        char *tpath = o->traces_dir
                          ? sweep_trace_name(o->traces_dir, c->scenario_name, keys, vals, c->n_axes)
                          : NULL;
        sim_run_opts ro = {.scenario_path = o->scenario,
                           .trace_path = tpath,
                           .colocated = o->colocated,
                           .progress = 0,
                           .stop_flag = o->stop_flag};
        rc = sim_run_scenario(&sc, &ro, &r->sum, err, sizeof err);
        if (o->stop_flag && *o->stop_flag) {
            snprintf(r->status, sizeof r->status, "pending");
        } else if (rc) {
            snprintf(r->status, sizeof r->status, "failed");
            set_text(r->error, sizeof r->error, err);
        } else if (!r->sum.complete) {
            /* a safety stop (training.max_sim_hours): not a failure, the figures cover the
             * part that ran and the same point would stop the same way again */
            snprintf(r->status, sizeof r->status, "stopped");
            set_text(r->error, sizeof r->error, err[0] ? err : "the run did not complete");
        } else {
            snprintf(r->status, sizeof r->status, "ok");
            /* a value the loader adjusted for this point (min_local_steps clamped to H) */
            if (sc.n_notices) {
                char note[SWEEP_ERROR_LEN];
                snprintf(note, sizeof note, "notice: %s", sc.notices[0]);
                set_text(r->error, sizeof r->error, note);
            }
        }
        free(tpath);
        sim_scenario_free(&sc);
    }
    for (size_t k = 0; k < c->n_axes; k++) free(owned[k]);
    free(owned);
    free(keys);
    free(vals);
    free(sets);
}

/* An MPI worker rank runs its point in a forked process, like a -j worker, so that a
 * crash fails the point and not the rank; a failure travels in the result. */
typedef struct {
    sweep_ctx *c;
    job_result *r;
} mpi_capture;

static void mpi_child_run(size_t job, void *vcap, void *vres) {
    job_run(job, ((mpi_capture *)vcap)->c, vres);
}

static void mpi_captured(size_t job, int ok, const void *vres, const char *why, void *vcap) {
    (void)job;
    mpi_capture *cap = vcap;
    if (ok) {
        memcpy(cap->r, vres, sizeof *cap->r);
    } else {
        snprintf(cap->r->status, sizeof cap->r->status, "failed");
        set_text(cap->r->error, sizeof cap->r->error, why && *why ? why : "the worker failed");
    }
}

static void mpi_job_run(size_t job, void *vctx, void *vres) {
    sweep_ctx *c = vctx;
    job_result *r = vres;
    mpi_capture cap = {c, r};
    char perr[512] = "";
    snprintf(r->status, sizeof r->status, "failed");
    set_text(r->error, sizeof r->error, "the point did not run");
    if (sweep_pool_run(&job, 1, 1, sizeof *r, mpi_child_run, mpi_captured, &cap, c->o->stop_flag,
                       perr, sizeof perr))
        set_text(r->error, sizeof r->error, perr);
}

static void progress(sweep_ctx *c, int final) {
    if (!c->o->progress) return;
    double el = now_wall() - c->t0;
    char eta[48] = "";
    /* ETA: the mean run time of the points finished ok (failures are instant) times the
     * points left, shared by the workers */
    if (c->n_ok && c->done < c->to_run) {
        size_t left = c->to_run - c->done, w = (size_t)(c->workers < 1 ? 1 : c->workers);
        double rounds = (double)((left + w - 1) / w);
        snprintf(eta, sizeof eta, ", ETA %.0f s", c->ok_wall / (double)c->n_ok * rounds);
    }
    fprintf(stderr, "%ssweep: %zu/%zu points done, %zu failed, %.1f s%s%s", c->tty ? "\r" : "",
            c->done, c->to_run, c->st->failed, el, eta, c->tty ? "\033[K" : "\n");
    if (final && c->tty) fputc('\n', stderr);
    fflush(stderr);
}

static void job_done(size_t job, int ok, const void *vres, const char *why, void *vctx) {
    sweep_ctx *c = vctx;
    const job_result *r = vres;
    sweep_point *p = &c->pts[job];
    if (!ok) {
        sweep_point_fail(p, why);
    } else if (!strcmp(r->status, "pending")) {
        return; /* interrupted: stays pending, runs on resume */
    } else {
        memcpy(p->status, r->status, sizeof p->status);
        p->status[sizeof p->status - 1] = 0;
        memcpy(p->error, r->error, sizeof p->error);
        p->error[sizeof p->error - 1] = 0;
        if (sweep_point_done(p)) {
            p->sum = r->sum;
            c->n_ok++;
            c->ok_wall += r->sum.wall_time_s;
            if (!strcmp(p->status, "stopped")) c->st->stopped++;
        } else {
            char msg[SWEEP_ERROR_LEN];
            snprintf(msg, sizeof msg, "%s", p->error);
            sweep_point_fail(p, msg);
        }
    }
    c->st->ran++;
    c->done++;
    if (!sweep_point_done(p)) c->st->failed++;
    if (!c->write_failed && sweep_file_put(c->w, job, p, c->werr, sizeof c->werr))
        c->write_failed = 1;
    progress(c, c->done == c->to_run);
}

/* ---- the ResBM loss gap across the grid (SPEC §5) ------------------------------------ */

static int same_value(const sweep_value *a, const sweep_value *b) {
    if (a->numeric && b->numeric) return a->num == b->num;
    return !a->numeric && !b->numeric && !strcmp(a->text, b->text);
}

/* 1 when point p is an uncompressed baseline: compression.method = "none" where the
 * method is swept, compression.ratio = 1 where the ratio is swept. */
static int is_baseline(const sweep_point *p, int km, int kr) {
    if (km >= 0 && strcmp(p->params[km].text, "none")) return 0;
    return kr < 0 || (p->params[kr].numeric && p->params[kr].num == 1);
}

size_t sweep_loss_gaps(sweep_point *pts, size_t n, char *const *keys, size_t n_keys,
                       unsigned char *changed) {
    int km = -1, kr = -1;
    for (size_t k = 0; k < n_keys; k++) {
        char norm[256];
        if (sk_normalize(keys[k], norm, sizeof norm)) continue;
        if (!strcmp(norm, "compression.method")) km = (int)k;
        if (!strcmp(norm, "compression.ratio")) kr = (int)k;
    }
    size_t n_changed = 0;
    for (size_t i = 0; i < n; i++) {
        changed[i] = 0;
        sweep_point *p = &pts[i];
        if ((km < 0 && kr < 0) || !sweep_point_done(p)) continue;
        double gap = NAN;
        for (size_t j = 0; j < n && isfinite(p->sum.loss_final); j++) {
            const sweep_point *b = &pts[j];
            if (!sweep_point_done(b) || !is_baseline(b, km, kr) || !isfinite(b->sum.loss_final))
                continue;
            int same = 1;
            for (size_t k = 0; k < n_keys && same; k++)
                if ((int)k != km && (int)k != kr) same = same_value(&p->params[k], &b->params[k]);
            if (same) {
                gap = p->sum.loss_final - b->sum.loss_final;
                break;
            }
        }
        if (isnan(gap) ? isnan(p->sum.resbm_loss_gap) : gap == p->sum.resbm_loss_gap) continue;
        p->sum.resbm_loss_gap = gap;
        changed[i] = 1;
        n_changed++;
    }
    return n_changed;
}

/* The gaps of this sweep's rows; the rows that change are rewritten. */
static void fill_loss_gaps(sweep_ctx *c) {
    if (!c->n_rows) return;
    char **keys = xcalloc(c->n_axes ? c->n_axes : 1, sizeof *keys);
    for (size_t k = 0; k < c->n_axes; k++) keys[k] = c->axes[k].key;
    unsigned char *changed = xcalloc(c->n_rows, 1);
    if (sweep_loss_gaps(c->pts, c->n_rows, keys, c->n_axes, changed))
        for (size_t i = 0; i < c->n_rows && !c->write_failed; i++)
            if (changed[i] && sweep_file_put(c->w, i, &c->pts[i], c->werr, sizeof c->werr))
                c->write_failed = 1;
    free(changed);
    free(keys);
}

/* Fill the grid rows from an existing file (finished points) and append its other rows.
 * Returns EXIT_OK, or EXIT_INPUT with err. */
static int merge_old(sweep_ctx *c, const sweep_meta *now, char *err, size_t errlen) {
    const sweep_opts *o = c->o;
    if (access(o->output, F_OK)) return EXIT_OK;
    sweep_meta old;
    sweep_point *opts = NULL;
    size_t n_old = 0;
    char rerr[512];
    if (sweep_file_read(o->output, &old, &opts, &n_old, rerr, sizeof rerr)) {
        if (o->force) return EXIT_OK;
        snprintf(err, errlen,
                 "%s exists and cannot be resumed (%s); use --force to replace it, or another -o",
                 o->output, rerr);
        return EXIT_INPUT;
    }
    char why[1024];
    if (sweep_meta_mismatch(&old, now, why, sizeof why)) {
        int rc = EXIT_OK;
        if (!o->force) {
            snprintf(err, errlen,
                     "%s holds another sweep: %s; use --force to replace it (its %zu rows are "
                     "lost), or another -o",
                     o->output, why, n_old);
            rc = EXIT_INPUT;
        }
        sweep_points_free(opts, n_old, old.n_keys);
        sweep_meta_free(&old);
        return rc;
    }
    size_t nk = c->n_axes;
    keyed *ok = xcalloc(n_old ? n_old : 1, sizeof *ok);
    for (size_t i = 0; i < n_old; i++) {
        ok[i].key = canonical(opts[i].params, nk);
        ok[i].row = i;
    }
    qsort(ok, n_old, sizeof *ok, cmp_keyed);
    char *used = xcalloc(n_old ? n_old : 1, 1);
    for (size_t g = 0; g < c->n_grid; g++) {
        keyed probe = {canonical(c->pts[g].params, nk), 0};
        keyed *hit = bsearch(&probe, ok, n_old, sizeof *ok, cmp_key_only);
        /* bsearch may land on any equal key; scan the run of equal keys for a finished one */
        if (hit) {
            while (hit > ok && !strcmp(hit[-1].key, probe.key)) hit--;
            for (; hit < ok + n_old && !strcmp(hit->key, probe.key); hit++) {
                used[hit->row] = 1;
                const sweep_point *src = &opts[hit->row];
                if (sweep_point_done(&c->pts[g]) || !sweep_point_done(src)) continue;
                memcpy(c->pts[g].status, src->status, sizeof src->status);
                memcpy(c->pts[g].error, src->error, sizeof src->error);
                c->pts[g].sum = src->sum;
                c->st->kept++;
            }
        }
        free(probe.key);
    }
    /* Rows outside the new grid stay, after it. */
    for (size_t i = 0; i < n_old; i++) {
        if (used[i]) continue;
        c->pts = xrealloc(c->pts, (c->n_rows + 1) * sizeof *c->pts);
        c->pts[c->n_rows++] = opts[i];
        opts[i].params = NULL;
    }
    for (size_t i = 0; i < n_old; i++) {
        free(ok[i].key);
        if (opts[i].params) {
            for (size_t k = 0; k < nk; k++) free(opts[i].params[k].text);
            free(opts[i].params);
        }
    }
    free(opts);
    free(ok);
    free(used);
    sweep_meta_free(&old);
    return EXIT_OK;
}

static char *hex64(uint64_t h) {
    char *s = xmalloc(17);
    snprintf(s, 17, "%016llx", (unsigned long long)h);
    return s;
}

/* Rank 0: the grid rows merged with an existing file, written to a new file that
 * replaces the old one. */
static int prepare_file(sweep_ctx *c, const sweep_meta *meta, char *err, size_t errlen) {
    const sweep_opts *o = c->o;
    int rc = merge_old(c, meta, err, errlen);
    if (rc) return rc;
    if (sim_mkdir_parent(o->output)) {
        snprintf(err, errlen, "%s: cannot create its directory: %s", o->output, strerror(errno));
        return EXIT_RUN;
    }
    if (o->traces_dir && sim_mkdir_p(o->traces_dir)) {
        snprintf(err, errlen, "--traces %s: cannot create the directory: %s", o->traces_dir,
                 strerror(errno));
        return EXIT_RUN;
    }
    /* Write the whole table to a new file, then move it over the old one. */
    size_t tl = strlen(o->output) + 32;
    char *tmp = xmalloc(tl);
    snprintf(tmp, tl, "%s.tmp-%ld", o->output, (long)getpid());
    char werr[512];
    c->w = sweep_file_create(tmp, meta, c->pts, c->n_rows, werr, sizeof werr);
    if (!c->w) {
        snprintf(err, errlen, "%s: %s", tmp, werr);
        unlink(tmp);
        free(tmp);
        return EXIT_RUN;
    }
    if (rename(tmp, o->output)) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, o->output, strerror(errno));
        sweep_file_close(c->w, 0, werr, sizeof werr);
        unlink(tmp);
        free(tmp);
        return EXIT_RUN;
    }
    free(tmp);
    return EXIT_OK;
}

/* Rank 0 (or the only process): run the pending points, write their rows, close. */
static int run_points(sweep_ctx *c, char *err, size_t errlen) {
    const sweep_opts *o = c->o;
    sweep_stats *st = c->st;
    size_t *jobs = xcalloc(c->n_grid ? c->n_grid : 1, sizeof *jobs);
    for (size_t g = 0; g < c->n_grid; g++)
        if (!sweep_point_done(&c->pts[g])) jobs[c->to_run++] = g;
    int use_mpi = c->mpi && c->ranks > 1;
    int workers = use_mpi ? c->ranks - 1 : o->jobs < 1 ? 1 : o->jobs;
    c->workers = workers;
    if (o->progress) {
        char shard[64] = "";
        if (o->shard_count > 0)
            snprintf(shard, sizeof shard, "shard %d/%d of %zu: ", o->shard_index, o->shard_count,
                     c->grid_points);
        int busy = (size_t)workers < c->to_run ? workers : (int)(c->to_run ? c->to_run : 1);
        fprintf(stderr, "sweep: %s%zu points (%zu kept from %s, %zu to run) on %d %s%s\n", shard,
                c->n_grid, st->kept, o->output, c->to_run, busy, use_mpi ? "MPI rank" : "worker",
                busy > 1 ? "s" : "");
    }
    char perr[512] = "";
    int prc = use_mpi ? c->mpi->coordinate(jobs, c->to_run, sizeof(job_result), job_done, c,
                                           o->stop_flag, perr, sizeof perr)
                      : sweep_pool_run(jobs, c->to_run, workers, sizeof(job_result), job_run,
                                       job_done, c, o->stop_flag, perr, sizeof perr);
    free(jobs);
    st->pending = 0;
    for (size_t g = 0; g < c->n_grid; g++)
        if (!strcmp(c->pts[g].status, "pending")) st->pending++;
    if (!prc) fill_loss_gaps(c);
    char cerr[512];
    int crc = sweep_file_close(c->w, st->pending == 0, cerr, sizeof cerr);
    c->w = NULL;
    if (prc) {
        snprintf(err, errlen, "%s", perr);
        return EXIT_RUN;
    }
    if (c->write_failed || crc) {
        snprintf(err, errlen, "%s: %s", o->output, c->write_failed ? c->werr : cerr);
        return EXIT_RUN;
    }
    if (st->pending) {
        snprintf(err, errlen,
                 "interrupted: %zu of %zu points pending in %s (run the same command "
                 "again to resume)",
                 st->pending, c->n_grid, o->output);
        return EXIT_RUN;
    }
    size_t bad = 0;
    for (size_t g = 0; g < c->n_grid; g++) bad += !sweep_point_done(&c->pts[g]);
    if (bad) {
        snprintf(err, errlen, "%zu of %zu points failed (see the status and error columns of %s)",
                 bad, c->n_grid, o->output);
        return EXIT_RUN;
    }
    return EXIT_OK;
}

static int run_loaded(sweep_ctx *c, const sim_scenario *sc, char *err, size_t errlen) {
    const sweep_opts *o = c->o;
    sweep_meta now;
    memset(&now, 0, sizeof now);
    uint64_t h = SWEEP_FNV_INIT;
    for (int i = 0; i < sc->n_sources; i++)
        h = sweep_fnv1a(h, sc->sources[i].text, strlen(sc->sources[i].text) + 1);
    now.scenario_path = xstrdup(o->scenario);
    now.scenario_name = xstrdup(sc->name);
    now.scenario_text = xstrdup(sc->n_sources ? sc->sources[0].text : "");
    now.scenario_hash = hex64(h);
    now.n_keys = c->n_axes;
    now.vary = xcalloc(c->n_axes ? c->n_axes : 1, sizeof *now.vary);
    now.keys = xcalloc(c->n_axes ? c->n_axes : 1, sizeof *now.keys);
    for (size_t k = 0; k < c->n_axes; k++) {
        now.vary[k] = xstrdup(c->axes[k].spec);
        now.keys[k] = xstrdup(c->axes[k].key);
    }
    now.n_sets = o->n_sets;
    now.sets = xcalloc(o->n_sets ? o->n_sets : 1, sizeof *now.sets);
    for (size_t i = 0; i < o->n_sets; i++) now.sets[i] = xstrdup(o->sets[i]);
    if (o->shard_count > 0) {
        now.shard_index = o->shard_index;
        now.shard_count = o->shard_count;
        now.grid_points = (int64_t)c->grid_points;
    }

    /* Rank 0 alone resumes and writes the file; the others wait for its verdict. */
    int rc = c->rank ? EXIT_OK : prepare_file(c, &now, err, errlen);
    sweep_meta_free(&now);
    if (c->mpi) {
        int all = c->mpi->max_int(rc);
        if (all && !rc) {
            snprintf(err, errlen, "rank 0 could not set up the sweep file (its message says why)");
            rc = all;
        }
    }
    if (rc) return rc;
    if (c->rank) {
        char werr[512] = "";
        if (c->mpi->work(sizeof(job_result), mpi_job_run, c, werr, sizeof werr)) {
            snprintf(err, errlen, "rank %d: %s", c->rank, werr);
            return EXIT_RUN;
        }
        return EXIT_OK;
    }
    return run_points(c, err, errlen);
}

static int setup_and_run(sweep_ctx *cp, char *err, size_t errlen);

int sweep_run(const sweep_opts *o, sweep_stats *st, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    double t0 = now_wall();
    sweep_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.st = st;
    c.t0 = t0;
    c.tty = isatty(STDERR_FILENO);
    if (o->mpi) {
        c.mpi = sweep_mpi_open(err, errlen);
        if (!c.mpi) return EXIT_INPUT;
        if (c.mpi->init(&c.rank, &c.ranks, err, errlen)) return EXIT_RUN;
        st->rank = c.rank;
    }
    int rc = setup_and_run(&c, err, errlen);
    if (c.mpi) c.mpi->finalize();
    st->wall_s = now_wall() - t0;
    return rc;
}

/* Every rank: the axes, the scenario, this process's share of the grid; then run. */
static int setup_and_run(sweep_ctx *cp, char *err, size_t errlen) {
    sweep_ctx c = *cp;
    const sweep_opts *o = c.o;
    sweep_stats *st = c.st;
    if (!o->n_vary) {
        snprintf(err, errlen, "no --vary given: a sweep needs at least one KEY=VALUES");
        return EXIT_INPUT;
    }
    c.axes = xcalloc(o->n_vary, sizeof *c.axes);
    int rc = EXIT_OK;
    if (o->shard_count < 0 ||
        (o->shard_count > 0 && (o->shard_index < 0 || o->shard_index >= o->shard_count))) {
        snprintf(err, errlen, "--shard %d/%d: no such shard", o->shard_index, o->shard_count);
        rc = EXIT_INPUT;
    }
    for (size_t i = 0; i < o->n_vary && !rc; i++) {
        if (sweep_axis_parse(o->vary[i], &c.axes[i], err, errlen)) rc = EXIT_INPUT;
        else c.n_axes++;
    }
    if (!rc && sweep_axes_check(c.axes, c.n_axes, o->sets, o->n_sets, err, errlen)) rc = EXIT_INPUT;
    if (!rc && sweep_grid_size(c.axes, c.n_axes, &c.n_grid, err, errlen)) rc = EXIT_INPUT;
    sim_scenario sc;
    memset(&sc, 0, sizeof sc);
    int loaded = 0;
    if (!rc) {
        char lerr[2048];
        rc = sim_scenario_load(o->scenario, (const char **)o->sets, (int)o->n_sets, &sc, lerr,
                               sizeof lerr);
        if (rc) snprintf(err, errlen, "%s", lerr);
        loaded = !rc;
    }
    if (c.mpi) {
        /* every rank checks its own set-up (a scenario file missing on one node, say);
         * rank 0 reports, another rank only what rank 0 did not see */
        int all = c.mpi->max_int(rc), rank0 = c.mpi->max_int(c.rank ? 0 : rc);
        if (rc && c.rank && !rank0) fprintf(stderr, "orionsim sweep: rank %d: %s\n", c.rank, err);
        if (all && !rc)
            snprintf(err, errlen, "another rank could not set the sweep up (its message says why)");
        rc = all;
    }
    if (!rc) {
        c.scenario_name = sc.name;
        /* this process's share: the whole grid, or the points g with g mod N = I */
        c.grid_points = c.n_grid;
        size_t share = c.n_grid;
        if (o->shard_count > 0) {
            size_t n = (size_t)o->shard_count, i = (size_t)o->shard_index;
            share = c.n_grid / n + (i < c.n_grid % n);
        }
        st->points = share;
        c.n_grid = c.n_rows = share;
        c.pts = xcalloc(share ? share : 1, sizeof *c.pts);
        size_t *vidx = xcalloc(c.n_axes, sizeof *vidx);
        size_t step = o->shard_count > 0 ? (size_t)o->shard_count : 1;
        size_t g0 = o->shard_count > 0 ? (size_t)o->shard_index : 0;
        for (size_t r = 0; r < share; r++) {
            sweep_grid_point(c.axes, c.n_axes, g0 + r * step, vidx);
            c.pts[r].params = xcalloc(c.n_axes, sizeof *c.pts[r].params);
            for (size_t k = 0; k < c.n_axes; k++)
                sweep_value_set(&c.pts[r].params[k], c.axes[k].values[vidx[k]].text);
            sweep_point_pending(&c.pts[r]);
        }
        free(vidx);
        rc = run_loaded(&c, &sc, err, errlen);
    }
    if (loaded) sim_scenario_free(&sc);
    sweep_points_free(c.pts, c.n_rows, c.n_axes);
    for (size_t i = 0; i < c.n_axes; i++) sweep_axis_free(&c.axes[i]);
    free(c.axes);
    return rc;
}
