/* sim/base/fields.c: field descriptors of fixed-layout records and CSV formatting (see fields.h). */
#include "sim/base/fields.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t type_size(sim_ftype t) {
    switch (t) {
    case SIM_FT_I32: return 4;
    case SIM_FT_I64:
    case SIM_FT_F64: return 8;
    case SIM_FT_STR: return 0; /* any length */
    }
    return 0;
}

int sim_fields_check(const sim_field *f, size_t n, size_t rec_size, char *msg, size_t msglen) {
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t want = type_size(f[i].type);
        if (!f[i].name || !*f[i].name) {
            snprintf(msg, msglen, "field %zu has no name", i);
            return -1;
        }
        if (want && f[i].size != want) {
            snprintf(msg, msglen, "field %s: size %zu, its type needs %zu", f[i].name, f[i].size,
                     want);
            return -1;
        }
        if (f[i].size == 0) {
            snprintf(msg, msglen, "field %s: size 0", f[i].name);
            return -1;
        }
        if (f[i].offset != at) {
            snprintf(msg, msglen, "field %s at offset %zu, expected %zu (padding or order)",
                     f[i].name, f[i].offset, at);
            return -1;
        }
        if (want && f[i].offset % want) {
            snprintf(msg, msglen, "field %s at offset %zu is not %zu-byte aligned", f[i].name,
                     f[i].offset, want);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(f[i].name, f[j].name)) {
                snprintf(msg, msglen, "field %s appears twice", f[i].name);
                return -1;
            }
        at += f[i].size;
    }
    if (at != rec_size) {
        snprintf(msg, msglen, "fields cover %zu bytes of a %zu-byte record (trailing padding?)", at,
                 rec_size);
        return -1;
    }
    return 0;
}

const sim_field *sim_fields_find(const sim_field *f, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i].name, name)) return &f[i];
    return NULL;
}

double sim_field_get(const void *rec, const sim_field *f) {
    const char *p = (const char *)rec + f->offset;
    switch (f->type) {
    case SIM_FT_I32: {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case SIM_FT_I64: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    case SIM_FT_F64: {
        double v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case SIM_FT_STR: break;
    }
    return NAN;
}

char *sim_format_double(char *buf, size_t n, double v) {
    if (isnan(v)) {
        snprintf(buf, n, "nan");
        return buf;
    }
    if (isinf(v)) {
        snprintf(buf, n, v > 0 ? "inf" : "-inf");
        return buf;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}

void sim_csv_double(FILE *out, double v) {
    char buf[40];
    fputs(sim_format_double(buf, sizeof buf, v), out);
}

void sim_csv_int(FILE *out, long long v) { fprintf(out, "%lld", v); }

void sim_csv_string(FILE *out, const char *s, size_t maxlen) {
    size_t len = strnlen(s, maxlen);
    int quote = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') quote = 1;
    if (!quote) {
        fwrite(s, 1, len, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') fputc('"', out);
        fputc(s[i], out);
    }
    fputc('"', out);
}

void sim_fields_csv_header(FILE *out, const sim_field *f, size_t n, int sep_first) {
    for (size_t i = 0; i < n; i++) {
        if (i || sep_first) fputc(',', out);
        sim_csv_string(out, f[i].name, strlen(f[i].name));
    }
}

void sim_fields_csv_row(FILE *out, const sim_field *f, size_t n, const void *rec, int sep_first) {
    for (size_t i = 0; i < n; i++) {
        if (i || sep_first) fputc(',', out);
        const char *p = (const char *)rec + f[i].offset;
        if (f[i].type == SIM_FT_STR) sim_csv_string(out, p, f[i].size);
        else if (f[i].type == SIM_FT_F64) sim_csv_double(out, sim_field_get(rec, &f[i]));
        else if (f[i].type == SIM_FT_I32) {
            int32_t v;
            memcpy(&v, p, sizeof v);
            sim_csv_int(out, v);
        } else {
            int64_t v;
            memcpy(&v, p, sizeof v);
            sim_csv_int(out, v);
        }
    }
}
