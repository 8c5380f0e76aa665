/* tests/unit/check_schedule.c - sim/schedule: first events fall inside the ramp, intervals stay
 * inside the jitter band and average the interval, times are anchored on intended times, the
 * same (seed, index) always gives the same times and another seed other times, a grid rounds
 * intended times up without drift, the poll and
 * reconnect back-offs follow their rules, and the due-time queue pops entries in due order
 * (checked against a brute-force scan through random sets, moves and removals). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/schedule.h"
#include "tests/lib/testenv.h"

#define S_NS 1000000000ULL

START_TEST(test_first_within_ramp)
{
    struct schedule_params p = {.interval_ns = 30 * S_NS, .jitter_pct = 10, .ramp_ns = 30 * S_NS};
    const uint32_t n = 10000;
    double sum = 0;
    uint32_t buckets[10] = {0};
    for (uint32_t i = 1; i <= n; i++) {
        struct schedule_timer t;
        schedule_timer_init(&t, 99, i, SCHEDULE_HEARTBEAT, &p);
        ck_assert_uint_lt(t.next_ns, p.ramp_ns);
        sum += (double)t.next_ns;
        buckets[t.next_ns * 10 / p.ramp_ns]++;
    }
    double mean = sum / n;
    ck_assert(mean > 0.48 * (double)p.ramp_ns && mean < 0.52 * (double)p.ramp_ns);
    for (int b = 0; b < 10; b++) /* roughly uniform: each tenth holds 10 % +/- 1.5 points */
        ck_assert(buckets[b] > 850 && buckets[b] < 1150);
}
END_TEST

START_TEST(test_ramp_zero_and_off)
{
    struct schedule_params p = {.interval_ns = S_NS, .jitter_pct = 10, .ramp_ns = 0};
    struct schedule_timer t;
    schedule_timer_init(&t, 1, 1, SCHEDULE_HEARTBEAT, &p);
    ck_assert_uint_eq(t.next_ns, 0);
    struct schedule_params off = {.interval_ns = 0, .jitter_pct = 10, .ramp_ns = S_NS};
    schedule_timer_init(&t, 1, 1, SCHEDULE_POLL, &off);
    ck_assert_uint_eq(t.next_ns, UINT64_MAX);
    ck_assert_uint_eq(schedule_timer_advance(&t, &off, 0), UINT64_MAX);
}
END_TEST

START_TEST(test_jitter_band)
{
    struct schedule_params p = {.interval_ns = 30 * S_NS, .jitter_pct = 10, .ramp_ns = 30 * S_NS};
    struct schedule_timer t;
    schedule_timer_init(&t, 5, 17, SCHEDULE_HEARTBEAT, &p);
    double sum = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    const int n = 20000;
    for (int k = 0; k < n; k++) {
        uint64_t prev = t.next_ns;
        uint64_t next = schedule_timer_advance(&t, &p, 0);
        uint64_t d = next - prev;
        ck_assert_uint_ge(d, 27 * S_NS);
        ck_assert_uint_le(d, 33 * S_NS);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        sum += (double)d;
    }
    double mean = sum / n;
    ck_assert(mean > 29.9 * S_NS && mean < 30.1 * S_NS);
    ck_assert_uint_lt(lo, 27100000000ULL); /* the band is actually used */
    ck_assert_uint_gt(hi, 32900000000ULL);
}
END_TEST

START_TEST(test_no_jitter_anchored)
{
    struct schedule_params p = {.interval_ns = 60 * S_NS, .jitter_pct = 0, .ramp_ns = 60 * S_NS};
    struct schedule_timer t;
    schedule_timer_init(&t, 3, 4, SCHEDULE_HEARTBEAT, &p);
    uint64_t first = t.next_ns;
    for (int k = 1; k <= 100; k++)
        ck_assert_uint_eq(schedule_timer_advance(&t, &p, 0), first + (uint64_t)k * 60 * S_NS);
    /* an extra delay (back-off) moves that one step only */
    uint64_t before = t.next_ns;
    ck_assert_uint_eq(schedule_timer_advance(&t, &p, 5 * S_NS), before + 65 * S_NS);
}
END_TEST

/* On a grid every intended time is a multiple of the grid at or after the unrounded time, less
 * than one grid step after it, and the unrounded times are those of the same timer without a
 * grid (the grid never makes a timer drift). */
START_TEST(test_grid)
{
    const uint64_t grid = 5000000; /* 5 ms */
    struct schedule_params exact = {
        .interval_ns = 30 * S_NS, .jitter_pct = 10, .ramp_ns = 30 * S_NS};
    struct schedule_params on_grid = exact;
    on_grid.grid_ns = grid;
    for (uint32_t index = 1; index <= 50; index++) {
        struct schedule_timer a, b;
        schedule_timer_init(&a, 11, index, SCHEDULE_POLL, &exact);
        schedule_timer_init(&b, 11, index, SCHEDULE_POLL, &on_grid);
        unsigned off_grid = 0;
        for (int k = 0; k < 200; k++) {
            ck_assert_uint_eq(b.next_ns % grid, 0);
            ck_assert_uint_ge(b.next_ns, a.next_ns);
            ck_assert_uint_lt(b.next_ns - a.next_ns, grid);
            ck_assert_uint_eq(b.exact_ns, a.next_ns);
            off_grid += a.next_ns % grid != 0;
            schedule_timer_advance(&a, &exact, k % 7 == 0 ? 3 * S_NS : 0);
            schedule_timer_advance(&b, &on_grid, k % 7 == 0 ? 3 * S_NS : 0);
        }
        ck_assert_uint_gt(off_grid, 150); /* the grid did something */
    }
}
END_TEST

START_TEST(test_deterministic_and_seed_sensitive)
{
    struct schedule_params p = {.interval_ns = 30 * S_NS, .jitter_pct = 10, .ramp_ns = 30 * S_NS};
    int differ = 0;
    for (uint32_t i = 1; i <= 200; i++) {
        struct schedule_timer a, b, c;
        schedule_timer_init(&a, 42, i, SCHEDULE_HEARTBEAT, &p);
        schedule_timer_init(&b, 42, i, SCHEDULE_HEARTBEAT, &p);
        schedule_timer_init(&c, 43, i, SCHEDULE_HEARTBEAT, &p);
        for (int k = 0; k < 5; k++) {
            ck_assert_uint_eq(a.next_ns, b.next_ns);
            differ += a.next_ns != c.next_ns;
            schedule_timer_advance(&a, &p, 0);
            schedule_timer_advance(&b, &p, 0);
            schedule_timer_advance(&c, &p, 0);
        }
    }
    ck_assert_int_gt(differ, 990);
    /* the heartbeat stream does not depend on the poll stream */
    struct schedule_timer hb, poll;
    schedule_timer_init(&hb, 42, 9, SCHEDULE_HEARTBEAT, &p);
    schedule_timer_init(&poll, 42, 9, SCHEDULE_POLL, &p);
    ck_assert_uint_ne(hb.next_ns, poll.next_ns);
}
END_TEST

START_TEST(test_start_together)
{
    struct schedule_params hb = {
        .interval_ns = 60 * S_NS, .ramp_ns = 60 * S_NS, .start_at_agent_start = true};
    struct schedule_params poll = {
        .interval_ns = 30 * S_NS, .ramp_ns = 60 * S_NS, .start_at_agent_start = true};
    for (uint32_t i = 1; i <= 100; i++) {
        struct schedule_timer a, b;
        schedule_timer_init(&a, 8, i, SCHEDULE_HEARTBEAT, &hb);
        schedule_timer_init(&b, 8, i, SCHEDULE_POLL, &poll);
        ck_assert_uint_eq(a.next_ns, b.next_ns);
        ck_assert_uint_eq(a.next_ns, schedule_agent_start_ns(8, i, 60 * S_NS));
        ck_assert_uint_lt(a.next_ns, 60 * S_NS);
    }
    ck_assert_uint_eq(schedule_agent_start_ns(8, 1, 0), 0);
}
END_TEST

START_TEST(test_poll_backoff)
{
    const uint64_t step = 30 * S_NS, max = 300 * S_NS;
    ck_assert_uint_eq(schedule_poll_backoff_ns(0, step, max), 0);
    ck_assert_uint_eq(schedule_poll_backoff_ns(1, step, max), 30 * S_NS);
    ck_assert_uint_eq(schedule_poll_backoff_ns(3, step, max), 90 * S_NS);
    ck_assert_uint_eq(schedule_poll_backoff_ns(10, step, max), 300 * S_NS);
    ck_assert_uint_eq(schedule_poll_backoff_ns(11, step, max), 300 * S_NS);
    ck_assert_uint_eq(schedule_poll_backoff_ns(UINT32_MAX, step, max), 300 * S_NS);
}
END_TEST

START_TEST(test_reconnect_backoff)
{
    uint64_t rng = 77;
    ck_assert_uint_eq(schedule_reconnect_backoff_ns(&rng, 0), 0);
    for (uint32_t attempt = 1; attempt <= 12; attempt++) {
        uint64_t base = SCHEDULE_RECONNECT_BASE_NS << (attempt - 1);
        if (base > SCHEDULE_RECONNECT_MAX_NS || attempt > 8)
            base = SCHEDULE_RECONNECT_MAX_NS;
        for (int k = 0; k < 100; k++) {
            uint64_t d = schedule_reconnect_backoff_ns(&rng, attempt);
            ck_assert_uint_ge(d, base / 2);
            ck_assert_uint_le(d, base + base / 2);
        }
    }
    ck_assert_uint_le(schedule_reconnect_backoff_ns(&rng, UINT32_MAX),
                      SCHEDULE_RECONNECT_MAX_NS * 3 / 2);
}
END_TEST

START_TEST(test_jittered_extremes)
{
    uint64_t rng = 1;
    ck_assert_uint_eq(schedule_jittered_ns(&rng, 1000, 0), 1000);
    for (int k = 0; k < 1000; k++) {
        uint64_t v = schedule_jittered_ns(&rng, 1000, 500); /* clamped to 90 % */
        ck_assert_uint_ge(v, 100);
        ck_assert_uint_le(v, 1900);
    }
    ck_assert_uint_ge(schedule_jittered_ns(&rng, 0, 10), 1);
}
END_TEST

/* due-time queue: 3,000 random sets, moves and removals against a brute-force minimum */
#define QN 40
START_TEST(test_queue_against_scan)
{
    struct schedule_queue q;
    struct schedule_entry e[QN + 1];
    memset(e, 0, sizeof e);
    schedule_queue_init(&q);
    ck_assert_ptr_null(schedule_queue_first(&q));
    for (int k = 0; k < QN; k++)
        ck_assert_int_eq(schedule_queue_reserve(&q), 0);
    uint64_t rng = 7;
    for (int op = 0; op < 3000; op++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t i = (uint32_t)(rng >> 33) % QN;
        uint64_t due = (rng >> 20) % 1000;
        if ((rng >> 10) % 4 == 0)
            schedule_queue_remove(&q, &e[i]);
        else
            ck_assert_int_eq(schedule_queue_set(&q, &e[i], due), 0);
        uint64_t best = UINT64_MAX;
        uint32_t queued = 0;
        for (uint32_t k = 0; k < QN; k++) {
            if (e[k].queued) {
                queued++;
                best = e[k].due_ns < best ? e[k].due_ns : best;
            }
        }
        ck_assert_uint_eq(queued, q.live);
        ck_assert_uint_le(q.n, q.cap); /* stale slots never outgrow the heap */
        const struct schedule_entry *first = schedule_queue_first(&q);
        if (queued)
            ck_assert_uint_eq(first->due_ns, best);
        else
            ck_assert_ptr_null(first);
    }
    /* full: one more entry than reserved is refused */
    for (uint32_t k = 0; k < QN; k++)
        ck_assert_int_eq(schedule_queue_set(&q, &e[k], 500 + k % 7), 0);
    ck_assert_int_eq(schedule_queue_set(&q, &e[QN], 1), -ENOSPC);
    ck_assert(!e[QN].queued);
    /* pop_due: nothing before its time, then every entry once, in due order */
    ck_assert_ptr_null(schedule_queue_pop_due(&q, 499));
    uint64_t last = 0;
    uint32_t popped = 0;
    struct schedule_entry *x;
    while ((x = schedule_queue_pop_due(&q, 506))) {
        ck_assert_uint_ge(x->due_ns, last);
        ck_assert(!x->queued);
        last = x->due_ns;
        popped++;
    }
    ck_assert_uint_eq(popped, QN);
    ck_assert_uint_eq(q.live, 0);
    ck_assert_ptr_null(schedule_queue_first(&q));
    schedule_queue_set(&q, &e[0], 3);
    schedule_queue_free(&q);
    ck_assert(!e[0].queued); /* freeing unqueues what was left */
}
END_TEST

START_TEST(test_slot_end)
{
    ck_assert_uint_eq(schedule_slot_end_ns(1234567, 0), 1234567);
    ck_assert_uint_eq(schedule_slot_end_ns(1000000, 1000000), 1000000); /* on a boundary */
    ck_assert_uint_eq(schedule_slot_end_ns(1000001, 1000000), 2000000);
    ck_assert_uint_eq(schedule_slot_end_ns(1999999, 1000000), 2000000);
    ck_assert_uint_eq(schedule_slot_end_ns(UINT64_MAX - 5, 1000), UINT64_MAX);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = testenv_tcase(s, "core", 0);
    tcase_add_test(tc, test_first_within_ramp);
    tcase_add_test(tc, test_ramp_zero_and_off);
    tcase_add_test(tc, test_jitter_band);
    tcase_add_test(tc, test_no_jitter_anchored);
    tcase_add_test(tc, test_grid);
    tcase_add_test(tc, test_deterministic_and_seed_sensitive);
    tcase_add_test(tc, test_start_together);
    tcase_add_test(tc, test_poll_backoff);
    tcase_add_test(tc, test_reconnect_backoff);
    tcase_add_test(tc, test_jittered_extremes);
    tcase_add_test(tc, test_queue_against_scan);
    tcase_add_test(tc, test_slot_end);
    return testenv_run(s);
}
