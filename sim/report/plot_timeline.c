/* sim/report/plot_timeline.c: the figures drawn from a trace's events (sim/report/plot.h):
 *   (c) the pipeline timeline: peers (rows, stage-major) × simulated time, one box per
 *       event coloured by kind, in two panels by default: the first `timeline_min`
 *       minutes of the first training phase, and the first synchronisation (from a
 *       minute before it starts to a minute after it ends); --window: one panel;
 *   (d) per-peer upload times of the pseudo-gradient in the sync phases, beside each
 *       peer's upload bandwidth, so bandwidth-limited stragglers stand out.
 * Events are streamed a block at a time (sim/trace/trace_events.h); only the rows a figure
 * needs reach its CSV file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/fields.h"
#include "sim/report/plot.h"
#include "sim/trace/trace_events.h"
#include "sim/base/util.h"

#define BLOCK 65536

/* Nanoseconds from a double, clamped to int64 (a corrupt or huge value cannot overflow). */
static int64_t ns_of(double v) {
    if (!(v > -9.2e18)) return v != v ? 0 : (int64_t)-9200000000000000000LL;
    if (v > 9.2e18) return (int64_t)9200000000000000000LL;
    return (int64_t)v;
}

/* Event kinds grouped for colour; 0: not drawn. Names must be single words (gnuplot). */
static int kind_group(int32_t k) {
    switch (k) {
    case TRACE_EV_FORWARD: return 1;
    case TRACE_EV_BACKWARD:
    case TRACE_EV_RECOMPUTE_BACKWARD: return 2;
    case TRACE_EV_LAST_FUSED: return 3;
    case TRACE_EV_OPTIMIZER: return 4;
    case TRACE_EV_SEND_ACTIVATION:
    case TRACE_EV_SEND_GRADIENT: return 5;
    case TRACE_EV_UPLOAD_PSEUDOGRAD:
    case TRACE_EV_DOWNLOAD_PARTITION:
    case TRACE_EV_UPLOAD_MERGED:
    case TRACE_EV_DOWNLOAD_MERGED:
    case TRACE_EV_DOWNLOAD_WEIGHTS: return 6;
    case TRACE_EV_MERGE: return 7;
    case TRACE_EV_DOWN: return 8;
    default: return 0;
    }
}

/* Row of each peer id: stage-major (all replicas of stage 0 first). /peers is validated
 * (trace_read_peers: peer = row, stage and replica in range); max_peer bounds event peers. */
static int *peer_rows(const plot_trace *t, int *n_rows, int max_peer) {
    int n = max_peer + 1;
    if ((size_t)n < t->n_peers) n = (int)t->n_peers;
    int *row = xcalloc((size_t)n, sizeof *row);
    for (int p = 0; p < n; p++) row[p] = p;
    for (size_t i = 0; i < t->n_peers; i++) {
        const trace_peer_rec *q = &t->peers[i];
        if (q->peer >= 0) row[q->peer] = q->stage * (t->replicas ? t->replicas : 1) + q->replica;
    }
    *n_rows = n;
    return row;
}

/* gnuplot tic list "(\"s0 r0\" 0, ...)" of the rows; stages only when there are many. */
static char *row_tics(const plot_trace *t, int n_rows, const int *row) {
    size_t cap = 32 + (t->n_peers + 1) * 48, at = 0;
    char *s = xmalloc(cap);
    at += (size_t)snprintf(s, cap, "(");
    int sparse = n_rows > 64, first = 1;
    for (size_t i = 0; i < t->n_peers; i++) {
        const trace_peer_rec *q = &t->peers[i];
        if (q->peer < 0 || q->peer >= n_rows || (sparse && q->replica != 0)) continue;
        if (at + 48 >= cap) break;
        if (sparse)
            at += (size_t)snprintf(s + at, cap - at, "%s\"s%d\" %d", first ? "" : ", ", q->stage,
                                   row[q->peer]);
        else
            at += (size_t)snprintf(s + at, cap - at, "%s\"s%d r%d\" %d", first ? "" : ", ",
                                   q->stage, q->replica, row[q->peer]);
        first = 0;
    }
    snprintf(s + at, cap - at, ")");
    return s;
}

typedef struct {
    int64_t t0, t1; /* window, ns */
    char title[160];
    char *csv;
    FILE *f;
    size_t rows;
} panel;

static void first_phases(const plot_trace *t, int64_t *train0, int64_t *train1, int64_t *sync0,
                         int64_t *sync1) {
    *train0 = *train1 = *sync0 = *sync1 = -1;
    int32_t cyc = -1;
    for (size_t i = 0; i < t->n_phases; i++) {
        const trace_phase_rec *p = &t->phases[i];
        if (p->phase == TRACE_PHASE_TRAINING && (*train0 < 0 || p->t_start_ns < *train0)) {
            *train0 = p->t_start_ns;
            *train1 = p->t_end_ns;
            cyc = p->cycle;
        }
    }
    for (size_t i = 0; i < t->n_phases; i++) {
        const trace_phase_rec *p = &t->phases[i];
        if (p->cycle != cyc ||
            (p->phase != TRACE_PHASE_UPLOADING && p->phase != TRACE_PHASE_MERGING))
            continue;
        if (*sync0 < 0 || p->t_start_ns < *sync0) *sync0 = p->t_start_ns;
        if (p->t_end_ns > *sync1) *sync1 = p->t_end_ns;
    }
}

int plot_timeline(plot_ctx *c, const plot_trace *t, char *err, size_t errlen) {
    if (t->event_rows <= 0) {
        plot_skip(c, t->name, "timeline: the trace has no events (output.events = \"none\"?)");
        return 0;
    }
    panel pn[2];
    memset(pn, 0, sizeof pn);
    int np = 0;
    if (c->have_window) {
        pn[0].t0 = ns_of(c->window_min[0] * 6e10);
        pn[0].t1 = ns_of(c->window_min[1] * 6e10);
        snprintf(pn[0].title, sizeof pn[0].title, "minutes %g to %g", c->window_min[0],
                 c->window_min[1]);
        np = 1;
    } else {
        int64_t tr0, tr1, sy0, sy1;
        first_phases(t, &tr0, &tr1, &sy0, &sy1);
        if (tr0 < 0) {
            plot_skip(c, t->name, "timeline: the trace has no training phase");
            return 0;
        }
        int64_t len = ns_of(c->timeline_min * 6e10);
        pn[0].t0 = tr0;
        pn[0].t1 = tr1 > tr0 && (double)tr1 - (double)tr0 < (double)len
                       ? tr1
                       : ns_of((double)tr0 + (double)len);
        snprintf(pn[0].title, sizeof pn[0].title, "first training phase: its first %g min",
                 c->timeline_min);
        np = 1;
        if (sy0 >= 0 && sy1 > sy0) {
            pn[1].t0 = sy0 > 60000000000LL ? sy0 - 60000000000LL : 0;
            pn[1].t1 = ns_of((double)sy1 + 6e10);
            snprintf(pn[1].title, sizeof pn[1].title, "first synchronisation (%.1f min)",
                     (double)(sy1 - sy0) / 6e10);
            np = 2;
        }
    }
    int n_rows;
    int *row = peer_rows(t, &n_rows, 0);
    int rc = 0;
    for (int i = 0; i < np && !rc; i++) {
        char name[512];
        snprintf(name, sizeof name, "%s-timeline-%d.csv", t->name, i + 1);
        pn[i].csv = plot_path(c->datadir, name);
        pn[i].f = fopen(pn[i].csv, "w");
        if (!pn[i].f) {
            snprintf(err, errlen, "%s: cannot create: %s", pn[i].csv, strerror(errno));
            rc = -1;
        } else {
            fprintf(pn[i].f, "xlo,xhi,ylo,yhi,g\n");
        }
    }
    trace_events *ev = NULL;
    if (!rc && trace_events_open(t->path, &ev, err, errlen)) rc = -1;
    trace_event_rec *buf = rc ? NULL : xmalloc(BLOCK * sizeof *buf);
    while (!rc) {
        int64_t got = trace_events_next(ev, buf, BLOCK, err, errlen);
        if (got < 0) rc = -1;
        if (got <= 0) break;
        for (int64_t j = 0; j < got; j++) {
            const trace_event_rec *e = &buf[j];
            int g = kind_group(e->kind);
            if (!g || e->peer < 0 || e->peer >= n_rows) continue; /* no peer of /peers */
            int r = row[e->peer];
            /* compute on the upper band of a row, transfers on the lower, down fills it */
            double ylo = g == 8 ? r - 0.45 : (g == 5 || g == 6) ? r + 0.08 : r - 0.42;
            double yhi = g == 8 ? r + 0.45 : (g == 5 || g == 6) ? r + 0.42 : r + 0.02;
            for (int i = 0; i < np; i++) {
                if (e->t_end_ns < pn[i].t0 || e->t_start_ns > pn[i].t1) continue;
                int64_t a = e->t_start_ns < pn[i].t0 ? pn[i].t0 : e->t_start_ns;
                int64_t b = e->t_end_ns > pn[i].t1 ? pn[i].t1 : e->t_end_ns;
                char x0[40], x1[40], y0[40], y1[40];
                fprintf(pn[i].f, "%s,%s,%s,%s,%d\n",
                        sim_format_double(x0, sizeof x0, (double)a / 6e10),
                        sim_format_double(x1, sizeof x1, (double)b / 6e10),
                        sim_format_double(y0, sizeof y0, ylo),
                        sim_format_double(y1, sizeof y1, yhi), g);
                pn[i].rows++;
            }
        }
    }
    free(buf);
    trace_events_close(ev);
    for (int i = 0; i < np; i++)
        if (pn[i].f && fclose(pn[i].f) && !rc) {
            snprintf(err, errlen, "%s: write error: %s", pn[i].csv, strerror(errno));
            rc = -1;
        }
    /* Drop empty panels. */
    int keep = 0;
    for (int i = 0; i < np; i++) {
        if (pn[i].rows) {
            if (keep != i) {
                free(pn[keep].csv);
                pn[keep] = pn[i];
                pn[i].csv = NULL;
            }
            keep++;
        } else if (!rc) {
            char why[256];
            snprintf(
                why, sizeof why,
                "timeline: no events in the window \"%s\" (events kept only for the first cycles?)",
                pn[i].title);
            plot_skip(c, t->name, why);
        }
    }
    if (!rc && keep) {
        gp_vars vs = {0};
        gp_var_str(&vs, "title", t->name);
        gp_var_num(&vs, "npanels", keep);
        gp_var_num(&vs, "nrows", n_rows);
        char *tics = row_tics(t, n_rows, row);
        gp_var_str(&vs, "ytics", tics);
        free(tics);
        for (int i = 0; i < keep; i++) {
            char v[16];
            snprintf(v, sizeof v, "d%d", i + 1);
            gp_var_str(&vs, v, pn[i].csv);
            snprintf(v, sizeof v, "sub%d", i + 1);
            gp_var_str(&vs, v, pn[i].title);
            snprintf(v, sizeof v, "xlo%d", i + 1);
            gp_var_num(&vs, v, (double)pn[i].t0 / 6e10);
            snprintf(v, sizeof v, "xhi%d", i + 1);
            gp_var_num(&vs, v, (double)pn[i].t1 / 6e10);
        }
        char name[512];
        snprintf(name, sizeof name, "%s-timeline", t->name);
        char *stem = plot_path(c->outdir, name);
        rc = gp_render(c->gp, "timeline", stem, &vs, err, errlen);
        if (!rc) plot_made(c, stem);
        free(stem);
        gp_vars_free(&vs);
    }
    for (int i = 0; i < np; i++) free(pn[i].csv);
    free(row);
    return rc;
}

/* ---- (d) per-peer upload times ------------------------------------------------------- */

typedef struct {
    int peer, cycle;
    double dur_s;
} upload;

int plot_uploads(plot_ctx *c, const plot_trace *t, char *err, size_t errlen) {
    if (t->event_rows <= 0) {
        plot_skip(c, t->name, "uploads: the trace has no events");
        return 0;
    }
    trace_events *ev;
    if (trace_events_open(t->path, &ev, err, errlen)) return -1;
    trace_event_rec *buf = xmalloc(BLOCK * sizeof *buf);
    upload *u = NULL;
    size_t nu = 0, cap = 0;
    int rc = 0, max_peer = 0;
    size_t peer_limit = t->n_peers ? t->n_peers : 65536;
    for (;;) {
        int64_t got = trace_events_next(ev, buf, BLOCK, err, errlen);
        if (got < 0) rc = -1;
        if (got <= 0) break;
        for (int64_t j = 0; j < got; j++) {
            if (buf[j].kind != TRACE_EV_UPLOAD_PSEUDOGRAD || buf[j].peer < 0 ||
                (size_t)buf[j].peer >= peer_limit)
                continue; /* no peer of /peers */
            if (nu == cap) u = xrealloc(u, (cap = cap ? 2 * cap : 256) * sizeof *u);
            u[nu++] = (upload){buf[j].peer, buf[j].cycle,
                               ((double)buf[j].t_end_ns - (double)buf[j].t_start_ns) * 1e-9};
            if (buf[j].peer > max_peer) max_peer = buf[j].peer;
        }
    }
    free(buf);
    trace_events_close(ev);
    if (rc || !nu) {
        free(u);
        if (!rc) plot_skip(c, t->name, "uploads: no upload_pseudograd events in the trace");
        return rc;
    }
    int n_rows;
    int *row = peer_rows(t, &n_rows, max_peer);
    double *sum = xcalloc((size_t)n_rows, sizeof *sum), *mx = xcalloc((size_t)n_rows, sizeof *mx);
    int *cnt = xcalloc((size_t)n_rows, sizeof *cnt);
    double *mbps = xcalloc((size_t)n_rows, sizeof *mbps);
    int max_cycle = 0;
    for (int p = 0; p < n_rows; p++) mbps[p] = NAN;
    for (size_t i = 0; i < t->n_peers; i++)
        if (t->peers[i].peer >= 0 && t->peers[i].peer < n_rows)
            mbps[t->peers[i].peer] = t->peers[i].up_bps / 1e6;
    for (size_t i = 0; i < nu; i++) {
        sum[u[i].peer] += u[i].dur_s;
        cnt[u[i].peer]++;
        if (u[i].dur_s > mx[u[i].peer]) mx[u[i].peer] = u[i].dur_s;
        if (u[i].cycle > max_cycle) max_cycle = u[i].cycle;
    }
    char name[512];
    snprintf(name, sizeof name, "%s-uploads.csv", t->name);
    char *each = plot_path(c->datadir, name);
    snprintf(name, sizeof name, "%s-uploads-peer.csv", t->name);
    char *per = plot_path(c->datadir, name);
    FILE *f = fopen(each, "w"), *g = f ? fopen(per, "w") : NULL;
    if (!f || !g) {
        snprintf(err, errlen, "%s: cannot create: %s", f ? per : each, strerror(errno));
        rc = -1;
    } else {
        char a[40], b[40], d[40];
        fprintf(f, "row,peer,cycle,seconds\n");
        for (size_t i = 0; i < nu; i++)
            fprintf(f, "%d,%d,%d,%s\n", row[u[i].peer], u[i].peer, u[i].cycle,
                    sim_format_double(a, sizeof a, u[i].dur_s));
        fprintf(g, "row,peer,label,mean_s,max_s,up_mbps\n");
        for (int p = 0; p < n_rows; p++) {
            int stage = -1, rep = -1;
            if ((size_t)p < t->n_peers) { /* validated: row p is peer p */
                stage = t->peers[p].stage;
                rep = t->peers[p].replica;
            }
            fprintf(g, "%d,%d,s%d r%d,%s,%s,%s\n", row[p], p, stage, rep,
                    cnt[p] ? sim_format_double(a, sizeof a, sum[p] / cnt[p]) : "nan",
                    cnt[p] ? sim_format_double(b, sizeof b, mx[p]) : "nan",
                    sim_format_double(d, sizeof d, mbps[p]));
        }
    }
    if (f && fclose(f) && !rc) {
        snprintf(err, errlen, "%s: write error: %s", each, strerror(errno));
        rc = -1;
    }
    if (g && fclose(g) && !rc) {
        snprintf(err, errlen, "%s: write error: %s", per, strerror(errno));
        rc = -1;
    }
    if (!rc) {
        gp_vars vs = {0};
        gp_var_str(&vs, "each", each);
        gp_var_str(&vs, "per", per);
        gp_var_str(&vs, "title", t->name);
        gp_var_num(&vs, "nrows", n_rows);
        gp_var_num(&vs, "ncycles", (double)max_cycle + 1);
        snprintf(name, sizeof name, "%s-uploads", t->name);
        char *stem = plot_path(c->outdir, name);
        rc = gp_render(c->gp, "uploads", stem, &vs, err, errlen);
        if (!rc) plot_made(c, stem);
        free(stem);
        gp_vars_free(&vs);
    }
    free(each);
    free(per);
    free(sum);
    free(mx);
    free(cnt);
    free(mbps);
    free(row);
    free(u);
    return rc;
}
