/* netmodel/event.c: 4-ary heap of (time, sequence, slot) over a pool of event records.
 * See event.h for the design. */
#include "netmodel/event.h"

#include <stdlib.h>

#include "netmodel/nm_alloc.h"

#define BLOCK_BITS 10
#define BLOCK_SIZE (1u << BLOCK_BITS)
#define BLOCK_MASK (BLOCK_SIZE - 1u)
#define NO_SLOT UINT32_MAX
#define ARITY 4

/* Heap entry: the ordering key inline. `k` packs the insertion sequence (high 32
 * bits) over the record's slot (low 32 bits); sequences are unique among pending
 * events, so comparing k compares sequences. When the 32-bit sequence space runs out
 * the pending events are renumbered in order (nm_sim_renumber), once per 4 billion
 * schedules. Times are never negative, which the branch-free comparison relies on. */
typedef struct heap_entry {
    nm_time t;
    uint64_t k;
} heap_entry;

#define SLOT_OF(e) ((uint32_t)((e).k & 0xffffffffu))
#define SEQ_LIMIT (UINT64_C(1) << 32)

/* Pooled record. `next_free` links free records; `gen` changes every time the record
 * is freed. A pending record's heap position lives in the flat array pos[slot], which
 * every heap move updates (one store, no block lookup). */
typedef struct event_rec {
    nm_handler h;
    void *ctx;
    uint64_t arg;
    uint32_t gen;
    uint32_t next_free;
} event_rec;

struct nm_sim {
    heap_entry *heap;
    size_t n, cap;
    event_rec **blocks;
    uint32_t *pos; /* heap position of each pending slot */
    size_t n_blocks, blocks_cap;
    uint32_t free_head;
    uint64_t seq; /* next sequence number, < SEQ_LIMIT */
    nm_time now;
    uint64_t dispatched;
    int stop;
};

static inline event_rec *rec_at(const nm_sim *s, uint32_t slot) {
    return &s->blocks[slot >> BLOCK_BITS][slot & BLOCK_MASK];
}

/* (a.t, a.k) < (b.t, b.k) as one 128-bit subtraction's borrow, without branches:
 * valid because 0 <= t <= INT64_MAX, so b.t + 1 cannot wrap. */
static inline size_t before(const heap_entry *a, const heap_entry *b) {
    return (uint64_t)a->t < (uint64_t)b->t + (uint64_t)(a->k < b->k);
}

/* a if c == 0, b if c == 1. */
static inline size_t pick(size_t a, size_t b, size_t c) { return a ^ ((a ^ b) & (0 - c)); }

nm_sim *nm_sim_new(void) {
    nm_sim *s = nm_xcalloc(1, sizeof *s);
    s->free_head = NO_SLOT;
    return s;
}

void nm_sim_free(nm_sim *s) {
    if (!s) return;
    for (size_t b = 0; b < s->n_blocks; b++) free(s->blocks[b]);
    free(s->blocks);
    free(s->pos);
    free(s->heap);
    free(s);
}

nm_time nm_now(const nm_sim *s) { return s->now; }
size_t nm_pending(const nm_sim *s) { return s->n; }
uint64_t nm_dispatched(const nm_sim *s) { return s->dispatched; }
void nm_stop(nm_sim *s) { s->stop = 1; }

/* Add a block of records to the pool and thread it onto the free list, lowest slot
 * first. */
static void grow_pool(nm_sim *s) {
    NM_REQUIRE(s->n_blocks < (size_t)(NO_SLOT >> BLOCK_BITS), "event pool exhausted");
    if (s->n_blocks == s->blocks_cap) {
        s->blocks_cap = s->blocks_cap ? 2 * s->blocks_cap : 8;
        s->blocks = nm_xrealloc(s->blocks, s->blocks_cap * sizeof *s->blocks);
        s->pos = nm_xrealloc(s->pos, (s->blocks_cap << BLOCK_BITS) * sizeof *s->pos);
    }
    event_rec *blk = nm_xcalloc(BLOCK_SIZE, sizeof *blk);
    uint32_t base = (uint32_t)(s->n_blocks << BLOCK_BITS);
    for (uint32_t i = BLOCK_SIZE; i-- > 0;) {
        blk[i].gen = 1;
        blk[i].next_free = s->free_head;
        s->pos[base + i] = UINT32_MAX;
        s->free_head = base + i;
    }
    s->blocks[s->n_blocks++] = blk;
}

static inline uint32_t alloc_slot(nm_sim *s) {
    if (s->free_head == NO_SLOT) grow_pool(s);
    uint32_t slot = s->free_head;
    s->free_head = rec_at(s, slot)->next_free;
    return slot;
}

static inline void free_slot(nm_sim *s, uint32_t slot) {
    event_rec *r = rec_at(s, slot);
    r->gen = r->gen == UINT32_MAX ? 1 : r->gen + 1;
    r->next_free = s->free_head;
    s->pos[slot] = UINT32_MAX;
    s->free_head = slot;
}

static inline void place(nm_sim *s, size_t i, heap_entry e) {
    s->heap[i] = e;
    s->pos[SLOT_OF(e)] = (uint32_t)i;
}

static void sift_up(nm_sim *s, size_t i, heap_entry e) {
    while (i > 0) {
        size_t p = (i - 1) / ARITY;
        if (!before(&e, &s->heap[p])) break;
        place(s, i, s->heap[p]);
        i = p;
    }
    place(s, i, e);
}

/* Standard top-down sift (used when a key moves later). */
static void sift_down(nm_sim *s, size_t i, heap_entry e) {
    heap_entry *h = s->heap;
    size_t n = s->n;
    for (;;) {
        size_t c = ARITY * i + 1;
        if (c >= n) break;
        size_t end = c + ARITY < n ? c + ARITY : n;
        size_t m = c;
        for (size_t k = c + 1; k < end; k++) m = pick(m, k, before(&h[k], &h[m]));
        if (!before(&h[m], &e)) break;
        place(s, i, h[m]);
        i = m;
    }
    place(s, i, e);
}

/* Put entry e at position i after its key changed. */
static void fix_at(nm_sim *s, size_t i, heap_entry e) {
    if (i > 0 && before(&e, &s->heap[(i - 1) / ARITY])) sift_up(s, i, e);
    else sift_down(s, i, e);
}

/* Remove the entry at position i, bottom-up: the hole descends along the smallest
 * children to a leaf (a branch-free tournament of four per level), then the last entry
 * fills it and rises. Fewer, more predictable comparisons than the top-down sift. */
static void remove_at(nm_sim *s, size_t i) {
    heap_entry *h = s->heap;
    heap_entry last = h[--s->n];
    size_t n = s->n;
    if (i == n) return;
    for (;;) {
        size_t c = ARITY * i + 1;
        if (c + 3 < n) {
            size_t m01 = c + before(&h[c + 1], &h[c]);
            size_t m23 = c + 2 + before(&h[c + 3], &h[c + 2]);
            size_t m = pick(m01, m23, before(&h[m23], &h[m01]));
            place(s, i, h[m]);
            i = m;
        } else {
            if (c < n) {
                size_t m = c;
                for (size_t k = c + 1; k < n; k++) m = pick(m, k, before(&h[k], &h[m]));
                place(s, i, h[m]);
                i = m;
            }
            break;
        }
    }
    sift_up(s, i, last);
}

static int cmp_entries(const void *pa, const void *pb) {
    const heap_entry *a = pa, *b = pb;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

void nm_sim_renumber(nm_sim *s) {
    /* A sorted array is a valid heap, and ranks keep the order of equal times. */
    if (s->n > 1) qsort(s->heap, s->n, sizeof *s->heap, cmp_entries);
    for (size_t i = 0; i < s->n; i++) {
        s->heap[i].k = ((uint64_t)i << 32) | SLOT_OF(s->heap[i]);
        s->pos[SLOT_OF(s->heap[i])] = (uint32_t)i;
    }
    s->seq = s->n;
}

static inline uint64_t next_key(nm_sim *s, uint32_t slot) {
    if (s->seq >= SEQ_LIMIT) nm_sim_renumber(s);
    return (s->seq++ << 32) | slot;
}

/* Slot of a pending event named by handle t, or NO_SLOT if the handle is stale. */
static uint32_t live_slot(const nm_sim *s, nm_timer t) {
    uint32_t slot = (uint32_t)(t & 0xffffffffu), gen = (uint32_t)(t >> 32);
    if (gen == 0 || (slot >> BLOCK_BITS) >= s->n_blocks) return NO_SLOT;
    uint32_t i = s->pos[slot];
    if (rec_at(s, slot)->gen != gen || i >= s->n || SLOT_OF(s->heap[i]) != slot) return NO_SLOT;
    return slot;
}

nm_timer nm_schedule_at(nm_sim *s, nm_time t, nm_handler h, void *ctx, uint64_t arg) {
    if (t < s->now)
        NM_FATAL("event scheduled in the past (t=%lld ns < now=%lld ns)", (long long)t,
                 (long long)s->now);
    NM_REQUIRE(h != NULL, "event scheduled with a NULL handler");
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->heap = nm_xrealloc(s->heap, s->cap * sizeof *s->heap);
    }
    uint32_t slot = alloc_slot(s);
    event_rec *r = rec_at(s, slot);
    r->h = h;
    r->ctx = ctx;
    r->arg = arg;
    heap_entry e = {t, next_key(s, slot)};
    s->n++;
    sift_up(s, s->n - 1, e);
    return ((nm_timer)r->gen << 32) | slot;
}

nm_timer nm_schedule_in(nm_sim *s, nm_time dt, nm_handler h, void *ctx, uint64_t arg) {
    if (dt < 0) NM_FATAL("event scheduled with a negative delay (%lld ns)", (long long)dt);
    if (dt > NM_TIME_MAX - s->now)
        NM_FATAL("event delay %lld ns overflows the clock", (long long)dt);
    return nm_schedule_at(s, s->now + dt, h, ctx, arg);
}

int nm_cancel(nm_sim *s, nm_timer t) {
    uint32_t slot = live_slot(s, t);
    if (slot == NO_SLOT) return 0;
    remove_at(s, s->pos[slot]);
    free_slot(s, slot);
    return 1;
}

int nm_reschedule(nm_sim *s, nm_timer t, nm_time when) {
    if (when < s->now)
        NM_FATAL("event rescheduled into the past (t=%lld ns < now=%lld ns)", (long long)when,
                 (long long)s->now);
    uint32_t slot = live_slot(s, t);
    if (slot == NO_SLOT) return 0;
    heap_entry e = {when, next_key(s, slot)};
    fix_at(s, s->pos[slot], e);
    return 1;
}

nm_time nm_timer_time(const nm_sim *s, nm_timer t) {
    uint32_t slot = live_slot(s, t);
    return slot == NO_SLOT ? -1 : s->heap[s->pos[slot]].t;
}

int nm_step(nm_sim *s) {
    if (s->n == 0) return 0;
    heap_entry top = s->heap[0];
    remove_at(s, 0);
    event_rec *r = rec_at(s, SLOT_OF(top));
    nm_handler h = r->h;
    void *ctx = r->ctx;
    uint64_t arg = r->arg;
    free_slot(s, SLOT_OF(top));
    s->now = top.t;
    s->dispatched++;
    h(s, ctx, arg);
    return 1;
}

uint64_t nm_run(nm_sim *s) {
    uint64_t count = 0;
    s->stop = 0;
    while (!s->stop && nm_step(s)) count++;
    return count;
}

uint64_t nm_run_until(nm_sim *s, nm_time t_end) {
    if (t_end < s->now)
        NM_FATAL("run_until(%lld ns) is before now (%lld ns)", (long long)t_end, (long long)s->now);
    uint64_t count = 0;
    s->stop = 0;
    while (!s->stop && s->n > 0 && s->heap[0].t <= t_end) {
        nm_step(s);
        count++;
    }
    if (!s->stop) s->now = t_end;
    return count;
}

uint64_t nm_run_before(nm_sim *s, nm_time t) {
    if (t < s->now)
        NM_FATAL("run_before(%lld ns) is before now (%lld ns)", (long long)t, (long long)s->now);
    uint64_t count = 0;
    s->stop = 0;
    while (!s->stop && s->n > 0 && s->heap[0].t < t) {
        nm_step(s);
        count++;
    }
    if (!s->stop) s->now = t;
    return count;
}
