/* sim/report/perfetto.c: Chrome trace-event JSON export (see perfetto.h). */
#include "sim/report/perfetto.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/fields.h"
#include "sim/trace/trace.h"
#include "sim/trace/trace_events.h"
#include "sim/trace/trace_read.h"
#include "sim/base/util.h"

#define BLOCK 65536

static const char *category(int32_t kind) {
    switch (kind) {
    case TRACE_EV_FORWARD:
    case TRACE_EV_BACKWARD:
    case TRACE_EV_RECOMPUTE_BACKWARD:
    case TRACE_EV_LAST_FUSED:
    case TRACE_EV_OPTIMIZER: return "compute";
    case TRACE_EV_SEND_ACTIVATION:
    case TRACE_EV_SEND_GRADIENT: return "network";
    case TRACE_EV_UPLOAD_PSEUDOGRAD:
    case TRACE_EV_DOWNLOAD_PARTITION:
    case TRACE_EV_MERGE:
    case TRACE_EV_UPLOAD_MERGED:
    case TRACE_EV_DOWNLOAD_MERGED:
    case TRACE_EV_DOWNLOAD_WEIGHTS: return "sync";
    default: return "state";
    }
}

static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
        else fputc(*p, out);
    }
    fputc('"', out);
}

/* Nanoseconds as microseconds with three decimals, exactly. */
static void put_us(FILE *out, int64_t ns) {
    const char *sign = ns < 0 ? "-" : "";
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    fprintf(out, "%s%llu.%03llu", sign, (unsigned long long)(a / 1000),
            (unsigned long long)(a % 1000));
}

/* Peer names from /peers (stage, replica per peer); n = 0 when the table is empty. */
static int read_peers(const char *path, trace_peer_rec **peers, size_t *n, char *err,
                      size_t errlen) {
    trace_file *tf;
    if (trace_read_open(path, &tf, err, errlen)) return -1;
    void *recs = NULL;
    int rc = trace_read_peers(tf, (trace_peer_rec **)&recs, n);
    if (rc) snprintf(err, errlen, "%s", trace_read_error(tf));
    trace_read_close(tf);
    *peers = recs;
    return rc;
}

int perfetto_write(const char *path, int32_t cycles, FILE *out, uint64_t *events,
                   uint64_t *bad_rows, char *err, size_t errlen) {
    trace_peer_rec *peers = NULL;
    size_t np = 0;
    if (read_peers(path, &peers, &np, err, errlen)) return -1;
    trace_events *ev;
    if (trace_events_open(path, &ev, err, errlen)) {
        free(peers);
        return -1;
    }
    fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"source\":\"orionsim\",\"trace\":");
    json_string(out, path);
    fprintf(out, "},\n\"traceEvents\":[\n");
    /* metadata: stages as processes, peers as threads */
    int max_stage = -1;
    for (size_t i = 0; i < np; i++)
        if (peers[i].stage > max_stage) max_stage = peers[i].stage;
    int first = 1;
    for (int s = 0; s <= max_stage; s++) {
        fprintf(out,
                "%s{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":"
                "\"stage %d\"}}",
                first ? "" : ",\n", s, s);
        fprintf(out,
                ",\n{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,\"args\":{"
                "\"sort_index\":%d}}",
                s, s);
        first = 0;
    }
    for (size_t i = 0; i < np; i++) {
        fprintf(out,
                "%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":"
                "\"peer %d (stage %d, replica %d)\"}}",
                first ? "" : ",\n", peers[i].stage < 0 ? 0 : peers[i].stage, peers[i].peer,
                peers[i].peer, peers[i].stage, peers[i].replica);
        first = 0;
    }
    trace_event_rec *buf = xmalloc(BLOCK * sizeof *buf);
    uint64_t n_ev = 0, bad = 0;
    int rc = 0;
    for (;;) {
        int64_t got = trace_events_next(ev, buf, BLOCK, err, errlen);
        if (got < 0) {
            rc = -1;
            break;
        }
        if (got == 0) break;
        for (int64_t i = 0; i < got; i++) {
            const trace_event_rec *e = &buf[i];
            if (cycles > 0 && e->cycle >= cycles) continue;
            if (e->peer < 0 || (size_t)e->peer >= np || e->stage < -1 || e->stage > max_stage) {
                bad++; /* an event of no peer in /peers, or of no stage: not written */
                continue;
            }
            char kb[16];
            int64_t dur = 0;
            if (e->t_end_ns < e->t_start_ns) bad++;
            else if ((uint64_t)e->t_end_ns - (uint64_t)e->t_start_ns <= (uint64_t)INT64_MAX)
                dur = (int64_t)((uint64_t)e->t_end_ns - (uint64_t)e->t_start_ns);
            else bad++;
            fprintf(out,
                    "%s{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":",
                    first ? "" : ",\n", trace_events_kind_name(e->kind, kb, sizeof kb),
                    category(e->kind), e->stage < 0 ? 0 : e->stage, e->peer);
            put_us(out, e->t_start_ns);
            fputs(",\"dur\":", out);
            put_us(out, dur);
            fprintf(out, ",\"args\":{\"microbatch\":%lld,\"bytes\":%lld,\"flops\":",
                    (long long)e->microbatch, (long long)e->bytes);
            if (isfinite(e->flops)) {
                char d[40];
                fputs(sim_format_double(d, sizeof d, e->flops), out);
            } else {
                fputs("null", out);
            }
            fprintf(out, ",\"other\":%d,\"cycle\":%d,\"inner_step\":%d}}", e->other, e->cycle,
                    e->inner_step);
            first = 0;
            n_ev++;
        }
    }
    free(buf);
    free(peers);
    trace_events_close(ev);
    fprintf(out, "\n]}\n");
    if (!rc && ferror(out)) {
        snprintf(err, errlen, "%s:%d: write error", __FILE__, __LINE__);
        rc = -1;
    }
    if (events) *events = n_ev;
    if (bad_rows) *bad_rows = bad;
    return rc;
}
