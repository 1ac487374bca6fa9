/* sim/report/plot_gp.h: running the gnuplot scripts of plots/.
 *
 * Every figure is one script, plots/<figure>.gp, parametrised with `-e` variables. The
 * driver runs gnuplot once per output format: `gnuplot -e "fmt='png'; out='DIR/x.png';
 * scriptdir='plots'; pngterm='pngcairo'; <figure variables>" plots/<figure>.gp` and the
 * same with fmt='svg'. plots/common.gp (loaded by every script) turns fmt into the
 * terminal: pngcairo when gnuplot has it, else png; svg.
 *
 * Scripts are found in, first to last: --scripts DIR, $ORIONSIM_PLOTS, ./plots, then
 * plots/ next to the directory of the orionsim binary (build/orionsim -> plots/).
 */
#ifndef SIM_PLOT_GP_H
#define SIM_PLOT_GP_H

#include <stddef.h>

typedef struct {
    char scripts[1024]; /* directory holding the .gp files */
    char pngterm[16];   /* "pngcairo" or "png" */
    int svg;            /* gnuplot has the svg terminal */
    int quiet;
} gp_env;

/* 1 if `gnuplot` can be run. */
int gp_available(void);

/* Find the scripts, probe the terminals. 0, or -1 with err. */
int gp_init(gp_env *e, const char *scripts_override, char *err, size_t errlen);

/* Variables: a growing list of "name=value" gnuplot statements. */
typedef struct {
    char **v;
    size_t n, cap;
} gp_vars;
void gp_var_str(gp_vars *vs, const char *name, const char *value); /* name='value' */
void gp_var_num(gp_vars *vs, const char *name, double value);      /* NaN as NaN */
void gp_var_raw(gp_vars *vs, const char *name, const char *expr);  /* name=expr */
void gp_vars_free(gp_vars *vs);

/* Render plots/<script>.gp to <outstem>.png (and .svg). 0, or -1 with err. */
int gp_render(const gp_env *e, const char *script, const char *outstem, const gp_vars *vs,
              char *err, size_t errlen);

/* A gnuplot single-quoted string literal of s ('' doubles a quote). Caller frees. */
char *gp_quote(const char *s);

#endif
