/* sim/live/live_data.c: token shards and text for live training (see live_data.h). */
#include "sim/live/live_data.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netmodel/rng.h"
#include "sim/base/fsutil.h"
#include "sim/base/util.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The whole file in memory. */
static unsigned char *slurp(const char *path, size_t *len, char *err, size_t errlen) {
    char why[600];
    FILE *f = sim_file_open(path, why, sizeof why); /* a FIFO would block fopen */
    if (!f) {
        fail(err, errlen, "%s", why);
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fail(err, errlen, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)sb.st_size;
    unsigned char *buf = xmalloc(n ? n : 1);
    if (n && fread(buf, 1, n, f) != n) {
        fail(err, errlen, "%s: read error: %s", path, ferror(f) ? strerror(errno) : "short read");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int check_vocab(const char *path, const live_tokens *t, int vocab, char *err,
                       size_t errlen) {
    for (int64_t i = 0; i < t->n; i++)
        if (t->tok[i] < 0 || t->tok[i] >= vocab)
            return fail(err, errlen,
                        "%s: token %lld at index %lld is outside the model's vocabulary (%d)", path,
                        (long long)t->tok[i], (long long)i, vocab);
    return 0;
}

static int parse_shard(const char *path, const unsigned char *buf, size_t len, live_tokens *out,
                       char *err, size_t errlen) {
    const size_t hdr = LIVE_SHARD_HEADER_INTS * 4;
    if (len < hdr)
        return fail(err, errlen, "%s: truncated: %zu bytes, shorter than the %zu-byte llm.c header",
                    path, len, hdr);
    uint32_t magic = le32(buf), version = le32(buf + 4), count = le32(buf + 8);
    size_t width;
    if (magic == LIVE_SHARD_MAGIC_U16) {
        if (version != LIVE_SHARD_VERSION_U16)
            return fail(err, errlen, "%s: llm.c shard version %u, expected %d for magic %d", path,
                        version, LIVE_SHARD_VERSION_U16, LIVE_SHARD_MAGIC_U16);
        width = 2;
    } else if (magic == LIVE_SHARD_MAGIC_U32) {
        if (version != LIVE_SHARD_VERSION_U32)
            return fail(err, errlen, "%s: llm.c shard version %u, expected %d for magic %d", path,
                        version, LIVE_SHARD_VERSION_U32, LIVE_SHARD_MAGIC_U32);
        width = 4;
    } else {
        return fail(
            err, errlen,
            "%s: not an llm.c token shard: magic %u, expected %d (uint16 tokens) or %d (uint32)",
            path, magic, LIVE_SHARD_MAGIC_U16, LIVE_SHARD_MAGIC_U32);
    }
    if ((int32_t)count < 0)
        return fail(err, errlen, "%s: negative token count in the header", path);
    size_t need = hdr + (size_t)count * width;
    if (len < need)
        return fail(err, errlen,
                    "%s: truncated: the header says %u tokens (%zu bytes), the file has %zu bytes",
                    path, count, need, len);
    if (len > need)
        return fail(err, errlen, "%s: %zu bytes after the %u tokens the header announces", path,
                    len - need, count);
    out->n = count;
    out->tok = xmalloc(sizeof *out->tok * (count ? count : 1));
    const unsigned char *p = buf + hdr;
    for (uint32_t i = 0; i < count; i++)
        out->tok[i] = width == 2 ? (int32_t)((uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8)
                                 : (int32_t)le32(p + 4 * (size_t)i);
    return 0;
}

int live_tokens_load(const char *path, int vocab, live_tokens *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    size_t len = 0;
    unsigned char *buf = slurp(path, &len, err, errlen);
    if (!buf) return -1;
    int rc = 0;
    if (ends_with(path, ".bin")) {
        rc = parse_shard(path, buf, len, out, err, errlen);
    } else {
        out->n = (int64_t)len;
        out->tok = xmalloc(sizeof *out->tok * (len ? len : 1));
        for (size_t i = 0; i < len; i++) out->tok[i] = buf[i];
    }
    free(buf);
    if (rc == 0) rc = check_vocab(path, out, vocab, err, errlen);
    if (rc) live_tokens_free(out);
    return rc;
}

int live_tokens_write_bin(const char *path, const int32_t *tok, int64_t n, char *err,
                          size_t errlen) {
    if (n < 0 || n > INT32_MAX)
        return fail(err, errlen, "%s: %lld tokens do not fit a shard", path, (long long)n);
    int wide = 0;
    for (int64_t i = 0; i < n; i++) {
        if (tok[i] < 0)
            return fail(err, errlen, "%s: negative token at index %lld", path, (long long)i);
        if (tok[i] > 65535) wide = 1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return fail(err, errlen, "%s: cannot create: %s", path, strerror(errno));
    unsigned char hdr[LIVE_SHARD_HEADER_INTS * 4];
    memset(hdr, 0, sizeof hdr);
    uint32_t h[3] = {wide ? LIVE_SHARD_MAGIC_U32 : LIVE_SHARD_MAGIC_U16,
                     wide ? LIVE_SHARD_VERSION_U32 : LIVE_SHARD_VERSION_U16, (uint32_t)n};
    for (int k = 0; k < 3; k++)
        for (int b = 0; b < 4; b++) hdr[4 * k + b] = (unsigned char)(h[k] >> (8 * b));
    int ok = fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr;
    unsigned char chunk[8192];
    size_t w = wide ? 4 : 2, per = sizeof chunk / w, fill = 0;
    for (int64_t i = 0; ok && i < n; i++) {
        for (size_t b = 0; b < w; b++)
            chunk[fill * w + b] = (unsigned char)((uint32_t)tok[i] >> (8 * b));
        if (++fill == per) {
            ok = fwrite(chunk, w, fill, f) == fill;
            fill = 0;
        }
    }
    if (ok && fill) ok = fwrite(chunk, w, fill, f) == fill;
    if (fclose(f) != 0) ok = 0;
    if (!ok) return fail(err, errlen, "%s: write error: %s", path, strerror(errno));
    return 0;
}

void live_tokens_free(live_tokens *t) {
    free(t->tok);
    t->tok = NULL;
    t->n = 0;
}

/* ---- microbatches ---- */

int live_data_open(const char *path, double val_fraction, int max_val_batches, int vocab, int B,
                   int T, uint64_t seed, live_data *d, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    d->B = B;
    d->T = T;
    d->seed = seed;
    if (B < 1 || T < 1) return fail(err, errlen, "live data: bad microbatch shape %d x %d", B, T);
    if (live_tokens_load(path, vocab, &d->train, err, errlen)) return -1;
    char *valpath = NULL;
    if (ends_with(path, "_train.bin")) {
        size_t n = strlen(path);
        valpath = xmalloc(n + 1);
        memcpy(valpath, path, n - strlen("_train.bin"));
        strcpy(valpath + n - strlen("_train.bin"), "_val.bin");
        struct stat sb;
        if (stat(valpath, &sb) != 0) {
            free(valpath);
            valpath = NULL;
        }
    }
    if (valpath) {
        int rc = live_tokens_load(valpath, vocab, &d->val, err, errlen);
        free(valpath);
        if (rc) {
            live_data_close(d);
            return -1;
        }
    } else if (max_val_batches > 0) {
        if (!(val_fraction > 0 && val_fraction < 1)) {
            live_data_close(d);
            return fail(err, errlen, "%s: validation share %g outside (0, 1)", path, val_fraction);
        }
        int64_t nv = (int64_t)((double)d->train.n * val_fraction);
        d->val.n = nv;
        d->val.tok = xmalloc(sizeof *d->val.tok * (size_t)(nv ? nv : 1));
        memcpy(d->val.tok, d->train.tok + (d->train.n - nv), sizeof *d->val.tok * (size_t)nv);
        d->train.n -= nv;
    }
    if (d->train.n < (int64_t)T + 1) {
        live_data_close(d);
        return fail(err, errlen, "%s: %lld training tokens, fewer than one sequence of %d + 1",
                    path, (long long)d->train.n, T);
    }
    int64_t seqs = d->val.n > 0 ? (d->val.n - 1) / T : 0;
    int64_t nb = seqs / B;
    if (max_val_batches > 0 && nb < 1) {
        live_data_close(d);
        return fail(
            err, errlen,
            "%s: the validation split (%lld tokens) holds less than one microbatch of %d x %d",
            path, (long long)d->val.n, B, T);
    }
    d->n_val_batches = (int)(nb < max_val_batches ? nb : max_val_batches);
    return 0;
}

void live_data_close(live_data *d) {
    live_tokens_free(&d->train);
    live_tokens_free(&d->val);
}

void live_data_batch(const live_data *d, int64_t mb, int32_t *inputs, int32_t *targets) {
    const int T = d->T;
    uint64_t span = (uint64_t)(d->train.n - T); /* start offsets 0 .. n - T - 1 */
    for (int b = 0; b < d->B; b++) {
        uint64_t h = nm_hash64(nm_hash64(d->seed ^ 0x6c697665ull) ^
                               nm_hash64((uint64_t)mb * 0x100000001b3ull + (uint64_t)b));
        const int32_t *src = d->train.tok + (h % span);
        memcpy(inputs + (size_t)b * T, src, sizeof *inputs * (size_t)T);
        memcpy(targets + (size_t)b * T, src + 1, sizeof *targets * (size_t)T);
    }
}

void live_data_val_batch(const live_data *d, int i, int32_t *inputs, int32_t *targets) {
    const int T = d->T;
    for (int b = 0; b < d->B; b++) {
        const int32_t *src = d->val.tok + ((int64_t)i * d->B + b) * T;
        memcpy(inputs + (size_t)b * T, src, sizeof *inputs * (size_t)T);
        memcpy(targets + (size_t)b * T, src + 1, sizeof *targets * (size_t)T);
    }
}
