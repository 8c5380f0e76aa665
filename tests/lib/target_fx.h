/* tests/lib/target_fx.h - the fixture the target's integration tests share (check_refserver plain
 * and TLS, check_refserver_https over HTTPS): a fleetsim-target started in this process with one
 * client on it (tests/integration/refserver_client.h), requests with its API key, certctl's error
 * bodies and 401s, /_target/stats counters, the work answer and the agent's CSR flow. Users
 * compile tests/integration/refserver_client.c and link $(TARGET_LIBS) after libtesthelp.a. */
#ifndef FLEETSIM_TESTS_LIB_TARGET_FX_H
#define FLEETSIM_TESTS_LIB_TARGET_FX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "refserver/server.h"
#include "tests/integration/refserver_client.h"

struct pgtmp;

/* An in-process target and one client connected to it. */
struct tc_fx {
    struct target *t;
    struct tc *c;
    const char *key; /* the API key of every tc_fx_rq (cfg->api_keys[0]) */
};

/* Defaults of the tests' target into cfg: an ephemeral port, HTTPS with a generated CA when tls
 * (else plain HTTP), no rate limit, key as its one API key (borrowed), quiet. */
void tc_fx_config(struct target_config *cfg, const char *key, bool tls);

/* Starts the target of cfg and a client trusting its CA (the test fails when either cannot
 * start, or when the listener is not what cfg->plain asks for). */
void tc_fx_start(struct tc_fx *f, const struct target_config *cfg);

/* Frees the client and stops the target. */
void tc_fx_stop(struct tc_fx *f);

/* method path with body (NULL: none) and the fixture's API key; *r as tc_request fills it. */
void tc_fx_rq(struct tc_fx *f, const char *method, const char *path, const char *body,
              struct tc_resp *r);

/* tc_fx_rq whose answer must be status want; frees the answer. */
void tc_fx_expect(struct tc_fx *f, const char *method, const char *path, const char *body,
                  int want);

/* tc_fx_expect, the answer also certctl's error body with error and message. */
void tc_fx_expect_error(struct tc_fx *f, const char *method, const char *path, const char *body,
                        int want, const char *error, const char *message);

/* tc_fx_rq whose answer must be status want with a JSON body: the parsed body (caller puts). */
json_object *tc_fx_json(struct tc_fx *f, const char *method, const char *path, const char *body,
                        int want);

/* Checks certctl's ErrorWithRequestID body (application/json, a trailing newline, request_id the
 * 36-character X-Request-ID) with error and message. */
void tc_ck_error_body(const struct tc_resp *r, const char *error, const char *message);

/* certctl's open routes and its auth, each answer checked: /health, /ready and
 * /api/v1/auth/info (200, their JSON bodies, each with a new 36-character request id) and
 * /api/v1/version without a key; the three 401s, text/plain with nosniff (no Authorization on
 * GET get_path, with WWW-Authenticate: Bearer; bad_header "Authorization: ...\r\n" on it; wrong_key
 * on agent 1's heartbeat with hb_body); /api/v1/auth/check with the key (200, legacy-key-0);
 * an unknown path (401 without the key, certctl's text/plain 404 with it) and a known path with
 * another method (405). */
void tc_fx_ck_open_and_auth(struct tc_fx *f, const char *get_path, const char *bad_header,
                            const char *wrong_key, const char *hb_body);

/* o.a.b (.c when c is not NULL) as an integer; 0 when absent. */
int64_t tc_stat_path(json_object *o, const char *a, const char *b, const char *c);

/* Checks /_target/stats against spec, space-separated "a.b=N" or "a.b.c=N" items (the value of
 * member path a.b(.c) must be N; an absent one counts as 0), all from one GET. */
void tc_fx_ck_stats(struct tc_fx *f, const char *spec);

/* The target's count of answers with status for endpoint (GET /_target/stats). */
int64_t tc_fx_stat_count(struct tc_fx *f, const char *endpoint, const char *status);

/* Sends n heartbeats of agent (with the key): each 200, or certctl's 429 (Retry-After 1,
 * text/plain body). Returns how many were 200; *limited gets the number of 429s. */
int tc_fx_heartbeats(struct tc_fx *f, const char *agent, int n, int *limited);

/* Polls agent's work (200, count = jobs): how many jobs have type want_type for cert; the first
 * one's id into id_out (size n; "" when none; id_out may be NULL), the answer's count into
 * *count_out when not NULL. */
int tc_fx_work_find(struct tc_fx *f, const char *agent, const char *want_type, const char *cert,
                    char *id_out, size_t n, int *count_out);

/* POST bulk-renew {"certificate_ids": ids_json}: 200 with these totals. */
void tc_fx_bulk_ids(struct tc_fx *f, const char *ids_json, int matched, int enqueued);

/* A PEM CSR with subject CN cn signed by key (malloc'd, caller frees). */
char *tc_csr_pem(EVP_PKEY *key, const char *cn);

/* certctl's CSR request body {"certificate_id", "csr_pem"} (malloc'd, caller frees). */
char *tc_csr_body(const char *cert_id, const char *pem);

/* The agent side of one renewal of cert (enqueued for agent, not for other_agent): one
 * Renewal job on every poll until the CSR (a new P-256 key, subject cn) is signed (202), then
 * the Deployment job, Running, the certificate fetched (leaf with that key + chain), Completed,
 * and both jobs read back Completed. */
void tc_fx_csr_flow(struct tc_fx *f, const char *agent, const char *other_agent, const char *cert,
                    const char *cn);

/* A new database (certctl's schema) named "<prefix>_<pid>" on pg (up: it runs; the test fails
 * when not) with its conninfo into conninfo (size n); its name into db (size 64). */
void tc_fx_pg_db(struct pgtmp *pg, bool up, const char *prefix, char *db, char *conninfo, size_t n);

#endif
