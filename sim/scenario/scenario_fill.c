/* sim/scenario/scenario_fill.c: resolving the general groups: name, model, pipeline, compression, training, metrics,
 * output, reference. */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_fill.h"
#include "sim/base/fsutil.h"
#include "sim/base/util.h"

int sc_get_int(sr_ctx *c, sn_node *base, const char *spath, int *out) {
    long long v = 0;
    int st = sr_int(c, base, spath, &v);
    if (st == 1) *out = (int)v;
    return st;
}

int sc_check_readable(sr_ctx *c, sn_node *base, const char *spath, const char *path) {
    char why[600];
    FILE *f = sim_file_open(path, why, sizeof why);
    if (f) {
        fclose(f);
        return 0;
    }
    char ip[512];
    return sr_fail(c, sr_node(c, base, spath), sr_ipath(base, spath, ip, sizeof ip), "%s", why);
}

void sc_notice(sim_scenario *sc, const char *line) {
    sc->notices = xrealloc(sc->notices, sizeof *sc->notices * (size_t)(sc->n_notices + 1));
    sc->notices[sc->n_notices++] = xstrdup(line);
}

/* A key's own node, for messages about its value. */
static sn_node *at(sr_ctx *c, const char *spath) {
    sn_node *n = sr_node(c, NULL, spath);
    return n ? n : c->root;
}

static int fill_name(sr_ctx *c, sim_scenario *sc) {
    SC_TRY(sr_string(c, NULL, "name", &sc->name));
    if (!sc->name[0]) return sr_fail(c, at(c, "name"), "name", "empty name");
    for (const char *p = sc->name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return sr_fail(c, at(c, "name"), "name",
                           "'%s': only letters, digits, '.', '_' and '-' (it names files)",
                           sc->name);
    SC_TRY(sr_string(c, NULL, "description", &sc->description));
    long long seed = 1;
    SC_TRY(sr_int(c, NULL, "seed", &seed));
    sc->seed = (uint64_t)seed;
    return 0;
}

static int fill_model(sr_ctx *c, sim_scenario *sc) {
    km_config *m = &sc->model;
    memset(m, 0, sizeof *m);
    SC_TRY(sc_get_int(c, NULL, "model.d_model", &m->d_model));
    SC_TRY(sc_get_int(c, NULL, "model.n_blocks", &m->n_blocks));
    SC_TRY(sc_get_int(c, NULL, "model.n_heads", &m->n_heads));
    SC_TRY(sc_get_int(c, NULL, "model.n_kv_heads", &m->n_kv_heads));
    SC_TRY(sc_get_int(c, NULL, "model.ffn", &m->ffn));
    SC_TRY(sc_get_int(c, NULL, "model.vocab", &m->vocab));
    SC_TRY(sr_float(c, NULL, "model.rope_theta", &m->rope_theta));
    SC_TRY(sr_float(c, NULL, "model.norm_eps", &m->norm_eps));
    int dtype = 0;
    SC_TRY(sr_enum(c, NULL, "model.dtype", &dtype));
    m->dtype_bytes = dtype == 0 ? 2 : 4;
    int st = sc_get_int(c, NULL, "model.head_dim", &m->head_dim);
    SC_TRY(st);
    if (st == 0) {
        if (m->d_model % m->n_heads)
            return sr_fail(c, at(c, "model.n_heads"), "model.n_heads",
                           "%d does not divide model.d_model = %d; give model.head_dim", m->n_heads,
                           m->d_model);
        m->head_dim = m->d_model / m->n_heads;
    } else if ((long long)m->n_heads * m->head_dim != m->d_model) {
        return sr_fail(c, at(c, "model.head_dim"), "model.head_dim",
                       "n_heads x head_dim = %d x %d must equal d_model = %d", m->n_heads,
                       m->head_dim, m->d_model);
    }
    if (m->n_heads % m->n_kv_heads)
        return sr_fail(c, at(c, "model.n_kv_heads"), "model.n_kv_heads",
                       "%d does not divide model.n_heads = %d", m->n_kv_heads, m->n_heads);
    if (m->head_dim % 2)
        return sr_fail(
            c, at(c, m->head_dim == m->d_model / m->n_heads ? "model.n_heads" : "model.head_dim"),
            "model.head_dim", "%d is odd; RoPE needs an even head width", m->head_dim);
    /* seq_len lives in training; the rest of the model check waits for it */
    return 0;
}

static int fill_training(sr_ctx *c, sim_scenario *sc) {
    sim_training *t = &sc->training;
    SC_TRY(sc_get_int(c, NULL, "training.seq_len", &t->seq_len));
    SC_TRY(sc_get_int(c, NULL, "training.microbatch_seqs", &t->microbatch_seqs));
    t->microbatch_tokens = (int64_t)t->seq_len * t->microbatch_seqs;
    SC_TRY(sc_get_int(c, NULL, "training.H", &t->H));
    SC_TRY(sc_get_int(c, NULL, "training.accum", &t->accum));
    int has_tokens = sr_node(c, NULL, "training.tokens") != NULL;
    int has_cycles = sr_node(c, NULL, "training.cycles") != NULL;
    if (has_tokens && has_cycles)
        return sr_fail(c, at(c, "training.cycles"), "training.cycles",
                       "give training.tokens or training.cycles, not both");
    if (!has_tokens && !has_cycles)
        return sr_fail(c, at(c, "training"), "training",
                       "one of training.tokens and training.cycles is required (when to stop)");
    t->tokens = 0;
    t->cycles = 0;
    if (has_tokens) SC_TRY(sr_float(c, NULL, "training.tokens", &t->tokens));
    if (has_cycles) SC_TRY(sc_get_int(c, NULL, "training.cycles", &t->cycles));
    if (has_tokens && t->tokens < (double)t->microbatch_tokens)
        return sr_fail(c, at(c, "training.tokens"), "training.tokens",
                       "%g is less than one microbatch (%lld tokens = microbatch_seqs x seq_len): "
                       "tokens are trained a microbatch at a time, so the run could never stop",
                       t->tokens, (long long)t->microbatch_tokens);
    double h = 0;
    if (sr_float(c, NULL, "training.max_sim_hours", &h) == 1) t->max_sim_s = h * 3600.0;
    SC_TRY(sr_float(c, NULL, "training.activation_timeout_s", &t->activation_timeout_s));
    int to_rule = 0, end = 0;
    SC_TRY(sr_enum(c, NULL, "training.timeout_rule", &to_rule));
    SC_TRY(sr_enum(c, NULL, "training.phase_end", &end));
    t->timeout_roundtrip = to_rule == 1;
    t->phase_drain = end == 1;
    SC_TRY(sc_get_int(c, NULL, "training.min_local_steps", &t->min_local_steps));
    if (t->min_local_steps > t->H) {
        /* A sweep over H (`--vary training.H=1,10,100`) must not need a --set for every
         * point: a threshold above H could never be met, so it becomes H, and says so. */
        sn_node *n = at(c, "training.min_local_steps");
        char msg[700], where[560];
        if (n->line > 0) snprintf(where, sizeof where, "%s:%d", n->file ? n->file : "?", n->line);
        else snprintf(where, sizeof where, "%s", n->file ? n->file : "?");
        snprintf(msg, sizeof msg,
                 "%s: training.min_local_steps: %d > training.H = %d, clamped to %d (a peer "
                 "takes at most H local steps per cycle)",
                 where, t->min_local_steps, t->H, t->H);
        sc_notice(sc, msg);
        t->min_local_steps = t->H;
    }
    SC_TRY(sr_float(c, NULL, "training.grad_clip", &t->grad_clip));
    int st = sr_path(c, NULL, "training.data", &t->data);
    SC_TRY(st);
    if (st == 1) SC_TRY(sc_check_readable(c, NULL, "training.data", t->data));

    sim_inner_optimizer *o = &t->optimizer;
    int kind = 0, rule = 0;
    SC_TRY(sr_enum(c, NULL, "training.optimizer.kind", &kind));
    o->kind = (sim_inner_opt)kind;
    SC_TRY(sr_float(c, NULL, "training.optimizer.lr", &o->lr));
    SC_TRY(sr_float(c, NULL, "training.optimizer.beta1", &o->beta1));
    SC_TRY(sr_enum(c, NULL, "training.optimizer.beta1_rule", &rule));
    o->beta1_rule = (sim_beta1_rule)rule;
    if (o->beta1_rule == SIM_BETA1_CONSTANT)
        SC_TRY(sr_refuse(c, NULL, "training.optimizer.beta1_span", "beta1_rule = \"constant\""));
    SC_TRY(sr_float(c, NULL, "training.optimizer.beta1_span", &o->beta1_span));
    if (o->beta1_rule == SIM_BETA1_IOTA && o->beta1 + o->beta1_span >= 1.0)
        return sr_fail(c, at(c, "training.optimizer"), "training.optimizer.beta1_span",
                       "beta1 + beta1_span = %g must stay below 1", o->beta1 + o->beta1_span);
    SC_TRY(sr_float(c, NULL, "training.optimizer.beta2", &o->beta2));
    SC_TRY(sr_float(c, NULL, "training.optimizer.eps", &o->eps));
    SC_TRY(sr_float(c, NULL, "training.optimizer.weight_decay", &o->weight_decay));
    if (o->kind == SIM_OPT_ADAMW)
        SC_TRY(sr_refuse(c, NULL, "training.optimizer.momentum_decay", "kind = \"adamw\""));
    SC_TRY(sr_float(c, NULL, "training.optimizer.momentum_decay", &o->momentum_decay));
    SC_TRY(sc_get_int(c, NULL, "training.optimizer.warmup_steps", &o->warmup_steps));
    return 0;
}

static int fill_pipeline(sr_ctx *c, sim_scenario *sc) {
    sim_pipeline *p = &sc->pipeline;
    const km_config *m = &sc->model;
    int stages = 0;
    SC_TRY(sc_get_int(c, NULL, "pipeline.stages", &stages));
    if (stages > m->n_blocks)
        return sr_fail(c, at(c, "pipeline.stages"), "pipeline.stages",
                       "%d stages for model.n_blocks = %d: every stage needs a block", stages,
                       m->n_blocks);
    sn_node *split = sr_list(c, NULL, "pipeline.split");
    if (split) {
        if (split->n_kids != stages)
            return sr_fail(c, split, "pipeline.split", "%d entries for pipeline.stages = %d",
                           split->n_kids, stages);
        long long sum = 0;
        memset(&p->split, 0, sizeof p->split);
        p->split.n_stages = stages;
        for (int i = 0; i < stages; i++) {
            p->split.blocks[i] = (int)split->kids[i]->i;
            sum += split->kids[i]->i;
        }
        if (sum != m->n_blocks)
            return sr_fail(c, split, "pipeline.split", "sums to %lld blocks, model.n_blocks is %d",
                           sum, m->n_blocks);
        p->split_explicit = 1;
    } else {
        p->split = km_split_balanced(m, stages);
        if (p->split.n_stages != stages)
            return sr_fail(c, at(c, "pipeline.stages"), "pipeline.stages",
                           "no balanced split of %d blocks over %d stages; give pipeline.split",
                           m->n_blocks, stages);
        p->split_explicit = 0;
    }
    char msg[256];
    if (km_split_validate(m, &p->split, msg, sizeof msg))
        return sr_fail(c, split ? split : at(c, "pipeline"), "pipeline.split", "%s", msg);
    SC_TRY(sr_bool(c, NULL, "pipeline.recompute", &p->recompute));
    SC_TRY(sc_get_int(c, NULL, "pipeline.cache_capacity", &p->cache_capacity));
    int slot_at = 0;
    SC_TRY(sr_float(c, NULL, "pipeline.cache_ttl_s", &p->cache_ttl_s));
    SC_TRY(sr_enum(c, NULL, "pipeline.slot_at", &slot_at));
    p->slot_at_forward = slot_at == 0;
    SC_TRY(sc_get_int(c, NULL, "pipeline.forward_queue", &p->forward_queue));
    SC_TRY(sr_bool(c, NULL, "pipeline.auto_max_cache", &p->auto_max_cache));
    SC_TRY(sr_bool(c, NULL, "pipeline.keep_cache_on_local_step", &p->keep_cache_on_local_step));
    SC_TRY(sr_float(c, NULL, "pipeline.cache_full_wait_s", &p->cache_full_wait_s));
    if (!p->slot_at_forward) {
        SC_TRY(sr_refuse(c, NULL, "pipeline.forward_queue", "pipeline.slot_at is \"route\""));
        SC_TRY(sr_refuse(c, NULL, "pipeline.cache_full_wait_s", "pipeline.slot_at is \"route\""));
    }
    SC_TRY(sr_float(c, NULL, "pipeline.overhead.inject_period_s", &p->inject_period_s));
    SC_TRY(sr_float(c, NULL, "pipeline.overhead.stage0_fetch_s", &p->stage0_fetch_s));
    SC_TRY(sr_float(c, NULL, "pipeline.overhead.last_target_s", &p->last_target_s));
    SC_TRY(sr_float(c, NULL, "pipeline.overhead.per_hop_s", &p->per_hop_s));
    int routing = 0;
    SC_TRY(sr_enum(c, NULL, "pipeline.routing", &routing));
    p->routing = (sim_routing)routing;
    p->swarm_ema = NAN;
    if (p->routing == SIM_ROUTE_SWARM) {
        SC_TRY(sr_require(c, NULL, "pipeline.swarm_ema", "pipeline.routing = \"swarm\""));
        SC_TRY(sr_float(c, NULL, "pipeline.swarm_ema", &p->swarm_ema));
    } else {
        SC_TRY(sr_refuse(c, NULL, "pipeline.swarm_ema", "pipeline.routing is not \"swarm\""));
    }
    return 0;
}

static int fill_compression(sr_ctx *c, sim_scenario *sc) {
    km_boundary *b = &sc->compression.boundary;
    memset(b, 0, sizeof *b);
    int method = 0;
    SC_TRY(sr_enum(c, NULL, "compression.method", &method));
    b->method = (km_compression)method; /* choices are listed in km_compression order */
    SC_TRY(sc_get_int(c, NULL, "compression.ratio", &sc->compression.ratio));
    int d = sc->model.d_model, r = sc->compression.ratio;
    if (b->method != KM_COMP_NONE && sc->pipeline.split.n_stages == 1)
        return sr_fail(c, at(c, "compression.method"), "compression.method",
                       "a single-stage pipeline has no stage boundary to compress; use \"none\"");
    if (b->method == KM_COMP_RESBM || b->method == KM_COMP_LINEAR) {
        if (d % r)
            return sr_fail(c, at(c, "compression.ratio"), "compression.ratio",
                           "%d does not divide model.d_model = %d (k = d_model / ratio must be an "
                           "integer)",
                           r, d);
        b->k = d / r;
    } else if (r != 1) {
        return sr_fail(c, at(c, "compression.ratio"), "compression.ratio",
                       "%d, but only resbm and linear take a ratio (method is \"%s\")", r,
                       b->method == KM_COMP_NONE ? "none" : "int8");
    }
    if (b->method == KM_COMP_RESBM) {
        int st = sc_get_int(c, NULL, "compression.hidden", &b->hidden);
        SC_TRY(st);
        if (st == 0) b->hidden = b->k;
    } else {
        SC_TRY(sr_refuse(c, NULL, "compression.hidden", "compression.method is not \"resbm\""));
    }
    char msg[256];
    if (km_boundary_validate(&sc->model, b, msg, sizeof msg))
        return sr_fail(c, at(c, "compression"), "compression", "%s", msg);
    return 0;
}

static int fill_metrics_output(sr_ctx *c, sim_scenario *sc) {
    double h = 6;
    SC_TRY(sr_float(c, NULL, "metrics.mfu_window_h", &h));
    sc->metrics.mfu_window_s = h * 3600.0;
    SC_TRY(sr_bool(c, NULL, "metrics.colocated_baseline", &sc->metrics.colocated_baseline));
    SC_TRY(sr_float(c, NULL, "metrics.sample_s", &sc->metrics.sample_s));

    SC_TRY(sr_string(c, NULL, "output.trace", &sc->output.trace));
    if (sc->output.trace) {
        const char *tp = sc->output.trace;
        sn_node *n = at(c, "output.trace");
        if (!tp[0]) return sr_fail(c, n, "output.trace", "empty path");
        /* confined to the working directory: the lexical part here, the symbolic links
         * on the way when `run` creates it (with output.trace_where) */
        int up = 0;
        for (const char *q = tp; *q && !up; q += strcspn(q, "/"), q += *q == '/')
            up = q[0] == '.' && q[1] == '.' && (q[2] == '/' || !q[2]);
        if (tp[0] == '/' || up)
            return sr_fail(c, n, "output.trace",
                           "'%.400s' leaves the working directory (%s); a scenario may only name "
                           "a trace inside it (give run -o FILE to write elsewhere)",
                           tp, tp[0] == '/' ? "an absolute path" : "a '..' component");
        char w[600];
        if (n && n->line > 0) snprintf(w, sizeof w, "%s:%d", n->file ? n->file : "?", n->line);
        else snprintf(w, sizeof w, "%s", n && n->file ? n->file : c->main_path);
        sc->output.trace_where = xstrdup(w);
    }
    int ev = 0, flush = 0;
    SC_TRY(sr_enum(c, NULL, "output.events", &ev));
    sc->output.events = (sim_events_window)ev;
    if (sc->output.events == SIM_EVENTS_FIRST) {
        SC_TRY(sr_require(c, NULL, "output.events_cycles", "output.events = \"first\""));
        SC_TRY(sc_get_int(c, NULL, "output.events_cycles", &sc->output.events_cycles));
    } else {
        SC_TRY(sr_refuse(c, NULL, "output.events_cycles", "output.events is not \"first\""));
        sc->output.events_cycles = 0;
    }
    SC_TRY(sr_enum(c, NULL, "output.flush", &flush));
    sc->output.flush = (sim_flush)flush;
    SC_TRY(sc_get_int(c, NULL, "output.checkpoint_every", &sc->output.checkpoint_every));
    return 0;
}

const sim_reference_fig sim_reference_figs[] = {
#define F(k, u)                                                                                    \
    { #k, offsetof(sim_reference, k), u }
    F(utilisation, "fraction"),
    F(training_phase_min, "min"),
    F(sync_phase_min, "min"),
    F(mfu, "fraction"),
    F(mfu_peak, "fraction"),
    F(mfu_peak_window_h, "h"),
    F(throughput_tok_s, "tokens/s"),
    F(speed_vs_colocated, "fraction"),
    F(speed_vs_colocated_peak, "fraction"),
    F(tokens, "tokens"),
    F(duration_h, "h"),
    F(cycles, "cycles"),
    F(cost_per_peer_hour, "USD/h"),
    F(cost_per_replica_hour, "USD/h"),
    F(activation_mib_raw, "MiB"),
    F(activation_mib_compressed, "MiB"),
    F(params, "1"),
#undef F
};
const size_t sim_reference_n_figs = sizeof sim_reference_figs / sizeof sim_reference_figs[0];

double sim_reference_value(const sim_reference *r, size_t i) {
    if (i >= sim_reference_n_figs) return NAN;
    return *(const double *)((const char *)r + sim_reference_figs[i].offset);
}

int sim_reference_find(const char *key) {
    for (size_t i = 0; i < sim_reference_n_figs; i++)
        if (!strcmp(sim_reference_figs[i].key, key)) return (int)i;
    return -1;
}

static int fill_reference(sr_ctx *c, sim_scenario *sc) {
    sim_reference *r = &sc->reference;
    r->present = 0;
    r->uncertainty = xcalloc(sim_reference_n_figs, sizeof *r->uncertainty);
    for (size_t i = 0; i < sim_reference_n_figs; i++) {
        char key[96], ukey[128];
        snprintf(key, sizeof key, "reference.%s", sim_reference_figs[i].key);
        snprintf(ukey, sizeof ukey, "reference.uncertainty.%s", sim_reference_figs[i].key);
        double *v = (double *)((char *)r + sim_reference_figs[i].offset);
        *v = NAN;
        r->uncertainty[i] = NAN;
        if (sr_float(c, NULL, key, v) == 1) r->present = 1;
        SC_TRY(sr_float(c, NULL, ukey, &r->uncertainty[i]));
        if (!isnan(r->uncertainty[i]) && isnan(*v))
            return sr_fail(c, at(c, ukey), ukey,
                           "an uncertainty for a figure that is not given (%s)", key);
    }
    sn_node *g = sr_node(c, NULL, "reference");
    if (g) {
        char w[600];
        snprintf(w, sizeof w, "%s:%d", g->file ? g->file : "?", g->line);
        r->where = xstrdup(w);
    }
    if (r->present) {
        SC_TRY(sr_require(c, NULL, "reference.source", "reference figures are given"));
        SC_TRY(sr_require(c, NULL, "reference.url", "reference figures are given"));
    }
    SC_TRY(sr_string(c, NULL, "reference.source", &r->source));
    SC_TRY(sr_string(c, NULL, "reference.url", &r->url));
    SC_TRY(sr_string(c, NULL, "reference.notes", &r->notes));
    sn_node *extra = sr_list(c, NULL, "reference.extra_sources");
    if (extra) {
        r->extra_sources = xcalloc((size_t)extra->n_kids, sizeof *r->extra_sources);
        for (int i = 0; i < extra->n_kids; i++) r->extra_sources[i] = xstrdup(extra->kids[i]->s);
        r->n_extra_sources = extra->n_kids;
    }
    return 0;
}

int sc_fill_general(sr_ctx *c, sim_scenario *sc) {
    SC_TRY(fill_name(c, sc));
    SC_TRY(fill_model(c, sc));
    SC_TRY(fill_training(c, sc));
    sc->model.seq_len = sc->training.seq_len;
    char msg[256];
    if (km_config_validate(&sc->model, msg, sizeof msg))
        return sr_fail(c, at(c, "model"), "model", "%s", msg);
    SC_TRY(fill_pipeline(c, sc));
    SC_TRY(fill_compression(c, sc));
    SC_TRY(fill_metrics_output(c, sc));
    SC_TRY(fill_reference(c, sc));
    return 0;
}
