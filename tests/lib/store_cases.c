/* tests/lib/store_cases.c - behavioural cases of refserver/store.h, run unchanged against each
 * backend (memory, PostgreSQL), part 1: the shared helpers and certctl's rules for
 * registration, heartbeats, retirement, work routing and claiming, CSR completion and job
 * status. Part 2 (certificates, bulk renewal, profiles, seeding) is store_cases_cert.c. Every
 * test opens its own empty store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/identity.h"
#include "tests/lib/testenv.h"
#include "tests/lib/store_cases_internal.h"

static const struct store_backend *backend;
int64_t fake_now_ns = T0_NS;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now_ns;
}

struct store *sc_open_store(bool clamp)
{
    struct store_config cfg;
    store_config_init(&cfg);
    cfg.now_unix_ns = fake_clock;
    cfg.bulk_clamp = clamp;
    cfg.expect_agents = 64;
    cfg.expect_certs = 256;
    fake_now_ns = T0_NS;
    struct store *s = backend->open(&cfg);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* A store holding agents 1..n_agents and certs 1..n_certs of fleet "loadtest". */
struct store *sc_seeded(int n_agents, int n_certs, bool clamp)
{
    struct store *s = sc_open_store(clamp);
    struct store_seed_config sc = {.agents = (uint32_t)n_agents,
                                   .certs = (uint32_t)n_certs,
                                   .prefix = P,
                                   .run_seed = 7,
                                   .os_mix = identity_default_os_mix()};
    char err[256] = "";
    int rc = store_seed_fleet(s, &sc, err, sizeof(err));
    ck_assert_msg(rc == STORE_OK, "seed: %s (%s)", store_rc_str(rc), err);
    return s;
}

const char *sc_jstr(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

int64_t sc_jint(json_object *o, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "missing %s", key);
    return json_object_get_int64(v);
}

/* Seconds since the epoch of an RFC 3339 UTC time (fraction ignored). */
int64_t sc_rfc3339_s(const char *t)
{
    struct tm tm = {0};
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(strptime(t, "%Y-%m-%dT%H:%M:%S", &tm));
    return (int64_t)timegm(&tm);
}

bool sc_jhas(json_object *o, const char *key)
{
    return json_object_object_get_ex(o, key, NULL);
}

char *sc_agent_id(int i)
{
    static char buf[4][IDENTITY_NAME_MAX];
    static int k;
    char *b = buf[k++ % 4];
    identity_agent_id(b, IDENTITY_NAME_MAX, P, (uint32_t)i);
    return b;
}

char *sc_cert_id(int j)
{
    static char buf[4][IDENTITY_NAME_MAX];
    static int k;
    char *b = buf[k++ % 4];
    identity_cert_id(b, IDENTITY_NAME_MAX, P, (uint32_t)j);
    return b;
}

/* Polls and returns the number of items; *items_out (may be NULL) keeps the array. */
int sc_poll_n(struct store *s, const char *agent, json_object **items_out)
{
    json_object *items = NULL;
    int rc = store_work_poll(s, agent, &items);
    ck_assert_int_eq(rc, STORE_OK);
    int n = (int)json_object_array_length(items);
    if (items_out)
        *items_out = items;
    else
        json_object_put(items);
    return n;
}

const char *sc_job_status(struct store *s, const char *job_id, char *buf, size_t n)
{
    json_object *j = NULL;
    ck_assert_int_eq(store_job_get(s, job_id, &j), STORE_OK);
    snprintf(buf, n, "%s", sc_jstr(j, "status"));
    json_object_put(j);
    return buf;
}

void sc_issued(struct store_issued_cert *ic, const char *fp, int64_t not_after_s)
{
    *ic = (struct store_issued_cert){
        .pem_chain = "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n",
        .serial_number = "0a1b",
        .fingerprint_sha256 = fp,
        .csr_pem = "csr",
        .not_before_unix_s = T0_NS / 1000000000LL,
        .not_after_unix_s = not_after_s};
}

/* ---- agents ----------------------------------------------------------------------------- */

START_TEST(register_rules)
{
    struct store *s = sc_open_store(true);
    struct store_agent_meta m = {.hostname = "h1",
                                 .os = "linux",
                                 .architecture = "amd64",
                                 .ip_address = "192.0.2.10",
                                 .version = "2.1.0"};
    json_object *a = NULL;
    ck_assert_int_eq(store_agent_register(s, "web-1", &m, &a), STORE_OK);
    ck_assert_str_eq(sc_jstr(a, "status"), "Online");
    ck_assert_str_eq(sc_jstr(a, "name"), "web-1");
    ck_assert_str_eq(sc_jstr(a, "os"), "linux");
    ck_assert_int_eq(strncmp(sc_jstr(a, "id"), "agent-", 6), 0);
    ck_assert(!sc_jhas(a, "last_heartbeat_at"));
    ck_assert_str_eq(sc_jstr(a, "registered_at"), "2030-01-01T00:00:00Z");
    char id[128];
    snprintf(id, sizeof(id), "%s", sc_jstr(a, "id"));
    json_object_put(a);

    json_object *g = NULL;
    ck_assert_int_eq(store_agent_get(s, id, &g), STORE_OK);
    ck_assert_str_eq(sc_jstr(g, "hostname"), "h1");
    ck_assert_str_eq(sc_jstr(g, "ip_address"), "192.0.2.10");
    json_object_put(g);

    ck_assert_int_eq(store_agent_register(s, "web-1", &m, NULL), STORE_CONFLICT);
    ck_assert_int_eq(store_agent_register(s, "", &m, NULL), STORE_INVALID);
    struct store_agent_meta nohost = {.os = "linux"};
    ck_assert_int_eq(store_agent_register(s, "web-2", &nohost, NULL), STORE_INVALID);
    char name[STORE_AGENT_NAME_MAX + 2];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    ck_assert_int_eq(store_agent_register(s, name, &m, NULL), STORE_INVALID); /* 129 chars */
    name[STORE_AGENT_NAME_MAX] = '\0';
    ck_assert_int_eq(store_agent_register(s, name, &m, NULL), STORE_OK); /* 128 chars */
    ck_assert_int_eq(store_agent_get(s, "agent-nope", NULL), STORE_NOT_FOUND);
    store_free(s);
}
END_TEST

START_TEST(heartbeat_rules)
{
    struct store *s = sc_seeded(3, 0, true);
    struct store_agent_counts c;
    ck_assert_int_eq(store_agent_counts(s, &c), STORE_OK);
    ck_assert_uint_eq(c.total, 3);
    ck_assert_uint_eq(c.os[0] + c.os[1] + c.os[2] + c.os_other, 3);
    uint64_t windows_before = c.os[IDENTITY_OS_WINDOWS];

    ck_assert_int_eq(store_agent_heartbeat(s, "ag-loadtest-99999", NULL), STORE_NOT_FOUND);
    fake_now_ns += 5 * 1000000000LL + 250000000LL;
    struct store_agent_meta m = {.os = "windows", .version = "1.0.0", .hostname = ""};
    ck_assert_int_eq(store_agent_heartbeat(s, sc_agent_id(2), &m), STORE_OK);
    json_object *a = NULL;
    ck_assert_int_eq(store_agent_get(s, sc_agent_id(2), &a), STORE_OK);
    ck_assert_str_eq(sc_jstr(a, "last_heartbeat_at"), "2030-01-01T00:00:05.25Z");
    ck_assert_str_eq(sc_jstr(a, "version"), "1.0.0");
    ck_assert_str_eq(sc_jstr(a, "os"), "windows");
    ck_assert_str_eq(sc_jstr(a, "hostname"), "loadtest-00002.fleet.example.test"); /* "" kept */
    json_object_put(a);
    struct identity_os_mix mix = identity_default_os_mix();
    struct identity_agent_meta meta;
    identity_agent_meta(7, 2, &mix, &meta);
    ck_assert_int_eq(store_agent_counts(s, &c), STORE_OK);
    ck_assert_uint_eq(c.os[IDENTITY_OS_WINDOWS],
                      windows_before + (meta.os_kind == IDENTITY_OS_WINDOWS ? 0 : 1));

    ck_assert_int_eq(store_agent_retire(s, sc_agent_id(3), true, "decommissioned", NULL), STORE_OK);
    ck_assert_int_eq(store_agent_heartbeat(s, sc_agent_id(3), &m), STORE_GONE);
    ck_assert_int_eq(store_agent_counts(s, &c), STORE_OK);
    ck_assert_uint_eq(c.retired, 1);
    ck_assert_uint_eq(c.total, 3);
    store_free(s);
}
END_TEST

START_TEST(retire_rules)
{
    struct store *s = sc_seeded(2, 2, true);
    struct store_agent_meta m = {.hostname = "bare"};
    json_object *a = NULL, *r = NULL;
    ck_assert_int_eq(store_agent_register(s, "bare-agent", &m, &a), STORE_OK);
    char bare[128];
    snprintf(bare, sizeof(bare), "%s", sc_jstr(a, "id"));
    json_object_put(a);

    ck_assert_int_eq(store_agent_retire(s, "agent-missing", false, NULL, NULL), STORE_NOT_FOUND);
    fake_now_ns += 1000000000LL;
    ck_assert_int_eq(store_agent_retire(s, bare, false, NULL, &r), STORE_OK);
    ck_assert_str_eq(sc_jstr(r, "retired_at"), "2030-01-01T00:00:01Z");
    json_object_put(r);
    fake_now_ns += 1000000000LL;
    ck_assert_int_eq(store_agent_retire(s, bare, false, NULL, &r), STORE_GONE); /* 204 */
    ck_assert_str_eq(sc_jstr(r, "retired_at"), "2030-01-01T00:00:01Z");
    json_object_put(r);

    /* Agent 1 owns a target and a certificate: blocked without force. */
    ck_assert_int_eq(store_agent_retire(s, sc_agent_id(1), false, NULL, &r), STORE_CONFLICT);
    json_object *counts = json_object_object_get(r, "counts");
    ck_assert_int_eq(sc_jint(counts, "active_targets"), 1);
    ck_assert_int_eq(sc_jint(counts, "active_certificates"), 1);
    ck_assert_int_eq(sc_jint(counts, "pending_jobs"), 0);
    json_object_put(r);
    ck_assert_int_eq(store_agent_retire(s, sc_agent_id(1), true, "", NULL), STORE_INVALID);
    ck_assert_int_eq(store_agent_retire(s, sc_agent_id(1), true, "gone", &r), STORE_OK);
    ck_assert(json_object_get_boolean(json_object_object_get(r, "cascade")));
    json_object_put(r);

    /* A retired agent still polls (certctl answers 200) and still gets its CSR jobs. */
    ck_assert_int_eq(store_job_create_renewal(s, sc_cert_id(1), NULL), STORE_OK);
    json_object *items = NULL;
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), &items), 1);
    ck_assert_str_eq(sc_jstr(json_object_array_get_idx(items, 0), "status"), "AwaitingCSR");
    json_object_put(items);
    store_free(s);
}
END_TEST

/* ---- work routing, CSR, deployment ------------------------------------------------------ */

START_TEST(csr_jobs_route_to_mapped_agent_only)
{
    struct store *s = sc_seeded(3, 6, true); /* cert j → agent ((j-1) mod 3) + 1 */
    char *job = NULL;
    ck_assert_int_eq(store_job_create_renewal(s, sc_cert_id(2), &job), STORE_OK);
    ck_assert_int_eq(store_job_create_renewal(s, "mc-nope", NULL), STORE_NOT_FOUND);
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 0);
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(3), NULL), 0);
    for (int round = 0; round < 2; round++) { /* AwaitingCSR is returned on every poll */
        json_object *items = NULL;
        ck_assert_int_eq(sc_poll_n(s, sc_agent_id(2), &items), 1);
        json_object *it = json_object_array_get_idx(items, 0);
        ck_assert_str_eq(sc_jstr(it, "id"), job);
        ck_assert_str_eq(sc_jstr(it, "type"), "Renewal");
        ck_assert_str_eq(sc_jstr(it, "status"), "AwaitingCSR");
        ck_assert_str_eq(sc_jstr(it, "certificate_id"), sc_cert_id(2));
        ck_assert_str_eq(sc_jstr(it, "common_name"), "loadtest-00002.certs.example.test");
        ck_assert(!sc_jhas(it, "sans") && !sc_jhas(it, "target_id"));
        json_object_put(items);
    }
    json_object *none = NULL;
    ck_assert_int_eq(store_work_poll(s, "ag-loadtest-77777", &none), STORE_NOT_FOUND);
    ck_assert_ptr_null(none);
    free(job);
    store_free(s);
}
END_TEST

START_TEST(csr_complete_then_deploy_claimed_once)
{
    struct store *s = sc_seeded(2, 4, true);
    char *job = NULL, st[64];
    ck_assert_int_eq(store_job_create_renewal(s, sc_cert_id(3), &job), STORE_OK); /* agent 1 */
    char *pem = NULL;
    ck_assert_int_eq(store_cert_latest_pem(s, sc_cert_id(3), &pem), STORE_NOT_FOUND);

    fake_now_ns += 60 * 1000000000LL;
    int64_t not_after = T0_NS / 1000000000LL + 90 * DAY_S;
    struct store_issued_cert ic;
    sc_issued(&ic, "aa01", not_after);
    ck_assert_int_eq(store_csr_complete(s, sc_agent_id(1), sc_cert_id(3), &ic), STORE_OK);
    ck_assert_str_eq(sc_job_status(s, job, st, sizeof(st)), "Completed");
    ck_assert_int_eq(store_cert_latest_pem(s, sc_cert_id(3), &pem), STORE_OK);
    ck_assert_str_eq(pem, ic.pem_chain);
    free(pem);
    json_object *c = NULL;
    ck_assert_int_eq(store_cert_get(s, sc_cert_id(3), &c), STORE_OK);
    ck_assert_str_eq(sc_jstr(c, "status"), "Active");
    ck_assert_str_eq(sc_jstr(c, "expires_at"), "2030-04-01T00:00:00Z");
    ck_assert_str_eq(sc_jstr(c, "last_renewal_at"), "2030-01-01T00:01:00Z");
    json_object_put(c);

    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(2), NULL), 0);
    json_object *items = NULL;
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), &items), 1);
    json_object *it = json_object_array_get_idx(items, 0);
    ck_assert_str_eq(sc_jstr(it, "type"), "Deployment");
    ck_assert_str_eq(sc_jstr(it, "status"), "Running");
    ck_assert_str_eq(sc_jstr(it, "target_id"), "tgt-loadtest-00001");
    ck_assert_str_eq(sc_jstr(it, "target_type"), "NGINX");
    ck_assert_str_eq(json_object_to_json_string(json_object_object_get(it, "target_config")),
                     "{ }");
    ck_assert(!sc_jhas(it, "common_name"));
    char deploy[128];
    snprintf(deploy, sizeof(deploy), "%s", sc_jstr(it, "id"));
    json_object_put(items);
    ck_assert_str_eq(sc_job_status(s, deploy, st, sizeof(st)), "Running");
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 0); /* claimed exactly once */

    json_object *j = NULL;
    ck_assert_int_eq(store_job_get(s, deploy, &j), STORE_OK);
    ck_assert_str_eq(sc_jstr(j, "agent_id"), sc_agent_id(1));
    ck_assert_str_eq(sc_jstr(j, "certificate_id"), sc_cert_id(3));
    ck_assert_int_eq(sc_jint(j, "max_attempts"), 3);
    json_object_put(j);
    free(job);
    store_free(s);
}
END_TEST

START_TEST(csr_complete_edge_rules)
{
    struct store *s = sc_seeded(1, 2, true);
    struct store_issued_cert ic;
    sc_issued(&ic, "bb01", T0_NS / 1000000000LL + 30 * DAY_S);
    /* No AwaitingCSR job: certctl still stores the version and deploys. */
    ck_assert_int_eq(store_csr_complete(s, sc_agent_id(1), sc_cert_id(1), &ic), STORE_OK);
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 1);
    ck_assert_int_eq(store_csr_complete(s, NULL, "mc-none", &ic), STORE_NOT_FOUND);
    ck_assert_int_eq(store_csr_complete(s, NULL, sc_cert_id(2), &ic), STORE_ERROR); /* same fp */
    struct store_issued_cert bad = ic;
    bad.pem_chain = "";
    ck_assert_int_eq(store_csr_complete(s, NULL, sc_cert_id(2), &bad), STORE_INVALID);
    /* The failed completions changed nothing. */
    char *pem = NULL;
    ck_assert_int_eq(store_cert_latest_pem(s, sc_cert_id(2), &pem), STORE_NOT_FOUND);
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 0);
    store_free(s);
}
END_TEST

START_TEST(job_status_rules)
{
    struct store *s = sc_seeded(1, 1, true);
    char *job = NULL, st[64];
    ck_assert_int_eq(store_job_create_renewal(s, sc_cert_id(1), &job), STORE_OK);
    ck_assert_int_eq(store_job_update_status(s, job, "", NULL), STORE_INVALID);
    ck_assert_int_eq(store_job_update_status(s, "job-none", "Running", NULL), STORE_NOT_FOUND);
    ck_assert_int_eq(store_job_update_status(s, job, "Failed", "boom"), STORE_OK);
    json_object *j = NULL;
    ck_assert_int_eq(store_job_get(s, job, &j), STORE_OK);
    ck_assert_str_eq(sc_jstr(j, "last_error"), "boom");
    ck_assert_str_eq(sc_jstr(j, "status"), "Failed");
    json_object_put(j);
    ck_assert_int_eq(store_job_update_status(s, job, "Whatever", NULL), STORE_OK); /* no check */
    ck_assert_int_eq(store_job_get(s, job, &j), STORE_OK);
    ck_assert(!sc_jhas(j, "last_error"));
    json_object_put(j);
    ck_assert_str_eq(sc_job_status(s, job, st, sizeof(st)), "Whatever");
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 0); /* no longer AwaitingCSR */
    ck_assert_int_eq(store_job_update_status(s, job, "AwaitingCSR", NULL), STORE_OK);
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 1); /* and back */
    ck_assert_int_eq(store_job_get(s, "job-none", &j), STORE_NOT_FOUND);

    json_object *counts = NULL;
    ck_assert_int_eq(store_job_counts(s, &counts), STORE_OK);
    ck_assert_int_eq(sc_jint(counts, "AwaitingCSR"), 1);
    ck_assert(!sc_jhas(counts, "Failed") && !sc_jhas(counts, "Whatever"));
    json_object_put(counts);
    free(job);
    store_free(s);
}
END_TEST

void store_cases_add(Suite *s, const struct store_backend *b, double timeout_s)
{
    backend = b;
    TCase *tc = testenv_tcase(s, b->name, timeout_s);
    tcase_add_test(tc, register_rules);
    tcase_add_test(tc, heartbeat_rules);
    tcase_add_test(tc, retire_rules);
    tcase_add_test(tc, csr_jobs_route_to_mapped_agent_only);
    tcase_add_test(tc, csr_complete_then_deploy_claimed_once);
    tcase_add_test(tc, csr_complete_edge_rules);
    tcase_add_test(tc, job_status_rules);
    store_cases_add_certs(tc);
}
