/* tests/fuzz/fuzz_util.h: helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Text inputs go through a private directory (the readers take paths and resolve
 * devices.cfg and @include relative to the file); HDF5 inputs are opened from memory as
 * file images. Every target only checks that the reader returns (0 or an error): a crash,
 * a sanitizer report, a leak or a timeout is the finding. */
#ifndef TESTS_FUZZ_UTIL_H
#define TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A directory of our own for the whole fuzzing process (made once). */
static const char *fuzz_dir(void) {
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/orionsim-fuzz-XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    return dir;
}

/* Write len bytes to DIR/name; the path (static buffer). */
static const char *fuzz_write(const char *name, const uint8_t *data, size_t len) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (len && fwrite(data, 1, len, f) != len) abort();
    fclose(f);
    return path;
}

#endif
