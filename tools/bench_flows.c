/* tools/bench_flows.c: writes the Orion-like flow mix of `make bench-net`'s flows comparison.
 *
 *   build/bench_flows DIR [FLOWS [RATE]]   (default 100,000 flows, 1,200 a second)
 *
 * Network: 16 stages x 3 replicas = 48 peers p0..p47 (peer p is replica p mod 3 of stage
 * p / 3) in 5 regions (p mod 5), up 856 Mbit/s and down 1322 Mbit/s (Orion's medians,
 * SPEC §3.1), plus a storage node "store" in region 0 at 10 Gbit/s each way; one-way
 * latencies between five US datacenters as in tools/bench_net.c (0.25 ms within a region,
 * 8-35 ms across). Flows: a Poisson stream of 1,200 flows per simulated second (seed
 * fixed, a private splitmix64): 499 of 500 an activation or gradient of 2,304,000 bytes
 * (8000 tokens x 144 x 2 B) from a random peer to a random replica of the next stage
 * (forward) or the previous one (backward), 1 of 500 a 124,500,000-byte upload to the
 * storage (a hundredth of a stage's 12.45 GB of weights, so that uploads overlap the
 * activations as in a sync phase without dominating the run). Start times have six
 * decimals, so every reader sees the same numbers.
 *
 * Files written to DIR (the same flows in each):
 *   net.cfg      the network alone (orionsim flows net.cfg flows.csv)
 *   flows.csv    flow,src,dst,bytes,start_s
 *   mix.cfg      network and flows in one libconfig file (orionsim flows mix.cfg)
 *   platform.xml the network as a SimGrid 4.1 platform: one link per peer and direction,
 *                latency 0 (tools/simgrid_flows.cpp delays each flow's start by its
 *                one-way latency instead, so that CM02 shares bandwidth max-min fairly
 *                rather than in inverse proportion to latency; the fluid model of
 *                netmodel/README.md)
 *   latency.txt  "host region" lines, then the region latency matrix in seconds
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STAGES = 16, REPLICAS = 3, PEERS = STAGES * REPLICAS, REGIONS = 5 };
#define ACT_BYTES 2304000ULL
#define UPLOAD_BYTES 124500000ULL
#define FLOWS_PER_S 1200.0 /* about 95 flows live at a time, as in tools/bench_net.c */

static const double lat_ms[REGIONS][REGIONS] = {{0.25, 12.0, 20.0, 30.0, 35.0},
                                                {12.0, 0.25, 10.0, 22.0, 28.0},
                                                {20.0, 10.0, 0.25, 14.0, 20.0},
                                                {30.0, 22.0, 14.0, 0.25, 8.0},
                                                {35.0, 28.0, 20.0, 8.0, 0.25}};

static uint64_t rng_state = 0x0123456789abcdefULL;
static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uniform01(void) { return (double)(next_u64() >> 11) * 0x1.0p-53; }

static FILE *open_out(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

static void close_out(FILE *f) {
    if (fclose(f) != 0) {
        perror("bench_flows: write");
        exit(1);
    }
}

static void node_name(int n, char *buf, size_t len) {
    if (n == PEERS) snprintf(buf, len, "store");
    else snprintf(buf, len, "p%d", n);
}

static int region_of(int n) { return n == PEERS ? 0 : n % REGIONS; }

static void write_network(FILE *f) {
    fprintf(f, "# the network of the Orion-like flow mix (tools/bench_flows.c)\nregions = (");
    for (int r = 0; r < REGIONS; r++) fprintf(f, "%s\"r%d\"", r ? ", " : "", r);
    fprintf(f, ");\nlatency_ms = (\n");
    for (int a = 0; a < REGIONS; a++) {
        fprintf(f, "  (");
        for (int b = 0; b < REGIONS; b++) fprintf(f, "%s%g", b ? ", " : "", lat_ms[a][b]);
        fprintf(f, ")%s\n", a + 1 < REGIONS ? "," : "");
    }
    fprintf(f, ");\nnodes = (\n");
    for (int n = 0; n <= PEERS; n++) {
        char name[16];
        node_name(n, name, sizeof name);
        double up = n == PEERS ? 10000.0 : 856.0, down = n == PEERS ? 10000.0 : 1322.0;
        fprintf(f, "  { name = \"%s\"; region = \"r%d\"; up_mbps = %.1f; down_mbps = %.1f; }%s\n",
                name, region_of(n), up, down, n < PEERS ? "," : "");
    }
    fprintf(f, ");\n");
}

static void write_platform(FILE *f) {
    fprintf(f, "<?xml version='1.0'?>\n"
               "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
               "<platform version=\"4.1\">\n<zone id=\"world\" routing=\"Full\">\n");
    for (int n = 0; n <= PEERS; n++) {
        char name[16];
        node_name(n, name, sizeof name);
        fprintf(f, "  <host id=\"%s\" speed=\"1Gf\"/>\n", name);
    }
    for (int n = 0; n <= PEERS; n++) {
        char name[16];
        node_name(n, name, sizeof name);
        /* bytes per second: Mbit/s x 10^6 / 8, exactly */
        double up = n == PEERS ? 10000e6 : 856e6, down = n == PEERS ? 10000e6 : 1322e6;
        fprintf(f, "  <link id=\"%s_up\" bandwidth=\"%.0fBps\" latency=\"0s\"/>\n", name, up / 8);
        fprintf(f, "  <link id=\"%s_down\" bandwidth=\"%.0fBps\" latency=\"0s\"/>\n", name,
                down / 8);
    }
    for (int a = 0; a <= PEERS; a++)
        for (int b = 0; b <= PEERS; b++) {
            if (a == b) continue;
            char x[16], y[16];
            node_name(a, x, sizeof x);
            node_name(b, y, sizeof y);
            fprintf(f,
                    "  <route src=\"%s\" dst=\"%s\" symmetrical=\"NO\"><link_ctn id=\"%s_up\"/>"
                    "<link_ctn id=\"%s_down\"/></route>\n",
                    x, y, x, y);
        }
    fprintf(f, "</zone>\n</platform>\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: bench_flows DIR [FLOWS [RATE]]\n");
        return 2;
    }
    long n_flows = 100000;
    double rate = FLOWS_PER_S;
    if (argc == 4) {
        char *end;
        rate = strtod(argv[3], &end);
        if (*end || !(rate > 0 && rate <= 1e7)) {
            fprintf(stderr, "bench_flows: RATE must be a number of flows per second in (0, 1e7]\n");
            return 2;
        }
    }
    if (argc >= 3) {
        char *end;
        n_flows = strtol(argv[2], &end, 10);
        if (*end || n_flows < 1 || n_flows > 100000000) {
            fprintf(stderr, "bench_flows: FLOWS must be from 1 to 10^8\n");
            return 2;
        }
    }
    const char *dir = argv[1];
    FILE *net = open_out(dir, "net.cfg"), *mix = open_out(dir, "mix.cfg");
    FILE *csv = open_out(dir, "flows.csv"), *xml = open_out(dir, "platform.xml");
    FILE *lat = open_out(dir, "latency.txt");
    write_network(net);
    write_network(mix);
    write_platform(xml);
    for (int n = 0; n <= PEERS; n++) {
        char name[16];
        node_name(n, name, sizeof name);
        fprintf(lat, "%s %d\n", name, region_of(n));
    }
    fprintf(lat, "matrix\n");
    for (int a = 0; a < REGIONS; a++)
        for (int b = 0; b < REGIONS; b++)
            fprintf(lat, "%.9g%c", lat_ms[a][b] * 1e-3, b + 1 < REGIONS ? ' ' : '\n');
    fprintf(csv, "flow,src,dst,bytes,start_s\n");
    fprintf(mix, "flows = (\n");
    double t = 0;
    for (long i = 0; i < n_flows; i++) {
        t += -log(1.0 - uniform01()) / rate;
        int src = (int)(next_u64() % PEERS), dst, stage = src / REPLICAS;
        uint64_t bytes = ACT_BYTES;
        if (next_u64() % 500 == 0) {
            dst = PEERS;
            bytes = UPLOAD_BYTES;
        } else {
            int fwd = stage == 0 || (stage + 1 < STAGES && (next_u64() & 1));
            dst = (stage + (fwd ? 1 : -1)) * REPLICAS + (int)(next_u64() % REPLICAS);
        }
        char s[16], d[16];
        node_name(src, s, sizeof s);
        node_name(dst, d, sizeof d);
        fprintf(csv, "%ld,%s,%s,%llu,%.6f\n", i, s, d, (unsigned long long)bytes, t);
        fprintf(mix, "  { src = \"%s\"; dst = \"%s\"; bytes = %llu; start_s = %.6f; }%s\n", s, d,
                (unsigned long long)bytes, t, i + 1 < n_flows ? "," : "");
    }
    fprintf(mix, ");\n");
    close_out(net);
    close_out(mix);
    close_out(csv);
    close_out(xml);
    close_out(lat);
    printf("bench_flows: %ld flows over %.1f simulated seconds -> %s/{net.cfg,flows.csv,mix.cfg,"
           "platform.xml,latency.txt}\n",
           n_flows, t, dir);
    return 0;
}
