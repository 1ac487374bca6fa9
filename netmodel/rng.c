/* netmodel/rng.c: xoshiro256** seeded by splitmix64; see rng.h. */
#include "netmodel/rng.h"

#include <math.h>

#include "netmodel/nm_alloc.h"

#define GOLDEN_GAMMA 0x9E3779B97F4A7C15ULL
#define STREAM_SALT 0xD1B54A32D192ED03ULL

/* The splitmix64 output function (a bijection of 64-bit words). */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t nm_splitmix64_next(uint64_t *state) {
    *state += GOLDEN_GAMMA;
    return mix64(*state);
}

uint64_t nm_hash64(uint64_t x) { return nm_splitmix64_next(&x); }

uint64_t nm_rng_stream_id(uint32_t hi, uint32_t lo) { return ((uint64_t)hi << 32) | lo; }

void nm_rng_init(nm_rng *rng, uint64_t seed, uint64_t stream) {
    uint64_t h = mix64(seed ^ GOLDEN_GAMMA);
    h = mix64(h + mix64(stream ^ STREAM_SALT));
    /* splitmix64 is a bijection of its counter, so at most one of four consecutive
     * outputs is zero: the state is never all zero. */
    for (int i = 0; i < 4; i++) rng->s[i] = nm_splitmix64_next(&h);
    rng->spare = 0.0;
    rng->has_spare = 0;
}

int nm_rng_set_state(nm_rng *rng, const uint64_t s[4]) {
    if ((s[0] | s[1] | s[2] | s[3]) == 0) return -1;
    for (int i = 0; i < 4; i++) rng->s[i] = s[i];
    rng->spare = 0.0;
    rng->has_spare = 0;
    return 0;
}

uint64_t nm_rng_next(nm_rng *rng) {
    uint64_t *s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double nm_rng_uniform(nm_rng *rng) { return (double)(nm_rng_next(rng) >> 11) * 0x1.0p-53; }

uint64_t nm_rng_below(nm_rng *rng, uint64_t n) {
    NM_REQUIRE(n > 0, "nm_rng_below: empty range (n = 0)");
    /* Outputs below 2^64 mod n would make the low residues more likely: reject them. */
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = nm_rng_next(rng);
        if (x >= threshold) return x % n;
    }
}

double nm_rng_exponential(nm_rng *rng, double mean) {
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    return -mean * log1p(-nm_rng_uniform(rng));
}

double nm_rng_normal(nm_rng *rng, double mean, double stddev) {
    if (rng->has_spare) {
        rng->has_spare = 0;
        return mean + stddev * rng->spare;
    }
    double u, v, r2;
    do {
        u = 2.0 * nm_rng_uniform(rng) - 1.0;
        v = 2.0 * nm_rng_uniform(rng) - 1.0;
        r2 = u * u + v * v;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = sqrt(-2.0 * log(r2) / r2);
    rng->spare = v * f;
    rng->has_spare = 1;
    return mean + stddev * (u * f);
}

double nm_rng_lognormal(nm_rng *rng, double mu, double sigma) {
    return exp(nm_rng_normal(rng, mu, sigma));
}

long nm_rng_choose(nm_rng *rng, const double *weights, size_t n) {
    double total = 0.0;
    long last_positive = -1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(weights[i]) || weights[i] < 0.0) return -1;
        if (weights[i] > 0.0) last_positive = (long)i;
        total += weights[i];
    }
    if (last_positive < 0 || !isfinite(total)) return -1;
    const double target = nm_rng_uniform(rng) * total;
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        acc += weights[i];
        if (target < acc && weights[i] > 0.0) return (long)i;
    }
    /* Rounding left target at or above the accumulated sum: the last positive weight. */
    return last_positive;
}
