/* tests/integration/check_refserver.c - fleetsim-target driven with real requests through
 * engine/http_client: in-process (target_start) plain and TLS, as a separate fleetsim-target
 * process (port read from its output, SIGTERM exit 0), memory and PostgreSQL stores. Asserts
 * certctl's status codes, content types and bodies (docs/certctl.md), job routing, the CSR
 * flow, bulk-renew accounting and clamp, paging, the rate limiter, faults and /_target/stats;
 * over TLS a small response leaves as one TLS record, as a Go server's does. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "engine/http_once.h"
#include "engine/tls.h"
#include "refserver/ca.h"
#include "tests/lib/pg.h"
#include "tests/lib/procs.h"
#include "tests/lib/target_fx.h"
#include "tests/lib/testenv.h"

#define KEY "test-key-2026"
#define TEST_TIMEOUT_S 60
#define MS 1000000ULL
#define HB_BODY                                                                    \
    "{\"architecture\":\"arm64\",\"hostname\":\"h1.example.test\",\"ip_address\":" \
    "\"127.0.0.1\",\"os\":\"darwin\",\"version\":\"1.0.0\"}"
#define TEXT_PLAIN "text/plain; charset=utf-8"
#define APP_JSON "application/json"
#define PROBLEM_JSON "application/problem+json"
#define HB_1 "/api/v1/agents/ag-loadtest-00001/heartbeat"

static struct pgtmp cluster;
static bool cluster_up;

/* The tests' target config: plain HTTP unless tls, seed_agents agents, seed_certs certificates. */
static struct target_config test_cfg(bool tls, int seed_agents, int seed_certs)
{
    struct target_config cfg;
    tc_fx_config(&cfg, KEY, tls);
    cfg.seed_agents = seed_agents;
    cfg.seed_certs = seed_certs;
    return cfg;
}

/* f: the target of test_cfg(tls, seed_agents, seed_certs) started with its client. */
static void start(struct tc_fx *f, bool tls, int seed_agents, int seed_certs)
{
    struct target_config cfg = test_cfg(tls, seed_agents, seed_certs);
    tc_fx_start(f, &cfg);
}

/* A request without the key, expected to answer status want; the answer stays in *r. */
static void open_rq(struct tc_fx *f, const char *method, const char *path, int want,
                    struct tc_resp *r)
{
    tc_request(f->c, method, path, NULL, NULL, NULL, r);
    ck_status(*r, want);
}

/* ---- tests: open routes and auth ------------------------------------------------------------ */

START_TEST(t_open_routes_and_auth)
{
    struct tc_fx f;
    start(&f, false, 0, 0);
    tc_fx_ck_open_and_auth(&f, "/api/v1/auth/check", "Authorization: Basic abc\r\n", "wrong-key",
                           HB_BODY);
    tc_fx_stop(&f);
}
END_TEST

/* ---- agents ------------------------------------------------------------------------------- */

START_TEST(t_heartbeat_codes)
{
    struct tc_fx f;
    start(&f, false, 2, 0);
    struct tc_resp r;

    tc_fx_rq(&f, "POST", HB_1, HB_BODY, &r);
    ck_status(r, 200);
    ck_assert_str_eq(r.body, "{\"status\":\"heartbeat_recorded\"}\n");
    ck_assert_str_eq(r.content_type, APP_JSON);
    tc_resp_free(&r);
    /* metadata from the body reached the agent record */
    json_object *o = tc_fx_json(&f, "GET", "/api/v1/agents/ag-loadtest-00001", NULL, 200);
    ck_assert_str_eq(tc_jstr(o, "os"), "darwin");
    ck_assert_str_eq(tc_jstr(o, "architecture"), "arm64");
    ck_assert_str_eq(tc_jstr(o, "version"), "1.0.0");
    json_object_put(o);
    /* certctl ignores an undecodable body and still records the heartbeat */
    tc_fx_expect(&f, "POST", "/api/v1/agents/ag-loadtest-00002/heartbeat", "not json", 200);
    tc_fx_expect_error(&f, "POST", "/api/v1/agents/ag-loadtest-00099/heartbeat", HB_BODY, 404,
                       "Not Found", "Agent not found");
    tc_fx_expect(&f, "GET", "/api/v1/agents/ag-loadtest-00099", NULL, 404);
    tc_fx_stop(&f);
}
END_TEST

static void register_agent(struct tc_fx *f, const char *name, char *id_out, size_t n)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"hostname\":\"%s.example.test\"}", name, name);
    json_object *o = tc_fx_json(f, "POST", "/api/v1/agents", body, 201);
    snprintf(id_out, n, "%s", tc_jstr(o, "id"));
    ck_assert_str_eq(tc_jstr(o, "name"), name);
    json_object_put(o);
    ck_assert_int_eq(strncmp(id_out, "agent-", 6), 0);
}

/* POST /api/v1/agents with body: 400 with certctl's message (NULL: any body). */
static void register_rejected(struct tc_fx *f, const char *body, const char *message)
{
    if (message)
        tc_fx_expect_error(f, "POST", "/api/v1/agents", body, 400, "Bad Request", message);
    else
        tc_fx_expect(f, "POST", "/api/v1/agents", body, 400);
}

/* The seeded agent 1 owns a target: its retirement is blocked unless forced with a reason. */
static void retire_blocked(struct tc_fx *f)
{
    json_object *o = tc_fx_json(f, "DELETE", "/api/v1/agents/ag-loadtest-00001", NULL, 409);
    ck_assert_str_eq(tc_jstr(o, "error"), "blocked_by_dependencies");
    json_object *counts = tc_member(o, "counts");
    ck_assert_ptr_nonnull(counts);
    ck_assert_int_eq(tc_jint(counts, "active_targets"), 1);
    json_object_put(o);
    tc_fx_expect(f, "DELETE", "/api/v1/agents/ag-loadtest-00001?force=true", NULL, 400);
    tc_fx_expect(f, "DELETE", "/api/v1/agents/ag-loadtest-00001?force=true&reason=decommissioned",
                 NULL, 200);
    tc_fx_expect(f, "DELETE", "/api/v1/agents/server-scanner", NULL, 403);
}

START_TEST(t_register_and_retire)
{
    struct tc_fx f;
    start(&f, false, 1, 0);
    struct tc_resp r;
    char id[128], hb[256], agent[256], work[256];
    register_agent(&f, "x-agent", id, sizeof id);

    tc_fx_expect_error(&f, "POST", "/api/v1/agents", "{\"name\":\"x-agent\",\"hostname\":\"h\"}",
                       409, "Conflict", "Agent with this name already exists");
    register_rejected(&f, "{\"hostname\":\"h\"}", "name is required");
    register_rejected(&f, "{\"name\":\"y\"}", "hostname is required");
    register_rejected(&f, "{\"name\":", "Invalid request body");
    char longname[200];
    memset(longname, 'n', 129);
    longname[129] = '\0';
    char body[400];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"hostname\":\"h\"}", longname);
    register_rejected(&f, body, NULL);

    snprintf(hb, sizeof hb, "/api/v1/agents/%s/heartbeat", id);
    snprintf(agent, sizeof agent, "/api/v1/agents/%s", id);
    snprintf(work, sizeof work, "/api/v1/agents/%s/work", id);
    tc_fx_expect(&f, "POST", hb, HB_BODY, 200);
    json_object *o = tc_fx_json(&f, "DELETE", agent, NULL, 200);
    ck_assert_ptr_nonnull(tc_jstr(o, "retired_at"));
    json_object_put(o);
    /* a retired agent's heartbeat: 410 Gone; its poll still 200 */
    tc_fx_expect_error(&f, "POST", hb, HB_BODY, 410, "Gone", "Agent has been retired");
    tc_fx_rq(&f, "GET", work, NULL, &r);
    ck_status(r, 200);
    ck_assert_str_eq(r.body, "{\"count\":0,\"jobs\":[]}\n");
    tc_resp_free(&r);
    tc_fx_rq(&f, "DELETE", agent, NULL, &r);
    ck_status(r, 204);
    ck_assert_uint_eq(r.body_len, 0);
    tc_resp_free(&r);
    tc_fx_expect_error(&f, "DELETE", "/api/v1/agents/agent-nope", NULL, 404, "Not Found",
                       "Agent not found");
    retire_blocked(&f);

    tc_fx_ck_stats(&f, "agents.retired=2 agents.total=2 requests.agent_retire.204=1 "
                       "requests.register.201=1 requests.heartbeat.410=1");
    tc_fx_stop(&f);
}
END_TEST

/* ---- work routing and the CSR flow ---------------------------------------------------------- */

/* A CSR for cert_id signed by key (freed here) with subject cn: POSTed from agent 1, answered
 * want. */
static void csr_rejected(struct tc_fx *f, EVP_PKEY *key, const char *cert_id, const char *cn,
                         int want)
{
    char *pem = tc_csr_pem(key, cn);
    char *body = tc_csr_body(cert_id, pem);
    tc_fx_expect(f, "POST", "/api/v1/agents/ag-loadtest-00001/csr", body, want);
    free(body);
    free(pem);
    EVP_PKEY_free(key);
}

static void csr_rejections(struct tc_fx *f)
{
    const char *path = "/api/v1/agents/ag-loadtest-00001/csr";
    tc_fx_expect_error(f, "POST", path, "{", 400, "Bad Request", "Invalid request body");
    tc_fx_expect_error(f, "POST", path,
                       "{\"certificate_id\":\"mc-loadtest-00001\",\"csr_pem\":\"hello\"}", 400,
                       "Bad Request", "csr_pem must be a valid PEM-encoded certificate request");
    tc_fx_expect_error(f, "POST", path,
                       "{\"certificate_id\":\"mc-loadtest-00001\",\"csr_pem\":\"-----BEGIN "
                       "CERTIFICATE REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----\\n\"}",
                       500, "Internal Server Error", "Failed to submit CSR");
    /* a key weaker than the default profile allows (RSA 1024) */
    csr_rejected(f, EVP_RSA_gen(1024), "mc-loadtest-00001", "loadtest-00001.certs.example.test",
                 500);
    /* a valid CSR for a certificate that does not exist */
    csr_rejected(f, EVP_EC_gen("P-256"), "mc-nope", "x.example.test", 500);
}

static void agent_flow(struct tc_fx *f)
{
    tc_fx_bulk_ids(f, "[\"mc-loadtest-00001\",\"mc-nope\"]", 1, 1);
    tc_fx_expect_error(f, "GET", "/api/v1/agents/ag-nope/work", NULL, 500, "Internal Server Error",
                       "Failed to get pending work");
    csr_rejections(f);
    tc_fx_csr_flow(f, "ag-loadtest-00001", "ag-loadtest-00002", "mc-loadtest-00001",
                   "loadtest-00001.certs.example.test");
    /* certificate 2 is mapped to agent 2 */
    tc_fx_bulk_ids(f, "[\"mc-loadtest-00002\"]", 1, 1);
    tc_fx_csr_flow(f, "ag-loadtest-00002", "ag-loadtest-00001", "mc-loadtest-00002",
                   "loadtest-00002.certs.example.test");

    const char *job_nope = "/api/v1/agents/ag-loadtest-00001/jobs/job-nope/status";
    tc_fx_expect_error(f, "POST", job_nope, "{\"status\":\"Running\"}", 500,
                       "Internal Server Error", "Failed to update job status");
    tc_fx_expect_error(f, "POST", job_nope, "{\"status\":\"\"}", 400, "Bad Request",
                       "Status is required");
    tc_fx_expect_error(f, "GET", "/api/v1/agents/ag-loadtest-00001/certificates/mc-loadtest-00003",
                       NULL, 404, "Not Found", "Certificate not found or not ready");
    tc_fx_expect(f, "GET", "/api/v1/jobs/job-nope", NULL, 404);
}

START_TEST(t_work_routing_and_csr)
{
    struct tc_fx f;
    start(&f, false, 2, 4);
    agent_flow(&f);
    tc_fx_ck_stats(&f, "requests.csr.202=2 requests.csr.400=2 requests.csr.500=3 "
                       "requests.bulk_renew.200=2 requests.cert_fetch.200=2 jobs.Completed=4");
    tc_fx_stop(&f);
}
END_TEST

/* The agent's reports and certctl's newer answers: verify (200, 400 without a fingerprint),
 * discoveries (202), a CSR without certificate_id (202 csr_accepted) and exactly four
 * sentinel agents that cannot be retired. */
START_TEST(t_agent_reports)
{
    struct tc_fx f;
    start(&f, false, 1, 0);
    const char *fp = "\"aa11\"";
    char body[512];
    snprintf(body, sizeof body,
             "{\"actual_fingerprint\":%s,\"error\":\"\",\"expected_fingerprint\":%s,"
             "\"target_id\":\"tgt-loadtest-00001\",\"verified\":true}",
             fp, fp);
    json_object *o = tc_fx_json(&f, "POST", "/api/v1/jobs/job-1/verify", body, 200);
    ck_assert_str_eq(tc_jstr(o, "job_id"), "job-1");
    json_object_put(o);
    tc_fx_expect_error(&f, "POST", "/api/v1/jobs/job-1/verify",
                       "{\"actual_fingerprint\":\"\",\"error\":\"failed to connect\","
                       "\"expected_fingerprint\":\"\",\"target_id\":\"t\",\"verified\":false}",
                       400, "Bad Request",
                       "expected_fingerprint and actual_fingerprint are required");
    tc_fx_expect(&f, "POST", "/api/v1/jobs/job-1/verify", "{\"verified\":\"yes\"}", 400);
    o = tc_fx_json(&f, "POST", "/api/v1/agents/ag-loadtest-00001/discoveries",
                   "{\"agent_id\":\"ag-loadtest-00001\",\"directories\":[\"/etc/ssl\"],"
                   "\"certificates\":[{},{}],\"errors\":[],\"scan_duration_ms\":3}",
                   202);
    json_object_put(o);
    o = tc_fx_json(&f, "POST", "/api/v1/agents/ag-loadtest-00001/csr",
                   "{\"csr_pem\":\"-----BEGIN CERTIFICATE REQUEST-----\\nx\\n\"}", 202);
    ck_assert_str_eq(tc_jstr(o, "status"), "csr_accepted");
    json_object_put(o);
    const char *sentinels[] = {"server-scanner", "cloud-aws-sm", "cloud-azure-kv", "cloud-gcp-sm"};
    for (size_t i = 0; i < 4; i++) {
        char path[96];
        snprintf(path, sizeof path, "/api/v1/agents/%s", sentinels[i]);
        tc_fx_expect(&f, "DELETE", path, NULL, 403);
    }
    tc_fx_expect(&f, "DELETE", "/api/v1/agents/cloud-other", NULL, 404); /* not a sentinel */
    tc_fx_ck_stats(&f, "requests.job_verify.200=1 requests.job_verify.400=2 verify.calls=1 "
                       "verify.verified=1 requests.discoveries.202=1 discoveries.calls=1 "
                       "discoveries.certificates=2 requests.csr.202=1");
    tc_fx_stop(&f);
}
END_TEST

/* ---- operator endpoints ------------------------------------------------------------------- */

static void bulk_agent(struct tc_fx *f, int matched, int enqueued, int skipped)
{
    json_object *o = tc_fx_json(f, "POST", "/api/v1/certificates/bulk-renew",
                                "{\"agent_id\":\"ag-loadtest-00001\"}", 200);
    ck_assert_int_eq(tc_jint(o, "total_matched"), matched);
    ck_assert_int_eq(tc_jint(o, "total_enqueued"), enqueued);
    ck_assert_int_eq(tc_jint(o, "total_skipped"), skipped);
    ck_assert_int_eq(tc_jint(o, "total_failed"), 0);
    json_object *jobs = tc_member(o, "enqueued_jobs");
    ck_assert_ptr_nonnull(jobs);
    ck_assert_int_eq((int)json_object_array_length(jobs), enqueued);
    json_object_put(o);
}

/* GET /api/v1/certificates<query>: 200 with items entries and these paging numbers. */
static void list_expect(struct tc_fx *f, const char *query, int items, int total, int page,
                        int per_page)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/certificates%s", query);
    json_object *o = tc_fx_json(f, "GET", path, NULL, 200), *data = tc_member(o, "data");
    ck_assert_ptr_nonnull(data);
    ck_assert_msg((int)json_object_array_length(data) == items, "%s: %zu items", query,
                  json_object_array_length(data));
    ck_assert_int_eq(tc_jint(o, "total"), total);
    ck_assert_int_eq(tc_jint(o, "page"), page);
    ck_assert_int_eq(tc_jint(o, "per_page"), per_page);
    json_object_put(o);
}

/* k6's issuance body: 201 Pending, readable back; again 500 (the name is taken). */
static void issue_k6_cert(struct tc_fx *f)
{
    const char *cert = "{\"name\":\"k6-cert-1\",\"common_name\":\"k6-1.example.test\","
                       "\"owner_id\":\"o-alice\",\"team_id\":\"t-platform\",\"issuer_id\":"
                       "\"iss-local\",\"renewal_policy_id\":\"rp-standard\",\"environment\":"
                       "\"loadtest\",\"sans\":[\"k6-1.example.test\"]}";
    json_object *o = tc_fx_json(f, "POST", "/api/v1/certificates", cert, 201);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/certificates/%s", tc_jstr(o, "id"));
    ck_assert_str_eq(tc_jstr(o, "status"), "Pending");
    json_object_put(o);
    o = tc_fx_json(f, "GET", path, NULL, 200);
    ck_assert_str_eq(tc_jstr(o, "common_name"), "k6-1.example.test");
    json_object_put(o);
    tc_fx_expect(f, "POST", "/api/v1/certificates", cert, 500);
}

START_TEST(t_bulk_clamp_and_paging)
{
    struct target_config cfg = test_cfg(false, 1, 60);
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    static const struct {
        const char *query;
        int items, total, page, per_page;
    } lists[] = {
        {"", 50, 60, 1, 50},
        {"?page=2", 10, 60, 2, 50},
        {"?per_page=500", 60, 60, 1, 500},
        {"?per_page=501", 50, 60, 1, 50},
        {"?per_page=0", 50, 60, 1, 50},
        {"?per_page=abc&page=-3", 50, 60, 1, 50},
        {"?page=4&per_page=20", 0, 60, 4, 20},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        list_expect(&f, lists[i].query, lists[i].items, lists[i].total, lists[i].page,
                    lists[i].per_page);

    /* certctl's clamp: a filtered call processes the 50 oldest matches; a repeat makes no
	 * progress because those 50 are now in progress */
    bulk_agent(&f, 50, 50, 0);
    bulk_agent(&f, 50, 0, 50);
    list_expect(&f, "?status=RenewalInProgress&per_page=1", 1, 50, 1, 1);
    tc_fx_expect(&f, "POST", "/api/v1/certificates/bulk-renew", "{}", 400);
    tc_fx_expect(&f, "POST", "/api/v1/certificates/bulk-renew", "[1]", 400);

    issue_k6_cert(&f);
    tc_fx_expect_error(&f, "POST", "/api/v1/certificates", "{\"name\":\"k6-cert-2\"}", 400,
                       "Bad Request", "common_name is required");
    tc_fx_expect(&f, "GET", "/api/v1/certificates/mc-nope", NULL, 404);
    list_expect(&f, "", 50, 61, 1, 50);
    tc_fx_stop(&f);

    /* the same fleet with the clamp off: all 60 at once */
    cfg.bulk_clamp = false;
    tc_fx_start(&f, &cfg);
    bulk_agent(&f, 60, 60, 0);
    tc_fx_ck_stats(&f, "jobs.AwaitingCSR=60");
    tc_fx_stop(&f);
}
END_TEST

START_TEST(t_profiles_and_acme_routing)
{
    struct tc_fx f;
    start(&f, false, 0, 0);
    struct tc_resp r;
    const char *prof = "{\"id\":\"prof-test\",\"name\":\"Test profile\"}";
    json_object *o = tc_fx_json(&f, "POST", "/api/v1/profiles", prof, 201);
    ck_assert_str_eq(tc_jstr(o, "id"), "prof-test");
    json_object_put(o);
    tc_fx_expect(&f, "POST", "/api/v1/profiles", prof, 409);
    tc_fx_expect(&f, "POST", "/api/v1/profiles", "{\"id\":\"prof-x\"}", 400);

    const char *dirs[] = {"/acme/profile/prof-test/directory",
                          "/acme/profile/prof-loadtest/directory"};
    for (int i = 0; i < 2; i++) {
        open_rq(&f, "GET", dirs[i], 200, &r);
        o = tc_body_json(&r);
        ck_assert_ptr_nonnull(tc_jstr(o, "newNonce"));
        ck_assert_ptr_nonnull(tc_jstr(o, "newOrder"));
        json_object_put(o);
        tc_resp_free(&r);
    }
    tc_request(f.c, "HEAD", "/acme/profile/prof-test/new-nonce", NULL, NULL, NULL, &r);
    ck_assert_int_eq(r.error, HTTP_ERR_NONE);
    ck_assert(r.status == 200 || r.status == 204);
    ck_assert_uint_gt(strlen(r.replay_nonce), 10);
    tc_resp_free(&r);
    open_rq(&f, "GET", "/acme/profile/prof-none/directory", 404, &r);
    ck_assert_str_eq(r.content_type, PROBLEM_JSON);
    tc_resp_free(&r);

    tc_fx_ck_stats(&f, "requests.acme_directory.200=2 requests.acme_directory.404=1 "
                       "requests.profile_create.201=1");
    tc_fx_stop(&f);
}
END_TEST

/* ---- stats, rate limit, faults ---------------------------------------------------------------- */

START_TEST(t_stats_numbers)
{
    struct target_config cfg = test_cfg(false, 3, 0);
    cfg.os_mix = (struct identity_os_mix){{0, 100, 0}};
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    struct tc_resp r;
    for (int i = 0; i < 3; i++)
        tc_fx_expect(&f, "POST", HB_1, "{}", 200);
    tc_fx_rq(&f, "POST", "/api/v1/agents/ag-loadtest-00002/heartbeat", "{}", &r);
    tc_resp_free(&r);
    tc_fx_expect(&f, "POST", "/api/v1/agents/ag-loadtest-00009/heartbeat", "{}", 404);
    char id[128], path[256];
    register_agent(&f, "api-agent", id, sizeof id);
    snprintf(path, sizeof path, "/api/v1/agents/%s/heartbeat", id);
    tc_fx_rq(&f, "POST", path, "{\"os\":\"linux\"}", &r);
    tc_resp_free(&r);
    tc_request(f.c, "GET", "/health", NULL, NULL, NULL, &r);
    tc_resp_free(&r);

    char spec[512];
    snprintf(spec, sizeof spec,
             "requests.heartbeat.200=5 requests.heartbeat.404=1 requests.health.200=1 "
             "heartbeats_by_agent.ag-loadtest-00001=3 heartbeats_by_agent.ag-loadtest-00002=1 "
             "heartbeats_by_agent.%s=1 agents.total=4 agents.retired=0 agents.os.windows=3 "
             "agents.os.linux=1 agents.os.darwin=0",
             id);
    tc_fx_ck_stats(&f, spec);
    json_object *s = tc_stats(f.c);
    json_object *hb = tc_member(s, "heartbeats_by_agent");
    ck_assert_ptr_nonnull(hb);
    ck_assert_int_eq(json_object_object_length(hb), 3); /* agent 3 never beat */
    json_object_put(s);
    tc_fx_stop(&f);
}
END_TEST

START_TEST(t_rate_limit)
{
    struct target_config cfg = test_cfg(false, 1, 0);
    cfg.rate_per_s = 5;
    cfg.burst = 0; /* 2 x 5 = 10 */
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    struct tc_resp r;
    int limited = 0;
    int ok = tc_fx_heartbeats(&f, "ag-loadtest-00001", 14, &limited);
    /* 10 in the burst, maybe one more refilled while the loop ran */
    ck_assert_int_ge(ok, 10);
    ck_assert_int_le(ok, 11);
    ck_assert_int_eq(ok + limited, 14);
    /* the limiter runs before auth: no key, still 429 */
    tc_request(f.c, "POST", HB_1, NULL, NULL, "{}", &r);
    ck_status(r, 429);
    tc_resp_free(&r);
    /* no-auth routes have their own bucket */
    open_rq(&f, "GET", "/health", 200, &r);
    tc_resp_free(&r);
    usleep(1100 * 1000); /* ~5 tokens come back */
    tc_fx_expect(&f, "POST", HB_1, "{}", 200);
    ck_assert_int_eq(tc_fx_stat_count(&f, "heartbeat", "429"), limited + 1);
    tc_fx_stop(&f);
}
END_TEST

/* A request (with the key) answered want no sooner than min_ms; the answer stays in *r. */
static void rq_slow(struct tc_fx *f, const char *method, const char *path, const char *body,
                    int want, uint64_t min_ms, struct tc_resp *r)
{
    tc_fx_rq(f, method, path, body, r);
    ck_status(*r, want);
    ck_assert_uint_ge(r->duration_ns, min_ms * MS);
}

/* The stalled or dropped request method path: the connection closes without an answer. */
static void rq_closed(struct tc_fx *f, const char *path, const char *body, uint64_t min_ms)
{
    struct tc_resp r;
    tc_fx_rq(f, "POST", path, body, &r);
    ck_assert_int_eq(r.error, HTTP_ERR_CLOSED);
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_ge(r.duration_ns, min_ms * MS);
    tc_resp_free(&r);
}

START_TEST(t_faults)
{
    struct target_config cfg = test_cfg(false, 1, 1);
    const char *faults[] = {
        "heartbeat:error=1",      "work:latency=200ms",           "csr:drop=1",
        "job_status:stall=300ms", "cert_fetch:latency=10ms-30ms", "acme_directory:latency=50ms",
        "acme_nonce:error=1"};
    size_t nf = sizeof faults / sizeof faults[0];
    for (size_t i = 0; i < nf; i++)
        cfg.faults[i] = faults[i];
    cfg.n_faults = nf;
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    struct tc_resp r;
    for (int i = 0; i < 5; i++)
        tc_fx_expect_error(&f, "POST", HB_1, "{}", 500, "Internal Server Error", "injected fault");
    rq_slow(&f, "GET", "/api/v1/agents/ag-loadtest-00001/work", NULL, 200, 200, &r);
    tc_resp_free(&r);
    rq_slow(&f, "GET", "/api/v1/agents/ag-loadtest-00001/certificates/mc-loadtest-00001", NULL, 404,
            10, &r);
    tc_resp_free(&r);
    rq_closed(&f, "/api/v1/agents/ag-loadtest-00001/csr", "{}", 0);
    rq_closed(&f, "/api/v1/agents/ag-loadtest-00001/jobs/j/status", "{\"status\":\"x\"}", 300);
    /* a held ACME request keeps its profile and path */
    open_rq(&f, "GET", "/acme/profile/prof-loadtest/directory", 200, &r);
    ck_assert_uint_ge(r.duration_ns, 50 * MS);
    ck_assert_ptr_nonnull(strstr(r.body, "/acme/profile/prof-loadtest/new-nonce"));
    tc_resp_free(&r);
    open_rq(&f, "HEAD", "/acme/profile/prof-loadtest/new-nonce", 500, &r);
    ck_assert_str_eq(r.content_type, PROBLEM_JSON);
    tc_resp_free(&r);
    open_rq(&f, "GET", "/health", 200, &r); /* untouched */
    ck_assert_uint_lt(r.duration_ns, 150 * MS);
    tc_resp_free(&r);
    tc_fx_ck_stats(&f, "requests.heartbeat.500=5 requests.heartbeat.200=0 requests.csr.0=1 "
                       "requests.job_status.0=1 requests.work.200=1");
    tc_fx_stop(&f);
}
END_TEST

/* ---- TLS ----------------------------------------------------------------------------------- */

START_TEST(t_tls_generated_ca)
{
    struct tc_fx f;
    start(&f, true, 2, 2);
    char ca_copy[512];
    snprintf(ca_copy, sizeof ca_copy, "%s", target_ca_path(f.t));
    struct tc_resp r;
    open_rq(&f, "GET", "/health", 200, &r);
    tc_resp_free(&r);
    agent_flow(&f);
    /* without the CA the handshake fails verification */
    struct tc *untrusting = tc_new(target_port(f.t), true, NULL);
    tc_request(untrusting, "GET", "/health", NULL, NULL, NULL, &r);
    ck_assert_int_eq(r.error, HTTP_ERR_TLS);
    tc_resp_free(&r);
    tc_free(untrusting);
    tc_fx_stop(&f);
    struct stat st;
    ck_assert_int_ne(stat(ca_copy, &st), 0); /* the generated CA file is removed */
}
END_TEST

/* TLS records of application data received while counting is on (an SSL msg callback). */
struct record_count {
    bool on;
    int records;
};

static void count_records(int write_p, int version, int content_type, const void *buf, size_t len,
                          SSL *ssl, void *arg)
{
    (void)version;
    (void)ssl;
    struct record_count *rc = arg;
    if (!write_p && rc->on && content_type == SSL3_RT_HEADER && len >= 1 &&
        ((const unsigned char *)buf)[0] == SSL3_RT_APPLICATION_DATA)
        rc->records++;
}

/* Sends one heartbeat of agent 1 over ssl (blocking) and reads the whole answer (headers and a
 * Content-Length body); returns its length in bytes. */
static size_t tls_heartbeat(SSL *ssl)
{
    char rq[512];
    int n = snprintf(rq, sizeof rq,
                     "POST " HB_1 " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " KEY
                     "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(HB_BODY), HB_BODY);
    ck_assert_int_eq(SSL_write(ssl, rq, n), n);
    char in[8192];
    size_t used = 0;
    for (;;) {
        int r = SSL_read(ssl, in + used, (int)(sizeof in - 1 - used));
        ck_assert_int_gt(r, 0);
        used += (size_t)r;
        in[used] = 0;
        char *end = strstr(in, "\r\n\r\n");
        const char *cl = strcasestr(in, "\r\ncontent-length:");
        if (end && cl && used >= (size_t)(end + 4 - in) + strtoul(cl + 17, NULL, 10))
            break;
    }
    ck_assert_msg(strncmp(in, "HTTP/1.1 200", 12) == 0, "%s", in);
    return used;
}

/* A heartbeat's answer (headers and body) arrives as one TLS record: the request layer writes a
 * small reply as one block (headers and body written apart would leave as two records). */
START_TEST(t_tls_small_response_one_record)
{
    struct tc_fx f;
    start(&f, true, 2, 0);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, target_ca_path(f.t), NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(target_port(f.t)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    struct record_count rc = {false, 0};
    SSL_set_msg_callback(ssl, count_records);
    SSL_set_msg_callback_arg(ssl, &rc);
    ck_assert_int_eq(SSL_connect(ssl), 1);
    tls_heartbeat(ssl); /* TLS 1.3 session tickets arrive around the first answer */
    for (int i = 0; i < 3; i++) {
        rc.on = true;
        rc.records = 0;
        size_t len = tls_heartbeat(ssl);
        rc.on = false;
        ck_assert_uint_gt(len, 100);
        ck_assert_int_eq(rc.records, 1);
    }
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    tc_fx_stop(&f);
}
END_TEST

/* A TLS 1.2-only client's GET /health against the target (its CA trusted): the status, or -1
 * for a transport error with *error set. */
static int health_tls12(struct tc_fx *f, enum http_error *error)
{
    char err[256];
    SSL_CTX *ctx = tls_client_ctx_new(target_ca_path(f->t), false, err, sizeof err);
    ck_assert_msg(ctx != NULL, "%s", err);
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    struct http_conn_config cc;
    ck_assert_int_eq(
        http_conn_config_init(&cc, "127.0.0.1", target_port(f->t), ctx, err, sizeof err), 0);
    struct http_once o;
    http_once(&cc, "GET", "/health", NULL, NULL, &o);
    SSL_CTX_free(ctx);
    free(o.body);
    *error = o.error;
    return o.error == HTTP_ERR_NONE ? o.status : -1;
}

/* TLS 1.3 only by default, as certctl; --tls-min 1.2 lets TLS 1.2 clients in. */
START_TEST(t_tls_min_version)
{
    struct tc_fx f;
    struct target_config cfg = test_cfg(true, 0, 0);
    tc_fx_start(&f, &cfg);
    enum http_error e;
    ck_assert_int_eq(health_tls12(&f, &e), -1);
    ck_assert_int_eq(e, HTTP_ERR_TLS);
    tc_fx_stop(&f);
    cfg.tls_min_version = TLS1_2_VERSION;
    tc_fx_start(&f, &cfg);
    ck_assert_int_eq(health_tls12(&f, &e), 200);
    tc_fx_stop(&f);
}
END_TEST

START_TEST(t_tls_given_files)
{
    char err[256], dir[64], cert[128], key[128], cafile[128];
    testenv_mkdtemp(dir, sizeof dir, "check_refserver");
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cafile, sizeof cafile, "%s/ca.pem", dir);
    struct target_ca *ca = ca_new("check_refserver CA", err, sizeof err);
    ck_assert_ptr_nonnull(ca);
    const char *names[] = {"127.0.0.1"};
    EVP_PKEY *pkey = NULL;
    X509 *x = NULL;
    ck_assert_int_eq(ca_issue_server_cert(ca, names, 1, &pkey, &x), 0);
    FILE *fc = fopen(cert, "w"), *fk = fopen(key, "w");
    PEM_write_X509(fc, x);
    PEM_write_PrivateKey(fk, pkey, NULL, NULL, 0, NULL, NULL);
    fclose(fc);
    fclose(fk);
    ck_assert_int_eq(ca_write_pem(ca, cafile), 0);

    struct target_config cfg = test_cfg(true, 0, 0);
    cfg.tls_cert_file = cert;
    cfg.tls_key_file = key;
    cfg.seed_agents = 1;
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    ck_assert_ptr_null(target_ca_path(f.t)); /* nothing generated */
    tc_free(f.c);                            /* a client trusting the given CA instead */
    f.c = tc_new(target_port(f.t), true, cafile);
    ck_assert_ptr_nonnull(f.c);
    tc_fx_expect(&f, "POST", HB_1, "{}", 200);
    tc_fx_stop(&f);
    EVP_PKEY_free(pkey);
    X509_free(x);
    ca_free(ca);
    testenv_rmtree(dir);
}
END_TEST

/* ---- the fleetsim-target program ------------------------------------------------------------ */

static bool cmdline_contains(pid_t pid, const char *needle)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (!buf[i])
            buf[i] = ' ';
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

START_TEST(t_process_plain)
{
    const char *args[] = {"--plain", "--api-key", "secret-k1", "--seed-agents", "3", "--rate-limit",
                          "off",     "-q",        NULL};
    struct procs_target p;
    ck_assert_int_eq(procs_target_start(&p, args), 0);
    ck_assert(!cmdline_contains(p.pid, "secret-k1")); /* scrubbed from argv */
    ck_assert_str_eq(p.ca_path, "");
    struct tc_fx f = {.c = tc_new(p.port, false, NULL), .key = "secret-k1"};
    ck_assert_ptr_nonnull(f.c);
    tc_fx_expect(&f, "POST", "/api/v1/agents/ag-loadtest-00003/heartbeat", "{}", 200);
    tc_fx_ck_stats(&f, "heartbeats_by_agent.ag-loadtest-00003=1 agents.total=3");
    tc_free(f.c);
    ck_assert_int_eq(procs_target_stop(&p, SIGTERM), 0); /* exited, with status 0 */
}
END_TEST

START_TEST(t_process_tls_generated)
{
    const char *args[] = {"--seed-agents", "1", NULL};
    struct procs_target p;
    ck_assert_int_eq(procs_target_start(&p, args), 0);
    ck_assert_str_ne(p.ca_path, "");
    ck_assert_str_ne(p.key_file, "");
    char key[300];
    FILE *kf = fopen(p.key_file, "r");
    ck_assert_ptr_nonnull(kf);
    ck_assert_ptr_nonnull(fgets(key, sizeof key, kf));
    fclose(kf);
    key[strcspn(key, "\n")] = '\0';
    struct stat st;
    ck_assert_int_eq(stat(p.key_file, &st), 0);
    ck_assert_int_eq(st.st_mode & 077, 0); /* private */
    struct tc_fx f = {.c = tc_new(p.port, true, p.ca_path), .key = key};
    ck_assert_ptr_nonnull(f.c);
    tc_fx_expect(&f, "POST", HB_1, "{}", 200);
    tc_free(f.c);
    ck_assert_int_eq(procs_target_stop(&p, SIGINT), 0); /* exited, with status 0 */
    ck_assert_int_ne(stat(p.ca_path, &st), 0);          /* it removed its CA */
}
END_TEST

/* Runs fleetsim-target with args to its end (10 s at most) and returns its exit code; the
 * first line it wrote to stderr goes into line (size n). */
static int run_target(const char *const *args, char *line, size_t n)
{
    char *out, *err;
    int rc = procs_run("fleetsim-target", args, NULL, 10000, &out, &err);
    snprintf(line, n, "%.*s", (int)strcspn(err, "\n"), err);
    free(out);
    free(err);
    return rc;
}

START_TEST(t_process_bad_options)
{
    char line[512];
    struct {
        const char *args[6];
        const char *expect;
    } cases[] = {
        {{"--rate-limit", "5/x", NULL}, "--rate-limit"},
        {{"--fault", "hearbeat:error=1", NULL}, "--fault"},
        {{"--listen", "192.0.2.1:80", NULL}, "loopback"},
        {{"--bogus", NULL}, "--bogus"},
        {{"--bulk-clamp", "maybe", NULL}, "--bulk-clamp"},
        {{"--seed-certs", "3", NULL}, "--seed-agents"},
        {{"--tls-cert", "/nonexistent/cert.pem", NULL}, "--tls-cert"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run_target(cases[i].args, line, sizeof line);
        ck_assert_msg(rc == 2, "case %zu: exit %d (%s)", i, rc, line);
        ck_assert_msg(strncmp(line, "fleetsim-target: ", 17) == 0, "%s", line);
        ck_assert_msg(strstr(line, cases[i].expect) != NULL, "case %zu: %s", i, line);
    }
    const char *help[] = {"--help", NULL};
    ck_assert_int_eq(run_target(help, line, sizeof line), 0);
    const char *version[] = {"--version", NULL};
    ck_assert_int_eq(run_target(version, line, sizeof line), 0);
}
END_TEST

/* Adds every "--word" in line to set (a space-separated list) unless present. */
static void collect_options(const char *line, char *set, size_t n)
{
    for (const char *p = strstr(line, "--"); p; p = strstr(p + 2, "--")) {
        size_t len = 2;
        while ((p[len] >= 'a' && p[len] <= 'z') || p[len] == '-')
            len++;
        if (len <= 2)
            continue;
        char word[64];
        snprintf(word, sizeof word, " %.*s ", (int)len, p);
        if (!strstr(set, word) && strlen(set) + len + 2 < n)
            strcat(strcat(set, " "), word + 1); /* stored as " --x " pairs */
    }
}

/* True when every option of set a is in set b (both as collect_options builds them). */
static bool options_subset(const char *a, const char *b)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", a);
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) {
        char word[80];
        snprintf(word, sizeof word, " %s ", w);
        if (!strstr(b, word)) {
            fprintf(stderr, "option %s missing\n", w);
            return false;
        }
    }
    return true;
}

/* Every option in --help is in the man page's OPTIONS list, and the reverse. */
START_TEST(t_help_matches_man)
{
    char man[512], line[512], *help;
    char help_set[4096] = " ", man_set[4096] = " ";
    const char *args[] = {"--help", NULL};
    ck_assert_int_eq(procs_run("fleetsim-target", args, NULL, 10000, &help, NULL), 0);
    for (char *l = strtok(help, "\n"); l; l = strtok(NULL, "\n"))
        if (strncmp(l, "  -", 3) == 0)
            collect_options(l, help_set, sizeof help_set);
    free(help);
    ck_assert_int_ge(testenv_src_path("man/fleetsim-target.1", man, sizeof man), 0);
    FILE *m = fopen(man, "r");
    ck_assert_msg(m != NULL, "%s", man);
    bool after_tp = false;
    while (fgets(line, sizeof line, m)) {
        if (after_tp) {
            char plain[512];
            size_t o = 0;
            for (const char *p = line; *p && o + 1 < sizeof plain; p++)
                if (!(p[0] == '\\' && p[1] == '-'))
                    plain[o++] = *p;
            plain[o] = '\0';
            collect_options(plain, man_set, sizeof man_set);
        }
        after_tp = strncmp(line, ".TP", 3) == 0;
    }
    fclose(m);
    ck_assert_uint_gt(strlen(help_set), 200);
    ck_assert_msg(options_subset(help_set, man_set), "--help has options the man page lacks");
    ck_assert_msg(options_subset(man_set, help_set), "the man page has options --help lacks");
}
END_TEST

/* ---- PostgreSQL store ------------------------------------------------------------------------ */

START_TEST(t_postgresql_store)
{
    char err[512], db[64], conninfo[PGTMP_CONNINFO_MAX];
    tc_fx_pg_db(&cluster, cluster_up, "target", db, conninfo, sizeof conninfo);
    struct target_config cfg = test_cfg(false, 2, 4);
    cfg.db_url = conninfo;
    struct tc_fx f;
    tc_fx_start(&f, &cfg);
    tc_fx_expect(&f, "POST", HB_1, HB_BODY, 200);
    tc_fx_expect(&f, "POST", "/api/v1/agents/ag-loadtest-00099/heartbeat", HB_BODY, 404);
    agent_flow(&f);
    list_expect(&f, "?per_page=2", 2, 4, 1, 2);
    tc_fx_ck_stats(&f, "agents.total=2 jobs.Completed=4 "
                       "heartbeats_by_agent.ag-loadtest-00001=1");
    tc_fx_stop(&f);
    int64_t n = -1;
    ck_assert(pgtmp_query_i64(&cluster, db,
                              "SELECT count(*) FROM jobs WHERE type = 'Deployment' AND "
                              "status = 'Completed'",
                              &n, err, sizeof err) == 0);
    ck_assert_int_eq(n, 2);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("target");
    const TTest *plain[] = {t_open_routes_and_auth,
                            t_heartbeat_codes,
                            t_register_and_retire,
                            t_work_routing_and_csr,
                            t_agent_reports,
                            t_bulk_clamp_and_paging,
                            t_profiles_and_acme_routing,
                            t_stats_numbers,
                            t_rate_limit,
                            t_faults};
    const TTest *tls[] = {t_tls_generated_ca, t_tls_given_files, t_tls_small_response_one_record,
                          t_tls_min_version};
    const TTest *process[] = {t_process_plain, t_process_tls_generated, t_process_bad_options,
                              t_help_matches_man};
    testenv_tcase_tests(s, "inprocess_plain", TEST_TIMEOUT_S, plain, sizeof plain / sizeof *plain);
    testenv_tcase_tests(s, "tls", TEST_TIMEOUT_S, tls, sizeof tls / sizeof *tls);
    testenv_tcase_tests(s, "process", TEST_TIMEOUT_S, process, sizeof process / sizeof *process);
    testenv_tcase_tests(s, "postgresql", TEST_TIMEOUT_S, &t_postgresql_store, 1);
    return pgtmp_run_suite(s, &cluster, &cluster_up, "check_refserver");
}
