/* engine/loop_group.c - N event loops on their own threads (see loop_group.h). Each loop is
 * touched only by its thread once started; the control thread talks to it through an atomic
 * stop flag and a mutex-protected interval snapshot that the loop refreshes from its tick. */
#include "engine/loop_group.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"

struct lg_loop {
    struct loop_group *group;
    void *user;
    struct event_base *base;
    struct metrics *metrics;
    struct event *tick;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;       /* guards snapshot and snapshot_ns */
    struct metrics *snapshot; /* interval data taken by the loop, read by the control thread */
    uint64_t snapshot_ns;     /* when the loop last took its interval data */
    uint64_t next_interval_ns;
    bool draining;
    uint64_t drain_deadline_ns;
    atomic_bool finished;
    int start_error;
    int64_t in_flight_end;
    uint64_t cpu_ns, wall_ns;
    uint64_t queued_ns; /* time runnable but waiting for a CPU (schedstat), 0 when unknown */
};

struct loop_group {
    struct loop_group_config cfg;
    struct lg_loop *loops;
    atomic_bool stop;
    atomic_bool cut; /* end the drain now */
    uint64_t start_ns;
};

/* An event_base, with libevent's precise timers when asked. */
static struct event_base *new_base(bool precise)
{
    if (!precise)
        return event_base_new();
    struct event_config *ec = event_config_new();
    if (!ec)
        return NULL;
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    struct event_base *base = event_base_new_with_config(ec);
    event_config_free(ec);
    return base;
}

static void loop_tick(evutil_socket_t fd, short what, void *arg);

static int loop_init(struct loop_group *g, struct lg_loop *l)
{
    bool intervals = g->cfg.report_interval_ns > 0;
    l->group = g;
    l->base = new_base(g->cfg.precise_timer);
    l->metrics = metrics_new(intervals);
    l->snapshot = intervals ? metrics_new(false) : NULL;
    l->tick = l->base ? event_new(l->base, -1, EV_PERSIST, loop_tick, l) : NULL;
    return l->base && l->metrics && (!intervals || l->snapshot) && l->tick ? 0 : -ENOMEM;
}

struct loop_group *loop_group_new(const struct loop_group_config *cfg, char *err, size_t errlen)
{
    if (cfg->n_loops == 0 || cfg->tick_ns == 0 || !cfg->hooks.in_flight) {
        snprintf(err, errlen, "invalid event loop group (loops, tick or in-flight hook)");
        return NULL;
    }
    struct loop_group *g = calloc(1, sizeof *g);
    struct lg_loop *loops = calloc(cfg->n_loops, sizeof *loops);
    if (!g || !loops) {
        free(g);
        free(loops);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->cfg = *cfg;
    g->loops = loops;
    atomic_init(&g->stop, false);
    atomic_init(&g->cut, false);
    for (uint32_t i = 0; i < cfg->n_loops; i++) {
        pthread_mutex_init(&loops[i].mu, NULL);
        atomic_init(&loops[i].finished, false);
    }
    for (uint32_t i = 0; i < cfg->n_loops; i++) {
        if (loop_init(g, &loops[i]) != 0) {
            snprintf(err, errlen, "out of memory setting up %u event loops", cfg->n_loops);
            loop_group_free(g);
            return NULL;
        }
    }
    return g;
}

uint32_t loop_group_count(const struct loop_group *g)
{
    return g->cfg.n_loops;
}

struct event_base *loop_group_base(const struct loop_group *g, uint32_t i)
{
    return g->loops[i].base;
}

struct metrics *loop_group_metrics(const struct loop_group *g, uint32_t i)
{
    return g->loops[i].metrics;
}

void *loop_group_user(const struct loop_group *g, uint32_t i)
{
    return g->loops[i].user;
}

void loop_group_set_user(struct loop_group *g, uint32_t i, void *user)
{
    g->loops[i].user = user;
}

/* ---- the loop thread ------------------------------------------------------------------- */

/* Takes the loop's interval data into its snapshot (loop thread only). */
static void loop_snapshot(struct lg_loop *l)
{
    if (!l->snapshot)
        return;
    pthread_mutex_lock(&l->mu);
    metrics_interval_take(l->metrics, l->snapshot);
    l->snapshot_ns = clock_now_ns();
    pthread_mutex_unlock(&l->mu);
}

static void loop_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct lg_loop *l = arg;
    const struct loop_group_config *cfg = &l->group->cfg;
    const struct loop_group_hooks *h = &cfg->hooks;
    uint64_t now = clock_now_ns();
    if (cfg->report_interval_ns && now >= l->next_interval_ns) {
        loop_snapshot(l);
        while (l->next_interval_ns <= now)
            l->next_interval_ns += cfg->report_interval_ns;
    }
    if (h->tick)
        h->tick(l->user, now);
    if (!l->draining && atomic_load(&l->group->stop)) {
        l->draining = true;
        l->drain_deadline_ns = now + cfg->grace_ns;
        if (h->begin_drain)
            h->begin_drain(l->user);
    }
    bool done = h->done && h->done(l->user);
    bool cut = l->draining && atomic_load(&l->group->cut);
    if (done || cut || (l->draining && (h->in_flight(l->user) == 0 || now >= l->drain_deadline_ns)))
        event_base_loopbreak(l->base);
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The kernel's time this thread waited on a run queue (ns), from /proc/thread-self/schedstat
 * ("cpu_ns wait_ns slices"); 0 when the kernel does not keep it. */
static uint64_t thread_queued_ns(void)
{
    unsigned long long cpu = 0, wait = 0;
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &cpu, &wait) != 2)
        wait = 0;
    fclose(f);
    return (uint64_t)wait;
}

static void *loop_main(void *arg)
{
    struct lg_loop *l = arg;
    struct loop_group *g = l->group;
    const struct loop_group_hooks *h = &g->cfg.hooks;
    uint64_t cpu0 = thread_cpu_ns(), wall0 = clock_now_ns(), queued0 = thread_queued_ns();
    l->next_interval_ns = g->start_ns + g->cfg.report_interval_ns;
    int rc = h->start ? h->start(l->user, g->start_ns) : 0;
    struct timeval tick = {(time_t)(g->cfg.tick_ns / CLOCK_NS_PER_S),
                           (suseconds_t)(g->cfg.tick_ns % CLOCK_NS_PER_S / CLOCK_NS_PER_US)};
    if (rc == 0 && event_add(l->tick, &tick) != 0)
        rc = -ENOMEM;
    if (rc == 0)
        event_base_dispatch(l->base);
    l->start_error = rc;
    if (rc == 0 && h->settle)
        h->settle(l->user);
    l->in_flight_end = (int64_t)h->in_flight(l->user);
    if (h->finish)
        h->finish(l->user);
    l->cpu_ns = thread_cpu_ns() - cpu0;
    l->queued_ns = thread_queued_ns() - queued0;
    l->wall_ns = clock_now_ns() - wall0;
    metrics_set_elapsed_ns(l->metrics, clock_now_ns() - g->start_ns);
    loop_snapshot(l);
    atomic_store(&l->finished, true);
    return NULL;
}

/* ---- the control thread ---------------------------------------------------------------- */

int loop_group_start(struct loop_group *g, uint64_t start_ns)
{
    g->start_ns = start_ns;
    for (uint32_t i = 0; i < g->cfg.n_loops; i++) {
        int rc = pthread_create(&g->loops[i].thread, NULL, loop_main, &g->loops[i]);
        if (rc != 0) {
            loop_group_stop(g);
            loop_group_join(g);
            return -rc;
        }
        g->loops[i].thread_started = true;
    }
    return 0;
}

void loop_group_stop(struct loop_group *g)
{
    if (g)
        atomic_store(&g->stop, true);
}

void loop_group_cut(struct loop_group *g)
{
    if (g) {
        atomic_store(&g->cut, true);
        atomic_store(&g->stop, true);
    }
}

bool loop_group_finished(const struct loop_group *g)
{
    for (uint32_t i = 0; i < g->cfg.n_loops; i++)
        if (g->loops[i].thread_started && !atomic_load(&g->loops[i].finished))
            return false;
    return true;
}

int loop_group_join(struct loop_group *g)
{
    int first = 0;
    for (uint32_t i = 0; g && i < g->cfg.n_loops; i++) {
        struct lg_loop *l = &g->loops[i];
        if (l->thread_started) {
            pthread_join(l->thread, NULL);
            l->thread_started = false;
        }
        first = first ? first : l->start_error;
    }
    return first;
}

int loop_group_start_error(const struct loop_group *g, uint32_t i)
{
    return g->loops[i].start_error;
}

int loop_group_interval_take(struct loop_group *g, struct metrics *out, uint64_t *taken_ns)
{
    int rc = 0;
    uint64_t latest = 0;
    for (uint32_t i = 0; i < g->cfg.n_loops && rc == 0; i++) {
        struct lg_loop *l = &g->loops[i];
        if (!l->snapshot)
            continue;
        pthread_mutex_lock(&l->mu);
        rc = metrics_merge(out, l->snapshot);
        metrics_reset(l->snapshot);
        latest = l->snapshot_ns > latest ? l->snapshot_ns : latest;
        pthread_mutex_unlock(&l->mu);
    }
    if (taken_ns)
        *taken_ns = latest;
    return rc;
}

int loop_group_metrics_merge(const struct loop_group *g, struct metrics *out)
{
    for (uint32_t i = 0; i < g->cfg.n_loops; i++) {
        int rc = metrics_merge(out, g->loops[i].metrics);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int64_t loop_group_in_flight_end(const struct loop_group *g)
{
    int64_t n = 0;
    for (uint32_t i = 0; i < g->cfg.n_loops; i++)
        n += g->loops[i].in_flight_end;
    return n;
}

double loop_group_max_core_share(const struct loop_group *g)
{
    double best = 0;
    for (uint32_t i = 0; i < g->cfg.n_loops; i++) {
        const struct lg_loop *l = &g->loops[i];
        double share = l->wall_ns ? (double)l->cpu_ns / (double)l->wall_ns : 0;
        best = share > best ? share : best;
    }
    return best;
}

double loop_group_max_demand_share(const struct loop_group *g)
{
    double best = 0;
    for (uint32_t i = 0; i < g->cfg.n_loops; i++) {
        const struct lg_loop *l = &g->loops[i];
        double share = l->wall_ns ? (double)(l->cpu_ns + l->queued_ns) / (double)l->wall_ns : 0;
        best = share > best ? share : best;
    }
    return best;
}

void loop_group_free(struct loop_group *g)
{
    if (!g)
        return;
    loop_group_stop(g);
    loop_group_join(g);
    for (uint32_t i = 0; i < g->cfg.n_loops; i++) {
        struct lg_loop *l = &g->loops[i];
        if (l->tick)
            event_free(l->tick);
        metrics_free(l->metrics);
        metrics_free(l->snapshot);
        if (l->base)
            event_base_free(l->base);
        pthread_mutex_destroy(&l->mu);
    }
    free(g->loops);
    free(g);
}
