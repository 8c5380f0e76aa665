/* tests/integration/check_acme_target.c - fleetsim's ACME client actors against fleetsim-target
 * started in-process (target_start, HTTPS with its generated CA): concurrent actors complete
 * orders (counts cross-checked with the target's /_target/stats), a tight per-account order
 * limit produces 429s that all pass the rate-limit shape check, burst mode, and the certctl
 * pre-flight (profile created through the API, directory answering JSON, key rejected).
 * Skips (77) with FLEETSIM_UNIT_ONLY=1. */
#include "sim/acme.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "engine/clock.h"
#include "engine/tls.h"
#include "target/target.h"
#include "tests/integration/target_client.h"

#define NS_PER_MS 1000000ULL
#define WAIT_LIMIT_NS (60ULL * 1000000000ULL)

struct run {
    struct target *t;
    SSL_CTX *ssl;
    struct http_conn_config cc;
    char dir_url[256];
    struct acme_config cfg;
    struct acme_group *g;
    struct metrics *m;
    struct acme_counters k;
};

static void run_start_target(struct run *r, uint32_t orders_per_hour, uint32_t active_orders)
{
    memset(r, 0, sizeof *r);
    struct target_config tc;
    target_config_defaults(&tc);
    tc.port = 0;
    tc.rate_per_s = 0;
    tc.quiet = true;
    tc.acme_orders_per_hour = orders_per_hour;
    tc.acme_active_orders = active_orders;
    char err[300];
    r->t = target_start(&tc, err, sizeof err);
    ck_assert_msg(r->t != NULL, "%s", err);
    ck_assert(target_is_tls(r->t));
    r->ssl = tls_client_ctx_new(target_ca_path(r->t), false, err, sizeof err);
    ck_assert_msg(r->ssl != NULL, "%s", err);
    ck_assert_int_eq(http_conn_config_init(&r->cc, target_host(r->t), target_port(r->t), r->ssl,
                                           err, sizeof err), 0);
    r->cc.timeout_ns = 5000 * NS_PER_MS;
    snprintf(r->dir_url, sizeof r->dir_url, "https://%s:%u/acme/profile/%s/directory",
             target_host(r->t), target_port(r->t), TARGET_DEFAULT_ACME_PROFILE);
    acme_config_defaults(&r->cfg);
    r->cfg.scenario = "target";
    r->cfg.directory_url = r->dir_url;
    r->cfg.conn = &r->cc;
    r->cfg.api_key = target_api_key(r->t); /* certctl wants the key on /acme/ too */
    r->cfg.pace_ns = 0;
    r->cfg.backoff_min_ns = 10 * NS_PER_MS;
    r->cfg.backoff_max_ns = 20 * NS_PER_MS;
    r->cfg.poll_base_ns = 2 * NS_PER_MS;
    r->cfg.threads = 2;
    r->cfg.seed = 3;
}

static void run_go(struct run *r)
{
    char err[200];
    r->g = acme_group_new(&r->cfg, err, sizeof err);
    ck_assert_msg(r->g != NULL, "%s", err);
    uint64_t t0 = clock_now_ns();
    ck_assert_int_eq(acme_group_start(r->g, t0), 0);
    while (!acme_group_finished(r->g) && clock_now_ns() - t0 < WAIT_LIMIT_NS)
        usleep(5000);
    ck_assert_msg(acme_group_finished(r->g), "the actors did not finish in time");
    acme_group_join(r->g);
    r->m = metrics_new(false);
    ck_assert_int_eq(acme_group_metrics_merge(r->g, r->m), 0);
    acme_group_counters(r->g, &r->k);
    struct metrics_accounting acc;
    metrics_accounting(r->m, &acc);
    ck_assert(metrics_accounting_balanced(&acc, 0));
    ck_assert_uint_eq(r->k.started, r->k.completed + r->k.failed + r->k.abandoned);
}

static void run_free(struct run *r)
{
    acme_group_free(r->g);
    metrics_free(r->m);
    target_stop(r->t);
    SSL_CTX_free(r->ssl);
}

static const struct metrics_outcomes *outcomes(const struct run *r, const char *ep)
{
    const struct metrics_series *s = metrics_series_find(r->m, "target", "acme", ep);
    ck_assert_ptr_nonnull(s);
    return &s->total;
}

static uint64_t failed_requests(const struct metrics *m)
{
    uint64_t n = 0;
    for (size_t i = 0; i < metrics_series_count(m); i++)
        n += metrics_series_at(m, i)->total.failed;
    return n;
}

/* The target's own count of answers with status for endpoint (GET /_target/stats). */
static int64_t target_count(const struct run *r, const char *endpoint, const char *status)
{
    struct tc *c = tc_new(target_port(r->t), true, target_ca_path(r->t));
    struct tc_resp resp;
    tc_request(c, "GET", "/_target/stats", NULL, NULL, NULL, &resp);
    ck_assert_int_eq(resp.status, 200);
    json_object *o = json_tokener_parse(resp.body), *req, *ep, *n;
    int64_t v = 0;
    if (json_object_object_get_ex(o, "requests", &req) &&
        json_object_object_get_ex(req, endpoint, &ep) && json_object_object_get_ex(ep, status, &n))
        v = json_object_get_int64(n);
    json_object_put(o);
    tc_resp_free(&resp);
    tc_free(c);
    return v;
}

START_TEST(t_concurrent_orders)
{
    struct run r;
    run_start_target(&r, 0, 0);
    r.cfg.mode = ACME_MODE_ORDER;
    r.cfg.n_clients = 6;
    r.cfg.max_iterations = 4;
    run_go(&r);
    ck_assert_uint_eq(r.k.completed, 24);
    ck_assert_uint_eq(r.k.failed, 0);
    ck_assert_uint_eq(r.k.accounts_created, 6);
    ck_assert_uint_eq(r.k.renewal_info_ok, 24); /* the target offers renewalInfo for its certs */
    ck_assert_uint_eq(failed_requests(r.m), 0);
    ck_assert_uint_eq(outcomes(&r, "acme_order")->status[201 - 100], 24);
    ck_assert_uint_eq(outcomes(&r, "acme_finalize")->status[200 - 100], 24);
    ck_assert_uint_eq(outcomes(&r, "acme_cert")->status[200 - 100], 24);
    ck_assert_uint_eq(outcomes(&r, "acme_challenge")->scheduled, 0); /* trust_authenticated */
    /* what the server saw is what the client counted */
    ck_assert_int_eq(target_count(&r, "acme_finalize", "200"), 24);
    ck_assert_int_eq(target_count(&r, "acme_cert", "200"), 24);
    ck_assert_int_eq(target_count(&r, "acme_renewal_info", "200"), 24);
    ck_assert_int_eq(target_count(&r, "acme_account", "201"), 6);
    run_free(&r);
}
END_TEST

START_TEST(t_rate_limit_counted_and_shaped)
{
    struct run r;
    run_start_target(&r, 3, 0); /* 3 orders per account per hour */
    r.cfg.mode = ACME_MODE_ORDER;
    r.cfg.n_clients = 3;
    r.cfg.max_iterations = 5;
    run_go(&r);
    ck_assert_uint_eq(r.k.completed, 9);
    ck_assert_uint_eq(r.k.failed, 6);
    const struct metrics_outcomes *o = outcomes(&r, "acme_order");
    ck_assert_uint_eq(o->status[429 - 100], 6);
    const struct metrics_tagged *shape = metrics_tagged_find(
        r.m, METRIC_ACME_RATE_LIMIT_SHAPE_OK, "target", "acme", "acme_order", NULL, NULL);
    ck_assert_ptr_nonnull(shape);
    ck_assert_uint_gt(shape->total, 0);
    ck_assert_uint_eq(shape->total, 6);
    ck_assert_uint_eq(shape->value, shape->total); /* every 429 was problem+json rateLimited */
    const struct metrics_tagged *p = metrics_tagged_find(r.m, METRIC_ACME_PROBLEMS, "target",
                                                         "acme", "acme_order", "problem",
                                                         "rateLimited");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->value, 6);
    const struct metrics_tagged *f = metrics_tagged_find(r.m, ACME_METRIC_ORDERS_FAILED, "target",
                                                         "acme", NULL, ACME_TAG_REASON,
                                                         "rateLimited");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->value, 6);
    ck_assert_uint_eq(failed_requests(r.m), 6);
    ck_assert_int_eq(target_count(&r, "acme_order", "429"), 6);
    run_free(&r);
}
END_TEST

START_TEST(t_burst_counts)
{
    struct run r;
    run_start_target(&r, 0, 0);
    r.cfg.mode = ACME_MODE_BURST;
    r.cfg.n_clients = 5;
    r.cfg.max_iterations = 3;
    r.cfg.pace_ns = 30 * NS_PER_MS;
    run_go(&r);
    ck_assert_uint_eq(r.k.completed, 15);
    ck_assert_uint_eq(outcomes(&r, "acme_directory")->status[200 - 100], 15);
    ck_assert_uint_eq(outcomes(&r, "acme_nonce")->answered, 15);
    ck_assert_uint_eq(outcomes(&r, "acme_renewal_info")->status[404 - 100], 15);
    ck_assert_uint_eq(failed_requests(r.m), 0);
    ck_assert_int_eq(target_count(&r, "acme_renewal_info", "404"), 15);
    ck_assert_int_eq(target_count(&r, "acme_directory", "200"), 15);
    run_free(&r);
}
END_TEST

START_TEST(t_preflight_profile)
{
    struct run r;
    run_start_target(&r, 0, 0);
    char err[400], url[256];
    bool created = false, ari = false;
    const char *key = target_api_key(r.t);
    ck_assert_int_eq(acme_certctl_profile_ensure(&r.cc, "", key, "prof-acme-test", &created, err,
                                                 sizeof err), 0);
    ck_assert(created);
    ck_assert_int_eq(acme_certctl_profile_ensure(&r.cc, "", key, "prof-acme-test", &created, err,
                                                 sizeof err), 0);
    ck_assert(!created);
    ck_assert_int_eq(acme_certctl_profile_ensure(&r.cc, "", key, TARGET_DEFAULT_ACME_PROFILE,
                                                 &created, err, sizeof err), 0);
    ck_assert(!created);
    ck_assert_int_eq(acme_certctl_profile_ensure(&r.cc, "", "wrong-key", "prof-other", &created,
                                                 err, sizeof err), -EACCES);
    ck_assert_ptr_nonnull(strstr(err, "401"));
    ck_assert_ptr_null(strstr(err, key)); /* the key is never printed */
    snprintf(url, sizeof url, "https://%s:%u/acme/profile/prof-acme-test/directory",
             target_host(r.t), target_port(r.t));
    ck_assert_int_eq(acme_directory_check(&r.cc, url, key, &ari, err, sizeof err), 0);
    ck_assert(ari);
    snprintf(url, sizeof url, "https://%s:%u/acme/profile/prof-missing/directory",
             target_host(r.t), target_port(r.t));
    ck_assert_int_eq(acme_directory_check(&r.cc, url, key, &ari, err, sizeof err), -EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "404"));
    run_free(&r);
}
END_TEST

int main(void)
{
    const char *unit = getenv("FLEETSIM_UNIT_ONLY");
    if (unit && strcmp(unit, "1") == 0)
        return 77;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("acme_target");
    TCase *tc = tcase_create("target");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, t_concurrent_orders);
    tcase_add_test(tc, t_rate_limit_counted_and_shaped);
    tcase_add_test(tc, t_burst_counts);
    tcase_add_test(tc, t_preflight_profile);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
