/* sim/study/study.c: the seed study driver: runs, resume, statistics, the study file (study.h). */
#include "sim/study/study.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels/model.h"
#include "sim/base/fsutil.h"
#include "sim/base/h5util.h"
#include "sim/base/platform.h"
#include "sim/base/util.h"
#include "sim/base/version.h"
#include "sim/live/live_data.h"
#include "sim/run/run.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_schema.h"
#include "sim/study/study_internal.h"
#include "sim/study/study_stats.h"
#include "sim/sweep/sweep_pool.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_read.h"

#define LEVEL 0.95

const sim_field study_run_fields[] = {
    SIM_F64(study_run_rec, ratio, "1", NULL, "compression ratio d_model / k (1: none, int8)"),
    SIM_F64(study_run_rec, loss_final, "nats/token", NULL,
            "training loss, mean over the final window"),
    SIM_F64(study_run_rec, val_loss_final, "nats/token", NULL, "validation loss at the end"),
    SIM_F64(study_run_rec, gap, "nats/token", NULL,
            "loss_final minus that of the none run of the same seed and width"),
    SIM_F64(study_run_rec, val_gap, "nats/token", NULL, "the same for val_loss_final"),
    SIM_F64(study_run_rec, wall_time_s, "s", NULL, "wall time of the run"),
    SIM_I64(study_run_rec, seed, "1", NULL, "scenario seed of the run"),
    SIM_I32(study_run_rec, width, "1", NULL, "model.d_model"),
    SIM_I32(study_run_rec, k, "1", NULL, "bottleneck width (d_model for none and int8)"),
    SIM_I32(study_run_rec, seed_index, "1", NULL, "0-based index of the seed"),
    SIM_I32(study_run_rec, done, "1", NULL, "1: the run's trace is complete"),
    SIM_STR(study_run_rec, boundary, "", NULL, "boundary as given (none, resbm:16, resbm:k8)"),
    SIM_STR(study_run_rec, method, "", NULL, "compression.method"),
    SIM_STR(study_run_rec, trace, "", NULL, "the run's trace file"),
};
const size_t study_run_n_fields = sizeof study_run_fields / sizeof study_run_fields[0];

#define STAT3(m, u, d)                                                                             \
    SIM_F64(study_stat_rec, m##_mean, u, NULL, d ", mean over the seeds"),                         \
        SIM_F64(study_stat_rec, m##_sd, u, NULL, d ", sample standard deviation"),                 \
        SIM_F64(study_stat_rec, m##_ci, u, NULL, d ", half-width of the 95% t interval")
const sim_field study_stat_fields[] = {
    SIM_F64(study_stat_rec, ratio, "1", NULL, "compression ratio d_model / k"),
    STAT3(loss, "nats/token", "final training loss"),
    STAT3(val, "nats/token", "final validation loss"),
    STAT3(gap, "nats/token", "training-loss gap to the none run of the same seed"),
    STAT3(val_gap, "nats/token", "validation-loss gap to the none run of the same seed"),
    SIM_I32(study_stat_rec, width, "1", NULL, "model.d_model"),
    SIM_I32(study_stat_rec, k, "1", NULL, "bottleneck width"),
    SIM_I32(study_stat_rec, n, "1", NULL, "runs done"),
    SIM_I32(study_stat_rec, n_pairs, "1", NULL, "runs with a baseline of the same seed"),
    SIM_I32(study_stat_rec, gap_significant, "1", NULL,
            "1: the gap's 95% interval excludes 0; 0: it holds 0; -1: fewer than 2 pairs"),
    SIM_I32(study_stat_rec, val_gap_significant, "1", NULL, "the same for the validation gap"),
    SIM_STR(study_stat_rec, boundary, "", NULL, "boundary as given"),
    SIM_STR(study_stat_rec, method, "", NULL, "compression.method"),
};
const size_t study_stat_n_fields = sizeof study_stat_fields / sizeof study_stat_fields[0];

const sim_field study_curve_fields[] = {
    SIM_F64(study_curve_rec, tokens, "tokens", NULL, "tokens trained, mean over the seeds"),
    SIM_F64(study_curve_rec, mean, "nats/token", NULL, "loss, mean over the seeds"),
    SIM_F64(study_curve_rec, sd, "nats/token", NULL, "sample standard deviation"),
    SIM_F64(study_curve_rec, ci, "nats/token", NULL, "half-width of the 95% t interval"),
    SIM_I32(study_curve_rec, width, "1", NULL, "model.d_model"),
    SIM_I32(study_curve_rec, k, "1", NULL, "bottleneck width"),
    SIM_I32(study_curve_rec, kind, "1", NULL, "0 training, 1 validation"),
    SIM_I32(study_curve_rec, cycle, "1", NULL, "cycle (0-based)"),
    SIM_I32(study_curve_rec, inner_step, "1", NULL, "inner step (-1 for validation)"),
    SIM_I32(study_curve_rec, n, "1", NULL, "seeds with this point"),
    SIM_STR(study_curve_rec, boundary, "", NULL, "boundary as given"),
};
const size_t study_curve_n_fields = sizeof study_curve_fields / sizeof study_curve_fields[0];

const char *const study_method_names[] = {"none", "resbm", "linear", "int8"};

static double now_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void study_set_text(char *dst, size_t n, const char *src) {
    size_t l = strnlen(src, n - 1);
    memcpy(dst, src, l);
    dst[l] = 0;
}

/* ---- boundaries ---------------------------------------------------------------------- */

int study_boundaries_parse(const char *s, study_boundary **out, size_t *n, char *err,
                           size_t errlen) {
    *out = NULL;
    *n = 0;
    if (!s || !*s) {
        snprintf(err, errlen, "--boundaries: the list is empty (give e.g. none,resbm:16,int8)");
        return -1;
    }
    char *buf = xstrdup(s);
    study_boundary *b = xcalloc(strlen(s) + 2, sizeof *b);
    size_t k = 0;
    int rc = 0, have_none = 0;
    for (char *p = buf, *tok; !rc && (tok = strsep(&p, ",")) != NULL;) {
        study_boundary x;
        memset(&x, 0, sizeof x);
        char *colon = strchr(tok, ':');
        const char *arg = colon ? colon + 1 : NULL;
        if (colon) *colon = 0;
        char *hcolon = colon ? strchr(colon + 1, ':') : NULL; /* resbm:...:hH */
        long hv = 0;
        int bad_hidden = 0;
        if (hcolon) {
            *hcolon = 0;
            if (!strcmp(hcolon + 1, "hffn")) hv = STUDY_HIDDEN_FFN; /* IOTA's choice */
            else
                bad_hidden =
                    hcolon[1] != 'h' || sim_parse_long(hcolon + 2, &hv) || hv < 1 || hv > 1 << 20;
            bad_hidden |= strcmp(tok, "resbm") != 0;
        }
        int m = -1;
        for (int i = 0; i < 4; i++)
            if (!strcmp(tok, study_method_names[i])) m = i;
        long v = 0;
        int by_k = arg && arg[0] == 'k';
        if (m < 0 || bad_hidden ||
            (m == KM_COMP_NONE || m == KM_COMP_INT8 ? arg != NULL : arg == NULL) ||
            (arg && (sim_parse_long(arg + by_k, &v) || v < 1 || v > 1 << 20))) {
            if (colon) *colon = ':';
            if (hcolon) *hcolon = ':';
            snprintf(err, errlen,
                     "--boundaries %s: '%s' is not a boundary (none, int8, resbm:RATIO, "
                     "resbm:kK, linear:RATIO, linear:kK, and resbm:RATIO:hH or resbm:kK:hH "
                     "for a fixed MLP hidden width H, resbm:...:hffn for hidden = the "
                     "model's ffn; RATIO, K and H positive integers)",
                     s, tok);
            rc = -1;
            break;
        }
        x.method = m;
        if (arg) {
            if (by_k) x.k = (int)v;
            else x.ratio = (int)v;
        }
        x.hidden = (int)hv;
        if (hv == STUDY_HIDDEN_FFN)
            snprintf(x.spec, sizeof x.spec, "%s:%s:hffn", study_method_names[m], arg);
        else if (hv) snprintf(x.spec, sizeof x.spec, "%s:%s:h%ld", study_method_names[m], arg, hv);
        else
            snprintf(x.spec, sizeof x.spec, "%s%s%s", study_method_names[m], arg ? ":" : "",
                     arg ? arg : "");
        for (size_t j = 0; j < k; j++)
            if (!strcmp(b[j].spec, x.spec)) {
                snprintf(err, errlen, "--boundaries %s: '%s' is listed twice", s, x.spec);
                rc = -1;
            }
        if (m == KM_COMP_NONE) have_none = 1;
        b[k++] = x;
    }
    free(buf);
    if (rc) {
        free(b);
        return -1;
    }
    if (!have_none) { /* the baseline goes first */
        memmove(b + 1, b, k * sizeof *b);
        memset(&b[0], 0, sizeof b[0]);
        snprintf(b[0].spec, sizeof b[0].spec, "none");
        k++;
    }
    *out = b;
    *n = k;
    return 0;
}

int study_spec_hidden(const char *spec) {
    const char *c = strchr(spec, ':');
    c = c ? strchr(c + 1, ':') : NULL;
    long v = 0;
    if (c && !strcmp(c + 1, "hffn")) return STUDY_HIDDEN_FFN;
    if (!c || c[1] != 'h' || sim_parse_long(c + 2, &v) || v < 1 || v > 1 << 20) return 0;
    return (int)v;
}

int study_boundary_at(const study_boundary *b, int d, int *ratio, int *k, char *err,
                      size_t errlen) {
    if (b->method == KM_COMP_NONE || b->method == KM_COMP_INT8) {
        *ratio = 1;
        *k = d;
        return 0;
    }
    if (b->ratio) {
        if (d % b->ratio) {
            snprintf(err, errlen,
                     "boundary %s at width %d: the ratio %d does not divide d_model = %d "
                     "(k = d_model / ratio must be an integer)",
                     b->spec, d, b->ratio, d);
            return -1;
        }
        *ratio = b->ratio;
        *k = d / b->ratio;
        return 0;
    }
    if (b->k > d || d % b->k) {
        snprintf(err, errlen,
                 "boundary %s at width %d: k = %d does not divide d_model = %d (the ratio "
                 "d_model / k must be an integer)",
                 b->spec, d, b->k, d);
        return -1;
    }
    *ratio = d / b->k;
    *k = b->k;
    return 0;
}

/* ---- runs ---------------------------------------------------------------------------- */

typedef struct {
    char status[8];
    char error[256];
    sim_summary sum;
} job_result;

/* The scenario file verbatim, then every file it pulled in, as sim/run writes it to
 * /scenario (a trace of another text is another run). */
static char *scenario_text(const sim_scenario *sc) {
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

char *study_xprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Keys the study sets per run: a --set of one of them is refused. */
static const char *const own_keys[] = {"model.d_model",      "model.ffn",
                                       "compression.method", "compression.ratio",
                                       "compression.hidden", "seed"};

static int check_sets(const study_opts *o, int widths_given, char *err, size_t errlen) {
    for (size_t i = 0; i < o->n_sets; i++) {
        char key[256], norm[256];
        const char *eq = strchr(o->sets[i], '=');
        size_t kl = eq ? (size_t)(eq - o->sets[i]) : strlen(o->sets[i]);
        if (kl >= sizeof key) continue;
        memcpy(key, o->sets[i], kl);
        key[kl] = 0;
        if (sk_normalize(key, norm, sizeof norm)) snprintf(norm, sizeof norm, "%s", key);
        for (size_t j = 0; j < sizeof own_keys / sizeof own_keys[0]; j++) {
            if (j < 2 && !widths_given) continue;
            if (!strcmp(norm, own_keys[j])) {
                snprintf(err, errlen,
                         "--set %s: the study sets %s itself for every run (%s); drop the --set",
                         o->sets[i], own_keys[j],
                         j < 2   ? "use --widths"
                         : j < 4 ? "use --boundaries"
                         : j < 5 ? "it applies to ResBM only: use --boundaries resbm:kK:hH"
                                 : "seeds are the scenario's seed + 0, 1, ...; set the base "
                                   "seed in the scenario");
                return -1;
            }
        }
    }
    return 0;
}

static int parse_widths(const char *s, int **out, size_t *n, char *err, size_t errlen) {
    char *buf = xstrdup(s);
    int *w = xcalloc(strlen(s) + 1, sizeof *w);
    size_t k = 0;
    int rc = 0;
    for (char *p = buf, *tok; (tok = strsep(&p, ",")) != NULL;) {
        long v;
        if (sim_parse_long(tok, &v) || v < 1 || v > 1 << 20) {
            snprintf(err, errlen, "--widths %s: '%s' is not a positive integer width", s, tok);
            rc = -1;
            break;
        }
        for (size_t j = 0; j < k; j++)
            if (w[j] == v) {
                snprintf(err, errlen, "--widths %s: %ld is listed twice", s, v);
                rc = -1;
            }
        w[k++] = (int)v;
    }
    free(buf);
    if (!rc && !k) {
        snprintf(err, errlen, "--widths: the list is empty");
        rc = -1;
    }
    if (rc) {
        free(w);
        return -1;
    }
    *out = w;
    *n = k;
    return 0;
}

/* Width w of the scenario's model: heads, head_dim and ffn must split it. */
static int check_width(const sim_scenario *sc, int w, int *ffn, char *err, size_t errlen) {
    const km_config *m = &sc->model;
    if (w % m->n_heads || (w / m->n_heads) % 2) {
        snprintf(err, errlen,
                 "--widths: the model cannot be split at width %d: model.n_heads = %d must "
                 "divide it into an even head_dim (%s)",
                 w, m->n_heads, w % m->n_heads ? "it does not divide it" : "head_dim is odd");
        return -1;
    }
    if (((long)w * m->ffn) % m->d_model) {
        snprintf(err, errlen,
                 "--widths: the model cannot be split at width %d: ffn = %d x %d / %d (the "
                 "scenario's ffn-to-width ratio) is not an integer",
                 w, w, m->ffn, m->d_model);
        return -1;
    }
    *ffn = (int)((long)w * m->ffn / m->d_model);
    return 0;
}

static void free_runs(study_run_t *r, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < r[i].n_sets; j++) free(r[i].sets[j]);
        free(r[i].sets);
        free(r[i].trace);
        free(r[i].text);
    }
    free(r);
}

/* 1 when the trace at r->trace is a complete run of this very scenario and overrides. */
static int trace_matches(study_run_t *r) {
    if (access(r->trace, F_OK)) return 0;
    trace_file *tf;
    char err[512];
    if (trace_read_open(r->trace, &tf, err, sizeof err)) return 0;
    int ok = trace_read_info(tf)->complete == 1;
    char *text = NULL, **ov = NULL;
    size_t n_ov = 0;
    if (ok && !trace_read_scenario(tf, &text)) ok = !strcmp(text, r->text);
    else ok = 0;
    if (ok && !trace_read_overrides(tf, &ov, &n_ov)) {
        ok = n_ov == (size_t)r->n_sets;
        for (size_t i = 0; ok && i < n_ov; i++) ok = !strcmp(ov[i], r->sets[i]);
        trace_read_free_names(ov, n_ov);
    } else ok = 0;
    if (ok) ok = !trace_read_summary(tf, &r->sum);
    free(text);
    trace_read_close(tf);
    return ok;
}

static void job_run(size_t job, void *vctx, void *vres) {
    study_ctx *c = vctx;
    job_result *res = vres;
    study_run_t *r = &c->runs[job];
    sim_scenario sc;
    char err[2048] = "";
    if (sim_scenario_load(c->o->scenario, (const char **)r->sets, r->n_sets, &sc, err,
                          sizeof err)) {
        snprintf(res->status, sizeof res->status, "failed");
        study_set_text(res->error, sizeof res->error, err);
        return;
    }
    unlink(r->trace); /* an incomplete trace of an earlier attempt */
    sim_run_opts ro = {.scenario_path = c->o->scenario,
                       .trace_path = r->trace,
                       .colocated = 0,
                       .progress = 0,
                       .stop_flag = c->o->stop_flag};
    int rc = sim_run_scenario(&sc, &ro, &res->sum, err, sizeof err);
    if (c->o->stop_flag && *c->o->stop_flag) snprintf(res->status, sizeof res->status, "pending");
    else if (rc || !res->sum.complete) {
        snprintf(res->status, sizeof res->status, "failed");
        study_set_text(res->error, sizeof res->error, err[0] ? err : "the run did not complete");
    } else snprintf(res->status, sizeof res->status, "ok");
    sim_scenario_free(&sc);
}

static void job_done(size_t job, int ok, const void *vres, const char *why, void *vctx) {
    study_ctx *c = vctx;
    const job_result *res = vres;
    study_run_t *r = &c->runs[job];
    if (ok && !strcmp(res->status, "pending")) {
        c->st->pending++;
        return;
    }
    c->finished++;
    c->st->ran++;
    if (ok && !strcmp(res->status, "ok")) {
        r->done = 1;
        r->sum = res->sum;
        c->n_ok++;
        c->ok_wall += res->sum.wall_time_s;
    } else {
        r->failed = 1;
        study_set_text(r->error, sizeof r->error, ok ? res->error : why);
        c->st->failed++;
    }
    if (!c->o->progress) return;
    double el = now_wall() - c->t0;
    char eta[64] = "";
    if (c->n_ok && c->finished < c->to_run) {
        size_t left = c->to_run - c->finished, w = (size_t)(c->o->jobs < 1 ? 1 : c->o->jobs);
        snprintf(eta, sizeof eta, ", ETA %.0f s",
                 c->ok_wall / (double)c->n_ok * (double)((left + w - 1) / w));
    }
    if (r->done)
        fprintf(stderr,
                "study: %zu/%zu d%d %s seed %llu: loss %.4f val %.4f (%.0f s; %.0f s elapsed%s)\n",
                c->finished, c->to_run, r->width, c->bd[r->b].spec, (unsigned long long)r->seed,
                r->sum.loss_final, r->sum.val_loss_final, r->sum.wall_time_s, el, eta);
    else
        fprintf(stderr, "study: %zu/%zu d%d %s seed %llu: FAILED: %s\n", c->finished, c->to_run,
                r->width, c->bd[r->b].spec, (unsigned long long)r->seed, r->error);
}

/* Build the run list; EXIT_INPUT with err for bad input. */
static int plan(study_ctx *c, const sim_scenario *base, char *err, size_t errlen) {
    const study_opts *o = c->o;
    char *dir;
    if (o->runs_dir) dir = xstrdup(o->runs_dir);
    else {
        size_t l = strlen(o->output);
        if (l > 3 && !strcmp(o->output + l - 3, ".h5")) l -= 3;
        dir = study_xprintf("%.*s-runs", (int)l, o->output);
    }
    int *ffn = xcalloc(c->n_widths, sizeof *ffn);
    int rc = EXIT_OK;
    for (size_t w = 0; w < c->n_widths && !rc; w++) {
        if (check_width(base, c->widths[w], &ffn[w], err, errlen)) rc = EXIT_INPUT;
        for (size_t b = 0; b < c->n_bd && !rc; b++) {
            int r, k;
            if (study_boundary_at(&c->bd[b], c->widths[w], &r, &k, err, errlen)) rc = EXIT_INPUT;
        }
    }
    size_t n = c->n_widths * (size_t)o->seeds * c->n_bd;
    c->runs = xcalloc(n ? n : 1, sizeof *c->runs);
    for (size_t w = 0; w < c->n_widths && !rc; w++)
        for (int s = 0; s < o->seeds && !rc; s++)
            for (size_t b = 0; b < c->n_bd && !rc; b++) {
                study_run_t *r = &c->runs[c->n_runs++];
                r->width = c->widths[w];
                r->b = (int)b;
                r->seed_index = s;
                r->seed = base->seed + (uint64_t)s;
                study_boundary_at(&c->bd[b], r->width, &r->ratio, &r->k, err, errlen);
                r->sets = xcalloc(o->n_sets + 6, sizeof *r->sets);
                for (size_t i = 0; i < o->n_sets; i++) r->sets[r->n_sets++] = xstrdup(o->sets[i]);
                if (o->widths) {
                    r->sets[r->n_sets++] = study_xprintf("model.d_model=%d", r->width);
                    r->sets[r->n_sets++] = study_xprintf("model.ffn=%d", ffn[w]);
                }
                r->sets[r->n_sets++] =
                    study_xprintf("compression.method=%s", study_method_names[c->bd[b].method]);
                r->sets[r->n_sets++] = study_xprintf("compression.ratio=%d", r->ratio);
                if (c->bd[b].hidden)
                    r->sets[r->n_sets++] = study_xprintf(
                        "compression.hidden=%d", c->bd[b].hidden == STUDY_HIDDEN_FFN
                                                     ? (o->widths ? ffn[w] : base->model.ffn)
                                                     : c->bd[b].hidden);
                r->sets[r->n_sets++] = study_xprintf("seed=%llu", (unsigned long long)r->seed);
                char name[STUDY_NAME_LEN];
                snprintf(name, sizeof name, "%s", c->bd[b].spec);
                for (char *q = name; *q; q++)
                    if (*q == ':') *q = '-';
                r->trace = study_xprintf("%s/d%d_%s_seed%llu.h5", dir, r->width, name,
                                         (unsigned long long)r->seed);
                sim_scenario sc;
                char lerr[2048];
                if (sim_scenario_load(o->scenario, (const char **)r->sets, r->n_sets, &sc, lerr,
                                      sizeof lerr)) {
                    snprintf(err, errlen, "run d%d %s seed %llu: %s", r->width, c->bd[b].spec,
                             (unsigned long long)r->seed, lerr);
                    rc = EXIT_INPUT;
                    break;
                }
                r->text = scenario_text(&sc);
                sim_scenario_free(&sc);
            }
    if (!rc && sim_mkdir_p(dir)) {
        snprintf(err, errlen, "%s: cannot create the runs directory: %s", dir, strerror(errno));
        rc = EXIT_RUN;
    }
    free(ffn);
    free(dir);
    return rc;
}

int study_run(const study_opts *o, study_stats_count *st, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    double t0 = now_wall();
    if (o->seeds < 1) {
        snprintf(err, errlen, "--seeds %d: a study needs at least 1 seed (default 5)", o->seeds);
        return EXIT_INPUT;
    }
    study_ctx c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.st = st;
    c.t0 = t0;
    if (study_boundaries_parse(o->boundaries, &c.bd, &c.n_bd, err, errlen)) return EXIT_INPUT;
    if (check_sets(o, o->widths != NULL, err, errlen)) {
        free(c.bd);
        return EXIT_INPUT;
    }
    sim_scenario base;
    char lerr[2048];
    if (sim_scenario_load(o->scenario, (const char **)o->sets, (int)o->n_sets, &base, lerr,
                          sizeof lerr)) {
        snprintf(err, errlen, "%s", lerr);
        free(c.bd);
        return EXIT_INPUT;
    }
    int rc = EXIT_OK;
    if (base.compute.mode != SIM_COMPUTE_LIVE) {
        snprintf(err, errlen,
                 "%s: compute.mode is \"modeled\": a loss study needs live runs (compute.mode = "
                 "\"live\")",
                 o->scenario);
        rc = EXIT_INPUT;
    }
    if (!rc) { /* the data shards, before any run starts */
        const char *data = base.training.data ? base.training.data : "data/brown_train.bin";
        live_tokens tok;
        char derr[1024];
        if (live_tokens_load(data, base.model.vocab, &tok, derr, sizeof derr)) {
            snprintf(err, errlen, "training data: %s%s", derr,
                     base.training.data ? ""
                                        : " (training.data not set: the built-in corpus is "
                                          "data/brown_train.bin; make it with `make data`)");
            rc = EXIT_INPUT;
        } else live_tokens_free(&tok);
    }
    if (!rc && o->widths && parse_widths(o->widths, &c.widths, &c.n_widths, err, errlen))
        rc = EXIT_INPUT;
    if (!rc && !o->widths) {
        c.widths = xcalloc(1, sizeof *c.widths);
        c.widths[0] = base.model.d_model;
        c.n_widths = 1;
    }
    if (!rc) rc = plan(&c, &base, err, errlen);
    char *text = NULL;
    if (!rc) {
        text = scenario_text(&base);
        st->runs = c.n_runs;
        size_t *jobs = xcalloc(c.n_runs ? c.n_runs : 1, sizeof *jobs);
        for (size_t i = 0; i < c.n_runs; i++) {
            if (trace_matches(&c.runs[i])) {
                c.runs[i].done = 1;
                st->kept++;
            } else if (!o->collect_only) jobs[c.to_run++] = i;
            else st->pending++;
        }
        int workers = o->jobs < 1 ? 1 : o->jobs;
        if (o->progress)
            fprintf(stderr,
                    "study: %zu runs (%zu width%s x %zu boundar%s x %d seed%s): %zu kept, %zu to "
                    "run on %d worker%s\n",
                    c.n_runs, c.n_widths, c.n_widths == 1 ? "" : "s", c.n_bd,
                    c.n_bd == 1 ? "y" : "ies", o->seeds, o->seeds == 1 ? "" : "s", st->kept,
                    c.to_run, workers, workers == 1 ? "" : "s");
        char perr[512] = "";
        if (sweep_pool_run(jobs, c.to_run, workers, sizeof(job_result), job_run, job_done, &c,
                           o->stop_flag, perr, sizeof perr)) {
            snprintf(err, errlen, "%s", perr);
            rc = EXIT_RUN;
        }
        free(jobs);
        st->pending += c.to_run - st->ran;
        study_tables t;
        char terr[1024];
        if (study_build_tables(&c, &t, terr, sizeof terr)) {
            snprintf(err, errlen, "%s", terr);
            rc = EXIT_RUN;
        } else {
            st->wall_s = now_wall() - t0;
            if (study_write_file(&c, &t, base.name, text, base.seed, st->wall_s, terr,
                                 sizeof terr)) {
                snprintf(err, errlen, "%s", terr);
                rc = EXIT_RUN;
            } else if (o->print) study_print_table(&t, o->seeds);
        }
        study_free_tables(&t);
        if (!rc && o->collect_only && st->pending) {
            snprintf(err, errlen, "--collect: %zu of %zu runs done, %zu not (none was run)",
                     st->kept, c.n_runs, st->pending);
            rc = EXIT_RUN;
        } else if (!rc && (st->failed || st->pending)) {
            snprintf(err, errlen,
                     st->pending ? "interrupted: %zu of %zu runs left (run the same command again "
                                   "to resume)"
                                 : "%zu of %zu runs failed (see the progress lines; the study "
                                   "file holds the others)",
                     st->pending ? st->pending : st->failed, c.n_runs);
            rc = EXIT_RUN;
        }
    }
    free(text);
    free_runs(c.runs, c.n_runs);
    free(c.widths);
    free(c.bd);
    sim_scenario_free(&base);
    st->wall_s = now_wall() - t0;
    return rc;
}
