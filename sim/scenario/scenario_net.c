/* sim/scenario/scenario_net.c: resolving the network (regions, latency matrix, storage) and the sync group. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario_fill.h"
#include "sim/scenario/scenario_text.h"
#include "sim/base/util.h"

static sn_node *at(sr_ctx *c, const char *spath) {
    sn_node *n = sr_node(c, NULL, spath);
    return n ? n : c->root;
}

/* Index of a region name, or -1. */
static int region_index(const sim_scenario *sc, const char *name) {
    for (int i = 0; i < sc->network.n_regions; i++)
        if (!strcmp(sc->network.regions[i], name)) return i;
    return -1;
}

/* Error for a region name not in network.regions, with a suggestion. */
static int bad_region(sr_ctx *c, const sim_scenario *sc, const sn_node *n, const char *ip) {
    const char *best = NULL;
    int best_d = 3;
    for (int i = 0; i < sc->network.n_regions; i++) {
        int d = st_edit_distance(sc->network.regions[i], n->s);
        if (d < best_d) {
            best_d = d;
            best = sc->network.regions[i];
        }
    }
    if (best)
        return sr_fail(c, n, ip, "region '%s' is not in network.regions (did you mean '%s'?)", n->s,
                       best);
    return sr_fail(c, n, ip, "region '%s' is not in network.regions", n->s);
}

int sc_region_lookup(sr_ctx *c, const sim_scenario *sc, const sn_node *n, const char *ip,
                     int *out) {
    *out = region_index(sc, n->s);
    return *out < 0 ? bad_region(c, sc, n, ip) : 0;
}

int sc_fill_network(sr_ctx *c, sim_scenario *sc) {
    sim_network *net = &sc->network;
    int model = 0;
    SC_TRY(sr_enum(c, NULL, "network.model", &model));
    net->model = (sim_net_model)model;
    sn_node *regions = sr_need(c, NULL, "network.regions");
    if (!regions) return -1;
    if (regions->n_kids == 0) return sr_fail(c, regions, "network.regions", "no regions");
    net->n_regions = regions->n_kids;
    net->regions = xcalloc((size_t)net->n_regions, sizeof *net->regions);
    for (int i = 0; i < net->n_regions; i++) {
        const char *name = regions->kids[i]->s;
        char ip[64];
        snprintf(ip, sizeof ip, "network.regions[%d]", i);
        if (!name[0]) return sr_fail(c, regions->kids[i], ip, "empty region name");
        for (int j = 0; j < i; j++)
            if (!strcmp(net->regions[j], name))
                return sr_fail(c, regions->kids[i], ip, "region '%s' listed twice", name);
        net->regions[i] = xstrdup(name);
    }
    sn_node *lat = sr_need(c, NULL, "network.latency_ms");
    if (!lat) return -1;
    int n = net->n_regions;
    if (lat->n_kids != n)
        return sr_fail(c, lat, "network.latency_ms", "%d rows for %d regions (network.regions)",
                       lat->n_kids, n);
    net->latency_s = xcalloc((size_t)n * (size_t)n, sizeof *net->latency_s);
    for (int i = 0; i < n; i++) {
        const sn_node *row = lat->kids[i];
        if (row->n_kids != n) {
            char ip[64];
            snprintf(ip, sizeof ip, "network.latency_ms[%d]", i);
            return sr_fail(c, row, ip, "%d entries for %d regions (network.regions)", row->n_kids,
                           n);
        }
        for (int j = 0; j < n; j++) net->latency_s[i * n + j] = sr_num(row->kids[j]) * 1e-3;
    }
    SC_TRY(sr_float(c, NULL, "network.tcp_window_bytes", &net->tcp_window_bytes));
    sn_node *storage = sr_node(c, NULL, "network.storage");
    net->have_storage = storage != NULL;
    net->storage_region = -1;
    if (storage) {
        char *region = NULL;
        SC_TRY(sr_string(c, NULL, "network.storage.region", &region));
        net->storage_region = region_index(sc, region);
        free(region);
        if (net->storage_region < 0)
            return bad_region(c, sc, at(c, "network.storage.region"), "network.storage.region");
        double up = 0, down = 0;
        SC_TRY(sr_float(c, NULL, "network.storage.up_mbps", &up));
        SC_TRY(sr_float(c, NULL, "network.storage.down_mbps", &down));
        net->storage_up_bytes_per_s = up * 1e6 / 8.0;
        net->storage_down_bytes_per_s = down * 1e6 / 8.0;
    }
    return 0;
}

static sim_dtype dtype_of_index(int i) {
    static const sim_dtype map[] = {SIM_DTYPE_FP32, SIM_DTYPE_BF16, SIM_DTYPE_FP16, SIM_DTYPE_INT8};
    return map[i];
}

int sc_fill_sync(sr_ctx *c, sim_scenario *sc) {
    sim_sync *s = &sc->sync;
    int algo = 0, transport = 0, dtype = 0, wdtype = 0, outer = 0;
    SC_TRY(sr_enum(c, NULL, "sync.algorithm", &algo));
    s->algorithm = (sim_sync_algo)algo;
    if (s->algorithm != SIM_SYNC_DDP)
        SC_TRY(sr_refuse(c, NULL, "sync.transport", "sync.algorithm is not \"ddp\""));
    SC_TRY(sr_enum(c, NULL, "sync.transport", &transport));
    s->transport = (sim_ddp_transport)transport;
    if (s->algorithm == SIM_SYNC_DDP && sc->pipeline.split.n_stages != 1)
        return sr_fail(c, at(c, "sync.algorithm"), "sync.algorithm",
                       "\"ddp\" needs every peer to hold the whole model (pipeline.stages = 1, "
                       "here %d)",
                       sc->pipeline.split.n_stages);
    SC_TRY(sr_enum(c, NULL, "sync.dtype", &dtype));
    s->dtype = dtype_of_index(dtype);
    SC_TRY(sr_float(c, NULL, "sync.compression_ratio", &s->compression_ratio));
    s->pg_bytes_per_param = sim_dtype_bytes(s->dtype) / s->compression_ratio;
    SC_TRY(sr_enum(c, NULL, "sync.weights_dtype", &wdtype));
    s->weights_dtype = dtype_of_index(wdtype);
    if (s->algorithm != SIM_SYNC_IOTA_BUTTERFLY)
        SC_TRY(sr_refuse(c, NULL, "sync.publish",
                         "sync.algorithm is not \"iota-butterfly\" (only its partition owners "
                         "publish a merged result)"));
    int publish = 0;
    SC_TRY(sr_enum(c, NULL, "sync.publish", &publish));
    s->publish = (sim_publish)publish;
    if (s->algorithm != SIM_SYNC_DDP)
        SC_TRY(sr_refuse(c, NULL, "sync.overlap",
                         "sync.algorithm is not \"ddp\" (the pipeline's peers stop training for "
                         "its uploading and merging phases: IOTA's orchestrator moves every miner "
                         "between them)"));
    SC_TRY(sr_bool(c, NULL, "sync.overlap", &s->overlap));

    int st = sc_get_int(c, NULL, "sync.partitions", &s->partitions);
    SC_TRY(st);
    if (st == 0) s->partitions = 2 * sc->swarm.replicas;
    SC_TRY(sc_get_int(c, NULL, "sync.owners", &s->owners));
    if (s->algorithm == SIM_SYNC_IOTA_BUTTERFLY && s->owners > sc->swarm.replicas)
        return sr_fail(c, at(c, "sync.owners"), "sync.owners",
                       "%d owners per partition, but a stage has only swarm.replicas = %d peers",
                       s->owners, sc->swarm.replicas);
    SC_TRY(sr_float(c, NULL, "sync.upload_quorum", &s->upload_quorum));
    SC_TRY(sr_float(c, NULL, "sync.merge_quorum", &s->merge_quorum));
    SC_TRY(sr_float(c, NULL, "sync.upload_timeout_s", &s->upload_timeout_s));
    SC_TRY(sr_bool(c, NULL, "sync.upload_momentum", &s->upload_momentum));
    SC_TRY(sr_enum(c, NULL, "sync.outer.kind", &outer));
    s->outer.kind = (sim_outer_opt)outer;
    SC_TRY(sr_float(c, NULL, "sync.outer.lr", &s->outer.lr));
    SC_TRY(sr_float(c, NULL, "sync.outer.momentum", &s->outer.momentum));
    s->outer.momentum_start = s->outer.momentum;
    SC_TRY(sr_float(c, NULL, "sync.outer.momentum_start", &s->outer.momentum_start));
    SC_TRY(
        sc_get_int(c, NULL, "sync.outer.momentum_warmup_cycles", &s->outer.momentum_warmup_cycles));

    int needs_storage = s->algorithm == SIM_SYNC_IOTA_BUTTERFLY ||
                        (s->algorithm == SIM_SYNC_DDP && s->transport == SIM_DDP_STORAGE);
    if (needs_storage && !sc->network.have_storage)
        return sr_require(c, NULL, "network.storage",
                          s->algorithm == SIM_SYNC_DDP ? "sync.transport = \"storage\""
                                                       : "sync.algorithm = \"iota-butterfly\"");
    return 0;
}
