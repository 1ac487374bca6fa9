/* sim/base/syncer.c: fdatasync of one file in a background thread (see syncer.h). */
#include "sim/base/syncer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"

struct sim_syncer {
    char *path;
    pthread_t thread;
    int threaded;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t requested, done; /* syncs asked for, and the request the last one covered */
    int quit;
    int error; /* errno of the first failed sync, 0 while none failed */
};

/* 0, or the errno of the failure. */
static int sync_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return errno;
    int rc = fdatasync(fd) ? errno : 0;
    close(fd);
    return rc == EINVAL || rc == EROFS ? 0 : rc;
}

static void *syncer_main(void *arg) {
    sim_syncer *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->done == s->requested && !s->quit) pthread_cond_wait(&s->cv, &s->mu);
        if (s->done == s->requested) break; /* quit, nothing pending */
        uint64_t target = s->requested;
        pthread_mutex_unlock(&s->mu);
        int e = sync_file(s->path);
        pthread_mutex_lock(&s->mu);
        if (e && !s->error) s->error = e;
        s->done = target;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

sim_syncer *sim_syncer_start(const char *path) {
    sim_syncer *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits: no signal goes there */
    s->threaded = pthread_create(&s->thread, NULL, syncer_main, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return s;
}

void sim_syncer_request(sim_syncer *s) {
    if (!s) return;
    if (!s->threaded) {
        int e = sync_file(s->path);
        if (e && !s->error) s->error = e;
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->requested++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int sim_syncer_wait(sim_syncer *s, char *err, size_t errlen) {
    if (!s) return 0;
    if (s->threaded) {
        pthread_mutex_lock(&s->mu);
        while (s->done != s->requested) pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
    }
    if (!s->error) return 0;
    snprintf(err, errlen, "%s:%d: cannot sync %s to disk: %s", __FILE__, __LINE__, s->path,
             strerror(s->error));
    return -1;
}

int sim_syncer_stop(sim_syncer *s, char *err, size_t errlen) {
    if (!s) return 0;
    int rc = sim_syncer_wait(s, err, errlen);
    if (s->threaded) {
        pthread_mutex_lock(&s->mu);
        s->quit = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->path);
    free(s);
    return rc;
}
