/* tests/netmodel/faults_testutil.h: what test_faults.c and test_faults_more.c share (helpers, records, set-up). */
#ifndef TESTS_NETMODEL_FAULTS_TESTUTIL_H
#define TESTS_NETMODEL_FAULTS_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/faults.h"
#include "tests/check_main.h"

#define S(x) ((nm_time)((x)*NM_NS_PER_S))

/* ---- recording callbacks ---------------------------------------------------------- */

typedef struct rec {
    uint32_t pid; /* trace only */
    int node;
    nm_fault_kind kind;
    double value;
    nm_time t;
} rec;

typedef struct recs {
    rec *v;
    size_t n, cap;
} recs;

static inline void push(recs *r, rec x) {
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        ck_assert_ptr_nonnull(r->v);
    }
    r->v[r->n++] = x;
}

static inline void on_change(void *ctx, int node, nm_fault_kind kind, double value, nm_time t) {
    push(ctx, (rec){.node = node, .kind = kind, .value = value, .t = t});
}

static inline void on_trace(void *ctx, uint32_t pid, int node, nm_fault_kind kind, double value,
                            nm_time t) {
    push(ctx, (rec){.pid = pid, .node = node, .kind = kind, .value = value, .t = t});
}

/* Records of process pid (all when pid == 0) and node range [lo, hi). */
static inline recs filter(const recs *r, uint32_t pid, int lo, int hi) {
    recs out = {0};
    for (size_t i = 0; i < r->n; i++)
        if ((pid == 0 || r->v[i].pid == pid) && r->v[i].node >= lo && r->v[i].node < hi)
            push(&out, r->v[i]);
    return out;
}

static inline void assert_same(const recs *a, const recs *b) {
    ck_assert_uint_eq(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        ck_assert_int_eq(a->v[i].node, b->v[i].node);
        ck_assert_int_eq(a->v[i].kind, b->v[i].kind);
        ck_assert_double_eq(a->v[i].value, b->v[i].value);
        ck_assert_int_eq(a->v[i].t, b->v[i].t);
        ck_assert_uint_eq(a->v[i].pid, b->v[i].pid);
    }
}

static const nm_fault_window ALWAYS = {0.0, INFINITY};

/* Share of [0, t_end) during which `node` was in the state entered by `kind_on` (left by
 * `kind_off`), from effective-change records. */
static inline double share_of_time(const recs *r, int node, nm_fault_kind kind_on,
                                   nm_fault_kind kind_off, nm_time t_end) {
    nm_time since = -1, total = 0;
    for (size_t i = 0; i < r->n; i++) {
        const rec *x = &r->v[i];
        if (x->node != node) continue;
        if (x->kind == kind_on && since < 0) since = x->t;
        else if (x->kind == kind_off && since >= 0) {
            total += x->t - since;
            since = -1;
        }
    }
    if (since >= 0) total += t_end - since;
    return (double)total / (double)t_end;
}

#endif
