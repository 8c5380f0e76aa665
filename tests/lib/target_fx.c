/* tests/lib/target_fx.c - the in-process fleetsim-target fixture and the request/answer checks
 * the target's integration tests share (see target_fx.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tests/lib/pg.h"
#include "tests/lib/target_fx.h"

#define APP_JSON "application/json"
#define TEXT_PLAIN "text/plain; charset=utf-8"

void tc_fx_config(struct target_config *cfg, const char *key, bool tls)
{
    target_config_defaults(cfg);
    cfg->port = 0;
    cfg->plain = !tls;
    cfg->rate_per_s = 0;
    cfg->api_keys[0] = key;
    cfg->n_api_keys = 1;
    cfg->quiet = true;
}

void tc_fx_start(struct tc_fx *f, const struct target_config *cfg)
{
    char err[512];
    f->key = cfg->api_keys[0];
    f->t = target_start(cfg, err, sizeof err);
    ck_assert_msg(f->t != NULL, "target_start: %s", err);
    ck_assert_int_eq(target_is_tls(f->t), !cfg->plain);
    if (!cfg->plain && !cfg->tls_cert_file)
        ck_assert_ptr_nonnull(target_ca_path(f->t)); /* the generated CA */
    f->c = tc_new(target_port(f->t), target_is_tls(f->t), target_ca_path(f->t));
    ck_assert_ptr_nonnull(f->c);
}

void tc_fx_stop(struct tc_fx *f)
{
    tc_free(f->c);
    target_stop(f->t);
}

void tc_fx_rq(struct tc_fx *f, const char *method, const char *path, const char *body,
              struct tc_resp *r)
{
    tc_request(f->c, method, path, f->key, NULL, body, r);
}

/* tc_fx_rq whose answer must be status want; the answer stays in *r. */
static void rq_status(struct tc_fx *f, const char *method, const char *path, const char *body,
                      int want, struct tc_resp *r)
{
    tc_fx_rq(f, method, path, body, r);
    ck_assert_msg(r->error == HTTP_ERR_NONE && r->status == want, "%s %s: %d (%s), want %d: %s",
                  method, path, r->status, http_error_name(r->error), want, r->body ? r->body : "");
}

void tc_fx_expect(struct tc_fx *f, const char *method, const char *path, const char *body, int want)
{
    struct tc_resp r;
    rq_status(f, method, path, body, want, &r);
    tc_resp_free(&r);
}

void tc_fx_expect_error(struct tc_fx *f, const char *method, const char *path, const char *body,
                        int want, const char *error, const char *message)
{
    struct tc_resp r;
    rq_status(f, method, path, body, want, &r);
    tc_ck_error_body(&r, error, message);
    tc_resp_free(&r);
}

json_object *tc_fx_json(struct tc_fx *f, const char *method, const char *path, const char *body,
                        int want)
{
    struct tc_resp r;
    rq_status(f, method, path, body, want, &r);
    json_object *o = tc_body_json(&r);
    tc_resp_free(&r);
    return o;
}

void tc_ck_error_body(const struct tc_resp *r, const char *error, const char *message)
{
    ck_assert_str_eq(r->content_type, APP_JSON);
    json_object *o = tc_body_json(r);
    ck_assert_str_eq(tc_jstr(o, "error"), error);
    ck_assert_str_eq(tc_jstr(o, "message"), message);
    ck_assert_str_eq(tc_jstr(o, "request_id"), r->request_id);
    ck_assert_uint_eq(strlen(r->request_id), 36);
    ck_assert_int_eq(r->body[r->body_len - 1], '\n');
    json_object_put(o);
}

/* One request without the fixture's key whose answer must be a 401 with body, text/plain and
 * this WWW-Authenticate; frees the answer. */
static void ck_401(struct tc_fx *f, const char *method, const char *path, const char *key,
                   const char *headers, const char *body, const char *want_body,
                   const char *want_www)
{
    struct tc_resp r;
    tc_request(f->c, method, path, key, headers, body, &r);
    ck_status(r, 401);
    ck_assert_str_eq(r.body, want_body);
    ck_assert_str_eq(r.content_type, TEXT_PLAIN);
    ck_assert_str_eq(r.www_authenticate, want_www);
    ck_assert_str_eq(r.nosniff, "nosniff");
    ck_assert_uint_eq(strlen(r.request_id), 36);
    tc_resp_free(&r);
}

/* GET path without a key: 200 with want_body, application/json and a request id unlike prev
 * (size TC_HEADER_MAX, updated). */
static void ck_open(struct tc_fx *f, const char *path, const char *want_body, char *prev)
{
    struct tc_resp r;
    tc_request(f->c, "GET", path, NULL, NULL, NULL, &r);
    ck_status(r, 200);
    ck_assert_str_eq(r.body, want_body);
    ck_assert_str_eq(r.content_type, APP_JSON);
    ck_assert_uint_eq(strlen(r.request_id), 36);
    ck_assert_str_ne(r.request_id, prev);
    snprintf(prev, TC_HEADER_MAX, "%s", r.request_id);
    tc_resp_free(&r);
}

void tc_fx_ck_open_and_auth(struct tc_fx *f, const char *get_path, const char *bad_header,
                            const char *wrong_key, const char *hb_body)
{
    char id[TC_HEADER_MAX] = "";
    ck_open(f, "/health", "{\"status\":\"healthy\"}\n", id);
    ck_open(f, "/ready", "{\"db\":\"reachable\",\"status\":\"ready\"}\n", id);
    ck_open(f, "/api/v1/auth/info", "{\"auth_type\":\"api-key\",\"required\":true}\n", id);
    struct tc_resp r;
    tc_request(f->c, "GET", "/api/v1/version", NULL, NULL, NULL, &r);
    ck_status(r, 200);
    json_object *o = tc_body_json(&r);
    ck_assert_ptr_nonnull(tc_jstr(o, "version"));
    ck_assert_ptr_nonnull(tc_jstr(o, "go_version"));
    json_object_put(o);
    tc_resp_free(&r);

    ck_401(f, "GET", get_path, NULL, NULL, NULL, "{\"error\":\"Authorization header required\"}\n",
           "Bearer realm=\"certctl\"");
    ck_401(f, "GET", get_path, NULL, bad_header, NULL,
           "{\"error\":\"Invalid Authorization header format, expected: Bearer <token>\"}\n", "");
    ck_401(f, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", wrong_key, NULL, hb_body,
           "{\"error\":\"Invalid API key\"}\n", "");
    rq_status(f, "GET", "/api/v1/auth/check", NULL, 200, &r);
    ck_assert_str_eq(r.body,
                     "{\"admin\":false,\"status\":\"authenticated\",\"user\":\"legacy-key-0\"}\n");
    tc_resp_free(&r);

    /* unknown paths sit behind auth (401), then 404; a known path with another method 405 */
    tc_request(f->c, "GET", "/api/v1/nothing", NULL, NULL, NULL, &r);
    ck_status(r, 401);
    tc_resp_free(&r);
    rq_status(f, "GET", "/api/v1/nothing", NULL, 404, &r);
    ck_assert_str_eq(r.body, "404 page not found\n");
    ck_assert_str_eq(r.content_type, TEXT_PLAIN);
    tc_resp_free(&r);
    tc_fx_expect(f, "PUT", "/api/v1/agents/ag-loadtest-00001/heartbeat", "{}", 405);
}

int64_t tc_stat_path(json_object *o, const char *a, const char *b, const char *c)
{
    json_object *v = tc_member(tc_member(o, a), b);
    return json_object_get_int64(c ? tc_member(v, c) : v);
}

void tc_fx_ck_stats(struct tc_fx *f, const char *spec)
{
    json_object *o = tc_stats(f->c);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(buf, " ", &save); item; item = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(item, '=');
        ck_assert_msg(eq != NULL, "stats spec item %s", item);
        *eq = '\0';
        char *b = strchr(item, '.');
        ck_assert_msg(b != NULL, "stats spec item %s", item);
        *b++ = '\0';
        char *c = strchr(b, '.');
        if (c)
            *c++ = '\0';
        int64_t got = tc_stat_path(o, item, b, c), want = strtoll(eq + 1, NULL, 10);
        ck_assert_msg(got == want, "stats %s.%s%s%s: %lld, want %lld", item, b, c ? "." : "",
                      c ? c : "", (long long)got, (long long)want);
    }
    json_object_put(o);
}

int64_t tc_fx_stat_count(struct tc_fx *f, const char *endpoint, const char *status)
{
    json_object *o = tc_stats(f->c);
    int64_t v = tc_stat_path(o, "requests", endpoint, status);
    json_object_put(o);
    return v;
}

int tc_fx_heartbeats(struct tc_fx *f, const char *agent, int n, int *limited)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/agents/%s/heartbeat", agent);
    int ok = 0;
    *limited = 0;
    for (int i = 0; i < n; i++) {
        struct tc_resp r;
        tc_fx_rq(f, "POST", path, "{}", &r);
        ck_assert_int_eq(r.error, HTTP_ERR_NONE);
        if (r.status == 200) {
            ok++;
        } else {
            ck_assert_int_eq(r.status, 429);
            ck_assert_str_eq(r.retry_after, "1");
            ck_assert_str_eq(r.content_type, TEXT_PLAIN);
            ck_assert_str_eq(r.body, "{\"error\":\"Rate limit exceeded\"}\n");
            (*limited)++;
        }
        tc_resp_free(&r);
    }
    return ok;
}

int tc_fx_work_find(struct tc_fx *f, const char *agent, const char *want_type, const char *cert,
                    char *id_out, size_t n, int *count_out)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/agents/%s/work", agent);
    struct tc_resp r;
    rq_status(f, "GET", path, NULL, 200, &r);
    ck_assert_str_eq(r.content_type, APP_JSON);
    json_object *o = tc_body_json(&r), *jobs = tc_member(o, "jobs");
    ck_assert_ptr_nonnull(jobs);
    int count = (int)tc_jint(o, "count");
    ck_assert_int_eq(count, (int)json_object_array_length(jobs));
    if (count_out)
        *count_out = count;
    if (id_out)
        id_out[0] = '\0';
    int found = 0;
    for (size_t i = 0; i < json_object_array_length(jobs); i++) {
        json_object *j = json_object_array_get_idx(jobs, i);
        if (strcmp(tc_jstr(j, "type"), want_type) == 0 &&
            strcmp(tc_jstr(j, "certificate_id"), cert) == 0) {
            if (!found && id_out)
                snprintf(id_out, n, "%s", tc_jstr(j, "id"));
            found++;
        }
    }
    json_object_put(o);
    tc_resp_free(&r);
    return found;
}

void tc_fx_bulk_ids(struct tc_fx *f, const char *ids_json, int matched, int enqueued)
{
    char body[512];
    snprintf(body, sizeof body, "{\"certificate_ids\":%s}", ids_json);
    json_object *o = tc_fx_json(f, "POST", "/api/v1/certificates/bulk-renew", body, 200);
    ck_assert_int_eq(tc_jint(o, "total_matched"), matched);
    ck_assert_int_eq(tc_jint(o, "total_enqueued"), enqueued);
    json_object_put(o);
}

char *tc_csr_pem(EVP_PKEY *key, const char *cn)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    ck_assert_int_gt(X509_REQ_sign(req, key, EVP_sha256()), 0);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(bio, req);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *pem = strndup(data, (size_t)len);
    BIO_free(bio);
    X509_REQ_free(req);
    return pem;
}

char *tc_csr_body(const char *cert_id, const char *pem)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "certificate_id", json_object_new_string(cert_id));
    json_object_object_add(o, "csr_pem", json_object_new_string(pem));
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

/* POSTs a CSR for cert with a new P-256 key and subject cn from agent: 202 csr_signed. Returns
 * the key (caller frees). */
static EVP_PKEY *submit_csr(struct tc_fx *f, const char *agent, const char *cert, const char *cn)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(key);
    char *pem = tc_csr_pem(key, cn);
    char *body = tc_csr_body(cert, pem);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/agents/%s/csr", agent);
    struct tc_resp r;
    rq_status(f, "POST", path, body, 202, &r);
    ck_assert_str_eq(r.body, "{\"status\":\"csr_signed\"}\n");
    tc_resp_free(&r);
    free(body);
    free(pem);
    return key;
}

/* The agent's certificate fetch: 200, a leaf holding key followed by its chain. */
static void ck_cert_fetch(struct tc_fx *f, const char *agent, const char *cert, EVP_PKEY *key)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/agents/%s/certificates/%s", agent, cert);
    json_object *o = tc_fx_json(f, "GET", path, NULL, 200);
    const char *chain = tc_jstr(o, "certificate_pem");
    ck_assert_ptr_nonnull(chain);
    BIO *bio = BIO_new_mem_buf(chain, -1);
    X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    X509 *ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(leaf);
    ck_assert_ptr_nonnull(ca); /* leaf + chain */
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), key), 1);
    X509_free(leaf);
    X509_free(ca);
    BIO_free(bio);
    json_object_put(o);
}

/* GET /api/v1/jobs/id: 200 with this status (and type when not NULL). */
static void ck_job(struct tc_fx *f, const char *id, const char *status, const char *type)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/jobs/%s", id);
    json_object *o = tc_fx_json(f, "GET", path, NULL, 200);
    ck_assert_str_eq(tc_jstr(o, "status"), status);
    if (type)
        ck_assert_str_eq(tc_jstr(o, "type"), type);
    json_object_put(o);
}

void tc_fx_csr_flow(struct tc_fx *f, const char *agent, const char *other_agent, const char *cert,
                    const char *cn)
{
    char job[128], dep[128], path[256];
    ck_assert_int_eq(tc_fx_work_find(f, agent, "Renewal", cert, job, sizeof job, NULL), 1);
    ck_assert_int_eq(tc_fx_work_find(f, other_agent, "Renewal", cert, NULL, 0, NULL), 0);
    /* AwaitingCSR items come back on every poll until the CSR arrives */
    ck_assert_int_eq(tc_fx_work_find(f, agent, "Renewal", cert, NULL, 0, NULL), 1);
    EVP_PKEY *key = submit_csr(f, agent, cert, cn);

    ck_assert_int_eq(tc_fx_work_find(f, agent, "Deployment", cert, dep, sizeof dep, NULL), 1);
    ck_assert_int_eq(tc_fx_work_find(f, agent, "Renewal", cert, NULL, 0, NULL), 0);
    ck_assert_int_eq(tc_fx_work_find(f, other_agent, "Deployment", cert, NULL, 0, NULL), 0);
    snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/status", agent, dep);
    struct tc_resp r;
    rq_status(f, "POST", path, "{\"status\":\"Running\"}", 200, &r);
    ck_assert_str_eq(r.body, "{\"status\":\"updated\"}\n");
    tc_resp_free(&r);
    ck_cert_fetch(f, agent, cert, key);
    EVP_PKEY_free(key);
    tc_fx_expect(f, "POST", path, "{\"status\":\"Completed\"}", 200);
    ck_job(f, dep, "Completed", "Deployment");
    ck_job(f, job, "Completed", NULL);
}

void tc_fx_pg_db(struct pgtmp *pg, bool up, const char *prefix, char *db, char *conninfo, size_t n)
{
    char err[512];
    ck_assert_msg(up, "no PostgreSQL cluster");
    snprintf(db, 64, "%s_%d", prefix, (int)getpid());
    ck_assert_msg(pgtmp_create_db(pg, db, true, err, sizeof err) == 0, "%s", err);
    ck_assert(pgtmp_conninfo_db(pg, db, conninfo, n) > 0);
}
