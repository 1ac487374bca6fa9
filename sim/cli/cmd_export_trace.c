/* sim/cli/cmd_export_trace.c: `orionsim export-trace TRACE -o FILE.json`.
 *
 * Writes the trace's events as Chrome trace-event JSON (sim/report/perfetto.h): open the file
 * in ui.perfetto.dev or chrome://tracing to scroll through what every peer did, one
 * track per peer grouped by stage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/commands.h"
#include "sim/report/perfetto.h"
#include "sim/trace/trace_read.h"
#include "sim/base/util.h"

static void usage(FILE *f) {
    fprintf(f, "usage: orionsim export-trace TRACE -o FILE.json [--cycles N]\n\n"
               "Writes TRACE's events as Chrome trace-event JSON for ui.perfetto.dev or\n"
               "chrome://tracing: one track per peer (pid = stage, tid = peer), one complete\n"
               "event per events row (name = kind, ts/dur in microseconds of simulated time).\n\n"
               "  -o, --output FILE   the JSON file ('-' for standard output)\n"
               "  --cycles N          only the events of the first N cycles\n"
               "  -h, --help          this text\n\n"
               "exit codes: 0 ok, 1 failure writing, 2 bad arguments or trace file\n");
}

int cmd_export_trace(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    long cycles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "orionsim export-trace: %s needs a file name\n", a);
                return EXIT_INPUT;
            }
            out = argv[++i];
        } else if (!strcmp(a, "--cycles")) {
            if (i + 1 >= argc || sim_parse_long(argv[i + 1], &cycles) || cycles < 1 ||
                cycles > INT32_MAX) {
                fprintf(stderr,
                        "orionsim export-trace: --cycles: expected a positive number of cycles, "
                        "got '%s'\n",
                        i + 1 < argc ? argv[i + 1] : "");
                return EXIT_INPUT;
            }
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "orionsim export-trace: unknown option '%s'\n", a);
            usage(stderr);
            return EXIT_INPUT;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "orionsim export-trace: more than one trace given ('%s', '%s')\n", in,
                    a);
            return EXIT_INPUT;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "orionsim export-trace: %s\n",
                !in ? "no trace given" : "no -o FILE.json given");
        usage(stderr);
        return EXIT_INPUT;
    }
    char err[1024];
    trace_file *tf;
    if (trace_read_open(in, &tf, err, sizeof err)) {
        fprintf(stderr, "orionsim: %s: %s\n", in, err);
        return EXIT_INPUT;
    }
    trace_peer_rec *peers = NULL;
    size_t np = 0;
    if (trace_read_peers(tf, &peers, &np)) {
        fprintf(stderr, "orionsim: %s: %s\n", in, trace_read_error(tf));
        trace_read_close(tf);
        return EXIT_INPUT;
    }
    free(peers);
    trace_read_close(tf);
    int to_stdout = !strcmp(out, "-");
    FILE *f = to_stdout ? stdout : fopen(out, "w");
    if (!f) {
        fprintf(stderr, "orionsim: %s: cannot create: %s\n", out, strerror(errno));
        return EXIT_RUN;
    }
    uint64_t n = 0, bad = 0;
    int rc = perfetto_write(in, (int32_t)cycles, f, &n, &bad, err, sizeof err);
    if (!to_stdout && fclose(f) && !rc) {
        snprintf(err, sizeof err, "%s: write error: %s", out, strerror(errno));
        rc = -1;
    }
    if (rc) {
        fprintf(stderr, "orionsim: %s: %s\n", in, err);
        return EXIT_RUN;
    }
    if (bad)
        fprintf(stderr,
                "orionsim: warning: %llu events end before they start (written with dur 0) "
                "or name no peer or stage of /peers (left out)\n",
                (unsigned long long)bad);
    if (!to_stdout)
        fprintf(stderr, "export-trace: %llu events -> %s (open in ui.perfetto.dev)\n",
                (unsigned long long)n, out);
    return EXIT_OK;
}
