/* tests/integration/check_acme_client_vs_refserver.c - fleetsim's ACME client actors against fleetsim-target
 * started in-process (target_start, HTTPS with its generated CA): 8 concurrent actors complete
 * 120 orders whose certificates parse and chain to the target's CA (counts cross-checked with
 * the target's /_target/stats), a tight per-account order
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
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "engine/clock.h"
#include "engine/tls.h"
#include "refserver/server.h"
#include "tests/integration/refserver_client.h"
#include "tests/lib/acme_run.h"
#include "tests/lib/testenv.h"
#include "tests/lib/x509_check.h"

#define NS_PER_MS 1000000ULL
#define WAIT_LIMIT_NS (60ULL * 1000000000ULL)
/* The concurrency test: actors x orders each, under a per-account hourly limit above that. */
#define CONC_ACTORS 8u
#define CONC_ORDERS_EACH 15u
#define CONC_ORDERS (CONC_ACTORS * CONC_ORDERS_EACH)
#define CONC_ORDERS_PER_HOUR 1000u

struct run {
    struct target *t;
    SSL_CTX *ssl;
    struct http_conn_config cc;
    char dir_url[256];
    struct acme_config cfg;
    struct acme_group *g;
    struct metrics *m;
    struct acme_counters k;
    struct acme_run_certs certs;
};

static void run_start_target(struct run *r, uint32_t orders_per_hour, uint32_t active_orders)
{
    memset(r, 0, sizeof *r);
    acme_run_certs_init(&r->certs);
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
                                           err, sizeof err),
                     0);
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
    r->cfg.on_cert = acme_run_keep_cert;
    r->cfg.on_cert_arg = &r->certs;
}

static void run_go(struct run *r)
{
    struct metrics_accounting acc;
    r->g = acme_run_go(&r->cfg, WAIT_LIMIT_NS, "the actors did not finish in time", &r->m, &r->k,
                       &acc);
    ck_assert_int_eq(acc.in_flight, 0);
}

static void run_free(struct run *r)
{
    acme_group_free(r->g);
    metrics_free(r->m);
    target_stop(r->t);
    SSL_CTX_free(r->ssl);
    acme_run_certs_free(&r->certs);
}

/* Every downloaded chain parses, its leaf verifies against the target's CA file (with the rest
 * of the chain as intermediates), names an order of the actor that fetched it, and no serial
 * repeats. Returns the number of chains checked. */
static size_t check_chains(const struct run *r)
{
    X509_STORE *store = X509_STORE_new();
    ck_assert_int_eq(X509_STORE_load_file(store, target_ca_path(r->t)), 1);
    char(*serials)[80] = calloc(r->certs.n, sizeof *serials);
    ck_assert_ptr_nonnull(serials);
    for (size_t i = 0; i < r->certs.n; i++) {
        char what[48];
        snprintf(what, sizeof what, "certificate %zu", i);
        X509 *leaf = tx509_verified_leaf(r->certs.pem[i], store, what, NULL);
        /* fleetsim names its orders acme-<actor, %05u>-<n>.<suffix> */
        char prefix[64];
        snprintf(prefix, sizeof prefix, "acme-%05u-", r->certs.actor[i]);
        GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
        ck_assert_ptr_nonnull(sans);
        ck_assert_int_eq(sk_GENERAL_NAME_num(sans), 1);
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, 0);
        ck_assert_int_eq(gn->type, GEN_DNS);
        const char *dns = (const char *)ASN1_STRING_get0_data(gn->d.dNSName);
        ck_assert_msg(strncmp(dns, prefix, strlen(prefix)) == 0, "%s is not actor %u's", dns,
                      r->certs.actor[i]);
        ck_assert_int_eq(X509_check_host(leaf, dns, 0, 0, NULL), 1);
        GENERAL_NAMES_free(sans);
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
        char *hex = BN_bn2hex(bn);
        snprintf(serials[i], sizeof serials[i], "%s", hex);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(serials[j], serials[i]) != 0, "serial %s issued twice", hex);
        OPENSSL_free(hex);
        BN_free(bn);
        X509_free(leaf);
    }
    free(serials);
    X509_STORE_free(store);
    return r->certs.n;
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
    json_object *o = tc_stats(c);
    int64_t v =
        json_object_get_int64(tc_member(tc_member(tc_member(o, "requests"), endpoint), status));
    json_object_put(o);
    tc_free(c);
    return v;
}

START_TEST(t_concurrent_orders)
{
    struct run r;
    /* more orders per account than certctl's default hourly limit (100) would allow over a
     * longer run: the limit is raised so that only concurrency is under test here */
    run_start_target(&r, CONC_ORDERS_PER_HOUR, 0);
    r.cfg.mode = ACME_MODE_ORDER;
    r.cfg.n_clients = CONC_ACTORS;
    r.cfg.max_iterations = CONC_ORDERS_EACH;
    run_go(&r);
    ck_assert_uint_ge(CONC_ORDERS, 100);
    ck_assert_uint_eq(r.k.completed, CONC_ORDERS);
    ck_assert_uint_eq(r.k.failed, 0);
    ck_assert_uint_eq(r.k.abandoned, 0);
    ck_assert_uint_eq(r.k.accounts_created, CONC_ACTORS);
    /* the target offers renewalInfo for its certs */
    ck_assert_uint_eq(r.k.renewal_info_ok, CONC_ORDERS);
    ck_assert_uint_eq(failed_requests(r.m), 0);
    ck_assert_uint_eq(outcomes(&r, "acme_order")->status[201 - 100], CONC_ORDERS);
    ck_assert_uint_eq(outcomes(&r, "acme_finalize")->status[200 - 100], CONC_ORDERS);
    ck_assert_uint_eq(outcomes(&r, "acme_cert")->status[200 - 100], CONC_ORDERS);
    ck_assert_uint_eq(outcomes(&r, "acme_challenge")->scheduled, 0); /* trust_authenticated */
    /* what the server saw is what the client counted */
    ck_assert_int_eq(target_count(&r, "acme_finalize", "200"), CONC_ORDERS);
    ck_assert_int_eq(target_count(&r, "acme_cert", "200"), CONC_ORDERS);
    ck_assert_int_eq(target_count(&r, "acme_renewal_info", "200"), CONC_ORDERS);
    ck_assert_int_eq(target_count(&r, "acme_account", "201"), CONC_ACTORS);
    /* every certificate parses and chains to the target's CA */
    ck_assert_uint_eq(check_chains(&r), CONC_ORDERS);
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
    const struct metrics_tagged *p = metrics_tagged_find(
        r.m, METRIC_ACME_PROBLEMS, "target", "acme", "acme_order", "problem", "rateLimited");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->value, 6);
    const struct metrics_tagged *f = metrics_tagged_find(
        r.m, ACME_METRIC_ORDERS_FAILED, "target", "acme", NULL, ACME_TAG_REASON, "rateLimited");
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
    ck_assert_int_eq(
        acme_certctl_profile_ensure(&r.cc, "", key, "prof-acme-test", &created, err, sizeof err),
        0);
    ck_assert(created);
    ck_assert_int_eq(
        acme_certctl_profile_ensure(&r.cc, "", key, "prof-acme-test", &created, err, sizeof err),
        0);
    ck_assert(!created);
    ck_assert_int_eq(acme_certctl_profile_ensure(&r.cc, "", key, TARGET_DEFAULT_ACME_PROFILE,
                                                 &created, err, sizeof err),
                     0);
    ck_assert(!created);
    ck_assert_int_eq(acme_certctl_profile_ensure(&r.cc, "", "wrong-key", "prof-other", &created,
                                                 err, sizeof err),
                     -EACCES);
    ck_assert_ptr_nonnull(strstr(err, "401"));
    ck_assert_ptr_null(strstr(err, key)); /* the key is never printed */
    snprintf(url, sizeof url, "https://%s:%u/acme/profile/prof-acme-test/directory",
             target_host(r.t), target_port(r.t));
    ck_assert_int_eq(acme_directory_check(&r.cc, url, key, &ari, err, sizeof err), 0);
    ck_assert(ari);
    snprintf(url, sizeof url, "https://%s:%u/acme/profile/prof-missing/directory", target_host(r.t),
             target_port(r.t));
    ck_assert_int_eq(acme_directory_check(&r.cc, url, key, &ari, err, sizeof err), -EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "404"));
    run_free(&r);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("acme_target");
    TCase *tc = testenv_tcase(s, "target", 90);
    tcase_add_test(tc, t_concurrent_orders);
    tcase_add_test(tc, t_rate_limit_counted_and_shaped);
    tcase_add_test(tc, t_burst_counts);
    tcase_add_test(tc, t_preflight_profile);
    return testenv_run(s);
}
