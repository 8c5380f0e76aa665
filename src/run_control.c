/* src/run_control.c - the control thread of a run: starts the run's actors (src/actor.h), stops
 * them after --duration or on SIGINT/SIGTERM (their loops then drain for --grace; a second
 * signal ends the drain at once), records where a signal interrupted the run and how the drain
 * ended, and every --report-interval merges their interval snapshots into a progress line on
 * stderr, a JSONL record, the --metrics-listen snapshot and the 429 check. It never touches an
 * agent or an actor's state: they run on their own threads, and it calls only their
 * actor_ops. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/exit_status.h"
#include "engine/interrupt.h"
#include "engine/metrics_http.h"
#include "engine/out_file.h"
#include "engine/report.h"
#include "src/run_internal.h"

/* How often the control loop looks whether the fleet has finished draining. */
#define FINISH_POLL_US 20000
/* The control thread reads interval snapshots this long after the loops take them. */
#define REPORT_DELAY_NS (3 * FLEET_TICK_NS)

struct control {
    struct run_ctx *c;
    struct metrics_http *prom; /* --metrics-listen, or NULL */
    struct event_base *base;
    struct metrics *iv;      /* the interval being reported */
    struct metrics *total;   /* all intervals so far (for in-flight in the progress line) */
    uint64_t last_report_ns; /* when the snapshots of the last report were taken */
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
    for (size_t i = 0; i < k->c->n_actors; i++)
        k->c->actors[i].ops->stop(k->c->actors[i].state);
    struct timeval poll = {0, FINISH_POLL_US};
    event_add(k->finish_ev, &poll); /* from now on, look for the end of the drain */
}

/* Ends every drain at once: the loops end on their next tick, what is in flight stays so. */
static void cut_drain(struct control *k)
{
    k->c->result.drain_cut = true;
    if (!k->c->quiet)
        fprintf(stderr, "fleetsim: second signal: ending the drain now\n");
    for (size_t i = 0; i < k->c->n_actors; i++)
        k->c->actors[i].ops->cut(k->c->actors[i].state);
}

/* A SIGINT or SIGTERM came (engine/interrupt.h): the first ends scheduling, the second the
 * drain. */
static void on_signal(void *arg)
{
    struct control *k = arg;
    struct run_result *r = &k->c->result;
    unsigned n = interrupt_count();
    if (n >= 1 && r->phase == RUN_PHASE_NONE) {
        uint64_t at = interrupt_time_ns(1);
        r->phase = k->stopping ? RUN_PHASE_DRAIN : RUN_PHASE_LOAD;
        r->signal = interrupt_signal(1);
        r->interrupted_at_s =
            at > k->c->start_ns ? (double)(at - k->c->start_ns) / (double)CLOCK_NS_PER_S : 0;
        char why[64];
        snprintf(why, sizeof why, "interrupted (%s)", run_signal_name(r->signal));
        begin_stop(k, why);
    }
    if (n >= 2 && !r->drain_cut)
        cut_drain(k);
}

static void on_duration(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    begin_stop(arg, NULL);
}

/* Appends the interval to --interval-log; a failure is reported at once, ends the log (at its
 * last complete line) and makes the run exit 1. */
static void log_interval(struct run_ctx *c, const struct control *k, double elapsed_s,
                         double interval_s)
{
    char *line = report_interval_line(k->iv, k->total, clock_wall_s(), elapsed_s, interval_s);
    int rc = line ? out_stream_write_line(c->interval_log, line, strlen(line)) : -ENOMEM;
    free(line);
    if (rc != 0) {
        run_output_lost(c, "--interval-log", c->cfg.interval_log_path, rc,
                        "no more intervals are logged, the file keeps its complete lines");
        out_stream_close(c->interval_log);
        c->interval_log = NULL;
    }
}

/* Takes every actor's interval data into k->iv; *now gets when the latest snapshot was taken
 * (0 when none). Returns 0 or a negative errno. */
static int take_intervals(struct control *k, uint64_t *now)
{
    *now = 0;
    for (size_t i = 0; i < k->c->n_actors; i++) {
        uint64_t taken = 0;
        const struct run_actor *a = &k->c->actors[i];
        int rc = a->ops->interval_take(a->state, k->iv, &taken);
        if (rc != 0)
            return rc;
        if (taken > *now)
            *now = taken;
    }
    return 0;
}

/* Reports the interval data gathered since the last report. */
static void report_interval(struct control *k)
{
    struct run_ctx *c = k->c;
    uint64_t now;
    if (take_intervals(k, &now) != 0)
        return;
    if (c->n_actors == 0)
        now = clock_now_ns();
    if (now <= k->last_report_ns) /* no loop took a new snapshot */
        return;
    metrics_merge(k->total, k->iv);
    if (k->prom)
        metrics_http_publish(k->prom, k->total);
    double interval_s = (double)(now - k->last_report_ns) / 1e9;
    double elapsed_s = (double)(now - c->start_ns) / 1e9;
    k->last_report_ns = now;
    if (!c->quiet) {
        char line[1024];
        report_progress_line(line, sizeof line, k->iv, k->total, interval_s, elapsed_s);
        fprintf(stderr, "%s\n", line);
    }
    if (c->interval_log)
        log_interval(c, k, elapsed_s, interval_s);
    uint64_t n429, answered;
    run_count_429(k->iv, &n429, &answered);
    if (!k->hint_shown && answered > 0 && (double)n429 > RUN_429_HINT_SHARE * (double)answered) {
        run_print_429_hint(n429, answered, c->target_is_refserver);
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
    for (size_t i = 0; i < k->c->n_actors; i++)
        if (!k->c->actors[i].ops->finished(k->c->actors[i].state))
            return;
    event_base_loopbreak(k->base);
}

/* Creates the control loop's events; returns false on out of memory. */
static bool add_events(struct control *k, struct event **evs)
{
    const struct run_config *cfg = &k->c->cfg;
    evs[0] = interrupt_watch(k->base, on_signal, k); /* NULL: signals are not caught */
    evs[1] = evtimer_new(k->base, on_duration, k);
    evs[2] = event_new(k->base, -1, EV_PERSIST, on_finish_poll, k);
    k->finish_ev = evs[2];
    evs[3] = cfg->report_interval_ns ? evtimer_new(k->base, on_report, k) : NULL;
    k->report_ev = evs[3];
    if (!evs[1] || !evs[2] || (cfg->report_interval_ns && !evs[3]))
        return false;
    struct timeval d = tv_of(cfg->duration_ns);
    event_add(evs[1], &d);
    return true;
}

/* Starts what serves --metrics-listen; returns false (with a line printed) when it cannot. */
static bool start_prom(struct control *k)
{
    const struct run_config *cfg = &k->c->cfg;
    if (!cfg->metrics_listen_set)
        return true;
    char err[256];
    if (!(k->prom = metrics_http_start(k->base, &cfg->metrics_listen, err, sizeof err))) {
        fprintf(stderr, "fleetsim: --metrics-listen: %s\n", err);
        return false;
    }
    if (!k->c->quiet)
        fprintf(stderr, "fleetsim: Prometheus metrics on http://%s:%u%s\n",
                cfg->metrics_listen.host, metrics_http_port(k->prom), METRICS_HTTP_PATH);
    return true;
}

/* Starts every actor on one common start time; when one cannot start, the ones started are
 * stopped again. */
static bool start_all(struct control *k)
{
    struct run_ctx *c = k->c;
    c->start_ns = clock_now_ns();
    c->started_at = clock_wall_s();
    k->last_report_ns = c->start_ns;
    for (size_t i = 0; i < c->n_actors; i++) {
        if (c->actors[i].ops->start(c->actors[i].state, c->start_ns) != 0) {
            begin_stop(k, NULL);
            return false;
        }
    }
    return true;
}

/* Waits for every loop thread (after they drained or were told to stop). */
static void join_all(struct control *k)
{
    for (size_t i = 0; i < k->c->n_actors; i++)
        k->c->actors[i].ops->join(k->c->actors[i].state);
}

int run_control(struct run_ctx *c)
{
    struct control k = {.c = c};
    struct event *evs[4] = {NULL};
    k.base = event_base_new();
    k.iv = metrics_new(false);
    k.total = metrics_new(false);
    int rc = EXIT_STATUS_FAILED;
    if (!k.base || !k.iv || !k.total || !add_events(&k, evs)) {
        fprintf(stderr, "fleetsim: out of memory setting up the run\n");
        goto out;
    }
    if (!start_prom(&k))
        goto out;
    bool started = start_all(&k);
    if (started && k.report_ev) {
        /* each report a little after the loops took their interval snapshots */
        k.next_report_ns = c->start_ns + c->cfg.report_interval_ns + REPORT_DELAY_NS;
        arm_report(&k);
    }
    if (started)
        event_base_dispatch(k.base);
    join_all(&k);
    if (!k.stopping)
        c->end_ns = clock_now_ns();
    c->result.drain_s = (double)(clock_now_ns() - c->end_ns) / (double)CLOCK_NS_PER_S;
    c->ended_at = clock_wall_s();
    if (started && c->cfg.report_interval_ns)
        report_interval(&k); /* the last, partial interval */
    rc = started ? 0 : EXIT_STATUS_FAILED;
out:
    metrics_http_free(k.prom);
    for (int i = 0; i < 4; i++)
        if (evs[i])
            event_free(evs[i]);
    metrics_free(k.iv);
    metrics_free(k.total);
    if (k.base)
        event_base_free(k.base);
    return rc;
}
