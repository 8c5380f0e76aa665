/* tests/integration/check_target.c - fleetsim-target driven with real requests through
 * engine/http_client: in-process (target_start) plain and TLS, as a separate fleetsim-target
 * process (port read from its output, SIGTERM exit 0), memory and PostgreSQL stores. Asserts
 * certctl's status codes, content types and bodies (certctl-facts §1-§3), job routing, the CSR
 * flow, bulk-renew accounting and clamp, paging, the rate limiter, faults and /_target/stats. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "target/ca.h"
#include "target/target.h"
#include "tests/integration/target_client.h"
#include "tests/lib/pg.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define KEY "test-key-2026"
#define TEST_TIMEOUT_S 60
#define MS 1000000ULL
#define HB_BODY                                                                                \
	"{\"architecture\":\"arm64\",\"hostname\":\"h1.example.test\",\"ip_address\":"        \
	"\"127.0.0.1\",\"os\":\"darwin\",\"version\":\"1.0.0\"}"
#define ERR_AUTH_MISSING "{\"error\":\"Authorization header required\"}\n"
#define ERR_AUTH_FORMAT                                                                        \
	"{\"error\":\"Invalid Authorization header format, expected: Bearer <token>\"}\n"
#define ERR_AUTH_KEY "{\"error\":\"Invalid API key\"}\n"
#define TEXT_PLAIN "text/plain; charset=utf-8"
#define APP_JSON "application/json"

static struct pgtmp cluster;
static bool cluster_up;

/* ---- fixtures ---------------------------------------------------------------------------- */

struct fx {
	struct target *t;
	struct tc *c;
};

static void base_config(struct target_config *cfg)
{
	target_config_defaults(cfg);
	cfg->port = 0;
	cfg->plain = true;
	cfg->rate_per_s = 0;
	cfg->api_keys[0] = KEY;
	cfg->n_api_keys = 1;
	cfg->quiet = true;
}

static void fx_start(struct fx *f, const struct target_config *cfg)
{
	char err[512];
	f->t = target_start(cfg, err, sizeof err);
	ck_assert_msg(f->t != NULL, "target_start: %s", err);
	f->c = tc_new(target_port(f->t), target_is_tls(f->t), target_ca_path(f->t));
	ck_assert_ptr_nonnull(f->c);
}

static void fx_stop(struct fx *f)
{
	tc_free(f->c);
	target_stop(f->t);
}

/* A request with the test key. */
static void rq(struct fx *f, const char *method, const char *path, const char *body,
	       struct tc_resp *r)
{
	tc_request(f->c, method, path, KEY, NULL, body, r);
}

/* Checks certctl's ErrorWithRequestID body and that request_id equals X-Request-ID. */
static void ck_error_body(const struct tc_resp *r, const char *error, const char *message)
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

/* ---- CSR helpers --------------------------------------------------------------------------- */

static char *csr_pem_for(EVP_PKEY *key, const char *cn)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
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

static char *csr_body(const char *cert_id, const char *pem)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "certificate_id", json_object_new_string(cert_id));
	json_object_object_add(o, "csr_pem", json_object_new_string(pem));
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* The first job of the agent's work answer whose type is want_type; its id into id_out. */
static int work_find(struct fx *f, const char *agent, const char *want_type, const char *cert,
		     char *id_out, size_t n, int *count_out)
{
	char path[128];
	snprintf(path, sizeof path, "/api/v1/agents/%s/work", agent);
	struct tc_resp r;
	rq(f, "GET", path, NULL, &r);
	ck_status(r, 200);
	ck_assert_str_eq(r.content_type, APP_JSON);
	json_object *o = tc_body_json(&r), *jobs = NULL;
	ck_assert(json_object_object_get_ex(o, "jobs", &jobs));
	int count = (int)tc_jint(o, "count");
	ck_assert_int_eq(count, (int)json_object_array_length(jobs));
	if (count_out)
		*count_out = count;
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

/* ---- /_target/stats ------------------------------------------------------------------------ */

static json_object *stats(struct fx *f)
{
	return tc_stats(f->c);
}

/* o.a.b (.c when c is not NULL) as an integer; 0 when absent. */
static int64_t stat_path(json_object *o, const char *a, const char *b, const char *c)
{
	json_object *v = tc_member(tc_member(o, a), b);
	return json_object_get_int64(c ? tc_member(v, c) : v);
}

/* ---- tests: open routes and auth ------------------------------------------------------------ */

START_TEST(t_open_routes_and_auth)
{
	struct target_config cfg;
	base_config(&cfg);
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;

	tc_request(f.c, "GET", "/health", NULL, NULL, NULL, &r);
	ck_status(r, 200);
	ck_assert_str_eq(r.body, "{\"status\":\"healthy\"}\n");
	ck_assert_str_eq(r.content_type, APP_JSON);
	ck_assert_uint_eq(strlen(r.request_id), 36);
	char first_id[64];
	snprintf(first_id, sizeof first_id, "%s", r.request_id);
	tc_resp_free(&r);

	tc_request(f.c, "GET", "/ready", NULL, NULL, NULL, &r);
	ck_status(r, 200);
	ck_assert_str_eq(r.body, "{\"db\":\"reachable\",\"status\":\"ready\"}\n");
	ck_assert_str_ne(r.request_id, first_id);
	tc_resp_free(&r);

	tc_request(f.c, "GET", "/api/v1/version", NULL, NULL, NULL, &r);
	ck_status(r, 200);
	json_object *o = tc_body_json(&r);
	ck_assert_ptr_nonnull(tc_jstr(o, "version"));
	ck_assert_ptr_nonnull(tc_jstr(o, "go_version"));
	json_object_put(o);
	tc_resp_free(&r);

	tc_request(f.c, "GET", "/api/v1/auth/info", NULL, NULL, NULL, &r);
	ck_status(r, 200);
	ck_assert_str_eq(r.body, "{\"auth_type\":\"api-key\",\"required\":true}\n");
	tc_resp_free(&r);

	/* certctl's three 401 bodies, text/plain with a trailing newline */
	tc_request(f.c, "GET", "/api/v1/auth/check", NULL, NULL, NULL, &r);
	ck_status(r, 401);
	ck_assert_str_eq(r.body, ERR_AUTH_MISSING);
	ck_assert_str_eq(r.content_type, TEXT_PLAIN);
	ck_assert_str_eq(r.www_authenticate, "Bearer realm=\"certctl\"");
	ck_assert_str_eq(r.nosniff, "nosniff");
	ck_assert_uint_eq(strlen(r.request_id), 36);
	tc_resp_free(&r);

	tc_request(f.c, "GET", "/api/v1/auth/check", NULL, "Authorization: Basic abc\r\n", NULL, &r);
	ck_status(r, 401);
	ck_assert_str_eq(r.body, ERR_AUTH_FORMAT);
	ck_assert_str_eq(r.content_type, TEXT_PLAIN);
	ck_assert_str_eq(r.www_authenticate, "");
	tc_resp_free(&r);

	tc_request(f.c, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", "wrong-key", NULL,
		   HB_BODY, &r);
	ck_status(r, 401);
	ck_assert_str_eq(r.body, ERR_AUTH_KEY);
	tc_resp_free(&r);

	rq(&f, "GET", "/api/v1/auth/check", NULL, &r);
	ck_status(r, 200);
	ck_assert_str_eq(r.body,
			 "{\"admin\":false,\"status\":\"authenticated\",\"user\":\"legacy-key-0\"}\n");
	tc_resp_free(&r);

	/* unknown paths sit behind auth (401), then 404; a known path with another method 405 */
	tc_request(f.c, "GET", "/api/v1/nothing", NULL, NULL, NULL, &r);
	ck_status(r, 401);
	tc_resp_free(&r);
	rq(&f, "GET", "/api/v1/nothing", NULL, &r);
	ck_status(r, 404);
	ck_assert_str_eq(r.body, "404 page not found\n");
	ck_assert_str_eq(r.content_type, TEXT_PLAIN);
	tc_resp_free(&r);
	rq(&f, "PUT", "/api/v1/agents/ag-loadtest-00001/heartbeat", "{}", &r);
	ck_status(r, 405);
	tc_resp_free(&r);
	fx_stop(&f);
}
END_TEST

/* ---- agents ------------------------------------------------------------------------------- */

START_TEST(t_heartbeat_codes)
{
	struct target_config cfg;
	base_config(&cfg);
	cfg.seed_agents = 2;
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;

	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", HB_BODY, &r);
	ck_status(r, 200);
	ck_assert_str_eq(r.body, "{\"status\":\"heartbeat_recorded\"}\n");
	ck_assert_str_eq(r.content_type, APP_JSON);
	tc_resp_free(&r);
	/* metadata from the body reached the agent record */
	rq(&f, "GET", "/api/v1/agents/ag-loadtest-00001", NULL, &r);
	ck_status(r, 200);
	json_object *o = tc_body_json(&r);
	ck_assert_str_eq(tc_jstr(o, "os"), "darwin");
	ck_assert_str_eq(tc_jstr(o, "architecture"), "arm64");
	ck_assert_str_eq(tc_jstr(o, "version"), "1.0.0");
	json_object_put(o);
	tc_resp_free(&r);
	/* certctl ignores an undecodable body and still records the heartbeat */
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00002/heartbeat", "not json", &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00099/heartbeat", HB_BODY, &r);
	ck_status(r, 404);
	ck_error_body(&r, "Not Found", "Agent not found");
	tc_resp_free(&r);
	rq(&f, "GET", "/api/v1/agents/ag-loadtest-00099", NULL, &r);
	ck_status(r, 404);
	tc_resp_free(&r);
	fx_stop(&f);
}
END_TEST

static void register_agent(struct fx *f, const char *name, char *id_out, size_t n)
{
	char body[256];
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"hostname\":\"%s.example.test\"}", name,
		 name);
	struct tc_resp r;
	rq(f, "POST", "/api/v1/agents", body, &r);
	ck_status(r, 201);
	json_object *o = tc_body_json(&r);
	snprintf(id_out, n, "%s", tc_jstr(o, "id"));
	ck_assert_str_eq(tc_jstr(o, "name"), name);
	json_object_put(o);
	tc_resp_free(&r);
	ck_assert_int_eq(strncmp(id_out, "agent-", 6), 0);
}

START_TEST(t_register_and_retire)
{
	struct target_config cfg;
	base_config(&cfg);
	cfg.seed_agents = 1;
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;
	char id[128], path[256];
	register_agent(&f, "x-agent", id, sizeof id);

	rq(&f, "POST", "/api/v1/agents", "{\"name\":\"x-agent\",\"hostname\":\"h\"}", &r);
	ck_status(r, 409);
	ck_error_body(&r, "Conflict", "Agent with this name already exists");
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/agents", "{\"hostname\":\"h\"}", &r);
	ck_status(r, 400);
	ck_error_body(&r, "Bad Request", "name is required");
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/agents", "{\"name\":\"y\"}", &r);
	ck_status(r, 400);
	ck_error_body(&r, "Bad Request", "hostname is required");
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/agents", "{\"name\":", &r);
	ck_status(r, 400);
	ck_error_body(&r, "Bad Request", "Invalid request body");
	tc_resp_free(&r);
	char longname[200];
	memset(longname, 'n', 129);
	longname[129] = '\0';
	char body[400];
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"hostname\":\"h\"}", longname);
	rq(&f, "POST", "/api/v1/agents", body, &r);
	ck_status(r, 400);
	tc_resp_free(&r);

	snprintf(path, sizeof path, "/api/v1/agents/%s/heartbeat", id);
	rq(&f, "POST", path, HB_BODY, &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/agents/%s", id);
	rq(&f, "DELETE", path, NULL, &r);
	ck_status(r, 200);
	json_object *o = tc_body_json(&r);
	ck_assert_ptr_nonnull(tc_jstr(o, "retired_at"));
	json_object_put(o);
	tc_resp_free(&r);
	/* a retired agent's heartbeat: 410 Gone; its poll still 200 */
	snprintf(path, sizeof path, "/api/v1/agents/%s/heartbeat", id);
	rq(&f, "POST", path, HB_BODY, &r);
	ck_status(r, 410);
	ck_error_body(&r, "Gone", "Agent has been retired");
	tc_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/agents/%s/work", id);
	rq(&f, "GET", path, NULL, &r);
	ck_status(r, 200);
	ck_assert_str_eq(r.body, "{\"count\":0,\"jobs\":[]}\n");
	tc_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/agents/%s", id);
	rq(&f, "DELETE", path, NULL, &r);
	ck_status(r, 204);
	ck_assert_uint_eq(r.body_len, 0);
	tc_resp_free(&r);
	rq(&f, "DELETE", "/api/v1/agents/agent-nope", NULL, &r);
	ck_status(r, 404);
	ck_error_body(&r, "Not Found", "Agent not found");
	tc_resp_free(&r);
	/* the seeded agent owns a target: blocked unless forced with a reason */
	rq(&f, "DELETE", "/api/v1/agents/ag-loadtest-00001", NULL, &r);
	ck_status(r, 409);
	o = tc_body_json(&r);
	ck_assert_str_eq(tc_jstr(o, "error"), "blocked_by_dependencies");
	json_object *counts = NULL;
	ck_assert(json_object_object_get_ex(o, "counts", &counts));
	ck_assert_int_eq(tc_jint(counts, "active_targets"), 1);
	json_object_put(o);
	tc_resp_free(&r);
	rq(&f, "DELETE", "/api/v1/agents/ag-loadtest-00001?force=true", NULL, &r);
	ck_status(r, 400);
	tc_resp_free(&r);
	rq(&f, "DELETE", "/api/v1/agents/ag-loadtest-00001?force=true&reason=decommissioned", NULL,
	   &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	rq(&f, "DELETE", "/api/v1/agents/server-scanner", NULL, &r);
	ck_status(r, 403);
	tc_resp_free(&r);

	json_object *s = stats(&f);
	ck_assert_int_eq(stat_path(s, "agents", "retired", NULL), 2);
	ck_assert_int_eq(stat_path(s, "agents", "total", NULL), 2);
	ck_assert_int_eq(stat_path(s, "requests", "agent_retire", "204"), 1);
	ck_assert_int_eq(stat_path(s, "requests", "register", "201"), 1);
	ck_assert_int_eq(stat_path(s, "requests", "heartbeat", "410"), 1);
	json_object_put(s);
	fx_stop(&f);
}
END_TEST

/* ---- work routing and the CSR flow ---------------------------------------------------------- */

static void bulk_by_ids(struct fx *f, const char *ids_json, int matched, int enqueued)
{
	char body[512];
	snprintf(body, sizeof body, "{\"certificate_ids\":%s}", ids_json);
	struct tc_resp r;
	rq(f, "POST", "/api/v1/certificates/bulk-renew", body, &r);
	ck_status(r, 200);
	json_object *o = tc_body_json(&r);
	ck_assert_int_eq(tc_jint(o, "total_matched"), matched);
	ck_assert_int_eq(tc_jint(o, "total_enqueued"), enqueued);
	json_object_put(o);
	tc_resp_free(&r);
}

/* Runs the agent side of one renewal for cert (mapped to agent) and checks every answer. */
static void csr_flow(struct fx *f, const char *agent, const char *other_agent, const char *cert,
		     const char *cn)
{
	char job[128], path[256];
	ck_assert_int_eq(work_find(f, agent, "Renewal", cert, job, sizeof job, NULL), 1);
	ck_assert_int_eq(work_find(f, other_agent, "Renewal", cert, NULL, 0, NULL), 0);
	/* AwaitingCSR items come back on every poll until the CSR arrives */
	ck_assert_int_eq(work_find(f, agent, "Renewal", cert, NULL, 0, NULL), 1);

	EVP_PKEY *key = EVP_EC_gen("P-256");
	char *pem = csr_pem_for(key, cn);
	char *body = csr_body(cert, pem);
	struct tc_resp r;
	snprintf(path, sizeof path, "/api/v1/agents/%s/csr", agent);
	rq(f, "POST", path, body, &r);
	ck_status(r, 202);
	ck_assert_str_eq(r.body, "{\"status\":\"csr_signed\"}\n");
	tc_resp_free(&r);
	free(body);
	free(pem);

	char dep[128];
	int count = 0;
	ck_assert_int_eq(work_find(f, agent, "Deployment", cert, dep, sizeof dep, &count), 1);
	ck_assert_int_eq(work_find(f, agent, "Renewal", cert, NULL, 0, NULL), 0);
	ck_assert_int_eq(work_find(f, other_agent, "Deployment", cert, NULL, 0, NULL), 0);

	snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/status", agent, dep);
	rq(f, "POST", path, "{\"status\":\"Running\"}", &r);
	ck_status(r, 200);
	ck_assert_str_eq(r.body, "{\"status\":\"updated\"}\n");
	tc_resp_free(&r);

	snprintf(path, sizeof path, "/api/v1/agents/%s/certificates/%s", agent, cert);
	rq(f, "GET", path, NULL, &r);
	ck_status(r, 200);
	json_object *o = tc_body_json(&r);
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
	tc_resp_free(&r);
	EVP_PKEY_free(key);

	snprintf(path, sizeof path, "/api/v1/agents/%s/jobs/%s/status", agent, dep);
	rq(f, "POST", path, "{\"status\":\"Completed\"}", &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/jobs/%s", dep);
	rq(f, "GET", path, NULL, &r);
	ck_status(r, 200);
	o = tc_body_json(&r);
	ck_assert_str_eq(tc_jstr(o, "status"), "Completed");
	ck_assert_str_eq(tc_jstr(o, "type"), "Deployment");
	json_object_put(o);
	tc_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/jobs/%s", job);
	rq(f, "GET", path, NULL, &r);
	ck_status(r, 200);
	o = tc_body_json(&r);
	ck_assert_str_eq(tc_jstr(o, "status"), "Completed");
	json_object_put(o);
	tc_resp_free(&r);
}

static void csr_rejections(struct fx *f)
{
	struct tc_resp r;
	const char *path = "/api/v1/agents/ag-loadtest-00001/csr";
	rq(f, "POST", path, "{", &r);
	ck_status(r, 400);
	ck_error_body(&r, "Bad Request", "Invalid request body");
	tc_resp_free(&r);
	rq(f, "POST", path, "{\"certificate_id\":\"mc-loadtest-00001\",\"csr_pem\":\"hello\"}", &r);
	ck_status(r, 400);
	ck_error_body(&r, "Bad Request", "csr_pem must be a valid PEM-encoded certificate request");
	tc_resp_free(&r);
	rq(f, "POST", path,
	   "{\"certificate_id\":\"mc-loadtest-00001\",\"csr_pem\":\"-----BEGIN CERTIFICATE "
	   "REQUEST-----\\nAAAA\\n-----END CERTIFICATE REQUEST-----\\n\"}",
	   &r);
	ck_status(r, 500);
	ck_error_body(&r, "Internal Server Error", "Failed to submit CSR");
	tc_resp_free(&r);
	/* a key weaker than the default profile allows (RSA 1024) */
	EVP_PKEY *weak = EVP_RSA_gen(1024);
	char *pem = csr_pem_for(weak, "loadtest-00001.certs.example.test");
	char *body = csr_body("mc-loadtest-00001", pem);
	rq(f, "POST", path, body, &r);
	ck_status(r, 500);
	tc_resp_free(&r);
	free(body);
	free(pem);
	EVP_PKEY_free(weak);
	/* a valid CSR for a certificate that does not exist */
	EVP_PKEY *key = EVP_EC_gen("P-256");
	pem = csr_pem_for(key, "x.example.test");
	body = csr_body("mc-nope", pem);
	rq(f, "POST", path, body, &r);
	ck_status(r, 500);
	tc_resp_free(&r);
	free(body);
	free(pem);
	EVP_PKEY_free(key);
}

static void agent_flow(struct fx *f)
{
	struct tc_resp r;
	bulk_by_ids(f, "[\"mc-loadtest-00001\",\"mc-nope\"]", 1, 1);
	rq(f, "GET", "/api/v1/agents/ag-nope/work", NULL, &r);
	ck_status(r, 500);
	ck_error_body(&r, "Internal Server Error", "Failed to get pending work");
	tc_resp_free(&r);
	csr_rejections(f);
	csr_flow(f, "ag-loadtest-00001", "ag-loadtest-00002", "mc-loadtest-00001",
		 "loadtest-00001.certs.example.test");
	/* certificate 2 is mapped to agent 2 */
	bulk_by_ids(f, "[\"mc-loadtest-00002\"]", 1, 1);
	csr_flow(f, "ag-loadtest-00002", "ag-loadtest-00001", "mc-loadtest-00002",
		 "loadtest-00002.certs.example.test");

	rq(f, "POST", "/api/v1/agents/ag-loadtest-00001/jobs/job-nope/status",
	   "{\"status\":\"Running\"}", &r);
	ck_status(r, 500);
	ck_error_body(&r, "Internal Server Error", "Failed to update job status");
	tc_resp_free(&r);
	rq(f, "POST", "/api/v1/agents/ag-loadtest-00001/jobs/job-nope/status", "{\"status\":\"\"}",
	   &r);
	ck_status(r, 400);
	ck_error_body(&r, "Bad Request", "Status is required");
	tc_resp_free(&r);
	rq(f, "GET", "/api/v1/agents/ag-loadtest-00001/certificates/mc-loadtest-00003", NULL, &r);
	ck_status(r, 404);
	ck_error_body(&r, "Not Found", "Certificate not found or not ready");
	tc_resp_free(&r);
	rq(f, "GET", "/api/v1/jobs/job-nope", NULL, &r);
	ck_status(r, 404);
	tc_resp_free(&r);
}

START_TEST(t_work_routing_and_csr)
{
	struct target_config cfg;
	base_config(&cfg);
	cfg.seed_agents = 2;
	cfg.seed_certs = 4;
	struct fx f;
	fx_start(&f, &cfg);
	agent_flow(&f);
	json_object *s = stats(&f);
	ck_assert_int_eq(stat_path(s, "requests", "csr", "202"), 2);
	ck_assert_int_eq(stat_path(s, "requests", "csr", "400"), 2);
	ck_assert_int_eq(stat_path(s, "requests", "csr", "500"), 3);
	ck_assert_int_eq(stat_path(s, "requests", "bulk_renew", "200"), 2);
	ck_assert_int_eq(stat_path(s, "requests", "cert_fetch", "200"), 2);
	ck_assert_int_eq(stat_path(s, "jobs", "Completed", NULL), 4);
	json_object_put(s);
	fx_stop(&f);
}
END_TEST

/* ---- operator endpoints ------------------------------------------------------------------- */

static void bulk_agent(struct fx *f, int matched, int enqueued, int skipped)
{
	struct tc_resp r;
	rq(f, "POST", "/api/v1/certificates/bulk-renew", "{\"agent_id\":\"ag-loadtest-00001\"}", &r);
	ck_status(r, 200);
	json_object *o = tc_body_json(&r), *jobs = NULL;
	ck_assert_int_eq(tc_jint(o, "total_matched"), matched);
	ck_assert_int_eq(tc_jint(o, "total_enqueued"), enqueued);
	ck_assert_int_eq(tc_jint(o, "total_skipped"), skipped);
	ck_assert_int_eq(tc_jint(o, "total_failed"), 0);
	ck_assert(json_object_object_get_ex(o, "enqueued_jobs", &jobs));
	ck_assert_int_eq((int)json_object_array_length(jobs), enqueued);
	json_object_put(o);
	tc_resp_free(&r);
}

static void list_expect(struct fx *f, const char *query, int items, int total, int page,
			int per_page)
{
	char path[256];
	snprintf(path, sizeof path, "/api/v1/certificates%s", query);
	struct tc_resp r;
	rq(f, "GET", path, NULL, &r);
	ck_status(r, 200);
	json_object *o = tc_body_json(&r), *data = NULL;
	ck_assert(json_object_object_get_ex(o, "data", &data));
	ck_assert_msg((int)json_object_array_length(data) == items, "%s: %zu items", query,
		      json_object_array_length(data));
	ck_assert_int_eq(tc_jint(o, "total"), total);
	ck_assert_int_eq(tc_jint(o, "page"), page);
	ck_assert_int_eq(tc_jint(o, "per_page"), per_page);
	json_object_put(o);
	tc_resp_free(&r);
}

START_TEST(t_bulk_clamp_and_paging)
{
	struct target_config cfg;
	base_config(&cfg);
	cfg.seed_agents = 1;
	cfg.seed_certs = 60;
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;

	list_expect(&f, "", 50, 60, 1, 50);
	list_expect(&f, "?page=2", 10, 60, 2, 50);
	list_expect(&f, "?per_page=500", 60, 60, 1, 500);
	list_expect(&f, "?per_page=501", 50, 60, 1, 50);
	list_expect(&f, "?per_page=0", 50, 60, 1, 50);
	list_expect(&f, "?per_page=abc&page=-3", 50, 60, 1, 50);
	list_expect(&f, "?page=4&per_page=20", 0, 60, 4, 20);

	/* certctl's clamp: a filtered call processes the 50 oldest matches; a repeat makes no
	 * progress because those 50 are now in progress */
	bulk_agent(&f, 50, 50, 0);
	bulk_agent(&f, 50, 0, 50);
	list_expect(&f, "?status=RenewalInProgress&per_page=1", 1, 50, 1, 1);
	rq(&f, "POST", "/api/v1/certificates/bulk-renew", "{}", &r);
	ck_status(r, 400);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/certificates/bulk-renew", "[1]", &r);
	ck_status(r, 400);
	tc_resp_free(&r);

	/* k6's issuance body */
	const char *cert = "{\"name\":\"k6-cert-1\",\"common_name\":\"k6-1.example.test\","
			   "\"owner_id\":\"o-alice\",\"team_id\":\"t-platform\",\"issuer_id\":"
			   "\"iss-local\",\"renewal_policy_id\":\"rp-standard\",\"environment\":"
			   "\"loadtest\",\"sans\":[\"k6-1.example.test\"]}";
	rq(&f, "POST", "/api/v1/certificates", cert, &r);
	ck_status(r, 201);
	json_object *o = tc_body_json(&r);
	char id[128], path[256];
	snprintf(id, sizeof id, "%s", tc_jstr(o, "id"));
	ck_assert_str_eq(tc_jstr(o, "status"), "Pending");
	json_object_put(o);
	tc_resp_free(&r);
	snprintf(path, sizeof path, "/api/v1/certificates/%s", id);
	rq(&f, "GET", path, NULL, &r);
	ck_status(r, 200);
	o = tc_body_json(&r);
	ck_assert_str_eq(tc_jstr(o, "common_name"), "k6-1.example.test");
	json_object_put(o);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/certificates", cert, &r); /* the name is taken */
	ck_status(r, 500);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/certificates", "{\"name\":\"k6-cert-2\"}", &r);
	ck_status(r, 400);
	ck_error_body(&r, "Bad Request", "common_name is required");
	tc_resp_free(&r);
	rq(&f, "GET", "/api/v1/certificates/mc-nope", NULL, &r);
	ck_status(r, 404);
	tc_resp_free(&r);
	list_expect(&f, "", 50, 61, 1, 50);
	fx_stop(&f);

	/* the same fleet with the clamp off: all 60 at once */
	cfg.bulk_clamp = false;
	fx_start(&f, &cfg);
	bulk_agent(&f, 60, 60, 0);
	json_object *s = stats(&f);
	ck_assert_int_eq(stat_path(s, "jobs", "AwaitingCSR", NULL), 60);
	json_object_put(s);
	fx_stop(&f);
}
END_TEST

START_TEST(t_profiles_and_acme_routing)
{
	struct target_config cfg;
	base_config(&cfg);
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;
	rq(&f, "POST", "/api/v1/profiles", "{\"id\":\"prof-test\",\"name\":\"Test profile\"}", &r);
	ck_status(r, 201);
	json_object *o = tc_body_json(&r);
	ck_assert_str_eq(tc_jstr(o, "id"), "prof-test");
	json_object_put(o);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/profiles", "{\"id\":\"prof-test\",\"name\":\"Test profile\"}", &r);
	ck_status(r, 409);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/profiles", "{\"id\":\"prof-x\"}", &r);
	ck_status(r, 400);
	tc_resp_free(&r);

	const char *dirs[] = {"/acme/profile/prof-test/directory",
			      "/acme/profile/prof-loadtest/directory"};
	for (int i = 0; i < 2; i++) {
		tc_request(f.c, "GET", dirs[i], NULL, NULL, NULL, &r);
		ck_status(r, 200);
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
	tc_request(f.c, "GET", "/acme/profile/prof-none/directory", NULL, NULL, NULL, &r);
	ck_status(r, 404);
	ck_assert_str_eq(r.content_type, "application/problem+json");
	tc_resp_free(&r);

	json_object *s = stats(&f);
	ck_assert_int_eq(stat_path(s, "requests", "acme_directory", "200"), 2);
	ck_assert_int_eq(stat_path(s, "requests", "acme_directory", "404"), 1);
	ck_assert_int_eq(stat_path(s, "requests", "profile_create", "201"), 1);
	json_object_put(s);
	fx_stop(&f);
}
END_TEST

/* ---- stats, rate limit, faults ---------------------------------------------------------------- */

START_TEST(t_stats_numbers)
{
	struct target_config cfg;
	base_config(&cfg);
	cfg.seed_agents = 3;
	cfg.os_mix = (struct identity_os_mix){{0, 100, 0}};
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;
	for (int i = 0; i < 3; i++) {
		rq(&f, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", "{}", &r);
		ck_status(r, 200);
		tc_resp_free(&r);
	}
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00002/heartbeat", "{}", &r);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00009/heartbeat", "{}", &r);
	ck_status(r, 404);
	tc_resp_free(&r);
	char id[128], path[256];
	register_agent(&f, "api-agent", id, sizeof id);
	snprintf(path, sizeof path, "/api/v1/agents/%s/heartbeat", id);
	rq(&f, "POST", path, "{\"os\":\"linux\"}", &r);
	tc_resp_free(&r);
	tc_request(f.c, "GET", "/health", NULL, NULL, NULL, &r);
	tc_resp_free(&r);

	json_object *s = stats(&f), *hb = NULL;
	ck_assert_int_eq(stat_path(s, "requests", "heartbeat", "200"), 5);
	ck_assert_int_eq(stat_path(s, "requests", "heartbeat", "404"), 1);
	ck_assert_int_eq(stat_path(s, "requests", "health", "200"), 1);
	ck_assert_int_eq(stat_path(s, "heartbeats_by_agent", "ag-loadtest-00001", NULL), 3);
	ck_assert_int_eq(stat_path(s, "heartbeats_by_agent", "ag-loadtest-00002", NULL), 1);
	ck_assert_int_eq(stat_path(s, "heartbeats_by_agent", id, NULL), 1);
	ck_assert(json_object_object_get_ex(s, "heartbeats_by_agent", &hb));
	ck_assert_int_eq(json_object_object_length(hb), 3); /* agent 3 never beat */
	ck_assert_int_eq(stat_path(s, "agents", "total", NULL), 4);
	ck_assert_int_eq(stat_path(s, "agents", "retired", NULL), 0);
	json_object *agents = NULL;
	json_object_object_get_ex(s, "agents", &agents);
	ck_assert_int_eq(stat_path(agents, "os", "windows", NULL), 3);
	ck_assert_int_eq(stat_path(agents, "os", "linux", NULL), 1);
	ck_assert_int_eq(stat_path(agents, "os", "darwin", NULL), 0);
	json_object_put(s);
	fx_stop(&f);
}
END_TEST

START_TEST(t_rate_limit)
{
	struct target_config cfg;
	base_config(&cfg);
	cfg.seed_agents = 1;
	cfg.rate_per_s = 5;
	cfg.burst = 0; /* 2 x 5 = 10 */
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;
	int ok = 0, limited = 0;
	for (int i = 0; i < 14; i++) {
		rq(&f, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", "{}", &r);
		ck_assert_int_eq(r.error, HTTP_ERR_NONE);
		if (r.status == 200) {
			ok++;
		} else {
			ck_assert_int_eq(r.status, 429);
			ck_assert_str_eq(r.retry_after, "1");
			ck_assert_str_eq(r.content_type, TEXT_PLAIN);
			ck_assert_str_eq(r.body, "{\"error\":\"Rate limit exceeded\"}\n");
			limited++;
		}
		tc_resp_free(&r);
	}
	/* 10 in the burst, maybe one more refilled while the loop ran */
	ck_assert_int_ge(ok, 10);
	ck_assert_int_le(ok, 11);
	ck_assert_int_eq(ok + limited, 14);
	/* the limiter runs before auth: no key, still 429 */
	tc_request(f.c, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", NULL, NULL, "{}", &r);
	ck_status(r, 429);
	tc_resp_free(&r);
	/* no-auth routes have their own bucket */
	tc_request(f.c, "GET", "/health", NULL, NULL, NULL, &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	usleep(1100 * 1000); /* ~5 tokens come back */
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", "{}", &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	json_object *s = stats(&f);
	ck_assert_int_eq(stat_path(s, "requests", "heartbeat", "429"), limited + 1);
	json_object_put(s);
	fx_stop(&f);
}
END_TEST

START_TEST(t_faults)
{
	struct target_config cfg;
	base_config(&cfg);
	cfg.seed_agents = 1;
	cfg.seed_certs = 1;
	const char *faults[] = {"heartbeat:error=1",	   "work:latency=200ms",
				"csr:drop=1",		   "job_status:stall=300ms",
				"cert_fetch:latency=10ms-30ms", "acme_directory:latency=50ms",
				"acme_nonce:error=1"};
	size_t nf = sizeof faults / sizeof faults[0];
	for (size_t i = 0; i < nf; i++)
		cfg.faults[i] = faults[i];
	cfg.n_faults = nf;
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;
	for (int i = 0; i < 5; i++) {
		rq(&f, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", "{}", &r);
		ck_status(r, 500);
		ck_error_body(&r, "Internal Server Error", "injected fault");
		tc_resp_free(&r);
	}
	rq(&f, "GET", "/api/v1/agents/ag-loadtest-00001/work", NULL, &r);
	ck_status(r, 200);
	ck_assert_uint_ge(r.duration_ns, 200 * MS);
	tc_resp_free(&r);
	rq(&f, "GET", "/api/v1/agents/ag-loadtest-00001/certificates/mc-loadtest-00001", NULL, &r);
	ck_status(r, 404);
	ck_assert_uint_ge(r.duration_ns, 10 * MS);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00001/csr", "{}", &r);
	ck_assert_int_eq(r.error, HTTP_ERR_CLOSED);
	ck_assert_int_eq(r.status, 0);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00001/jobs/j/status", "{\"status\":\"x\"}", &r);
	ck_assert_int_eq(r.error, HTTP_ERR_CLOSED);
	ck_assert_uint_ge(r.duration_ns, 300 * MS);
	tc_resp_free(&r);
	/* a held ACME request keeps its profile and path */
	tc_request(f.c, "GET", "/acme/profile/prof-loadtest/directory", NULL, NULL, NULL, &r);
	ck_status(r, 200);
	ck_assert_uint_ge(r.duration_ns, 50 * MS);
	ck_assert_ptr_nonnull(strstr(r.body, "/acme/profile/prof-loadtest/new-nonce"));
	tc_resp_free(&r);
	tc_request(f.c, "HEAD", "/acme/profile/prof-loadtest/new-nonce", NULL, NULL, NULL, &r);
	ck_status(r, 500);
	ck_assert_str_eq(r.content_type, "application/problem+json");
	tc_resp_free(&r);
	tc_request(f.c, "GET", "/health", NULL, NULL, NULL, &r); /* untouched */
	ck_status(r, 200);
	ck_assert_uint_lt(r.duration_ns, 150 * MS);
	tc_resp_free(&r);
	json_object *s = stats(&f);
	ck_assert_int_eq(stat_path(s, "requests", "heartbeat", "500"), 5);
	ck_assert_int_eq(stat_path(s, "requests", "heartbeat", "200"), 0);
	ck_assert_int_eq(stat_path(s, "requests", "csr", "0"), 1);
	ck_assert_int_eq(stat_path(s, "requests", "job_status", "0"), 1);
	ck_assert_int_eq(stat_path(s, "requests", "work", "200"), 1);
	json_object_put(s);
	fx_stop(&f);
}
END_TEST

/* ---- TLS ----------------------------------------------------------------------------------- */

START_TEST(t_tls_generated_ca)
{
	struct target_config cfg;
	base_config(&cfg);
	cfg.plain = false;
	cfg.seed_agents = 2;
	cfg.seed_certs = 2;
	struct fx f;
	fx_start(&f, &cfg);
	const char *ca = target_ca_path(f.t);
	ck_assert_ptr_nonnull(ca);
	char ca_copy[512];
	snprintf(ca_copy, sizeof ca_copy, "%s", ca);
	struct tc_resp r;
	tc_request(f.c, "GET", "/health", NULL, NULL, NULL, &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	agent_flow(&f);
	/* without the CA the handshake fails verification */
	struct tc *untrusting = tc_new(target_port(f.t), true, NULL);
	tc_request(untrusting, "GET", "/health", NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.error, HTTP_ERR_TLS);
	tc_resp_free(&r);
	tc_free(untrusting);
	fx_stop(&f);
	struct stat st;
	ck_assert_int_ne(stat(ca_copy, &st), 0); /* the generated CA file is removed */
}
END_TEST

START_TEST(t_tls_given_files)
{
	char err[256], dir[64], cert[128], key[128], cafile[128];
	testenv_mkdtemp(dir, sizeof dir, "check_target");
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cafile, sizeof cafile, "%s/ca.pem", dir);
	struct target_ca *ca = ca_new("check_target CA", err, sizeof err);
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

	struct target_config cfg;
	base_config(&cfg);
	cfg.plain = false;
	cfg.tls_cert_file = cert;
	cfg.tls_key_file = key;
	cfg.seed_agents = 1;
	char e2[512];
	struct target *t = target_start(&cfg, e2, sizeof e2);
	ck_assert_msg(t != NULL, "%s", e2);
	ck_assert_ptr_null(target_ca_path(t)); /* nothing generated */
	struct tc *c = tc_new(target_port(t), true, cafile);
	struct tc_resp r;
	tc_request(c, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", KEY, NULL, "{}", &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	tc_free(c);
	target_stop(t);
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
	const char *args[] = {"--plain", "--api-key", "secret-k1", "--seed-agents", "3",
			      "--rate-limit", "off", "-q", NULL};
	struct procs_target p;
	ck_assert_int_eq(procs_target_start(&p, args), 0);
	ck_assert(!cmdline_contains(p.pid, "secret-k1")); /* scrubbed from argv */
	ck_assert_str_eq(p.ca_path, "");
	struct tc *c = tc_new(p.port, false, NULL);
	struct tc_resp r;
	tc_request(c, "POST", "/api/v1/agents/ag-loadtest-00003/heartbeat", "secret-k1", NULL, "{}",
		   &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	json_object *s = tc_stats(c);
	ck_assert_int_eq(stat_path(s, "heartbeats_by_agent", "ag-loadtest-00003", NULL), 1);
	ck_assert_int_eq(stat_path(s, "agents", "total", NULL), 3);
	json_object_put(s);
	tc_free(c);
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
	struct tc *c = tc_new(p.port, true, p.ca_path);
	struct tc_resp r;
	tc_request(c, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", key, NULL, "{}", &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	tc_free(c);
	ck_assert_int_eq(procs_target_stop(&p, SIGINT), 0); /* exited, with status 0 */
	ck_assert_int_ne(stat(p.ca_path, &st), 0);            /* it removed its CA */
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
	ck_assert(cluster_up);
	snprintf(db, sizeof db, "target_%d", (int)getpid());
	ck_assert_msg(pgtmp_create_db(&cluster, db, true, err, sizeof err) == 0, "%s", err);
	ck_assert(pgtmp_conninfo_db(&cluster, db, conninfo, sizeof conninfo) > 0);
	struct target_config cfg;
	base_config(&cfg);
	cfg.db_url = conninfo;
	cfg.seed_agents = 2;
	cfg.seed_certs = 4;
	struct fx f;
	fx_start(&f, &cfg);
	struct tc_resp r;
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00001/heartbeat", HB_BODY, &r);
	ck_status(r, 200);
	tc_resp_free(&r);
	rq(&f, "POST", "/api/v1/agents/ag-loadtest-00099/heartbeat", HB_BODY, &r);
	ck_status(r, 404);
	tc_resp_free(&r);
	agent_flow(&f);
	list_expect(&f, "?per_page=2", 2, 4, 1, 2);
	json_object *s = stats(&f);
	ck_assert_int_eq(stat_path(s, "agents", "total", NULL), 2);
	ck_assert_int_eq(stat_path(s, "jobs", "Completed", NULL), 4);
	ck_assert_int_eq(stat_path(s, "heartbeats_by_agent", "ag-loadtest-00001", NULL), 1);
	json_object_put(s);
	fx_stop(&f);
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
	TCase *tc = testenv_tcase(s, "inprocess_plain", TEST_TIMEOUT_S);
	tcase_add_test(tc, t_open_routes_and_auth);
	tcase_add_test(tc, t_heartbeat_codes);
	tcase_add_test(tc, t_register_and_retire);
	tcase_add_test(tc, t_work_routing_and_csr);
	tcase_add_test(tc, t_bulk_clamp_and_paging);
	tcase_add_test(tc, t_profiles_and_acme_routing);
	tcase_add_test(tc, t_stats_numbers);
	tcase_add_test(tc, t_rate_limit);
	tcase_add_test(tc, t_faults);
	tc = testenv_tcase(s, "tls", TEST_TIMEOUT_S);
	tcase_add_test(tc, t_tls_generated_ca);
	tcase_add_test(tc, t_tls_given_files);
	tc = testenv_tcase(s, "process", TEST_TIMEOUT_S);
	tcase_add_test(tc, t_process_plain);
	tcase_add_test(tc, t_process_tls_generated);
	tcase_add_test(tc, t_process_bad_options);
	tcase_add_test(tc, t_help_matches_man);
	tc = testenv_tcase(s, "postgresql", TEST_TIMEOUT_S);
	tcase_add_test(tc, t_postgresql_store);
	return pgtmp_run_suite(s, &cluster, &cluster_up, "check_target");
}
