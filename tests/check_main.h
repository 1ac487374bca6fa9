/* tests/check_main.h: the one main() of every Check test program.
 *
 * A test file ends with CHECK_MAIN(.suite = x_suite) and, where it needs them, a set-up
 * run before the suite (0: run it; CHECK_SKIP: print why and pass; else fail), a
 * tear-down run after it, and .no_fork = 1 where state cannot cross fork() (a CUDA
 * context). The exit status is 0 when every test passed. */
#ifndef TESTS_CHECK_MAIN_H
#define TESTS_CHECK_MAIN_H

#include <check.h>

enum { CHECK_SKIP = 77 };

typedef struct {
    Suite *(*suite)(void);
    int (*setup)(void);     /* optional */
    void (*teardown)(void); /* optional; runs after the suite, also when it failed */
    int no_fork;            /* run the tests in this process (CK_NOFORK) */
} check_main_spec;

int check_main_run(const check_main_spec *spec);

#define CHECK_MAIN(...)                                                                            \
    int main(void) { return check_main_run(&(check_main_spec){__VA_ARGS__}); }

#endif
