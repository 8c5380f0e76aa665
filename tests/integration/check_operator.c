/* tests/integration/check_operator.c - the operator against the in-process fleetsim-target
 * (plain HTTP on 127.0.0.1, limiter off, 200 seeded certificates mapped to 50 agents):
 * bulk-renew calls are answered 200, the first pass enqueues every certificate and later calls
 * are skipped while nothing renews them, the target holds one AwaitingCSR job per certificate;
 * with the fleet's agents running beside it the campaign completes (every certificate renewed
 * by the agents), through later-pass evidence and through the progress poll; and the fleetsim
 * binary runs the bulk-renewal campaign end to end. Skipped (77) with FLEETSIM_UNIT_ONLY=1. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "engine/clock.h"
#include "sim/agent.h"
#include "sim/fleet.h"
#include "sim/operator.h"
#include "refserver/server.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define MS_NS 1000000ULL
#define S_NS 1000000000ULL
#define N_CERTS 200u
#define N_AGENTS 50u
#define SCEN "bulk-renewal"

struct fx {
    struct target *t;
    struct event_base *base;
    struct http_conn_config cc;
    struct metrics *m;
    struct operator* op;
    char *hdr_get, *hdr_post;
    struct agent_settings set;
    uint64_t stop_at_ns; /* operator_stop from here on */
    bool until_complete; /* end the loop once the campaign completed */
};

static void fx_up(struct fx *f)
{
    signal(SIGPIPE, SIG_IGN);
    memset(f, 0, sizeof *f);
    struct target_config tc;
    target_config_defaults(&tc);
    tc.port = 0;
    tc.plain = true;
    tc.rate_per_s = 0;
    tc.seed_agents = N_AGENTS;
    tc.seed_certs = N_CERTS;
    tc.quiet = true;
    char err[512];
    f->t = target_start(&tc, err, sizeof err);
    ck_assert_msg(f->t != NULL, "target: %s", err);
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    f->base = event_base_new_with_config(ec);
    event_config_free(ec);
    ck_assert_int_eq(
        http_conn_config_init(&f->cc, target_host(f->t), target_port(f->t), NULL, err, sizeof err),
        0);
    f->cc.timeout_ns = 10 * S_NS;
    f->cc.max_body_bytes = 4 << 20;
    agent_settings_profile(&f->set, AGENT_PROFILE_DEFAULT);
    f->set.scenario = SCEN;
    f->set.prefix = IDENTITY_DEFAULT_PREFIX;
    f->set.seed = 7;
    f->set.os_mix = identity_default_os_mix();
    f->set.base_path = "";
    f->set.api_key = target_api_key(f->t);
    f->hdr_get = agent_headers(&f->set, false);
    f->hdr_post = agent_headers(&f->set, true);
    f->m = metrics_new(false);
}

static void fx_operator(struct fx *f, double rate, uint64_t duration_ns, uint64_t progress_ns)
{
    struct operator_config oc = {.scenario = SCEN,
                                 .prefix = IDENTITY_DEFAULT_PREFIX,
                                 .n_certs = N_CERTS,
                                 .batch = 50,
                                 .rate_per_s = rate,
                                 .progress_ns = progress_ns,
                                 .duration_ns = duration_ns,
                                 .base_path = "",
                                 .headers_get = f->hdr_get,
                                 .headers_post = f->hdr_post,
                                 .conn = &f->cc};
    char err[256];
    f->op = operator_new(f->base, &oc, f->m, err, sizeof err);
    ck_assert_msg(f->op != NULL, "%s", err);
}

static void fx_down(struct fx *f)
{
    operator_free(f->op);
    metrics_free(f->m);
    free(f->hdr_get);
    free(f->hdr_post);
    event_base_free(f->base);
    target_stop(f->t);
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fx *f = arg;
    if (f->until_complete && operator_campaign_complete(operator_campaign_of(f->op)))
        operator_stop(f->op);
    if (clock_now_ns() >= f->stop_at_ns)
        operator_stop(f->op);
    if (operator_idle(f->op))
        event_base_loopbreak(f->base);
}

/* Runs the operator's loop until it is stopped and idle, at most limit_ns. */
static void fx_run(struct fx *f, uint64_t limit_ns)
{
    struct event *w = event_new(f->base, -1, EV_PERSIST, on_watch, f);
    struct timeval every = {0, 10000};
    struct timeval lim = {(time_t)(limit_ns / S_NS), (suseconds_t)(limit_ns % S_NS / 1000)};
    event_add(w, &every);
    event_base_loopexit(f->base, &lim);
    event_base_dispatch(f->base);
    event_free(w);
}

struct got {
    struct event_base *base;
    int status;
    char *body;
};

static void on_got(const struct http_result *res, void *arg)
{
    struct got *g = arg;
    g->status = res->error == HTTP_ERR_NONE ? res->status : -1;
    g->body = strdup(res->body);
    event_base_loopbreak(g->base);
}

/* GET /_target/stats: returns the parsed object (caller puts it). */
static json_object *target_stats(struct fx *f)
{
    struct http_conn *c = http_conn_new(f->base, &f->cc);
    struct got g = {.base = f->base};
    struct http_request req = {
        .method = "GET", .path = "/_target/stats", .intended_ns = clock_now_ns()};
    ck_assert_int_eq(http_conn_send(c, &req, on_got, &g), 0);
    struct timeval lim = {5, 0};
    event_base_loopexit(f->base, &lim);
    event_base_dispatch(f->base);
    http_conn_free(c);
    ck_assert_int_eq(g.status, 200);
    json_object *o = json_tokener_parse(g.body);
    free(g.body);
    ck_assert_ptr_nonnull(o);
    return o;
}

static int64_t json_path_int(json_object *o, const char *a, const char *b)
{
    json_object *x = NULL, *y = NULL;
    if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &y))
        return -1;
    return json_object_get_int64(y);
}

static uint64_t counter(struct fx *f, const char *metric, const char *endpoint)
{
    struct metrics_tagged *t =
        metrics_tagged_find(f->m, metric, SCEN, "operator", endpoint, NULL, NULL);
    return t ? t->value : 0;
}

START_TEST(test_first_pass_then_skipped)
{
    struct fx f;
    fx_up(&f);
    /* 20 calls/s in batches of 50: one pass of 4 calls every 200 ms; 1 s = 20 calls */
    fx_operator(&f, 20, 1 * S_NS, 300 * MS_NS);
    uint64_t start = clock_now_ns();
    ck_assert_int_eq(operator_start(f.op, start), 0);
    f.stop_at_ns = start + 1100 * MS_NS;
    fx_run(&f, 5 * S_NS);
    struct metrics_series *s = metrics_series_find(f.m, SCEN, "operator", "bulk_renew");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->total.scheduled, 20);
    ck_assert_uint_eq(s->total.answered, 20);
    ck_assert_uint_eq(s->total.status[200 - METRICS_STATUS_LOWEST], 20);
    ck_assert_uint_eq(s->total.failed, 0);
    ck_assert_uint_eq(counter(&f, OPERATOR_M_MATCHED, "bulk_renew"), 20 * 50);
    ck_assert_uint_eq(counter(&f, OPERATOR_M_ENQUEUED, "bulk_renew"), N_CERTS);
    ck_assert_uint_eq(counter(&f, OPERATOR_M_SKIPPED, "bulk_renew"), 16 * 50);
    ck_assert_uint_eq(counter(&f, OPERATOR_M_FAILED, "bulk_renew"), 0);
    struct operator_summary sum;
    operator_finish(f.op, &sum);
    ck_assert_uint_eq(sum.campaign.enqueued, N_CERTS);
    ck_assert_uint_eq(sum.campaign.pending, N_CERTS);
    ck_assert_uint_eq(sum.campaign.skipped, 0);
    ck_assert_uint_eq(sum.campaign.failed, 0);
    ck_assert(!operator_campaign_complete(&sum.campaign));
    ck_assert_int_eq(sum.last_in_progress, N_CERTS); /* the progress poll read the list */
    ck_assert_uint_ge(sum.progress_polls, 3);
    ck_assert_uint_eq(counter(&f, OPERATOR_M_CAMPAIGN_PENDING, NULL), N_CERTS);
    struct metrics_series *l = metrics_series_find(f.m, SCEN, "operator", "cert_list");
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(l->total.status[200 - METRICS_STATUS_LOWEST], l->total.answered);
    json_object *st = target_stats(&f);
    ck_assert_int_eq(json_path_int(st, "jobs", "AwaitingCSR"), N_CERTS);
    json_object *req = NULL;
    ck_assert(json_object_object_get_ex(st, "requests", &req));
    ck_assert_int_eq(json_path_int(req, "bulk_renew", "200"), 20);
    json_object_put(st);
    fx_down(&f);
}
END_TEST

/* Starts 50 agents polling every 250 ms against the target. */
static struct fleet *start_fleet(struct fx *f, uint64_t start_ns)
{
    struct fleet_config fc = {0};
    fc.agent = f->set;
    fc.agent.heartbeat.interval_ns = 1 * S_NS;
    fc.agent.heartbeat.ramp_ns = 250 * MS_NS;
    fc.agent.poll.interval_ns = 250 * MS_NS;
    fc.agent.poll.ramp_ns = 250 * MS_NS;
    fc.n_agents = N_AGENTS;
    fc.shard_n = 1;
    fc.threads = 1;
    fc.conn = &f->cc;
    fc.grace_ns = 2 * S_NS;
    char err[256];
    struct fleet *fl = fleet_new(&fc, err, sizeof err);
    ck_assert_msg(fl != NULL, "%s", err);
    ck_assert_int_eq(fleet_start(fl, start_ns), 0);
    return fl;
}

/* The fleet carries out the renewals; the campaign completes with every certificate renewed.
 * duration_ns decides how: several passes (later calls re-enqueue renewed certificates) or the
 * first pass only (the progress poll reads 0 in progress). */
static void campaign_with_fleet(uint64_t duration_ns, bool later_passes)
{
    struct fx f;
    fx_up(&f);
    fx_operator(&f, 20, duration_ns, 100 * MS_NS);
    uint64_t start = clock_now_ns();
    struct fleet *fl = start_fleet(&f, start);
    ck_assert_int_eq(operator_start(f.op, start), 0);
    f.until_complete = true;
    f.stop_at_ns = start + 20 * S_NS;
    fx_run(&f, 25 * S_NS);
    fleet_stop(fl);
    fleet_join(fl);
    struct agent_counters k;
    fleet_counters(fl, &k);
    const struct operator_campaign *c = operator_campaign_of(f.op);
    ck_assert_msg(operator_campaign_complete(c),
                  "campaign incomplete: enqueued %lu renewed %lu pending %lu failed %lu; "
                  "agents: jobs %lu csr accepted %lu failed %lu",
                  (unsigned long)c->enqueued, (unsigned long)c->renewed, (unsigned long)c->pending,
                  (unsigned long)c->failed, (unsigned long)k.jobs_received,
                  (unsigned long)k.csr_accepted, (unsigned long)k.csr_failed);
    ck_assert_uint_eq(c->enqueued, N_CERTS);
    ck_assert_uint_eq(c->renewed, N_CERTS);
    ck_assert_uint_eq(c->pending, 0);
    ck_assert_uint_ge(k.csr_accepted, N_CERTS); /* the agents did the renewals */
    uint64_t d = operator_campaign_duration_ns(c);
    ck_assert_uint_gt(d, 0);
    ck_assert_uint_lt(d, 20 * S_NS);
    struct metrics_tagged *t =
        metrics_tagged_find(f.m, METRIC_CAMPAIGN_DURATION, SCEN, "operator", NULL, NULL, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(hist_count(t->trend), 1);
    struct metrics_series *s = metrics_series_find(f.m, SCEN, "operator", "bulk_renew");
    if (later_passes)
        ck_assert_uint_gt(s->total.scheduled, 4);
    else
        ck_assert_uint_eq(s->total.scheduled, 4);
    ck_assert_uint_eq(s->total.failed, 0);
    fleet_free(fl);
    fx_down(&f);
}

START_TEST(test_campaign_by_later_passes)
{
    campaign_with_fleet(15 * S_NS, true);
}
END_TEST

START_TEST(test_campaign_by_progress_poll)
{
    campaign_with_fleet(190 * MS_NS, false); /* calls at 0, 50, 100, 150 ms */
}
END_TEST

START_TEST(test_binary_bulk_renewal)
{
    char json_path[] = "/tmp/fleetsim-operator-XXXXXX";
    int fd = mkstemp(json_path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    const char *args[] = {"run",
                          "--scenario",
                          "bulk-renewal",
                          "--agents",
                          "50",
                          "--certs",
                          "200",
                          "--bulk-rate",
                          "20/s",
                          "--poll",
                          "250ms",
                          "--heartbeat",
                          "1s",
                          "--duration",
                          "6s",
                          "--grace",
                          "2s",
                          "--report-interval",
                          "0",
                          "--seed",
                          "5",
                          "--summary-json",
                          json_path,
                          NULL};
    const char *env[] = {"CERTCTL_SERVER_URL", "CERTCTL_API_KEY", NULL};
    char *out;
    int rc = procs_run("fleetsim", args, env, 60000, &out, NULL);
    json_object *o = json_object_from_file(json_path);
    unlink(json_path);
    ck_assert_msg(rc == 0, "fleetsim exited %d:\n%s", rc, testenv_tail(out));
    ck_assert_msg(strstr(out, "campaign: complete in") != NULL, "no campaign line:\n%s",
                  testenv_tail(out));
    ck_assert_ptr_nonnull(o);
    json_object *counters = NULL;
    ck_assert(json_object_object_get_ex(o, "counters", &counters));
    int64_t renewed = -1;
    for (size_t i = 0; i < json_object_array_length(counters); i++) {
        json_object *e = json_object_array_get_idx(counters, i), *m = NULL, *v = NULL;
        if (json_object_object_get_ex(e, "metric", &m) &&
            strcmp(json_object_get_string(m), OPERATOR_M_CAMPAIGN_RENEWED) == 0 &&
            json_object_object_get_ex(e, "value", &v))
            renewed = json_object_get_int64(v);
    }
    ck_assert_int_eq(renewed, N_CERTS);
    json_object_put(o);
    free(out);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    Suite *s = suite_create("operator-integration");
    TCase *tc = testenv_tcase(s, "target", 60);
    tcase_add_test(tc, test_first_pass_then_skipped);
    tcase_add_test(tc, test_campaign_by_later_passes);
    tcase_add_test(tc, test_campaign_by_progress_poll);
    tcase_add_test(tc, test_binary_bulk_renewal);
    return testenv_run(s);
}
