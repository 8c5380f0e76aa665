/* src/run_control.c - the control thread of a run: starts the fleet, stops it after --duration
 * or on SIGINT/SIGTERM (the loops then drain for --grace), and every --report-interval merges
 * the loops' interval snapshots into a progress line on stderr, a JSONL record and the 429
 * check. It never touches an agent: the loops run in their own threads. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/report.h"
#include "src/run_internal.h"

/* How often the control loop looks whether the fleet has finished draining. */
#define FINISH_POLL_US 20000
/* The control thread reads interval snapshots this long after the loops take them. */
#define REPORT_DELAY_NS (3 * FLEET_TICK_NS)

struct control {
    struct run_ctx *c;
    struct fleet *f;
    struct event_base *base;
    struct metrics *iv;    /* the interval being reported */
    struct metrics *total; /* all intervals so far (for in-flight in the progress line) */
    uint64_t last_report_ns;
    uint64_t next_report_ns; /* when the report timer is due next */
    struct event *report_ev;
    struct event *finish_ev;
    bool hint_shown;
    bool stopping;
};

static void begin_stop(struct control *k, const char *why)
{
    if (k->stopping)
        return;
    k->stopping = true;
    k->c->end_ns = clock_now_ns();
    if (!k->c->quiet && why) {
        char grace[32];
        clock_format_duration(grace, sizeof grace, k->c->cfg.grace_ns);
        fprintf(stderr, "fleetsim: %s: no new requests; draining for up to %s\n", why, grace);
    }
    fleet_stop(k->f);
    struct timeval poll = {0, FINISH_POLL_US};
    event_add(k->finish_ev, &poll); /* from now on, look for the end of the drain */
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct control *k = arg;
    k->c->interrupted = true;
    begin_stop(k, sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
}

static void on_duration(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    begin_stop(arg, NULL);
}

/* Reports the interval data gathered since the last report. */
static void report_interval(struct control *k)
{
    struct run_ctx *c = k->c;
    uint64_t now = clock_now_ns();
    if (fleet_interval_take(k->f, k->iv) != 0)
        return;
    metrics_merge(k->total, k->iv);
    double interval_s = (double)(now - k->last_report_ns) / 1e9;
    double elapsed_s = (double)(now - c->start_ns) / 1e9;
    k->last_report_ns = now;
    if (!c->quiet) {
        char line[1024];
        report_progress_line(line, sizeof line, k->iv, k->total, interval_s, elapsed_s);
        fprintf(stderr, "%s\n", line);
    }
    if (c->interval_log) {
        report_interval_jsonl(c->interval_log, k->iv, k->total, clock_wall_s(), elapsed_s,
                              interval_s);
        fflush(c->interval_log);
    }
    uint64_t n429, answered;
    run_count_429(k->iv, &n429, &answered);
    if (!k->hint_shown && answered > 0 && (double)n429 > RUN_429_HINT_SHARE * (double)answered) {
        run_print_429_hint(n429, answered);
        k->hint_shown = true;
    }
    metrics_reset(k->iv);
}

static struct timeval tv_of(uint64_t ns)
{
    return (struct timeval){(time_t)(ns / CLOCK_NS_PER_S),
                            (suseconds_t)(ns % CLOCK_NS_PER_S / CLOCK_NS_PER_US)};
}

/* Arms the report timer for next_report_ns (absolute), so reports never drift. */
static void arm_report(struct control *k)
{
    uint64_t now = clock_now_ns();
    struct timeval tv = tv_of(k->next_report_ns > now ? k->next_report_ns - now : 0);
    event_add(k->report_ev, &tv);
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct control *k = arg;
    uint64_t now = clock_now_ns();
    if (now < k->next_report_ns) { /* libevent's clock fired a little early */
        arm_report(k);
        return;
    }
    report_interval(k);
    while (k->next_report_ns <= now)
        k->next_report_ns += k->c->cfg.report_interval_ns;
    arm_report(k);
}

static void on_finish_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct control *k = arg;
    if (fleet_finished(k->f))
        event_base_loopbreak(k->base);
}

/* Creates the control loop's events; returns false on out of memory. */
static bool add_events(struct control *k, struct event **evs)
{
    const struct run_config *cfg = &k->c->cfg;
    evs[0] = evsignal_new(k->base, SIGINT, on_signal, k);
    evs[1] = evsignal_new(k->base, SIGTERM, on_signal, k);
    evs[2] = evtimer_new(k->base, on_duration, k);
    evs[3] = event_new(k->base, -1, EV_PERSIST, on_finish_poll, k);
    k->finish_ev = evs[3];
    evs[4] = cfg->report_interval_ns ? evtimer_new(k->base, on_report, k) : NULL;
    k->report_ev = evs[4];
    for (int i = 0; i < 4; i++)
        if (!evs[i])
            return false;
    if (cfg->report_interval_ns && !evs[4])
        return false;
    event_add(evs[0], NULL);
    event_add(evs[1], NULL);
    struct timeval d = tv_of(cfg->duration_ns);
    event_add(evs[2], &d);
    return true;
}

int run_control(struct run_ctx *c, struct fleet *f)
{
    struct control k = {.c = c, .f = f};
    struct event *evs[5] = {NULL};
    k.base = event_base_new();
    k.iv = metrics_new(false);
    k.total = metrics_new(false);
    int rc = RUN_EXIT_FAILED;
    if (!k.base || !k.iv || !k.total || !add_events(&k, evs)) {
        fprintf(stderr, "fleetsim: out of memory setting up the run\n");
        goto out;
    }
    c->start_ns = clock_now_ns();
    c->started_at = clock_wall_s();
    k.last_report_ns = c->start_ns;
    int err = fleet_start(f, c->start_ns);
    if (err != 0) {
        fprintf(stderr, "fleetsim: cannot start the fleet's threads: %s\n", strerror(-err));
        goto out;
    }
    if (k.report_ev) {
        /* each report a little after the loops took their interval snapshots */
        k.next_report_ns = c->start_ns + c->cfg.report_interval_ns + REPORT_DELAY_NS;
        arm_report(&k);
    }
    event_base_dispatch(k.base);
    fleet_join(f);
    if (!k.stopping)
        c->end_ns = clock_now_ns();
    c->ended_at = clock_wall_s();
    if (c->cfg.report_interval_ns)
        report_interval(&k); /* the last, partial interval */
    rc = 0;
out:
    for (int i = 0; i < 5; i++)
        if (evs[i])
            event_free(evs[i]);
    metrics_free(k.iv);
    metrics_free(k.total);
    if (k.base)
        event_base_free(k.base);
    return rc;
}
