/* tools/bench_net.c: throughput of the event core and of the flow-level network.
 *
 *   build/bench_net [completions]      (make bench-net)
 *
 * 1. Event core, "hold" model: N events pending; each dispatch schedules one new event
 *    at now + uniform(0, 1 ms). Reports schedule+dispatch pairs per second for several N.
 * 2. Network, an Orion-like mix: 16 stages x 3 replicas = 48 peers (up 856 Mbit/s, down
 *    1322 Mbit/s) in 5 regions, plus a storage node (10 Gbit/s each way). Every peer of
 *    stages 0..14 keeps one 2,304,000-byte activation flow (8000 tokens x 144 x 2 B) in
 *    flight to a random replica of the next stage, every peer of stages 1..15 one gradient
 *    flow of the same size to a random replica of the previous stage (90 flows, each
 *    replaced by the next as soon as it completes); every 60 simulated seconds the three
 *    peers of the next stage (round robin) each upload 12.45 GB (100B parameters / 16
 *    stages x 2 bytes) to storage. About 100 flows are live at any time. Reports flow
 *    completions per wall-clock second and the sharing solver's work per change.
 * Deterministic: a fixed seed, a private splitmix64 stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "netmodel/event.h"
#include "netmodel/net.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) {
        perror("bench_net: clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Rates are given per second of this process's CPU time (what one core does, even on a
 * busy machine) and per wall-clock second (the same on an idle machine). */
typedef struct {
    double cpu, wall;
} stamp;

static stamp now_stamp(void) {
    return (stamp){clock_s(CLOCK_PROCESS_CPUTIME_ID), clock_s(CLOCK_MONOTONIC)};
}

static stamp since(stamp t0) {
    stamp t = now_stamp();
    return (stamp){t.cpu - t0.cpu, t.wall - t0.wall};
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ---- 1. event core ------------------------------------------------------------------- */

static void hold(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)ctx;
    nm_schedule_in(sim, (nm_time)(next_u64() % 1000000), hold, NULL, arg);
}

static void bench_events(size_t pending, uint64_t pairs) {
    nm_sim *sim = nm_sim_new();
    for (size_t i = 0; i < pending; i++)
        nm_schedule_in(sim, (nm_time)(next_u64() % 1000000), hold, NULL, i);
    for (size_t i = 0; i < pending; i++) nm_step(sim); /* warm the pool and the caches */
    stamp t0 = now_stamp();
    for (uint64_t i = 0; i < pairs; i++) nm_step(sim);
    stamp dt = since(t0);
    printf("  %6zu pending: %5.1f M schedule+dispatch pairs/s per CPU second (%5.1f M/s wall)\n",
           pending, (double)pairs / dt.cpu / 1e6, (double)pairs / dt.wall / 1e6);
    nm_sim_free(sim);
}

/* ---- 2. network ---------------------------------------------------------------------- */

enum { STAGES = 16, REPLICAS = 3, PEERS = STAGES * REPLICAS, REGIONS = 5 };
#define ACT_BYTES 2304000ULL
#define UPLOAD_BYTES 12450000000ULL
#define UPLOAD_PERIOD_NS (60LL * NM_NS_PER_S)

typedef struct {
    nm_net *net;
    int storage;
    uint64_t done, target, uploads_done, live_samples, live_sum;
    int next_upload_stage;
} mix;

static int random_replica(int stage) { return stage * REPLICAS + (int)(next_u64() % REPLICAS); }

/* arg: 0 = forward flow of the sender, 1 = backward, 2 = upload */
static void on_flow(nm_net *net, void *ctx, uint64_t arg, const nm_flow_result *r) {
    mix *m = ctx;
    m->done++;
    m->live_sum += (uint64_t)nm_net_live_flows(net);
    m->live_samples++;
    if (arg == 2) {
        m->uploads_done++;
        return;
    }
    if (m->done >= m->target) {
        nm_stop(nm_net_sim(net));
        return;
    }
    int stage = r->src / REPLICAS;
    int to = arg == 0 ? random_replica(stage + 1) : random_replica(stage - 1);
    nm_net_start_flow(net, r->src, to, ACT_BYTES, on_flow, m, arg);
}

static void start_uploads(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    mix *m = ctx;
    int s = m->next_upload_stage;
    m->next_upload_stage = (s + 1) % STAGES;
    for (int r = 0; r < REPLICAS; r++)
        nm_net_start_flow(m->net, s * REPLICAS + r, m->storage, UPLOAD_BYTES, on_flow, m, 2);
    nm_schedule_in(sim, UPLOAD_PERIOD_NS, start_uploads, m, 0);
}

static void bench_network(uint64_t completions) {
    /* One-way latencies between five US datacenters, in ms (an assumption of the
     * benchmark: same-datacenter 0.25 ms, cross-country up to 35 ms). */
    static const double lat_ms[REGIONS][REGIONS] = {{0.25, 12.0, 20.0, 30.0, 35.0},
                                                    {12.0, 0.25, 10.0, 22.0, 28.0},
                                                    {20.0, 10.0, 0.25, 14.0, 20.0},
                                                    {30.0, 22.0, 14.0, 0.25, 8.0},
                                                    {35.0, 28.0, 20.0, 8.0, 0.25}};
    nm_sim *sim = nm_sim_new();
    mix m = {0};
    m.net = nm_net_new(sim, REGIONS);
    m.target = completions;
    for (int a = 0; a < REGIONS; a++)
        for (int b = 0; b < REGIONS; b++)
            nm_net_set_region_latency(m.net, a, b, nm_from_s(lat_ms[a][b] * 1e-3));
    for (int p = 0; p < PEERS; p++) nm_net_add_node(m.net, p % REGIONS, 856e6, 1322e6);
    m.storage = nm_net_add_node(m.net, 0, 10e9, 10e9);
    for (int s = 0; s < STAGES; s++)
        for (int r = 0; r < REPLICAS; r++) {
            int p = s * REPLICAS + r;
            if (s + 1 < STAGES)
                nm_net_start_flow(m.net, p, random_replica(s + 1), ACT_BYTES, on_flow, &m, 0);
            if (s > 0)
                nm_net_start_flow(m.net, p, random_replica(s - 1), ACT_BYTES, on_flow, &m, 1);
        }
    nm_schedule_at(sim, 0, start_uploads, &m, 0);
    stamp t0 = now_stamp();
    uint64_t events = nm_run(sim);
    stamp dt = since(t0);
    nm_net_stats st = nm_net_get_stats(m.net);
    printf("  %llu flow completions: %.2f M completions per CPU second (%.2f M/s wall)\n",
           (unsigned long long)m.done, (double)m.done / dt.cpu / 1e6,
           (double)m.done / dt.wall / 1e6);
    printf("  %.1f s simulated (%llu events, %.1f M events per CPU second); %.1f live flows on\n"
           "  average; %llu uploads of 12.45 GB done\n",
           nm_to_s(nm_now(sim)), (unsigned long long)events, (double)events / dt.cpu / 1e6,
           (double)m.live_sum / (double)m.live_samples, (unsigned long long)m.uploads_done);
    printf("  solver: %llu solves, %.2f flows re-solved per solve, %.3f widenings per solve,\n"
           "  %.2f rate changes (timer moves) per completion\n",
           (unsigned long long)st.solves, (double)st.flows_solved / (double)st.solves,
           (double)st.widenings / (double)st.solves,
           (double)st.rate_changes / (double)st.completions);
    nm_net_free(m.net);
    nm_sim_free(sim);
}

int main(int argc, char **argv) {
    uint64_t completions = 2000000;
    if (argc > 1) {
        char *end;
        unsigned long long v = strtoull(argv[1], &end, 10);
        if (*end || v == 0) {
            fprintf(stderr, "usage: bench_net [completions > 0]\n");
            return 2;
        }
        completions = v;
    }
    printf("event core (hold model, delays uniform in [0, 1 ms)):\n");
    bench_events(16, 20000000);
    bench_events(1024, 20000000);
    bench_events(65536, 10000000);
    printf("network (Orion-like mix: 48 peers + storage, 2.3 MB activations, 12.45 GB uploads):\n");
    bench_network(completions);
    return 0;
}
