/* tests/netmodel/test_event.c: the discrete-event core (netmodel/event.h). */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel/event.h"
#include "tests/check_main.h"

/* Log of dispatched events: (time, arg). */
typedef struct {
    nm_time t[4096];
    uint64_t arg[4096];
    int n;
} log_t;

static void record(nm_sim *sim, void *ctx, uint64_t arg) {
    log_t *lg = ctx;
    if (lg->n >= 4096) ck_abort_msg("event log overflow");
    lg->t[lg->n] = nm_now(sim);
    lg->arg[lg->n] = arg;
    lg->n++;
}

static uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

START_TEST(test_order_and_ties) {
    nm_sim *sim = nm_sim_new();
    static log_t lg;
    lg.n = 0;
    /* 1000 events on 50 distinct times: dispatch must be a stable sort by time. */
    nm_time when[1000];
    uint64_t seed = 7;
    for (int i = 0; i < 1000; i++) {
        when[i] = (nm_time)(lcg(&seed) % 50) * 1000;
        nm_schedule_at(sim, when[i], record, &lg, (uint64_t)i);
    }
    ck_assert_uint_eq(nm_pending(sim), 1000);
    ck_assert_uint_eq(nm_run(sim), 1000);
    ck_assert_int_eq(lg.n, 1000);
    int k = 0;
    for (nm_time t = 0; t < 50 * 1000; t += 1000)
        for (int i = 0; i < 1000; i++)
            if (when[i] == t) {
                ck_assert_int_eq(lg.t[k], t);
                ck_assert_uint_eq(lg.arg[k], (uint64_t)i);
                k++;
            }
    ck_assert_int_eq(k, 1000);
    ck_assert_int_eq(nm_now(sim), 49000);
    ck_assert_uint_eq(nm_dispatched(sim), 1000);
    ck_assert_uint_eq(nm_pending(sim), 0);
    ck_assert_int_eq(nm_step(sim), 0);
    nm_sim_free(sim);
}
END_TEST

/* A handler that schedules at the current time runs after what is already queued then. */
static void chain(nm_sim *sim, void *ctx, uint64_t arg) {
    record(sim, ctx, arg);
    if (arg < 3) nm_schedule_in(sim, 0, chain, ctx, arg + 10);
}

START_TEST(test_same_time_from_handler) {
    nm_sim *sim = nm_sim_new();
    static log_t lg;
    lg.n = 0;
    nm_schedule_at(sim, 5, chain, &lg, 1);
    nm_schedule_at(sim, 5, chain, &lg, 2);
    nm_schedule_at(sim, 6, chain, &lg, 99);
    nm_run(sim);
    uint64_t want[] = {1, 2, 11, 12, 99};
    nm_time want_t[] = {5, 5, 5, 5, 6};
    ck_assert_int_eq(lg.n, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(lg.arg[i], want[i]);
        ck_assert_int_eq(lg.t[i], want_t[i]);
    }
    nm_sim_free(sim);
}
END_TEST

static void self_check(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)arg;
    nm_timer *self = ctx;
    /* Inside its handler an event's own handle is already stale. */
    ck_assert_int_eq(nm_timer_time(sim, *self), -1);
    ck_assert_int_eq(nm_cancel(sim, *self), 0);
}

START_TEST(test_cancel_and_stale) {
    nm_sim *sim = nm_sim_new();
    static log_t lg;
    lg.n = 0;
    nm_timer a = nm_schedule_at(sim, 10, record, &lg, 1);
    nm_timer b = nm_schedule_at(sim, 20, record, &lg, 2);
    nm_timer c = nm_schedule_at(sim, 30, record, &lg, 3);
    ck_assert_uint_ne(a, 0);
    ck_assert_int_eq(nm_timer_time(sim, b), 20);
    ck_assert_int_eq(nm_cancel(sim, b), 1);
    ck_assert_int_eq(nm_cancel(sim, b), 0);
    ck_assert_int_eq(nm_timer_time(sim, b), -1);
    ck_assert_int_eq(nm_cancel(sim, 0), 0);
    ck_assert_int_eq(nm_cancel(sim, 0xdeadbeefULL << 32 | 123456), 0);
    ck_assert_uint_eq(nm_pending(sim), 2);
    ck_assert_int_eq(nm_step(sim), 1); /* a fires */
    ck_assert_int_eq(nm_cancel(sim, a), 0);
    /* The freed slot is reused; the old handle must not reach the new event. */
    nm_timer d = nm_schedule_at(sim, 40, record, &lg, 4);
    ck_assert_uint_ne(d, a);
    ck_assert_int_eq(nm_cancel(sim, a), 0);
    ck_assert_int_eq(nm_timer_time(sim, d), 40);
    nm_timer e;
    e = nm_schedule_at(sim, 35, self_check, &e, 0);
    ck_assert_uint_eq(nm_run(sim), 3);
    ck_assert_int_eq(lg.n, 3);
    ck_assert_uint_eq(lg.arg[0], 1);
    ck_assert_uint_eq(lg.arg[1], 3);
    ck_assert_uint_eq(lg.arg[2], 4);
    ck_assert_int_eq(nm_cancel(sim, c), 0);
    ck_assert_int_eq(nm_cancel(sim, d), 0);
    nm_sim_free(sim);
}
END_TEST

START_TEST(test_reschedule) {
    nm_sim *sim = nm_sim_new();
    static log_t lg;
    lg.n = 0;
    nm_timer a = nm_schedule_at(sim, 100, record, &lg, 1);
    nm_schedule_at(sim, 50, record, &lg, 2);
    nm_schedule_at(sim, 70, record, &lg, 3);
    ck_assert_int_eq(nm_reschedule(sim, a, 10), 1); /* earlier */
    ck_assert_int_eq(nm_timer_time(sim, a), 10);
    ck_assert_int_eq(nm_reschedule(sim, a, 70), 1); /* later, ties after arg 3 */
    ck_assert_int_eq(nm_timer_time(sim, a), 70);
    nm_run(sim);
    ck_assert_int_eq(lg.n, 3);
    ck_assert_uint_eq(lg.arg[0], 2);
    ck_assert_uint_eq(lg.arg[1], 3);
    ck_assert_uint_eq(lg.arg[2], 1);
    ck_assert_int_eq(lg.t[2], 70);
    ck_assert_int_eq(nm_reschedule(sim, a, 80), 0);
    nm_sim_free(sim);
}
END_TEST

START_TEST(test_pool_reuse) {
    /* 200k events through a queue that never holds more than 64: the pool recycles and
     * every handle stays unique; counts are conserved. */
    nm_sim *sim = nm_sim_new();
    static log_t lg;
    nm_timer live[64];
    uint64_t seed = 3, fired = 0, scheduled = 0, cancelled = 0;
    for (int i = 0; i < 64; i++) {
        live[i] = nm_schedule_in(sim, (nm_time)(lcg(&seed) % 1000), record, &lg, 0);
        scheduled++;
    }
    for (int round = 0; round < 200000; round++) {
        lg.n = 0;
        int i = (int)(lcg(&seed) % 64);
        if (nm_cancel(sim, live[i])) cancelled++;
        nm_timer old = live[i];
        live[i] = nm_schedule_in(sim, (nm_time)(lcg(&seed) % 1000), record, &lg, 0);
        if (live[i] == old) ck_abort_msg("round %d: a handle was reused", round);
        scheduled++;
        fired += (uint64_t)nm_step(sim);
        if (nm_pending(sim) + fired + cancelled != scheduled)
            ck_abort_msg("round %d: events not conserved", round);
    }
    fired += nm_run(sim);
    ck_assert_uint_eq(fired + cancelled, scheduled);
    ck_assert_uint_eq(nm_dispatched(sim), fired);
    nm_sim_free(sim);
}
END_TEST

/* Random schedule / cancel / reschedule / step against a brute-force reference. */
typedef struct {
    nm_timer h;
    nm_time t;
    uint64_t seq;
    int live;
} ref_ev;

START_TEST(test_random_against_reference) {
    enum { N = 3000 };
    static ref_ev ref[N];
    static log_t lg;
    nm_sim *sim = nm_sim_new();
    uint64_t seed = 11, seq = 0;
    int n = 0;
    size_t pending = 0;
    for (int op = 0; op < 30000; op++) {
        int kind = (int)(lcg(&seed) % 10);
        nm_time now = nm_now(sim);
        if (kind < 4 && n < N) {
            ref[n].t = now + (nm_time)(lcg(&seed) % 200);
            ref[n].h = nm_schedule_at(sim, ref[n].t, record, &lg, (uint64_t)n);
            ref[n].seq = seq++;
            ref[n].live = 1;
            n++;
            pending++;
        } else if (kind < 5 && n > 0) {
            int i = (int)(lcg(&seed) % (uint64_t)n);
            if (nm_cancel(sim, ref[i].h) != ref[i].live) ck_abort_msg("op %d: cancel", op);
            pending -= (size_t)ref[i].live;
            ref[i].live = 0;
        } else if (kind < 6 && n > 0) {
            int i = (int)(lcg(&seed) % (uint64_t)n);
            nm_time t = now + (nm_time)(lcg(&seed) % 200);
            if (nm_reschedule(sim, ref[i].h, t) != ref[i].live)
                ck_abort_msg("op %d: reschedule", op);
            if (ref[i].live) {
                ref[i].t = t;
                ref[i].seq = seq++;
            }
        } else if (kind == 6) {
            nm_sim_renumber(sim);
        } else {
            int best = -1;
            for (int i = 0; i < n; i++)
                if (ref[i].live && (best < 0 || ref[i].t < ref[best].t ||
                                    (ref[i].t == ref[best].t && ref[i].seq < ref[best].seq)))
                    best = i;
            lg.n = 0;
            if (nm_step(sim) != (best >= 0)) ck_abort_msg("op %d: step", op);
            if (best >= 0) {
                if (lg.n != 1 || lg.arg[0] != (uint64_t)best || lg.t[0] != ref[best].t)
                    ck_abort_msg("op %d: dispatched %d events, arg %llu at %lld; want %d at %lld",
                                 op, lg.n, (unsigned long long)lg.arg[0], (long long)lg.t[0], best,
                                 (long long)ref[best].t);
                ref[best].live = 0;
                pending--;
            }
        }
        if (nm_pending(sim) != pending)
            ck_abort_msg("op %d: %zu pending, want %zu", op, nm_pending(sim), pending);
    }
    nm_sim_free(sim);
}
END_TEST

START_TEST(test_run_until) {
    nm_sim *sim = nm_sim_new();
    static log_t lg;
    lg.n = 0;
    nm_schedule_at(sim, 10, record, &lg, 1);
    nm_schedule_at(sim, 20, record, &lg, 2);
    nm_schedule_at(sim, 30, record, &lg, 3);
    ck_assert_uint_eq(nm_run_until(sim, 20), 2);
    ck_assert_int_eq(nm_now(sim), 20);
    ck_assert_uint_eq(nm_run_until(sim, 25), 0);
    ck_assert_int_eq(nm_now(sim), 25);
    nm_schedule_in(sim, 1, record, &lg, 4); /* relative to the advanced clock: 26 */
    ck_assert_uint_eq(nm_run(sim), 2);
    ck_assert_int_eq(lg.t[2], 26);
    ck_assert_int_eq(lg.t[3], 30);
    ck_assert_uint_eq(nm_run_until(sim, 1000), 0);
    ck_assert_int_eq(nm_now(sim), 1000);
    nm_sim_free(sim);
}
END_TEST

/* nm_run_before: events before t fire, none at t; what the caller does at t comes first. */
START_TEST(test_run_before) {
    nm_sim *sim = nm_sim_new();
    static log_t lg;
    lg.n = 0;
    nm_schedule_at(sim, 10, record, &lg, 1);
    nm_schedule_at(sim, 20, record, &lg, 2);
    nm_schedule_at(sim, 30, record, &lg, 3);
    ck_assert_uint_eq(nm_run_before(sim, 20), 1);
    ck_assert_int_eq(nm_now(sim), 20);
    ck_assert_int_eq(lg.n, 1);
    ck_assert_uint_eq(nm_pending(sim), 2);
    /* scheduled now for t = 20, after the pending event 2, and still before 3 */
    nm_schedule_at(sim, 20, record, &lg, 4);
    record(sim, &lg, 5); /* the caller's own action at 20 comes before event 2 */
    ck_assert_uint_eq(nm_run_before(sim, 20), 0); /* t == now: nothing to do */
    ck_assert_uint_eq(nm_run(sim), 3);
    static const uint64_t want[] = {1, 5, 2, 4, 3};
    static const nm_time at[] = {10, 20, 20, 20, 30};
    ck_assert_int_eq(lg.n, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(lg.arg[i], want[i]);
        ck_assert_int_eq(lg.t[i], at[i]);
    }
    ck_assert_uint_eq(nm_run_before(sim, 1000), 0);
    ck_assert_int_eq(nm_now(sim), 1000);
    nm_sim_free(sim);
}
END_TEST

static void stopper(nm_sim *sim, void *ctx, uint64_t arg) {
    record(sim, ctx, arg);
    if (arg == 2) nm_stop(sim);
}

START_TEST(test_stop) {
    nm_sim *sim = nm_sim_new();
    static log_t lg;
    lg.n = 0;
    for (uint64_t i = 1; i <= 4; i++) nm_schedule_at(sim, (nm_time)i * 10, stopper, &lg, i);
    ck_assert_uint_eq(nm_run(sim), 2);
    ck_assert_int_eq(nm_now(sim), 20);
    ck_assert_uint_eq(nm_pending(sim), 2);
    /* run_until stopped early leaves the clock at the stop. */
    nm_schedule_at(sim, 25, stopper, &lg, 2);
    ck_assert_uint_eq(nm_run_until(sim, 100), 1);
    ck_assert_int_eq(nm_now(sim), 25);
    ck_assert_uint_eq(nm_run(sim), 2);
    ck_assert_int_eq(lg.n, 5);
    ck_assert_int_eq(nm_now(sim), 40);
    nm_sim_free(sim);
}
END_TEST

START_TEST(test_time_conversions) {
    ck_assert_int_eq(nm_from_s(1.5), 1500000000LL);
    ck_assert_int_eq(nm_from_s(1e-9), 1);
    ck_assert_int_eq(nm_from_s(0.4e-9), 0);
    ck_assert_int_eq(nm_from_s(-2e-9), -2);
    ck_assert_double_eq(nm_to_s(2500000000LL), 2.5);
}
END_TEST

/* Caller bugs abort (only checked when Check forks). */
static void nop(nm_sim *sim, void *ctx, uint64_t arg) {
    (void)sim;
    (void)ctx;
    (void)arg;
}

START_TEST(test_past_aborts) {
    nm_sim *sim = nm_sim_new();
    nm_schedule_at(sim, 10, nop, NULL, 0);
    nm_run(sim);
    nm_schedule_at(sim, 9, nop, NULL, 0);
}
END_TEST

START_TEST(test_negative_delay_aborts) {
    nm_sim *sim = nm_sim_new();
    nm_schedule_in(sim, -1, nop, NULL, 0);
}
END_TEST

static Suite *event_suite(void) {
    Suite *s = suite_create("event");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_order_and_ties);
    tcase_add_test(tc, test_same_time_from_handler);
    tcase_add_test(tc, test_cancel_and_stale);
    tcase_add_test(tc, test_reschedule);
    tcase_add_test(tc, test_pool_reuse);
    tcase_add_test(tc, test_random_against_reference);
    tcase_add_test(tc, test_run_until);
    tcase_add_test(tc, test_run_before);
    tcase_add_test(tc, test_stop);
    tcase_add_test(tc, test_time_conversions);
    const char *fork = getenv("CK_FORK");
    if (!fork || strcmp(fork, "no") != 0) {
        tcase_add_test_raise_signal(tc, test_past_aborts, SIGABRT);
        tcase_add_test_raise_signal(tc, test_negative_delay_aborts, SIGABRT);
    }
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = event_suite)
