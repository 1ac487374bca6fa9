/* sim/flows/flows_csv.c: reading CSV flow lists, writing result CSV (flows_csv.h). */
#include "sim/flows/flows_csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/base/util.h"

#define MAX_START_S 1e9 /* as in flows files: keeps every time well inside int64 ns */
#define CSV_HEADER "flow,src,dst,bytes,start_s"

/* ---- node names -------------------------------------------------------------------- */

typedef struct {
    int *slot; /* node index + 1, 0 = empty; size mask + 1 (a power of two) */
    size_t mask;
    size_t *len; /* strlen of each node's name */
} name_index;

static uint64_t name_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void index_build(name_index *ix, const flows_spec *sp) {
    size_t size = 16;
    while (size < 2 * (size_t)sp->n_nodes) size *= 2;
    ix->slot = xcalloc(size, sizeof *ix->slot);
    ix->mask = size - 1;
    ix->len = xcalloc((size_t)sp->n_nodes + 1, sizeof *ix->len);
    for (int i = 0; i < sp->n_nodes; i++) {
        const char *nm = sp->nodes[i].name;
        ix->len[i] = strlen(nm);
        size_t at = (size_t)name_hash(nm, ix->len[i]) & ix->mask;
        while (ix->slot[at]) at = (at + 1) & ix->mask;
        ix->slot[at] = i + 1;
    }
}

/* The node named s[0..n) (any bytes, a NUL included), or -1. */
static int index_find(const name_index *ix, const flows_spec *sp, const char *s, size_t n) {
    for (size_t at = (size_t)name_hash(s, n) & ix->mask; ix->slot[at]; at = (at + 1) & ix->mask) {
        int i = ix->slot[at] - 1;
        if (ix->len[i] == n && !memcmp(sp->nodes[i].name, s, n)) return i;
    }
    return -1;
}

/* ---- reading ----------------------------------------------------------------------- */

static int fail(FILE *err, const char *path, long line, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(FILE *err, const char *path, long line, const char *col, const char *fmt, ...) {
    fprintf(err, "%s:%ld: %s: ", path, line, col);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fputc('\n', err);
    return EXIT_INPUT;
}

/* The whole file, NUL-terminated; NULL with a message on err. */
static char *read_all(const char *path, size_t *len, FILE *err) {
    struct stat st0;
    if (stat(path, &st0) == 0 && !S_ISREG(st0.st_mode)) { /* a FIFO blocks, /dev/zero never ends */
        fprintf(err, "%s: cannot open: not a regular file\n", path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    size_t cap = fstat(fileno(f), &sb) == 0 && sb.st_size > 0 ? (size_t)sb.st_size + 1 : 65536;
    char *buf = xmalloc(cap);
    size_t n = 0, got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) buf = xrealloc(buf, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(err, "%s: read error\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* A field as text for a message, cut and made printable. */
static const char *shown(const char *s, size_t n, char *buf, size_t len) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < len; i++)
        buf[k++] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
    if (n && k < n && k + 4 >= len) buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k] = 0;
    return buf;
}

/* A decimal integer of digits only, < 2^63. */
static int parse_u64(const char *s, size_t n, uint64_t *out) {
    if (n == 0 || n > 18) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Seconds written plainly (digits, at most one '.', at most 15 digits in all): the
 * integer of the digits over a power of ten, both exact doubles, so the one division
 * is correctly rounded, the value strtod gives (Clinger's fast path). 0, or -1 for
 * any other form, which strtod then reads. */
static int parse_plain_seconds(const char *s, size_t n, double *out) {
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    uint64_t m = 0;
    int digits = 0, frac = -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            m = m * 10 + (uint64_t)(s[i] - '0');
            if (++digits > 15) return -1;
            if (frac >= 0) frac++;
        } else if (s[i] == '.' && frac < 0) {
            frac = 0;
        } else {
            return -1;
        }
    }
    if (!digits) return -1;
    *out = frac > 0 ? (double)m / pow10[frac] : (double)m;
    return 0;
}

/* One data line (fields split in place); EXIT_INPUT on a problem. */
static int parse_line(const char *path, long lineno, char *s, size_t n, const flows_spec *sp,
                      const name_index *ix, flows_flow *fl, long expect_id, FILE *err) {
    char *f[5];
    size_t len[5];
    size_t nf = 0;
    char *start = s;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == ',') {
            if (nf < 5) {
                f[nf] = start;
                len[nf] = (size_t)(s + i - start);
            }
            nf++;
            start = s + i + 1;
        }
    }
    char b1[64], b2[64];
    if (nf != 5)
        return fail(err, path, lineno, "line", "expected 5 columns (" CSV_HEADER "), found %zu",
                    nf);
    uint64_t id;
    if (parse_u64(f[0], len[0], &id) || id != (uint64_t)expect_id)
        return fail(err, path, lineno, "flow",
                    "expected %ld (flows are numbered 0, 1, 2, ... in order), got \"%s\"",
                    expect_id, shown(f[0], len[0], b1, sizeof b1));
    fl->src = index_find(ix, sp, f[1], len[1]);
    if (fl->src < 0)
        return fail(err, path, lineno, "src", "unknown node \"%s\"",
                    shown(f[1], len[1], b1, sizeof b1));
    fl->dst = index_find(ix, sp, f[2], len[2]);
    if (fl->dst < 0)
        return fail(err, path, lineno, "dst", "unknown node \"%s\"",
                    shown(f[2], len[2], b1, sizeof b1));
    if (fl->dst == fl->src)
        return fail(err, path, lineno, "dst", "same node as src (\"%s\")", sp->nodes[fl->src].name);
    uint64_t bytes;
    if (parse_u64(f[3], len[3], &bytes))
        return fail(err, path, lineno, "bytes", "\"%s\" is not an integer number of bytes >= 0",
                    shown(f[3], len[3], b1, sizeof b1));
    if (bytes >= (1ULL << 53))
        return fail(err, path, lineno, "bytes", "%s bytes is too large (max 2^53 - 1)",
                    shown(f[3], len[3], b1, sizeof b1));
    fl->bytes = bytes;
    double t;
    int whole = 1;
    if (parse_plain_seconds(f[4], len[4], &t)) {
        /* the field ends at a ',' or the line's end: terminate it in place for strtod */
        char save = f[4][len[4]];
        f[4][len[4]] = 0;
        char *end;
        t = len[4] ? strtod(f[4], &end) : NAN;
        whole = len[4] && end == f[4] + len[4];
        f[4][len[4]] = save;
    }
    if (!whole || !isfinite(t))
        return fail(err, path, lineno, "start_s", "\"%s\" is not a finite number of seconds",
                    shown(f[4], len[4], b2, sizeof b2));
    if (t < 0 || t > MAX_START_S)
        return fail(err, path, lineno, "start_s", "must be in [0, %g] (got %g)", MAX_START_S, t);
    fl->start = nm_from_s(t);
    return 0;
}

int flows_csv_load(const char *path, flows_spec *sp, FILE *err) {
    size_t len;
    char *text = read_all(path, &len, err);
    if (!text) return EXIT_INPUT;
    name_index ix;
    index_build(&ix, sp);
    /* a first guess at the number of rows: the bytes over a short row */
    size_t cap = len / 24 + 16;
    size_t n0 = (size_t)sp->n_flows;
    sp->flows = xrealloc(sp->flows, (n0 + cap) * sizeof *sp->flows);
    int rc = 0;
    long lineno = 0;
    char *p = text, *end = text + len;
    while (p < end && !rc) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r') n--;
        lineno++;
        if (lineno == 1) {
            if (n != sizeof CSV_HEADER - 1 || memcmp(p, CSV_HEADER, n)) {
                char b[64];
                rc = fail(err, path, 1, "header", "expected \"" CSV_HEADER "\", found \"%s\"",
                          shown(p, n, b, sizeof b));
            }
        } else if (n == 0) {
            rc = fail(err, path, lineno, "line", "empty line");
        } else if (sp->n_flows == INT32_MAX - 1) {
            rc = fail(err, path, lineno, "line", "more than %d flows", INT32_MAX - 1);
        } else {
            if ((size_t)sp->n_flows == n0 + cap) {
                cap *= 2;
                sp->flows = xrealloc(sp->flows, (n0 + cap) * sizeof *sp->flows);
            }
            flows_flow *fl = &sp->flows[sp->n_flows];
            rc = parse_line(path, lineno, p, n, sp, &ix, fl, (long)(sp->n_flows - (int)n0), err);
            if (!rc) sp->n_flows++;
        }
        p = nl ? nl + 1 : end;
    }
    if (!rc && lineno == 0) rc = fail(err, path, 1, "header", "the file is empty");
    free(ix.slot);
    free(ix.len);
    free(text);
    return rc;
}

/* ---- writing ----------------------------------------------------------------------- */

typedef struct {
    FILE *out;
    char buf[1 << 16];
    size_t n;
    int bad;
} outbuf;

static void ob_flush(outbuf *o) {
    if (o->n && fwrite(o->buf, 1, o->n, o->out) != o->n) o->bad = 1;
    o->n = 0;
}

static char *put_u64(char *p, uint64_t v) {
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k) *p++ = tmp[--k];
    return p;
}

/* Seconds with nine decimals from nanoseconds (t >= 0), as "%lld.%09lld". */
static char *put_time(char *p, nm_time t) {
    p = put_u64(p, (uint64_t)(t / NM_NS_PER_S));
    *p++ = '.';
    uint64_t ns = (uint64_t)(t % NM_NS_PER_S);
    for (int i = 8; i >= 0; i--) {
        p[i] = (char)('0' + ns % 10);
        ns /= 10;
    }
    return p + 9;
}

int flows_csv_write(const flows_spec *sp, const nm_time *finish, FILE *out) {
    outbuf *o = xmalloc(sizeof *o);
    o->out = out;
    o->n = 0;
    o->bad = 0;
    size_t *nlen = xcalloc((size_t)sp->n_nodes + 1, sizeof *nlen);
    size_t longest = 0;
    for (int i = 0; i < sp->n_nodes; i++) {
        nlen[i] = strlen(sp->nodes[i].name);
        if (nlen[i] > longest) longest = nlen[i];
    }
    static const char head[] = "flow,src,dst,bytes,start_s,finish_s\n";
    memcpy(o->buf, head, sizeof head - 1);
    o->n = sizeof head - 1;
    size_t row_max = 2 * longest + 4 * 24 + 8;
    for (int i = 0; i < sp->n_flows; i++) {
        if (sizeof o->buf - o->n < row_max) ob_flush(o);
        if (sizeof o->buf < row_max) { /* names longer than the buffer: one row at a time */
            const flows_flow *fl = &sp->flows[i];
            fprintf(out, "%d,%s,%s,%llu,", i, sp->nodes[fl->src].name, sp->nodes[fl->dst].name,
                    (unsigned long long)fl->bytes);
            char t[64];
            char *e = put_time(t, fl->start);
            *e++ = ',';
            e = put_time(e, finish[i]);
            *e++ = '\n';
            if (fwrite(t, 1, (size_t)(e - t), out) != (size_t)(e - t)) o->bad = 1;
            continue;
        }
        const flows_flow *fl = &sp->flows[i];
        char *p = o->buf + o->n;
        p = put_u64(p, (uint64_t)i);
        *p++ = ',';
        memcpy(p, sp->nodes[fl->src].name, nlen[fl->src]);
        p += nlen[fl->src];
        *p++ = ',';
        memcpy(p, sp->nodes[fl->dst].name, nlen[fl->dst]);
        p += nlen[fl->dst];
        *p++ = ',';
        p = put_u64(p, fl->bytes);
        *p++ = ',';
        p = put_time(p, fl->start);
        *p++ = ',';
        p = put_time(p, finish[i]);
        *p++ = '\n';
        o->n = (size_t)(p - o->buf);
    }
    ob_flush(o);
    int bad = o->bad || fflush(out) != 0 || ferror(out);
    free(nlen);
    free(o);
    return bad ? -1 : 0;
}
