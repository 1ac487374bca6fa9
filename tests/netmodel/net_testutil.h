/* tests/netmodel/net_testutil.h: what test_net.c and test_net_random.c share (helpers, records, set-up). */
#ifndef TESTS_NETMODEL_NET_TESTUTIL_H
#define TESTS_NETMODEL_NET_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/net.h"
#include "tests/check_main.h"

#define MS 1000000LL /* ns */

/* ---- callback log ------------------------------------------------------------------ */

enum { MAXF = 3000 };

typedef struct {
    nm_flow_result r[MAXF];
    int calls[MAXF];
    int n_calls;
} results;

static inline void on_flow(nm_net *net, void *ctx, uint64_t arg, const nm_flow_result *r) {
    (void)net;
    results *rs = ctx;
    ck_assert_uint_lt(arg, MAXF);
    rs->r[arg] = *r;
    rs->calls[arg]++;
    rs->n_calls++;
}

static inline results *new_results(void) {
    results *rs = calloc(1, sizeof *rs);
    ck_assert_ptr_nonnull(rs);
    return rs;
}

/* A scheduled action: run fn(net, arg) at a given time. */
typedef struct {
    nm_net *net;
    void (*fn)(nm_net *net, uint64_t arg);
} action;

static inline void run_action(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    action *a = ctx;
    a->fn(a->net, arg);
}

#endif
