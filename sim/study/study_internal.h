/* sim/study/study_internal.h: what the study driver (study.c) shares with its tables and
 * file (study_tables.c). */
#ifndef SIM_STUDY_INTERNAL_H
#define SIM_STUDY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/metrics/summary.h"
#include "sim/study/study.h"

typedef struct {
    int width, b, seed_index, ratio, k;
    uint64_t seed;
    char **sets;
    int n_sets;
    char *trace;
    char *text; /* the scenario text its trace must hold */
    int done;   /* complete trace */
    int failed;
    char error[256];
    sim_summary sum;
} study_run_t;

typedef struct {
    const study_opts *o;
    study_boundary *bd;
    size_t n_bd;
    int *widths;
    size_t n_widths;
    study_run_t *runs;
    size_t n_runs;
    study_stats_count *st;
    size_t to_run, finished;
    double t0, ok_wall;
    size_t n_ok;
} study_ctx;

typedef struct {
    study_run_rec *runs;
    size_t n_runs;
    study_stat_rec *stats;
    size_t n_stats;
    study_curve_rec *curves;
    size_t n_curves, cap_curves;
} study_tables;

extern const char *const study_method_names[];
void study_set_text(char *dst, size_t n, const char *src);
char *study_xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* study_tables.c */
int study_build_tables(study_ctx *c, study_tables *t, char *err, size_t errlen);
void study_free_tables(study_tables *t);
int study_write_file(study_ctx *c, const study_tables *t, const char *scenario_name,
                     const char *text, uint64_t seed_base, double wall, char *err, size_t errlen);
void study_print_table(const study_tables *t, int seeds);

#endif
