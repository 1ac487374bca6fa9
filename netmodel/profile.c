/* netmodel/profile.c: parsing and querying SimGrid-style profiles; see profile.h. */
#include "netmodel/profile.h"

#include "netmodel/nm_alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Times must stay below 2^62 ns (about 146 years) so that t_last + period fits. */
#define TIME_LIMIT_NS 4611686018427387904.0

struct nm_profile {
    char *name;
    size_t n, cap;
    nm_time *times; /* strictly increasing, ns */
    double *values;
    nm_time loop_after; /* LOOPAFTER period in ns, -1 when not looping */
    nm_time loop_len;   /* times[n-1] + loop_after when looping */
};

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = nm_xrealloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

/* ---- value ranges ----------------------------------------------------------------- */

nm_value_range nm_range_state(void) {
    return (nm_value_range){.min = 0, .max = 1, .integral = 1, .what = "a state (0 or 1)"};
}

nm_value_range nm_range_multiplier(void) {
    return (nm_value_range){.min = 0,
                            .max = INFINITY,
                            .min_open = 1,
                            .max_open = 1,
                            .what = "a multiplier (finite, > 0)"};
}

nm_value_range nm_range_any(void) {
    return (nm_value_range){
        .min = -INFINITY, .max = INFINITY, .min_open = 1, .max_open = 1, .what = "a finite number"};
}

int nm_range_contains(const nm_value_range *r, double v) {
    if (!isfinite(v)) return 0;
    if (r->min_open ? !(v > r->min) : !(v >= r->min)) return 0;
    if (r->max_open ? !(v < r->max) : !(v <= r->max)) return 0;
    if (r->integral && v != floor(v)) return 0;
    return 1;
}

/* ---- parser ------------------------------------------------------------------------ */

typedef struct parser {
    const char *name;
    const nm_value_range *range;
    char *err;
    size_t errlen;
    int line;
} parser;

static void perr(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(parser *ps, const char *fmt, ...) {
    if (!ps->err || ps->errlen == 0) return;
    int k = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->name, ps->line);
    if (k < 0 || (size_t)k >= ps->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + k, ps->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

/* Next whitespace-separated token of *s (modified in place), or NULL. */
static char *next_token(char **s) {
    char *p = *s;
    while (*p == ' ' || *p == '\t' || *p == '\v' || *p == '\f') p++;
    if (!*p) {
        *s = p;
        return NULL;
    }
    char *start = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\v' && *p != '\f') p++;
    if (*p) *p++ = '\0';
    *s = p;
    return start;
}

/* Strict number: the whole token, finite, no overflow or underflow. */
static int parse_number(parser *ps, const char *tok, const char *what, double *out) {
    char *end;
    errno = 0;
    double v = strtod(tok, &end);
    if (end == tok || *end != '\0') {
        perr(ps, "malformed %s '%s'", what, tok);
        return -1;
    }
    if (errno == ERANGE || !isfinite(v)) {
        perr(ps, "%s '%s' is not a finite number in double range", what, tok);
        return -1;
    }
    *out = v;
    return 0;
}

static void push_event(nm_profile *p, nm_time t, double v) {
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->times = nm_xrealloc(p->times, p->cap * sizeof *p->times);
        p->values = nm_xrealloc(p->values, p->cap * sizeof *p->values);
    }
    p->times[p->n] = t;
    p->values[p->n] = v;
    p->n++;
}

typedef struct parse_state {
    int loop_line; /* line of LOOPAFTER, 0 if none */
    int prev_line; /* line of the previous event */
} parse_state;

static int parse_loopafter(parser *ps, nm_profile *p, parse_state *st, char *rest) {
    if (st->loop_line) {
        perr(ps, "LOOPAFTER given twice (first at line %d)", st->loop_line);
        return -1;
    }
    char *tok = next_token(&rest);
    if (!tok) {
        perr(ps, "LOOPAFTER needs a period in seconds");
        return -1;
    }
    double period;
    if (parse_number(ps, tok, "LOOPAFTER period", &period)) return -1;
    char *extra = next_token(&rest);
    if (extra) {
        perr(ps, "trailing garbage '%s' after the LOOPAFTER period", extra);
        return -1;
    }
    if (!(period > 0)) {
        perr(ps, "LOOPAFTER period must be > 0 s, got '%s'", tok);
        return -1;
    }
    if (period * 1e9 >= TIME_LIMIT_NS) {
        perr(ps, "LOOPAFTER period '%s' s is too large (limit %.0f s)", tok, TIME_LIMIT_NS * 1e-9);
        return -1;
    }
    nm_time ns = nm_from_s(period);
    if (ns < 1) {
        perr(ps, "LOOPAFTER period '%s' s is below 1 ns", tok);
        return -1;
    }
    p->loop_after = ns;
    st->loop_line = ps->line;
    return 0;
}

static int parse_event(parser *ps, nm_profile *p, parse_state *st, char *time_tok, char *rest) {
    char *value_tok = next_token(&rest);
    if (!value_tok) {
        perr(ps, "expected 'time value', got only '%s'", time_tok);
        return -1;
    }
    double t, v;
    if (parse_number(ps, time_tok, "time", &t)) return -1;
    if (parse_number(ps, value_tok, "value", &v)) return -1;
    char *extra = next_token(&rest);
    if (extra) {
        perr(ps, "trailing garbage '%s' after the value", extra);
        return -1;
    }
    if (t < 0) {
        perr(ps, "negative time '%s'", time_tok);
        return -1;
    }
    if (t * 1e9 >= TIME_LIMIT_NS) {
        perr(ps, "time '%s' s is too large (limit %.0f s)", time_tok, TIME_LIMIT_NS * 1e-9);
        return -1;
    }
    nm_time ns = nm_from_s(t);
    if (p->n > 0 && ns <= p->times[p->n - 1]) {
        double prev = nm_to_s(p->times[p->n - 1]);
        if (t <= prev)
            perr(ps,
                 "time '%s' is not after the previous event's time %.9g s (line %d); "
                 "times must increase strictly",
                 time_tok, prev, st->prev_line);
        else
            perr(ps, "time '%s' is within 1 ns of the previous event's time (line %d)", time_tok,
                 st->prev_line);
        return -1;
    }
    if (!nm_range_contains(ps->range, v)) {
        perr(ps, "value '%s' is not %s", value_tok, ps->range->what ? ps->range->what : "in range");
        return -1;
    }
    push_event(p, ns, v);
    st->prev_line = ps->line;
    return 0;
}

/* Parse one line (already without its '\n'); modifies it. */
static int parse_line(parser *ps, nm_profile *p, parse_state *st, char *line) {
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *rest = line;
    char *first = next_token(&rest);
    if (!first) return 0;
    if (strcmp(first, "LOOPAFTER") == 0) return parse_loopafter(ps, p, st, rest);
    return parse_event(ps, p, st, first, rest);
}

static nm_profile *parse_text(const char *text, size_t len, const char *name,
                              const nm_value_range *range, char *err, size_t errlen) {
    if (err && errlen) err[0] = '\0';
    parser ps = {.name = name, .range = range, .err = err, .errlen = errlen, .line = 0};
    parse_state st = {0};
    nm_profile *p = nm_xrealloc(NULL, sizeof *p);
    *p = (nm_profile){.name = dup_string(name), .loop_after = -1, .loop_len = -1};
    char *buf = NULL;
    size_t bufcap = 0;
    size_t pos = 0;
    int ok = 1;
    while (ok && pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - start) : len - pos;
        ps.line++;
        if (memchr(start, '\0', llen)) {
            perr(&ps, "NUL byte in a text profile");
            ok = 0;
            break;
        }
        if (llen + 1 > bufcap) {
            bufcap = llen + 1;
            buf = nm_xrealloc(buf, bufcap);
        }
        memcpy(buf, start, llen);
        buf[llen] = '\0';
        if (parse_line(&ps, p, &st, buf)) ok = 0;
        pos += llen + (nl ? 1 : 0);
    }
    free(buf);
    if (ok && p->n == 0) {
        if (st.loop_line) {
            ps.line = st.loop_line;
            perr(&ps, "LOOPAFTER in a profile without events");
        } else {
            if (ps.line == 0) ps.line = 1;
            perr(&ps, "no events: a profile needs at least one 'time value' line");
        }
        ok = 0;
    }
    if (!ok) {
        nm_profile_free(p);
        return NULL;
    }
    if (p->loop_after > 0) p->loop_len = p->times[p->n - 1] + p->loop_after;
    return p;
}

nm_profile *nm_profile_parse_string(const char *text, const char *name, const nm_value_range *range,
                                    char *err, size_t errlen) {
    return parse_text(text, strlen(text), name ? name : "<string>", range, err, errlen);
}

nm_profile *nm_profile_parse_file(const char *path, const nm_value_range *range, char *err,
                                  size_t errlen) {
    if (err && errlen) err[0] = '\0';
    /* a regular file only (a FIFO would block, /dev/zero never ends), at most 64 MiB */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st = {0};
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open: %s", path,
                     fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0) close(fd);
        return NULL;
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        if (err && errlen) snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    const size_t max_len = (size_t)64 << 20;
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len > max_len) {
            if (err && errlen) snprintf(err, errlen, "%s: larger than %zu bytes", path, max_len);
            fclose(fp);
            free(text);
            return NULL;
        }
        if (cap - len < 4096) {
            cap = cap ? 2 * cap : 8192;
            text = nm_xrealloc(text, cap);
        }
        size_t got = fread(text + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    int read_error = ferror(fp);
    if (fclose(fp) != 0) read_error = 1;
    if (read_error) {
        if (err && errlen) snprintf(err, errlen, "%s: read error", path);
        free(text);
        return NULL;
    }
    nm_profile *p = parse_text(text, len, path, range, err, errlen);
    free(text);
    return p;
}

void nm_profile_free(nm_profile *p) {
    if (!p) return;
    free(p->name);
    free(p->times);
    free(p->values);
    free(p);
}

/* ---- queries ----------------------------------------------------------------------- */

const char *nm_profile_name(const nm_profile *p) { return p->name; }
size_t nm_profile_count(const nm_profile *p) { return p->n; }
nm_time nm_profile_event_time(const nm_profile *p, size_t i) { return p->times[i]; }
double nm_profile_event_value(const nm_profile *p, size_t i) { return p->values[i]; }
nm_time nm_profile_loop_after(const nm_profile *p) { return p->loop_after; }

int nm_profile_values_in(const nm_profile *p, const nm_value_range *r) {
    for (size_t i = 0; i < p->n; i++)
        if (!nm_range_contains(r, p->values[i])) return 0;
    return 1;
}

/* First index whose time is >= t (n if none). */
static size_t lower_bound(const nm_profile *p, nm_time t) {
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->times[mid] < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

double nm_profile_value_at(const nm_profile *p, nm_time t, double dflt) {
    if (t < p->times[0]) return dflt;
    nm_time r = t;
    if (p->loop_len > 0) {
        r = t % p->loop_len;
        /* t >= times[0] and r < times[0] imply t is in a later loop: the previous loop's
         * last value holds until this loop's first event. */
        if (r < p->times[0]) return p->values[p->n - 1];
    }
    size_t i = lower_bound(p, r + 1); /* first index with time > r */
    return p->values[i - 1];          /* i >= 1 because times[0] <= r */
}

void nm_profile_seek(const nm_profile *p, nm_time t, nm_profile_cursor *c) {
    if (t < 0) t = 0;
    if (p->loop_len <= 0) {
        c->loop = 0;
        c->index = lower_bound(p, t);
        return;
    }
    c->loop = t / p->loop_len;
    c->index = lower_bound(p, t - c->loop * p->loop_len);
    if (c->index == p->n) {
        c->index = 0;
        c->loop++;
    }
}

int nm_profile_peek(const nm_profile *p, const nm_profile_cursor *c, nm_time *t, double *v) {
    if (c->index >= p->n) return 0;
    nm_time ti = p->times[c->index];
    nm_time base = 0;
    if (c->loop > 0) {
        if (p->loop_len <= 0) return 0;
        if (c->loop > (NM_TIME_MAX - ti) / p->loop_len) return 0;
        base = c->loop * p->loop_len;
    }
    if (t) *t = base + ti;
    if (v) *v = p->values[c->index];
    return 1;
}

void nm_profile_advance(const nm_profile *p, nm_profile_cursor *c) {
    if (c->index >= p->n) return;
    c->index++;
    if (c->index == p->n && p->loop_len > 0) {
        c->index = 0;
        c->loop++;
    }
}

int nm_profile_next_after(const nm_profile *p, nm_time t, nm_time *next_t, double *next_v) {
    if (t == NM_TIME_MAX) return 0;
    nm_profile_cursor c;
    nm_profile_seek(p, t + 1, &c);
    return nm_profile_peek(p, &c, next_t, next_v);
}
