/* tests/unit/check_acme_client.c - the ACME client actors (sim/acme.h): the pure protocol
 * helpers, then whole actor groups against an in-process ACME server (refserver/acmesrv on
 * plain HTTP, 127.0.0.1, its own thread) with injected faults in front of it: badNonce
 * answers without a nonce, 429s of both shapes, requests never answered, foreign URLs, an HTML
 * directory; every outcome must be counted and the accounting must balance. */
#include "sim/acme.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "engine/clock.h"
#include "engine/jose.h"
#include "sim/acme_proto.h"
#include "sim/csr.h"
#include "refserver/acmesrv.h"
#include "refserver/ca.h"
#include "tests/lib/acme_run.h"
#include "tests/lib/httpd_fx.h"
#include "tests/lib/testenv.h"

#define PROFILE "p"
#define PREFIX "/acme/profile/" PROFILE "/"
#define WAIT_LIMIT_NS (20ULL * 1000000000ULL)
#define MS (1000000ULL)

/* ---- pure helpers ---- */

START_TEST(t_directory_parse)
{
    static const char ok[] = "{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/acc\","
                             "\"newOrder\":\"https://a/o\",\"renewalInfo\":\"https://a/ri\","
                             "\"meta\":{}}";
    struct acme_directory d;
    char err[128];
    ck_assert_int_eq(acme_directory_parse(ok, strlen(ok), &d, err, sizeof err), 0);
    ck_assert_str_eq(d.new_nonce, "https://a/n");
    ck_assert_str_eq(d.new_account, "https://a/acc");
    ck_assert_str_eq(d.new_order, "https://a/o");
    ck_assert_str_eq(d.renewal_info, "https://a/ri");
    acme_directory_clear(&d);
    ck_assert_ptr_null(d.new_nonce);
    static const char pebble[] = "{\"newNonce\":\"x\",\"newAccount\":\"y\",\"newOrder\":\"z\"}";
    ck_assert_int_eq(acme_directory_parse(pebble, strlen(pebble), &d, err, sizeof err), 0);
    ck_assert_ptr_null(d.renewal_info);
    acme_directory_clear(&d);
    static const char missing[] = "{\"newNonce\":\"x\",\"newOrder\":\"z\"}";
    ck_assert_int_eq(acme_directory_parse(missing, strlen(missing), &d, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "newAccount"));
    static const char html[] = "<!doctype html><html></html>";
    ck_assert_int_eq(acme_directory_parse(html, strlen(html), &d, err, sizeof err), -EINVAL);
    static const char number[] = "{\"newNonce\":1,\"newAccount\":\"y\",\"newOrder\":\"z\"}";
    ck_assert_int_eq(acme_directory_parse(number, strlen(number), &d, err, sizeof err), -EINVAL);
}
END_TEST

START_TEST(t_order_authz_parse)
{
    static const char order[] =
        "{\"status\":\"pending\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.b\"}],"
        "\"authorizations\":[\"https://h/authz/1\",\"https://h/authz/2\"],"
        "\"finalize\":\"https://h/fin/1\"}";
    struct acme_order_info o;
    char err[128];
    ck_assert_int_eq(acme_order_info_parse(order, strlen(order), &o, err, sizeof err), 0);
    ck_assert_int_eq(o.status, ACME_ST_PENDING);
    ck_assert_uint_eq(o.n_authz, 2);
    ck_assert_str_eq(o.authz[1], "https://h/authz/2");
    ck_assert_str_eq(o.finalize, "https://h/fin/1");
    ck_assert_ptr_null(o.certificate);
    acme_order_info_clear(&o);
    static const char valid[] = "{\"status\":\"valid\",\"finalize\":\"f\",\"certificate\":\"c\"}";
    ck_assert_int_eq(acme_order_info_parse(valid, strlen(valid), &o, err, sizeof err), 0);
    ck_assert_int_eq(o.status, ACME_ST_VALID);
    ck_assert_str_eq(o.certificate, "c");
    acme_order_info_clear(&o);
    static const char nofin[] = "{\"status\":\"ready\"}";
    ck_assert_int_eq(acme_order_info_parse(nofin, strlen(nofin), &o, err, sizeof err), -EINVAL);
    static const char many[] = "{\"status\":\"ready\",\"finalize\":\"f\",\"authorizations\":"
                               "[\"1\",\"2\",\"3\",\"4\",\"5\"]}";
    ck_assert_int_eq(acme_order_info_parse(many, strlen(many), &o, err, sizeof err), -EINVAL);
    static const char weird[] = "{\"status\":\"sleeping\",\"finalize\":\"f\"}";
    ck_assert_int_eq(acme_order_info_parse(weird, strlen(weird), &o, err, sizeof err), -EINVAL);

    static const char authz[] =
        "{\"status\":\"pending\",\"challenges\":[{\"type\":\"dns-01\",\"url\":\"https://h/c/d\","
        "\"status\":\"pending\"},{\"type\":\"http-01\",\"url\":\"https://h/c/h\",\"status\":"
        "\"pending\"},{\"type\":\"tls-alpn-01\",\"url\":\"https://h/c/t\"}]}";
    struct acme_authz_info z;
    ck_assert_int_eq(acme_authz_info_parse(authz, strlen(authz), &z, err, sizeof err), 0);
    ck_assert_int_eq(z.status, ACME_ST_PENDING);
    ck_assert_str_eq(z.challenge, "https://h/c/h");
    ck_assert_int_eq(z.challenge_status, ACME_ST_PENDING);
    acme_authz_info_clear(&z);
    static const char only_dns[] = "{\"status\":\"valid\",\"challenges\":[{\"type\":\"dns-01\","
                                   "\"url\":\"u\",\"status\":\"valid\"}]}";
    ck_assert_int_eq(acme_authz_info_parse(only_dns, strlen(only_dns), &z, err, sizeof err), 0);
    ck_assert_int_eq(z.status, ACME_ST_VALID);
    ck_assert_str_eq(z.challenge, "u");
    acme_authz_info_clear(&z);
    static const char none[] = "{\"status\":\"pending\"}";
    ck_assert_int_eq(acme_authz_info_parse(none, strlen(none), &z, err, sizeof err), 0);
    ck_assert_ptr_null(z.challenge);
    ck_assert_int_eq(acme_status_parse("deactivated"), ACME_ST_OTHER);
    ck_assert_int_eq(acme_status_parse(NULL), ACME_ST_UNKNOWN);
}
END_TEST

START_TEST(t_problems_and_shape)
{
    static const char bn[] = "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"x\"}";
    static const char rl[] = "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"status\":429}";
    char w[ACME_PROBLEM_WORD_MAX];
    ck_assert(acme_problem_parse("application/problem+json", 400, bn, strlen(bn), w, sizeof w));
    ck_assert_str_eq(w, "badNonce");
    /* a problem type sent with another content type but an error status still counts */
    ck_assert(acme_problem_parse("application/json", 429, rl, strlen(rl), w, sizeof w));
    ck_assert_str_eq(w, "rateLimited");
    ck_assert(acme_problem_parse("application/problem+json", 404, "{\"type\":\"about:blank\"}", 22,
                                 w, sizeof w));
    ck_assert_str_eq(w, "blank");
    /* certctl's per-IP limiter: text/plain, not a problem */
    static const char plain[] = "{\"error\":\"Rate limit exceeded\"}\n";
    ck_assert(
        !acme_problem_parse("text/plain; charset=utf-8", 429, plain, strlen(plain), w, sizeof w));
    ck_assert_str_eq(w, "");
    ck_assert(!acme_problem_parse("application/json", 200, bn, strlen(bn), w, sizeof w));
    ck_assert(!acme_problem_parse("application/problem+json", 500, "oops", 4, w, sizeof w));

    ck_assert(acme_rate_limit_shape_ok("application/problem+json", rl, strlen(rl)));
    ck_assert(acme_rate_limit_shape_ok("Application/Problem+JSON; charset=utf-8", rl, strlen(rl)));
    ck_assert(!acme_rate_limit_shape_ok("text/plain; charset=utf-8", rl, strlen(rl)));
    ck_assert(!acme_rate_limit_shape_ok("application/json", rl, strlen(rl)));
    ck_assert(!acme_rate_limit_shape_ok("application/problem+json", bn, strlen(bn)));
    ck_assert(!acme_rate_limit_shape_ok("application/problem+json", plain, strlen(plain)));
    ck_assert(!acme_rate_limit_shape_ok(NULL, rl, strlen(rl)));

    ck_assert(acme_content_type_is_json("application/json"));
    ck_assert(acme_content_type_is_json("application/problem+json; charset=utf-8"));
    ck_assert(!acme_content_type_is_json("text/html; charset=utf-8"));
    ck_assert(!acme_content_type_is_json("application/jsonx"));
    ck_assert(!acme_content_type_is_json(NULL));
}
END_TEST

START_TEST(t_url_path)
{
    ck_assert_str_eq(acme_url_path("https://127.0.0.1:14000/nonce-plz", true, "127.0.0.1:14000"),
                     "/nonce-plz");
    ck_assert_str_eq(acme_url_path("HTTPS://LocalHost:14000/a?b", true, "localhost:14000"), "/a?b");
    ck_assert_str_eq(acme_url_path("https://h:443/x", true, "h"), "/x");
    ck_assert_str_eq(acme_url_path("https://h/x", true, "h:443"), "/x");
    ck_assert_str_eq(acme_url_path("http://h:80/x", false, "h"), "/x");
    ck_assert_ptr_null(acme_url_path("https://h:80/x", true, "h"));
    ck_assert_ptr_null(acme_url_path("http://127.0.0.1:14000/x", true, "127.0.0.1:14000"));
    ck_assert_ptr_null(acme_url_path("https://127.0.0.1:14001/x", true, "127.0.0.1:14000"));
    ck_assert_ptr_null(acme_url_path("https://evil.test/x", true, "127.0.0.1:14000"));
    ck_assert_ptr_null(acme_url_path("https://u@127.0.0.1:14000/x", true, "127.0.0.1:14000"));
    ck_assert_ptr_null(acme_url_path("https://127.0.0.1:14000", true, "127.0.0.1:14000"));
    ck_assert_ptr_null(acme_url_path(NULL, true, "h"));

    struct http_conn_config cc;
    char err[128], auth[ACME_AUTHORITY_MAX];
    ck_assert_int_eq(http_conn_config_init(&cc, "127.0.0.1", 8443, NULL, err, sizeof err), 0);
    ck_assert_int_eq(acme_conn_authority(&cc, auth, sizeof auth), 0);
    ck_assert_str_eq(auth, "127.0.0.1:8443");
    ck_assert_int_eq(http_conn_config_init(&cc, "127.0.0.1", 80, NULL, err, sizeof err), 0);
    ck_assert_int_eq(acme_conn_authority(&cc, auth, sizeof auth), 0);
    ck_assert_str_eq(auth, "127.0.0.1");
    cc.host_header = "acme.example.test:1234";
    ck_assert_int_eq(acme_conn_authority(&cc, auth, sizeof auth), 0);
    ck_assert_str_eq(auth, "acme.example.test:1234");
}
END_TEST

START_TEST(t_csr_and_renewal_id)
{
    struct csr_gen *g = csr_gen_new();
    ck_assert_ptr_nonnull(g);
    struct csr_key key;
    char *pem = NULL;
    const char *name = "acme-00001-1.acme.example.test";
    ck_assert_int_eq(csr_generate(g, name, &name, 1, &key, &pem, NULL), 0);
    char *b64 = acme_csr_b64url_from_pem(pem, strlen(pem));
    ck_assert_ptr_nonnull(b64);
    ck_assert_ptr_null(strpbrk(b64, "+/="));
    unsigned char *der;
    size_t der_len;
    ck_assert_int_eq(jose_b64url_decode(b64, strlen(b64), &der, &der_len), 0);
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)der_len);
    ck_assert_ptr_nonnull(req);
    ck_assert_ptr_eq(p, der + der_len);
    ck_assert_ptr_null(acme_csr_b64url_from_pem("no pem here", 11));

    /* sign it with a CA, then the renewal id must name the CA's key id and the serial */
    char err[160], *chain = NULL, serial_hex[CA_SERIAL_HEX_LEN];
    struct target_ca *ca = ca_new("renewal id CA", err, sizeof err);
    ck_assert_ptr_nonnull(ca);
    ck_assert_int_eq(ca_sign_csr(ca, req, NULL, 0, 90, &chain, serial_hex), 0);
    ck_assert_int_eq(csr_cert_matches_key(chain, strlen(chain), &key), 1);
    char id[256];
    ck_assert_int_eq(acme_renewal_id(chain, strlen(chain), id, sizeof id), 0);
    const char *dot = strchr(id, '.');
    ck_assert_ptr_nonnull(dot);
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca_cert(ca));
    char *want_aki =
        jose_b64url_encode(ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski));
    ck_assert_int_eq((int)(dot - id), (int)strlen(want_aki));
    ck_assert(strncmp(id, want_aki, strlen(want_aki)) == 0);
    unsigned char *sbytes;
    size_t slen;
    ck_assert_int_eq(jose_b64url_decode(dot + 1, strlen(dot + 1), &sbytes, &slen), 0);
    BIGNUM *bn = BN_bin2bn(sbytes, (int)slen, NULL);
    char hex[CA_SERIAL_HEX_LEN];
    ck_assert_int_eq(ca_serial_hex_from_bn(bn, hex), 0);
    ck_assert_str_eq(hex, serial_hex);
    char tiny[8];
    ck_assert_int_eq(acme_renewal_id(chain, strlen(chain), tiny, sizeof tiny), -ENOSPC);
    ck_assert_int_eq(acme_renewal_id("junk", 4, id, sizeof id), -EBADMSG);
    BN_free(bn);
    free(sbytes);
    free(want_aki);
    free(chain);
    ca_free(ca);
    X509_REQ_free(req);
    free(der);
    free(b64);
    free(pem);
    csr_gen_free(g);
}
END_TEST

/* ---- an in-process ACME server with faults in front of it ---- */

enum fault {
    F_NONE = 0,
    F_BAD_NONCE_EVERY_3RD, /* every 3rd signed POST: 400 badNonce without Replay-Nonce */
    F_BAD_NONCE_ALL,       /* every signed POST: badNonce */
    F_NEW_ORDER_429,       /* new-order: 429, alternately text/plain and problem+json */
    F_NEW_ORDER_SWALLOW,   /* new-order: never answered */
    F_FOREIGN_NONCE,       /* the directory's newNonce is on another origin */
    F_HTML_DIRECTORY,      /* the directory is an HTML page, as certctl's dashboard serves */
};

struct mock {
    struct target_ca *ca;
    struct acmesrv *acme;
    struct httpd_fx srv;
    uint16_t port;
    struct http_req *swallowed[8]; /* held unanswered until stop_mock closes them */
    int n_swallowed;
    enum fault fault;
    int posts;    /* signed POSTs seen */
    int injected; /* answers the fault made */
    int profile_gets, profile_posts;
    bool profile_exists;
};

static struct mock mk;

static void reply(struct http_req *req, int status, const char *ct, const char *body)
{
    if (ct)
        http_reply_header(req, "Content-Type", ct);
    evbuffer_add(req->out, body, strlen(body));
    http_reply_send(req, status, "x");
}

static void problem(struct http_req *req, int status, const char *type)
{
    char body[256];
    snprintf(body, sizeof body,
             "{\"type\":\"urn:ietf:params:acme:error:%s\",\"detail\":"
             "\"injected\",\"status\":%d}",
             type, status);
    reply(req, status, "application/problem+json", body);
}

/* certctl's profile API, as much as the pre-flight needs. */
static void route_profiles(struct http_req *req, const char *path)
{
    if (req->method == METHOD_GET) {
        mk.profile_gets++;
        if (strcmp(path, "/api/v1/profiles/" PROFILE) == 0 && mk.profile_exists)
            reply(req, 200, "application/json", "{\"id\":\"" PROFILE "\"}");
        else
            reply(req, 404, "application/json", "{\"error\":\"Not Found\"}");
        return;
    }
    mk.profile_posts++;
    mk.profile_exists = true;
    reply(req, 201, "application/json", "{\"id\":\"" PROFILE "\"}");
}

/* Returns true when the fault answered the request. */
static bool inject(struct http_req *req, const char *rest)
{
    bool post = req->method == METHOD_POST;
    if (post)
        mk.posts++;
    switch (mk.fault) {
    case F_BAD_NONCE_EVERY_3RD:
        if (!post || mk.posts % 3 != 0)
            return false;
        problem(req, 400, "badNonce");
        break;
    case F_BAD_NONCE_ALL:
        if (!post)
            return false;
        problem(req, 400, "badNonce");
        break;
    case F_NEW_ORDER_429:
        if (strcmp(rest, "new-order") != 0)
            return false;
        if (mk.injected % 2 == 0)
            reply(req, 429, "text/plain; charset=utf-8", "{\"error\":\"Rate limit exceeded\"}\n");
        else
            problem(req, 429, "rateLimited");
        break;
    case F_NEW_ORDER_SWALLOW:
        if (strcmp(rest, "new-order") != 0)
            return false;
        if (mk.n_swallowed == (int)(sizeof mk.swallowed / sizeof mk.swallowed[0]))
            return false;
        mk.swallowed[mk.n_swallowed++] = req; /* never answered: the client must time out */
        break;
    case F_FOREIGN_NONCE:
    case F_HTML_DIRECTORY:
        if (strcmp(rest, "directory") != 0)
            return false;
        if (mk.fault == F_HTML_DIRECTORY) {
            reply(req, 200, "text/html; charset=utf-8", "<!doctype html><title>certctl</title>");
        } else {
            char body[512];
            snprintf(body, sizeof body,
                     "{\"newNonce\":\"http://127.0.0.1:1/nonce\",\"newAccount\":\"http://"
                     "127.0.0.1:%u" PREFIX "new-account\",\"newOrder\":\"http://127.0.0.1:%u" PREFIX
                     "new-order\"}",
                     mk.port, mk.port);
            reply(req, 200, "application/json", body);
        }
        break;
    default:
        return false;
    }
    mk.injected++;
    return true;
}

static void route(struct http_req *req, void *arg)
{
    (void)arg;
    const char *uri = req->target;
    char path[1024];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(uri, "?"), uri);
    if (strncmp(path, "/api/v1/profiles", 16) == 0) {
        route_profiles(req, path);
        return;
    }
    if (strncmp(path, PREFIX, sizeof PREFIX - 1) != 0) {
        http_reply_send(req, 404, "Not Found");
        return;
    }
    const char *rest = path + sizeof PREFIX - 1;
    if (!inject(req, rest))
        acmesrv_handle(mk.acme, req, PROFILE, rest);
}

static void start_mock(enum fault f)
{
    char err[256] = "";
    memset(&mk, 0, sizeof mk);
    mk.fault = f;
    mk.ca = ca_new("acme client test CA", err, sizeof err);
    ck_assert_msg(mk.ca != NULL, "%s", err);
    struct acmesrv_config cfg = {.ca = mk.ca, .tls = false};
    mk.acme = acmesrv_new(&cfg, err, sizeof err);
    ck_assert_msg(mk.acme != NULL, "%s", err);
    ck_assert_int_eq(httpd_fx_start(&mk.srv, route, NULL), 0);
    mk.port = mk.srv.port;
}

static void stop_mock(void)
{
    httpd_fx_halt(&mk.srv);
    for (int i = 0; i < mk.n_swallowed; i++)
        http_reply_close(mk.swallowed[i]);
    httpd_fx_free(&mk.srv);
    acmesrv_free(mk.acme);
    ca_free(mk.ca);
}

/* ---- running a group ---- */

struct run {
    struct http_conn_config cc;
    char dir_url[128];
    struct acme_config cfg;
    struct acme_group *g;
    struct metrics *m;
    struct acme_counters k;
    atomic_int certs;
};

static void count_cert(void *arg, uint32_t actor, const char *pem, size_t len)
{
    struct run *r = arg;
    if (actor >= 1 && len > 0 && strstr(pem, "BEGIN CERTIFICATE"))
        atomic_fetch_add(&r->certs, 1);
}

static void run_init(struct run *r, enum acme_mode mode, uint32_t clients, uint32_t iterations)
{
    memset(r, 0, sizeof *r);
    char err[160];
    ck_assert_int_eq(http_conn_config_init(&r->cc, "127.0.0.1", mk.port, NULL, err, sizeof err), 0);
    r->cc.timeout_ns = 2000 * MS;
    snprintf(r->dir_url, sizeof r->dir_url, "http://127.0.0.1:%u" PREFIX "directory", mk.port);
    acme_config_defaults(&r->cfg);
    r->cfg.scenario = "unit";
    r->cfg.mode = mode;
    r->cfg.n_clients = clients;
    r->cfg.directory_url = r->dir_url;
    r->cfg.conn = &r->cc;
    r->cfg.max_iterations = iterations;
    r->cfg.pace_ns = mode == ACME_MODE_BURST ? 20 * MS : 0;
    r->cfg.backoff_min_ns = 5 * MS;
    r->cfg.backoff_max_ns = 20 * MS;
    r->cfg.poll_base_ns = 1 * MS;
    r->cfg.seed = 7;
    r->cfg.on_cert = count_cert;
    r->cfg.on_cert_arg = r;
}

/* Runs the group until every actor is done (bounded), then collects its results. */
static void run_go(struct run *r)
{
    struct metrics_accounting acc;
    r->g = acme_run_go(&r->cfg, WAIT_LIMIT_NS, "the actors did not finish in time", &r->m, &r->k,
                       &acc);
}

static void run_free(struct run *r)
{
    acme_group_free(r->g);
    metrics_free(r->m);
}

static const struct metrics_outcomes *outcomes(const struct run *r, const char *ep)
{
    const struct metrics_series *s = metrics_series_find(r->m, "unit", "acme", ep);
    ck_assert_ptr_nonnull(s);
    return &s->total;
}

static uint64_t counter(const struct run *r, const char *metric, const char *ep, const char *key,
                        const char *value)
{
    const struct metrics_tagged *t =
        metrics_tagged_find(r->m, metric, "unit", "acme", ep, key, value);
    return t ? t->value : 0;
}

static uint64_t failed_requests(const struct run *r)
{
    uint64_t n = 0;
    for (size_t i = 0; i < metrics_series_count(r->m); i++)
        n += metrics_series_at(r->m, i)->total.failed;
    return n;
}

START_TEST(t_orders_complete)
{
    start_mock(F_NONE);
    struct run r;
    run_init(&r, ACME_MODE_ORDER, 3, 4);
    run_go(&r);
    ck_assert_uint_eq(r.k.started, 12);
    ck_assert_uint_eq(r.k.completed, 12);
    ck_assert_uint_eq(r.k.failed, 0);
    ck_assert_uint_eq(r.k.accounts_created, 3);
    ck_assert_uint_eq(r.k.renewal_info_ok, 12);
    ck_assert_int_eq(atomic_load(&r.certs), 12);
    ck_assert_uint_eq(counter(&r, METRIC_ACME_ORDERS_COMPLETED, NULL, NULL, NULL), 12);
    /* the directory and the account once per actor; trust_authenticated: no challenge, no
     * poll; no nonce fetch at all: the directory's Replay-Nonce starts the chain and every
     * answer carries the next one */
    ck_assert_uint_eq(outcomes(&r, "acme_directory")->answered, 3);
    ck_assert_uint_eq(outcomes(&r, "acme_nonce")->scheduled, 0);
    ck_assert_uint_eq(outcomes(&r, "acme_account")->status[201 - 100], 3);
    ck_assert_uint_eq(outcomes(&r, "acme_order")->status[201 - 100], 12);
    ck_assert_uint_eq(outcomes(&r, "acme_order")->answered, 12);
    ck_assert_uint_eq(outcomes(&r, "acme_authz")->answered, 12);
    ck_assert_uint_eq(outcomes(&r, "acme_challenge")->scheduled, 0);
    ck_assert_uint_eq(outcomes(&r, SIM_EP_NAME_ACME_FINALIZE)->status[200 - 100], 12);
    ck_assert_uint_eq(outcomes(&r, "acme_cert")->status[200 - 100], 12);
    ck_assert_uint_eq(outcomes(&r, "acme_renewal_info")->status[200 - 100], 12);
    ck_assert_uint_eq(failed_requests(&r), 0);
    ck_assert_int_eq(mk.injected, 0);
    run_free(&r);
    stop_mock();
}
END_TEST

START_TEST(t_bad_nonce_retried)
{
    start_mock(F_BAD_NONCE_EVERY_3RD);
    struct run r;
    run_init(&r, ACME_MODE_ORDER, 2, 5);
    run_go(&r);
    ck_assert_uint_eq(r.k.completed, 10);
    ck_assert_uint_eq(r.k.failed, 0);
    ck_assert_int_gt(mk.injected, 5);
    uint64_t bad = 0;
    for (int e = 0; e < ACME_EP_COUNT; e++)
        bad += counter(&r, METRIC_ACME_PROBLEMS, acme_ep_name((enum acme_endpoint)e),
                       SIM_TAG_PROBLEM, "badNonce");
    /* every injected answer was counted as a badNonce problem and resent once */
    ck_assert_uint_eq(bad, (uint64_t)mk.injected);
    ck_assert_uint_eq(r.k.bad_nonce_retries, (uint64_t)mk.injected);
    ck_assert_uint_eq(counter(&r, ACME_METRIC_BAD_NONCE_RETRIES, NULL, NULL, NULL), bad);
    /* the problems carried no nonce: one HEAD new-nonce per resend */
    ck_assert_uint_eq(outcomes(&r, "acme_nonce")->answered, bad);
    /* the only failed requests are the badNonce answers */
    ck_assert_uint_eq(failed_requests(&r), bad);
    run_free(&r);
    stop_mock();
}
END_TEST

START_TEST(t_bad_nonce_bounded)
{
    start_mock(F_BAD_NONCE_ALL);
    struct run r;
    run_init(&r, ACME_MODE_ORDER, 1, 3);
    r.cfg.bad_nonce_retries = 2;
    run_go(&r);
    ck_assert_uint_eq(r.k.started, 3);
    ck_assert_uint_eq(r.k.failed, 3);
    ck_assert_uint_eq(r.k.completed, 0);
    /* new-account is sent 3 times per order (1 + 2 retries), and never succeeds */
    ck_assert_int_eq(mk.injected, 9);
    ck_assert_uint_eq(outcomes(&r, "acme_account")->answered, 9);
    ck_assert_uint_eq(counter(&r, ACME_METRIC_ORDERS_FAILED, NULL, ACME_TAG_REASON, "badNonce"), 3);
    ck_assert_uint_eq(r.k.bad_nonce_retries, 6);
    run_free(&r);
    stop_mock();
}
END_TEST

START_TEST(t_rate_limit_shapes)
{
    start_mock(F_NEW_ORDER_429);
    struct run r;
    run_init(&r, ACME_MODE_ORDER, 1, 4);
    run_go(&r);
    ck_assert_uint_eq(r.k.failed, 4);
    const struct metrics_outcomes *o = outcomes(&r, "acme_order");
    ck_assert_uint_eq(o->status[429 - 100], 4);
    ck_assert_uint_eq(o->failed, 4);
    const struct metrics_tagged *t = metrics_tagged_find(r.m, METRIC_ACME_RATE_LIMIT_SHAPE_OK,
                                                         "unit", "acme", "acme_order", NULL, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->total, 4);
    ck_assert_uint_eq(t->value, 2); /* the problem+json ones */
    ck_assert_uint_eq(
        counter(&r, METRIC_ACME_PROBLEMS, "acme_order", SIM_TAG_PROBLEM, "rateLimited"), 2);
    ck_assert_uint_eq(counter(&r, ACME_METRIC_ORDERS_FAILED, NULL, ACME_TAG_REASON, "status_429"),
                      2);
    ck_assert_uint_eq(counter(&r, ACME_METRIC_ORDERS_FAILED, NULL, ACME_TAG_REASON, "rateLimited"),
                      2);
    run_free(&r);
    stop_mock();
}
END_TEST

START_TEST(t_timeout_counted)
{
    start_mock(F_NEW_ORDER_SWALLOW);
    struct run r;
    run_init(&r, ACME_MODE_ORDER, 2, 2);
    r.cc.timeout_ns = 150 * MS;
    uint64_t t0 = clock_now_ns();
    run_go(&r);
    ck_assert_uint_lt(clock_now_ns() - t0, 5000 * MS);
    ck_assert_uint_eq(r.k.failed, 4);
    ck_assert_uint_eq(outcomes(&r, "acme_order")->timed_out, 4);
    ck_assert_uint_eq(counter(&r, ACME_METRIC_ORDERS_FAILED, NULL, ACME_TAG_REASON, "timeout"), 4);
    run_free(&r);
    stop_mock();
}
END_TEST

START_TEST(t_burst)
{
    start_mock(F_NONE);
    struct run r;
    run_init(&r, ACME_MODE_BURST, 3, 4);
    run_go(&r);
    ck_assert_uint_eq(r.k.completed, 12);
    ck_assert_uint_eq(counter(&r, ACME_METRIC_ITERATIONS, NULL, NULL, NULL), 12);
    ck_assert_uint_eq(outcomes(&r, "acme_directory")->status[200 - 100], 12);
    ck_assert_uint_eq(outcomes(&r, "acme_nonce")->answered, 12);
    /* aaaa.bbbb is unknown: 404, which burst mode counts as success */
    ck_assert_uint_eq(outcomes(&r, "acme_renewal_info")->status[404 - 100], 12);
    ck_assert_uint_eq(failed_requests(&r), 0);
    ck_assert_uint_eq(
        counter(&r, METRIC_ACME_PROBLEMS, "acme_renewal_info", SIM_TAG_PROBLEM, "malformed"), 12);
    /* burst mode never touches the order endpoints: no series for them */
    ck_assert_ptr_null(metrics_series_find(r.m, "unit", "acme", "acme_account"));
    ck_assert_ptr_null(metrics_series_find(r.m, "unit", "acme", SIM_EP_NAME_ACME_FINALIZE));
    run_free(&r);
    stop_mock();
}
END_TEST

START_TEST(t_burst_paced_and_stopped)
{
    start_mock(F_NONE);
    struct run r;
    run_init(&r, ACME_MODE_BURST, 2, 0);
    r.cfg.pace_ns = 100 * MS;
    char err[160];
    r.g = acme_group_new(&r.cfg, err, sizeof err);
    ck_assert_ptr_nonnull(r.g);
    uint64_t t0 = clock_now_ns();
    ck_assert_int_eq(acme_group_start(r.g, t0), 0);
    usleep(1050 * 1000);
    acme_group_stop(r.g);
    while (!acme_group_finished(r.g) && clock_now_ns() - t0 < WAIT_LIMIT_NS)
        usleep(5000);
    acme_group_join(r.g);
    r.m = metrics_new(false);
    ck_assert_int_eq(acme_group_metrics_merge(r.g, r.m), 0);
    acme_group_counters(r.g, &r.k);
    /* 2 actors x 10 or 11 slots in 1.05 s at 100 ms */
    ck_assert_uint_ge(r.k.started, 20);
    ck_assert_uint_le(r.k.started, 22);
    ck_assert_uint_eq(r.k.started, r.k.completed + r.k.failed + r.k.abandoned);
    ck_assert_uint_eq(r.k.failed, 0);
    ck_assert_uint_eq(outcomes(&r, "acme_directory")->scheduled, r.k.started + r.k.dropped);
    run_free(&r);
    stop_mock();
}
END_TEST

START_TEST(t_foreign_url_refused)
{
    start_mock(F_FOREIGN_NONCE);
    struct run r;
    run_init(&r, ACME_MODE_ORDER, 1, 2);
    run_go(&r);
    ck_assert_uint_eq(r.k.failed, 2);
    ck_assert_uint_eq(counter(&r, ACME_METRIC_ORDERS_FAILED, NULL, ACME_TAG_REASON, "foreign_url"),
                      2);
    ck_assert_uint_eq(outcomes(&r, "acme_nonce")->scheduled, 0);
    run_free(&r);
    stop_mock();
}
END_TEST

START_TEST(t_preflight)
{
    start_mock(F_NONE);
    struct http_conn_config cc;
    char err[400], url[128];
    ck_assert_int_eq(http_conn_config_init(&cc, "127.0.0.1", mk.port, NULL, err, sizeof err), 0);
    cc.timeout_ns = 2000 * MS;
    snprintf(url, sizeof url, "http://127.0.0.1:%u" PREFIX "directory", mk.port);
    bool ari = false, created = false;
    ck_assert_int_eq(acme_directory_check(&cc, url, "k", &ari, err, sizeof err), 0);
    ck_assert(ari);
    ck_assert_int_eq(acme_certctl_profile_ensure(&cc, "", "k", PROFILE, &created, err, sizeof err),
                     0);
    ck_assert(created);
    ck_assert_int_eq(acme_certctl_profile_ensure(&cc, "", "k", PROFILE, &created, err, sizeof err),
                     0);
    ck_assert(!created);
    ck_assert_int_eq(acme_certctl_profile_ensure(&cc, "", "k", "bad/id", &created, err, sizeof err),
                     -EINVAL);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/elsewhere/directory", mk.port);
    ck_assert_int_eq(acme_directory_check(&cc, url, NULL, &ari, err, sizeof err), -EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "HTTP 404"));
    stop_mock();
    ck_assert_int_eq(mk.profile_gets, 2);
    ck_assert_int_eq(mk.profile_posts, 1);

    start_mock(F_HTML_DIRECTORY);
    snprintf(url, sizeof url, "http://127.0.0.1:%u" PREFIX "directory", mk.port);
    ck_assert_int_eq(http_conn_config_init(&cc, "127.0.0.1", mk.port, NULL, err, sizeof err), 0);
    ck_assert_int_eq(acme_directory_check(&cc, url, "k", &ari, err, sizeof err), -EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "HTML"));
    ck_assert_ptr_null(strchr(err, '\n'));
    stop_mock();
    /* nobody listens any more */
    ck_assert_int_eq(acme_directory_check(&cc, url, "k", &ari, err, sizeof err), -EIO);
}
END_TEST

START_TEST(t_group_config_checks)
{
    struct http_conn_config cc;
    char err[200];
    ck_assert_int_eq(http_conn_config_init(&cc, "127.0.0.1", 14000, NULL, err, sizeof err), 0);
    struct acme_config cfg;
    acme_config_defaults(&cfg);
    cfg.n_clients = 3;
    cfg.conn = &cc;
    cfg.directory_url = "http://127.0.0.1:14001/dir";
    ck_assert_ptr_null(acme_group_new(&cfg, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "origin"));
    cfg.directory_url = "https://127.0.0.1:14000/dir";
    ck_assert_ptr_null(acme_group_new(&cfg, err, sizeof err));
    cfg.directory_url = "http://127.0.0.1:14000/dir";
    cfg.shard_k = 1;
    cfg.shard_n = 2;
    struct acme_group *g = acme_group_new(&cfg, err, sizeof err);
    ck_assert_msg(g != NULL, "%s", err);
    ck_assert_uint_eq(acme_group_size(g), 1); /* actors 1, 2, 3: shard 1/2 runs actor 2 */
    acme_group_free(g);
    ck_assert_uint_eq(acme_shard_size(200, 0, 3), 67);
    ck_assert_uint_eq(acme_shard_size(200, 2, 3), 66);
    ck_assert_str_eq(acme_ep_name(ACME_EP_RENEWAL_INFO), "acme_renewal_info");
    ck_assert_str_eq(acme_mode_name(ACME_MODE_ORDER), "order");
    ck_assert_str_eq(acme_key_alg_name(ACME_KEY_EDDSA), "eddsa");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("acme_client");
    TCase *pure = testenv_tcase(s, "proto", 0);
    tcase_add_test(pure, t_directory_parse);
    tcase_add_test(pure, t_order_authz_parse);
    tcase_add_test(pure, t_problems_and_shape);
    tcase_add_test(pure, t_url_path);
    tcase_add_test(pure, t_csr_and_renewal_id);
    tcase_add_test(pure, t_group_config_checks);
    TCase *actors = testenv_tcase(s, "actors", 30);
    tcase_add_test(actors, t_orders_complete);
    tcase_add_test(actors, t_bad_nonce_retried);
    tcase_add_test(actors, t_bad_nonce_bounded);
    tcase_add_test(actors, t_rate_limit_shapes);
    tcase_add_test(actors, t_timeout_counted);
    tcase_add_test(actors, t_burst);
    tcase_add_test(actors, t_burst_paced_and_stopped);
    tcase_add_test(actors, t_foreign_url_refused);
    tcase_add_test(actors, t_preflight);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return testenv_run(suite());
}
