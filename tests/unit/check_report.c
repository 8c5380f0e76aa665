/* tests/unit/check_report.c - reports: the text summary (series, accounting identity and its
 * imbalance warning, thresholds, bottleneck verdict), the summary JSON read field by field
 * with json-c, the write-read round trip (bucket for bucket), merging two summaries, the
 * atomic write, reader errors, the progress line and the JSONL interval record. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/report.h"
#include "sim/names.h"
#include "tests/lib/testenv.h"

#define MS 1000000ULL

/* n requests on a series with the given lag and service time (ms). */
static void requests(struct metrics_series *s, int n, uint64_t lag_ms, uint64_t service_ms,
                     int status)
{
    for (int i = 0; i < n; i++) {
        struct request_timing t = {100 * MS, (100 + lag_ms) * MS,
                                   0,        (100 + lag_ms + service_ms + (uint64_t)i % 7) * MS,
                                   0,        0,
                                   0};
        metrics_scheduled(s);
        metrics_answered(s, &t, status, status >= 400);
    }
}

static struct metrics *sample(uint64_t lag_ms)
{
    struct metrics *m = metrics_new(false);
    struct metrics_series *hb = metrics_series(m, "agent-storm", "agent", "heartbeat");
    struct metrics_series *nonce = metrics_series(m, "acme-burst", "acme", "acme_nonce");
    struct request_timing t = {0, 1 * MS, 0, 30001 * MS, 0, 0, 0};
    requests(hb, 900, lag_ms, 12, 200);
    requests(hb, 5, lag_ms, 40, 500);
    requests(nonce, 300, 0, 3, 200);
    requests(nonce, 7, 0, 3, 429);
    metrics_scheduled(hb);
    metrics_timed_out(hb, &t);
    metrics_scheduled(hb);
    metrics_transport_error(hb, &t, METRICS_ERR_CLOSED);
    metrics_scheduled(hb);
    metrics_scheduled(nonce); /* in flight at the end */
    metrics_counter_add(m, METRIC_ACME_PROBLEMS, "acme-burst", "acme", "acme_nonce", "problem",
                        "rateLimited", 7);
    metrics_rate_add_n(m, METRIC_ACME_RATE_LIMIT_SHAPE_OK, "acme-burst", "acme", "acme_nonce", NULL,
                       NULL, 6, 7);
    metrics_trend_record(m, METRIC_CAMPAIGN_DURATION, "bulk-renewal", "operator", NULL, 125000000);
    metrics_set_elapsed_ns(m, 60000 * MS);
    return m;
}

/* The text summary of m as a malloc'd string. */
static char *summary_text(const struct metrics *m, const struct report_text_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(report_text_write(f, m, o), 0);
    fclose(f);
    return buf;
}

static void evaluate(const struct metrics *m, const char *spec, struct threshold_result *r)
{
    struct threshold t;
    char err[256];
    ck_assert_int_eq(threshold_parse(spec, &t, err, sizeof err), 0);
    ck_assert_int_eq(threshold_evaluate(&t, m, r), 0);
}

START_TEST(test_text_summary)
{
    struct metrics *m = sample(0);
    struct threshold_result r[2];
    evaluate(m, "http_req_duration{endpoint:heartbeat}:p(99)<1000", &r[0]);
    evaluate(m, "http_req_failed:rate<0.001", &r[1]);
    struct report_text_opts o = {r, 2, false, 2, false, NULL};
    char *text = summary_text(m, &o);
    ck_assert_ptr_nonnull(strstr(text, "agent-storm/agent/heartbeat"));
    ck_assert_ptr_nonnull(strstr(text, "acme-burst/acme/acme_nonce"));
    ck_assert_ptr_nonnull(
        strstr(text, "accounting: scheduled 1216 = answered 1212 + transport "
                     "errors 1 + timed out 1 + unanswered 0 + dropped 0 + in flight 2\n"));
    ck_assert_ptr_null(strstr(text, "DOES NOT BALANCE"));
    ck_assert_ptr_nonnull(strstr(text, "2xx 900  5xx 5"));
    ck_assert_ptr_nonnull(strstr(text, "(429 7)"));
    ck_assert_ptr_nonnull(strstr(text, "errors 1 (closed 1)"));
    ck_assert_ptr_nonnull(strstr(text, "✗ http_req_failed:rate<0.001  observed"));
    ck_assert_ptr_nonnull(strstr(text, "✓ http_req_duration{endpoint:heartbeat}:p(99)<1000  "
                                       "observed"));
    ck_assert_ptr_nonnull(strstr(text, "thresholds: 1 of 2 FAILED"));
    ck_assert_ptr_nonnull(strstr(text, "acme_problems{scenario:acme-burst,actor:acme,"
                                       "endpoint:acme_nonce,problem:rateLimited}  7"));
    ck_assert_ptr_nonnull(strstr(text, "rate 0.8571 (6 of 7)"));
    ck_assert_ptr_nonnull(strstr(text, "verdict: fleetsim kept up"));
    ck_assert_ptr_nonnull(strstr(text, "1.0m") == NULL ? strstr(text, "1m0s measured")
                                                       : strstr(text, "1.0m"));
    free(text);
    o.ascii = true;
    text = summary_text(m, &o);
    ck_assert_ptr_nonnull(strstr(text, "FAILED http_req_failed:rate<0.001"));
    ck_assert_ptr_nonnull(strstr(text, "ok     http_req_duration"));
    free(text);
    metrics_free(m);
}
END_TEST

START_TEST(test_accounting_imbalance_is_loud)
{
    struct metrics *m = sample(0);
    struct report_text_opts o = {.known_in_flight = 5};
    char *text = summary_text(m, &o);
    ck_assert_ptr_nonnull(strstr(text, "ACCOUNTING DOES NOT BALANCE: in flight should be 5"));
    free(text);
    struct request_timing t = {0, 0, 0, MS, 0, 0, 0};
    struct metrics_series *s = metrics_series(m, "x", "agent", "work");
    metrics_answered(s, &t, 200, false);
    metrics_answered(s, &t, 200, false);
    metrics_answered(s, &t, 200, false);
    o.known_in_flight = -1;
    text = summary_text(m, &o);
    ck_assert_ptr_nonnull(strstr(text, "in flight -1"));
    ck_assert_ptr_nonnull(strstr(text, "more requests ended than were scheduled"));
    free(text);
    metrics_free(m);
}
END_TEST

START_TEST(test_bottleneck_verdict)
{
    char why[256];
    struct metrics *late = sample(25), *ok = sample(0);
    ck_assert(report_bottleneck(late, false, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "lag p99 25.0"));
    ck_assert_ptr_nonnull(strstr(why, "> 10 ms"));
    char *text = summary_text(late, NULL);
    ck_assert_ptr_nonnull(strstr(text, "latencies overstate the server's"));
    free(text);
    ck_assert(!report_bottleneck(ok, false, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "no drops"));
    ck_assert(report_bottleneck(ok, true, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "saturated"));
    struct metrics_series *s = metrics_series(ok, "agent-storm", "agent", "heartbeat");
    metrics_scheduled(s);
    metrics_dropped(s);
    ck_assert(report_bottleneck(ok, false, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "dropped requests 1"));
    metrics_free(late);
    metrics_free(ok);
}
END_TEST

/* A path for a test file in the build tree (or /tmp). */
static void temp_path(char *buf, size_t n, const char *name)
{
    const char *dir = getenv("top_builddir");
    snprintf(buf, n, "%s/%s.%ld.json", dir ? dir : "/tmp", name, (long)getpid());
}

static struct report_meta meta_for_test(json_object *config)
{
    struct report_meta meta = {"0.1.0-test", 42, 1, 3, 1795824000, 1795824060, config, NULL};
    return meta;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "missing key %s", key);
    return v;
}

/* The series[] entry with this metric and endpoint tag. */
static json_object *find_series(json_object *root, const char *metric, const char *endpoint)
{
    json_object *arr = get(root, "series");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i), *ep = NULL;
        if (strcmp(json_object_get_string(get(e, "metric")), metric) == 0 &&
            (endpoint == NULL || (json_object_object_get_ex(get(e, "tags"), "endpoint", &ep) &&
                                  strcmp(json_object_get_string(ep), endpoint) == 0)))
            return e;
    }
    ck_abort_msg("no series %s %s", metric, endpoint ? endpoint : "");
    return NULL;
}

static void check_ms(json_object *e, const char *key, uint64_t us)
{
    ck_assert_msg(fabs(json_object_get_double(get(e, key)) - (double)us / 1000.0) < 1e-9,
                  "%s = %f, want %f", key, json_object_get_double(get(e, key)), us / 1000.0);
}

static void check_series_fields(json_object *root, const struct metrics *m)
{
    const struct metrics_series *s = metrics_series_find(m, "agent-storm", "agent", "heartbeat");
    json_object *e = find_series(root, "http_req_duration", "heartbeat");
    json_object *tags = get(e, "tags");
    ck_assert_str_eq(json_object_get_string(get(tags, "scenario")), "agent-storm");
    ck_assert_str_eq(json_object_get_string(get(tags, "actor")), "agent");
    ck_assert_int_eq(json_object_get_int64(get(e, "count")), 907);
    ck_assert(fabs(json_object_get_double(get(e, "rate_per_s")) - 907 / 60.0) < 0.001);
    check_ms(e, "min", hist_min(&s->duration));
    check_ms(e, "p50", hist_value_at_percentile(&s->duration, 50));
    check_ms(e, "p90", hist_value_at_percentile(&s->duration, 90));
    check_ms(e, "p95", hist_value_at_percentile(&s->duration, 95));
    check_ms(e, "p99", hist_value_at_percentile(&s->duration, 99));
    check_ms(e, "p999", hist_value_at_percentile(&s->duration, 99.9));
    check_ms(e, "max", hist_max(&s->duration));
    ck_assert(fabs(json_object_get_double(get(e, "mean")) - hist_mean(&s->duration) / 1000) <
              0.001);
    json_object *buckets = get(e, "buckets");
    int64_t total = 0;
    for (size_t i = 0; i < json_object_array_length(buckets); i++)
        total += json_object_get_int64(
            json_object_array_get_idx(json_object_array_get_idx(buckets, i), 1));
    ck_assert_int_eq(total, 907);
    e = find_series(root, "campaign_duration", NULL);
    ck_assert_int_eq(json_object_get_int64(get(e, "count")), 1);
    ck_assert_str_eq(json_object_get_string(get(get(e, "tags"), "scenario")), "bulk-renewal");
}

/* The value of counter metric with tags endpoint (and extra key=value, or no extra tag). */
static json_object *find_counter(json_object *root, const char *metric, const char *endpoint,
                                 const char *key, const char *value)
{
    json_object *arr = get(root, "counters");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i), *tags = get(e, "tags"), *v = NULL;
        bool has_extra = key && json_object_object_get_ex(tags, key, &v);
        if (strcmp(json_object_get_string(get(e, "metric")), metric) == 0 &&
            strcmp(json_object_get_string(get(tags, "endpoint")), endpoint) == 0 &&
            (key == NULL ? json_object_object_length(tags) == 3
                         : has_extra && strcmp(json_object_get_string(v), value) == 0))
            return e;
    }
    ck_abort_msg("no counter %s", metric);
    return NULL;
}

static void check_counters(json_object *root)
{
    json_object *c = find_counter(root, "http_reqs", "heartbeat", NULL, NULL);
    ck_assert_int_eq(json_object_get_int64(get(c, "value")), 907);
    c = find_counter(root, "http_reqs", "heartbeat", "status", "500");
    ck_assert_int_eq(json_object_get_int64(get(c, "value")), 5);
    c = find_counter(root, "http_429", "acme_nonce", NULL, NULL);
    ck_assert_int_eq(json_object_get_int64(get(c, "value")), 7);
    c = find_counter(root, "http_req_failed", "heartbeat", NULL, NULL);
    ck_assert_str_eq(json_object_get_string(get(c, "type")), "rate");
    ck_assert_int_eq(json_object_get_int64(get(c, "hits")), 7);
    ck_assert_int_eq(json_object_get_int64(get(c, "total")), 907);
    c = find_counter(root, "acme_problems", "acme_nonce", "problem", "rateLimited");
    ck_assert_int_eq(json_object_get_int64(get(c, "value")), 7);
    c = find_counter(root, "acme_rate_limit_shape_ok", "acme_nonce", NULL, NULL);
    ck_assert(fabs(json_object_get_double(get(c, "value")) - 6.0 / 7) < 1e-12);
    json_object *a = get(root, "accounting");
    ck_assert_int_eq(json_object_get_int64(get(a, "scheduled")), 1216);
    ck_assert_int_eq(json_object_get_int64(get(a, "answered")), 1212);
    ck_assert_int_eq(json_object_get_int64(get(a, "transport_errors")), 1);
    ck_assert_int_eq(json_object_get_int64(get(a, "timed_out")), 1);
    ck_assert_int_eq(json_object_get_int64(get(a, "dropped")), 0);
    ck_assert_int_eq(json_object_get_int64(get(a, "in_flight")), 2);
}

START_TEST(test_json_fields)
{
    char path[4096], err[512];
    struct metrics *m = sample(0);
    struct threshold_result r[2];
    evaluate(m, "http_req_duration:p(99)<1000", &r[0]);
    evaluate(m, "http_req_duration{actor:operator}:p(99)<1000", &r[1]);
    json_object *config = json_tokener_parse("{\"agents\": 5000, \"url\": \"https://x.test\"}");
    struct report_meta meta = meta_for_test(config);
    temp_path(path, sizeof path, "check_report_fields");
    ck_assert_int_eq(report_json_write(path, &meta, m, r, 2, err, sizeof err), 0);
    json_object *root = json_object_from_file(path);
    ck_assert_ptr_nonnull(root);
    json_object *f = get(root, "fleetsim");
    ck_assert_str_eq(json_object_get_string(get(f, "version")), "0.1.0-test");
    ck_assert_int_eq(json_object_get_int64(get(f, "seed")), 42);
    ck_assert_int_eq(json_object_get_int64(get(get(f, "shard"), "k")), 1);
    ck_assert_int_eq(json_object_get_int64(get(get(f, "shard"), "n")), 3);
    json_object *h = get(f, "histogram");
    ck_assert_int_eq(json_object_get_int64(get(h, "lowest_us")), 1);
    ck_assert_int_eq(json_object_get_int64(get(h, "highest_us")), 3600000000LL);
    ck_assert_int_eq(json_object_get_int64(get(h, "significant_digits")), 3);
    ck_assert_int_eq(json_object_get_int64(get(get(root, "config"), "agents")), 5000);
    ck_assert_str_eq(json_object_get_string(get(root, "started_at")), "2026-11-28T00:00:00Z");
    ck_assert_str_eq(json_object_get_string(get(root, "ended_at")), "2026-11-28T00:01:00Z");
    check_series_fields(root, m);
    check_counters(root);
    json_object *th = get(root, "thresholds");
    ck_assert_uint_eq(json_object_array_length(th), 2);
    json_object *t0 = json_object_array_get_idx(th, 0), *t1 = json_object_array_get_idx(th, 1);
    ck_assert_str_eq(json_object_get_string(get(t0, "expr")), "http_req_duration:p(99)<1000");
    ck_assert(json_object_get_boolean(get(t0, "ok")));
    ck_assert(fabs(json_object_get_double(get(t0, "observed")) - r[0].observed) < 1e-9);
    ck_assert(!json_object_get_boolean(get(t1, "ok")));
    ck_assert_ptr_null(get(t1, "observed")); /* no data: null */
    json_object_put(root);
    json_object_put(config);
    unlink(path);
    metrics_free(m);
}
END_TEST

START_TEST(test_json_round_trip)
{
    char path[4096], err[512];
    struct metrics *m = sample(3), *back = metrics_new(false);
    struct metrics_series *s = metrics_series(m, "agent-storm", "agent", "heartbeat");
    struct request_timing huge = {0, 0, 0, 5000ULL * 3600 * 1000 * MS, 0, 0, 0}; /* clamped */
    struct request_timing odd = {0, 0, 0, MS, 0, 0, 0};
    struct report_info info;
    metrics_scheduled(s);
    metrics_answered(s, &huge, 200, false);
    metrics_scheduled(s);
    metrics_answered(s, &odd, 999, true); /* status outside 100..599 */
    struct request_timing early = {5 * MS, 4 * MS, 0, 6 * MS, 0, 0, 0};
    metrics_scheduled(s);
    metrics_answered(s, &early, 200, false); /* lag_negative */
    ck_assert_uint_eq(s->total.lag_negative, 1);
    struct report_meta meta = meta_for_test(NULL);
    struct threshold_result r;
    evaluate(m, "http_reqs:count>1", &r);
    temp_path(path, sizeof path, "check_report_round_trip");
    ck_assert_int_eq(report_json_write(path, &meta, m, &r, 1, err, sizeof err), 0);
    ck_assert_msg(report_json_read(path, back, &info, err, sizeof err) == 0, "%s", err);
    ck_assert(metrics_equal(m, back));
    ck_assert(metrics_equal(back, m));
    ck_assert_uint_eq(metrics_elapsed_ns(back), metrics_elapsed_ns(m));
    ck_assert_uint_eq(
        hist_clamped_count(
            &metrics_series_find(back, "agent-storm", "agent", "heartbeat")->duration),
        1);
    ck_assert_str_eq(info.version, "0.1.0-test");
    ck_assert_uint_eq(info.seed, 42);
    ck_assert_uint_eq(info.shard_k, 1);
    ck_assert_uint_eq(info.shard_n, 3);
    ck_assert_int_eq(info.started_at, 1795824000);
    ck_assert_int_eq(info.ended_at, 1795824060);
    ck_assert_uint_eq(info.n_thresholds, 1);
    ck_assert_str_eq(info.threshold_exprs[0], "http_reqs:count>1");
    ck_assert(json_object_is_type(info.config, json_type_object));
    report_info_clear(&info);
    unlink(path);
    metrics_free(m);
    metrics_free(back);
}
END_TEST

START_TEST(test_merge_of_two_summaries)
{
    char p1[4096], p2[4096], err[512];
    struct metrics *a = sample(1), *b = sample(2), *merged = metrics_new(false);
    struct report_meta meta = meta_for_test(NULL);
    metrics_set_elapsed_ns(b, 61000 * MS);
    temp_path(p1, sizeof p1, "check_report_shard0");
    temp_path(p2, sizeof p2, "check_report_shard1");
    ck_assert_int_eq(report_json_write(p1, &meta, a, NULL, 0, err, sizeof err), 0);
    ck_assert_int_eq(report_json_write(p2, &meta, b, NULL, 0, err, sizeof err), 0);
    ck_assert_int_eq(report_json_read(p1, merged, NULL, err, sizeof err), 0);
    ck_assert_int_eq(report_json_read(p2, merged, NULL, err, sizeof err), 0);
    ck_assert_int_eq(metrics_merge(a, b), 0);
    ck_assert(metrics_equal(a, merged));
    ck_assert_uint_eq(metrics_elapsed_ns(merged), 61000 * MS);
    unlink(p1);
    unlink(p2);
    metrics_free(a);
    metrics_free(b);
    metrics_free(merged);
}
END_TEST

START_TEST(test_atomic_write_and_errors)
{
    char path[4096], tmp[4200], err[512];
    struct metrics *m = sample(0), *back = metrics_new(false);
    struct report_meta meta = meta_for_test(NULL);
    ck_assert_int_lt(
        report_json_write("/nonexistent-dir/x.json", &meta, m, NULL, 0, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.json"));
    temp_path(path, sizeof path, "check_report_atomic");
    ck_assert_int_eq(report_json_write(path, &meta, m, NULL, 0, err, sizeof err), 0);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    ck_assert_int_ne(access(tmp, F_OK), 0); /* no temp file left */
    ck_assert_int_eq(access(path, F_OK), 0);
    FILE *f = fopen(path, "w");
    fputs("{\"fleetsim\": {\"version\": \"x\", \"seed\": 1, \"shard\": {\"k\": 0, \"n\": 1}, "
          "\"histogram\": {\"lowest_us\": 1, \"highest_us\": 60000000, "
          "\"significant_digits\": 3}}}",
          f);
    fclose(f);
    ck_assert_int_eq(report_json_read(path, back, NULL, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "histogram configuration"));
    f = fopen(path, "w");
    fputs("{not json", f);
    fclose(f);
    ck_assert_int_eq(report_json_read(path, back, NULL, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_null(strchr(err, '\n'));
    unlink(path);
    metrics_free(m);
    metrics_free(back);
}
END_TEST

START_TEST(test_progress_and_interval_log)
{
    struct metrics *total = metrics_new(true), *iv = metrics_new(false);
    struct metrics_series *s = metrics_series(total, "default", "agent", "heartbeat");
    char line[512], *buf = NULL;
    size_t len = 0;
    requests(s, 100, 0, 20, 200);
    requests(s, 2, 0, 20, 503);
    metrics_scheduled(s);
    metrics_scheduled(s);
    metrics_dropped(s);
    ck_assert_int_eq(metrics_interval_take(total, iv), 0);
    size_t n = report_progress_line(line, sizeof line, iv, total, 10, 70);
    ck_assert_uint_eq(n, strlen(line));
    ck_assert_ptr_nonnull(strstr(line, "[1m10s] 10.2 req/s"));
    ck_assert_ptr_nonnull(strstr(line, "failed 2"));
    ck_assert_ptr_nonnull(strstr(line, "dropped 1"));
    ck_assert_ptr_nonnull(strstr(line, "scheduled 104  in flight 1"));
    ck_assert_ptr_null(strchr(line, '\n'));
    ck_assert_uint_eq(report_progress_line(line, 16, iv, total, 10, 70), 15);
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(report_interval_jsonl(f, iv, total, 1795824000, 70, 10), 0);
    ck_assert_int_eq(report_interval_jsonl(f, iv, NULL, 1795824010, 80, 10), 0);
    fclose(f);
    char *nl = strchr(buf, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = '\0';
    json_object *rec = json_tokener_parse(buf);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(json_object_get_string(get(rec, "time")), "2026-11-28T00:00:00Z");
    ck_assert_int_eq(json_object_get_int64(get(rec, "scheduled")), 104);
    json_object *e = json_object_array_get_idx(get(rec, "series"), 0);
    ck_assert_int_eq(json_object_get_int64(get(e, "count")), 102);
    ck_assert_int_eq(json_object_get_int64(get(e, "dropped")), 1);
    ck_assert_int_eq(json_object_get_int64(get(get(e, "status"), "5xx")), 2);
    ck_assert(fabs(json_object_get_double(get(e, "rate_per_s")) - 10.2) < 1e-9);
    ck_assert_ptr_nonnull(strchr(nl + 1, '\n')); /* second record on its own line */
    json_object_put(rec);
    free(buf);
    metrics_free(total);
    metrics_free(iv);
}
END_TEST

int main(void)
{
    sim_names_register(NULL);
    Suite *s = suite_create("report");
    TCase *tc = testenv_tcase(s, "core", 30);
    tcase_add_test(tc, test_text_summary);
    tcase_add_test(tc, test_accounting_imbalance_is_loud);
    tcase_add_test(tc, test_bottleneck_verdict);
    tcase_add_test(tc, test_json_fields);
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_test(tc, test_merge_of_two_summaries);
    tcase_add_test(tc, test_atomic_write_and_errors);
    tcase_add_test(tc, test_progress_and_interval_log);
    return testenv_run(s);
}
