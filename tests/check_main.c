/* tests/check_main.c: the shared Check runner behind CHECK_MAIN (see check_main.h). */
#include "tests/check_main.h"

#include <stdio.h>
#include <stdlib.h>

int check_main_run(const check_main_spec *spec) {
    if (spec->setup) {
        const int rc = spec->setup();
        if (rc == CHECK_SKIP) return EXIT_SUCCESS;
        if (rc != 0) return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(spec->suite());
    if (spec->no_fork) srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (spec->teardown) spec->teardown();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
