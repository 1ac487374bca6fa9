/* sim/live/live_data.h: token data for live training (SPEC §8).
 *
 * Two file kinds, told apart by the name:
 *   *.bin   a token shard in llm.c's format (karpathy/llm.c, dev/data/data_common.py,
 *           write_datafile): a header of 256 little-endian int32 -- [0] magic, [1]
 *           version, [2] token count -- then the tokens: magic 20240520 / version 1
 *           with uint16 tokens (the "gpt-2" layout, what its FineWeb and TinyStories
 *           scripts write by default) or magic 20240801 / version 7 with uint32 tokens
 *           (the "llama-3" layout). Anything else is an error naming the file.
 *   other   plain text, one byte = one token (vocab 256).
 * Every token must be below the model's vocabulary: the first one that is not is an
 * error naming the file, the index and the value.
 *
 * Microbatches. Microbatch m (the swarm's microbatch id, in injection order) holds B
 * sequences of T positions; sequence b is the T + 1 tokens starting at an offset drawn
 * from a counter-based hash of (seed, m, b), inputs the first T, targets the last T.
 * The data order is thus a pure function of (seed, microbatch id): every run with the
 * same seed -- whatever its compression, routing or timing -- trains on the same tokens
 * in the same order of injection, and nothing needs to be remembered between calls.
 * Validation: the held-out split cut into consecutive non-overlapping sequences, in
 * order, B to a microbatch.
 *
 * Splits: a shard named *_train.bin beside a *_val.bin (what `orionsim data` writes)
 * uses the two; any other file keeps its last `val_fraction` of tokens for validation.
 */
#ifndef SIM_LIVE_DATA_H
#define SIM_LIVE_DATA_H

#include <stddef.h>
#include <stdint.h>

#define LIVE_SHARD_MAGIC_U16 20240520
#define LIVE_SHARD_VERSION_U16 1
#define LIVE_SHARD_MAGIC_U32 20240801
#define LIVE_SHARD_VERSION_U32 7
#define LIVE_SHARD_HEADER_INTS 256

typedef struct {
    int32_t *tok;
    int64_t n;
} live_tokens;

/* Read a .bin shard or a text file (see above). 0, or -1 with err naming the file. */
int live_tokens_load(const char *path, int vocab, live_tokens *out, char *err, size_t errlen);
/* Write tokens as an llm.c shard (uint16 layout if every token < 65536, else uint32). */
int live_tokens_write_bin(const char *path, const int32_t *tok, int64_t n, char *err,
                          size_t errlen);
void live_tokens_free(live_tokens *t);

typedef struct {
    live_tokens train, val;
    int B, T;
    uint64_t seed;
    int n_val_batches; /* validation microbatches available (capped at open) */
} live_data;

/* Open the training data: `path` (see Splits) for microbatches of B sequences of T
 * tokens. At most max_val_batches validation microbatches are kept. */
int live_data_open(const char *path, double val_fraction, int max_val_batches, int vocab, int B,
                   int T, uint64_t seed, live_data *d, char *err, size_t errlen);
void live_data_close(live_data *d);
/* Inputs and targets (B × T each, row b = sequence b) of training microbatch mb. */
void live_data_batch(const live_data *d, int64_t mb, int32_t *inputs, int32_t *targets);
/* Validation microbatch i (0 <= i < n_val_batches). */
void live_data_val_batch(const live_data *d, int i, int32_t *inputs, int32_t *targets);

#endif
