/* tests/unit/check_threshold.c - threshold parsing (good specs and the one-line reason of
 * bad ones) against the engine's metrics and sim's registered names, evaluation over
 * registries with known histograms and counters, and names a caller registers itself. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/metric_names.h"
#include "engine/threshold.h"
#include "sim/names.h"
#include "tests/lib/testenv.h"

struct good_case {
    const char *spec;
    const char *metric;
    size_t n_tags;
    enum threshold_agg agg;
    double pct;
    enum threshold_op op;
    double value;
};

static const struct good_case good[] = {
    {"http_req_duration:p(99)<1000", "http_req_duration", 0, THRESHOLD_AGG_PERCENTILE, 99,
     THRESHOLD_LT, 1000},
    {"http_req_duration{scenario:agent-storm,endpoint:heartbeat}:p(99)<1000", "http_req_duration",
     2, THRESHOLD_AGG_PERCENTILE, 99, THRESHOLD_LT, 1000},
    {"http_req_duration:p(99.9)<=1s", "http_req_duration", 0, THRESHOLD_AGG_PERCENTILE, 99.9,
     THRESHOLD_LE, 1000},
    {"http_req_duration:p(95) < 500ms", "http_req_duration", 0, THRESHOLD_AGG_PERCENTILE, 95,
     THRESHOLD_LT, 500},
    {"http_req_duration:avg<250us", "http_req_duration", 0, THRESHOLD_AGG_AVG, 0, THRESHOLD_LT,
     0.25},
    {"http_req_service:med>=2.5", "http_req_service", 0, THRESHOLD_AGG_MED, 0, THRESHOLD_GE, 2.5},
    {"http_req_lag:max<10", "http_req_lag", 0, THRESHOLD_AGG_MAX, 0, THRESHOLD_LT, 10},
    {"http_req_lag:min==0", "http_req_lag", 0, THRESHOLD_AGG_MIN, 0, THRESHOLD_EQ, 0},
    {"http_req_duration:count>100", "http_req_duration", 0, THRESHOLD_AGG_COUNT, 0, THRESHOLD_GT,
     100},
    {"campaign_duration:max<2m", "campaign_duration", 0, THRESHOLD_AGG_MAX, 0, THRESHOLD_LT,
     120000},
    {"campaign_duration{scenario:bulk-renewal}:p(100)<1h", "campaign_duration", 1,
     THRESHOLD_AGG_PERCENTILE, 100, THRESHOLD_LT, 3600000},
    {"http_req_failed:rate<0.001", "http_req_failed", 0, THRESHOLD_AGG_RATE, 0, THRESHOLD_LT,
     0.001},
    {"http_req_5xx{actor:acme}:rate<0.001", "http_req_5xx", 1, THRESHOLD_AGG_RATE, 0, THRESHOLD_LT,
     0.001},
    {"acme_rate_limit_shape_ok:rate>=1", "acme_rate_limit_shape_ok", 0, THRESHOLD_AGG_RATE, 0,
     THRESHOLD_GE, 1},
    {"http_reqs{status:429}:count<10", "http_reqs", 1, THRESHOLD_AGG_COUNT, 0, THRESHOLD_LT, 10},
    {"http_reqs{status:5xx, endpoint:csr}:count==0", "http_reqs", 2, THRESHOLD_AGG_COUNT, 0,
     THRESHOLD_EQ, 0},
    {"http_reqs:rate>100", "http_reqs", 0, THRESHOLD_AGG_RATE, 0, THRESHOLD_GT, 100},
    {"http_429:count<1", "http_429", 0, THRESHOLD_AGG_COUNT, 0, THRESHOLD_LT, 1},
    {"dropped_requests:count==0", "dropped_requests", 0, THRESHOLD_AGG_COUNT, 0, THRESHOLD_EQ, 0},
    {"acme_orders_completed:count>0", "acme_orders_completed", 0, THRESHOLD_AGG_COUNT, 0,
     THRESHOLD_GT, 0},
    {"acme_problems{problem:badNonce,scenario:fleet}:count<5", "acme_problems", 2,
     THRESHOLD_AGG_COUNT, 0, THRESHOLD_LT, 5},
    {"http_req_duration{actor:operator,endpoint:bulk_renew,scenario:bulk-renewal}:p(95)<2s",
     "http_req_duration", 3, THRESHOLD_AGG_PERCENTILE, 95, THRESHOLD_LT, 2000},
};

struct bad_case {
    const char *spec;
    const char *reason; /* a word the message must contain */
};

static const struct bad_case bad[] = {
    {"", "metric name"},
    {"http_req_durations:p(99)<1", "unknown metric 'http_req_durations'"},
    {"http_req_duration", "expected ':'"},
    {"http_req_duration:p(99)", "comparison"},
    {"http_req_duration:p(99)<", "number"},
    {"http_req_duration:p(0)<1", "0 < N <= 100"},
    {"http_req_duration:p(101)<1", "0 < N <= 100"},
    {"http_req_duration:p(abc)<1", "p(N)"},
    {"http_req_duration:p99<1", "aggregation"},
    {"http_req_duration:rate<1", "duration"},
    {"http_req_failed:p(99)<1", "is a rate"},
    {"http_req_failed:count<1", "is a rate"},
    {"http_reqs:avg<1", "is a counter"},
    {"http_req_duration:p(99)<1x", "unexpected 'x'"},
    {"http_req_duration:p(99)<1 s", "unexpected"},
    {"http_req_failed:rate<1ms", "only applies to durations"},
    {"http_req_duration:count<5s", "only applies to durations"},
    {"http_req_duration:p(99)<-1", "non-negative"},
    {"http_req_duration:p(99)=1", "comparison"},
    {"http_req_duration{host:x}:p(99)<1", "unknown tag 'host'"},
    {"http_req_duration{endpoint:heartbeats}:p(99)<1", "unknown endpoint 'heartbeats'"},
    {"http_req_duration{actor:admin}:p(99)<1", "unknown actor 'admin'"},
    {"http_req_duration{status:200}:p(99)<1", "does not apply"},
    {"http_reqs{status:600}:count<1", "bad status"},
    {"http_reqs{status:2x}:count<1", "bad status"},
    {"http_reqs{problem:badNonce}:count<1", "does not apply"},
    {"acme_problems{problem:bad-nonce}:count<1", "bad problem"},
    {"http_req_duration{}:p(99)<1", "empty"},
    {"http_req_duration{endpoint}:p(99)<1", "tag:value"},
    {"http_req_duration{endpoint:work:p(99)<1", "expected ',' or '}'"},
    {"http_req_duration{endpoint:work,endpoint:csr}:p(99)<1", "twice"},
    {"http_req_duration{scenario:a b}:p(99)<1", "expected ',' or '}'"},
};

START_TEST(test_parse_good)
{
    const struct good_case *g = &good[_i];
    struct threshold t;
    char err[256] = "";
    ck_assert_msg(threshold_parse(g->spec, &t, err, sizeof err) == 0, "%s: %s", g->spec, err);
    ck_assert_str_eq(t.spec, g->spec);
    ck_assert_str_eq(t.metric, g->metric);
    ck_assert_uint_eq(t.n_tags, g->n_tags);
    ck_assert_int_eq(t.agg, g->agg);
    ck_assert_int_eq(t.op, g->op);
    ck_assert_msg(fabs(t.value - g->value) < 1e-9, "%s: value %g", g->spec, t.value);
    if (g->agg == THRESHOLD_AGG_PERCENTILE)
        ck_assert(fabs(t.percentile - g->pct) < 1e-9);
}
END_TEST

START_TEST(test_parse_bad)
{
    const struct bad_case *b = &bad[_i];
    struct threshold t;
    char err[512] = "";
    ck_assert_int_eq(threshold_parse(b->spec, &t, err, sizeof err), -EINVAL);
    ck_assert_msg(strstr(err, b->reason) != NULL, "'%s': message '%s' lacks '%s'", b->spec, err,
                  b->reason);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_ptr_nonnull(strstr(err, "threshold '"));
}
END_TEST

START_TEST(test_parse_tags_kept)
{
    struct threshold t;
    char err[256];
    ck_assert_int_eq(threshold_parse("http_reqs{ scenario : agent-storm , status:4xx }:count<1", &t,
                                     err, sizeof err),
                     0);
    ck_assert_str_eq(t.tags[0].key, "scenario");
    ck_assert_str_eq(t.tags[0].value, "agent-storm");
    ck_assert_str_eq(t.tags[1].key, "status");
    ck_assert_str_eq(t.tags[1].value, "4xx");
    ck_assert_int_eq(t.type, THRESHOLD_COUNTER);
    char long_spec[400];
    memset(long_spec, 'a', sizeof long_spec - 1);
    long_spec[sizeof long_spec - 1] = '\0';
    ck_assert_int_eq(threshold_parse(long_spec, &t, err, sizeof err), -EINVAL);
    enum threshold_metric_type type;
    ck_assert(threshold_metric_type("http_req_5xx", &type) && type == THRESHOLD_RATE);
    ck_assert(!threshold_metric_type("nope", &type));
}
END_TEST

START_TEST(test_check_scenarios)
{
    static const char *const names[] = {"agent-storm", "acme-burst"};
    struct threshold t;
    char err[256];
    ck_assert_int_eq(
        threshold_parse("http_req_failed{scenario:agent-storm}:rate<0.01", &t, err, sizeof err), 0);
    ck_assert_int_eq(threshold_check_scenarios(&t, names, 2, err, sizeof err), 0);
    ck_assert_int_eq(threshold_check_scenarios(&t, names + 1, 1, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "scenario 'agent-storm'"));
    ck_assert_int_eq(threshold_parse("http_req_failed:rate<0.01", &t, err, sizeof err), 0);
    ck_assert_int_eq(threshold_check_scenarios(&t, names, 0, err, sizeof err), 0);
}
END_TEST

#define MS 1000000ULL

/* 1000 heartbeats with durations 1..1000 ms in scenario agent-storm (2 % failed as 503),
 * 100 csr requests of 5 ms in default (10 answered 429), 3 dropped, acme tagged metrics. */
static struct metrics *known_registry(void)
{
    struct metrics *m = metrics_new(false);
    struct metrics_series *hb = metrics_series(m, "agent-storm", "agent", "heartbeat");
    struct metrics_series *csr = metrics_series(m, "default", "agent", "csr");
    for (uint64_t i = 1; i <= 1000; i++) {
        struct request_timing t = {0, 0, 0, i * MS, 0, 0, 0};
        metrics_scheduled(hb);
        metrics_answered(hb, &t, i % 50 == 0 ? 503 : 200, i % 50 == 0);
    }
    for (int i = 0; i < 100; i++) {
        struct request_timing t = {10 * MS, 10 * MS, 0, 15 * MS, 0, 0, 0};
        metrics_scheduled(csr);
        metrics_answered(csr, &t, i < 10 ? 429 : 202, false);
    }
    for (int i = 0; i < 3; i++) {
        metrics_scheduled(csr);
        metrics_dropped(csr);
    }
    metrics_counter_add(m, METRIC_ACME_PROBLEMS, "fleet", "acme", "acme_order", "problem",
                        "badNonce", 4);
    metrics_counter_add(m, METRIC_ACME_PROBLEMS, "fleet", "acme", "acme_finalize", "problem",
                        "badCSR", 7);
    metrics_rate_add_n(m, METRIC_ACME_RATE_LIMIT_SHAPE_OK, "fleet", "acme", "acme_nonce", NULL,
                       NULL, 9, 10);
    metrics_trend_record(m, METRIC_CAMPAIGN_DURATION, "bulk-renewal", "operator", NULL,
                         90 * 1000000ULL);
    metrics_set_elapsed_ns(m, 10 * 1000 * MS); /* 10 s */
    return m;
}

struct eval_case {
    const char *spec;
    bool ok;
    double observed;
    double tolerance;
};

static const struct eval_case evals[] = {
    {"http_req_duration{scenario:agent-storm}:p(99)<1000", true, 990, 1},
    {"http_req_duration{scenario:agent-storm}:p(99)<990", false, 990, 1},
    {"http_req_duration{endpoint:heartbeat}:p(50)<=500.5", true, 500, 0.5},
    {"http_req_duration{endpoint:heartbeat}:med<1s", true, 500, 0.5},
    {"http_req_duration{endpoint:heartbeat}:avg<500ms", false, 500.5, 0.5},
    {"http_req_duration{endpoint:heartbeat}:max>=1000", true, 1000, 1},
    {"http_req_duration{endpoint:heartbeat}:min<1.001", true, 1, 0.001},
    {"http_req_duration:count==1100", true, 1100, 0},
    {"http_req_duration{endpoint:csr}:p(100)<5.01", true, 5, 0.005},
    {"http_req_service{endpoint:csr}:p(100)<5.01", true, 5, 0.005},
    {"http_req_lag{endpoint:csr}:max==0", true, 0, 0},
    {"http_req_duration{actor:operator}:p(99)<1", false, NAN, 0},
    {"http_req_failed{scenario:agent-storm}:rate<=0.02", true, 0.02, 1e-12},
    {"http_req_failed:rate<0.02", false, 30.0 / 1100, 1e-12},
    {"http_req_5xx:rate<0.01", false, 20.0 / 1100, 1e-12},
    {"http_req_5xx{endpoint:csr}:rate==0", true, 0, 0},
    {"http_reqs:count==1100", true, 1100, 0},
    {"http_reqs{status:429}:count==10", true, 10, 0},
    {"http_reqs{status:2xx}:count==1070", true, 1070, 0},
    {"http_reqs{status:503,endpoint:csr}:count==0", true, 0, 0},
    {"http_reqs:rate>=110", true, 110, 1e-9},
    {"http_429:count<10", false, 10, 0},
    {"dropped_requests:count==0", false, 3, 0},
    {"dropped_requests{scenario:agent-storm}:count==0", true, 0, 0},
    {"acme_problems:count==11", true, 11, 0},
    {"acme_problems{problem:badNonce}:count<5", true, 4, 0},
    {"acme_problems{endpoint:acme_finalize}:count<5", false, 7, 0},
    {"acme_orders_completed:count>0", false, 0, 0},
    {"acme_rate_limit_shape_ok:rate>=0.9", true, 0.9, 1e-12},
    {"acme_rate_limit_shape_ok{endpoint:acme_order}:rate>=0.9", false, NAN, 0},
    {"campaign_duration{scenario:bulk-renewal}:max<2m", true, 90000, 90},
    {"campaign_duration:p(50)<1m", false, 90000, 90},
};

START_TEST(test_evaluate)
{
    const struct eval_case *e = &evals[_i];
    struct metrics *m = known_registry();
    struct threshold t;
    struct threshold_result r;
    char err[256];
    ck_assert_msg(threshold_parse(e->spec, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(threshold_evaluate(&t, m, &r), 0);
    ck_assert_str_eq(r.expr, e->spec);
    ck_assert_msg(r.ok == e->ok, "%s: ok %d observed %g", e->spec, r.ok, r.observed);
    if (isnan(e->observed)) {
        ck_assert(!r.has_data);
        ck_assert(isnan(r.observed));
    } else {
        ck_assert(r.has_data);
        ck_assert_msg(fabs(r.observed - e->observed) <= e->tolerance, "%s: observed %.6f", e->spec,
                      r.observed);
    }
    metrics_free(m);
}
END_TEST

START_TEST(test_format_observed)
{
    struct metrics *m = known_registry();
    struct threshold t;
    struct threshold_result r;
    char err[256], buf[64];
    threshold_parse("http_req_duration{endpoint:csr}:p(99)<1", &t, err, sizeof err);
    threshold_evaluate(&t, m, &r);
    ck_assert_str_eq(r.unit, "ms");
    ck_assert_str_eq(threshold_format_observed(&r, buf, sizeof buf), "5.003 ms");
    threshold_parse("http_reqs:rate>1", &t, err, sizeof err);
    threshold_evaluate(&t, m, &r);
    ck_assert_str_eq(threshold_format_observed(&r, buf, sizeof buf), "110.000/s");
    threshold_parse("http_reqs:count>1", &t, err, sizeof err);
    threshold_evaluate(&t, m, &r);
    ck_assert_str_eq(threshold_format_observed(&r, buf, sizeof buf), "1100");
    threshold_parse("http_req_duration{actor:acme}:p(99)<1", &t, err, sizeof err);
    threshold_evaluate(&t, m, &r);
    ck_assert_str_eq(threshold_format_observed(&r, buf, sizeof buf), "no data");
    metrics_set_elapsed_ns(m, 0);
    threshold_parse("http_reqs:rate>1", &t, err, sizeof err);
    threshold_evaluate(&t, m, &r);
    ck_assert(!r.ok && !r.has_data);
    metrics_free(m);
}
END_TEST

/* Only registered names are known: without sim's names its actors, endpoints and metrics are
 * rejected; a caller's own actor, endpoint and tagged counter are parsed and evaluated. */
START_TEST(test_caller_names)
{
    struct threshold t;
    char err[1024];
    metric_names_clear();
    ck_assert_int_eq(threshold_parse("acme_problems:count<1", &t, err, sizeof err), -EINVAL);
    ck_assert_msg(strstr(err, "unknown metric 'acme_problems'"), "%s", err);
    ck_assert_int_eq(threshold_parse("http_reqs{actor:agent}:count<1", &t, err, sizeof err),
                     -EINVAL);
    ck_assert_int_eq(threshold_parse("http_reqs{endpoint:heartbeat}:count<1", &t, err, sizeof err),
                     -EINVAL);
    ck_assert_int_eq(metric_names_add_actor("probe"), 0);
    ck_assert_int_eq(metric_names_add_endpoint("version"), 0);
    ck_assert_int_eq(metric_names_add_metric("probe_mismatches", METRICS_COUNTER, "kind"), 0);
    ck_assert_msg(
        threshold_parse("probe_mismatches{actor:probe,endpoint:version,kind:body}:count<2", &t, err,
                        sizeof err) == 0,
        "%s", err);
    struct metrics *m = metrics_new(false);
    metrics_counter_add(m, "probe_mismatches", "s", "probe", "version", "kind", "body", 2);
    metrics_counter_add(m, "probe_mismatches", "s", "probe", "version", "kind", "status", 1);
    struct threshold_result r;
    ck_assert_int_eq(threshold_evaluate(&t, m, &r), 0);
    ck_assert(!r.ok && r.observed == 2);
    ck_assert_int_eq(threshold_parse("probe_mismatches:count<4", &t, err, sizeof err), 0);
    ck_assert_int_eq(threshold_evaluate(&t, m, &r), 0);
    ck_assert(r.ok && r.observed == 3);
    ck_assert_int_eq(threshold_parse("http_reqs{kind:body}:count<1", &t, err, sizeof err), -EINVAL);
    ck_assert_msg(strstr(err, "tag 'kind' does not apply to http_reqs (only to probe_mismatches)"),
                  "%s", err);
    ck_assert_int_eq(threshold_parse("probe_mismatches{problem:x}:count<1", &t, err, sizeof err),
                     -EINVAL);
    ck_assert_msg(
        strstr(err, "unknown tag 'problem' (known: scenario, actor, endpoint, status, kind)"), "%s",
        err);
    ck_assert_int_eq(threshold_parse("http_reqs{actor:admin}:count<1", &t, err, sizeof err),
                     -EINVAL);
    ck_assert_msg(strstr(err, "unknown actor 'admin' (known: probe)"), "%s", err);
    metrics_free(m);
    metric_names_clear();
    ck_assert_int_eq(sim_names_register(NULL), 0);
}
END_TEST

int main(void)
{
    sim_names_register(NULL);
    Suite *s = suite_create("threshold");
    TCase *tc = testenv_tcase(s, "core", 30);
    tcase_add_loop_test(tc, test_parse_good, 0, sizeof good / sizeof good[0]);
    tcase_add_loop_test(tc, test_parse_bad, 0, sizeof bad / sizeof bad[0]);
    tcase_add_test(tc, test_parse_tags_kept);
    tcase_add_test(tc, test_check_scenarios);
    tcase_add_loop_test(tc, test_evaluate, 0, sizeof evals / sizeof evals[0]);
    tcase_add_test(tc, test_format_observed);
    tcase_add_test(tc, test_caller_names);
    return testenv_run(s);
}
