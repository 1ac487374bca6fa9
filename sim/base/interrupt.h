/* sim/base/interrupt.h: SIGINT and SIGTERM as one stop request, polled at safe points.
 *
 * sim_interrupt_install catches both signals with a handler that only sets a flag (and
 * records which signal came); the run or sweep polls the flag, stops at its next safe
 * point, and closes its trace marked incomplete. sim_interrupt_restore puts the previous
 * handlers back. One place for the handler, shared by `run` and `sweep`. */
#ifndef SIM_INTERRUPT_H
#define SIM_INTERRUPT_H

/* Installs the handlers; returns the flag (0 until a signal arrives, then 1). */
volatile int *sim_interrupt_install(void);
/* Restores the handlers that were in place before sim_interrupt_install. */
void sim_interrupt_restore(void);
/* A second flag, raised by the second signal (the first raised the flag above): a run
 * that answers the first by finishing something (a live run: its cycle and a
 * checkpoint) stops at once on the second. Reset by sim_interrupt_install. */
volatile int *sim_interrupt_again(void);
/* A line the handler writes to stderr when the first signal arrives (NULL: none; the
 * string must outlive the handlers). Reset by sim_interrupt_install. */
void sim_interrupt_set_notice(const char *line);
/* The signal that set the flag (SIGINT or SIGTERM), 0 if none. */
int sim_interrupt_signal(void);
/* Name of that signal ("SIGINT", "SIGTERM"), "" if none. */
const char *sim_interrupt_name(void);

#endif
