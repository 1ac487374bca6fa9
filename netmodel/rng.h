/* netmodel/rng.h: seeded pseudo-random numbers with independent streams.
 *
 * Generator: xoshiro256** (Blackman & Vigna, 2018), 256 bits of state, period 2^256 - 1,
 * passes BigCrush; its state is filled from splitmix64, the seeding method its authors
 * recommend. Both are re-implemented here from their published definitions.
 *
 * Streams. nm_rng_init(rng, seed, stream) hashes the stream id together with the seed
 * (two rounds of the splitmix64 finaliser), so every (seed, stream) pair starts at an
 * unrelated point of the sequence. Users derive stream ids from what owns the draws,
 * e.g. nm_rng_stream_id(process id, node + 1): adding a process or a node gives new
 * stream ids and never shifts the draws of an existing (process, node) pair.
 *
 * Draws: 53-bit uniform doubles in [0,1), unbiased integers in [0,n) (rejection of the
 * short tail, no modulo bias), exponential, normal (Marsaglia's polar method; the second
 * value of each pair is kept for the next call), lognormal and a weighted choice.
 * Everything is a pure function of the state, so a run is reproducible bit for bit.
 */
#ifndef NETMODEL_RNG_H
#define NETMODEL_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct nm_rng {
    uint64_t s[4]; /* xoshiro256** state, never all zero */
    double spare;  /* second normal of the last polar pair */
    int has_spare;
} nm_rng;

/* One step of splitmix64 on *state: advances it and returns the next output. */
uint64_t nm_splitmix64_next(uint64_t *state);
/* A 64-bit hash: the splitmix64 output for counter x (nm_splitmix64_next from state x,
 * without keeping the state). For keyed draws: hash(seed ^ f(key)). */
uint64_t nm_hash64(uint64_t x);

/* Stream id from two 32-bit parts, e.g. (process id, node + 1); injective. */
uint64_t nm_rng_stream_id(uint32_t hi, uint32_t lo);

/* Seed rng for the given (seed, stream) pair. */
void nm_rng_init(nm_rng *rng, uint64_t seed, uint64_t stream);

/* Set the raw xoshiro256** state (restore a saved state; not all four words zero, else
 * returns -1 and leaves rng unchanged). Clears the normal spare. */
int nm_rng_set_state(nm_rng *rng, const uint64_t s[4]);

uint64_t nm_rng_next(nm_rng *rng);  /* raw 64-bit output */
double nm_rng_uniform(nm_rng *rng); /* [0,1), 53 random bits */
/* [0,n) without bias. n = 0 is a logic error of the caller: file:line message, abort. */
uint64_t nm_rng_below(nm_rng *rng, uint64_t n);
double nm_rng_exponential(nm_rng *rng, double mean); /* mean > 0 */
double nm_rng_normal(nm_rng *rng, double mean, double stddev);
double nm_rng_lognormal(nm_rng *rng, double mu, double sigma); /* exp(normal(mu, sigma)) */

/* Pick index i with probability weights[i] / sum(weights). Weights must be finite and
 * >= 0 with a positive sum; returns -1 (and draws nothing) otherwise. */
long nm_rng_choose(nm_rng *rng, const double *weights, size_t n);

#endif
