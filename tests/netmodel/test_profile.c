/* tests/netmodel/test_profile.c: netmodel/profile — parsing, LOOPAFTER replay, queries, errors. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netmodel/profile.h"
#include "tests/check_main.h"

#define S(x) ((nm_time)((x)*NM_NS_PER_S))

static nm_profile *parse_ok(const char *text, nm_value_range r) {
    char err[256];
    nm_profile *p = nm_profile_parse_string(text, "t.prof", &r, err, sizeof err);
    ck_assert_msg(p != NULL, "unexpected parse error: %s", err);
    ck_assert_str_eq(err, "");
    return p;
}

/* Parsing must fail with exactly `want` as the message. */
static void expect_error(const char *text, nm_value_range r, const char *want) {
    char err[256];
    nm_profile *p = nm_profile_parse_string(text, "t.prof", &r, err, sizeof err);
    ck_assert_msg(p == NULL, "parsed although '%s' was expected", want);
    ck_assert_str_eq(err, want);
}

/* ---- parsing and queries ----------------------------------------------------------- */

START_TEST(parses_comments_blanks_and_crlf) {
    nm_profile *p = parse_ok("# availability of node 3\n"
                             "\n"
                             "   0   1   # up at start\r\n"
                             "\t12.5\t0\n"
                             "0x1p4 1\n" /* 16 s, a C hex literal */
                             "   \n"
                             "100 0", /* no final newline */
                             nm_range_state());
    ck_assert_uint_eq(nm_profile_count(p), 4);
    ck_assert_int_eq(nm_profile_loop_after(p), -1);
    ck_assert_str_eq(nm_profile_name(p), "t.prof");
    const nm_time t[4] = {0, S(12.5), S(16), S(100)};
    const double v[4] = {1, 0, 1, 0};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(nm_profile_event_time(p, i), t[i]);
        ck_assert_double_eq(nm_profile_event_value(p, i), v[i]);
    }
    nm_profile_free(p);
}
END_TEST

START_TEST(value_at_without_loop) {
    nm_profile *p = parse_ok("2 0.5\n5 2\n", nm_range_multiplier());
    ck_assert_double_eq(nm_profile_value_at(p, 0, 7.0), 7.0); /* default before */
    ck_assert_double_eq(nm_profile_value_at(p, S(2) - 1, 7.0), 7.0);
    ck_assert_double_eq(nm_profile_value_at(p, S(2), 7.0), 0.5); /* at the event */
    ck_assert_double_eq(nm_profile_value_at(p, S(4.9), 7.0), 0.5);
    ck_assert_double_eq(nm_profile_value_at(p, S(5), 7.0), 2.0);
    ck_assert_double_eq(nm_profile_value_at(p, S(1e6), 7.0), 2.0); /* last value holds */

    nm_time t;
    double v;
    ck_assert_int_eq(nm_profile_next_after(p, 0, &t, &v), 1);
    ck_assert_int_eq(t, S(2));
    ck_assert_double_eq(v, 0.5);
    ck_assert_int_eq(nm_profile_next_after(p, S(2), &t, &v), 1); /* strictly after */
    ck_assert_int_eq(t, S(5));
    ck_assert_double_eq(v, 2.0);
    ck_assert_int_eq(nm_profile_next_after(p, S(5), &t, &v), 0); /* the end */

    nm_profile_cursor c;
    nm_profile_seek(p, S(2), &c); /* at or after */
    ck_assert_int_eq(nm_profile_peek(p, &c, &t, &v), 1);
    ck_assert_int_eq(t, S(2));
    nm_profile_advance(p, &c);
    nm_profile_advance(p, &c);
    ck_assert_int_eq(nm_profile_peek(p, &c, &t, &v), 0);
    nm_profile_advance(p, &c); /* advancing past the end stays at the end */
    ck_assert_int_eq(nm_profile_peek(p, &c, &t, &v), 0);
    nm_profile_free(p);
}
END_TEST

START_TEST(loopafter_replays_exactly) {
    /* Events at 0, 10, 25; LOOPAFTER 5: one loop lasts 25 + 5 = 30 s. */
    nm_profile *p = parse_ok("0 1\n10 0\nLOOPAFTER 5\n25 1\n", nm_range_state());
    ck_assert_int_eq(nm_profile_loop_after(p), S(5));
    const nm_time base[3] = {0, S(10), S(25)};
    const double val[3] = {1, 0, 1};
    nm_profile_cursor c;
    nm_profile_seek(p, 0, &c);
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 3; i++) {
            nm_time t;
            double v;
            ck_assert_int_eq(nm_profile_peek(p, &c, &t, &v), 1);
            ck_assert_int_eq(t, k * S(30) + base[i]);
            ck_assert_double_eq(v, val[i]);
            nm_profile_advance(p, &c);
        }
    /* Seeking into the middle of a later loop. */
    nm_time t;
    double v;
    nm_profile_seek(p, S(3 * 30 + 11), &c);
    ck_assert_int_eq(nm_profile_peek(p, &c, &t, &v), 1);
    ck_assert_int_eq(t, S(3 * 30 + 25));
    nm_profile_seek(p, S(3 * 30 + 26), &c); /* after the last event of loop 3 */
    ck_assert_int_eq(nm_profile_peek(p, &c, &t, &v), 1);
    ck_assert_int_eq(t, S(4 * 30));
    ck_assert_double_eq(v, 1.0);
    ck_assert_int_eq(nm_profile_next_after(p, S(4 * 30), &t, &v), 1);
    ck_assert_int_eq(t, S(4 * 30 + 10));
    ck_assert_double_eq(v, 0.0);
    ck_assert_double_eq(nm_profile_value_at(p, S(2 * 30 + 12), -1), 0.0);
    ck_assert_double_eq(nm_profile_value_at(p, S(2 * 30 + 27), -1), 1.0);
    nm_profile_free(p);
}
END_TEST

START_TEST(loop_gap_before_first_event_keeps_last_value) {
    /* First event at 2 s, last at 5 s, LOOPAFTER 3: loop length 8 s; events at
     * 2, 5, 10, 13, 18, 21, ...; in [8, 10) the previous loop's value 2 still holds. */
    nm_profile *p = parse_ok("2 0.5\n5 2\nLOOPAFTER 3\n", nm_range_multiplier());
    ck_assert_double_eq(nm_profile_value_at(p, S(1), 9.0), 9.0);
    ck_assert_double_eq(nm_profile_value_at(p, S(8), 9.0), 2.0);
    ck_assert_double_eq(nm_profile_value_at(p, S(10) - 1, 9.0), 2.0);
    ck_assert_double_eq(nm_profile_value_at(p, S(10), 9.0), 0.5);
    ck_assert_double_eq(nm_profile_value_at(p, S(13), 9.0), 2.0);
    const nm_time want[6] = {S(2), S(5), S(10), S(13), S(18), S(21)};
    nm_time t = -1;
    double v;
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(nm_profile_next_after(p, t, &t, &v), 1);
        ck_assert_int_eq(t, want[i]);
        ck_assert_double_eq(v, i % 2 ? 2.0 : 0.5);
    }
    nm_profile_free(p);
}
END_TEST

START_TEST(fractional_times_round_to_ns_without_drift) {
    nm_profile *p = parse_ok("0.1 1\n0.3 0\nLOOPAFTER 0.2\n", nm_range_state());
    ck_assert_int_eq(nm_profile_event_time(p, 0), 100000000);
    ck_assert_int_eq(nm_profile_event_time(p, 1), 300000000);
    /* Loop length 0.5 s: event 0 of loop 1e6 is at 1e6 * 0.5 s + 0.1 s exactly. */
    nm_profile_cursor c = {.index = 0, .loop = 1000000};
    nm_time t;
    ck_assert_int_eq(nm_profile_peek(p, &c, &t, NULL), 1);
    ck_assert_int_eq(t, 1000000LL * 500000000LL + 100000000LL);
    nm_profile_free(p);
}
END_TEST

START_TEST(loop_ends_where_time_overflows) {
    /* One event at 0 and a 4e9 s loop: loops at 0, 4e18, 8e18 ns; the next would pass
     * INT64_MAX (9.22e18) and the sequence ends there. */
    nm_profile *p = parse_ok("0 1\nLOOPAFTER 4e9\n", nm_range_state());
    nm_profile_cursor c;
    nm_profile_seek(p, 0, &c);
    nm_time t;
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(nm_profile_peek(p, &c, &t, NULL), 1);
        ck_assert_int_eq(t, k * 4000000000LL * NM_NS_PER_S);
        nm_profile_advance(p, &c);
    }
    ck_assert_int_eq(nm_profile_peek(p, &c, &t, NULL), 0);
    ck_assert_int_eq(nm_profile_next_after(p, NM_TIME_MAX, &t, NULL), 0);
    nm_profile_free(p);
}
END_TEST

START_TEST(ranges) {
    nm_value_range st = nm_range_state(), mu = nm_range_multiplier(), any = nm_range_any();
    ck_assert(nm_range_contains(&st, 0.0) && nm_range_contains(&st, 1.0));
    ck_assert(!nm_range_contains(&st, 0.5) && !nm_range_contains(&st, 2.0) &&
              !nm_range_contains(&st, -1.0) && !nm_range_contains(&st, NAN));
    ck_assert(nm_range_contains(&mu, 1e-9) && nm_range_contains(&mu, 3.0));
    ck_assert(!nm_range_contains(&mu, 0.0) && !nm_range_contains(&mu, INFINITY));
    ck_assert(nm_range_contains(&any, -5.0) && !nm_range_contains(&any, -INFINITY));
    nm_profile *p = parse_ok("0 1\n1 0.5\n", nm_range_multiplier());
    ck_assert_int_eq(nm_profile_values_in(p, &mu), 1);
    ck_assert_int_eq(nm_profile_values_in(p, &st), 0);
    nm_profile_free(p);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------ */

START_TEST(malformed_numbers_and_garbage) {
    nm_value_range st = nm_range_state();
    expect_error("# header\n\nabc 1\n", st, "t.prof:3: malformed time 'abc'");
    expect_error("0 1\n5 up\n", st, "t.prof:2: malformed value 'up'");
    expect_error("0 1x\n", st, "t.prof:1: malformed value '1x'");
    expect_error("0 1 2\n", st, "t.prof:1: trailing garbage '2' after the value");
    expect_error("0 1\n7\n", st, "t.prof:2: expected 'time value', got only '7'");
    expect_error("nan 1\n", st, "t.prof:1: time 'nan' is not a finite number in double range");
    expect_error("0 inf\n", nm_range_any(),
                 "t.prof:1: value 'inf' is not a finite number in double range");
    expect_error("1e400 1\n", st, "t.prof:1: time '1e400' is not a finite number in double range");
    expect_error("1 1e-400\n", nm_range_any(),
                 "t.prof:1: value '1e-400' is not a finite number in double range");
}
END_TEST

START_TEST(bad_times) {
    nm_value_range st = nm_range_state();
    expect_error("-1 1\n", st, "t.prof:1: negative time '-1'");
    expect_error("0 1\n5 0\n# c\n5 1\n", st,
                 "t.prof:4: time '5' is not after the previous event's time 5 s (line 2); "
                 "times must increase strictly");
    expect_error("0 1\n5 0\n4 1\n", st,
                 "t.prof:3: time '4' is not after the previous event's time 5 s (line 2); "
                 "times must increase strictly");
    expect_error("1 1\n1.0000000001 0\n", st,
                 "t.prof:2: time '1.0000000001' is within 1 ns of the previous event's time "
                 "(line 1)");
    expect_error("5e9 1\n", st, "t.prof:1: time '5e9' s is too large (limit 4611686018 s)");
}
END_TEST

START_TEST(values_out_of_range) {
    expect_error("0 1\n10 2\n", nm_range_state(), "t.prof:2: value '2' is not a state (0 or 1)");
    expect_error("0 0.5\n", nm_range_state(), "t.prof:1: value '0.5' is not a state (0 or 1)");
    expect_error("0 0\n", nm_range_multiplier(),
                 "t.prof:1: value '0' is not a multiplier (finite, > 0)");
    expect_error("0 -2\n", nm_range_multiplier(),
                 "t.prof:1: value '-2' is not a multiplier (finite, > 0)");
    nm_value_range custom = {.min = 1, .max = 4, .max_open = 1, .what = "in [1, 4)"};
    expect_error("0 4\n", custom, "t.prof:1: value '4' is not in [1, 4)");
    nm_profile *p = parse_ok("0 1\n1 3.99\n", custom);
    nm_profile_free(p);
}
END_TEST

START_TEST(bad_loopafter) {
    nm_value_range st = nm_range_state();
    expect_error("0 1\nLOOPAFTER 0\n", st, "t.prof:2: LOOPAFTER period must be > 0 s, got '0'");
    expect_error("0 1\nLOOPAFTER -3\n", st, "t.prof:2: LOOPAFTER period must be > 0 s, got '-3'");
    expect_error("0 1\nLOOPAFTER\n", st, "t.prof:2: LOOPAFTER needs a period in seconds");
    expect_error("0 1\nLOOPAFTER ten\n", st, "t.prof:2: malformed LOOPAFTER period 'ten'");
    expect_error("0 1\nLOOPAFTER 5 s\n", st,
                 "t.prof:2: trailing garbage 's' after the LOOPAFTER period");
    expect_error("LOOPAFTER 5\n0 1\n\nLOOPAFTER 6\n", st,
                 "t.prof:4: LOOPAFTER given twice (first at line 1)");
    expect_error("# nothing\n\nLOOPAFTER 5\n# more\n", st,
                 "t.prof:3: LOOPAFTER in a profile without events");
    expect_error("0 1\nLOOPAFTER 1e-10\n", st,
                 "t.prof:2: LOOPAFTER period '1e-10' s is below 1 ns");
    expect_error("0 1\nLOOPAFTER 1e10\n", st,
                 "t.prof:2: LOOPAFTER period '1e10' s is too large (limit 4611686018 s)");
}
END_TEST

START_TEST(no_events) {
    expect_error("", nm_range_state(),
                 "t.prof:1: no events: a profile needs at least one 'time value' line");
    expect_error("# only\n# comments\n", nm_range_state(),
                 "t.prof:2: no events: a profile needs at least one 'time value' line");
}
END_TEST

/* Write bytes to a fresh temporary file; returns its path (caller unlinks). */
static void write_temp(char *path, const char *bytes, size_t n) {
    strcpy(path, "/tmp/orionsim-profile-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
    ck_assert_int_eq(close(fd), 0);
}

START_TEST(parse_file_and_file_errors) {
    nm_value_range st = nm_range_state();
    char path[64], err[256], want[256];
    const char good[] = "0 1\n3600 0\nLOOPAFTER 60\n";
    write_temp(path, good, sizeof good - 1);
    nm_profile *p = nm_profile_parse_file(path, &st, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(nm_profile_name(p), path);
    ck_assert_uint_eq(nm_profile_count(p), 2);
    ck_assert_int_eq(nm_profile_loop_after(p), S(60));
    nm_profile_free(p);
    ck_assert_int_eq(unlink(path), 0);

    const char bad[] = "0 1\n\n10 3\n";
    write_temp(path, bad, sizeof bad - 1);
    ck_assert_ptr_null(nm_profile_parse_file(path, &st, err, sizeof err));
    snprintf(want, sizeof want, "%s:3: value '3' is not a state (0 or 1)", path);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(unlink(path), 0);

    const char nul[] = "0 1\n5 0\0\n";
    write_temp(path, nul, sizeof nul - 1);
    ck_assert_ptr_null(nm_profile_parse_file(path, &st, err, sizeof err));
    snprintf(want, sizeof want, "%s:2: NUL byte in a text profile", path);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(unlink(path), 0);

    ck_assert_ptr_null(nm_profile_parse_file("/nonexistent/dir/x.prof", &st, err, sizeof err));
    ck_assert_str_eq(err, "/nonexistent/dir/x.prof: cannot open: No such file or directory");
}
END_TEST

START_TEST(error_buffer_may_be_small_or_absent) {
    nm_value_range st = nm_range_state();
    char err[8];
    ck_assert_ptr_null(nm_profile_parse_string("0 7\n", "t.prof", &st, err, sizeof err));
    ck_assert_str_eq(err, "t.prof:");
    ck_assert_ptr_null(nm_profile_parse_string("0 7\n", "t.prof", &st, NULL, 0));
}
END_TEST

static Suite *profile_suite(void) {
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parses_comments_blanks_and_crlf);
    tcase_add_test(tc, value_at_without_loop);
    tcase_add_test(tc, loopafter_replays_exactly);
    tcase_add_test(tc, loop_gap_before_first_event_keeps_last_value);
    tcase_add_test(tc, fractional_times_round_to_ns_without_drift);
    tcase_add_test(tc, loop_ends_where_time_overflows);
    tcase_add_test(tc, ranges);
    tcase_add_test(tc, malformed_numbers_and_garbage);
    tcase_add_test(tc, bad_times);
    tcase_add_test(tc, values_out_of_range);
    tcase_add_test(tc, bad_loopafter);
    tcase_add_test(tc, no_events);
    tcase_add_test(tc, parse_file_and_file_errors);
    tcase_add_test(tc, error_buffer_may_be_small_or_absent);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(.suite = profile_suite)
