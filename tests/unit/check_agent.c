/* tests/unit/check_agent.c - sim/agent and sim/agent_work: the pure parts (bodies, headers,
 * profiles, work parsing) and the state machine against a small evhttp server on loopback in
 * the same event loop: heartbeat counts per agent, the certctl-1.0 headers, drops when a
 * request of the same kind is still in flight (with a balanced accounting), retirement on 410,
 * the poll back-off, pooled connections, and the CSR + deployment flow with a real CA
 * signature and the key check (match and mismatch). */
#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "engine/clock.h"
#include "sim/agent.h"
#include "sim/agent_keys.h"
#include "sim/agent_work.h"
#include "sim/register.h"
#include "engine/tls.h"
#include "tests/lib/http_test_server.h"
#include "tests/lib/testenv.h"

#define MS 1000000ULL
#define MAX_AGENTS 32
#define MAX_CERTS 24
#define MAX_STATUS (3 * MAX_CERTS)

/* ---- pure parts ------------------------------------------------------------------------ */

START_TEST(test_expected_and_names)
{
    ck_assert(agent_status_expected(AGENT_EP_HEARTBEAT, 200));
    ck_assert(!agent_status_expected(AGENT_EP_HEARTBEAT, 201));
    ck_assert(!agent_status_expected(AGENT_EP_HEARTBEAT, 404));
    ck_assert(agent_status_expected(AGENT_EP_CSR, 202));
    ck_assert(!agent_status_expected(AGENT_EP_CSR, 200));
    ck_assert_str_eq(agent_endpoint_name(AGENT_EP_WORK), "work");
    ck_assert_str_eq(agent_endpoint_name(AGENT_EP_JOB_STATUS), "job_status");
    ck_assert_str_eq(agent_endpoint_name(AGENT_EP_CERT_FETCH), "cert_fetch");
}
END_TEST

START_TEST(test_profiles)
{
    struct agent_settings d, r;
    agent_settings_profile(&d, AGENT_PROFILE_DEFAULT);
    ck_assert_uint_eq(d.heartbeat.interval_ns, 30000 * MS);
    ck_assert(d.heartbeat.jitter_pct == 10.0);
    ck_assert_uint_eq(d.poll.interval_ns, 30000 * MS);
    ck_assert_str_eq(d.version, "2.1.0");
    ck_assert_str_eq(d.user_agent, "Go-http-client/1.1");
    ck_assert(d.accept_gzip);
    ck_assert_uint_eq(d.verify_wait_ns, 2000 * MS);
    ck_assert(!d.poll_backoff && !d.content_type_on_get);
    agent_settings_profile(&r, AGENT_PROFILE_CERTCTL_1_0);
    ck_assert_uint_eq(r.heartbeat.interval_ns, 60000 * MS);
    ck_assert_uint_eq(r.poll.interval_ns, 30000 * MS);
    ck_assert(r.heartbeat.jitter_pct == 0 && r.poll.jitter_pct == 0);
    ck_assert(r.heartbeat.start_at_agent_start && r.poll.start_at_agent_start);
    ck_assert_str_eq(r.version, "1.0.0");
    ck_assert_str_eq(r.user_agent, "Go-http-client/1.1");
    ck_assert(r.accept_gzip);
    ck_assert(r.poll_backoff && r.content_type_on_get);
}
END_TEST

START_TEST(test_bodies_and_headers)
{
    struct agent_settings s;
    agent_settings_profile(&s, AGENT_PROFILE_DEFAULT);
    s.seed = 5;
    char buf[512], want[512];
    struct identity_agent_meta m;
    identity_agent_meta(5, 3, &s.os_mix, &m);
    snprintf(want, sizeof want,
             "{\"architecture\":\"%s\",\"hostname\":\"loadtest-00003.fleet.example.test\","
             "\"ip_address\":\"\",\"os\":\"%s\",\"version\":\"2.1.0\"}",
             m.architecture, m.os);
    ck_assert_int_eq(agent_heartbeat_body(&s, 3, buf, sizeof buf), (int)strlen(want));
    ck_assert_str_eq(buf, want);
    s.source_first = (127u << 24) | 2; /* 127.0.0.2 */
    s.source_count = 3;
    agent_heartbeat_body(&s, 5, buf, sizeof buf); /* (5 - 1) mod 3 = 1 -> 127.0.0.3 */
    ck_assert_ptr_nonnull(strstr(buf, "\"ip_address\":\"127.0.0.3\""));
    ck_assert_int_eq(agent_heartbeat_body(&s, 5, buf, 20), -ENOSPC);
    /* without source addresses: the local address toward the target */
    s.source_count = 0;
    struct http_conn_config cc;
    char err[128];
    ck_assert_int_eq(http_conn_config_init(&cc, "127.0.0.9", 9, NULL, err, sizeof err), 0);
    agent_settings_local_ip(&s, &cc);
    ck_assert_str_eq(s.local_ip, "127.0.0.1");
    agent_heartbeat_body(&s, 5, buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "\"ip_address\":\"127.0.0.1\""));
    ck_assert_int_eq(http_conn_config_init(&cc, "::1", 9, NULL, err, sizeof err), 0);
    agent_settings_local_ip(&s, &cc);
    ck_assert_str_eq(s.local_ip, "::1");

    char id[AGENT_ID_MAX];
    agent_id(&s, 7, id, sizeof id);
    ck_assert_str_eq(id, "ag-loadtest-00007");
    const char *ids[3] = {"agent-1-1", NULL, "agent-1-3"};
    s.agent_ids = ids;
    agent_id(&s, 3, id, sizeof id);
    ck_assert_str_eq(id, "agent-1-3");
    agent_id(&s, 2, id, sizeof id); /* no server id: identity's */
    ck_assert_str_eq(id, "ag-loadtest-00002");

    char *h = agent_headers(&s, false);
    ck_assert_str_eq(h, "User-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n");
    free(h);
    s.api_key = "sekrit";
    s.user_agent = "loadtest/1";
    s.accept_gzip = false;
    h = agent_headers(&s, true);
    ck_assert_str_eq(h, "User-Agent: loadtest/1\r\nAuthorization: Bearer sekrit\r\n"
                        "Content-Type: application/json\r\n");
    free(h);
}
END_TEST

START_TEST(test_work_parse)
{
    const char *body =
        "{\"count\":6,\"jobs\":["
        "{\"id\":\"job-1\",\"type\":\"Renewal\",\"certificate_id\":\"mc-1\",\"common_name\":"
        "\"a.test\",\"sans\":[\"a.test\",\"ops@a.test\"],\"status\":\"AwaitingCSR\"},"
        "{\"id\":\"job-2\",\"type\":\"Renewal\",\"certificate_id\":\"mc-2\",\"status\":\"Pending\"}"
        ","
        "{\"id\":\"job-3\",\"type\":\"Deployment\",\"certificate_id\":\"mc-3\",\"target_id\":"
        "\"tgt-1\",\"status\":\"Running\"},"
        "{\"id\":\"job "
        "4\",\"type\":\"Deployment\",\"certificate_id\":\"mc-4\",\"status\":\"Running\"},"
        "{\"id\":\"job-5\",\"type\":\"Issuance\",\"certificate_id\":\"mc-5\",\"sans\":null,"
        "\"status\":\"AwaitingCSR\"},"
        "{\"id\":\"job-6\",\"type\":\"Validation\",\"certificate_id\":\"mc-6\",\"status\":"
        "\"Pending\"}]}";
    struct agent_job *jobs;
    size_t n;
    ck_assert_int_eq(agent_work_parse(body, strlen(body), &jobs, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(jobs[0].type, AGENT_JOB_CSR);
    ck_assert_str_eq(jobs[0].id, "job-1");
    ck_assert_str_eq(jobs[0].cn, "a.test");
    ck_assert_uint_eq(jobs[0].n_sans, 2);
    ck_assert_str_eq(jobs[0].sans[1], "ops@a.test");
    ck_assert_int_eq(jobs[1].type, AGENT_JOB_DEPLOY);
    ck_assert_str_eq(jobs[1].cert_id, "mc-3");
    ck_assert_int_eq(jobs[2].type, AGENT_JOB_CSR);
    ck_assert_str_eq(jobs[2].cn, "");
    ck_assert_uint_eq(jobs[2].n_sans, 0);
    for (size_t i = 0; i < n; i++)
        agent_job_clear(&jobs[i]);
    free(jobs);

    /* any AwaitingCSR job is a CSR job; a deployment's target decides the probe */
    const char *b2 =
        "{\"jobs\":["
        "{\"id\":\"j1\",\"type\":\"Deployment\",\"certificate_id\":\"c\",\"status\":"
        "\"AwaitingCSR\"},"
        "{\"id\":\"j2\",\"type\":\"Deployment\",\"certificate_id\":\"c\",\"target_id\":\"t\","
        "\"target_type\":\"NGINX\",\"target_config\":{\"hostname\":\"h\"}},"
        "{\"id\":\"j3\",\"type\":\"Deployment\",\"certificate_id\":\"c\",\"target_type\":\"\","
        "\"target_config\":{\"address\":\"h\",\"port\":70000}},"
        "{\"id\":\"j4\",\"type\":\"Deployment\",\"certificate_id\":\"c\","
        "\"target_config\":{\"host\":\"\",\"target\":\"h\",\"port\":\"x\"}},"
        "{\"id\":\"j5\",\"type\":\"Deployment\",\"certificate_id\":\"c\","
        "\"target_config\":{\"port\":443}}]}";
    ck_assert_int_eq(agent_work_parse(b2, strlen(b2), &jobs, &n), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(jobs[0].type, AGENT_JOB_CSR);
    ck_assert(jobs[1].probe && jobs[1].has_type);
    ck_assert_str_eq(jobs[1].target_id, "t");
    ck_assert(!jobs[2].probe && !jobs[2].has_type); /* port out of range; empty type */
    ck_assert_ptr_null(jobs[2].target_id);
    ck_assert(jobs[3].probe); /* empty host skipped, target used, a string port ignored */
    ck_assert(!jobs[4].probe);
    for (size_t i = 0; i < n; i++)
        agent_job_clear(&jobs[i]);
    free(jobs);

    ck_assert_int_eq(agent_work_parse("{\"jobs\":[],\"count\":0}", 22, &jobs, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(jobs);
    ck_assert_int_eq(agent_work_parse("{\"jobs\":null}", 13, &jobs, &n), 0);
    ck_assert_int_eq(agent_work_parse("not json", 8, &jobs, &n), -EBADMSG);
    ck_assert_int_eq(agent_work_parse("{\"count\":0}", 11, &jobs, &n), -EBADMSG);
}
END_TEST

START_TEST(test_status_bodies)
{
    size_t len;
    char *b = agent_work_status_body("Running", NULL, &len);
    ck_assert_str_eq(b, "{\"status\":\"Running\"}");
    ck_assert_uint_eq(len, strlen(b));
    free(b);
    b = agent_work_status_body("Failed", "bad \"key\"\n", &len);
    ck_assert_str_eq(b, "{\"error\":\"bad \\\"key\\\"\\n\",\"status\":\"Failed\"}");
    free(b);
    void *holder;
    size_t pem_len;
    const char *pem = agent_work_cert_pem("{\"certificate_pem\":\"A\\nB\"}", 26, &holder, &pem_len);
    ck_assert_ptr_nonnull(pem);
    ck_assert_uint_eq(pem_len, 3);
    ck_assert(memcmp(pem, "A\nB", 3) == 0);
    json_object_put(holder);
    ck_assert_ptr_null(agent_work_cert_pem("{}", 2, &holder, &pem_len));
}
END_TEST

static void free_ids(char **ids, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        free(ids[i]);
        ids[i] = NULL;
    }
}

START_TEST(test_agents_file)
{
    char path[64], err[512];
    snprintf(path, sizeof path, "/tmp/check_agent_ids.%d", (int)getpid());
    char *ids[6] = {strdup("agent-1-1"), NULL, strdup("agent-1-3"), NULL,
                    strdup("agent-1-5"), NULL};
    /* shard 0/2 holds agents 1, 3, 5 */
    ck_assert_int_eq(register_write_file(path, ids, 6, 0, 2, err, sizeof err), 0);
    char *back[6] = {NULL};
    ck_assert_int_eq(register_read_file(path, back, 6, 0, 2, err, sizeof err), 0);
    ck_assert_str_eq(back[0], "agent-1-1");
    ck_assert_str_eq(back[4], "agent-1-5");
    ck_assert_ptr_null(back[1]);
    free_ids(back, 6);
    /* shard 1/2 (agents 2, 4, 6) is not in the file */
    ck_assert_int_eq(register_read_file(path, back, 6, 1, 2, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "no id for agent 2"));
    free_ids(back, 6);
    /* an index beyond --agents, and a malformed line, name the file and line */
    ck_assert_int_eq(register_read_file(path, back, 4, 0, 2, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, ":4:"));
    free_ids(back, 6);
    FILE *f = fopen(path, "w");
    fputs("# comment\n1 agent-a\n2 bad id!\n", f);
    fclose(f);
    ck_assert_int_eq(register_read_file(path, back, 2, 0, 1, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, ":3:"));
    free_ids(back, 6);
    ck_assert_int_eq(register_read_file("/nonexistent/x", back, 2, 0, 1, err, sizeof err), -ENOENT);
    /* a NUL inside a line (it would cut the id short) names the line */
    static const char with_nul[] = "1 agent-a\n2 agent-b\0tail\n";
    f = fopen(path, "w");
    fwrite(with_nul, 1, sizeof with_nul - 1, f);
    fclose(f);
    ck_assert_int_eq(register_read_file(path, back, 2, 0, 1, err, sizeof err), -EINVAL);
    ck_assert_msg(strstr(err, ":2: the line holds a NUL byte") != NULL, "%s", err);
    free_ids(back, 6);
    /* an index given twice names both lines instead of keeping the later one */
    f = fopen(path, "w");
    fputs("# ids\n1 agent-a\n2 agent-b\n1 agent-c\n", f);
    fclose(f);
    ck_assert_int_eq(register_read_file(path, back, 2, 0, 1, err, sizeof err), -EINVAL);
    ck_assert_msg(strstr(err, ":4: agent 1 is already given on line 2") != NULL, "%s", err);
    free_ids(back, 6);
    /* one id for two agents names both */
    f = fopen(path, "w");
    fputs("1 agent-a\n2 agent-b\n3 agent-a\n", f);
    fclose(f);
    ck_assert_int_eq(register_read_file(path, back, 3, 0, 1, err, sizeof err), -EINVAL);
    ck_assert_msg(strstr(err, ":3: id agent-a is already agent 1's on line 1") != NULL, "%s", err);
    free_ids(back, 6);
    /* a FIFO is refused without waiting for a writer */
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    ck_assert_int_ne(register_read_file(path, back, 2, 0, 1, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "is a FIFO, not a regular file") != NULL, "%s", err);
    unlink(path);
    free_ids(ids, 6);
}
END_TEST

/* ---- a tiny certctl-like server in the test's event loop -------------------------------- */

struct srv {
    struct event_base *base;
    struct evhttp *http;
    uint16_t port;
    unsigned hb[MAX_AGENTS + 1];   /* heartbeats per agent index */
    unsigned work[MAX_AGENTS + 1]; /* polls per agent index */
    uint64_t last_hb_ns[MAX_AGENTS + 1];
    int retire_index;                 /* answer 410 to this agent's heartbeats */
    int work_status;                  /* status of work answers (200 default) */
    uint64_t hb_delay_ms;             /* answer heartbeats this late */
    char ua[64], ctype[64], auth[64]; /* headers of the last work GET */
    /* job flow: agent 1 gets a renewal per certificate mc-x-1..n_certs, then their deployments */
    EVP_PKEY *ca_key;
    int n_certs;      /* certificates mapped to agent 1 (set by the test; 1 by default) */
    bool mismatch;    /* serve a certificate for another key */
    bool host_config; /* deployment targets carry {"host","port"} */
    bool empty_cn;    /* renewals carry no common name */
    bool deploy_given;
    bool csr_verified, csr_has_email;
    int csr_posts;
    char *cert_pem[MAX_CERTS + 1]; /* per certificate index */
    char status[MAX_STATUS][160];
    char status_job[MAX_STATUS][32];
    int n_status;
    uint64_t fetch_ns[MAX_CERTS + 1], verify_ns[MAX_CERTS + 1];
    char verify_body[MAX_CERTS + 1][512];
    int verifies;
    bool failed[MAX_CERTS + 1]; /* renewal reported Failed: not offered again */
};

static void reply(struct evhttp_request *req, int code, const char *body)
{
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, code, "X", b);
    evbuffer_free(b);
}

/* Agent index from ".../agents/ag-loadtest-000NN/..." (0 when none). */
static int path_index(const char *uri)
{
    const char *p = strstr(uri, "ag-loadtest-");
    return p ? atoi(p + 12) : 0;
}

static char *body_of(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char *s = malloc(n + 1);
    evbuffer_remove(in, s, n);
    s[n] = '\0';
    return s;
}

struct delayed {
    struct evhttp_request *req;
    struct event *ev;
};

static void delayed_reply(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct delayed *d = arg;
    reply(d->req, 200, "{\"status\":\"heartbeat_recorded\"}");
    event_free(d->ev);
    free(d);
}

static void handle_heartbeat(struct srv *s, struct evhttp_request *req, int idx)
{
    if (idx > 0 && idx <= MAX_AGENTS) {
        s->hb[idx]++;
        s->last_hb_ns[idx] = clock_now_ns();
    }
    if (idx == s->retire_index) {
        reply(req, 410, "{\"error\":\"Gone\",\"message\":\"Agent has been retired\"}");
    } else if (s->hb_delay_ms) {
        struct delayed *d = calloc(1, sizeof *d);
        d->req = req;
        d->ev = evtimer_new(s->base, delayed_reply, d);
        struct timeval tv = {0, (suseconds_t)(s->hb_delay_ms * 1000)};
        evtimer_add(d->ev, &tv);
    } else {
        reply(req, 200, "{\"status\":\"heartbeat_recorded\"}");
    }
}

static void copy_header(struct evhttp_request *req, const char *name, char *out, size_t n)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
    snprintf(out, n, "%s", v ? v : "");
}

/* Agent 1's work: a renewal per unsigned certificate (AwaitingCSR until its CSR is signed),
 * then, once all are signed, one deployment per certificate, once. */
static void reply_jobs(struct srv *s, struct evhttp_request *req)
{
    json_object *jobs = json_object_new_array();
    bool all_signed = true;
    for (int c = 1; c <= s->n_certs; c++)
        all_signed &= s->cert_pem[c] != NULL;
    for (int c = 1; c <= s->n_certs && !(all_signed && s->deploy_given); c++) {
        char id[32], cert[32];
        json_object *j = json_object_new_object();
        snprintf(cert, sizeof cert, "mc-x-%d", c);
        snprintf(id, sizeof id, "job-%c%d", all_signed ? 'd' : 'r', c);
        json_object_object_add(j, "id", json_object_new_string(id));
        json_object_object_add(j, "certificate_id", json_object_new_string(cert));
        if (!all_signed && (s->cert_pem[c] || s->failed[c])) {
            json_object_put(j);
            continue;
        }
        if (!all_signed) {
            json_object *sans = json_object_new_array();
            json_object_array_add(sans, json_object_new_string("a.example.test"));
            json_object_array_add(sans, json_object_new_string("ops@example.test"));
            json_object_object_add(j, "type", json_object_new_string("Renewal"));
            if (!s->empty_cn)
                json_object_object_add(j, "common_name", json_object_new_string("a.example.test"));
            json_object_object_add(j, "sans", sans);
            json_object_object_add(j, "status", json_object_new_string("AwaitingCSR"));
        } else {
            json_object_object_add(j, "type", json_object_new_string("Deployment"));
            json_object_object_add(j, "target_id", json_object_new_string("tgt-1"));
            json_object_object_add(j, "target_type", json_object_new_string("NGINX"));
            json_object_object_add(j, "target_config",
                                   json_tokener_parse(s->host_config
                                                          ? "{\"host\":\"h.example.test\","
                                                            "\"port\":8443}"
                                                          : "{}"));
            json_object_object_add(j, "status", json_object_new_string("Running"));
        }
        json_object_array_add(jobs, j);
    }
    if (all_signed)
        s->deploy_given = true;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "count", json_object_new_int((int)json_object_array_length(jobs)));
    json_object_object_add(o, "jobs", jobs);
    reply(req, 200, json_object_to_json_string(o));
    json_object_put(o);
}

/* Certificate index of ".../mc-x-N..." (0 when none or out of range). */
static int cert_index(const char *s)
{
    const char *p = s ? strstr(s, "mc-x-") : NULL;
    int c = p ? atoi(p + 5) : 0;
    return c >= 1 && c <= MAX_CERTS ? c : 0;
}

static void handle_work(struct srv *s, struct evhttp_request *req, int idx)
{
    if (idx > 0 && idx <= MAX_AGENTS)
        s->work[idx]++;
    copy_header(req, "User-Agent", s->ua, sizeof s->ua);
    copy_header(req, "Content-Type", s->ctype, sizeof s->ctype);
    copy_header(req, "Authorization", s->auth, sizeof s->auth);
    if (s->work_status != 200) {
        reply(req, s->work_status, "{\"error\":\"boom\"}");
        return;
    }
    if (idx == 1 && s->ca_key)
        reply_jobs(s, req);
    else
        reply(req, 200, "{\"count\":0,\"jobs\":[]}");
}

/* Signs a certificate for pub with the CA key and returns its PEM (malloc'd). */
static char *sign_cert(EVP_PKEY *ca, EVP_PKEY *pub)
{
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 7);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"a.example.test", -1,
                               -1, 0);
    X509_set_subject_name(c, n);
    X509_set_issuer_name(c, n);
    X509_gmtime_adj(X509_getm_notBefore(c), 0);
    X509_gmtime_adj(X509_getm_notAfter(c), 3600);
    X509_set_pubkey(c, pub);
    X509_sign(c, ca, EVP_sha256());
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, c);
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    char *out = strndup(data, (size_t)len);
    BIO_free(bio);
    X509_NAME_free(n);
    X509_free(c);
    return out;
}

static void handle_csr(struct srv *s, struct evhttp_request *req)
{
    char *body = body_of(req);
    json_object *root = json_tokener_parse(body), *v;
    free(body);
    json_object *cid;
    int c = root && json_object_object_get_ex(root, "certificate_id", &cid)
                ? cert_index(json_object_get_string(cid))
                : 0;
    s->csr_posts++;
    if (!c || !json_object_object_get_ex(root, "csr_pem", &v)) {
        json_object_put(root);
        reply(req, 400, "{}");
        return;
    }
    const char *pem = json_object_get_string(v);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509_REQ *csr = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
    BIO_free(bio);
    EVP_PKEY *pub = csr ? X509_REQ_get0_pubkey(csr) : NULL;
    s->csr_verified = pub && X509_REQ_verify(csr, pub) == 1;
    STACK_OF(X509_EXTENSION) *exts = csr ? X509_REQ_get_extensions(csr) : NULL;
    GENERAL_NAMES *names = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++)
        s->csr_has_email |= sk_GENERAL_NAME_value(names, i)->type == GEN_EMAIL;
    GENERAL_NAMES_free(names);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (s->csr_verified) {
        EVP_PKEY *other = s->mismatch ? EVP_EC_gen("P-256") : NULL;
        free(s->cert_pem[c]);
        s->cert_pem[c] = sign_cert(s->ca_key, other ? other : pub);
        EVP_PKEY_free(other);
    }
    X509_REQ_free(csr);
    json_object_put(root);
    reply(req, s->csr_verified ? 202 : 500, "{\"status\":\"csr_signed\"}");
}

static void handle_cert(struct srv *s, struct evhttp_request *req)
{
    int c = cert_index(evhttp_request_get_uri(req));
    if (!c || !s->cert_pem[c]) {
        reply(req, 404, "{}");
        return;
    }
    s->fetch_ns[c] = clock_now_ns();
    json_object *o = json_object_new_object();
    json_object_object_add(o, "certificate_pem", json_object_new_string(s->cert_pem[c]));
    reply(req, 200, json_object_to_json_string(o));
    json_object_put(o);
}

static void srv_cb(struct evhttp_request *req, void *arg)
{
    struct srv *s = arg;
    const char *uri = evhttp_request_get_uri(req);
    int idx = path_index(uri);
    if (strstr(uri, "/heartbeat")) {
        handle_heartbeat(s, req, idx);
    } else if (strstr(uri, "/work")) {
        handle_work(s, req, idx);
    } else if (strstr(uri, "/csr")) {
        handle_csr(s, req);
    } else if (strstr(uri, "/certificates/")) {
        handle_cert(s, req);
    } else if (strstr(uri, "/verify")) {
        char *body = body_of(req);
        const char *job = strstr(uri, "/jobs/job-d");
        int c = job ? atoi(job + 11) : 0;
        if (c >= 1 && c <= MAX_CERTS) {
            s->verify_ns[c] = clock_now_ns();
            snprintf(s->verify_body[c], sizeof s->verify_body[c], "%s", body);
        }
        s->verifies++;
        free(body);
        reply(req, 200, "{\"status\":\"verified\"}");
    } else if (strstr(uri, "/status")) {
        char *body = body_of(req);
        const char *job = strstr(uri, "/jobs/");
        if (s->n_status < MAX_STATUS) {
            snprintf(s->status_job[s->n_status], sizeof s->status_job[0], "%.*s",
                     job ? (int)strcspn(job + 6, "/") : 0, job ? job + 6 : "");
            snprintf(s->status[s->n_status++], sizeof s->status[0], "%s", body);
        }
        if (job && strncmp(job + 6, "job-r", 5) == 0 && strstr(body, "Failed"))
            s->failed[atoi(job + 11) >= 1 && atoi(job + 11) <= MAX_CERTS ? atoi(job + 11) : 0] =
                true;
        free(body);
        reply(req, 200, "{\"status\":\"updated\"}");
    } else {
        reply(req, 404, "{}");
    }
}

static void srv_start(struct srv *s, struct event_base *base)
{
    memset(s, 0, sizeof *s);
    s->base = base;
    s->work_status = 200;
    s->n_certs = 1;
    s->http = evhttp_new(base);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bs);
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len);
    s->port = ntohs(sin.sin_port);
    evhttp_set_gencb(s->http, srv_cb, s);
}

static void srv_stop(struct srv *s)
{
    evhttp_free(s->http);
    EVP_PKEY_free(s->ca_key);
    for (int c = 0; c <= MAX_CERTS; c++)
        free(s->cert_pem[c]);
}

/* ---- running agents against it ---------------------------------------------------------- */

struct rig {
    struct event_base *base;
    struct srv srv;
    struct agent_settings set;
    struct http_conn_config cc;
    struct metrics *m;
    struct agent_loop loop;
    struct agent agents[MAX_AGENTS];
    uint32_t n;
};

/* Default profile with short timers: heartbeat hb_ms, poll poll_ms (0 = off), no jitter. */
static void rig_init(struct rig *r, uint32_t n, uint64_t hb_ms, uint64_t poll_ms)
{
    memset(r, 0, sizeof *r);
    r->base = event_base_new();
    srv_start(&r->srv, r->base);
    agent_settings_profile(&r->set, AGENT_PROFILE_DEFAULT);
    r->set.seed = 11;
    r->set.api_key = "k1";
    r->set.heartbeat = (struct schedule_params){hb_ms * MS, 0, hb_ms * MS, false, 0};
    r->set.poll = (struct schedule_params){poll_ms * MS, 0, poll_ms * MS, false, 0};
    char err[256];
    ck_assert_int_eq(http_conn_config_init(&r->cc, "127.0.0.1", r->srv.port, NULL, err, sizeof err),
                     0);
    r->cc.timeout_ns = 2000 * MS;
    r->m = metrics_new(false);
    r->n = n;
}

static void rig_loop_init(struct rig *r, uint32_t pool)
{
    ck_assert_int_eq(agent_loop_init(&r->loop, r->base, &r->set, &r->cc, r->m, pool), 0);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rig *r = arg;
    r->loop.stopping = true;
    for (uint32_t i = 0; i < r->n; i++)
        agent_stop(&r->agents[i]);
}

static void on_exit_loop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Runs the agents for run_ms, then stops scheduling and drains for drain_ms. */
static void rig_run(struct rig *r, uint64_t run_ms, uint64_t drain_ms)
{
    r->loop.run_start_ns = clock_now_ns();
    for (uint32_t i = 0; i < r->n; i++) {
        agent_init(&r->agents[i], &r->loop, i + 1);
        agent_start(&r->agents[i]);
    }
    struct event *stop = evtimer_new(r->base, on_stop, r);
    struct event *quit = evtimer_new(r->base, on_exit_loop, r->base);
    struct timeval a = {(time_t)(run_ms / 1000), (suseconds_t)(run_ms % 1000 * 1000)};
    uint64_t end = run_ms + drain_ms;
    struct timeval b = {(time_t)(end / 1000), (suseconds_t)(end % 1000 * 1000)};
    evtimer_add(stop, &a);
    evtimer_add(quit, &b);
    event_base_dispatch(r->base);
    event_free(stop);
    event_free(quit);
}

static uint64_t rig_pending(struct rig *r)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < r->n; i++)
        n += agent_pending(&r->agents[i]);
    return n;
}

static void rig_free(struct rig *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        agent_destroy(&r->agents[i]);
    agent_loop_destroy(&r->loop);
    srv_stop(&r->srv);
    metrics_free(r->m);
    event_base_free(r->base);
}

static const struct metrics_series *series(struct rig *r, const char *ep)
{
    return metrics_series_find(r->m, "default", "agent", ep);
}

START_TEST(test_heartbeat_counts)
{
    struct rig r;
    rig_init(&r, 20, 100, 0);
    rig_loop_init(&r, 0);
    rig_run(&r, 1000, 300);
    /* first beat in [0, 100 ms), then every 100 ms: 10 beats in the first second */
    unsigned total = 0;
    for (uint32_t i = 1; i <= 20; i++) {
        ck_assert_msg(r.srv.hb[i] >= 9 && r.srv.hb[i] <= 11, "agent %u: %u", i, r.srv.hb[i]);
        total += r.srv.hb[i];
    }
    const struct metrics_series *s = series(&r, "heartbeat");
    ck_assert_uint_eq(s->total.answered, total);
    ck_assert_uint_eq(s->total.scheduled, total);
    ck_assert_uint_eq(s->total.dropped, 0);
    ck_assert_uint_eq(s->total.lag_negative, 0);
    ck_assert_uint_eq(s->total.failed, 0);
    ck_assert_ptr_null(series(&r, "work")); /* poll off: no work series at all */
    ck_assert_uint_eq(r.srv.work[1], 0);
    rig_free(&r);
}
END_TEST

START_TEST(test_certctl_headers_and_backoff)
{
    struct rig r;
    rig_init(&r, 2, 100, 100);
    agent_settings_profile(&r.set, AGENT_PROFILE_CERTCTL_1_0);
    r.set.api_key = "k1";
    r.set.heartbeat = (struct schedule_params){100 * MS, 0, 50 * MS, true, 0};
    r.set.poll = (struct schedule_params){100 * MS, 0, 50 * MS, true, 0};
    r.srv.work_status = 500; /* every poll fails: the next one waits failures x 30 s */
    rig_loop_init(&r, 0);
    rig_run(&r, 1000, 300);
    ck_assert_str_eq(r.srv.ua, "Go-http-client/1.1");
    ck_assert_str_eq(r.srv.ctype, "application/json");
    ck_assert_str_eq(r.srv.auth, "Bearer k1");
    for (uint32_t i = 1; i <= 2; i++) {
        ck_assert_uint_eq(r.srv.work[i], 1); /* one poll, then the back-off */
        ck_assert_uint_ge(r.srv.hb[i], 9);   /* heartbeats are never delayed */
    }
    ck_assert_uint_eq(series(&r, "work")->total.failed, 2);
    rig_free(&r);

    /* the default profile has no back-off: the polls go on */
    rig_init(&r, 2, 100, 100);
    r.srv.work_status = 500;
    rig_loop_init(&r, 0);
    rig_run(&r, 1000, 300);
    ck_assert_uint_ge(r.srv.work[1], 9);
    ck_assert_str_eq(r.srv.ctype, ""); /* default profile: no Content-Type on GET */
    rig_free(&r);
}
END_TEST

START_TEST(test_drops_when_in_flight)
{
    struct rig r;
    rig_init(&r, 4, 100, 0);
    r.srv.hb_delay_ms = 250; /* each heartbeat takes 2.5 intervals */
    rig_loop_init(&r, 0);
    rig_run(&r, 1000, 600);
    const struct metrics_series *s = series(&r, "heartbeat");
    ck_assert_uint_gt(s->total.dropped, 8);
    ck_assert_uint_ge(s->total.answered, 12);
    /* the identity: scheduled = answered + errors + timeouts + dropped + still pending */
    ck_assert_uint_eq(s->total.scheduled, s->total.answered + metrics_outcomes_errors(&s->total) +
                                              s->total.timed_out + s->total.dropped +
                                              rig_pending(&r));
    /* at most one heartbeat per agent is ever outstanding: never more than one per 250 ms */
    for (uint32_t i = 1; i <= 4; i++)
        ck_assert_uint_le(r.srv.hb[i], 5);
    rig_free(&r);
}
END_TEST

START_TEST(test_retire_on_410)
{
    struct rig r;
    rig_init(&r, 3, 100, 100);
    r.srv.retire_index = 2;
    rig_loop_init(&r, 0);
    rig_run(&r, 1000, 300);
    ck_assert_uint_eq(r.srv.hb[2], 1);   /* one heartbeat, answered 410, then nothing */
    ck_assert_uint_le(r.srv.work[2], 1); /* a poll already due may have gone first */
    ck_assert_uint_ge(r.srv.hb[1], 9);
    ck_assert_uint_ge(r.srv.hb[3], 9);
    ck_assert_uint_eq(r.loop.counters.retired, 1);
    ck_assert(r.agents[1].retired);
    ck_assert_ptr_null(r.agents[1].conn); /* its connection is freed */
    rig_free(&r);
}
END_TEST

START_TEST(test_pool)
{
    struct rig r;
    rig_init(&r, 10, 100, 0);
    rig_loop_init(&r, 2);
    rig_run(&r, 1000, 300);
    const struct metrics_series *s = series(&r, "heartbeat");
    unsigned total = 0;
    for (uint32_t i = 1; i <= 10; i++) {
        ck_assert_uint_ge(r.srv.hb[i], 9);
        total += r.srv.hb[i];
    }
    ck_assert_uint_eq(s->total.answered, total);
    ck_assert_uint_eq(s->total.dropped, 0);
    for (uint32_t i = 0; i < 10; i++)
        ck_assert_ptr_null(r.agents[i].conn); /* pool connections are only borrowed */
    rig_free(&r);
}
END_TEST

/* The fingerprint the real agent reports: SHA-256 of the certificate's DER, lower-case hex. */
static void cert_fp(const char *pem, char hex[65])
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    unsigned char md[32];
    unsigned int n = 0;
    X509_digest(c, EVP_sha256(), md, &n);
    for (unsigned i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    X509_free(c);
    BIO_free(bio);
}

/* Runs agent 1 against n_certs renewals and their deployments (verify wait 150 ms). */
static void job_rig(struct rig *r, int n_certs, bool mismatch, bool host)
{
    rig_init(r, 1, 200, 100);
    r->set.verify_wait_ns = 150 * MS;
    r->set.probe_min_ns = 10 * MS;
    r->set.probe_max_ns = 20 * MS;
    r->srv.ca_key = EVP_EC_gen("P-256");
    r->srv.n_certs = n_certs;
    r->srv.mismatch = mismatch;
    r->srv.host_config = host;
    rig_loop_init(r, 0);
}

static void run_job_flow(bool mismatch)
{
    struct rig r;
    job_rig(&r, 1, mismatch, false);
    rig_run(&r, 800, 300);
    ck_assert(r.srv.csr_verified);
    ck_assert(r.srv.csr_has_email);
    ck_assert(r.srv.deploy_given);
    ck_assert_int_eq(r.srv.n_status, 2);
    ck_assert_str_eq(r.srv.status[0], "{\"status\":\"Running\"}");
    const struct agent_counters *c = &r.loop.counters;
    ck_assert_uint_eq(c->csr_generated, 1);
    ck_assert_uint_eq(c->csr_accepted, 1);
    ck_assert_uint_eq(c->jobs_received,
                      2); /* the renewal (once, not per poll) and the deployment */
    if (mismatch) {
        ck_assert_ptr_nonnull(strstr(r.srv.status[1], "\"status\":\"Failed\""));
        ck_assert_ptr_nonnull(strstr(r.srv.status[1], "deployment failed: "));
        ck_assert_ptr_nonnull(strstr(r.srv.status[1], "does not match"));
        ck_assert_uint_eq(c->key_mismatch, 1);
        ck_assert_uint_eq(c->deploy_failed, 1);
    } else {
        ck_assert_str_eq(r.srv.status[1], "{\"status\":\"Completed\"}");
        ck_assert_uint_eq(c->key_match, 1);
        ck_assert_uint_eq(c->deploy_completed, 1);
    }
    /* no host in the target's config: no probe, no verify report */
    ck_assert_int_eq(r.srv.verifies, 0);
    ck_assert_uint_eq(c->verify_probes, 0);
    /* the key is kept for the agent's life, as the real agent's key file */
    ck_assert_uint_eq(agent_work_keys(&r.agents[0]), 1);
    ck_assert_uint_eq(c->keys_kept, 1);
    ck_assert_uint_eq(series(&r, "csr")->total.answered, 1);
    ck_assert_uint_eq(series(&r, "cert_fetch")->total.answered, 1);
    ck_assert_uint_eq(series(&r, "job_status")->total.answered, 2);
    rig_free(&r);
}

START_TEST(test_job_flow_completed)
{
    run_job_flow(false);
}
END_TEST

START_TEST(test_job_flow_key_mismatch)
{
    run_job_flow(true);
}
END_TEST

/* A target whose config names a host: fetch, the wait and the probe, one verify report with the
 * fetched certificate's fingerprints, then Completed. */
START_TEST(test_deploy_verify)
{
    struct rig r;
    job_rig(&r, 1, false, true);
    rig_run(&r, 1200, 300);
    ck_assert_int_eq(r.srv.verifies, 1);
    char fp[65], want[512];
    cert_fp(r.srv.cert_pem[1], fp);
    snprintf(want, sizeof want,
             "{\"actual_fingerprint\":\"%s\",\"error\":\"\",\"expected_fingerprint\":\"%s\","
             "\"target_id\":\"tgt-1\",\"verified\":true}",
             fp, fp);
    ck_assert_str_eq(r.srv.verify_body[1], want);
    /* the server saw the verify at least the wait plus the shortest probe after the fetch */
    ck_assert_uint_gt(r.srv.fetch_ns[1], 0);
    ck_assert_uint_ge(r.srv.verify_ns[1] - r.srv.fetch_ns[1], 160 * MS);
    ck_assert_int_eq(r.srv.n_status, 2);
    ck_assert_str_eq(r.srv.status_job[1], "job-d1");
    ck_assert_str_eq(r.srv.status[1], "{\"status\":\"Completed\"}");
    const struct agent_counters *c = &r.loop.counters;
    ck_assert_uint_eq(c->verify_probes, 1);
    ck_assert_uint_eq(c->deploy_completed, 1);
    ck_assert_uint_eq(series(&r, "job_verify")->total.answered, 1);
    ck_assert_uint_eq(series(&r, "job_verify")->total.failed, 0);
    rig_free(&r);
}
END_TEST

/* An AwaitingCSR job without a common name: the key is made and kept, no CSR leaves, and the
 * job is reported Failed with the real agent's text. */
START_TEST(test_csr_empty_common_name)
{
    struct rig r;
    job_rig(&r, 1, false, false);
    r.srv.empty_cn = true;
    rig_run(&r, 600, 300);
    ck_assert_int_eq(r.srv.csr_posts, 0);
    ck_assert_int_eq(r.srv.n_status, 1);
    ck_assert_str_eq(r.srv.status_job[0], "job-r1");
    ck_assert_str_eq(r.srv.status[0], "{\"error\":\"empty common name\",\"status\":\"Failed\"}");
    ck_assert_uint_eq(r.loop.counters.csr_failed, 1);
    ck_assert_uint_eq(agent_work_keys(&r.agents[0]), 1);
    rig_free(&r);
}
END_TEST

/* 20 certificates mapped to one agent: every renewal of the poll is worked in order, every key
 * kept, every deployment (with verify) Completed: no caps. */
START_TEST(test_twenty_certificates)
{
    struct rig r;
    job_rig(&r, 20, false, true);
    r.set.probe_min_ns = r.set.probe_max_ns = 1 * MS;
    r.set.verify_wait_ns = 5 * MS;
    rig_run(&r, 3000, 500);
    const struct agent_counters *c = &r.loop.counters;
    ck_assert_int_eq(r.srv.csr_posts, 20);
    ck_assert_uint_eq(c->csr_accepted, 20);
    ck_assert_uint_eq(c->jobs_received, 40);
    ck_assert_uint_eq(c->deploy_completed, 20);
    ck_assert_uint_eq(c->deploy_failed, 0);
    ck_assert_int_eq(r.srv.verifies, 20);
    ck_assert_uint_eq(agent_work_keys(&r.agents[0]), 20);
    ck_assert_uint_eq(c->keys_kept, 20);
    /* in the poll's order: job-d1 .. job-d20 reported Completed one after the other */
    int completed = 0;
    for (int i = 0; i < r.srv.n_status; i++) {
        if (strcmp(r.srv.status[i], "{\"status\":\"Completed\"}") != 0)
            continue;
        char want[32];
        snprintf(want, sizeof want, "job-d%d", ++completed);
        ck_assert_str_eq(r.srv.status_job[i], want);
    }
    ck_assert_int_eq(completed, 20);
    rig_free(&r);
}
END_TEST

/* Agents against the scripted TLS server that closes every connection after its answer: each
 * request is a reconnect. Resumption off (the default: the real agent has no session cache)
 * means every handshake is full; on, they resume. Counted by fleetsim and by the server. */
START_TEST(test_tls_resumption_counted)
{
    bool resume = _i == 1;
    EVP_PKEY *key;
    X509 *cert;
    char ca[64], err[256];
    ck_assert_int_eq(tsrv_make_cert(&key, &cert, ca), 0);
    struct rig r;
    rig_init(&r, 2, 100, 0);
    SSL_CTX *sctx = tsrv_ssl_ctx(key, cert, 0);
    struct tsrv ts;
    memset(&ts, 0, sizeof ts);
    ck_assert_int_eq(tsrv_start(&ts, r.base, "127.0.0.1", sctx), 0);
    static const enum tsrv_mode close_each[] = {TS_CONN_CLOSE};
    tsrv_script(&ts, 1, close_each);
    SSL_CTX *cctx = tls_client_ctx_new(ca, false, err, sizeof err);
    ck_assert_msg(cctx != NULL, "%s", err);
    ck_assert_int_eq(http_conn_config_init(&r.cc, "localhost", ts.port, cctx, err, sizeof err), 0);
    r.cc.tls_no_resumption = !resume;
    rig_loop_init(&r, 0);
    rig_run(&r, 700, 300);
    const struct agent_counters *c = &r.loop.counters;
    ck_assert_int_ge(ts.accepts, 8);
    ck_assert_uint_eq(c->tls_full + c->tls_resumed, (uint64_t)ts.accepts);
    ck_assert_uint_eq(c->tls_resumed, (uint64_t)ts.tls_resumed);
    if (resume)
        ck_assert_uint_ge(c->tls_resumed, (uint64_t)ts.accepts - 2); /* all but the first each */
    else
        ck_assert_uint_eq(c->tls_resumed, 0);
    tsrv_stop(&ts);
    rig_free(&r);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    unlink(ca);
    EVP_PKEY_free(key);
    X509_free(cert);
}
END_TEST

/* --agent-failures: _i 0 = csr, 1 = deploy, 2 = verify, each at share 1, reported with the
 * real agent's texts and counted apart from the server's errors. */
START_TEST(test_agent_failures)
{
    struct rig r;
    job_rig(&r, 1, false, true);
    r.set.verify_wait_ns = 20 * MS;
    r.set.probe_timeout_ns = 50 * MS;
    r.set.fail_csr = _i == 0;
    r.set.fail_deploy = _i == 1;
    r.set.fail_verify = _i == 2;
    rig_run(&r, 1000, 300);
    const struct agent_counters *c = &r.loop.counters;
    ck_assert_uint_eq(c->fail_csr + c->fail_deploy + c->fail_verify, 1);
    if (_i == 0) {
        ck_assert_int_eq(r.srv.csr_posts, 0);
        ck_assert_int_eq(r.srv.n_status, 1);
        ck_assert_str_eq(r.srv.status[0],
                         "{\"error\":\"key storage failed: open /var/lib/certctl/keys/mc-x-1.key: "
                         "no space left on device\",\"status\":\"Failed\"}");
        ck_assert_uint_eq(c->fail_csr, 1);
        ck_assert_uint_eq(agent_work_keys(&r.agents[0]), 0);
    } else if (_i == 1) {
        ck_assert_int_eq(r.srv.n_status, 2);
        ck_assert_ptr_nonnull(strstr(r.srv.status[1], "\"error\":\"deployment failed: "));
        ck_assert_ptr_nonnull(strstr(r.srv.status[1], "\"status\":\"Failed\""));
        ck_assert_uint_eq(c->deploy_failed, 1);
        ck_assert_int_eq(r.srv.verifies, 0);
    } else {
        ck_assert_int_eq(r.srv.verifies, 1);
        ck_assert_str_eq(
            r.srv.verify_body[1],
            "{\"actual_fingerprint\":\"\",\"error\":\"failed to connect to "
            "h.example.test:8443: dial tcp h.example.test:8443: i/o timeout\","
            "\"expected_fingerprint\":\"\",\"target_id\":\"tgt-1\",\"verified\":false}");
        /* the probe took the timeout, not the 10-20 ms probe range */
        ck_assert_uint_ge(r.srv.verify_ns[1] - r.srv.fetch_ns[1], 70 * MS);
        ck_assert_str_eq(r.srv.status[1], "{\"status\":\"Completed\"}");
        ck_assert_uint_eq(c->deploy_completed, 1);
    }
    rig_free(&r);
}
END_TEST

START_TEST(test_keys_store)
{
    struct agent_keys k = {0};
    uint8_t p1[CSR_PUB_LEN], p2[CSR_PUB_LEN];
    memset(p1, 1, sizeof p1);
    memset(p2, 2, sizeof p2);
    ck_assert_int_eq(agent_keys_put(&k, "mc-b", p1), 1);
    ck_assert_int_eq(agent_keys_put(&k, "mc-a", p2), 1);
    ck_assert_int_eq(agent_keys_put(&k, "mc-c", p1), 1);
    ck_assert_int_eq(agent_keys_put(&k, "mc-a", p1), 0); /* a new key for the same certificate */
    ck_assert_uint_eq(k.n, 3);
    ck_assert(memcmp(agent_keys_find(&k, "mc-a"), p1, CSR_PUB_LEN) == 0);
    ck_assert(memcmp(agent_keys_find(&k, "mc-b"), p1, CSR_PUB_LEN) == 0);
    ck_assert_ptr_null(agent_keys_find(&k, "mc-d"));
    char id[16];
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "mc-%05d", (i * 7919) % 500);
        agent_keys_put(&k, id, i % 2 ? p1 : p2);
    }
    ck_assert_uint_eq(k.n, 503);
    ck_assert_ptr_nonnull(agent_keys_find(&k, "mc-00499"));
    ck_assert_uint_eq(agent_keys_clear(&k), 503);
    ck_assert_uint_eq(k.n, 0);
    /* a 20-character id: 65 + 21 bytes + malloc's header, rounded to 16, plus a pointer */
    ck_assert_uint_eq(agent_keys_bytes_per_key(20), 104);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent");
    TCase *pure = testenv_tcase(s, "pure", 0);
    tcase_add_test(pure, test_expected_and_names);
    tcase_add_test(pure, test_profiles);
    tcase_add_test(pure, test_bodies_and_headers);
    tcase_add_test(pure, test_work_parse);
    tcase_add_test(pure, test_status_bodies);
    tcase_add_test(pure, test_agents_file);
    tcase_add_test(pure, test_keys_store);
    TCase *loop = testenv_tcase(s, "loop", 30);
    tcase_add_test(loop, test_heartbeat_counts);
    tcase_add_test(loop, test_certctl_headers_and_backoff);
    tcase_add_test(loop, test_drops_when_in_flight);
    tcase_add_test(loop, test_retire_on_410);
    tcase_add_test(loop, test_pool);
    tcase_add_test(loop, test_job_flow_completed);
    tcase_add_test(loop, test_job_flow_key_mismatch);
    tcase_add_test(loop, test_deploy_verify);
    tcase_add_test(loop, test_csr_empty_common_name);
    tcase_add_test(loop, test_twenty_certificates);
    tcase_add_loop_test(loop, test_tls_resumption_counted, 0, 2);
    tcase_add_loop_test(loop, test_agent_failures, 0, 3);
    return testenv_run(s);
}
