/* sim/base/fields.h: field descriptors of fixed-layout records, and CSV value formatting.
 *
 * A record that goes to an HDF5 compound table (a trace event, a peer, the run summary)
 * is a plain C struct described by ONE array of sim_field: name, byte offset, type, unit,
 * group and a one-line definition. That array drives everything that needs to know the
 * fields: the HDF5 compound type (sim/base/h5util.h), CSV headers and rows, the report, and
 * sweep tables (which put a point's parameters in front of the summary's fields).
 *
 * Records are written to HDF5 byte for byte, so they must have no padding: the fields of
 * a descriptor array must tile the struct exactly (sim_fields_check), ordered so that
 * every field is naturally aligned (8-byte fields first, or 4-byte fields in pairs).
 *
 * CSV values are written so that they read back exactly: integers in decimal, doubles in
 * the shortest form that round-trips (%.15g, %.16g or %.17g), NaN as "nan" and
 * infinities as "inf"/"-inf" (what pandas and strtod read), strings quoted as RFC 4180
 * says when they contain a comma, quote or line break.
 */
#ifndef SIM_FIELDS_H
#define SIM_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    SIM_FT_I32 = 0, /* int32_t */
    SIM_FT_I64,     /* int64_t */
    SIM_FT_F64,     /* double */
    SIM_FT_STR      /* char[size], NUL-terminated within size */
} sim_ftype;

typedef struct {
    const char *name; /* column / member name; stable once published */
    size_t offset;    /* offsetof in the record struct */
    sim_ftype type;
    size_t size;       /* bytes: 4, 8, or the char array's length */
    const char *unit;  /* "s", "B", "FLOP/s", "fraction" (printed as %), "1" (count), ... */
    const char *group; /* report section, or NULL */
    const char *def;   /* one-line definition */
} sim_field;

/* Descriptor helpers, e.g. SIM_F64(my_rec, x, "s", NULL, "...") */
#define SIM_FIELD(T, m, ft, unit, group, def)                                                      \
    { #m, offsetof(T, m), ft, sizeof(((T *)0)->m), unit, group, def }
#define SIM_I32(T, m, u, g, d) SIM_FIELD(T, m, SIM_FT_I32, u, g, d)
#define SIM_I64(T, m, u, g, d) SIM_FIELD(T, m, SIM_FT_I64, u, g, d)
#define SIM_F64(T, m, u, g, d) SIM_FIELD(T, m, SIM_FT_F64, u, g, d)
#define SIM_STR(T, m, u, g, d) SIM_FIELD(T, m, SIM_FT_STR, u, g, d)

/* 0 if the fields tile [0, rec_size) exactly, in order, each naturally aligned, with
 * sizes matching their types and unique names; else -1 with a reason in msg. */
int sim_fields_check(const sim_field *f, size_t n, size_t rec_size, char *msg, size_t msglen);

/* The field named `name`, or NULL. */
const sim_field *sim_fields_find(const sim_field *f, size_t n, const char *name);

/* A numeric field's value as a double (NaN for strings). */
double sim_field_get(const void *rec, const sim_field *f);

/* CSV: the field names, or one record's values, comma-separated; the caller ends the
 * line. `sep_first`: when nonzero a comma goes before the first column too (to continue
 * a row that already has columns, e.g. a sweep point's parameters). */
void sim_fields_csv_header(FILE *out, const sim_field *f, size_t n, int sep_first);
void sim_fields_csv_row(FILE *out, const sim_field *f, size_t n, const void *rec, int sep_first);

/* CSV values. */
void sim_csv_double(FILE *out, double v);
void sim_csv_int(FILE *out, long long v);
void sim_csv_string(FILE *out, const char *s, size_t maxlen);

/* The shortest %.{15,16,17}g text of v that strtod reads back to v; "nan", "inf", "-inf"
 * for the non-finite values. buf should hold 32 bytes. Returns buf. */
char *sim_format_double(char *buf, size_t n, double v);

#endif
