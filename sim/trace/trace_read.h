/* sim/trace/trace_read.h: reading a trace written by sim/trace/trace.h (schema: results/README.md).
 *
 * trace_read_open validates the file before anything else: it must exist, be HDF5, carry
 * the root attribute schema_version = TRACE_SCHEMA_VERSION, and hold the /summary table.
 * Any failure gives a one-line message (without the path: the caller prints
 * "PATH: message" and exits 2); nothing here prints or exits.
 *
 * Tables are read two ways: into records laid out by a field table (exact, for code and
 * tests: trace_read_table), or generically into CSV (trace_read_table_csv), which looks
 * at the file's compound type member by member (integers, floats, fixed strings, enums)
 * and so works for every table, including tables added by later schema versions.
 *
 * A file being written may be read: HDF5 file locking is switched off for the reader. The
 * writer keeps the file closed between its flushes (sim/trace/trace.h), so a running or
 * killed run's trace is normally a closed file, read as it is; one still marked open for
 * writing (read during a write window, or killed inside one) is opened for SWMR
 * reading, so `report` works on it too and shows what its last flush wrote.
 */
#ifndef SIM_TRACE_READ_H
#define SIM_TRACE_READ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/base/fields.h"
#include "sim/metrics/summary.h"
#include "sim/trace/trace.h"

typedef struct trace_file trace_file;

typedef struct {
    int64_t schema_version;
    char *orionsim_version, *scenario_path, *created, *mode;
    uint64_t seed;
    int complete;                 /* root attribute complete: 1 only after a normal close */
    int swmr;                     /* 1: the file is still marked open for writing (its writer
                                    runs or was killed) and was opened for SWMR reading */
    int summary_derived;          /* 1: the run never wrote its summary (killed): trace_read_summary
                                    derived it from the flushed tables */
    int64_t events_window_cycles; /* -1: all cycles */
    int64_t events_dropped;       /* events the run left out of the window */
    char *platform; /* the machine, one line from the platform_* attributes ("" if none) */
    char *end;      /* why an incomplete run ended ("" if not said: killed, or complete) */
} trace_info;

typedef struct {
    size_t n;
    char **names;
    double *values;
    char *source; /* NULL when the trace has no /reference group */
} trace_reference;

/* Open and validate. 0, or -1 with a message in err (and *out NULL). */
int trace_read_open(const char *path, trace_file **out, char *err, size_t errlen);
/* The same for a trace file image in memory (the fuzz target). */
int trace_read_open_image(const void *buf, size_t len, trace_file **out, char *err, size_t errlen);
void trace_read_close(trace_file *tf);

/* The message of the last failure of the calls below. */
const char *trace_read_error(const trace_file *tf);

const trace_info *trace_read_info(const trace_file *tf);
int trace_read_summary(trace_file *tf, sim_summary *s);
/* Reference figures, in the order HDF5 lists the attributes (by name). */
int trace_read_reference(trace_file *tf, trace_reference *ref);
void trace_reference_free(trace_reference *ref);
/* The scenario text (malloc'd; "" when the trace has none) and the --set overrides
 * (free them with trace_read_free_names). */
int trace_read_scenario(trace_file *tf, char **text);
int trace_read_overrides(trace_file *tf, char ***v, size_t *n);
/* The loader's notices (values it adjusted; free with trace_read_free_names). */
int trace_read_notices(trace_file *tf, char ***v, size_t *n);

/* Names of the tables (1-D compound datasets at the root), sorted. Free with
 * trace_read_free_names. */
int trace_read_tables(trace_file *tf, char ***names, size_t *n);
void trace_read_free_names(char **names, size_t n);
/* Rows of a table, or -1. */
int64_t trace_read_rows(trace_file *tf, const char *table);

/* A string attribute of a table (/tasks' scenario_identity): *out malloc'd; -1 when the
 * table or attribute is missing or unreadable (trace_read_error). */
int trace_read_table_attr(trace_file *tf, const char *table, const char *attr, char **out);

/* Whole table into records of the field table's layout (matched by member name). */
int trace_read_table(trace_file *tf, const char *table, const sim_field *f, size_t n,
                     size_t rec_size, void **recs, size_t *nrows);

/* Table as CSV: a header of member names, then one line per row. */
int trace_read_table_csv(trace_file *tf, const char *table, FILE *out);

/* /peers, validated before any figure indexes by it: row i describes peer i, stage and
 * replica lie in [0, rows), and the stages x replicas grid has at most twice as many
 * slots as there are peers; at most TRACE_READ_MAX_PEERS rows. 0, or -1 with the table,
 * row and value in the error (trace_read_error). */
#define TRACE_READ_MAX_PEERS 1000000
int trace_read_peers(trace_file *tf, trace_peer_rec **out, size_t *n);

#endif
