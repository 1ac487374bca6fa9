/* sim/cli/main.c: simulator and benchmark harness for decentralized pipeline-parallel training.
 * git-style CLI: `orionsim <command> [options]`; `orionsim <command> --help` for each. */
#include <stdio.h>
#include <string.h>

#include "sim/cli/commands.h"
#include "sim/base/util.h"

#include "sim/base/version.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"calibrate", cmd_calibrate,
     "time the real stage kernels at a scenario's shapes -> kernel profile"},
    {"run", cmd_run, "replay a scenario (e.g. scenarios/orion-100b.cfg), write its HDF5 trace"},
    {"check", cmd_check, "validate a scenario file and summarise it (--keys lists every key)"},
    {"flows", cmd_flows, "simulate a set of flows on the network model alone (CSV out)"},
    {"report", cmd_report, "print a trace's run summary beside the published figures"},
    {"sweep", cmd_sweep, "run a scenario over a grid of --vary values (one summary row per point)"},
    {"sweep-merge", cmd_sweep_merge,
     "join the shard files of a sweep (sweep --shard I/N) into one sweep file"},
    {"study", cmd_study,
     "the ResBM loss study: seeds x boundaries x widths, mean and 95% intervals of the gap"},
    {"fit", cmd_fit, "fit unpublished scenario keys to the published figures (--free KEY=LO:HI)"},
    {"plot", cmd_plot, "render a trace's or a sweep's figures with gnuplot (PNG and SVG)"},
    {"export-trace", cmd_export_trace, "write a trace's events as Chrome/Perfetto trace JSON"},
    {"data", cmd_data, "make token shards (llm.c .bin) for live runs: the Brown corpus, any text"},
};
static const size_t n_commands = sizeof commands / sizeof commands[0];

static void usage(FILE *f) {
    fprintf(f, "usage: orionsim <command> [options]\n"
               "       orionsim <command> --help\n"
               "       orionsim --version\n\n"
               "commands:\n");
    for (size_t i = 0; i < n_commands; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit codes: 0 ok, 1 run failure, 2 bad input\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_INPUT;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("orionsim %s\n", ORIONSIM_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < n_commands; i++)
        if (!strcmp(name, commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "orionsim: unknown command '%s'\n\n", name);
    usage(stderr);
    return EXIT_INPUT;
}
