/* sim/cli/cmd_sweep_merge.c: `orionsim sweep-merge OUT SHARD...`: the shard files of a sweep
 * (orionsim sweep --shard I/N) joined into the file one process would write
 * (sim/sweep/sweep_merge.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/cli/commands.h"
#include "sim/sweep/sweep_merge.h"

static void usage(FILE *f) {
    fprintf(f, "usage: orionsim sweep-merge OUT SHARD... [--force] [-q]\n\n"
               "Joins the shard files of one sweep (orionsim sweep ... --shard I/N -o SHARD, for\n"
               "I = 0..N-1) into OUT, the sweep file a single `orionsim sweep` writes: the same\n"
               "rows in the same order with the same values. Every shard must be given once,\n"
               "all from the same scenario, --set and --vary arguments.\n\n"
               "  --force       replace OUT even when it is not a merge of this sweep\n"
               "  -q, --quiet   no summary line\n"
               "  -h, --help    this text\n\n"
               "exit codes: 0 every point ok or stopped, 1 some point failed or pending (OUT is\n"
               "written; run those shards again and merge again), 2 bad input (nothing written)\n");
}

int cmd_sweep_merge(int argc, char **argv) {
    const char *out = NULL;
    const char **shards = xcalloc((size_t)(argc > 1 ? argc : 1), sizeof *shards);
    size_t n = 0;
    int force = 0, quiet = 0, rc = EXIT_OK;
    for (int i = 1; i < argc && rc == EXIT_OK; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(shards);
            return EXIT_OK;
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "orionsim sweep-merge: unknown option '%s'\n", a);
            usage(stderr);
            rc = EXIT_INPUT;
        } else if (!out) {
            out = a;
        } else {
            shards[n++] = a;
        }
    }
    if (rc == EXIT_OK && (!out || !n)) {
        fprintf(stderr, "orionsim sweep-merge: %s\n",
                !out ? "no output file given" : "no shard files given");
        usage(stderr);
        rc = EXIT_INPUT;
    }
    if (rc == EXIT_OK) {
        sweep_merge_stats st;
        char err[2048] = "";
        rc = sweep_merge(out, shards, n, force, &st, err, sizeof err);
        if (rc != EXIT_INPUT && (!quiet || rc))
            fprintf(stderr,
                    "sweep-merge: %zu shards, %zu points (%zu failed, %zu pending), %zu rows "
                    "-> %s\n",
                    st.shards, st.points, st.failed, st.pending, st.rows, out);
        if (rc) fprintf(stderr, "orionsim sweep-merge: %s\n", err);
    }
    free(shards);
    return rc;
}
