/* sim/sweep/sweep_pool.c: fork/pipe/poll worker processes (see sweep_pool.h). */
#include "sim/sweep/sweep_pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/base/util.h"

typedef struct {
    pid_t pid; /* 0: free slot */
    int fd;    /* read end of the worker's pipe */
    size_t job;
    size_t got; /* result bytes received */
    char *buf;
} slot;

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(3);
        p += w;
        n -= (size_t)w;
    }
}

/* Start job `job` in slot s. 0, or -1 with err. */
static int start(slot *slots, int n_slots, slot *s, size_t job, size_t result_size,
                 sweep_job_fn run, void *ctx, char *err, size_t errlen) {
    int fds[2];
    if (pipe(fds)) {
        snprintf(err, errlen, "%s:%d: pipe: %s", __FILE__, __LINE__, strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "%s:%d: fork: %s", __FILE__, __LINE__, strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        for (int i = 0; i < n_slots; i++)
            if (slots[i].pid) close(slots[i].fd);
        char *res = calloc(1, result_size ? result_size : 1);
        if (!res) _exit(4);
        run(job, ctx, res);
        write_all(fds[1], res, result_size);
        free(res);
        close(fds[1]);
        fflush(NULL);
        _exit(0); /* no atexit handlers: the parent's HDF5 handles stay the parent's */
    }
    close(fds[1]);
    s->pid = pid;
    s->fd = fds[0];
    s->job = job;
    s->got = 0;
    return 0;
}

/* The worker of slot s has closed its pipe: reap it and report. */
static void finish(slot *s, size_t result_size, sweep_done_fn done, void *ctx) {
    close(s->fd);
    int status = 0;
    pid_t r;
    do r = waitpid(s->pid, &status, 0);
    while (r < 0 && errno == EINTR);
    char why[128] = "";
    if (r < 0) snprintf(why, sizeof why, "%s:%d: waitpid: %s", __FILE__, __LINE__, strerror(errno));
    else if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "worker killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(why, sizeof why, "worker exited with status %d", WEXITSTATUS(status));
    else if (s->got != result_size)
        snprintf(why, sizeof why, "worker ended without a result (%zu of %zu bytes)", s->got,
                 result_size);
    s->pid = 0;
    done(s->job, why[0] == 0, s->buf, why, ctx);
}

int sweep_pool_run(const size_t *jobs, size_t n, int workers, size_t result_size, sweep_job_fn run,
                   sweep_done_fn done, void *ctx, volatile int *stop, char *err, size_t errlen) {
    if (workers < 1) workers = 1;
    if ((size_t)workers > n) workers = n ? (int)n : 1;
    slot *slots = xcalloc((size_t)workers, sizeof *slots);
    for (int i = 0; i < workers; i++) slots[i].buf = xmalloc(result_size ? result_size : 1);
    struct pollfd *pfd = xcalloc((size_t)workers, sizeof *pfd);
    size_t next = 0;
    int running = 0, rc = 0, signalled = 0;
    for (;;) {
        int stopping = rc || (stop && *stop);
        while (!stopping && next < n && running < workers) {
            slot *s = NULL;
            for (int i = 0; i < workers && !s; i++)
                if (!slots[i].pid) s = &slots[i];
            if (start(slots, workers, s, jobs[next], result_size, run, ctx, err, errlen)) {
                rc = -1;
                stopping = 1;
                break;
            }
            next++;
            running++;
        }
        if (stopping && !signalled) {
            for (int i = 0; i < workers; i++)
                if (slots[i].pid) kill(slots[i].pid, SIGINT);
            signalled = 1;
        }
        if (!running) break;
        int np = 0;
        for (int i = 0; i < workers; i++)
            if (slots[i].pid) pfd[np++] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
        int pr = poll(pfd, (nfds_t)np, 1000);
        if (pr < 0 && errno != EINTR) {
            snprintf(err, errlen, "%s:%d: poll: %s", __FILE__, __LINE__, strerror(errno));
            rc = -1;
            continue;
        }
        if (pr <= 0) continue;
        for (int k = 0; k < np; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            slot *s = NULL;
            for (int i = 0; i < workers && !s; i++)
                if (slots[i].pid && slots[i].fd == pfd[k].fd) s = &slots[i];
            char tmp[4096];
            ssize_t r = read(s->fd, tmp, sizeof tmp);
            if (r < 0 && errno == EINTR) continue;
            if (r > 0) {
                if (s->got + (size_t)r > result_size) {
                    s->got = result_size + 1; /* more than a result: reported as broken */
                } else {
                    memcpy(s->buf + s->got, tmp, (size_t)r);
                    s->got += (size_t)r;
                }
                continue;
            }
            finish(s, result_size, done, ctx);
            running--;
        }
    }
    for (int i = 0; i < workers; i++) free(slots[i].buf);
    free(slots);
    free(pfd);
    return rc;
}
