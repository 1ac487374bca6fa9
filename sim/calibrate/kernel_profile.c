/* sim/calibrate/kernel_profile.c: reading and writing kernel profiles (see kernel_profile.h). */
#include "sim/calibrate/kernel_profile.h"

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario.h"
#include "sim/base/fsutil.h"
#include "sim/base/util.h"

int kernel_profile_load(const char *path, double *eff, char *err, size_t errlen) {
    config_t cf;
    config_init(&cf);
    int rc = EXIT_INPUT;
    char *text = sim_file_read(path, SIM_FILE_MAX_TEXT, NULL, err, errlen);
    if (!text) goto out;
    int bad_include = sim_file_check_includes(text, path, NULL, err, errlen);
    free(text);
    if (bad_include) goto out;
    if (!config_read_file(&cf, path)) {
        if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s: cannot read the kernel profile", path);
        else
            snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
                     config_error_text(&cf));
        goto out;
    }
    config_setting_t *root = config_root_setting(&cf);
    for (int i = 0; i < config_setting_length(root); i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *n = config_setting_name(s);
        if (strcmp(n, "device") && strcmp(n, "backend") && strcmp(n, "efficiency") &&
            strcmp(n, "notes")) {
            snprintf(err, errlen, "%s:%d: %s: unknown key", path, config_setting_source_line(s), n);
            goto out;
        }
    }
    config_setting_t *g = config_lookup(&cf, "efficiency");
    if (!g || !config_setting_is_group(g)) {
        snprintf(err, errlen, "%s: efficiency: missing group", path);
        goto out;
    }
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        int known = 0;
        for (int k = 0; k < SIM_EFF_KINDS; k++)
            known |= !strcmp(config_setting_name(s), sim_eff_name((sim_eff_kind)k));
        if (!known) {
            snprintf(err, errlen, "%s:%d: efficiency.%s: unknown key", path,
                     config_setting_source_line(s), config_setting_name(s));
            goto out;
        }
    }
    for (int k = 0; k < SIM_EFF_KINDS; k++) {
        const char *n = sim_eff_name((sim_eff_kind)k);
        config_setting_t *s = config_setting_get_member(g, n);
        if (!s) {
            snprintf(err, errlen, "%s:%d: efficiency.%s: missing", path,
                     config_setting_source_line(g), n);
            goto out;
        }
        int t = config_setting_type(s);
        if (t != CONFIG_TYPE_FLOAT && t != CONFIG_TYPE_INT) {
            snprintf(err, errlen, "%s:%d: efficiency.%s: expected a number", path,
                     config_setting_source_line(s), n);
            goto out;
        }
        double v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                          : (double)config_setting_get_int(s);
        if (!(v > 0 && v <= 1)) {
            snprintf(err, errlen, "%s:%d: efficiency.%s: %g is outside (0, 1]", path,
                     config_setting_source_line(s), n, v);
            goto out;
        }
        eff[k] = v;
    }
    rc = 0;
out:
    config_destroy(&cf);
    return rc;
}

int kernel_profile_save(const char *path, const char *device, const char *backend,
                        const double *eff, char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return EXIT_RUN;
    }
    fprintf(f, "# kernel profile written by `orionsim calibrate`\n");
    fprintf(f, "device = \"%s\";\nbackend = \"%s\";\nefficiency = {\n", device, backend);
    for (int k = 0; k < SIM_EFF_KINDS; k++)
        fprintf(f, "  %s = %.6f;\n", sim_eff_name((sim_eff_kind)k), eff[k]);
    fprintf(f, "};\n");
    if (fclose(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return EXIT_RUN;
    }
    return 0;
}
