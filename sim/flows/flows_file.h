/* sim/flows/flows_file.h: the network-only input of `orionsim flows FILE`.
 *
 * A flows file (libconfig syntax) describes regions with a one-way latency matrix,
 * nodes with uplink/downlink capacities, optional shared links and per-pair latency
 * overrides, and a list of flows; flows_spec_run plays the flows on the netmodel
 * network and writes one CSV row per flow. Format:
 *
 *   regions = ("r0", "r1");
 *   latency_ms = ( (0.5, 20.0), (20.0, 0.5) );    # one-way, [from][to]
 *   nodes = ( { name = "a"; region = "r0"; up_mbps = 100.0; down_mbps = 200.0; } );
 *   flows = ( { src = "a"; dst = "b"; bytes = 1000000; start_s = 0.0; } );
 *   tcp_window_bytes = 0;                          # optional; 0 = no cap
 *   links = ( { name = "fe"; mbps = 10000.0; nodes_out = ("a"); nodes_in = ("b"); } );
 *   pair_latency_ms = ( { a = "a"; b = "b"; ms = 3.0; } );   # optional, both ways
 *   ideal = false;                                 # optional
 *
 * Mbps are 10^6 bit/s. Every problem is reported as "FILE:LINE: key: message" (the
 * key as a path, e.g. flows[2].src) and makes the loader return EXIT_INPUT: unknown
 * keys anywhere, wrong types, missing keys, non-positive capacities, a malformed or
 * negative latency matrix, unknown regions or nodes, duplicate names, negative bytes
 * or start times, integers that do not fit libconfig's 32-bit int (write 12000000000L),
 * syntax errors. Nothing is clamped.
 */
#ifndef SIM_FLOWS_FILE_H
#define SIM_FLOWS_FILE_H

#include <stdint.h>
#include <stdio.h>

#include "netmodel/event.h"

typedef struct flows_node {
    char *name;
    int region;
    double up_bps, down_bps;
} flows_node;

typedef struct flows_link {
    char *name;
    double bps;
    int *out, *in; /* node indices */
    int n_out, n_in;
} flows_link;

typedef struct flows_pair {
    int a, b;
    nm_time one_way;
} flows_pair;

typedef struct flows_flow {
    int src, dst;
    uint64_t bytes;
    nm_time start;
} flows_flow;

typedef struct flows_spec {
    char **regions;
    int n_regions;
    nm_time *latency; /* n_regions x n_regions, [from * n + to] */
    flows_node *nodes;
    int n_nodes;
    flows_link *links;
    int n_links;
    flows_pair *pairs;
    int n_pairs;
    flows_flow *flows;
    int n_flows;
    double tcp_window_bytes;
    int ideal;
} flows_spec;

/* Read and check `path` into *spec (zeroed first). Returns 0, or EXIT_INPUT after
 * writing the message to err. *spec is always safe to pass to flows_spec_free. */
int flows_spec_load(const char *path, flows_spec *spec, FILE *err);
void flows_spec_free(flows_spec *spec);

/* The same with `flows` optional (absent: n_flows 0): a network file for a CSV flow
 * list (sim/flows/flows_csv.h). */
int flows_net_load(const char *path, flows_spec *spec, FILE *err);

/* Simulate the flows; write the CSV (header flow,src,dst,bytes,start_s,finish_s, one row
 * per flow in input order, times to the nanosecond) to out. Returns 0, or EXIT_RUN
 * (message on err) if some flow did not complete. */
int flows_spec_run(const flows_spec *spec, FILE *out, FILE *err);

/* `orionsim flows [--help] FILE` with explicit streams (argv[0] is "flows"). */
int flows_main(int argc, char **argv, FILE *out, FILE *err);

#endif
