/* sim/cli/cmd_report.c: `orionsim report FILE [--csv DIR] [--json]`.
 *
 * Prints a trace's run summary grouped as in sim/metrics/summary.c (each figure with its unit
 * and definition line), the published value beside each figure the trace's /reference
 * group names, with the difference, and a loud banner when the trace is incomplete.
 * --json prints the same figures as one JSON object instead; --csv DIR also writes every
 * table as DIR/<table>.csv. A file that is missing, not HDF5 or not a trace of this
 * schema gives "FILE: message" on stderr and exit 2.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli/commands.h"
#include "sim/metrics/summary.h"
#include "sim/scenario/scenario.h"
#include "sim/trace/trace.h"
#include "sim/fit/fit_compare.h"
#include "sim/trace/trace_read.h"
#include "sim/base/util.h"

static void usage(FILE *f) {
    fprintf(f, "usage: orionsim report FILE [--csv DIR] [--json]\n\n"
               "Print the run summary of a trace (every figure with its unit and definition;\n"
               "published reference figures beside the simulated ones, with the difference).\n\n"
               "  --csv DIR   also write every table of the trace as DIR/<table>.csv\n"
               "              (header = field names; DIR is created if missing)\n"
               "  --json      print the summary as one JSON object instead of text\n"
               "  --help      this text\n\n"
               "exit codes: 0 ok, 1 failure writing output, 2 bad arguments or trace file\n");
}

/* ---- value formatting -------------------------------------------------------------- */

static int is_frac(const sim_field *f) { return f->unit && !strcmp(f->unit, "fraction"); }

static int unit_is(const sim_field *f, const char *u) { return f->unit && !strcmp(f->unit, u); }

/* "1" and "flag" are printed without a unit. */
static const char *unit_suffix(const sim_field *f) {
    return !f->unit || unit_is(f, "1") || unit_is(f, "flag") ? "" : f->unit;
}

static void fmt_value(char *buf, size_t n, const sim_field *f, double v) {
    const char *u = unit_suffix(f), *sp = u[0] ? " " : "";
    int whole = fabs(v) < 1e13 && v == floor(v);
    if (isnan(v)) snprintf(buf, n, "n/a");
    else if (is_frac(f)) snprintf(buf, n, "%.2f %%", 100 * v);
    else if (unit_is(f, "s") && fabs(v) >= 7200) snprintf(buf, n, "%.1f s (%.2f h)", v, v / 3600);
    else if (unit_is(f, "s") && fabs(v) >= 120) snprintf(buf, n, "%.1f s (%.1f min)", v, v / 60);
    else if (unit_is(f, "s")) snprintf(buf, n, "%.4g s", v);
    else if (!strncmp(u, "USD", 3)) snprintf(buf, n, "%.2f %s", v, u);
    else if (unit_is(f, "B") && fabs(v) >= 1 << 20)
        snprintf(buf, n, "%.0f B (%.1f MiB)", v, v / (1 << 20));
    else if (whole && (f->type == SIM_FT_I32 || !u[0] || unit_is(f, "tokens") || unit_is(f, "B")))
        snprintf(buf, n, "%.0f%s%s", v, sp, u);
    else snprintf(buf, n, "%.4g%s%s", v, sp, u);
}

static void fmt_diff(char *buf, size_t n, const sim_field *f, double sim, double pub) {
    if (isnan(sim) || isnan(pub)) {
        snprintf(buf, n, "n/a");
        return;
    }
    double d = sim - pub;
    char rel[32] = "";
    if (pub != 0) snprintf(rel, sizeof rel, ", %+.1f %%", 100 * d / fabs(pub));
    if (is_frac(f)) snprintf(buf, n, "%+.2f pp%s", 100 * d, rel);
    else snprintf(buf, n, "%+.4g%s%s%s", d, unit_suffix(f)[0] ? " " : "", unit_suffix(f), rel);
}

static int ref_index(const trace_reference *ref, const char *name) {
    for (size_t i = 0; i < ref->n; i++)
        if (!strcmp(ref->names[i], name)) return (int)i;
    return -1;
}

static void banner(FILE *out, const trace_info *in) {
    if (in->end && in->end[0]) fprintf(out, "!!! INCOMPLETE TRACE: %s\n", in->end);
    else
        fprintf(out,
                "!!! INCOMPLETE TRACE: the run was interrupted, failed or is still running.\n");
    fprintf(out, "!!! Its figures cover only the part that ran (up to its last flush).\n");
}

/* ---- like for like ------------------------------------------------------------------ */

/* Published figures (by reference key) and their uncertainties. The figures come from
 * the trace; the uncertainties from the scenario the trace names (loaded with the
 * trace's overrides) when it still loads, else they are n/a. */
typedef struct {
    double pub[64], unc[64];
    int have_unc;
} published;

static void published_read(const trace_reference *ref, const trace_info *in, char **ovr,
                           size_t n_ovr, published *p) {
    fit_compare_published(ref, p->pub);
    for (size_t i = 0; i < sim_reference_n_figs; i++) p->unc[i] = NAN;
    p->have_unc = 0;
    for (size_t r = 0; r < ref->n; r++) { /* traces written since issue 12 carry them */
        if (strncmp(ref->names[r], "uncertainty_", 12)) continue;
        int k = sim_reference_find(ref->names[r] + 12);
        if (k >= 0) {
            p->unc[k] = ref->values[r];
            p->have_unc = 1;
        }
    }
    if (p->have_unc || !in->scenario_path || !in->scenario_path[0]) return;
    sim_scenario sc;
    char err[1024];
    if (sim_scenario_load(in->scenario_path, (const char **)ovr, (int)n_ovr, &sc, err, sizeof err))
        return;
    for (size_t i = 0; i < sim_reference_n_figs; i++) {
        p->unc[i] = sc.reference.uncertainty[i];
        if (isnan(p->pub[i])) p->pub[i] = sim_reference_value(&sc.reference, i);
    }
    p->have_unc = 1;
    sim_scenario_free(&sc);
}

static void fmt_fig(char *buf, size_t n, const char *unit, double v) {
    if (isnan(v)) snprintf(buf, n, "n/a");
    else if (!strcmp(unit, "fraction")) snprintf(buf, n, "%.2f %%", 100 * v);
    else if (!strcmp(unit, "1")) snprintf(buf, n, "%.4g", v);
    else snprintf(buf, n, "%.4g %s", v, unit);
}

static void print_like_for_like(FILE *out, const published *p, const fit_compare_sim *cs) {
    int any = 0;
    for (size_t i = 0; i < sim_reference_n_figs; i++) any |= !isnan(p->pub[i]);
    if (!any) return;
    fprintf(out, "\nPublished figures, like for like (the simulated figure with the publication's "
                 "definition)\n");
    fprintf(out, "  %-26s %-16s %-16s %-22s %-12s %s\n", "figure", "published", "replay",
            "residual", "uncertainty", "residual/unc");
    for (size_t i = 0; i < sim_reference_n_figs; i++) {
        if (isnan(p->pub[i])) continue;
        const sim_reference_fig *rf = &sim_reference_figs[i];
        const fit_compare_fig *cf = fit_compare_find(rf->key);
        double v = cf ? cf->simulated(cs) : NAN, pub = p->pub[i], u = p->unc[i];
        int frac = !strcmp(rf->unit, "fraction");
        char a[40], b[40], r[48] = "n/a", un[40] = "n/a", z[24] = "";
        fmt_fig(a, sizeof a, rf->unit, pub);
        fmt_fig(b, sizeof b, rf->unit, v);
        if (!isnan(v)) {
            double d = v - pub;
            if (frac) snprintf(r, sizeof r, "%+.2f pp (%+.1f %%)", 100 * d, 100 * d / fabs(pub));
            else snprintf(r, sizeof r, "%+.4g (%+.1f %%)", d, pub ? 100 * d / fabs(pub) : NAN);
            if (!isnan(u) && u > 0) snprintf(z, sizeof z, "%+.2f", d / (u * fabs(pub)));
        }
        if (!isnan(u)) snprintf(un, sizeof un, "+-%.1f %%", 100 * u);
        fprintf(out, "  %-26s %-16s %-16s %-22s %-12s %s\n", rf->key, a, b, r, un, z);
        if (cf) fprintf(out, "      %s: %s\n", cf->sim_name, cf->definition);
    }
    if (!p->have_unc)
        fprintf(out, "  (no uncertainties: neither the trace nor its scenario file gives them)\n");
    else
        fprintf(out, "  uncertainty: the scenario's reference.uncertainty, a fraction of the "
                     "published figure;\n  residual/unc = (replay - published) / "
                     "(uncertainty x published)\n");
}

/* ---- text report ------------------------------------------------------------------- */

static void print_text(FILE *out, const char *path, const trace_info *in, const sim_summary *s,
                       const trace_reference *ref, char **ovr, size_t n_ovr, trace_file *tf,
                       const published *pb, const fit_compare_sim *cs) {
    fprintf(out, "orionsim report: %s\n", path);
    if (!in->complete) banner(out, in);
    if (in->swmr)
        fprintf(out,
                "!!! The file is still marked open for writing: its run is writing it now, or\n"
                "!!! was killed while it wrote (inside one of the writer's short windows).\n"
                "!!! h5py reads it with h5py.File(path, \"r\", swmr=True); other tools need\n"
                "!!! `h5clear -s %s` first, once the run is over (never while it runs).\n",
                path);
    if (in->summary_derived)
        fprintf(out,
                "!!! The run never wrote its summary (killed): cycles, time, tokens and phase\n"
                "!!! times below come from the flushed phases and time series; the rest is NaN.\n");
    fprintf(out, "  scenario  %s\n", in->scenario_path[0] ? in->scenario_path : "(none)");
    for (size_t i = 0; i < n_ovr; i++) fprintf(out, "  --set     %s\n", ovr[i]);
    char **notes = NULL;
    size_t n_notes = 0;
    if (!trace_read_notices(tf, &notes, &n_notes)) {
        for (size_t i = 0; i < n_notes; i++) fprintf(out, "  notice    %s\n", notes[i]);
        trace_read_free_names(notes, n_notes);
    }
    fprintf(out, "  seed %llu, mode %s, created %s, orionsim %s, schema %lld\n",
            (unsigned long long)in->seed, in->mode, in->created, in->orionsim_version,
            (long long)in->schema_version);
    if (in->platform && in->platform[0]) fprintf(out, "  platform  %s\n", in->platform);
    char **tables = NULL;
    size_t nt = 0;
    if (!trace_read_tables(tf, &tables, &nt)) {
        fprintf(out, "  tables   ");
        for (size_t i = 0; i < nt; i++)
            fprintf(out, " %s %lld%s", tables[i], (long long)trace_read_rows(tf, tables[i]),
                    i + 1 < nt ? "," : "\n");
        trace_read_free_names(tables, nt);
    }
    if (in->events_window_cycles >= 0 || in->events_dropped)
        fprintf(out, "  events of the first %lld cycles only; %lld events left out\n",
                (long long)in->events_window_cycles, (long long)in->events_dropped);
    if (ref->source && ref->n)
        fprintf(out, "  published figures: %s\n", ref->source[0] ? ref->source : "(no source)");

    int *used = xcalloc(ref->n ? ref->n : 1, sizeof *used);
    for (size_t g = 0; g < sim_summary_n_groups; g++) {
        fprintf(out, "\n%s\n", sim_summary_groups[g]);
        for (size_t i = 0; i < sim_summary_n_fields; i++) {
            const sim_field *f = &sim_summary_fields[i];
            if (f->group != sim_summary_groups[g]) continue;
            double v = sim_summary_get(s, f);
            char val[64];
            fmt_value(val, sizeof val, f, v);
            int r = ref_index(ref, f->name);
            /* a reference key that names a summary field of another definition
             * (speed_vs_colocated) is compared in the like-for-like table only */
            const fit_compare_fig *cf = r >= 0 ? fit_compare_find(f->name) : NULL;
            if (cf && strcmp(cf->sim_name, f->name)) r = -1;
            fprintf(out, r >= 0 ? "  %-24s %-24s" : "  %-24s %s", f->name, val);
            if (r >= 0) {
                used[r] = 1;
                char pub[64], diff[64];
                fmt_value(pub, sizeof pub, f, ref->values[r]);
                fmt_diff(diff, sizeof diff, f, v, ref->values[r]);
                fprintf(out, " published %s  (%s)", pub, diff);
            }
            fprintf(out, "\n      %s\n", f->def);
        }
    }
    int header = 0;
    for (size_t i = 0; i < ref->n; i++) {
        /* figures of the like-for-like table below are not repeated here */
        if (used[i] || sim_reference_find(ref->names[i]) >= 0 ||
            !strncmp(ref->names[i], "uncertainty_", 12))
            continue;
        if (!header) fprintf(out, "\nOther published figures (no simulated counterpart)\n");
        header = 1;
        char val[40];
        fprintf(out, "  %-24s %s\n", ref->names[i],
                sim_format_double(val, sizeof val, ref->values[i]));
    }
    free(used);
    print_like_for_like(out, pb, cs);
    if (!in->complete) {
        fputc('\n', out);
        banner(out, in);
    }
}

/* ---- JSON -------------------------------------------------------------------------- */

static void json_str(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", out);
        else if (*p == '\t') fputs("\\t", out);
        else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
        else fputc(*p, out);
    }
    fputc('"', out);
}

static void json_num(FILE *out, double v) {
    char buf[40];
    if (!isfinite(v)) fputs("null", out);
    else fputs(sim_format_double(buf, sizeof buf, v), out);
}

static void print_json(FILE *out, const char *path, const trace_info *in, const sim_summary *s,
                       const trace_reference *ref, char **ovr, size_t n_ovr) {
    fputs("{\"file\": ", out);
    json_str(out, path);
    fprintf(out, ", \"schema_version\": %lld, \"complete\": %s, \"open_for_writing\": %s",
            (long long)in->schema_version, in->complete ? "true" : "false",
            in->swmr ? "true" : "false");
    fputs(", \"end\": ", out);
    json_str(out, in->end ? in->end : "");
    fputs(", \"orionsim_version\": ", out);
    json_str(out, in->orionsim_version);
    fputs(", \"scenario_path\": ", out);
    json_str(out, in->scenario_path);
    fprintf(out, ", \"seed\": %llu, \"mode\": ", (unsigned long long)in->seed);
    json_str(out, in->mode);
    fputs(", \"created\": ", out);
    json_str(out, in->created);
    fputs(", \"platform\": ", out);
    json_str(out, in->platform ? in->platform : "");
    fputs(", \"overrides\": [", out);
    for (size_t i = 0; i < n_ovr; i++) {
        if (i) fputs(", ", out);
        json_str(out, ovr[i]);
    }
    fputs("],\n \"summary\": {", out);
    for (size_t i = 0; i < sim_summary_n_fields; i++) {
        fputs(i ? ",\n  " : "\n  ", out);
        json_str(out, sim_summary_fields[i].name);
        fputs(": ", out);
        json_num(out, sim_summary_get(s, &sim_summary_fields[i]));
    }
    fputs("},\n \"units\": {", out);
    for (size_t i = 0; i < sim_summary_n_fields; i++) {
        if (i) fputs(", ", out);
        json_str(out, sim_summary_fields[i].name);
        fputs(": ", out);
        json_str(out, sim_summary_fields[i].unit);
    }
    fputs("},\n \"reference\": {\"source\": ", out);
    if (ref->source) json_str(out, ref->source);
    else fputs("null", out);
    fputs(", \"values\": {", out);
    for (size_t i = 0; i < ref->n; i++) {
        if (i) fputs(", ", out);
        json_str(out, ref->names[i]);
        fputs(": ", out);
        json_num(out, ref->values[i]);
    }
    fputs("}}}\n", out);
}

/* ---- CSV export -------------------------------------------------------------------- */

static int export_csv(trace_file *tf, const char *path, const char *dir) {
    if (mkdir(dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return EXIT_INPUT;
    }
    char **tables = NULL;
    size_t nt = 0;
    if (trace_read_tables(tf, &tables, &nt)) {
        fprintf(stderr, "%s: %s\n", path, trace_read_error(tf));
        return EXIT_INPUT;
    }
    int rc = EXIT_OK;
    for (size_t i = 0; i < nt && rc == EXIT_OK; i++) {
        size_t len = strlen(dir) + strlen(tables[i]) + 6;
        char *out = xmalloc(len);
        snprintf(out, len, "%s/%s.csv", dir, tables[i]);
        FILE *f = fopen(out, "w");
        if (!f) {
            fprintf(stderr, "%s: %s\n", out, strerror(errno));
            rc = EXIT_RUN;
        } else {
            if (trace_read_table_csv(tf, tables[i], f)) {
                fprintf(stderr, "%s: %s\n", path, trace_read_error(tf));
                rc = EXIT_INPUT;
            }
            if (fclose(f) && rc == EXIT_OK) {
                fprintf(stderr, "%s: %s\n", out, strerror(errno));
                rc = EXIT_RUN;
            }
        }
        free(out);
    }
    if (rc == EXIT_OK) fprintf(stderr, "report: wrote %zu tables to %s/<table>.csv\n", nt, dir);
    trace_read_free_names(tables, nt);
    return rc;
}

/* ---- the command ------------------------------------------------------------------- */

int cmd_report(int argc, char **argv) {
    const char *path = NULL, *csv_dir = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--csv")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "orionsim report: --csv needs a directory\n");
                return EXIT_INPUT;
            }
            csv_dir = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "orionsim report: unknown option '%s'\n\n", argv[i]);
            usage(stderr);
            return EXIT_INPUT;
        } else if (path) {
            fprintf(stderr, "orionsim report: one trace file at a time ('%s', '%s')\n", path,
                    argv[i]);
            return EXIT_INPUT;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return EXIT_INPUT;
    }

    trace_file *tf = NULL;
    char err[512];
    if (trace_read_open(path, &tf, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", path, err);
        return EXIT_INPUT;
    }
    sim_summary s;
    trace_reference ref = {0};
    char **ovr = NULL;
    size_t n_ovr = 0;
    int rc = EXIT_OK;
    if (trace_read_summary(tf, &s) || trace_read_reference(tf, &ref) ||
        trace_read_overrides(tf, &ovr, &n_ovr)) {
        fprintf(stderr, "%s: %s\n", path, trace_read_error(tf));
        rc = EXIT_INPUT;
    }
    published pb;
    fit_compare_sim cs;
    if (rc == EXIT_OK && fit_compare_read(tf, &cs, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", path, err);
        rc = EXIT_INPUT;
    }
    if (rc == EXIT_OK) {
        published_read(&ref, trace_read_info(tf), ovr, n_ovr, &pb);
        if (json) print_json(stdout, path, trace_read_info(tf), &s, &ref, ovr, n_ovr);
        else print_text(stdout, path, trace_read_info(tf), &s, &ref, ovr, n_ovr, tf, &pb, &cs);
        if (fflush(stdout)) rc = EXIT_RUN;
    }
    if (rc == EXIT_OK && csv_dir) rc = export_csv(tf, path, csv_dir);
    trace_reference_free(&ref);
    trace_read_free_names(ovr, n_ovr);
    trace_read_close(tf);
    return rc;
}
