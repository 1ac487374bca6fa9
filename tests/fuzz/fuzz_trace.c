/* tests/fuzz/fuzz_trace.c: libFuzzer target: the trace reader (sim/trace/trace_read.h) on an
 * HDF5 file image in memory: open (with its string probe), summary, reference, scenario
 * text, overrides, every table's rows and CSV, and the validated /peers. */
#include "tests/fuzz/fuzz_util.h"

#include "sim/trace/trace_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    trace_file *tf;
    char err[1024];
    if (trace_read_open_image(data, len, &tf, err, sizeof err)) return 0;
    sim_summary s;
    trace_read_summary(tf, &s);
    trace_reference ref;
    if (!trace_read_reference(tf, &ref)) trace_reference_free(&ref);
    char *text = NULL;
    if (!trace_read_scenario(tf, &text)) free(text);
    char **v = NULL;
    size_t n = 0;
    if (!trace_read_overrides(tf, &v, &n)) trace_read_free_names(v, n);
    char **names = NULL;
    size_t nt = 0;
    if (!trace_read_tables(tf, &names, &nt)) {
        for (size_t i = 0; i < nt; i++) {
            if (trace_read_rows(tf, names[i]) <= 100000) trace_read_table_csv(tf, names[i], sink);
        }
        trace_read_free_names(names, nt);
    }
    trace_peer_rec *peers = NULL;
    size_t np = 0;
    if (!trace_read_peers(tf, &peers, &np)) free(peers);
    trace_read_close(tf);
    return 0;
}
