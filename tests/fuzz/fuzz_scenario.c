/* tests/fuzz/fuzz_scenario.c: libFuzzer target: the scenario reader with --set overrides.
 *
 * Input: scenario text; lines that start with "#set " are also passed as --set values
 * (at most 8), so one input exercises the libconfig parse, the schema check, the --set
 * parser and every fill step. The device table (scenarios/devices.cfg) sits beside the
 * scenario as in a checkout. Then the memory estimate, which every run computes. */
#include "tests/fuzz/fuzz_util.h"

#include "sim/scenario/scenario.h"

static const char *devices_text;

static void load_devices(void) {
    const char *root = getenv("ORIONSIM_FUZZ_ROOT");
    char dp[512];
    snprintf(dp, sizeof dp, "%s/scenarios/devices.cfg", root ? root : ".");
    FILE *f = fopen(dp, "rb");
    static char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    devices_text = buf;
    fuzz_write("devices.cfg", (const uint8_t *)buf, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    if (!devices_text) load_devices();
    if (len > 1 << 16) return 0;
    const char *path = fuzz_write("s.cfg", data, len);
    char *text = malloc(len + 1);
    memcpy(text, data, len);
    text[len] = 0;
    const char *sets[8];
    int n_sets = 0;
    for (char *p = text; p && *p && n_sets < 8;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (!strncmp(p, "#set ", 5)) sets[n_sets++] = p + 5;
        p = nl ? nl + 1 : NULL;
    }
    sim_scenario sc;
    char err[2048];
    if (sim_scenario_load(path, sets, n_sets, &sc, err, sizeof err) == 0) {
        sim_memory_estimate m = sim_scenario_memory(&sc);
        if (!(m.total_bytes >= 0)) abort();
        sim_scenario_free(&sc);
    }
    free(text);
    return 0;
}
