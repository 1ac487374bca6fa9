/* kernels/prng.c: splitmix64 + Box-Muller (see prng.h). */
#include "kernels/prng.h"

#include <math.h>

static uint64_t splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void kprng_init(kprng *r, uint64_t seed) {
    r->state = seed;
    r->has_spare = 0;
    r->spare = 0.0;
}

uint64_t kprng_next(kprng *r) {
    r->state += 0x9e3779b97f4a7c15ULL;
    return splitmix64_mix(r->state);
}

double kprng_uniform(kprng *r) {
    return (double)(kprng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double kprng_normal(kprng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = kprng_uniform(r);
    double u2 = kprng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300; /* log(0) guard */
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586 * u2; /* 2 pi */
    r->spare = radius * sin(angle);
    r->has_spare = 1;
    return radius * cos(angle);
}

uint64_t kprng_seed_for(uint64_t seed, const char *name) {
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, 64 bit */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return splitmix64_mix(seed ^ splitmix64_mix(h));
}
