/* tests/integration/check_acme_pebble.c - fleetsim's ACME client actors against Pebble, an
 * independent ACME server (Debian's pebble 2.4 on 127.0.0.1, tests/lib/pebble.h): one actor
 * completes 100 full orders with Pebble's 5 % badNonce rejection left on (every rejection
 * resent, every certificate chaining to Pebble's root and naming its order), a baseline without
 * rejections on an RS256 account, EdDSA refused and counted, and burst mode. Skips (77) with
 * FLEETSIM_UNIT_ONLY=1 or when no pebble binary is installed. */
#include "sim/acme.h"

#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "engine/clock.h"
#include "engine/tls.h"
#include "tests/lib/acme_run.h"
#include "tests/lib/pebble.h"
#include "tests/lib/testenv.h"
#include "tests/lib/x509_check.h"

#define NS_PER_MS 1000000ULL
#define WAIT_LIMIT_NS (90ULL * 1000000000ULL)
#define ORDERS 100

struct run {
    struct pebble pb;
    SSL_CTX *ssl;
    struct http_conn_config cc;
    struct acme_config cfg;
    struct acme_group *g;
    struct metrics *m;
    struct acme_counters k;
    struct acme_run_certs certs;
};

static void run_start_pebble(struct run *r, bool set_reject, int reject_pct)
{
    memset(r, 0, sizeof *r);
    acme_run_certs_init(&r->certs);
    char err[300];
    struct pebble_options o = {.set_nonce_reject = set_reject, .nonce_reject_pct = reject_pct};
    ck_assert_msg(pebble_start(&r->pb, &o, err, sizeof err) == 0, "%s", err);
    r->ssl = tls_client_ctx_new(r->pb.ca_path, false, err, sizeof err);
    ck_assert_msg(r->ssl != NULL, "%s", err);
    ck_assert_int_eq(
        http_conn_config_init(&r->cc, "127.0.0.1", r->pb.port, r->ssl, err, sizeof err), 0);
    r->cc.timeout_ns = 10000 * NS_PER_MS; /* Pebble can deadlock: every request is bounded */
    acme_config_defaults(&r->cfg);
    r->cfg.scenario = "pebble";
    r->cfg.directory_url = r->pb.dir_url;
    r->cfg.conn = &r->cc;
    r->cfg.pace_ns = 0;
    r->cfg.backoff_min_ns = 10 * NS_PER_MS;
    r->cfg.backoff_max_ns = 50 * NS_PER_MS;
    r->cfg.poll_base_ns = 5 * NS_PER_MS;
    r->cfg.poll_max_ns = 200 * NS_PER_MS;
    r->cfg.grace_ns = 2000 * NS_PER_MS;
    r->cfg.seed = 11;
    r->cfg.on_cert = acme_run_keep_cert;
    r->cfg.on_cert_arg = &r->certs;
}

/* Runs the group until every actor reached max_iterations (bounded), then collects. */
static void run_go(struct run *r)
{
    char stuck[PEBBLE_PATH_MAX + 96];
    snprintf(stuck, sizeof stuck, "the actors did not finish within 90 s (Pebble stuck?); log %s",
             r->pb.log_path);
    struct metrics_accounting acc;
    r->g = acme_run_go(&r->cfg, WAIT_LIMIT_NS, stuck, &r->m, &r->k, &acc);
    ck_assert_int_eq(acc.in_flight, 0);
}

static void run_free(struct run *r)
{
    acme_group_free(r->g);
    metrics_free(r->m);
    acme_run_certs_free(&r->certs);
    SSL_CTX_free(r->ssl);
    pebble_stop(&r->pb);
}

/* Sums of the request outcomes over every series. */
static void totals(const struct metrics *m, struct metrics_outcomes *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < metrics_series_count(m); i++)
        metrics_outcomes_add(out, &metrics_series_at(m, i)->total);
}

/* Sum of the counter `metric` with extra tag key=value over every endpoint. */
static uint64_t counter_sum(const struct metrics *m, const char *metric, const char *key,
                            const char *value)
{
    uint64_t n = 0;
    for (size_t i = 0; i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *t = metrics_tagged_at(m, i);
        if (strcmp(t->metric, metric) == 0 &&
            (!key || (t->tag_key && t->tag_value && strcmp(t->tag_key, key) == 0 &&
                      strcmp(t->tag_value, value) == 0)))
            n += t->value;
    }
    return n;
}

/* Every certificate parses, chains to Pebble's root and names the order it was made for. */
static void check_chains(struct run *r, X509 *root)
{
    X509_STORE *store = X509_STORE_new();
    ck_assert_int_eq(X509_STORE_add_cert(store, root), 1);
    for (size_t i = 0; i < r->certs.n; i++) {
        char what[48];
        int n_rest;
        snprintf(what, sizeof what, "certificate %zu", i);
        X509 *leaf = tx509_verified_leaf(r->certs.pem[i], store, what, &n_rest);
        ck_assert_int_ge(n_rest, 1); /* Pebble sends its intermediate */
        char name[128];
        snprintf(name, sizeof name, "acme-%05u-%zu.acme.example.test", r->certs.actor[i], i + 1);
        ck_assert_msg(X509_check_host(leaf, name, 0, 0, NULL) == 1, "certificate %zu lacks %s", i,
                      name);
        X509_free(leaf);
    }
    X509_STORE_free(store);
}

static X509 *fetch_root(const struct run *r)
{
    char *pem = NULL, err[300];
    ck_assert_msg(pebble_mgmt_get(&r->pb, "/roots/0", &pem, NULL, err, sizeof err) == 0, "%s", err);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *root = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    ck_assert_ptr_nonnull(root);
    return root;
}

START_TEST(t_hundred_orders_with_bad_nonces)
{
    struct run r;
    run_start_pebble(&r, false, 0); /* Pebble's default: 5 % of nonces rejected */
    r.cfg.n_clients = 1;
    r.cfg.mode = ACME_MODE_ORDER;
    r.cfg.max_iterations = ORDERS;
    run_go(&r);
    ck_assert_uint_eq(r.k.completed, ORDERS);
    ck_assert_uint_eq(r.k.failed, 0);
    ck_assert_uint_eq(r.k.abandoned, 0);
    ck_assert_uint_eq(r.k.accounts_created, 1);
    ck_assert_uint_eq(counter_sum(r.m, METRIC_ACME_ORDERS_COMPLETED, NULL, NULL), ORDERS);
    /* Pebble 2.4 offers no renewalInfo; a newer one would be checked */
    ck_assert_uint_eq(r.k.renewal_info_skipped + r.k.renewal_info_ok, ORDERS);
    ck_assert_uint_eq(r.k.renewal_info_failed, 0);
    uint64_t bad = counter_sum(r.m, METRIC_ACME_PROBLEMS, SIM_TAG_PROBLEM, "badNonce");
    ck_assert_uint_gt(bad, 0);
    ck_assert_uint_eq(r.k.bad_nonce_retries, bad);
    /* no unexplained errors: the only failed requests are the badNonce answers */
    struct metrics_outcomes t;
    totals(r.m, &t);
    ck_assert_uint_eq(t.failed, bad);
    ck_assert_uint_eq(counter_sum(r.m, METRIC_ACME_PROBLEMS, NULL, NULL), bad);
    ck_assert_uint_eq(metrics_outcomes_errors(&t), 0);
    ck_assert_uint_eq(t.timed_out, 0);
    ck_assert_uint_eq(t.status_class[4], bad);
    ck_assert_uint_eq(t.status_class[5], 0);
    /* Pebble's paths differ from certctl's: challenges were answered and orders polled */
    ck_assert_uint_ge(metrics_series_find(r.m, "pebble", "acme", "acme_challenge")->total.answered,
                      ORDERS);
    ck_assert_uint_eq(r.certs.n, ORDERS);
    X509 *root = fetch_root(&r);
    check_chains(&r, root);
    X509_free(root);
    printf("pebble: %u orders, %" PRIu64 " badNonce answers resent\n", ORDERS, bad);
    run_free(&r);
}
END_TEST

START_TEST(t_rs256_baseline_without_rejections)
{
    struct run r;
    run_start_pebble(&r, true, 0);
    r.cfg.n_clients = 2;
    r.cfg.mode = ACME_MODE_ORDER;
    r.cfg.key_alg = ACME_KEY_RS256;
    r.cfg.max_iterations = 5;
    run_go(&r);
    ck_assert_uint_eq(r.k.completed, 10);
    ck_assert_uint_eq(r.k.accounts_created, 2);
    struct metrics_outcomes t;
    totals(r.m, &t);
    ck_assert_uint_eq(t.failed, 0);
    ck_assert_uint_eq(r.k.bad_nonce_retries, 0);
    ck_assert_uint_eq(r.certs.n, 10);
    run_free(&r);
}
END_TEST

START_TEST(t_eddsa_refused_and_counted)
{
    struct run r;
    run_start_pebble(&r, true, 0);
    r.cfg.n_clients = 1;
    r.cfg.mode = ACME_MODE_ORDER;
    r.cfg.key_alg = ACME_KEY_EDDSA;
    r.cfg.max_iterations = 2;
    run_go(&r);
    ck_assert_uint_eq(r.k.failed, 2);
    ck_assert_uint_eq(r.k.completed, 0);
    uint64_t refused =
        counter_sum(r.m, ACME_METRIC_ORDERS_FAILED, ACME_TAG_REASON, "badPublicKey") +
        counter_sum(r.m, ACME_METRIC_ORDERS_FAILED, ACME_TAG_REASON, "badSignatureAlgorithm");
    ck_assert_uint_eq(refused, 2);
    ck_assert_uint_eq(metrics_series_find(r.m, "pebble", "acme", "acme_account")->total.failed, 2);
    run_free(&r);
}
END_TEST

START_TEST(t_burst_against_pebble)
{
    struct run r;
    run_start_pebble(&r, true, 0);
    r.cfg.n_clients = 4;
    r.cfg.mode = ACME_MODE_BURST;
    r.cfg.pace_ns = 50 * NS_PER_MS;
    r.cfg.max_iterations = 3;
    run_go(&r);
    ck_assert_uint_eq(r.k.completed, 12);
    ck_assert_uint_eq(metrics_series_find(r.m, "pebble", "acme", "acme_directory")->total.answered,
                      12);
    ck_assert_uint_eq(metrics_series_find(r.m, "pebble", "acme", "acme_nonce")->total.answered, 12);
    struct metrics_outcomes t;
    totals(r.m, &t);
    ck_assert_uint_eq(t.failed, 0);
    run_free(&r);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    if (!pebble_binary()) {
        printf("SKIP: check_acme_pebble: no pebble binary on PATH (apt-get install pebble, or set "
               "FLEETSIM_PEBBLE)\n");
        return 77;
    }
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("acme_pebble");
    TCase *tc = testenv_tcase(s, "pebble", 150);
    tcase_add_test(tc, t_hundred_orders_with_bad_nonces);
    tcase_add_test(tc, t_rs256_baseline_without_rejections);
    tcase_add_test(tc, t_eddsa_refused_and_counted);
    tcase_add_test(tc, t_burst_against_pebble);
    return testenv_run(s);
}
