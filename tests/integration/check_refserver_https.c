/* tests/integration/check_refserver_https.c - fleetsim-target over real HTTPS (target_start with its
 * generated CA, requests through engine/http_client via target_client.h, JWS signed with
 * engine/jose.h): the ACME server's rejections of a bad signature, a reused nonce and a wrong
 * url (docs/certctl.md, "ACME server"), a whole order ending in a certificate that chains to the
 * target's CA, the per-account limit's rateLimited problem; and certctl's agent and operator
 * endpoints with their 401/404/405/409/410/429 paths over HTTPS, on the memory store and on
 * PostgreSQL. Skipped (77) with FLEETSIM_UNIT_ONLY=1. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "engine/jose.h"
#include "refserver/server.h"
#include "tests/lib/pg.h"
#include "tests/lib/target_fx.h"
#include "tests/lib/testenv.h"
#include "tests/lib/x509_check.h"

#define KEY "acceptance-key-2026"
#define PROFILE TARGET_DEFAULT_ACME_PROFILE
#define TEST_TIMEOUT_S 60
#define PROBLEM_JSON "application/problem+json"
#define APP_JSON "application/json"
#define TEXT_PLAIN "text/plain; charset=utf-8"
#define ORDER_PAYLOAD "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"x.example.test\"}]}"

static struct pgtmp cluster;
static bool cluster_up;

/* ---- an ACME client on fleetsim's HTTP client --------------------------------------------- */

struct acl {
    EVP_PKEY *key;
    char kid[TC_HEADER_MAX];
    char nonce[TC_HEADER_MAX];
};

static void acme_url(const struct tc_fx *f, const char *rest, char *out, size_t n)
{
    snprintf(out, n, "https://127.0.0.1:%u/acme/profile/" PROFILE "/%s", target_port(f->t), rest);
}

static const char *path_of(const char *url)
{
    const char *p = strstr(url, "://");
    ck_assert_ptr_nonnull(p);
    p = strchr(p + 3, '/');
    ck_assert_ptr_nonnull(p);
    return p;
}

static void fresh_nonce(struct tc_fx *f, struct acl *a)
{
    struct tc_resp r;
    tc_request(f->c, "HEAD", "/acme/profile/" PROFILE "/new-nonce", NULL, NULL, NULL, &r);
    ck_status(r, 200);
    ck_assert_uint_gt(strlen(r.replay_nonce), 10);
    snprintf(a->nonce, sizeof a->nonce, "%s", r.replay_nonce);
    tc_resp_free(&r);
}

/* A flattened JWS of payload for url signed by a's key with nonce (kid unless use_jwk). */
static char *sign(const struct acl *a, const char *url, const char *nonce, const char *payload,
                  bool use_jwk)
{
    char err[200];
    char *body = jose_jws_sign(a->key, use_jwk ? NULL : a->kid, nonce, url, payload,
                               strlen(payload), err, sizeof err);
    ck_assert_msg(body != NULL, "%s", err);
    return body;
}

/* POSTs a ready JWS body to url's path. */
static void post_raw(struct tc_fx *f, const char *url, const char *body, struct tc_resp *r)
{
    tc_request(f->c, "POST", path_of(url), NULL, NULL, body, r);
}

/* Signs payload for url with the client's current nonce (fetching one when it has none),
 * POSTs it and keeps the answer's Replay-Nonce (problems carry none). */
static void post_signed(struct tc_fx *f, struct acl *a, const char *url, const char *payload,
                        bool use_jwk, struct tc_resp *r)
{
    if (!a->nonce[0])
        fresh_nonce(f, a);
    char *body = sign(a, url, a->nonce, payload, use_jwk);
    post_raw(f, url, body, r);
    free(body);
    snprintf(a->nonce, sizeof a->nonce, "%s", r->replay_nonce);
}

/* An ACME problem document of this status and type, as certctl sends it (no Replay-Nonce). */
static void ck_problem(const struct tc_resp *r, int status, const char *type)
{
    char want[128];
    ck_assert_msg(r->error == HTTP_ERR_NONE && r->status == status, "status %d, want %d: %s",
                  r->status, status, r->body);
    ck_assert_str_eq(r->content_type, PROBLEM_JSON);
    ck_assert_str_eq(r->replay_nonce, "");
    json_object *o = tc_body_json(r);
    snprintf(want, sizeof want, "urn:ietf:params:acme:error:%s", type);
    ck_assert_str_eq(tc_jstr(o, "type"), want);
    ck_assert_int_eq(tc_jint(o, "status"), status);
    ck_assert_ptr_nonnull(tc_jstr(o, "detail"));
    ck_assert_uint_gt(strlen(tc_jstr(o, "detail")), 0);
    json_object_put(o);
}

/* POSTs the ready JWS body to url's path: an ACME problem of status and type. */
static void post_problem(struct tc_fx *f, const char *url, const char *body, int status,
                         const char *type)
{
    struct tc_resp r;
    post_raw(f, url, body, &r);
    ck_problem(&r, status, type);
    tc_resp_free(&r);
}

/* new-account with a fresh P-256 key: 201, Location = kid under this profile. */
static void new_account(struct tc_fx *f, struct acl *a)
{
    memset(a, 0, sizeof *a);
    a->key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(a->key);
    char url[256], want[512], tp[JOSE_THUMBPRINT_LEN];
    acme_url(f, "new-account", url, sizeof url);
    struct tc_resp r;
    post_signed(f, a, url, "{\"termsOfServiceAgreed\":true}", true, &r);
    ck_status(r, 201);
    ck_assert_uint_gt(strlen(r.replay_nonce), 10);
    ck_assert_int_eq(jose_jwk_thumbprint(a->key, tp), 0);
    acme_url(f, "account/acme-acc-", want, sizeof want);
    strncat(want, tp, sizeof want - strlen(want) - 1);
    ck_assert_str_eq(r.location, want);
    json_object *o = tc_body_json(&r);
    ck_assert_str_eq(tc_jstr(o, "status"), "valid");
    json_object_put(o);
    snprintf(a->kid, sizeof a->kid, "%s", r.location);
    tc_resp_free(&r);
}

static void acl_free(struct acl *a)
{
    EVP_PKEY_free(a->key);
}

/* An HTTPS target allowing active_orders orders per account (0: the default) and a new
 * account on it. */
static void acme_start(struct tc_fx *f, struct acl *a, uint32_t active_orders)
{
    struct target_config cfg;
    tc_fx_config(&cfg, KEY, true);
    if (active_orders)
        cfg.acme_active_orders = active_orders;
    tc_fx_start(f, &cfg);
    new_account(f, a);
}

/* Frees the account and stops the target. */
static void acme_stop(struct tc_fx *f, struct acl *a)
{
    acl_free(a);
    tc_fx_stop(f);
}

/* new-order for ORDER_PAYLOAD's name; returns the parsed order and its Location. */
static json_object *new_order(struct tc_fx *f, struct acl *a, const char *payload, char *loc,
                              size_t n)
{
    char url[256];
    acme_url(f, "new-order", url, sizeof url);
    struct tc_resp r;
    post_signed(f, a, url, payload, false, &r);
    ck_status(r, 201);
    snprintf(loc, n, "%s", r.location);
    ck_assert_int_eq(strncmp(loc, "https://127.0.0.1:", 18), 0);
    json_object *o = tc_body_json(&r);
    tc_resp_free(&r);
    return o;
}

/* ---- ACME tests ---------------------------------------------------------------------------- */

START_TEST(t_acme_directory_https)
{
    struct target_config cfg;
    tc_fx_config(&cfg, KEY, true);
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    struct tc_resp r;
    tc_request(f.c, "GET", "/acme/profile/" PROFILE "/directory", NULL, NULL, NULL, &r);
    ck_status(r, 200);
    ck_assert_str_eq(r.content_type, APP_JSON);
    ck_assert_uint_gt(strlen(r.replay_nonce), 10); /* each directory GET makes a nonce */
    json_object *d = tc_body_json(&r);
    const char *keys[] = {"newNonce",   "newAccount", "newOrder",
                          "revokeCert", "keyChange",  "renewalInfo"};
    const char *paths[] = {"new-nonce",   "new-account", "new-order",
                           "revoke-cert", "key-change",  "renewal-info"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char want[256];
        acme_url(&f, paths[i], want, sizeof want); /* https:// + Host + path */
        ck_assert_ptr_nonnull(tc_jstr(d, keys[i]));
        ck_assert_str_eq(tc_jstr(d, keys[i]), want);
    }
    json_object_put(d);
    tc_resp_free(&r);
    tc_request(f.c, "HEAD", "/acme/profile/" PROFILE "/new-nonce", NULL, NULL, NULL, &r);
    ck_status(r, 200);
    char n1[TC_HEADER_MAX];
    snprintf(n1, sizeof n1, "%s", r.replay_nonce);
    tc_resp_free(&r);
    tc_request(f.c, "GET", "/acme/profile/" PROFILE "/new-nonce", NULL, NULL, NULL, &r);
    ck_status(r, 204);
    ck_assert_str_ne(r.replay_nonce, n1);
    ck_assert_uint_eq(r.body_len, 0);
    tc_resp_free(&r);
    tc_request(f.c, "GET", "/acme/profile/prof-none/directory", NULL, NULL, NULL, &r);
    ck_status(r, 404);
    ck_assert_str_eq(r.content_type, PROBLEM_JSON);
    tc_resp_free(&r);
    tc_fx_ck_stats(&f, "requests.acme_nonce.200=1 requests.acme_nonce.204=1");
    tc_fx_stop(&f);
}
END_TEST

START_TEST(t_acme_rejections_https)
{
    struct tc_fx f;
    struct acl a;
    acme_start(&f, &a, 0);
    char url[256];
    acme_url(&f, "new-order", url, sizeof url);
    struct tc_resp r;

    /* bad signature: one signature character changed */
    fresh_nonce(&f, &a);
    char used_nonce[TC_HEADER_MAX];
    snprintf(used_nonce, sizeof used_nonce, "%s", a.nonce);
    char *body = sign(&a, url, used_nonce, ORDER_PAYLOAD, false);
    char *sig = strstr(body, "\"signature\":\"");
    ck_assert_ptr_nonnull(sig);
    sig += strlen("\"signature\":\"");
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    post_problem(&f, url, body, 401, "unauthorized");
    free(body);

    /* the nonce of that request was consumed: a correctly signed request reusing it */
    body = sign(&a, url, used_nonce, ORDER_PAYLOAD, false);
    post_problem(&f, url, body, 400, "badNonce");
    free(body);

    /* a good request, answered 201, then the very same bytes again (a replay) */
    fresh_nonce(&f, &a);
    body = sign(&a, url, a.nonce, ORDER_PAYLOAD, false);
    post_raw(&f, url, body, &r);
    ck_status(r, 201);
    tc_resp_free(&r);
    post_problem(&f, url, body, 400, "badNonce");
    free(body);

    /* wrong url: another endpoint's url, http:// on this HTTPS listener, another port */
    char others[3][320];
    acme_url(&f, "new-account", others[0], sizeof others[0]);
    snprintf(others[1], sizeof others[1], "http%s", url + strlen("https"));
    unsigned port = target_port(f.t);
    snprintf(others[2], sizeof others[2], "https://127.0.0.1:%u%s",
             port < 65535 ? port + 1 : port - 1, path_of(url));
    for (int i = 0; i < 3; i++) {
        fresh_nonce(&f, &a);
        body = sign(&a, others[i], a.nonce, ORDER_PAYLOAD, false);
        post_problem(&f, url, body, 401, "unauthorized");
        free(body);
    }

    /* after all that the account still works, chaining nonces from the answers */
    char loc[512];
    json_object *o = new_order(&f, &a, ORDER_PAYLOAD, loc, sizeof loc);
    json_object_put(o);

    /* the target saw exactly this: two orders made, four 401s, two badNonce */
    tc_fx_ck_stats(&f, "requests.acme_order.201=2 requests.acme_order.401=4 "
                       "requests.acme_order.400=2 requests.acme_account.201=1");
    acme_stop(&f, &a);
}
END_TEST

/* The leaf of chain (PEM) verifies against the CA in ca_path, names name and holds key. */
static X509 *check_chain(const char *chain, const char *ca_path, const char *name, EVP_PKEY *key)
{
    X509_STORE *st = X509_STORE_new();
    ck_assert_int_eq(X509_STORE_load_file(st, ca_path), 1);
    int n_rest;
    X509 *leaf = tx509_verified_leaf(chain, st, "the chain", &n_rest);
    X509_STORE_free(st);
    ck_assert_int_ge(n_rest, 1);
    ck_assert_int_eq(X509_check_host(leaf, name, 0, 0, NULL), 1);
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), key), 1);
    return leaf;
}

START_TEST(t_acme_order_https)
{
    struct tc_fx f;
    struct acl a;
    acme_start(&f, &a, 0);
    struct tc_resp r;
    const char *name = "order-1.example.test";
    char payload[256], loc[512], url[600], v[TC_HEADER_MAX];
    snprintf(payload, sizeof payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}",
             name);

    /* the account itself (POST-as-GET with its kid) */
    post_signed(&f, &a, a.kid, "", false, &r);
    ck_status(r, 200);
    tc_resp_free(&r);

    /* trust_authenticated: the order starts ready, its authorization valid */
    json_object *order = new_order(&f, &a, payload, loc, sizeof loc);
    ck_assert_str_eq(tc_jstr(order, "status"), "ready");
    json_object *az = NULL;
    ck_assert(json_object_object_get_ex(order, "authorizations", &az));
    ck_assert_uint_eq(json_object_array_length(az), 1);
    post_signed(&f, &a, json_object_get_string(json_object_array_get_idx(az, 0)), "", false, &r);
    ck_status(r, 200);
    json_object *o = tc_body_json(&r);
    ck_assert_str_eq(tc_jstr(o, "status"), "valid");
    json_object *chs = NULL;
    ck_assert(json_object_object_get_ex(o, "challenges", &chs));
    json_object *ch = json_object_array_get_idx(chs, 0);
    ck_assert_str_eq(tc_jstr(ch, "type"), "http-01");
    snprintf(url, sizeof url, "%s", tc_jstr(ch, "url"));
    json_object_put(o);
    tc_resp_free(&r);
    post_signed(&f, &a, url, "{}", false, &r);
    ck_status(r, 200);
    o = tc_body_json(&r);
    ck_assert_str_eq(tc_jstr(o, "status"), "valid");
    json_object_put(o);
    tc_resp_free(&r);

    /* finalize with a real CSR: synchronous, valid, with the certificate's url */
    EVP_PKEY *key = EVP_EC_gen("P-256");
    char *csr = tx509_csr_b64url(key, &name, 1);
    char fin[4096];
    snprintf(fin, sizeof fin, "{\"csr\":\"%s\"}", csr);
    free(csr);
    snprintf(url, sizeof url, "%s", tc_jstr(order, "finalize"));
    post_signed(&f, &a, url, fin, false, &r);
    ck_status(r, 200);
    ck_assert_str_eq(r.location, loc);
    o = tc_body_json(&r);
    ck_assert_str_eq(tc_jstr(o, "status"), "valid");
    snprintf(url, sizeof url, "%s", tc_jstr(o, "certificate"));
    json_object_put(o);
    tc_resp_free(&r);
    json_object_put(order);
    post_signed(&f, &a, loc, "", false, &r); /* the order, read back */
    ck_status(r, 200);
    o = tc_body_json(&r);
    ck_assert_str_eq(tc_jstr(o, "status"), "valid");
    ck_assert_str_eq(tc_jstr(o, "certificate"), url);
    json_object_put(o);
    tc_resp_free(&r);

    /* the certificate: a PEM chain that verifies against the target's CA */
    post_signed(&f, &a, url, "", false, &r);
    ck_status(r, 200);
    ck_assert_str_eq(r.content_type, "application/pem-certificate-chain");
    X509 *leaf = check_chain(r.body, target_ca_path(f.t), name, key);
    tc_resp_free(&r);

    /* renewal-info of the new certificate (open GET) */
    char id[256], path[512];
    tx509_ari_id(leaf, id, sizeof id);
    snprintf(path, sizeof path, "/acme/profile/" PROFILE "/renewal-info/%s", id);
    tc_request(f.c, "GET", path, NULL, NULL, NULL, &r);
    ck_status(r, 200);
    ck_assert_str_eq(r.retry_after, "21600");
    o = tc_body_json(&r);
    json_object *w = NULL;
    ck_assert(json_object_object_get_ex(o, "suggestedWindow", &w));
    ck_assert_ptr_nonnull(tc_jstr(w, "start"));
    ck_assert_ptr_nonnull(tc_jstr(w, "end"));
    json_object_put(o);
    tc_resp_free(&r);
    snprintf(v, sizeof v, "%s", "/acme/profile/" PROFILE "/renewal-info/aaaa.bbbb");
    tc_request(f.c, "GET", v, NULL, NULL, NULL, &r); /* k6's id: unknown */
    ck_status(r, 404);
    tc_resp_free(&r);

    tc_fx_ck_stats(&f, "requests.acme_finalize.200=1 requests.acme_cert.200=1 "
                       "requests.acme_authz.200=1 requests.acme_challenge.200=1 "
                       "requests.acme_renewal_info.200=1");
    X509_free(leaf);
    EVP_PKEY_free(key);
    acme_stop(&f, &a);
}
END_TEST

START_TEST(t_acme_rate_limited_https)
{
    struct tc_fx f;
    struct acl a, b;
    acme_start(&f, &a, 2);
    char loc[512], url[256];
    for (int i = 0; i < 2; i++)
        json_object_put(new_order(&f, &a, ORDER_PAYLOAD, loc, sizeof loc));
    acme_url(&f, "new-order", url, sizeof url);
    struct tc_resp r;
    post_signed(&f, &a, url, ORDER_PAYLOAD, false, &r);
    ck_problem(&r, 429, "rateLimited");
    ck_assert_str_eq(r.retry_after, ""); /* certctl sends none */
    tc_resp_free(&r);
    /* another account has its own limit */
    new_account(&f, &b);
    json_object_put(new_order(&f, &b, ORDER_PAYLOAD, loc, sizeof loc));
    tc_fx_ck_stats(&f, "requests.acme_order.429=1 requests.acme_order.201=3");
    acl_free(&b);
    acme_stop(&f, &a);
}
END_TEST

/* ---- certctl's endpoints over HTTPS ---------------------------------------------------------- */

/* Agent registration over HTTPS: an agent made through the API heartbeats, is retired (200),
 * then gets 410; a second retire is 204; unknown agents 404. */
static void agent_lifecycle(struct tc_fx *f)
{
    json_object *o = tc_fx_json(f, "POST", "/api/v1/agents",
                                "{\"name\":\"https-agent\",\"hostname\":\"h.example.test\"}", 201);
    char hb[256], agent[256];
    snprintf(hb, sizeof hb, "/api/v1/agents/%s/heartbeat", tc_jstr(o, "id"));
    snprintf(agent, sizeof agent, "/api/v1/agents/%s", tc_jstr(o, "id"));
    json_object_put(o);
    tc_fx_expect_error(f, "POST", "/api/v1/agents", "{\"name\":\"https-agent\",\"hostname\":\"h\"}",
                       409, "Conflict", "Agent with this name already exists");
    tc_fx_expect_error(f, "POST", "/api/v1/agents", "{\"hostname\":\"h\"}", 400, "Bad Request",
                       "name is required");
    struct tc_resp r;
    tc_fx_rq(f, "POST", hb, "{\"os\":\"linux\",\"architecture\":\"amd64\"}", &r);
    ck_status(r, 200);
    ck_assert_str_eq(r.body, "{\"status\":\"heartbeat_recorded\"}\n");
    tc_resp_free(&r);
    tc_fx_expect(f, "GET", agent, NULL, 200);
    tc_fx_expect(f, "DELETE", agent, NULL, 200);
    tc_fx_expect(f, "DELETE", agent, NULL, 204);
    tc_fx_expect_error(f, "POST", hb, "{}", 410, "Gone", "Agent has been retired");
    tc_fx_expect_error(f, "POST", "/api/v1/agents/ag-loadtest-09999/heartbeat", "{}", 404,
                       "Not Found", "Agent not found");
    tc_fx_expect(f, "DELETE", "/api/v1/agents/agent-nope", NULL, 404);
    tc_fx_expect(f, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", "{}", 200);
}

/* Bulk renewal of certificate 1 and the agent's whole CSR flow for it (tc_fx_csr_flow: the
 * CSR signed, the deployment job Running, the certificate fetch checked against the key, both
 * jobs Completed); a bad CSR body, unknown job and certificate. */
static void renewal(struct tc_fx *f)
{
    tc_fx_bulk_ids(f, "[\"mc-loadtest-00001\",\"mc-nope\"]", 1, 1);
    tc_fx_csr_flow(f, "ag-loadtest-00001", "ag-loadtest-00002", "mc-loadtest-00001",
                   "loadtest-00001.certs.example.test");
    tc_fx_expect(f, "POST", "/api/v1/agents/ag-loadtest-00001/csr", "{", 400);
    tc_fx_expect(f, "GET", "/api/v1/jobs/job-nope", NULL, 404);
    tc_fx_expect(f, "GET", "/api/v1/agents/ag-loadtest-00001/certificates/mc-loadtest-00002", NULL,
                 404);
}

/* Certificates list (paging), create, get; profiles create. */
static void operator_paths(struct tc_fx *f, int seeded)
{
    json_object *o = tc_fx_json(f, "GET", "/api/v1/certificates?per_page=2&page=2", NULL, 200);
    json_object *data = tc_member(o, "data");
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(json_object_array_length(data), 2);
    ck_assert_int_eq(tc_jint(o, "total"), seeded);
    ck_assert_int_eq(tc_jint(o, "page"), 2);
    json_object_put(o);
    o = tc_fx_json(f, "POST", "/api/v1/certificates",
                   "{\"name\":\"https-cert-1\",\"common_name\":\"https-1.example.test\","
                   "\"owner_id\":\"o-loadtest\",\"team_id\":\"t-loadtest\",\"issuer_id\":"
                   "\"iss-local\",\"renewal_policy_id\":\"rp-loadtest\",\"environment\":"
                   "\"loadtest\"}",
                   201);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/certificates/%s", tc_jstr(o, "id"));
    json_object_put(o);
    tc_fx_expect(f, "GET", path, NULL, 200);
    tc_fx_expect(f, "GET", "/api/v1/certificates/mc-nope", NULL, 404);
    tc_fx_expect(f, "POST", "/api/v1/certificates", "{\"name\":\"x\"}", 400);
    const char *prof = "{\"id\":\"prof-https\",\"name\":\"HTTPS test\"}";
    tc_fx_expect(f, "POST", "/api/v1/profiles", prof, 201);
    tc_fx_expect(f, "POST", "/api/v1/profiles", prof, 409);
    tc_fx_expect(f, "GET", "/api/v1/profiles/prof-https", NULL, 200);
}

/* certctl's endpoints on an HTTPS target of 3 agents and 6 certificates over store db_url
 * (NULL: memory). */
static void certctl_endpoints(const char *db_url)
{
    struct target_config cfg;
    tc_fx_config(&cfg, KEY, true);
    cfg.db_url = db_url;
    cfg.seed_agents = 3;
    cfg.seed_certs = 6;
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    tc_fx_ck_open_and_auth(&f, "/api/v1/certificates", "Authorization: Token x\r\n", "not-the-key",
                           "{}");
    agent_lifecycle(&f);
    renewal(&f);
    operator_paths(&f, 6);
    tc_fx_ck_stats(&f, "requests.heartbeat.410=1 requests.heartbeat.404=1 requests.csr.202=1 "
                       "requests.cert_fetch.200=1 requests.agent_retire.204=1");
    tc_fx_stop(&f);
}

START_TEST(t_certctl_endpoints_https_memory)
{
    certctl_endpoints(NULL);
}
END_TEST

/* One count(*) query on db that must give want. */
static void ck_count(const char *db, const char *sql, int64_t want)
{
    char err[512];
    int64_t n = -1;
    ck_assert_msg(pgtmp_query_i64(&cluster, db, sql, &n, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(n, want);
}

START_TEST(t_certctl_endpoints_https_postgresql)
{
    char db[64], conninfo[PGTMP_CONNINFO_MAX];
    tc_fx_pg_db(&cluster, cluster_up, "tacme", db, conninfo, sizeof conninfo);
    certctl_endpoints(conninfo);
    /* the heartbeat and the jobs reached the tables */
    ck_count(db,
             "SELECT count(*) FROM agents WHERE id = 'ag-loadtest-00001' AND "
             "last_heartbeat_at > now() - interval '1 minute'",
             1);
    ck_count(db,
             "SELECT count(*) FROM jobs WHERE certificate_id = 'mc-loadtest-00001' AND status = "
             "'Completed'",
             2);
    ck_count(
        db, "SELECT count(*) FROM agents WHERE name = 'https-agent' AND retired_at IS NOT NULL", 1);
}
END_TEST

START_TEST(t_rate_limit_https)
{
    struct target_config cfg;
    tc_fx_config(&cfg, KEY, true);
    cfg.seed_agents = 1;
    cfg.rate_per_s = 2;
    cfg.burst = 4;
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    int limited = 0;
    int ok = tc_fx_heartbeats(&f, "ag-loadtest-00001", 8, &limited);
    /* a burst of 4, perhaps one more refilled on a slow machine (2 per second) */
    ck_assert_int_ge(ok, 4);
    ck_assert_int_le(ok, 6);
    ck_assert_int_eq(ok + limited, 8);
    ck_assert_int_eq(tc_fx_stat_count(&f, "heartbeat", "429"), limited);
    tc_fx_stop(&f);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("target_acme");
    const TTest *acme[] = {t_acme_directory_https, t_acme_rejections_https, t_acme_order_https,
                           t_acme_rate_limited_https};
    const TTest *certctl[] = {t_certctl_endpoints_https_memory,
                              t_certctl_endpoints_https_postgresql, t_rate_limit_https};
    testenv_tcase_tests(s, "acme_https", TEST_TIMEOUT_S, acme, sizeof acme / sizeof *acme);
    testenv_tcase_tests(s, "certctl_https", TEST_TIMEOUT_S, certctl,
                        sizeof certctl / sizeof *certctl);
    return pgtmp_run_suite(s, &cluster, &cluster_up, "check_refserver_https");
}
