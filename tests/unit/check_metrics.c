/* tests/unit/check_metrics.c - metrics registry: series identity, what each recording call
 * counts and records (duration/service/lag), 429 and lag clamping, accounting identity,
 * tagged metrics, exact merge, the interval view, the registry limits, and the registered
 * names (engine/metric_names.h filled from sim/names.h). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/metric_names.h"
#include "engine/metrics.h"
#include "sim/names.h"
#include "tests/lib/testenv.h"

#define MS 1000000ULL /* ns */

static struct request_timing timing(uint64_t intended_ms, uint64_t lag_ms, uint64_t service_ms)
{
    struct request_timing t = {intended_ms * MS,
                               (intended_ms + lag_ms) * MS,
                               0,
                               (intended_ms + lag_ms + service_ms) * MS,
                               0,
                               0,
                               0};
    t.first_byte_ns = t.done_ns;
    return t;
}

START_TEST(test_series_identity)
{
    struct metrics *m = metrics_new(false);
    struct metrics_series *a = metrics_series(m, "default", "agent", "heartbeat");
    struct metrics_series *b = metrics_series(m, "default", "agent", "work");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_ne(a, b);
    ck_assert_ptr_eq(metrics_series(m, "default", "agent", "heartbeat"), a);
    ck_assert_ptr_eq(metrics_series_find(m, "default", "agent", "work"), b);
    ck_assert_ptr_null(metrics_series_find(m, "other", "agent", "work"));
    ck_assert_uint_eq(metrics_series_count(m), 2);
    ck_assert_ptr_eq(metrics_series_at(m, 1), b);
    ck_assert_ptr_null(metrics_series_at(m, 2));
    char scen[16] = "x";
    struct metrics_series *c = metrics_series(m, scen, "acme", "acme_nonce");
    strcpy(scen, "y"); /* the registry keeps its own copy */
    ck_assert_str_eq(c->scenario, "x");
    metrics_free(m);
}
END_TEST

START_TEST(test_answered_records_timings)
{
    struct metrics *m = metrics_new(false);
    struct metrics_series *s = metrics_series(m, "default", "agent", "heartbeat");
    struct request_timing t = timing(1000, 2, 50);
    metrics_scheduled(s);
    metrics_answered(s, &t, 200, false);
    ck_assert_uint_eq(s->total.scheduled, 1);
    ck_assert_uint_eq(s->total.answered, 1);
    ck_assert_uint_eq(s->total.status_class[2], 1);
    ck_assert_uint_eq(s->total.status[200 - 100], 1);
    ck_assert_uint_eq(s->total.failed, 0);
    ck_assert_uint_eq(hist_count(&s->duration), 1);
    ck_assert_uint_eq(hist_value_at_percentile(&s->lag, 50), 2000);
    uint64_t service = hist_value_at_percentile(&s->service, 50);
    uint64_t duration = hist_value_at_percentile(&s->duration, 50);
    ck_assert(service >= 50000 && service <= 50050);
    ck_assert(duration >= 52000 && duration <= 52052);
    metrics_free(m);
}
END_TEST

START_TEST(test_status_accounting)
{
    struct metrics *m = metrics_new(false);
    struct metrics_series *s = metrics_series(m, "default", "agent", "csr");
    struct request_timing t = timing(0, 0, 5);
    for (int i = 0; i < 10; i++)
        metrics_scheduled(s);
    metrics_answered(s, &t, 202, false);
    metrics_answered(s, &t, 429, false); /* 429 always fails */
    metrics_answered(s, &t, 503, true);
    metrics_answered(s, &t, 700, true); /* outside 100..599 */
    metrics_transport_error(s, &t, METRICS_ERR_CONNECT);
    metrics_transport_error(s, &t, METRICS_ERR_CLOSED);
    metrics_transport_error(s, &t, (enum metrics_error_kind)99); /* counted as other */
    metrics_timed_out(s, &t);
    metrics_dropped(s);
    const struct metrics_outcomes *o = &s->total;
    ck_assert_uint_eq(o->answered, 4);
    ck_assert_uint_eq(o->status_class[0], 1);
    ck_assert_uint_eq(o->status_class[4], 1);
    ck_assert_uint_eq(o->status_class[5], 1);
    ck_assert_uint_eq(o->status[429 - 100], 1);
    ck_assert_uint_eq(o->transport_errors[METRICS_ERR_CONNECT], 1);
    ck_assert_uint_eq(o->transport_errors[METRICS_ERR_OTHER], 1);
    ck_assert_uint_eq(metrics_outcomes_errors(o), 3);
    ck_assert_uint_eq(o->timed_out, 1);
    ck_assert_uint_eq(o->dropped, 1);
    ck_assert_uint_eq(o->failed, 7); /* 429, 503, 700, 3 errors, 1 timeout */
    ck_assert_uint_eq(metrics_outcomes_completed(o), 8);
    ck_assert_uint_eq(hist_count(&s->duration), 8); /* dropped ones record nothing */
    struct metrics_accounting a;
    metrics_accounting(m, &a);
    ck_assert_uint_eq(a.scheduled, 10);
    ck_assert_uint_eq(a.answered, 4);
    ck_assert_uint_eq(a.transport_errors, 3);
    ck_assert_uint_eq(a.timed_out, 1);
    ck_assert_uint_eq(a.dropped, 1);
    ck_assert_int_eq(a.in_flight, 1);
    ck_assert(metrics_accounting_balanced(&a, -1));
    ck_assert(metrics_accounting_balanced(&a, 1));
    ck_assert(!metrics_accounting_balanced(&a, 2));
    metrics_answered(s, &t, 200, false);
    metrics_answered(s, &t, 200, false); /* one more ended than scheduled */
    metrics_accounting(m, &a);
    ck_assert_int_eq(a.in_flight, -1);
    ck_assert(!metrics_accounting_balanced(&a, -1));
    metrics_free(m);
}
END_TEST

START_TEST(test_lag_never_negative)
{
    struct metrics *m = metrics_new(true);
    struct metrics_series *s = metrics_series(m, "default", "agent", "heartbeat");
    struct request_timing early = {10 * MS, 9 * MS, 0, 20 * MS, 0, 0, 0};
    struct request_timing unsent = {10 * MS, 0, 0, 13 * MS, 0, 0, 0};
    metrics_scheduled(s);
    metrics_scheduled(s);
    metrics_answered(s, &early, 200, false);
    metrics_transport_error(s, &unsent, METRICS_ERR_CONNECT);
    ck_assert_uint_eq(s->total.lag_negative, 1);
    ck_assert_uint_eq(hist_max(&s->lag), 0);
    ck_assert_uint_eq(hist_count(&s->lag), 1);     /* never-sent request has no lag */
    ck_assert_uint_eq(hist_count(&s->service), 1); /* nor a service time */
    ck_assert_uint_eq(hist_count(&s->duration), 2);
    ck_assert_uint_eq(hist_min(&s->duration), 3000); /* bucket of 3000 us starts there */
    metrics_free(m);
}
END_TEST

START_TEST(test_tagged_metrics)
{
    struct metrics *m = metrics_new(false);
    ck_assert_int_eq(metrics_counter_add(m, METRIC_ACME_PROBLEMS, "fleet", "acme", "acme_order",
                                         "problem", "badNonce", 2),
                     0);
    ck_assert_int_eq(metrics_counter_add(m, METRIC_ACME_PROBLEMS, "fleet", "acme", "acme_order",
                                         "problem", "badNonce", 3),
                     0);
    ck_assert_int_eq(metrics_counter_add(m, METRIC_ACME_PROBLEMS, "fleet", "acme", "acme_order",
                                         "problem", "rateLimited", 1),
                     0);
    ck_assert_int_eq(metrics_rate_add(m, METRIC_ACME_RATE_LIMIT_SHAPE_OK, "fleet", "acme", NULL,
                                      NULL, NULL, true),
                     0);
    ck_assert_int_eq(metrics_rate_add(m, METRIC_ACME_RATE_LIMIT_SHAPE_OK, "fleet", "acme", NULL,
                                      NULL, NULL, false),
                     0);
    ck_assert_int_eq(metrics_trend_record(m, METRIC_CAMPAIGN_DURATION, "bulk-renewal", "operator",
                                          NULL, 90000000),
                     0);
    ck_assert_int_eq(
        metrics_rate_add(m, METRIC_ACME_PROBLEMS, "fleet", NULL, NULL, NULL, NULL, true),
        -EINVAL); /* a counter already */
    ck_assert_int_eq(metrics_counter_add(m, NULL, NULL, NULL, NULL, NULL, NULL, 1), -EINVAL);
    ck_assert_int_eq(metrics_rate_add_n(m, METRIC_ACME_RATE_LIMIT_SHAPE_OK, "fleet", "acme", NULL,
                                        NULL, NULL, 3, 2),
                     -EINVAL);
    struct metrics_tagged *bn = metrics_tagged_find(m, METRIC_ACME_PROBLEMS, "fleet", "acme",
                                                    "acme_order", "problem", "badNonce");
    ck_assert_ptr_nonnull(bn);
    ck_assert_uint_eq(bn->value, 5);
    struct metrics_tagged *r =
        metrics_tagged_find(m, METRIC_ACME_RATE_LIMIT_SHAPE_OK, "fleet", "acme", NULL, NULL, NULL);
    ck_assert_uint_eq(r->value, 1);
    ck_assert_uint_eq(r->total, 2);
    ck_assert_uint_eq(metrics_tagged_count(m), 4);
    struct metrics_tagged *c = metrics_tagged_at(m, 3);
    ck_assert_int_eq(c->kind, METRICS_TREND);
    ck_assert_uint_eq(hist_count(c->trend), 1);
    ck_assert_ptr_null(metrics_tagged_at(m, 4));
    metrics_free(m);
}
END_TEST

/* Deterministic mixed traffic into registry m (seeded). */
static void traffic(struct metrics *m, uint64_t seed, int n)
{
    static const char *const eps[] = {"heartbeat", "work", "csr"};
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t r = (uint32_t)(seed >> 33);
        struct metrics_series *s =
            metrics_series(m, r % 7 ? "default" : "agent-storm", "agent", eps[r % 3]);
        struct request_timing t = timing(i, r % 5, 1 + r % 997);
        metrics_scheduled(s);
        switch (r % 11) {
        case 0:
            metrics_timed_out(s, &t);
            break;
        case 1:
            metrics_transport_error(s, &t, (enum metrics_error_kind)(r % METRICS_ERR_KINDS));
            break;
        case 2:
            metrics_dropped(s);
            break;
        case 3:
            break; /* stays in flight */
        default:
            metrics_answered(s, &t, r % 13 ? 200 : 503, r % 13 == 0);
        }
        if (r % 17 == 0)
            metrics_counter_add(m, METRIC_ACME_PROBLEMS, "fleet", "acme", "acme_order", "problem",
                                r % 2 ? "badNonce" : "malformed", 1);
        if (r % 19 == 0)
            metrics_rate_add(m, METRIC_ACME_RATE_LIMIT_SHAPE_OK, "fleet", "acme", NULL, NULL, NULL,
                             r % 3 == 0);
        if (r % 23 == 0)
            metrics_trend_record(m, METRIC_CAMPAIGN_DURATION, "bulk-renewal", "operator", NULL,
                                 r % 100000);
    }
}

START_TEST(test_merge_exact)
{
    struct metrics *a = metrics_new(false), *b = metrics_new(true), *all = metrics_new(false);
    traffic(a, 1, 20000);
    traffic(b, 2, 15000);
    traffic(all, 2, 15000); /* other order on purpose: series created in another order */
    traffic(all, 1, 20000);
    metrics_set_elapsed_ns(a, 5 * MS);
    metrics_set_elapsed_ns(b, 7 * MS);
    ck_assert(!metrics_equal(a, all));
    ck_assert_int_eq(metrics_merge(a, b), 0);
    ck_assert(metrics_equal(a, all));
    ck_assert(metrics_equal(all, a));
    ck_assert_uint_eq(metrics_elapsed_ns(a), 7 * MS);
    struct metrics_accounting x, y;
    metrics_accounting(a, &x);
    metrics_accounting(all, &y);
    ck_assert_mem_eq(&x, &y, sizeof x);
    ck_assert_uint_eq(x.scheduled, 35000);
    ck_assert(metrics_accounting_balanced(&x, -1));
    /* one more request breaks equality */
    struct request_timing t = timing(1, 0, 1);
    metrics_answered(metrics_series(a, "default", "agent", "work"), &t, 200, false);
    ck_assert(!metrics_equal(a, all));
    metrics_free(a);
    metrics_free(b);
    metrics_free(all);
}
END_TEST

START_TEST(test_interval_view)
{
    struct metrics *m = metrics_new(true), *iv = metrics_new(false), *ref = metrics_new(false);
    traffic(m, 3, 5000);
    ck_assert_int_eq(metrics_interval_take(m, iv), 0);
    ck_assert(metrics_equal(iv, m) == (metrics_tagged_count(m) == 0));
    traffic(ref, 3, 5000);
    ck_assert_uint_eq(metrics_series_count(iv), metrics_series_count(ref));
    for (size_t i = 0; i < metrics_series_count(ref); i++) {
        const struct metrics_series *r = metrics_series_at(ref, i);
        const struct metrics_series *s =
            metrics_series_find(iv, r->scenario, r->actor, r->endpoint);
        ck_assert_ptr_nonnull(s);
        ck_assert_mem_eq(&s->total, &r->total, sizeof r->total);
        ck_assert(hist_equal(&s->duration, &r->duration));
        ck_assert(hist_equal(&s->lag, &r->lag));
    }
    /* second interval: only what happened since */
    metrics_reset(iv);
    struct metrics_series *hb = metrics_series(m, "default", "agent", "heartbeat");
    uint64_t cumulative = hb->total.scheduled;
    struct request_timing t = timing(1, 0, 7);
    metrics_scheduled(hb);
    metrics_answered(hb, &t, 200, false);
    ck_assert_int_eq(metrics_interval_take(m, iv), 0);
    const struct metrics_series *ihb = metrics_series_find(iv, "default", "agent", "heartbeat");
    ck_assert_uint_eq(ihb->total.scheduled, 1);
    ck_assert_uint_eq(hist_count(&ihb->duration), 1);
    ck_assert_uint_eq(hist_min(&ihb->duration), 7000);
    ck_assert_uint_eq(metrics_series_find(iv, "default", "agent", "work")->total.scheduled, 0);
    ck_assert_uint_eq(hb->total.scheduled, cumulative + 1); /* cumulative untouched */
    ck_assert_uint_eq(hb->interval.scheduled, 0);
    ck_assert_uint_eq(hist_count(&hb->iv_duration), 0);
    ck_assert_int_eq(metrics_interval_take(iv, ref), -EINVAL); /* no interval data kept */
    metrics_free(m);
    metrics_free(iv);
    metrics_free(ref);
}
END_TEST

START_TEST(test_limits)
{
    struct metrics *m = metrics_new(false);
    char name[32];
    for (int i = 0; i < METRICS_MAX_SERIES; i++) {
        snprintf(name, sizeof name, "s%d", i);
        ck_assert_ptr_nonnull(metrics_series(m, name, "agent", "heartbeat"));
    }
    ck_assert_ptr_null(metrics_series(m, "one-too-many", "agent", "heartbeat"));
    ck_assert_ptr_nonnull(metrics_series(m, "s0", "agent", "heartbeat"));
    for (int i = 0; i < METRICS_MAX_TAGGED; i++) {
        snprintf(name, sizeof name, "p%d", i);
        ck_assert_int_eq(
            metrics_counter_add(m, METRIC_ACME_PROBLEMS, NULL, NULL, NULL, "problem", name, 1), 0);
    }
    ck_assert_int_eq(
        metrics_counter_add(m, METRIC_ACME_PROBLEMS, NULL, NULL, NULL, "problem", "more", 1),
        -ENOSPC);
    ck_assert_int_eq(
        metrics_counter_add(m, METRIC_ACME_PROBLEMS, NULL, NULL, NULL, "problem", "p0", 1), 0);
    metrics_free(m);
}
END_TEST

START_TEST(test_reset_and_names)
{
    struct metrics *m = metrics_new(true);
    traffic(m, 4, 1000);
    struct metrics_series *s = metrics_series_at(m, 0);
    metrics_reset(m);
    ck_assert_ptr_eq(metrics_series_at(m, 0), s);
    struct metrics_accounting a;
    metrics_accounting(m, &a);
    ck_assert_uint_eq(a.scheduled, 0);
    ck_assert_uint_eq(hist_count(&s->duration), 0);
    metric_names_clear();
    ck_assert(!metric_names_endpoint_known("heartbeat"));
    ck_assert(!metric_names_actor_known("agent"));
    ck_assert_int_eq(sim_names_register(NULL), 0);
    ck_assert_int_eq(sim_names_register(NULL), 0); /* twice is harmless */
    ck_assert_int_eq(sim_names_register("admin"), -EINVAL);
    ck_assert(metric_names_endpoint_known("acme_renewal_info"));
    ck_assert(metric_names_endpoint_known("heartbeat"));
    ck_assert(!metric_names_endpoint_known("heartbeats"));
    ck_assert(!metric_names_endpoint_known(NULL));
    ck_assert(metric_names_actor_known("operator"));
    ck_assert(!metric_names_actor_known("admin"));
    ck_assert_uint_eq(metric_names_endpoint_count(), SIM_EP_COUNT);
    ck_assert_uint_eq(metric_names_actor_count(), 3);
    ck_assert_ptr_null(metric_names_endpoint_at(SIM_EP_COUNT));
    for (size_t i = 0; i < SIM_EP_COUNT; i++)
        ck_assert_str_eq(metric_names_endpoint_at(i), sim_endpoint_name((enum sim_endpoint)i));
    const struct metric_name *p = metric_names_metric(METRIC_ACME_PROBLEMS);
    ck_assert(p && p->kind == METRICS_COUNTER && strcmp(p->extra_tag, SIM_TAG_PROBLEM) == 0);
    ck_assert(metric_names_metric(METRIC_HTTP_REQS)->kind == METRICS_COUNTER);
    ck_assert(metric_names_extra_tag_known(METRICS_TAG_STATUS));
    ck_assert(!metric_names_extra_tag_known(NULL));
    /* the engine's own names cannot be taken; a name keeps its kind and extra tag */
    ck_assert_int_eq(metric_names_add_metric(METRIC_HTTP_REQS, METRICS_COUNTER, NULL), -EINVAL);
    ck_assert_int_eq(metric_names_add_metric(METRIC_ACME_PROBLEMS, METRICS_RATE, SIM_TAG_PROBLEM),
                     -EINVAL);
    ck_assert_int_eq(metric_names_add_metric(METRIC_ACME_PROBLEMS, METRICS_COUNTER, NULL), -EINVAL);
    ck_assert_int_eq(
        metric_names_add_metric(METRIC_ACME_PROBLEMS, METRICS_COUNTER, SIM_TAG_PROBLEM), 0);
    ck_assert_int_eq(metric_names_add_actor(""), -EINVAL);
    ck_assert_int_eq(metric_names_add_endpoint(NULL), -EINVAL);
    metric_names_clear();
    ck_assert(!metric_names_endpoint_known("heartbeat"));
    ck_assert_ptr_null(metric_names_metric(METRIC_ACME_PROBLEMS));
    ck_assert_ptr_nonnull(metric_names_metric(METRIC_HTTP_REQ_DURATION));
    ck_assert_int_eq(sim_names_register(SIM_ACTOR_OPERATOR), 0);
    ck_assert(metric_names_endpoint_known("bulk_renew") && !metric_names_endpoint_known("csr"));
    ck_assert(metric_names_metric(METRIC_CAMPAIGN_DURATION) &&
              !metric_names_metric(METRIC_ACME_PROBLEMS));
    ck_assert_str_eq(metrics_error_kind_name(METRICS_ERR_TOO_LARGE), "too_large");
    ck_assert_int_eq(metrics_error_kind_from_name("tls"), METRICS_ERR_TLS);
    ck_assert_int_eq(metrics_error_kind_from_name("nope"), -1);
    metrics_free(m);
}
END_TEST

START_TEST(test_clock)
{
    char buf[CLOCK_RFC3339_LEN];
    time_t t;
    uint64_t a = clock_now_ns(), b = clock_now_ns();
    ck_assert_uint_ge(b, a);
    clock_format_rfc3339(buf, sizeof buf, 1795824000);
    ck_assert_str_eq(buf, "2026-11-28T00:00:00Z");
    ck_assert_int_eq(clock_parse_rfc3339(buf, &t), 0);
    ck_assert_int_eq(t, 1795824000);
    ck_assert_int_eq(clock_parse_rfc3339("2026-11-28T01:30:00.250+01:30", &t), 0);
    ck_assert_int_eq(t, 1795824000);
    ck_assert_int_eq(clock_parse_rfc3339("2026-11-28 00:00:00", &t), -EINVAL);
    ck_assert_int_eq(clock_parse_rfc3339("2026-11-28T00:00:00", &t), -EINVAL);
    ck_assert_str_eq(clock_format_duration(buf, sizeof buf, 850000), "850us");
    ck_assert_str_eq(clock_format_duration(buf, sizeof buf, 12300000), "12.3ms");
    ck_assert_str_eq(clock_format_duration(buf, sizeof buf, 4200000000ULL), "4.20s");
    ck_assert_str_eq(clock_format_duration(buf, sizeof buf, 300000000000ULL), "5m0s");
    ck_assert_str_eq(clock_format_duration(buf, sizeof buf, 28800000000000ULL), "8h0m0s");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = testenv_tcase(s, "core", 30);
    tcase_add_test(tc, test_series_identity);
    tcase_add_test(tc, test_answered_records_timings);
    tcase_add_test(tc, test_status_accounting);
    tcase_add_test(tc, test_lag_never_negative);
    tcase_add_test(tc, test_tagged_metrics);
    tcase_add_test(tc, test_merge_exact);
    tcase_add_test(tc, test_interval_view);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_reset_and_names);
    tcase_add_test(tc, test_clock);
    return testenv_run(s);
}
