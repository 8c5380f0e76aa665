/* engine/interrupt.c - counted SIGINT/SIGTERM and a self-pipe for event loops (see
 * interrupt.h). The handler only uses async-signal-safe calls: an atomic add, clock_gettime and
 * write. */
#include "engine/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"

/* Signals whose number and time are kept (the first ends scheduling, the second the drain). */
#define KEPT 2

static atomic_uint count;
static atomic_int sig_of[KEPT];
static _Atomic uint64_t time_of[KEPT];
static int pipe_fd[2] = {-1, -1};
static bool installed;
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
    int saved = errno;
    unsigned n = atomic_fetch_add(&count, 1);
    if (n < KEPT) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        atomic_store(&time_of[n], (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec);
        atomic_store(&sig_of[n], sig);
    }
    char byte = 1;
    if (write(pipe_fd[1], &byte, 1) < 0) {
        /* the pipe is full: it is readable already, which is all a watcher needs */
    }
    errno = saved;
}

int interrupt_install(void)
{
    if (installed)
        return 0;
    if (pipe2(pipe_fd, O_NONBLOCK | O_CLOEXEC) != 0)
        return -errno;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* event loops wake through the pipe; other calls carry on */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, &old_int) != 0 || sigaction(SIGTERM, &sa, &old_term) != 0) {
        int e = errno;
        sigaction(SIGINT, &old_int, NULL);
        close(pipe_fd[0]);
        close(pipe_fd[1]);
        pipe_fd[0] = pipe_fd[1] = -1;
        return -e;
    }
    installed = true;
    return 0;
}

void interrupt_uninstall(void)
{
    if (!installed)
        return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close(pipe_fd[0]);
    close(pipe_fd[1]);
    pipe_fd[0] = pipe_fd[1] = -1;
    atomic_store(&count, 0);
    for (int i = 0; i < KEPT; i++) {
        atomic_store(&sig_of[i], 0);
        atomic_store(&time_of[i], 0);
    }
    installed = false;
}

unsigned interrupt_count(void)
{
    return atomic_load(&count);
}

int interrupt_signal(unsigned n)
{
    return n >= 1 && n <= KEPT ? atomic_load(&sig_of[n - 1]) : 0;
}

uint64_t interrupt_time_ns(unsigned n)
{
    return n >= 1 && n <= KEPT ? atomic_load(&time_of[n - 1]) : 0;
}

static void on_break(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* A persistent read event on the pipe calling fn(arg), made active at once when a signal came
 * already. NULL when not installed or out of memory. */
static struct event *pipe_event(struct event_base *base, event_callback_fn fn, void *arg)
{
    if (!installed)
        return NULL;
    struct event *ev = event_new(base, pipe_fd[0], EV_READ | EV_PERSIST, fn, arg);
    if (ev && event_add(ev, NULL) != 0) {
        event_free(ev);
        return NULL;
    }
    if (ev && interrupt_count() > 0)
        event_active(ev, EV_READ, 0);
    return ev;
}

struct event *interrupt_watch_break(struct event_base *base)
{
    return pipe_event(base, on_break, base);
}

/* What interrupt_watch calls back: one callback at a time (a run has one control loop). */
struct watch {
    void (*cb)(void *arg);
    void *arg;
};

static struct watch watch_slot;

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct watch *w = arg;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    w->cb(w->arg);
}

struct event *interrupt_watch(struct event_base *base, void (*cb)(void *arg), void *arg)
{
    watch_slot = (struct watch){cb, arg};
    return pipe_event(base, on_watch, &watch_slot);
}
