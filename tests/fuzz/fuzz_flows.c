/* tests/fuzz/fuzz_flows.c: libFuzzer target: the flows-file reader (sim/flows/flows_file.h),
 * then the flows simulation itself on what it accepted (small inputs only), so a value the
 * reader lets through cannot abort the network model. */
#include "tests/fuzz/fuzz_util.h"

#include "sim/flows/flows_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    if (len > 1 << 16) return 0;
    const char *path = fuzz_write("f.cfg", data, len);
    flows_spec sp;
    if (flows_spec_load(path, &sp, sink) == 0) {
        if (sp.n_flows <= 64 && sp.n_nodes <= 64) flows_spec_run(&sp, sink, sink);
        flows_spec_free(&sp);
    }
    return 0;
}
