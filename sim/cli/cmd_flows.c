/* sim/cli/cmd_flows.c: `orionsim flows FILE [FLOWS.csv] [-o OUT]`: play a flows file (or a
 * network file and a CSV flow list, sim/flows/flows_csv.h) on the network model alone and
 * write each flow's start and finish time as CSV. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netmodel/net.h"
#include "sim/cli/commands.h"
#include "sim/flows/flows_csv.h"
#include "sim/flows/flows_file.h"
#include "sim/base/util.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: orionsim flows FILE [FLOWS.csv] [-o OUT.csv]\n\n"
        "Simulate the flows of FILE (libconfig) on the flow-level network model: each\n"
        "flow waits its one-way latency, then gets its max-min fair share of its\n"
        "source's uplink, its destination's downlink and the shared links it crosses.\n"
        "Prints CSV to stdout (or OUT.csv): flow,src,dst,bytes,start_s,finish_s (input\n"
        "order, times to the nanosecond).\n\n"
        "With FLOWS.csv, FILE holds the network alone (no flows key) and the flows come\n"
        "from the CSV file, the fast way for large lists:\n"
        "  flow,src,dst,bytes,start_s          header\n"
        "  0,a,b,1000000,0.0                   flows numbered 0, 1, 2, ... in order\n\n"
        "FILE keys:\n"
        "  regions = (\"r0\", ...);                       region names\n"
        "  latency_ms = ((0.5, 20.0), (20.0, 0.5));     one-way, [from][to], square\n"
        "  nodes = ({ name = \"a\"; region = \"r0\"; up_mbps = 100.0; down_mbps = 200.0; }, ...);\n"
        "  flows = ({ src = \"a\"; dst = \"b\"; bytes = 1000000; start_s = 0.0; }, ...);\n"
        "optional:\n"
        "  tcp_window_bytes = 65536;     rate <= window / RTT (RTT = 2 x one-way); 0 = none\n"
        "  links = ({ name = \"fe\"; mbps = 10000.0; nodes_out = (\"a\"); nodes_in = (\"b\"); });\n"
        "                                shared links crossed by the listed nodes' outgoing\n"
        "                                / incoming flows (e.g. a storage front end)\n"
        "  pair_latency_ms = ({ a = \"a\"; b = \"b\"; ms = 3.0; });   override, both ways\n"
        "  ideal = false;                zero latency, infinite bandwidth\n"
        "Mbps = 10^6 bit/s. Integers above 2^31-1 need the L suffix (12000000000L).\n\n"
        "exit codes: 0 ok, 1 run failure, 2 bad input\n");
}

typedef struct {
    nm_net *net;
    const flows_spec *spec;
    nm_time *finish;
    int *status;
} run_state;

static void on_done(nm_net *net, void *ctx, uint64_t arg, const nm_flow_result *r) {
    (void)net;
    run_state *st = ctx;
    st->finish[arg] = r->t_end;
    st->status[arg] = (int)r->status;
}

static nm_net *build_net(nm_sim *sim, const flows_spec *sp) {
    nm_net *net = nm_net_new(sim, sp->n_regions);
    for (int a = 0; a < sp->n_regions; a++)
        for (int b = 0; b < sp->n_regions; b++)
            nm_net_set_region_latency(net, a, b, sp->latency[a * sp->n_regions + b]);
    for (int i = 0; i < sp->n_nodes; i++)
        nm_net_add_node(net, sp->nodes[i].region, sp->nodes[i].up_bps, sp->nodes[i].down_bps);
    for (int i = 0; i < sp->n_links; i++) {
        const flows_link *lk = &sp->links[i];
        int id = nm_net_add_link(net, lk->bps);
        for (int k = 0; k < lk->n_out; k++) nm_net_attach(net, lk->out[k], id, NM_OUT);
        for (int k = 0; k < lk->n_in; k++) nm_net_attach(net, lk->in[k], id, NM_IN);
    }
    for (int i = 0; i < sp->n_pairs; i++)
        nm_net_set_pair_latency(net, sp->pairs[i].a, sp->pairs[i].b, sp->pairs[i].one_way);
    nm_net_set_tcp_window(net, sp->tcp_window_bytes);
    nm_net_set_ideal(net, sp->ideal);
    return net;
}

/* Flow indices by (start, index): radix sort on the start time (LSD, 16 bits a pass over
 * the bits in use), stable, so equal starts keep input order. */
static int *start_order(const flows_spec *sp) {
    size_t n = (size_t)sp->n_flows;
    int *a = xmalloc((n ? n : 1) * sizeof *a), *b = xmalloc((n ? n : 1) * sizeof *b);
    nm_time hi = 0;
    for (size_t i = 0; i < n; i++) {
        a[i] = (int)i;
        if (sp->flows[i].start > hi) hi = sp->flows[i].start;
    }
    size_t *count = xmalloc(65537 * sizeof *count);
    for (int shift = 0; shift < 64 && (hi >> shift) > 0; shift += 16) {
        memset(count, 0, 65537 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(((uint64_t)sp->flows[a[i]].start >> shift) & 0xffff) + 1]++;
        for (size_t k = 1; k <= 65536; k++) count[k] += count[k - 1];
        for (size_t i = 0; i < n; i++)
            b[count[((uint64_t)sp->flows[a[i]].start >> shift) & 0xffff]++] = a[i];
        int *t = a;
        a = b;
        b = t;
    }
    free(count);
    free(b);
    return a;
}

int flows_spec_run(const flows_spec *sp, FILE *out, FILE *err) {
    nm_sim *sim = nm_sim_new();
    run_state st = {build_net(sim, sp), sp, xcalloc((size_t)sp->n_flows + 1, sizeof(nm_time)),
                    xcalloc((size_t)sp->n_flows + 1, sizeof(int))};
    for (int i = 0; i < sp->n_flows; i++) st.finish[i] = -1;
    /* Each flow starts at its time before any event pending for that time, in input order
     * among equal times: the order of start events all scheduled up front, without
     * holding 100,000 of them in the event heap. */
    int *order = start_order(sp);
    for (int k = 0; k < sp->n_flows; k++) {
        const flows_flow *fl = &sp->flows[order[k]];
        nm_run_before(sim, fl->start);
        nm_net_start_flow(st.net, fl->src, fl->dst, fl->bytes, on_done, &st, (uint64_t)order[k]);
    }
    free(order);
    nm_run(sim);
    int rc = EXIT_OK;
    for (int i = 0; i < sp->n_flows && rc == EXIT_OK; i++)
        if (st.finish[i] < 0 || st.status[i] != NM_FLOW_DONE) {
            fprintf(err, "orionsim flows: flow %d (%s -> %s) did not complete\n", i,
                    sp->nodes[sp->flows[i].src].name, sp->nodes[sp->flows[i].dst].name);
            rc = EXIT_RUN;
        }
    if (rc == EXIT_OK && flows_csv_write(sp, st.finish, out)) {
        fprintf(err, "orionsim flows: error writing the output\n");
        rc = EXIT_RUN;
    }
    free(st.finish);
    free(st.status);
    nm_net_free(st.net);
    nm_sim_free(sim);
    return rc;
}

/* Load FILE, or FILE's network and the CSV's flows. */
static int load(const char *file, const char *csv, flows_spec *sp, FILE *err) {
    if (!csv) return flows_spec_load(file, sp, err);
    int rc = flows_net_load(file, sp, err);
    if (rc) return rc;
    if (sp->n_flows) {
        fprintf(err, "%s: flows: %d flows here and a CSV flow list (%s): give one of them\n", file,
                sp->n_flows, csv);
        rc = EXIT_INPUT;
    }
    if (!rc) rc = flows_csv_load(csv, sp, err);
    if (rc) flows_spec_free(sp);
    return rc;
}

/* The run, its CSV to OUT through a temporary file renamed at the end (an existing OUT
 * stays as it was when the run fails). */
static int run_to_file(const flows_spec *sp, const char *path, FILE *err) {
    size_t n = strlen(path) + 32;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int rc;
    if (!f) {
        fprintf(err, "orionsim flows: cannot create %s: %s\n", tmp, strerror(errno));
        rc = EXIT_RUN;
    } else {
        rc = flows_spec_run(sp, f, err);
        if (fclose(f) != 0 && !rc) {
            fprintf(err, "orionsim flows: error writing %s\n", tmp);
            rc = EXIT_RUN;
        }
        if (!rc && rename(tmp, path)) {
            fprintf(err, "orionsim flows: cannot rename %s to %s: %s\n", tmp, path,
                    strerror(errno));
            rc = EXIT_RUN;
        }
        if (rc) unlink(tmp);
    }
    free(tmp);
    return rc;
}

int flows_main(int argc, char **argv, FILE *out, FILE *err) {
    const char *file = NULL, *csv = NULL, *output = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(out);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (i + 1 == argc) {
                fprintf(err, "orionsim flows: %s needs a file name\n", argv[i]);
                return EXIT_INPUT;
            }
            output = argv[++i];
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(err, "orionsim flows: unknown option '%s'\n", argv[i]);
            usage(err);
            return EXIT_INPUT;
        }
        if (csv) {
            fprintf(err, "orionsim flows: FILE and at most one FLOWS.csv expected, got '%s' too\n",
                    argv[i]);
            return EXIT_INPUT;
        }
        if (file) csv = argv[i];
        else file = argv[i];
    }
    if (!file) {
        usage(err);
        return EXIT_INPUT;
    }
    flows_spec sp;
    int rc = load(file, csv, &sp, err);
    if (rc) return rc;
    rc = output ? run_to_file(&sp, output, err) : flows_spec_run(&sp, out, err);
    flows_spec_free(&sp);
    return rc;
}

int cmd_flows(int argc, char **argv) { return flows_main(argc, argv, stdout, stderr); }
