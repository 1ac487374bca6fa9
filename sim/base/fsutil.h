/* sim/base/fsutil.h: directory helpers for commands that write several files. */
#ifndef SIM_FSUTIL_H
#define SIM_FSUTIL_H

/* mkdir -p DIR. 0, or -1 with errno set. */
int sim_mkdir_p(const char *dir);
/* mkdir -p of the directory part of PATH (nothing when it has none). 0, or -1 with errno. */
int sim_mkdir_parent(const char *path);

#endif
