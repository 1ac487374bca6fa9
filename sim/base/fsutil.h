/* sim/base/fsutil.h: file-system helpers: directories, and reads that distrust their input.
 *
 * Every input file goes through sim_file_open or sim_file_read: a FIFO, a device, a
 * socket or a directory is refused at once (never blocks, never reads /dev/zero forever),
 * and a whole-file read stops at a stated size. */
#ifndef SIM_FSUTIL_H
#define SIM_FSUTIL_H

#include <stddef.h>
#include <stdio.h>

/* Largest text input read whole (scenario, @include, base, flows, profile, device table). */
#define SIM_FILE_MAX_TEXT ((size_t)64 << 20)

/* mkdir -p DIR. 0, or -1 with errno set. */
int sim_mkdir_p(const char *dir);
/* mkdir -p of the directory part of PATH (nothing when it has none). 0, or -1 with errno. */
int sim_mkdir_parent(const char *path);

/* 0 when PATH names a regular file (after symlinks); else -1 with "PATH: reason" in err. */
int sim_file_check(const char *path, char *err, size_t errlen);
/* fopen(PATH, "rb") of a regular file only: opened without blocking (a FIFO cannot
 * stall it), then checked with fstat. NULL with "PATH: reason" in err. */
FILE *sim_file_open(const char *path, char *err, size_t errlen);
/* The whole regular file PATH, NUL-terminated, at most max bytes (*len: its length, may be
 * NULL). NULL with "PATH: reason" in err (not regular, larger than max, read error). */
char *sim_file_read(const char *path, size_t max, size_t *len, char *err, size_t errlen);
/* Checks the libconfig @include lines of TEXT (read from PATH, included files resolved
 * against DIR as libconfig does) before libconfig opens them: each must name a regular
 * file of at most SIM_FILE_MAX_TEXT bytes, recursively (depth at most 10). libconfig's
 * scanner calls exit() on a directory and blocks on a FIFO. 0, or -1 with
 * "FILE:LINE: @include "NAME": reason" in err. */
int sim_file_check_includes(const char *text, const char *path, const char *dir, char *err,
                            size_t errlen);

#endif
