/* sim/scenario/scenario_fill.h: resolving a checked scenario tree into sim_scenario (internals).
 *
 * Each function reads one part of the tree through the schema getters, applies the
 * cross-key rules (a split that sums to the blocks, k = d_model / ratio, exactly one of
 * tokens and cycles, names that must exist in another table, ...) and fills its part
 * of the struct. They run in the order of sim_scenario_load: the general groups, then
 * network, devices, swarm, faults and compute (which need the fleet). Each returns 0,
 * or -1 with c->err filled.
 */
#ifndef SIM_SCENARIO_FILL_H
#define SIM_SCENARIO_FILL_H

#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_read.h"

/* Return -1 from the calling filler when a getter or check failed. */
#define SC_TRY(x)                                                                                  \
    do {                                                                                           \
        if ((x) < 0) return -1;                                                                    \
    } while (0)

int sc_fill_general(sr_ctx *c, sim_scenario *sc); /* name, model, pipeline, compression,
                                                         training, metrics, output, reference */
int sc_fill_sync(sr_ctx *c, sim_scenario *sc);    /* after the swarm (partitions default) */
int sc_fill_network(sr_ctx *c, sim_scenario *sc);
int sc_fill_swarm(sr_ctx *c, sim_scenario *sc); /* devices table, peers */
int sc_fill_faults(sr_ctx *c, sim_scenario *sc);
int sc_fill_compute(sr_ctx *c, sim_scenario *sc);

/* Index of the region named by string node n (error with a suggestion if unknown). */
int sc_region_lookup(sr_ctx *c, const sim_scenario *sc, const sn_node *n, const char *ip, int *out);

/* Int getter into an int field (the schema bounds keep it in range). */
/* Record a one-line notice (a value the loader adjusted) in sc->notices. */
void sc_notice(sim_scenario *sc, const char *line);
int sc_get_int(sr_ctx *c, sn_node *base, const char *spath, int *out);
/* -1 with a message if the file cannot be opened for reading. */
int sc_check_readable(sr_ctx *c, sn_node *base, const char *spath, const char *path);

/* Deterministic random numbers for peer placement and bandwidth draws (splitmix64). */
typedef struct {
    uint64_t s;
} sc_rng;
sc_rng sc_rng_make(uint64_t seed, uint64_t stream);
uint64_t sc_rng_next(sc_rng *r);
double sc_rng_uniform(sc_rng *r); /* (0, 1) */
double sc_rng_normal(sc_rng *r);  /* N(0, 1) */
/* A random permutation of 0..n-1 into perm. */
void sc_rng_permutation(sc_rng *r, int *perm, int n);
/* Counts per class by largest remainder of fraction × n (ties to the first class). */
void sc_largest_remainder(const double *fraction, int k, int n, int *count);

#endif
