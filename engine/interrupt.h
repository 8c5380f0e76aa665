/* engine/interrupt.h - SIGINT and SIGTERM as results, not as the end of the process: once
 * installed, each signal is counted (with the time and name of the first and second), and a
 * self-pipe becomes readable, so any event loop (a run's control loop, a one-off request of the
 * pre-flight, the registration) can watch it and stop waiting at once. The process is never
 * killed by these signals while installed: the caller decides (drain, write outputs, exit code).
 * Process-wide state, set up once by the program before any thread starts. */
#ifndef FLEETSIM_ENGINE_INTERRUPT_H
#define FLEETSIM_ENGINE_INTERRUPT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

/* Installs the handlers for SIGINT and SIGTERM and the self-pipe (idempotent). Returns 0 or a
 * negative errno (the handlers are then left as they were). */
int interrupt_install(void);

/* Restores the default handlers and closes the pipe (tests; a program may simply exit). */
void interrupt_uninstall(void);

/* Signals received since interrupt_install (0 when none or not installed). */
unsigned interrupt_count(void);

/* The n-th (1 or 2) signal: its number (SIGINT, SIGTERM; 0 when not received) and when it came
 * (clock_now_ns time; 0 when not received). */
int interrupt_signal(unsigned n);
uint64_t interrupt_time_ns(unsigned n);

/* A persistent read event on base that breaks base's loop (event_base_loopbreak) once a signal
 * has come, also when it came before this call. NULL when not installed or out of memory
 * (nothing to watch: the caller waits as it would without it). Free with event_free. */
struct event *interrupt_watch_break(struct event_base *base);

/* A persistent read event on base calling cb(arg) after each new signal (the pipe is emptied
 * first, so cb runs once per wake-up; read interrupt_count there). One such watch at a time: a
 * later call replaces the callback. NULL as above. */
struct event *interrupt_watch(struct event_base *base, void (*cb)(void *arg), void *arg);

#endif
