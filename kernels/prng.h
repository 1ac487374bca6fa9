/* kernels/prng.h: a tiny deterministic random-number generator for weight initialisation.
 *
 * splitmix64 (Steele, Lea, Flood 2014) as the state transition, 24-bit uniforms in
 * [0, 1) and Box-Muller normals. The same seed gives the same stream, bit for bit (the
 * uniforms are pure integer arithmetic; the normals use libm's log, sin and cos).
 * kernels/ keeps its own generator so it depends on nothing outside kernels/.
 */
#ifndef KERNELS_PRNG_H
#define KERNELS_PRNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
    int has_spare; /* Box-Muller produces normals in pairs */
    double spare;
} kprng;

/* Seeds the generator; distinct seeds give unrelated streams. */
void kprng_init(kprng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t kprng_next(kprng *r);
/* Uniform in [0, 1), 53 random bits. */
double kprng_uniform(kprng *r);
/* Standard normal N(0, 1). */
double kprng_normal(kprng *r);
/* A seed derived from a base seed and a name (FNV-1a of the name, mixed): gives every
 * named tensor its own stream, independent of the order tensors are created in. */
uint64_t kprng_seed_for(uint64_t seed, const char *name);

#endif
