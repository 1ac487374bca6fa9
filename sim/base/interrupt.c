/* sim/base/interrupt.c: SIGINT and SIGTERM handlers that set one flag (see interrupt.h). */
#include "sim/base/interrupt.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile int interrupt_flag;
static volatile sig_atomic_t interrupt_sig;
static struct sigaction old_int, old_term;
static int installed;

static volatile int interrupt_again;
static const char *volatile interrupt_notice;

static void on_signal(int sig) {
    /* the second signal raises `again`; the first writes the notice (write(2) is
     * async-signal-safe) */
    if (interrupt_flag) {
        interrupt_again = 1;
    } else if (interrupt_notice) {
        ssize_t w = write(2, "\n", 1);
        w = write(2, interrupt_notice, strlen(interrupt_notice));
        w = write(2, "\n", 1);
        (void)w;
    }
    interrupt_sig = sig;
    interrupt_flag = 1;
}

volatile int *sim_interrupt_again(void) { return &interrupt_again; }

void sim_interrupt_set_notice(const char *line) { interrupt_notice = line; }

volatile int *sim_interrupt_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    interrupt_flag = 0;
    interrupt_again = 0;
    interrupt_notice = NULL;
    interrupt_sig = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    installed = 1;
    return &interrupt_flag;
}

void sim_interrupt_restore(void) {
    if (!installed) return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    installed = 0;
}

int sim_interrupt_signal(void) { return (int)interrupt_sig; }

const char *sim_interrupt_name(void) {
    switch (interrupt_sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "";
    }
}
