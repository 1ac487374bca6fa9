/* tests/fuzz/fuzz_sweep.c: libFuzzer target: the sweep-file reader (sim/sweep/sweep_file.h)
 * on an HDF5 file image in memory: attributes (vary, vary_keys, sets, scenario) and the
 * /points table. */
#include "tests/fuzz/fuzz_util.h"

#include "sim/sweep/sweep_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    sweep_meta m;
    sweep_point *pts = NULL;
    size_t n = 0;
    char err[1024];
    if (sweep_file_read_image(data, len, &m, &pts, &n, err, sizeof err) == 0) {
        sweep_points_free(pts, n, m.n_keys);
        sweep_meta_free(&m);
    }
    return 0;
}
