/* bench/wake_bench.c - the machine's floor under fleetsim's CPU per request: the CPU time one
 * wake-up of an otherwise idle event loop costs (a timerfd woken RATE times a second, waited
 * for with epoll_wait, nothing else done). On a virtual machine this is often more than a
 * request's own work; bench/fleet_bench.sh prints it beside fleetsim's CPU per heartbeat.
 * Usage: bench/wake_bench [RATE_PER_S [SECONDS]]   (default 200 per second for 5 s) */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* Parses a whole positive number up to max, or returns 0. */
static long positive(const char *s, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return (errno || *end || v <= 0 || v > max) ? 0 : v;
}

/* CPU seconds (user + system) this process used so far. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    long rate = argc > 1 ? positive(argv[1], 100000) : 200;
    long secs = argc > 2 ? positive(argv[2], 600) : 5;
    if (!rate || !secs || argc > 3) {
        fprintf(stderr, "usage: wake_bench [RATE_PER_S (1-100000) [SECONDS (1-600)]]\n");
        return 2;
    }
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    long period_ns = 1000000000L / rate;
    struct itimerspec its = {{period_ns / 1000000000L, period_ns % 1000000000L},
                             {period_ns / 1000000000L, period_ns % 1000000000L}};
    if (tfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0 ||
        timerfd_settime(tfd, 0, &its, NULL) != 0) {
        perror("wake_bench");
        return 1;
    }
    double cpu0 = cpu_s();
    long wakes = 0;
    uint64_t expirations = 0;
    while (expirations < (uint64_t)(rate * secs)) {
        struct epoll_event out;
        if (epoll_wait(ep, &out, 1, -1) != 1)
            continue;
        uint64_t v;
        if (read(tfd, &v, sizeof v) == (ssize_t)sizeof v)
            expirations += v;
        wakes++;
    }
    double us = (cpu_s() - cpu0) * 1e6 / (double)wakes;
    printf("wake_bench: a bare timerfd + epoll loop woken %ld times/s for %ld s: %.1f us CPU per "
           "wake-up (%ld wake-ups)\n",
           rate, secs, us, wakes);
    close(tfd);
    close(ep);
    return 0;
}
