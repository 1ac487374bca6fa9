/* sim/cli/cmd_flows.c: `orionsim flows FILE`: play a flows file on the network model alone
 * and print each flow's start and finish time as CSV. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/net.h"
#include "sim/cli/commands.h"
#include "sim/flows/flows_file.h"
#include "sim/base/util.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: orionsim flows FILE\n\n"
        "Simulate the flows of FILE (libconfig) on the flow-level network model: each\n"
        "flow waits its one-way latency, then gets its max-min fair share of its\n"
        "source's uplink, its destination's downlink and the shared links it crosses.\n"
        "Prints CSV to stdout: flow,src,dst,bytes,start_s,finish_s (input order,\n"
        "times to the nanosecond).\n\n"
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

static void on_start(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    run_state *st = ctx;
    const flows_flow *fl = &st->spec->flows[arg];
    nm_net_start_flow(st->net, fl->src, fl->dst, fl->bytes, on_done, st, arg);
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

/* Seconds with nine decimals from integer nanoseconds (t >= 0), without floating point. */
static void print_time(FILE *out, nm_time t) {
    fprintf(out, "%lld.%09lld", (long long)(t / NM_NS_PER_S), (long long)(t % NM_NS_PER_S));
}

int flows_spec_run(const flows_spec *sp, FILE *out, FILE *err) {
    nm_sim *sim = nm_sim_new();
    run_state st = {build_net(sim, sp), sp, xcalloc((size_t)sp->n_flows + 1, sizeof(nm_time)),
                    xcalloc((size_t)sp->n_flows + 1, sizeof(int))};
    for (int i = 0; i < sp->n_flows; i++) {
        st.finish[i] = -1;
        nm_schedule_at(sim, sp->flows[i].start, on_start, &st, (uint64_t)i);
    }
    nm_run(sim);
    int rc = EXIT_OK;
    for (int i = 0; i < sp->n_flows && rc == EXIT_OK; i++)
        if (st.finish[i] < 0 || st.status[i] != NM_FLOW_DONE) {
            fprintf(err, "orionsim flows: flow %d (%s -> %s) did not complete\n", i,
                    sp->nodes[sp->flows[i].src].name, sp->nodes[sp->flows[i].dst].name);
            rc = EXIT_RUN;
        }
    if (rc == EXIT_OK) {
        fprintf(out, "flow,src,dst,bytes,start_s,finish_s\n");
        for (int i = 0; i < sp->n_flows; i++) {
            const flows_flow *fl = &sp->flows[i];
            fprintf(out, "%d,%s,%s,%" PRIu64 ",", i, sp->nodes[fl->src].name,
                    sp->nodes[fl->dst].name, fl->bytes);
            print_time(out, fl->start);
            fputc(',', out);
            print_time(out, st.finish[i]);
            fputc('\n', out);
        }
        if (fflush(out) != 0 || ferror(out)) {
            fprintf(err, "orionsim flows: error writing the output\n");
            rc = EXIT_RUN;
        }
    }
    free(st.finish);
    free(st.status);
    nm_net_free(st.net);
    nm_sim_free(sim);
    return rc;
}

int flows_main(int argc, char **argv, FILE *out, FILE *err) {
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(out);
            return EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(err, "orionsim flows: unknown option '%s'\n", argv[i]);
            usage(err);
            return EXIT_INPUT;
        }
        if (file) {
            fprintf(err, "orionsim flows: one FILE expected, got '%s' and '%s'\n", file, argv[i]);
            return EXIT_INPUT;
        }
        file = argv[i];
    }
    if (!file) {
        usage(err);
        return EXIT_INPUT;
    }
    flows_spec sp;
    int rc = flows_spec_load(file, &sp, err);
    if (rc) return rc;
    rc = flows_spec_run(&sp, out, err);
    flows_spec_free(&sp);
    return rc;
}

int cmd_flows(int argc, char **argv) { return flows_main(argc, argv, stdout, stderr); }
