/* sim/base/syncer.h: fdatasync of one file in a background thread.
 *
 * A writer that closes its file after every short write window (sim/trace/trace.c) wants
 * each window on disk before the next one starts, so that a power loss finds the file as
 * a window closed it, but it need not wait for the disk in between. sim_syncer_request
 * asks for a sync of the file as it is now (the writer has just closed it) and returns
 * at once; sim_syncer_wait blocks until every requested sync is done and reports the
 * first failure: the writer calls it before it reopens the file. The thread blocks every
 * signal (handlers run in the writer's thread). When no thread can be started the
 * requests sync at once. Syncing a file system that cannot (EINVAL, EROFS) is not a
 * failure. */
#ifndef SIM_SYNCER_H
#define SIM_SYNCER_H

#include <stddef.h>

typedef struct sim_syncer sim_syncer;

/* For the file at path (copied). Never NULL. The calls below accept NULL (nothing). */
sim_syncer *sim_syncer_start(const char *path);
void sim_syncer_request(sim_syncer *s);
/* 0, or -1 with "src.c:LINE: cannot sync PATH to disk: reason" in err (the first failure
 * so far). */
int sim_syncer_wait(sim_syncer *s, char *err, size_t errlen);
/* Wait, stop the thread, free. s may be NULL. 0 or -1 as sim_syncer_wait. */
int sim_syncer_stop(sim_syncer *s, char *err, size_t errlen);

#endif
