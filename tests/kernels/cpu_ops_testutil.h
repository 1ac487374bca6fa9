/* tests/kernels/cpu_ops_testutil.h: what test_cpu_ops.c and test_cpu_ops_misc.c share (helpers, records, set-up). */
#ifndef TESTS_KERNELS_CPU_OPS_TESTUTIL_H
#define TESTS_KERNELS_CPU_OPS_TESTUTIL_H

#include <cblas.h>
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/backend.h"
#include "kernels/cpu_ops.h"
#include "tests/kernels/gradcheck.h"
#include "tests/check_main.h"

/* FD settings for the fp32 ops (see gradcheck.h). */
#define FD_H 1e-2f
#define FD_ATOL 1e-4
#define FD_RTOL 1e-3

#endif
