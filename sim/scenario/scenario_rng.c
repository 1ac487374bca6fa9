/* sim/scenario/scenario_rng.c: deterministic randomness of the scenario loader (peer placement, bandwidth draws).
 * netmodel's splitmix64 stepped directly: small, fast, and enough for drawing a few hundred
 * peers reproducibly; the uniform and normal draws below keep the loader's own
 * conventions ((0, 1) uniforms, Box-Muller), so placements stay what they were. */
#include <math.h>
#include <stdint.h>

#include "netmodel/rng.h"
#include "sim/scenario/scenario_fill.h"

sc_rng sc_rng_make(uint64_t seed, uint64_t stream) {
    sc_rng r = {seed ^ (stream * 0x9e3779b97f4a7c15ULL)};
    sc_rng_next(&r);
    return r;
}

uint64_t sc_rng_next(sc_rng *r) { return nm_splitmix64_next(&r->s); }

double sc_rng_uniform(sc_rng *r) {
    /* 53 random bits, shifted off zero: (0, 1) */
    return ((double)(sc_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

double sc_rng_normal(sc_rng *r) {
    double u1 = sc_rng_uniform(r), u2 = sc_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void sc_rng_permutation(sc_rng *r, int *perm, int n) {
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(sc_rng_next(r) % (uint64_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

void sc_largest_remainder(const double *fraction, int k, int n, int *count) {
    int assigned = 0;
    for (int i = 0; i < k; i++) {
        count[i] = (int)floor(fraction[i] * n + 1e-9);
        assigned += count[i];
    }
    while (assigned < n) {
        int best = -1;
        double best_rem = -1;
        for (int i = 0; i < k; i++) {
            double rem = fraction[i] * n - count[i];
            if (rem > best_rem + 1e-12) {
                best_rem = rem;
                best = i;
            }
        }
        count[best]++;
        assigned++;
    }
    /* Fractions summing above 1 within tolerance may over-assign: trim the largest. */
    while (assigned > n) {
        int big = 0;
        for (int i = 1; i < k; i++)
            if (count[i] > count[big]) big = i;
        count[big]--;
        assigned--;
    }
}
