/* tests/unit/check_loop_group.c - engine/loop_group.h: N loops start and tick on their own
 * threads, interval snapshots add up exactly to what the loops recorded, the drain waits for
 * in-flight work up to the grace and then stops, a loop may end on its own, a failed start
 * hook is reported, and the join is clean. Each loop's work is a 1 ms generator of fake jobs. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/loop_group.h"
#include "engine/metrics.h"
#include "tests/lib/testenv.h"

#define MAX_JOBS 4096u
#define JOB_NEVER UINT64_MAX
#define MS CLOCK_NS_PER_MS

/* One loop's user: fake jobs started every millisecond, each done job_ns later. */
struct work {
    struct event_base *base;
    struct metrics_series *series;
    struct event *gen;
    uint64_t job_ns;   /* JOB_NEVER: jobs never end */
    uint64_t max_jobs; /* 0 = no limit; with done_when_idle the loop ends after them */
    bool done_when_idle;
    int start_rc;           /* what the start hook returns */
    uint64_t due[MAX_JOBS]; /* ring of in-flight jobs' end times (FIFO: same duration) */
    uint64_t started[MAX_JOBS];
    uint64_t scheduled, answered;
    uint64_t scheduled_at_drain;
    uint64_t start_arg_ns;
    uint32_t ticks, drains, finishes;
    bool draining, wrong_thread;
    pthread_t thread;
    uint64_t finish_in_flight;
};

static void on_gen(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct work *w = arg;
    uint64_t now = clock_now_ns();
    while (w->answered < w->scheduled && w->due[w->answered % MAX_JOBS] <= now) {
        uint64_t t0 = w->started[w->answered % MAX_JOBS];
        struct request_timing t = {t0, t0, now, now, 0, 0, 0};
        metrics_answered(w->series, &t, 200, false);
        w->answered++;
    }
    bool room =
        w->scheduled - w->answered < MAX_JOBS && (!w->max_jobs || w->scheduled < w->max_jobs);
    if (!w->draining && room) {
        metrics_scheduled(w->series);
        w->started[w->scheduled % MAX_JOBS] = now;
        w->due[w->scheduled % MAX_JOBS] = w->job_ns == JOB_NEVER ? JOB_NEVER : now + w->job_ns;
        w->scheduled++;
    }
}

static void same_thread(struct work *w)
{
    if (!pthread_equal(w->thread, pthread_self()))
        w->wrong_thread = true;
}

static int h_start(void *user, uint64_t start_ns)
{
    struct work *w = user;
    w->thread = pthread_self();
    w->start_arg_ns = start_ns;
    if (w->start_rc != 0)
        return w->start_rc;
    struct timeval ms = {0, 1000};
    w->gen = event_new(w->base, -1, EV_PERSIST, on_gen, w);
    return w->gen && event_add(w->gen, &ms) == 0 ? 0 : -ENOMEM;
}

static void h_tick(void *user, uint64_t now_ns)
{
    struct work *w = user;
    (void)now_ns;
    same_thread(w);
    w->ticks++;
}

static void h_begin_drain(void *user)
{
    struct work *w = user;
    same_thread(w);
    w->draining = true;
    w->drains++;
    w->scheduled_at_drain = w->scheduled;
}

static uint64_t h_in_flight(void *user)
{
    struct work *w = user;
    return w->scheduled - w->answered;
}

static bool h_done(void *user)
{
    struct work *w = user;
    return w->done_when_idle && w->scheduled == w->max_jobs && w->answered == w->scheduled;
}

static void h_finish(void *user)
{
    struct work *w = user;
    same_thread(w);
    w->finishes++;
    w->finish_in_flight = w->scheduled - w->answered;
    if (w->gen)
        event_del(w->gen);
}

static const struct loop_group_hooks hooks = {.start = h_start,
                                              .tick = h_tick,
                                              .begin_drain = h_begin_drain,
                                              .in_flight = h_in_flight,
                                              .done = h_done,
                                              .finish = h_finish};

/* A group of n loops (tick 5 ms) whose users are w[0..n-1], each doing jobs of job_ns. */
static struct loop_group *group(struct work *w, uint32_t n, uint64_t job_ns,
                                uint64_t report_interval_ns, uint64_t grace_ns)
{
    struct loop_group_config cfg = {.n_loops = n,
                                    .tick_ns = 5 * MS,
                                    .report_interval_ns = report_interval_ns,
                                    .grace_ns = grace_ns,
                                    .precise_timer = true,
                                    .hooks = hooks};
    char err[256] = "";
    struct loop_group *g = loop_group_new(&cfg, err, sizeof err);
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_uint_eq(loop_group_count(g), n);
    for (uint32_t i = 0; i < n; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].base = loop_group_base(g, i);
        w[i].job_ns = job_ns;
        w[i].series = metrics_series(loop_group_metrics(g, i), "test", "loop", "job");
        ck_assert_ptr_nonnull(w[i].series);
        loop_group_set_user(g, i, &w[i]);
        ck_assert_ptr_eq(loop_group_user(g, i), &w[i]);
    }
    return g;
}

/* group() started now. */
static struct loop_group *started(struct work *w, uint32_t n, uint64_t job_ns,
                                  uint64_t report_interval_ns, uint64_t grace_ns)
{
    struct loop_group *g = group(w, n, job_ns, report_interval_ns, grace_ns);
    ck_assert_int_eq(loop_group_start(g, clock_now_ns()), 0);
    return g;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls loop_group_finished every ms for up to limit_ms; returns when it became true
 * (clock_now_ns), or 0 when it did not. */
static uint64_t wait_finished(const struct loop_group *g, unsigned limit_ms)
{
    for (unsigned i = 0; i < limit_ms; i++) {
        if (loop_group_finished(g))
            return clock_now_ns();
        sleep_ms(1);
    }
    return 0;
}

static struct work W[4];

/* Frees what the users W[0..n-1] built on the loops' bases, then the group. */
static void group_free(struct loop_group *g, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (W[i].gen)
            event_free(W[i].gen);
    loop_group_free(g);
}

START_TEST(test_ticks_and_snapshots_merge_exactly)
{
    const uint32_t n = 3;
    struct loop_group *g = group(W, n, 3 * MS, 20 * MS, 2000 * MS);
    struct metrics *acc = metrics_new(false);
    ck_assert_ptr_nonnull(acc);
    uint64_t start = clock_now_ns();
    ck_assert_int_eq(loop_group_start(g, start), 0);
    ck_assert(!loop_group_finished(g));
    uint64_t last = 0;
    unsigned nonempty = 0;
    for (int k = 0; k < 12; k++) {
        sleep_ms(25);
        uint64_t before = 0, taken = 0;
        struct metrics_accounting a;
        metrics_accounting(acc, &a);
        before = a.scheduled;
        ck_assert_int_eq(loop_group_interval_take(g, acc, &taken), 0);
        ck_assert_uint_le(taken, clock_now_ns());
        ck_assert_uint_ge(taken, last);
        last = taken;
        metrics_accounting(acc, &a);
        nonempty += a.scheduled > before;
    }
    ck_assert_uint_ge(last, start);
    ck_assert_uint_ge(nonempty, 5); /* snapshots arrive while the loops run, not only at the end */
    loop_group_stop(g);
    ck_assert_uint_ne(wait_finished(g, 2000), 0);
    ck_assert_int_eq(loop_group_join(g), 0);
    uint64_t taken = 0;
    ck_assert_int_eq(loop_group_interval_take(g, acc, &taken), 0);
    ck_assert_uint_ge(taken, last);

    uint64_t sched = 0, answered = 0;
    for (uint32_t i = 0; i < n; i++) {
        ck_assert(!W[i].wrong_thread);
        ck_assert(!pthread_equal(W[i].thread, pthread_self()));
        ck_assert_uint_eq(W[i].start_arg_ns, start);
        ck_assert_uint_ge(W[i].ticks, 30); /* ~300 ms at 5 ms */
        ck_assert_uint_eq(W[i].drains, 1);
        ck_assert_uint_eq(W[i].finishes, 1);
        ck_assert_uint_eq(W[i].finish_in_flight, 0);
        ck_assert_uint_ge(W[i].scheduled, 100);
        ck_assert_int_eq(loop_group_start_error(g, i), 0);
        sched += W[i].scheduled;
        answered += W[i].answered;
    }
    ck_assert_uint_eq(sched, answered);
    struct metrics_accounting iv, tot;
    metrics_accounting(acc, &iv);
    ck_assert_uint_eq(iv.scheduled, sched);
    ck_assert_uint_eq(iv.answered, answered);
    struct metrics *all = metrics_new(false);
    ck_assert_ptr_nonnull(all);
    ck_assert_int_eq(loop_group_metrics_merge(g, all), 0);
    metrics_accounting(all, &tot);
    ck_assert_uint_eq(tot.scheduled, sched);
    ck_assert_uint_eq(tot.answered, answered);
    ck_assert(metrics_equal(all, acc)); /* the intervals add up to the cumulative data */
    ck_assert_uint_ge(metrics_elapsed_ns(all), 300 * MS);
    ck_assert_int_eq(loop_group_in_flight_end(g), 0);
    double share = loop_group_max_core_share(g);
    ck_assert(share > 0 && share <= 1.05);
    metrics_free(all);
    metrics_free(acc);
    group_free(g, n);
}
END_TEST

START_TEST(test_drain_waits_for_in_flight)
{
    const uint32_t n = 2;
    struct loop_group *g = started(W, n, 150 * MS, 0, 2000 * MS);
    sleep_ms(60);
    uint64_t stop = clock_now_ns();
    loop_group_stop(g);
    loop_group_stop(g); /* idempotent */
    uint64_t end = wait_finished(g, 3000);
    ck_assert_uint_ne(end, 0);
    ck_assert_int_eq(loop_group_join(g), 0);
    /* the jobs started just before the drain began take 150 ms; the grace (2 s) is not used */
    ck_assert_uint_ge(end - stop, 120 * MS);
    ck_assert_uint_lt(end - stop, 1000 * MS);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_uint_eq(W[i].drains, 1);
        ck_assert_uint_eq(W[i].scheduled, W[i].scheduled_at_drain); /* nothing new */
        ck_assert_uint_eq(W[i].answered, W[i].scheduled);
        ck_assert_uint_ge(W[i].scheduled, 20);
    }
    ck_assert_int_eq(loop_group_in_flight_end(g), 0);
    group_free(g, n);
}
END_TEST

START_TEST(test_drain_ends_at_grace)
{
    const uint32_t n = 2;
    const uint64_t grace = 100 * MS;
    struct loop_group *g = started(W, n, JOB_NEVER, 10 * MS, grace);
    sleep_ms(40);
    uint64_t stop = clock_now_ns();
    loop_group_stop(g);
    uint64_t end = wait_finished(g, 3000);
    ck_assert_uint_ne(end, 0);
    ck_assert_int_eq(loop_group_join(g), 0);
    ck_assert_uint_ge(end - stop, grace);
    ck_assert_uint_lt(end - stop, grace + 500 * MS);
    int64_t left = 0;
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_uint_eq(W[i].answered, 0);
        ck_assert_uint_gt(W[i].scheduled, 0);
        ck_assert_uint_eq(W[i].scheduled, W[i].scheduled_at_drain);
        ck_assert_uint_eq(W[i].finish_in_flight, W[i].scheduled);
        left += (int64_t)W[i].scheduled;
    }
    ck_assert_int_eq(loop_group_in_flight_end(g), left);
    /* the accounting of the merged intervals counts the same jobs in flight */
    struct metrics *acc = metrics_new(false);
    ck_assert_int_eq(loop_group_interval_take(g, acc, NULL), 0);
    struct metrics_accounting a;
    metrics_accounting(acc, &a);
    ck_assert_int_eq(a.in_flight, left);
    ck_assert(metrics_accounting_balanced(&a, loop_group_in_flight_end(g)));
    group_free(g, n);
    metrics_free(acc);
}
END_TEST

START_TEST(test_done_hook_ends_loops_without_stop)
{
    const uint32_t n = 2;
    struct loop_group *g = group(W, n, 2 * MS, 0, 2000 * MS);
    for (uint32_t i = 0; i < n; i++) {
        W[i].max_jobs = 25;
        W[i].done_when_idle = true;
    }
    ck_assert_int_eq(loop_group_start(g, clock_now_ns()), 0);
    ck_assert_uint_ne(wait_finished(g, 2000), 0);
    ck_assert_int_eq(loop_group_join(g), 0);
    for (uint32_t i = 0; i < n; i++) {
        ck_assert_uint_eq(W[i].drains, 0);
        ck_assert_uint_eq(W[i].scheduled, 25);
        ck_assert_uint_eq(W[i].answered, 25);
        ck_assert_uint_eq(W[i].finishes, 1);
    }
    group_free(g, n);
}
END_TEST

START_TEST(test_failed_start_is_reported)
{
    const uint32_t n = 3;
    struct loop_group *g = group(W, n, 2 * MS, 10 * MS, 1000 * MS);
    W[1].start_rc = -EPERM;
    ck_assert_int_eq(loop_group_start(g, clock_now_ns()), 0);
    sleep_ms(50);
    ck_assert(!loop_group_finished(g)); /* the other loops go on */
    loop_group_stop(g);
    ck_assert_int_eq(loop_group_join(g), -EPERM);
    ck_assert(loop_group_finished(g));
    ck_assert_int_eq(loop_group_start_error(g, 0), 0);
    ck_assert_int_eq(loop_group_start_error(g, 1), -EPERM);
    ck_assert_int_eq(loop_group_start_error(g, 2), 0);
    ck_assert_uint_eq(W[1].ticks, 0);
    ck_assert_uint_eq(W[1].scheduled, 0);
    ck_assert_uint_eq(W[1].finishes, 1); /* finish runs after a failed start too */
    ck_assert_ptr_null(W[1].gen);
    ck_assert_uint_gt(W[0].ticks, 0);
    ck_assert_uint_gt(W[2].scheduled, 0);
    group_free(g, n);
}
END_TEST

START_TEST(test_without_intervals)
{
    struct loop_group *g = started(W, 1, 1 * MS, 0, 1000 * MS);
    sleep_ms(30);
    struct metrics *acc = metrics_new(false);
    uint64_t taken = 1;
    ck_assert_int_eq(loop_group_interval_take(g, acc, &taken), 0);
    ck_assert_uint_eq(taken, 0);
    ck_assert_uint_eq(metrics_series_count(acc), 0);
    loop_group_stop(g);
    ck_assert_int_eq(loop_group_join(g), 0);
    ck_assert_int_eq(loop_group_join(g), 0); /* a second join is harmless */
    ck_assert_uint_gt(W[0].scheduled, 0);
    ck_assert_uint_eq(W[0].finishes, 1);
    struct metrics *all = metrics_new(false);
    ck_assert_int_eq(loop_group_metrics_merge(g, all), 0);
    struct metrics_accounting a;
    metrics_accounting(all, &a);
    ck_assert_uint_eq(a.scheduled, W[0].scheduled);
    ck_assert_uint_eq(a.answered, W[0].answered);
    group_free(g, 1);
    metrics_free(all);
    metrics_free(acc);
}
END_TEST

START_TEST(test_invalid_config)
{
    char err[128] = "";
    struct loop_group_config cfg = {.n_loops = 0, .tick_ns = MS, .hooks = hooks};
    ck_assert_ptr_null(loop_group_new(&cfg, err, sizeof err));
    ck_assert_str_ne(err, "");
    cfg.n_loops = 1;
    cfg.tick_ns = 0;
    ck_assert_ptr_null(loop_group_new(&cfg, err, sizeof err));
    cfg.tick_ns = MS;
    cfg.hooks.in_flight = NULL;
    ck_assert_ptr_null(loop_group_new(&cfg, err, sizeof err));
    cfg.hooks.in_flight = h_in_flight;
    struct loop_group *g = loop_group_new(&cfg, err, sizeof err);
    ck_assert_ptr_nonnull(g);
    ck_assert(loop_group_finished(g)); /* never started */
    ck_assert_int_eq(loop_group_join(g), 0);
    loop_group_free(g);
    loop_group_stop(NULL);
    ck_assert_int_eq(loop_group_join(NULL), 0);
    loop_group_free(NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("loop_group");
    TCase *t = testenv_tcase(s, "run", 10);
    tcase_add_test(t, test_ticks_and_snapshots_merge_exactly);
    tcase_add_test(t, test_drain_waits_for_in_flight);
    tcase_add_test(t, test_drain_ends_at_grace);
    tcase_add_test(t, test_done_hook_ends_loops_without_stop);
    tcase_add_test(t, test_failed_start_is_reported);
    tcase_add_test(t, test_without_intervals);
    tcase_add_test(t, test_invalid_config);
    return s;
}

int main(void)
{
    return testenv_run(suite());
}
