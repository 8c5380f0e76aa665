/* tests/unit/check_operator.c - sim/operator: call times are exact for a rate and never drift,
 * batches cycle over the N certificates, the body bytes are exact, bulk-renew and list answers
 * parse (and malformed ones are refused), the campaign bookkeeping follows its rule, and the
 * actor on a loopback scripted server sends each call at its time, puts the bytes on the wire
 * and drops (and counts) calls beyond its in-flight cap; the bulk-renewal preset and the
 * --certs/--bulk-rate/--bulk-batch options fill the run configuration. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/threshold.h"
#include "sim/names.h"
#include "sim/operator.h"
#include "sim/preset.h"
#include "src/options.h"
#include "tests/lib/testenv.h"
#include "tests/lib/http_test_server.h"

#define MS_NS 1000000ULL
#define S_NS 1000000000ULL

START_TEST(test_call_offsets_exact)
{
    for (uint64_t k = 0; k < 2000; k++)
        ck_assert_uint_eq(operator_call_offset_ns(k, 5.0), k * 200 * MS_NS);
    /* 3/s: rounded from k, so the thirds never accumulate an error */
    ck_assert_uint_eq(operator_call_offset_ns(1, 3.0), 333333333ULL);
    ck_assert_uint_eq(operator_call_offset_ns(2, 3.0), 666666667ULL);
    ck_assert_uint_eq(operator_call_offset_ns(3, 3.0), 1 * S_NS);
    ck_assert_uint_eq(operator_call_offset_ns(3000000, 3.0), 1000000 * S_NS);
    /* 300/m is 5/s; 0.5/s one call every 2 s; 5 min at 5/s is 1500 calls */
    ck_assert_uint_eq(operator_call_offset_ns(7, 300.0 / 60.0), 1400 * MS_NS);
    ck_assert_uint_eq(operator_call_offset_ns(4, 0.5), 8 * S_NS);
    ck_assert_uint_eq(operator_call_offset_ns(1500, 5.0), 300 * S_NS);
}
END_TEST

START_TEST(test_batches_cycle)
{
    ck_assert_uint_eq(operator_batch_count(10000, 50), 200);
    ck_assert_uint_eq(operator_batch_count(120, 50), 3);
    ck_assert_uint_eq(operator_batch_count(100, 50), 2);
    ck_assert_uint_eq(operator_batch_count(7, 50), 1);
    static const uint32_t want[][2] = {{1, 50}, {51, 50}, {101, 20}, {1, 50}, {51, 50}, {101, 20}};
    for (uint64_t k = 0; k < 6; k++) {
        uint32_t first, n;
        operator_batch_of_call(k, 120, 50, &first, &n);
        ck_assert_uint_eq(first, want[k][0]);
        ck_assert_uint_eq(n, want[k][1]);
    }
    /* over many passes every certificate is named exactly once per pass */
    uint32_t seen[121] = {0};
    for (uint64_t k = 0; k < 3 * 7; k++) {
        uint32_t first, n;
        operator_batch_of_call(k, 120, 50, &first, &n);
        for (uint32_t i = first; i < first + n; i++)
            seen[i]++;
    }
    for (uint32_t i = 1; i <= 120; i++)
        ck_assert_uint_eq(seen[i], 7);
    uint32_t first, n;
    operator_batch_of_call(199 + 200 * 3, 10000, 50, &first, &n);
    ck_assert_uint_eq(first, 9951);
    ck_assert_uint_eq(n, 50);
    operator_batch_of_call(5, 7, 50, &first, &n);
    ck_assert_uint_eq(first, 1);
    ck_assert_uint_eq(n, 7);
}
END_TEST

START_TEST(test_body_bytes)
{
    char buf[4096];
    int len = operator_bulk_body(buf, sizeof buf, "loadtest", 1, 3);
    static const char want[] =
        "{\"certificate_ids\":[\"mc-loadtest-00001\",\"mc-loadtest-00002\",\"mc-loadtest-00003\"]}";
    ck_assert_int_eq(len, (int)strlen(want));
    ck_assert_str_eq(buf, want);
    len = operator_bulk_body(buf, sizeof buf, "p1", 99999, 2);
    ck_assert_str_eq(buf, "{\"certificate_ids\":[\"mc-p1-99999\",\"mc-p1-100000\"]}");
    ck_assert_int_eq(len, (int)strlen(buf));
    len = operator_bulk_body(buf, sizeof buf, "x", 7, 1);
    ck_assert_str_eq(buf, "{\"certificate_ids\":[\"mc-x-00007\"]}");
    /* the advertised maximum always suffices, and one byte less than needed does not */
    size_t max = operator_bulk_body_max("loadtest", 50);
    char *big = malloc(max);
    ck_assert_ptr_nonnull(big);
    len = operator_bulk_body(big, max, "loadtest", 4294967246u, 50);
    ck_assert_int_gt(len, 0);
    ck_assert_uint_lt((size_t)len, max);
    len = operator_bulk_body(big, max, "loadtest", 9951, 50);
    ck_assert_int_eq(len, 20 + 50 * 19 + 49 + 2);
    ck_assert_int_eq(operator_bulk_body(big, (size_t)len, "loadtest", 9951, 50), -ENOSPC);
    ck_assert_int_eq(operator_bulk_body(big, (size_t)len + 1, "loadtest", 9951, 50), len);
    free(big);
}
END_TEST

struct seen_ids {
    char ids[8][32];
    bool enq[8];
    int n;
};

static void collect(const char *id, bool enqueued, void *arg)
{
    struct seen_ids *s = arg;
    if (s->n < 8) {
        snprintf(s->ids[s->n], sizeof s->ids[0], "%s", id);
        s->enq[s->n++] = enqueued;
    }
}

START_TEST(test_parse_bulk)
{
    static const char body[] =
        "{\"total_matched\":3,\"total_enqueued\":1,\"total_skipped\":1,\"total_failed\":1,"
        "\"enqueued_jobs\":[{\"certificate_id\":\"mc-loadtest-00002\",\"job_id\":\"job-1\"}],"
        "\"errors\":[{\"certificate_id\":\"mc-loadtest-00003\",\"error\":\"boom\"}]}\n";
    struct operator_bulk_result r;
    struct seen_ids s = {0};
    ck_assert_int_eq(operator_parse_bulk(body, strlen(body), &r, collect, &s), 0);
    ck_assert_int_eq(r.matched, 3);
    ck_assert_int_eq(r.enqueued, 1);
    ck_assert_int_eq(r.skipped, 1);
    ck_assert_int_eq(r.failed, 1);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.ids[0], "mc-loadtest-00002");
    ck_assert(s.enq[0]);
    ck_assert_str_eq(s.ids[1], "mc-loadtest-00003");
    ck_assert(!s.enq[1]);
    /* null lists (Go's nil slices) are fine */
    static const char nil[] = "{\"total_matched\":0,\"total_enqueued\":0,\"total_skipped\":0,"
                              "\"total_failed\":0,\"enqueued_jobs\":null,\"errors\":null}";
    ck_assert_int_eq(operator_parse_bulk(nil, strlen(nil), &r, collect, &s), 0);
    ck_assert_int_eq(r.matched, 0);
    static const char *const bad[] = {
        "",
        "body-0",
        "[]",
        "{\"total_matched\":1}",
        "{\"total_matched\":\"1\",\"total_enqueued\":0,\"total_skipped\":0,\"total_failed\":0}",
        "{\"total_matched\":1,\"total_enqueued\":0,\"total_skipped\":0,\"total_failed\":-1}",
        "{\"total_matched\":1,\"total_enqueued\":1,\"total_skipped\":0,\"total_failed\":0,"
        "\"enqueued_jobs\":{}}",
        "{\"total_matched\":1,\"total_enqueued\":1,\"total_skipped\":0,\"total_failed\":0,"
        "\"enqueued_jobs\":[{\"job_id\":\"j\"}]}",
        "{\"total_matched\":1,\"total_enqueued\":0,\"total_skipped\":0,\"total_failed\":0} junk",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(operator_parse_bulk(bad[i], strlen(bad[i]), &r, NULL, NULL), -EINVAL);
}
END_TEST

START_TEST(test_parse_list_total)
{
    static const char body[] = "{\"data\":[{\"id\":\"mc-loadtest-00001\"}],\"total\":8123,"
                               "\"page\":1,\"per_page\":1}";
    int64_t t = -1;
    ck_assert_int_eq(operator_parse_list_total(body, strlen(body), &t), 0);
    ck_assert_int_eq(t, 8123);
    ck_assert_int_eq(operator_parse_list_total("{\"data\":[]}", 11, &t), -EINVAL);
    ck_assert_int_eq(operator_parse_list_total("{\"total\":-2}", 12, &t), -EINVAL);
    ck_assert_int_eq(operator_parse_list_total("nope", 4, &t), -EINVAL);
}
END_TEST

/* Notes call k's answer: ids first..first+n-1 enqueued. */
static void answer(struct operator_campaign *c, uint64_t k, uint32_t first, uint32_t n,
                   const struct operator_bulk_result *r, uint64_t now)
{
    for (uint32_t i = first; i < first + n; i++) {
        char id[64];
        snprintf(id, sizeof id, "mc-loadtest-%05u", i);
        operator_campaign_note(c, k, id, true, now);
    }
    operator_campaign_first_answer(c, k, r, now);
}

START_TEST(test_campaign_rule)
{
    struct operator_campaign c;
    ck_assert_int_eq(operator_campaign_init(&c, "loadtest", 120, 50), 0);
    ck_assert_uint_eq(c.n_batches, 3);
    operator_campaign_begin(&c, 1000);
    /* batch 0: 50 enqueued; batch 1: 48 enqueued, 1 skipped, 1 not found; batch 2 lost */
    struct operator_bulk_result r0 = {50, 50, 0, 0}, r1 = {49, 48, 1, 0};
    answer(&c, 0, 1, 50, &r0, 2000);
    answer(&c, 1, 51, 48, &r1, 3000);
    ck_assert(!operator_campaign_complete(&c));
    /* a progress total of 0 before the first pass ended does not count */
    operator_campaign_progress(&c, 0, 3500, 3600);
    ck_assert_uint_eq(c.renewed, 0);
    operator_campaign_first_lost(&c, 2, 4000);
    ck_assert_uint_eq(c.enqueued, 98);
    ck_assert_uint_eq(c.pending, 98);
    ck_assert_uint_eq(c.skipped, 1);
    ck_assert_uint_eq(c.failed, 1 + 20);
    /* the second pass re-enqueues 10 certificates of batch 0: renewed in between */
    for (uint32_t i = 1; i <= 10; i++) {
        char id[64];
        snprintf(id, sizeof id, "mc-loadtest-%05u", i);
        operator_campaign_note(&c, 3, id, true, 5000);
        operator_campaign_note(&c, 3, id, true, 5001); /* twice: counted once */
    }
    operator_campaign_note(&c, 3, "mc-other-00011", true, 5000);    /* another fleet */
    operator_campaign_note(&c, 3, "mc-loadtest-00999", true, 5000); /* outside 1..N */
    ck_assert_uint_eq(c.renewed, 10);
    ck_assert_uint_eq(c.pending, 88);
    /* a poll sent before the first pass ended is stale; a non-zero total renews nothing */
    operator_campaign_progress(&c, 0, 3900, 6000);
    operator_campaign_progress(&c, 88, 6000, 6100);
    ck_assert(!operator_campaign_complete(&c));
    ck_assert_uint_eq(c.renewed, 10);
    /* zero in progress, polled after the first pass: everything pending is renewed */
    operator_campaign_progress(&c, 0, 7000, 7200);
    ck_assert(operator_campaign_complete(&c));
    ck_assert_uint_eq(c.renewed, 98);
    ck_assert_uint_eq(c.pending, 0);
    ck_assert_uint_eq(operator_campaign_duration_ns(&c), 7200 - 1000);
    /* later observations do not move the end */
    operator_campaign_progress(&c, 0, 8000, 8100);
    ck_assert_uint_eq(c.done_ns, 7200);
    operator_campaign_destroy(&c);
}
END_TEST

START_TEST(test_campaign_by_later_passes)
{
    struct operator_campaign c;
    ck_assert_int_eq(operator_campaign_init(&c, "loadtest", 4, 2), 0);
    operator_campaign_begin(&c, 100);
    struct operator_bulk_result r = {2, 2, 0, 0};
    answer(&c, 0, 1, 2, &r, 200);
    answer(&c, 1, 3, 2, &r, 300);
    ck_assert_uint_eq(c.first_pass_end_ns, 300);
    /* errors[] of a later call also prove the certificate was out of progress */
    operator_campaign_note(&c, 2, "mc-loadtest-00001", true, 400);
    operator_campaign_note(&c, 2, "mc-loadtest-00002", false, 400);
    operator_campaign_note(&c, 3, "mc-loadtest-00003", true, 500);
    ck_assert(!operator_campaign_complete(&c));
    operator_campaign_note(&c, 5, "mc-loadtest-00004", true, 650);
    ck_assert(operator_campaign_complete(&c));
    ck_assert_uint_eq(operator_campaign_duration_ns(&c), 550);
    ck_assert_uint_eq(c.renewed, 4);
    operator_campaign_destroy(&c);
}
END_TEST

/* ---- the actor against a scripted loopback server --------------------------------------- */

struct fixture {
    struct event_base *base;
    struct tsrv srv;
    struct http_conn_config cc;
    struct metrics *m;
    struct operator* op;
    uint64_t stop_at_ns;
};

static void fixture_up(struct fixture *fx, enum tsrv_mode mode, const struct operator_config *oc)
{
    signal(SIGPIPE, SIG_IGN);
    memset(fx, 0, sizeof *fx);
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    fx->base = event_base_new_with_config(ec);
    event_config_free(ec);
    ck_assert_ptr_nonnull(fx->base);
    ck_assert_int_eq(tsrv_start(&fx->srv, fx->base, "127.0.0.1", NULL), 0);
    tsrv_script(&fx->srv, 1, &mode);
    char err[256];
    ck_assert_int_eq(
        http_conn_config_init(&fx->cc, "127.0.0.1", fx->srv.port, NULL, err, sizeof err), 0);
    fx->cc.timeout_ns = 5 * S_NS;
    fx->m = metrics_new(false);
    struct operator_config c = *oc;
    c.conn = &fx->cc;
    fx->op = operator_new(fx->base, &c, fx->m, err, sizeof err);
    ck_assert_msg(fx->op != NULL, "%s", err);
}

static void fixture_down(struct fixture *fx)
{
    operator_free(fx->op);
    metrics_free(fx->m);
    tsrv_stop(&fx->srv);
    event_base_free(fx->base);
}

/* Stops the operator once its calls are over (stop_at_ns), then ends the loop when idle. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fixture *fx = arg;
    if (clock_now_ns() >= fx->stop_at_ns)
        operator_stop(fx->op);
    if (operator_idle(fx->op))
        event_base_loopbreak(fx->base);
}

/* Runs the loop until the operator, stopped at stop_at_ns, is idle, or limit_ns passed. */
static void run_until_idle(struct fixture *fx, uint64_t stop_at_ns, uint64_t limit_ns)
{
    fx->stop_at_ns = stop_at_ns;
    struct event *watch = event_new(fx->base, -1, EV_PERSIST, on_watch, fx);
    struct timeval every = {0, 5000},
                   limit = {(time_t)(limit_ns / S_NS), (suseconds_t)(limit_ns % S_NS / 1000)};
    event_add(watch, &every);
    event_base_loopexit(fx->base, &limit);
    event_base_dispatch(fx->base);
    event_free(watch);
}

static const struct operator_config base_cfg = {
    .scenario = "bulk-renewal",
    .prefix = "loadtest",
    .n_certs = 120,
    .batch = 50,
    .base_path = "/base",
    .headers_get = "User-Agent: t\r\n",
    .headers_post = "User-Agent: t\r\nContent-Type: application/json\r\n",
    .progress_ns = 60 * S_NS};

START_TEST(test_actor_drops_beyond_cap)
{
    struct operator_config oc = base_cfg;
    oc.rate_per_s = 100;
    oc.duration_ns = 100 * MS_NS; /* calls at 0, 10, ..., 90 ms: 10 calls */
    oc.max_in_flight = 2;
    struct fixture fx;
    fixture_up(&fx, TS_NEVER, &oc);
    uint64_t start = clock_now_ns();
    ck_assert_int_eq(operator_start(fx.op, start), 0);
    run_until_idle(&fx, start + 150 * MS_NS, 400 * MS_NS);
    struct metrics_series *s = metrics_series_find(fx.m, "bulk-renewal", "operator", "bulk_renew");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->total.scheduled, 10);
    ck_assert_uint_eq(s->total.dropped, 8);
    ck_assert_uint_eq(operator_in_flight(fx.op), 2);
    ck_assert_uint_eq(fx.srv.requests, 2);
    struct metrics_accounting a;
    metrics_accounting(fx.m, &a);
    ck_assert(metrics_accounting_balanced(&a, 2));
    struct operator_summary sum;
    operator_finish(fx.op, &sum);
    ck_assert_uint_eq(sum.calls_scheduled, 10);
    ck_assert_uint_eq(sum.calls_sent, 2);
    ck_assert_uint_eq(sum.calls_dropped, 8);
    ck_assert_int_eq(sum.in_flight, 2);
    /* calls 2 (certificates 101..120) and later of the first pass were dropped: failed */
    ck_assert_uint_eq(sum.campaign.failed, 20);
    fixture_down(&fx);
}
END_TEST

START_TEST(test_actor_times_and_wire)
{
    struct operator_config oc = base_cfg;
    oc.rate_per_s = 20;
    oc.duration_ns = 150 * MS_NS; /* calls at 0, 50, 100 ms */
    oc.max_in_flight = 1;
    struct fixture fx;
    fixture_up(&fx, TS_OK, &oc);
    uint64_t start = clock_now_ns() + 20 * MS_NS;
    ck_assert_int_eq(operator_start(fx.op, start), 0);
    run_until_idle(&fx, start + 150 * MS_NS, 2 * S_NS);
    uint64_t end = clock_now_ns();
    ck_assert_uint_ge(end - start, 100 * MS_NS); /* the last call waited for its time */
    struct metrics_series *s = metrics_series_find(fx.m, "bulk-renewal", "operator", "bulk_renew");
    ck_assert_uint_eq(s->total.scheduled, 3);
    ck_assert_uint_eq(s->total.answered, 3);
    ck_assert_uint_eq(s->total.dropped, 0);
    ck_assert_uint_eq(s->total.lag_negative, 0);
    ck_assert_uint_eq(fx.srv.requests, 3);
    ck_assert_uint_eq(fx.srv.accepts, 1); /* one keep-alive connection */
    /* lag (sent - intended) stays below the 50 ms spacing: each call left at its time */
    ck_assert_uint_lt(hist_max(&s->lag), 50000);
    /* the last call is the third batch, certificates 101..120, on the wire as expected */
    const char *req = fx.srv.last_request;
    ck_assert_msg(strncmp(req, "POST /base/api/v1/certificates/bulk-renew HTTP/1.1\r\n", 52) == 0,
                  "%s", req);
    ck_assert_ptr_nonnull(strstr(req, "Content-Type: application/json\r\n"));
    char body[2048];
    int len = operator_bulk_body(body, sizeof body, "loadtest", 101, 20);
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %d\r\n", len);
    ck_assert_ptr_nonnull(strstr(req, cl));
    const char *at = strstr(req, "\r\n\r\n");
    ck_assert_ptr_nonnull(at);
    ck_assert_str_eq(at + 4, body);
    /* "body-N" is no bulk answer: counted as unparsed, and the first pass counts as failed */
    struct metrics_tagged *u = metrics_tagged_find(fx.m, OPERATOR_M_UNPARSED, "bulk-renewal",
                                                   "operator", "bulk_renew", NULL, NULL);
    ck_assert_ptr_nonnull(u);
    ck_assert_uint_eq(u->value, 3);
    struct operator_summary sum;
    operator_finish(fx.op, &sum);
    ck_assert_uint_eq(sum.campaign.failed, 120);
    ck_assert_uint_eq(sum.campaign.batches_done, 3);
    ck_assert(!operator_campaign_complete(operator_campaign_of(fx.op)));
    fixture_down(&fx);
}
END_TEST

START_TEST(test_actor_max_calls)
{
    struct operator_config oc = base_cfg;
    oc.rate_per_s = 100;
    oc.max_calls = 3; /* one pass of 3 batches, then only the progress poll */
    oc.max_in_flight = 4;
    struct fixture fx;
    fixture_up(&fx, TS_OK, &oc);
    uint64_t start = clock_now_ns();
    ck_assert_int_eq(operator_start(fx.op, start), 0);
    run_until_idle(&fx, start + 150 * MS_NS, 2 * S_NS);
    struct metrics_series *s = metrics_series_find(fx.m, "bulk-renewal", "operator", "bulk_renew");
    ck_assert_uint_eq(s->total.scheduled, 3);
    ck_assert_uint_eq(s->total.answered, 3);
    ck_assert_uint_eq(fx.srv.requests, 3);
    fixture_down(&fx);
}
END_TEST

START_TEST(test_actor_config_refused)
{
    struct event_base *base = event_base_new();
    struct metrics *m = metrics_new(false);
    struct http_conn_config cc;
    char err[256];
    ck_assert_int_eq(http_conn_config_init(&cc, "127.0.0.1", 9, NULL, err, sizeof err), 0);
    struct operator_config oc = base_cfg;
    oc.conn = &cc;
    oc.rate_per_s = 0;
    ck_assert_ptr_null(operator_new(base, &oc, m, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "--bulk-rate"));
    oc.rate_per_s = 1;
    oc.n_certs = 0;
    ck_assert_ptr_null(operator_new(base, &oc, m, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "--certs"));
    oc.n_certs = 5;
    oc.batch = OPERATOR_MAX_BATCH + 1;
    ck_assert_ptr_null(operator_new(base, &oc, m, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "--bulk-batch"));
    metrics_free(m);
    event_base_free(base);
}
END_TEST

/* Parses "fleetsim ARGS..." (argv copied: the parser may scrub it). */
static int parse_args(struct run_config *cfg, const char *const *args, char *err, size_t n)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = strdup("fleetsim");
    for (size_t i = 0; args[i]; i++)
        argv[argc++] = strdup(args[i]);
    argv[argc] = NULL;
    int rc = options_parse(argc, argv, cfg, err, n);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

START_TEST(test_preset_and_options)
{
    const struct preset *p = preset_find("bulk-renewal");
    ck_assert_ptr_nonnull(p);
    ck_assert(p->has_certs && p->certs == 10000);
    ck_assert(p->has_bulk_rate && p->bulk_rate_per_s == 5.0);
    ck_assert(p->has_bulk_batch && p->bulk_batch == 50);
    ck_assert(p->has_poll && p->poll_ns == 30 * S_NS);
    ck_assert_uint_eq(preset_threshold_count(p), 4);
    for (size_t i = 0; i < preset_threshold_count(p); i++) {
        struct threshold t;
        char err[512];
        ck_assert_msg(threshold_parse(p->thresholds[i], &t, err, sizeof err) == 0, "%s", err);
        if (i < 3) /* the campaign's; then the release gate on unserved ticks */
            ck_assert_ptr_nonnull(
                strstr(p->thresholds[i], "scenario:bulk-renewal,endpoint:bulk_renew"));
        else
            ck_assert_str_eq(p->thresholds[i],
                             "unserved_requests{scenario:bulk-renewal}:rate<0.01");
    }
    struct run_config cfg;
    char err[512];
    ck_assert_int_eq(parse_args(&cfg, (const char *const[]){"--scenario", "bulk-renewal", NULL},
                                err, sizeof err),
                     0);
    ck_assert_uint_eq(cfg.certs, 10000);
    ck_assert(cfg.bulk_rate_per_s == 5.0);
    ck_assert_uint_eq(cfg.bulk_batch, 50);
    ck_assert_uint_eq(cfg.agents, 5000);
    ck_assert_uint_eq(cfg.poll_ns, 30 * S_NS);
    ck_assert_uint_eq(cfg.duration_ns, 300 * S_NS);
    ck_assert_uint_eq(cfg.n_thresholds, 4);
    options_free(&cfg);
    /* explicit options win over the preset; the config JSON carries them */
    ck_assert_int_eq(
        parse_args(&cfg,
                   (const char *const[]){"--scenario", "bulk-renewal", "--certs", "200",
                                         "--bulk-rate", "300/m", "--bulk-batch", "20", NULL},
                   err, sizeof err),
        0);
    ck_assert_uint_eq(cfg.certs, 200);
    ck_assert(cfg.bulk_rate_per_s == 5.0);
    ck_assert_uint_eq(cfg.bulk_batch, 20);
    ck_assert(options_explicit(&cfg, RUN_OPT_CERTS) && options_explicit(&cfg, RUN_OPT_BULK_BATCH));
    json_object *j = options_config_json(&cfg);
    json_object *v = NULL;
    ck_assert(json_object_object_get_ex(j, "certs", &v) && json_object_get_int64(v) == 200);
    ck_assert(json_object_object_get_ex(j, "bulk_batch", &v) && json_object_get_int64(v) == 20);
    ck_assert(json_object_object_get_ex(j, "bulk_rate_per_s", &v) &&
              json_object_get_double(v) == 5.0);
    json_object_put(j);
    options_free(&cfg);
    /* without a preset there is no operator: no rate, default batch */
    ck_assert_int_eq(parse_args(&cfg, (const char *const[]){"--certs", "7", NULL}, err, sizeof err),
                     0);
    ck_assert(cfg.bulk_rate_per_s == 0);
    ck_assert_uint_eq(cfg.bulk_batch, OPERATOR_DEFAULT_BATCH);
    ck_assert_uint_eq(cfg.bulk_passes, 0);
    options_free(&cfg);
    ck_assert_int_eq(
        parse_args(&cfg,
                   (const char *const[]){"--scenario", "bulk-renewal", "--bulk-passes", "1", NULL},
                   err, sizeof err),
        0);
    ck_assert_uint_eq(cfg.bulk_passes, 1);
    options_free(&cfg);
}
END_TEST

int main(void)
{
    sim_names_register(NULL);
    Suite *s = suite_create("operator");
    TCase *pure = testenv_tcase(s, "pure", 0);
    tcase_add_test(pure, test_call_offsets_exact);
    tcase_add_test(pure, test_batches_cycle);
    tcase_add_test(pure, test_body_bytes);
    tcase_add_test(pure, test_parse_bulk);
    tcase_add_test(pure, test_parse_list_total);
    tcase_add_test(pure, test_campaign_rule);
    tcase_add_test(pure, test_campaign_by_later_passes);
    tcase_add_test(pure, test_preset_and_options);
    TCase *actor = testenv_tcase(s, "actor", 10);
    tcase_add_test(actor, test_actor_drops_beyond_cap);
    tcase_add_test(actor, test_actor_times_and_wire);
    tcase_add_test(actor, test_actor_max_calls);
    tcase_add_test(actor, test_actor_config_refused);
    return testenv_run(s);
}
