/* tests/unit/check_acme_server.c - in-process tests of refserver/acmesrv: the reference server's
 * request layer on 127.0.0.1 (tests/lib/httpd_fx: plain HTTP, ephemeral port, its own thread) routes /acme/profile/{id}/... to
 * acmesrv_handle; a small blocking HTTP client in this file drives full order flows (ES256,
 * RS256, EdDSA), the JWS checks, nonces, limits, renewal-info, key change and revocation. */
#include "refserver/acmesrv.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "engine/jose.h"
#include "refserver/acmesrv_map.h"
#include "refserver/ca.h"
#include "tests/lib/httpd_fx.h"
#include "tests/lib/testenv.h"
#include "tests/lib/x509_check.h"

#define PROFILE "prof-test"
#define IO_TIMEOUT_S 5
#define MAX_RESPONSE_BYTES (256 * 1024)
#define DAY_MS (24LL * 3600 * 1000)
#define RETENTION_DAYS 120 /* the fixture's state retention, longer than a certificate lives */

/* ---- the server under test ---- */

struct fixture {
    struct target_ca *ca;
    struct acmesrv *acme;
    struct httpd_fx srv;
    int port;
    _Atomic int64_t now_ms; /* the ACME server's clock: starts at the real time, tests move it */
    int64_t t0_ms;
};

static struct fixture fx;

static int64_t fake_now(void *arg)
{
    return atomic_load(&((struct fixture *)arg)->now_ms);
}

static void route(struct http_req *req, void *arg)
{
    static const char prefix[] = "/acme/profile/";
    const char *uri = req->target;
    char path[1024];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(uri, "?"), uri);
    char *slash;
    if (strncmp(path, prefix, sizeof prefix - 1) != 0 ||
        !(slash = strchr(path + sizeof prefix - 1, '/'))) {
        http_reply_send(req, 404, "Not Found");
        return;
    }
    *slash = '\0';
    acmesrv_handle(arg, req, path + sizeof prefix - 1, slash + 1);
}

static void start_server(uint32_t orders_per_hour, uint32_t active_orders, uint32_t max_nonces)
{
    static const char *const profiles[] = {PROFILE, "other", NULL};
    char err[256] = "";
    memset(&fx, 0, sizeof fx);
    fx.t0_ms = (int64_t)time(NULL) * 1000;
    atomic_store(&fx.now_ms, fx.t0_ms);
    fx.ca = ca_new("acme test CA", err, sizeof err);
    ck_assert_msg(fx.ca != NULL, "%s", err);
    struct acmesrv_config cfg = {
        .ca = fx.ca,
        .tls = false,
        .orders_per_hour = orders_per_hour,
        .active_orders = active_orders,
        .max_nonces = max_nonces,
        .retention_s = RETENTION_DAYS * 24 * 3600,
        .profiles = profiles,
        .now_ms = fake_now,
        .now_arg = &fx,
    };
    fx.acme = acmesrv_new(&cfg, err, sizeof err);
    ck_assert_msg(fx.acme != NULL, "%s", err);
    ck_assert_int_eq(httpd_fx_start(&fx.srv, route, fx.acme), 0);
    fx.port = fx.srv.port;
}

static void setup_default(void)
{
    start_server(8, 5, 0);
}

static void setup_small_nonces(void)
{
    start_server(0, 0, 3);
}

static void teardown(void)
{
    httpd_fx_halt(&fx.srv);
    httpd_fx_free(&fx.srv);
    acmesrv_free(fx.acme);
    ca_free(fx.ca);
}

/* ---- a tiny blocking HTTP/1.1 client (Connection: close) ---- */

struct resp {
    int status;
    char *head; /* status line and headers */
    char *body;
    size_t body_len;
};

static void resp_free(struct resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* The value of header name (case-insensitive) copied into out, or NULL. */
static const char *header(const struct resp *r, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, n, "%.*s", (int)strcspn(v, "\r"), v);
            return out;
        }
    }
    return NULL;
}

static struct resp http(const char *method, const char *path, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    char *req;
    size_t bl = body ? strlen(body) : 0;
    int n =
        asprintf(&req,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/jose+json\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 method, path, fx.port, bl, body ? body : "");
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(write(fd, req, (size_t)n), n);
    free(req);
    char *buf = malloc(MAX_RESPONSE_BYTES + 1);
    size_t len = 0;
    ssize_t got;
    while (len < MAX_RESPONSE_BYTES && (got = read(fd, buf + len, MAX_RESPONSE_BYTES - len)) > 0)
        len += (size_t)got;
    close(fd);
    buf[len] = '\0';
    char *end = strstr(buf, "\r\n\r\n");
    ck_assert_msg(end != NULL, "no response from the server");
    struct resp r = {0};
    r.head = strndup(buf, (size_t)(end - buf));
    r.body_len = len - (size_t)(end + 4 - buf);
    r.body = malloc(r.body_len + 1);
    memcpy(r.body, end + 4, r.body_len);
    r.body[r.body_len] = '\0';
    ck_assert_int_eq(sscanf(buf, "HTTP/1.%*d %d", &r.status), 1);
    free(buf);
    return r;
}

/* ---- an ACME client on top ---- */

struct client {
    EVP_PKEY *key;
    char kid[512];
    char nonce[64];
};

static void url_of(const char *rest, char *out, size_t n)
{
    snprintf(out, n, "http://127.0.0.1:%d/acme/profile/" PROFILE "/%s", fx.port, rest);
}

static const char *path_of(const char *url)
{
    const char *p = strstr(url, "://");
    return strchr(p + 3, '/');
}

static void fresh_nonce(struct client *c)
{
    struct resp r = http("HEAD", "/acme/profile/" PROFILE "/new-nonce", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(header(&r, "Replay-Nonce", c->nonce, sizeof c->nonce));
    resp_free(&r);
}

/* Signs payload for url (kid unless use_jwk) with the client's nonce and POSTs it; keeps the
 * response nonce for the next request. */
static struct resp post_signed(struct client *c, const char *url, const char *payload, bool use_jwk)
{
    if (!c->nonce[0])
        fresh_nonce(c);
    char err[160];
    char *body = jose_jws_sign(c->key, use_jwk ? NULL : c->kid, c->nonce, url, payload,
                               strlen(payload), err, sizeof err);
    ck_assert_msg(body != NULL, "%s", err);
    struct resp r = http("POST", path_of(url), body);
    free(body);
    if (!header(&r, "Replay-Nonce", c->nonce, sizeof c->nonce))
        c->nonce[0] = '\0';
    return r;
}

static json_object *body_json(const struct resp *r)
{
    json_object *o = json_tokener_parse(r->body);
    ck_assert_msg(o != NULL, "not JSON: %s", r->body);
    return o;
}

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, k, &v), "no member %s", k);
    return json_object_get_string(v);
}

/* Checks r is an ACME problem of this status and type, without Replay-Nonce. */
static void assert_problem(const struct resp *r, int status, const char *type)
{
    char v[128], want[96];
    ck_assert_msg(r->status == status, "status %d, want %d: %s", r->status, status, r->body);
    ck_assert_str_eq(header(r, "Content-Type", v, sizeof v), "application/problem+json");
    ck_assert_ptr_null(header(r, "Replay-Nonce", v, sizeof v));
    json_object *o = body_json(r);
    snprintf(want, sizeof want, "urn:ietf:params:acme:error:%s", type);
    ck_assert_str_eq(jstr(o, "type"), want);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "status")), status);
    ck_assert_int_gt(strlen(jstr(o, "detail")), 0);
    json_object_put(o);
}

static void new_account(struct client *c, enum jose_alg alg)
{
    memset(c, 0, sizeof *c);
    c->key = tx509_gen_key(alg);
    char url[256], tp[JOSE_THUMBPRINT_LEN], want[512], loc[512];
    url_of("new-account", url, sizeof url);
    struct resp r = post_signed(
        c, url, "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:a@example.test\"]}", true);
    ck_assert_msg(r.status == 201, "new-account %d %s", r.status, r.body);
    ck_assert_int_eq(jose_jwk_thumbprint(c->key, tp), 0);
    url_of("account/acme-acc-", want, sizeof want);
    strncat(want, tp, sizeof want - strlen(want) - 1);
    ck_assert_str_eq(header(&r, "Location", loc, sizeof loc), want);
    json_object *o = body_json(&r);
    ck_assert_str_eq(jstr(o, "status"), "valid");
    json_object_put(o);
    snprintf(c->kid, sizeof c->kid, "%s", loc);
    resp_free(&r);
}

static void client_free(struct client *c)
{
    EVP_PKEY_free(c->key);
}

/* Creates an order for names; returns its Location in loc and the parsed body. */
static json_object *new_order(struct client *c, const char *const *names, size_t n, char *loc,
                              size_t ln)
{
    char payload[1024] = "{\"identifiers\":[", url[256];
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(payload);
        snprintf(payload + l, sizeof payload - l, "%s{\"type\":\"dns\",\"value\":\"%s\"}",
                 i ? "," : "", names[i]);
    }
    strcat(payload, "]}");
    url_of("new-order", url, sizeof url);
    struct resp r = post_signed(c, url, payload, false);
    ck_assert_msg(r.status == 201, "new-order %d %s", r.status, r.body);
    ck_assert_ptr_nonnull(header(&r, "Location", loc, ln));
    json_object *o = body_json(&r);
    resp_free(&r);
    return o;
}

static struct resp finalize(struct client *c, json_object *order, const char *const *names,
                            size_t n)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    char *csr = tx509_csr_b64url(k, names, n);
    char payload[4096];
    snprintf(payload, sizeof payload, "{\"csr\":\"%s\"}", csr);
    struct resp r = post_signed(c, jstr(order, "finalize"), payload, false);
    free(csr);
    EVP_PKEY_free(k);
    return r;
}

/* Runs new-order, authz, challenge, finalize, cert for names; checks everything and returns
 * the leaf certificate. */
static X509 *full_order(struct client *c, const char *const *names, size_t n)
{
    char loc[512], v[128];
    json_object *order = new_order(c, names, n, loc, sizeof loc);
    ck_assert_str_eq(jstr(order, "status"), "ready");
    json_object *az = json_object_object_get(order, "authorizations");
    ck_assert_uint_eq(json_object_array_length(az), n);
    /* order POST-as-GET */
    struct resp r = post_signed(c, loc, "", false);
    ck_assert_int_eq(r.status, 200);
    json_object *o = body_json(&r);
    ck_assert_str_eq(jstr(o, "status"), "ready");
    json_object_put(o);
    resp_free(&r);
    /* authz and its challenge */
    r = post_signed(c, json_object_get_string(json_object_array_get_idx(az, 0)), "", false);
    ck_assert_int_eq(r.status, 200);
    o = body_json(&r);
    ck_assert_str_eq(jstr(o, "status"), "valid");
    ck_assert_str_eq(jstr(json_object_object_get(o, "identifier"), "value"), names[0]);
    json_object *ch = json_object_array_get_idx(json_object_object_get(o, "challenges"), 0);
    ck_assert_str_eq(jstr(ch, "type"), "http-01");
    ck_assert_str_eq(jstr(ch, "status"), "valid");
    ck_assert_uint_eq(strlen(jstr(ch, "token")), 43);
    char chall_url[512], token[64];
    snprintf(chall_url, sizeof chall_url, "%s", jstr(ch, "url"));
    snprintf(token, sizeof token, "%s", jstr(ch, "token"));
    json_object_put(o);
    resp_free(&r);
    r = post_signed(c, chall_url, "{}", false);
    ck_assert_int_eq(r.status, 200);
    o = body_json(&r);
    ck_assert_str_eq(jstr(o, "status"), "valid");
    ck_assert_str_eq(jstr(o, "token"), token);
    json_object_put(o);
    resp_free(&r);
    /* finalize */
    r = finalize(c, order, names, n);
    ck_assert_msg(r.status == 200, "finalize %d %s", r.status, r.body);
    ck_assert_str_eq(header(&r, "Location", v, sizeof v), loc);
    o = body_json(&r);
    ck_assert_str_eq(jstr(o, "status"), "valid");
    char cert_url[512];
    snprintf(cert_url, sizeof cert_url, "%s", jstr(o, "certificate"));
    json_object_put(o);
    resp_free(&r);
    json_object_put(order);
    /* certificate download */
    r = post_signed(c, cert_url, "", false);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Content-Type", v, sizeof v), "application/pem-certificate-chain");
    ck_assert_ptr_nonnull(header(&r, "Replay-Nonce", v, sizeof v));
    BIO *b = BIO_new_mem_buf(r.body, (int)r.body_len);
    X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
    X509 *issuer = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    resp_free(&r);
    ck_assert_ptr_nonnull(leaf);
    ck_assert_ptr_nonnull(issuer);
    ck_assert_int_eq(X509_cmp(issuer, ca_cert(fx.ca)), 0);
    X509_free(issuer);
    /* the leaf verifies against the CA and carries the names */
    X509_STORE *st = X509_STORE_new();
    X509_STORE_add_cert(st, ca_cert(fx.ca));
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    ck_assert_int_eq(X509_verify_cert(ctx), 1);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(X509_check_host(leaf, names[i], 0, 0, NULL), 1);
    return leaf;
}

static void assert_window_is(json_object *doc, int64_t start, int64_t end)
{
    char ws[64], we[64];
    time_t ts = (time_t)(start / 1000), te = (time_t)(end / 1000);
    struct tm tm;
    strftime(ws, sizeof ws, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&ts, &tm));
    strftime(we, sizeof we, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&te, &tm));
    json_object *w = json_object_object_get(doc, "suggestedWindow");
    ck_assert_str_eq(jstr(w, "start"), ws);
    ck_assert_str_eq(jstr(w, "end"), we);
}

static int64_t asn1_ms(const ASN1_TIME *t)
{
    struct tm tm;
    ck_assert_int_eq(ASN1_TIME_to_tm(t, &tm), 1);
    return (int64_t)timegm(&tm) * 1000;
}

/* Checks a suggestedWindow against certctl's rule for a certificate without renewal policy:
 * start = notAfter - validity/3, end = notAfter - validity/9 (start not before now). */
static void assert_window(json_object *doc, X509 *leaf, int64_t now)
{
    int64_t nb = asn1_ms(X509_get0_notBefore(leaf)), na = asn1_ms(X509_get0_notAfter(leaf));
    int64_t third = (na - nb) / 3, start = na - third, end = na - third / 3;
    start = start < now ? now : start;
    assert_window_is(doc, start, end);
    /* the rule itself for a 90-day certificate: renew between day 60 and day 80 */
    ck_assert_int_eq((na - nb) / DAY_MS, 90);
    ck_assert_int_eq((start - nb) / DAY_MS, 60);
    ck_assert_int_eq((end - nb) / DAY_MS, 80);
}

/* ---- tests ---- */

START_TEST(test_directory_and_nonces)
{
    char v[256], n1[64], n2[64];
    struct resp r = http("GET", "/acme/profile/" PROFILE "/directory", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Content-Type", v, sizeof v), "application/json");
    ck_assert_ptr_nonnull(header(&r, "Replay-Nonce", n1, sizeof n1));
    json_object *d = body_json(&r);
    const char *keys[] = {"newNonce",   "newAccount", "newOrder",
                          "revokeCert", "keyChange",  "renewalInfo"};
    const char *paths[] = {"new-nonce",   "new-account", "new-order",
                           "revoke-cert", "key-change",  "renewal-info"};
    for (size_t i = 0; i < 6; i++) {
        char want[256];
        url_of(paths[i], want, sizeof want);
        ck_assert_str_eq(jstr(d, keys[i]), want);
    }
    json_object_put(d);
    resp_free(&r);
    struct acmesrv_stats st;
    acmesrv_stats(fx.acme, &st);
    ck_assert_uint_eq(st.nonces_issued, 1);
    ck_assert_uint_eq(st.live_nonces, 1);

    r = http("HEAD", "/acme/profile/" PROFILE "/new-nonce", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Cache-Control", v, sizeof v), "no-store");
    ck_assert_ptr_nonnull(header(&r, "Replay-Nonce", n2, sizeof n2));
    ck_assert_str_ne(n1, n2);
    ck_assert_uint_eq(strlen(n2), 22);
    resp_free(&r);
    r = http("GET", "/acme/profile/" PROFILE "/new-nonce", NULL);
    ck_assert_int_eq(r.status, 204);
    ck_assert_ptr_nonnull(header(&r, "Replay-Nonce", v, sizeof v));
    ck_assert_str_eq(header(&r, "Cache-Control", v, sizeof v), "no-store");
    ck_assert_uint_eq(r.body_len, 0);
    resp_free(&r);
    acmesrv_stats(fx.acme, &st);
    ck_assert_uint_eq(st.nonces_issued, 3);

    r = http("GET", "/acme/profile/nope/directory", NULL);
    assert_problem(&r, 404, "userActionRequired");
    resp_free(&r);
    r = http("GET", "/acme/profile/" PROFILE "/bogus", NULL);
    ck_assert_int_eq(r.status, 404);
    resp_free(&r);
    r = http("POST", "/acme/profile/" PROFILE "/directory", "{}");
    ck_assert_int_eq(r.status, 405);
    resp_free(&r);
    r = http("GET", "/acme/profile/" PROFILE "/new-order", NULL);
    ck_assert_int_eq(r.status, 405);
    resp_free(&r);
}
END_TEST

START_TEST(test_full_flow_es256)
{
    struct client c;
    new_account(&c, JOSE_ALG_ES256);
    /* registering the same key again: 200 and the same Location */
    char url[256], loc[512];
    url_of("new-account", url, sizeof url);
    struct resp r = post_signed(&c, url, "{\"onlyReturnExisting\":true}", true);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Location", loc, sizeof loc), c.kid);
    resp_free(&r);
    /* account POST-as-GET */
    r = post_signed(&c, c.kid, "", false);
    ck_assert_int_eq(r.status, 200);
    json_object *o = body_json(&r);
    ck_assert_str_eq(jstr(o, "status"), "valid");
    ck_assert_str_eq(
        json_object_get_string(json_object_array_get_idx(json_object_object_get(o, "contact"), 0)),
        "mailto:a@example.test");
    json_object_put(o);
    resp_free(&r);

    const char *names[] = {"a.example.test", "b.example.test"};
    X509 *leaf = full_order(&c, names, 2);
    struct acmesrv_stats st;
    acmesrv_stats(fx.acme, &st);
    ck_assert_uint_eq(st.accounts_created, 1);
    ck_assert_uint_eq(st.orders_created, 1);
    ck_assert_uint_eq(st.certs_issued, 1);
    ck_assert_uint_eq(st.problems, 0);

    /* renewal-info for the issued certificate: a 90-day cert renews in its last third */
    char id[256], path[512], v[64];
    tx509_ari_id(leaf, id, sizeof id);
    snprintf(path, sizeof path, "/acme/profile/" PROFILE "/renewal-info/%s", id);
    r = http("GET", path, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Retry-After", v, sizeof v), "21600");
    o = body_json(&r);
    assert_window(o, leaf, fx.t0_ms);
    json_object_put(o);
    resp_free(&r);
    X509_free(leaf);
    client_free(&c);
}
END_TEST

START_TEST(test_rs256_and_eddsa_accounts)
{
    enum jose_alg algs[] = {JOSE_ALG_RS256, JOSE_ALG_EDDSA};
    for (size_t i = 0; i < 2; i++) {
        struct client c;
        new_account(&c, algs[i]);
        const char *names[] = {i ? "ed.example.test" : "rsa.example.test"};
        X509 *leaf = full_order(&c, names, 1);
        X509_free(leaf);
        client_free(&c);
    }
    struct acmesrv_stats st;
    acmesrv_stats(fx.acme, &st);
    ck_assert_uint_eq(st.accounts_created, 2);
    ck_assert_uint_eq(st.certs_issued, 2);
}
END_TEST

START_TEST(test_jws_rejections)
{
    struct client c;
    new_account(&c, JOSE_ALG_ES256);
    char url[256], err[160];
    url_of("new-order", url, sizeof url);
    const char payload[] = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"x.example.test\"}]}";

    /* bad signature: last signature character changed */
    fresh_nonce(&c);
    char *body =
        jose_jws_sign(c.key, c.kid, c.nonce, url, payload, strlen(payload), err, sizeof err);
    char *sig = strstr(body, "\"signature\":\"") + 13;
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    struct resp r = http("POST", path_of(url), body);
    assert_problem(&r, 401, "unauthorized");
    resp_free(&r);
    free(body);

    /* the nonce of that request was consumed: reusing it is a badNonce */
    body = jose_jws_sign(c.key, c.kid, c.nonce, url, payload, strlen(payload), err, sizeof err);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    free(body);

    /* a valid request, then the same body again (replay) */
    fresh_nonce(&c);
    body = jose_jws_sign(c.key, c.kid, c.nonce, url, payload, strlen(payload), err, sizeof err);
    r = http("POST", path_of(url), body);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    free(body);

    /* unknown nonce, missing nonce */
    body = jose_jws_sign(c.key, c.kid, "AAAAAAAAAAAAAAAAAAAAAA", url, payload, strlen(payload), err,
                         sizeof err);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    free(body);
    body = jose_jws_sign(c.key, c.kid, NULL, url, payload, strlen(payload), err, sizeof err);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    free(body);

    /* expired nonce: issued, then the clock moves 5 minutes on */
    fresh_nonce(&c);
    atomic_fetch_add(&fx.now_ms, 300 * 1000);
    body = jose_jws_sign(c.key, c.kid, c.nonce, url, payload, strlen(payload), err, sizeof err);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    free(body);

    /* url of another endpoint, and https instead of http */
    char other[300];
    url_of("new-account", other, sizeof other);
    fresh_nonce(&c);
    body = jose_jws_sign(c.key, c.kid, c.nonce, other, payload, strlen(payload), err, sizeof err);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 401, "unauthorized");
    resp_free(&r);
    free(body);
    fresh_nonce(&c);
    snprintf(other, sizeof other, "https%s", url + 4);
    body = jose_jws_sign(c.key, c.kid, c.nonce, other, payload, strlen(payload), err, sizeof err);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 401, "unauthorized");
    resp_free(&r);
    free(body);

    /* kid of an unknown account; kid of the wrong shape; jwk where a kid is required */
    char kid[600];
    url_of("account/acme-acc-unknown", kid, sizeof kid);
    fresh_nonce(&c);
    body = jose_jws_sign(c.key, kid, c.nonce, url, payload, strlen(payload), err, sizeof err);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 400, "accountDoesNotExist");
    resp_free(&r);
    free(body);
    snprintf(kid, sizeof kid, "%s", c.kid);
    memcpy(strstr(kid, PROFILE), "other", 5);
    fresh_nonce(&c);
    body = jose_jws_sign(c.key, kid, c.nonce, url, payload, strlen(payload), err, sizeof err);
    r = http("POST", path_of(url), body);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);
    free(body);
    fresh_nonce(&c);
    r = post_signed(&c, url, payload, true);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);

    /* signed by another key under this account's kid */
    struct client impostor = c;
    impostor.key = tx509_gen_key(JOSE_ALG_ES256);
    impostor.nonce[0] = '\0';
    r = post_signed(&impostor, url, payload, false);
    assert_problem(&r, 401, "unauthorized");
    resp_free(&r);
    EVP_PKEY_free(impostor.key);

    /* not JSON at all; a body over 64 KiB */
    r = http("POST", path_of(url), "hello");
    assert_problem(&r, 400, "malformed");
    resp_free(&r);
    char *big = malloc(70 * 1024);
    memset(big, 'x', 70 * 1024 - 1);
    big[70 * 1024 - 1] = '\0';
    r = http("POST", path_of(url), big);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);
    free(big);

    struct acmesrv_stats st;
    acmesrv_stats(fx.acme, &st);
    ck_assert_uint_eq(st.bad_nonces, 5);
    ck_assert_uint_eq(st.orders_created, 1);
    client_free(&c);
}
END_TEST

START_TEST(test_order_limits)
{
    /* fixture: 8 orders per hour, 5 active orders per account */
    struct client c;
    new_account(&c, JOSE_ALG_ES256);
    char locs[8][512], url[256], v[64];
    json_object *orders[8];
    const char *names[] = {"lim.example.test"};
    for (int i = 0; i < 5; i++)
        orders[i] = new_order(&c, names, 1, locs[i], sizeof locs[i]);
    url_of("new-order", url, sizeof url);
    const char payload[] = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"lim.example.test\"}]}";
    struct resp r = post_signed(&c, url, payload, false);
    assert_problem(&r, 429, "rateLimited");
    ck_assert_ptr_null(header(&r, "Retry-After", v, sizeof v));
    resp_free(&r);
    /* finalizing three orders makes them non-active; the hourly budget (8) then runs out */
    for (int i = 0; i < 3; i++) {
        r = finalize(&c, orders[i], names, 1);
        ck_assert_int_eq(r.status, 200);
        resp_free(&r);
    }
    for (int i = 5; i < 8; i++)
        orders[i] = new_order(&c, names, 1, locs[i], sizeof locs[i]);
    for (int i = 3; i < 5; i++) {
        r = finalize(&c, orders[i], names, 1);
        ck_assert_int_eq(r.status, 200);
        resp_free(&r);
    }
    r = post_signed(&c, url, payload, false);
    assert_problem(&r, 429, "rateLimited");
    resp_free(&r);
    /* one token comes back every 450 s */
    atomic_fetch_add(&fx.now_ms, 450 * 1000);
    c.nonce[0] = '\0';
    r = post_signed(&c, url, payload, false);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    r = post_signed(&c, url, payload, false);
    assert_problem(&r, 429, "rateLimited");
    resp_free(&r);
    /* another account has its own limits */
    struct client d;
    new_account(&d, JOSE_ALG_EDDSA);
    json_object *od = new_order(&d, names, 1, locs[0], sizeof locs[0]);
    json_object_put(od);
    struct acmesrv_stats st;
    acmesrv_stats(fx.acme, &st);
    ck_assert_uint_eq(st.rate_limited, 3);
    ck_assert_uint_eq(st.orders_created, 10);
    for (int i = 0; i < 8; i++)
        json_object_put(orders[i]);
    client_free(&c);
    client_free(&d);
}
END_TEST

START_TEST(test_order_errors)
{
    struct client c, d;
    new_account(&c, JOSE_ALG_ES256);
    new_account(&d, JOSE_ALG_ES256);
    char url[256], loc[512];
    url_of("new-order", url, sizeof url);
    struct resp r = post_signed(
        &c, url, "{\"identifiers\":[{\"type\":\"ip\",\"value\":\"127.0.0.1\"}]}", false);
    assert_problem(&r, 400, "rejectedIdentifier");
    json_object *o = body_json(&r);
    json_object *sub = json_object_array_get_idx(json_object_object_get(o, "subproblems"), 0);
    ck_assert_str_eq(jstr(json_object_object_get(sub, "identifier"), "value"), "127.0.0.1");
    json_object_put(o);
    resp_free(&r);
    r = post_signed(&c, url, "{\"identifiers\":[]}", false);
    assert_problem(&r, 400, "rejectedIdentifier");
    resp_free(&r);
    r = post_signed(&c, url, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"bad name\"}]}",
                    false);
    assert_problem(&r, 400, "rejectedIdentifier");
    resp_free(&r);
    r = post_signed(&c, url, "not json", false);
    assert_problem(&r, 400, "malformed");
    resp_free(&r);

    const char *names[] = {"e.example.test"};
    json_object *order = new_order(&c, names, 1, loc, sizeof loc);
    /* another account may not read it */
    r = post_signed(&d, loc, "", false);
    assert_problem(&r, 401, "unauthorized");
    resp_free(&r);
    /* unknown order */
    char unknown[256];
    url_of("order/acme-ord-00000000000000000000", unknown, sizeof unknown);
    r = post_signed(&c, unknown, "", false);
    assert_problem(&r, 404, "malformed");
    resp_free(&r);
    /* CSR with other names: badCSR, and the order is invalid afterwards */
    const char *wrong[] = {"f.example.test"};
    r = finalize(&c, order, wrong, 1);
    assert_problem(&r, 400, "badCSR");
    resp_free(&r);
    r = post_signed(&c, loc, "", false);
    o = body_json(&r);
    ck_assert_str_eq(jstr(o, "status"), "invalid");
    ck_assert_str_eq(jstr(json_object_object_get(o, "error"), "type"),
                     "urn:ietf:params:acme:error:badCSR");
    json_object_put(o);
    resp_free(&r);
    r = finalize(&c, order, names, 1);
    assert_problem(&r, 403, "orderNotReady");
    resp_free(&r);
    json_object_put(order);
    /* a CSR that is not base64url / not DER */
    order = new_order(&c, names, 1, loc, sizeof loc);
    r = post_signed(&c, jstr(order, "finalize"), "{\"csr\":\"a+b/\"}", false);
    assert_problem(&r, 400, "badCSR");
    resp_free(&r);
    r = post_signed(&c, jstr(order, "finalize"), "{\"csr\":\"AAAA\"}", false);
    assert_problem(&r, 400, "badCSR");
    resp_free(&r);
    json_object_put(order);
    client_free(&c);
    client_free(&d);
}
END_TEST

START_TEST(test_renewal_info)
{
    struct resp r = http("GET", "/acme/profile/" PROFILE "/renewal-info/aaaa.bbbb", NULL);
    assert_problem(&r, 404, "malformed");
    resp_free(&r);
    const char *bad[] = {"nodot", "a.b.c", "!!.aa", ".aa", "aa.", "A.bb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/acme/profile/" PROFILE "/renewal-info/%s", bad[i]);
        r = http("GET", path, NULL);
        ck_assert_msg(r.status == 400, "%s -> %d", bad[i], r.status);
        assert_problem(&r, 400, "malformed");
        resp_free(&r);
    }
    /* a certificate after its expiry gets a one-day "renew now" window */
    struct client c;
    new_account(&c, JOSE_ALG_ES256);
    const char *names[] = {"ari.example.test"};
    X509 *leaf = full_order(&c, names, 1);
    char id[256], path[512];
    tx509_ari_id(leaf, id, sizeof id);
    snprintf(path, sizeof path, "/acme/profile/" PROFILE "/renewal-info/%s", id);
    atomic_fetch_add(&fx.now_ms, 45 * DAY_MS); /* half way: window unchanged */
    r = http("GET", path, NULL);
    ck_assert_int_eq(r.status, 200);
    json_object *o = body_json(&r);
    assert_window(o, leaf, atomic_load(&fx.now_ms));
    json_object_put(o);
    resp_free(&r);
    /* after expiry: a one-day window starting now */
    atomic_fetch_add(&fx.now_ms, 60 * DAY_MS);
    r = http("GET", path, NULL);
    ck_assert_int_eq(r.status, 200);
    o = body_json(&r);
    int64_t now = atomic_load(&fx.now_ms);
    assert_window_is(o, now, now + DAY_MS);
    json_object_put(o);
    resp_free(&r);
    /* past the retention time the order and its certificate are forgotten */
    atomic_fetch_add(&fx.now_ms, RETENTION_DAYS * DAY_MS);
    r = http("GET", path, NULL);
    assert_problem(&r, 404, "malformed");
    struct acmesrv_stats st;
    acmesrv_stats(fx.acme, &st);
    ck_assert_uint_eq(st.live_orders, 0);
    ck_assert_uint_eq(st.live_accounts, 0);
    resp_free(&r);
    X509_free(leaf);
    client_free(&c);
}
END_TEST

START_TEST(test_key_change_and_revoke)
{
    struct client c;
    new_account(&c, JOSE_ALG_ES256);
    const char *names[] = {"kc.example.test"};
    X509 *leaf = full_order(&c, names, 1);
    /* roll the account key over to an Ed25519 key */
    EVP_PKEY *newkey = tx509_gen_key(JOSE_ALG_EDDSA);
    char url[256], err[160], *oldjwk = jose_jwk_json(c.key), inner_payload[1024];
    url_of("key-change", url, sizeof url);
    snprintf(inner_payload, sizeof inner_payload, "{\"account\":\"%s\",\"oldKey\":%s}", c.kid,
             oldjwk);
    char *inner = jose_jws_sign(newkey, NULL, NULL, url, inner_payload, strlen(inner_payload), err,
                                sizeof err);
    struct resp r = post_signed(&c, url, inner, false);
    ck_assert_msg(r.status == 200, "key-change %d %s", r.status, r.body);
    resp_free(&r);
    free(inner);
    /* the old key no longer signs for the account; the new one does */
    r = post_signed(&c, c.kid, "", false);
    assert_problem(&r, 401, "unauthorized");
    resp_free(&r);
    EVP_PKEY_free(c.key);
    c.key = newkey;
    r = post_signed(&c, c.kid, "", false);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    /* new-account with the new key finds the same account */
    char na[256], loc[512];
    url_of("new-account", na, sizeof na);
    r = post_signed(&c, na, "{}", true);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(header(&r, "Location", loc, sizeof loc), c.kid);
    resp_free(&r);
    free(oldjwk);

    /* revoke the certificate (by the account), twice */
    unsigned char *der = NULL;
    int len = i2d_X509(leaf, &der);
    char *b64 = jose_b64url_encode(der, (size_t)len), payload[4096];
    OPENSSL_free(der);
    snprintf(payload, sizeof payload, "{\"certificate\":\"%s\",\"reason\":4}", b64);
    url_of("revoke-cert", url, sizeof url);
    struct client other;
    new_account(&other, JOSE_ALG_ES256);
    r = post_signed(&other, url, payload, false);
    assert_problem(&r, 401, "unauthorized");
    resp_free(&r);
    r = post_signed(&c, url, payload, false);
    ck_assert_int_eq(r.status, 200);
    resp_free(&r);
    r = post_signed(&c, url, payload, false);
    assert_problem(&r, 400, "alreadyRevoked");
    resp_free(&r);
    free(b64);
    X509_free(leaf);
    client_free(&c);
    client_free(&other);
}
END_TEST

START_TEST(test_nonce_cap)
{
    /* fixture: at most 3 live nonces; the oldest is evicted first */
    char n[5][64];
    for (int i = 0; i < 5; i++) {
        struct resp r = http("HEAD", "/acme/profile/" PROFILE "/new-nonce", NULL);
        ck_assert_ptr_nonnull(header(&r, "Replay-Nonce", n[i], sizeof n[i]));
        resp_free(&r);
    }
    struct acmesrv_stats st;
    acmesrv_stats(fx.acme, &st);
    ck_assert_uint_eq(st.live_nonces, 3);
    struct client c = {.key = tx509_gen_key(JOSE_ALG_ES256)};
    char url[256], err[160];
    url_of("new-account", url, sizeof url);
    char *body = jose_jws_sign(c.key, NULL, n[0], url, "{}", 2, err, sizeof err);
    struct resp r = http("POST", path_of(url), body);
    assert_problem(&r, 400, "badNonce");
    resp_free(&r);
    free(body);
    body = jose_jws_sign(c.key, NULL, n[4], url, "{}", 2, err, sizeof err);
    r = http("POST", path_of(url), body);
    ck_assert_int_eq(r.status, 201);
    resp_free(&r);
    free(body);
    EVP_PKEY_free(c.key);
}
END_TEST

struct map_item {
    struct acmesrv_map_node node;
    char key[16];
};

START_TEST(test_map_grows_and_removes)
{
    enum { N = 5000 };
    struct acmesrv_map m;
    struct map_item *items = calloc(N, sizeof *items);
    ck_assert_int_eq(acmesrv_map_init(&m), 0);
    for (int i = 0; i < N; i++) {
        snprintf(items[i].key, sizeof items[i].key, "k%d", i);
        items[i].node.key = items[i].key;
        ck_assert_int_eq(acmesrv_map_put(&m, &items[i].node), 0);
    }
    ck_assert_uint_eq(m.count, N);
    ck_assert_uint_ge(m.nbuckets, N);
    for (int i = 0; i < N; i += 2)
        acmesrv_map_remove(&m, &items[i].node);
    ck_assert_uint_eq(m.count, N / 2);
    for (int i = 0; i < N; i++) {
        struct acmesrv_map_node *n = acmesrv_map_get(&m, items[i].key);
        if (i % 2)
            ck_assert_ptr_eq(ACMESRV_CONTAINER_OF(n, struct map_item, node), &items[i]);
        else
            ck_assert_ptr_null(n);
    }
    ck_assert_ptr_null(acmesrv_map_get(&m, "absent"));
    acmesrv_map_destroy(&m);
    free(items);
}
END_TEST

START_TEST(test_endpoint_names)
{
    ck_assert_str_eq(acmesrv_endpoint_name("directory"), "acme_directory");
    ck_assert_str_eq(acmesrv_endpoint_name("new-nonce"), "acme_nonce");
    ck_assert_str_eq(acmesrv_endpoint_name("new-account"), "acme_account");
    ck_assert_str_eq(acmesrv_endpoint_name("account/acme-acc-x"), "acme_account");
    ck_assert_str_eq(acmesrv_endpoint_name("new-order"), "acme_order");
    ck_assert_str_eq(acmesrv_endpoint_name("order/acme-ord-1"), "acme_order");
    ck_assert_str_eq(acmesrv_endpoint_name("order/acme-ord-1/finalize"), "acme_finalize");
    ck_assert_str_eq(acmesrv_endpoint_name("authz/x"), "acme_authz");
    ck_assert_str_eq(acmesrv_endpoint_name("challenge/x"), "acme_challenge");
    ck_assert_str_eq(acmesrv_endpoint_name("cert/x"), "acme_cert");
    ck_assert_str_eq(acmesrv_endpoint_name("renewal-info/a.b"), "acme_renewal_info");
    ck_assert_ptr_null(acmesrv_endpoint_name("order//finalize"));
    ck_assert_ptr_null(acmesrv_endpoint_name("order/x/y"));
    ck_assert_ptr_null(acmesrv_endpoint_name("authz/"));
    ck_assert_ptr_null(acmesrv_endpoint_name("nothing"));
    char err[128];
    struct acmesrv_config cfg = {0};
    ck_assert_ptr_null(acmesrv_new(&cfg, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "CA"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acme_server");
    TCase *tc = testenv_tcase(s, "flows", 60);
    tcase_add_checked_fixture(tc, setup_default, teardown);
    tcase_add_test(tc, test_directory_and_nonces);
    tcase_add_test(tc, test_full_flow_es256);
    tcase_add_test(tc, test_rs256_and_eddsa_accounts);
    tcase_add_test(tc, test_jws_rejections);
    tcase_add_test(tc, test_order_limits);
    tcase_add_test(tc, test_order_errors);
    tcase_add_test(tc, test_renewal_info);
    tcase_add_test(tc, test_key_change_and_revoke);
    TCase *tn = testenv_tcase(s, "nonce_cap", 60);
    tcase_add_checked_fixture(tn, setup_small_nonces, teardown);
    tcase_add_test(tn, test_nonce_cap);
    TCase *tp = testenv_tcase(s, "pure", 0);
    tcase_add_test(tp, test_endpoint_names);
    tcase_add_test(tp, test_map_grows_and_removes);
    return testenv_run(s);
}
