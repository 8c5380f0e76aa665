/* tests/unit/store_cases.c - behavioural cases of target/store.h, run unchanged against each
 * backend (memory, PostgreSQL): certctl's rules for registration, heartbeats, retirement, work
 * routing and claiming, CSR completion, job status, paging, certificate creation, the bulk
 * renewal clamp and skip rules, and profiles. Every test opens its own empty store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/identity.h"
#include "tests/unit/store_cases.h"

/* 2030-01-01T00:00:00Z: later than any real "now", so rows the store dates itself sort after
 * rows PostgreSQL seeding dates with now(), as in the memory store. */
#define T0_NS (1893456000LL * 1000000000LL)
#define DAY_S 86400LL
#define P "loadtest"

static const struct store_backend *backend;
static int64_t fake_now_ns = T0_NS;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now_ns;
}

static struct store *open_store(bool clamp)
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
static struct store *seeded(int n_agents, int n_certs, bool clamp)
{
    struct store *s = open_store(clamp);
    struct store_seed_config sc = {.agents = (uint32_t)n_agents, .certs = (uint32_t)n_certs,
                                   .prefix = P, .run_seed = 7,
                                   .os_mix = identity_default_os_mix()};
    char err[256] = "";
    int rc = store_seed_fleet(s, &sc, err, sizeof(err));
    ck_assert_msg(rc == STORE_OK, "seed: %s (%s)", store_rc_str(rc), err);
    return s;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *key)
{
    json_object *v;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "missing %s", key);
    return json_object_get_int64(v);
}

/* Seconds since the epoch of an RFC 3339 UTC time (fraction ignored). */
static int64_t rfc3339_s(const char *t)
{
    struct tm tm = {0};
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(strptime(t, "%Y-%m-%dT%H:%M:%S", &tm));
    return (int64_t)timegm(&tm);
}

static bool jhas(json_object *o, const char *key) { return json_object_object_get_ex(o, key, NULL); }

static char *agent_id(int i)
{
    static char buf[4][IDENTITY_NAME_MAX];
    static int k;
    char *b = buf[k++ % 4];
    identity_agent_id(b, IDENTITY_NAME_MAX, P, (uint32_t)i);
    return b;
}

static char *cert_id(int j)
{
    static char buf[4][IDENTITY_NAME_MAX];
    static int k;
    char *b = buf[k++ % 4];
    identity_cert_id(b, IDENTITY_NAME_MAX, P, (uint32_t)j);
    return b;
}

/* Polls and returns the number of items; *items_out (may be NULL) keeps the array. */
static int poll_n(struct store *s, const char *agent, json_object **items_out)
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

static const char *job_status(struct store *s, const char *job_id, char *buf, size_t n)
{
    json_object *j = NULL;
    ck_assert_int_eq(store_job_get(s, job_id, &j), STORE_OK);
    snprintf(buf, n, "%s", jstr(j, "status"));
    json_object_put(j);
    return buf;
}

static void issued(struct store_issued_cert *ic, const char *fp, int64_t not_after_s)
{
    *ic = (struct store_issued_cert){
        .pem_chain = "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n",
        .serial_number = "0a1b", .fingerprint_sha256 = fp, .csr_pem = "csr",
        .not_before_unix_s = T0_NS / 1000000000LL, .not_after_unix_s = not_after_s};
}

/* ---- agents ----------------------------------------------------------------------------- */

START_TEST(register_rules)
{
    struct store *s = open_store(true);
    struct store_agent_meta m = {.hostname = "h1", .os = "linux", .architecture = "amd64",
                                 .ip_address = "10.0.0.1", .version = "2.1.0"};
    json_object *a = NULL;
    ck_assert_int_eq(store_agent_register(s, "web-1", &m, &a), STORE_OK);
    ck_assert_str_eq(jstr(a, "status"), "Online");
    ck_assert_str_eq(jstr(a, "name"), "web-1");
    ck_assert_str_eq(jstr(a, "os"), "linux");
    ck_assert_int_eq(strncmp(jstr(a, "id"), "agent-", 6), 0);
    ck_assert(!jhas(a, "last_heartbeat_at"));
    ck_assert_str_eq(jstr(a, "registered_at"), "2030-01-01T00:00:00Z");
    char id[128];
    snprintf(id, sizeof(id), "%s", jstr(a, "id"));
    json_object_put(a);

    json_object *g = NULL;
    ck_assert_int_eq(store_agent_get(s, id, &g), STORE_OK);
    ck_assert_str_eq(jstr(g, "hostname"), "h1");
    ck_assert_str_eq(jstr(g, "ip_address"), "10.0.0.1");
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
    struct store *s = seeded(3, 0, true);
    struct store_agent_counts c;
    ck_assert_int_eq(store_agent_counts(s, &c), STORE_OK);
    ck_assert_uint_eq(c.total, 3);
    ck_assert_uint_eq(c.os[0] + c.os[1] + c.os[2] + c.os_other, 3);
    uint64_t windows_before = c.os[IDENTITY_OS_WINDOWS];

    ck_assert_int_eq(store_agent_heartbeat(s, "ag-loadtest-99999", NULL), STORE_NOT_FOUND);
    fake_now_ns += 5 * 1000000000LL + 250000000LL;
    struct store_agent_meta m = {.os = "windows", .version = "1.0.0", .hostname = ""};
    ck_assert_int_eq(store_agent_heartbeat(s, agent_id(2), &m), STORE_OK);
    json_object *a = NULL;
    ck_assert_int_eq(store_agent_get(s, agent_id(2), &a), STORE_OK);
    ck_assert_str_eq(jstr(a, "last_heartbeat_at"), "2030-01-01T00:00:05.25Z");
    ck_assert_str_eq(jstr(a, "version"), "1.0.0");
    ck_assert_str_eq(jstr(a, "os"), "windows");
    ck_assert_str_eq(jstr(a, "hostname"), "loadtest-00002.fleet.example.test"); /* "" kept */
    json_object_put(a);
    struct identity_os_mix mix = identity_default_os_mix();
    struct identity_agent_meta meta;
    identity_agent_meta(7, 2, &mix, &meta);
    ck_assert_int_eq(store_agent_counts(s, &c), STORE_OK);
    ck_assert_uint_eq(c.os[IDENTITY_OS_WINDOWS],
                      windows_before + (meta.os_kind == IDENTITY_OS_WINDOWS ? 0 : 1));

    ck_assert_int_eq(store_agent_retire(s, agent_id(3), true, "decommissioned", NULL), STORE_OK);
    ck_assert_int_eq(store_agent_heartbeat(s, agent_id(3), &m), STORE_GONE);
    ck_assert_int_eq(store_agent_counts(s, &c), STORE_OK);
    ck_assert_uint_eq(c.retired, 1);
    ck_assert_uint_eq(c.total, 3);
    store_free(s);
}
END_TEST

START_TEST(retire_rules)
{
    struct store *s = seeded(2, 2, true);
    struct store_agent_meta m = {.hostname = "bare"};
    json_object *a = NULL, *r = NULL;
    ck_assert_int_eq(store_agent_register(s, "bare-agent", &m, &a), STORE_OK);
    char bare[128];
    snprintf(bare, sizeof(bare), "%s", jstr(a, "id"));
    json_object_put(a);

    ck_assert_int_eq(store_agent_retire(s, "agent-missing", false, NULL, NULL), STORE_NOT_FOUND);
    fake_now_ns += 1000000000LL;
    ck_assert_int_eq(store_agent_retire(s, bare, false, NULL, &r), STORE_OK);
    ck_assert_str_eq(jstr(r, "retired_at"), "2030-01-01T00:00:01Z");
    json_object_put(r);
    fake_now_ns += 1000000000LL;
    ck_assert_int_eq(store_agent_retire(s, bare, false, NULL, &r), STORE_GONE); /* 204 */
    ck_assert_str_eq(jstr(r, "retired_at"), "2030-01-01T00:00:01Z");
    json_object_put(r);

    /* Agent 1 owns a target and a certificate: blocked without force. */
    ck_assert_int_eq(store_agent_retire(s, agent_id(1), false, NULL, &r), STORE_CONFLICT);
    json_object *counts = json_object_object_get(r, "counts");
    ck_assert_int_eq(jint(counts, "active_targets"), 1);
    ck_assert_int_eq(jint(counts, "active_certificates"), 1);
    ck_assert_int_eq(jint(counts, "pending_jobs"), 0);
    json_object_put(r);
    ck_assert_int_eq(store_agent_retire(s, agent_id(1), true, "", NULL), STORE_INVALID);
    ck_assert_int_eq(store_agent_retire(s, agent_id(1), true, "gone", &r), STORE_OK);
    ck_assert(json_object_get_boolean(json_object_object_get(r, "cascade")));
    json_object_put(r);

    /* A retired agent still polls (certctl answers 200) and still gets its CSR jobs. */
    ck_assert_int_eq(store_job_create_renewal(s, cert_id(1), NULL), STORE_OK);
    json_object *items = NULL;
    ck_assert_int_eq(poll_n(s, agent_id(1), &items), 1);
    ck_assert_str_eq(jstr(json_object_array_get_idx(items, 0), "status"), "AwaitingCSR");
    json_object_put(items);
    store_free(s);
}
END_TEST

/* ---- work routing, CSR, deployment ------------------------------------------------------ */

START_TEST(csr_jobs_route_to_mapped_agent_only)
{
    struct store *s = seeded(3, 6, true); /* cert j → agent ((j-1) mod 3) + 1 */
    char *job = NULL;
    ck_assert_int_eq(store_job_create_renewal(s, cert_id(2), &job), STORE_OK);
    ck_assert_int_eq(store_job_create_renewal(s, "mc-nope", NULL), STORE_NOT_FOUND);
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 0);
    ck_assert_int_eq(poll_n(s, agent_id(3), NULL), 0);
    for (int round = 0; round < 2; round++) { /* AwaitingCSR is returned on every poll */
        json_object *items = NULL;
        ck_assert_int_eq(poll_n(s, agent_id(2), &items), 1);
        json_object *it = json_object_array_get_idx(items, 0);
        ck_assert_str_eq(jstr(it, "id"), job);
        ck_assert_str_eq(jstr(it, "type"), "Renewal");
        ck_assert_str_eq(jstr(it, "status"), "AwaitingCSR");
        ck_assert_str_eq(jstr(it, "certificate_id"), cert_id(2));
        ck_assert_str_eq(jstr(it, "common_name"), "loadtest-00002.certs.example.test");
        ck_assert(!jhas(it, "sans") && !jhas(it, "target_id"));
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
    struct store *s = seeded(2, 4, true);
    char *job = NULL, st[64];
    ck_assert_int_eq(store_job_create_renewal(s, cert_id(3), &job), STORE_OK); /* agent 1 */
    char *pem = NULL;
    ck_assert_int_eq(store_cert_latest_pem(s, cert_id(3), &pem), STORE_NOT_FOUND);

    fake_now_ns += 60 * 1000000000LL;
    int64_t not_after = T0_NS / 1000000000LL + 90 * DAY_S;
    struct store_issued_cert ic;
    issued(&ic, "aa01", not_after);
    ck_assert_int_eq(store_csr_complete(s, agent_id(1), cert_id(3), &ic), STORE_OK);
    ck_assert_str_eq(job_status(s, job, st, sizeof(st)), "Completed");
    ck_assert_int_eq(store_cert_latest_pem(s, cert_id(3), &pem), STORE_OK);
    ck_assert_str_eq(pem, ic.pem_chain);
    free(pem);
    json_object *c = NULL;
    ck_assert_int_eq(store_cert_get(s, cert_id(3), &c), STORE_OK);
    ck_assert_str_eq(jstr(c, "status"), "Active");
    ck_assert_str_eq(jstr(c, "expires_at"), "2030-04-01T00:00:00Z");
    ck_assert_str_eq(jstr(c, "last_renewal_at"), "2030-01-01T00:01:00Z");
    json_object_put(c);

    ck_assert_int_eq(poll_n(s, agent_id(2), NULL), 0);
    json_object *items = NULL;
    ck_assert_int_eq(poll_n(s, agent_id(1), &items), 1);
    json_object *it = json_object_array_get_idx(items, 0);
    ck_assert_str_eq(jstr(it, "type"), "Deployment");
    ck_assert_str_eq(jstr(it, "status"), "Running");
    ck_assert_str_eq(jstr(it, "target_id"), "tgt-loadtest-00001");
    ck_assert_str_eq(jstr(it, "target_type"), "NGINX");
    ck_assert_str_eq(json_object_to_json_string(json_object_object_get(it, "target_config")), "{ }");
    ck_assert(!jhas(it, "common_name"));
    char deploy[128];
    snprintf(deploy, sizeof(deploy), "%s", jstr(it, "id"));
    json_object_put(items);
    ck_assert_str_eq(job_status(s, deploy, st, sizeof(st)), "Running");
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 0); /* claimed exactly once */

    json_object *j = NULL;
    ck_assert_int_eq(store_job_get(s, deploy, &j), STORE_OK);
    ck_assert_str_eq(jstr(j, "agent_id"), agent_id(1));
    ck_assert_str_eq(jstr(j, "certificate_id"), cert_id(3));
    ck_assert_int_eq(jint(j, "max_attempts"), 3);
    json_object_put(j);
    free(job);
    store_free(s);
}
END_TEST

START_TEST(csr_complete_edge_rules)
{
    struct store *s = seeded(1, 2, true);
    struct store_issued_cert ic;
    issued(&ic, "bb01", T0_NS / 1000000000LL + 30 * DAY_S);
    /* No AwaitingCSR job: certctl still stores the version and deploys. */
    ck_assert_int_eq(store_csr_complete(s, agent_id(1), cert_id(1), &ic), STORE_OK);
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 1);
    ck_assert_int_eq(store_csr_complete(s, NULL, "mc-none", &ic), STORE_NOT_FOUND);
    ck_assert_int_eq(store_csr_complete(s, NULL, cert_id(2), &ic), STORE_ERROR); /* same fp */
    struct store_issued_cert bad = ic;
    bad.pem_chain = "";
    ck_assert_int_eq(store_csr_complete(s, NULL, cert_id(2), &bad), STORE_INVALID);
    /* The failed completions changed nothing. */
    char *pem = NULL;
    ck_assert_int_eq(store_cert_latest_pem(s, cert_id(2), &pem), STORE_NOT_FOUND);
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 0);
    store_free(s);
}
END_TEST

START_TEST(job_status_rules)
{
    struct store *s = seeded(1, 1, true);
    char *job = NULL, st[64];
    ck_assert_int_eq(store_job_create_renewal(s, cert_id(1), &job), STORE_OK);
    ck_assert_int_eq(store_job_update_status(s, job, "", NULL), STORE_INVALID);
    ck_assert_int_eq(store_job_update_status(s, "job-none", "Running", NULL), STORE_NOT_FOUND);
    ck_assert_int_eq(store_job_update_status(s, job, "Failed", "boom"), STORE_OK);
    json_object *j = NULL;
    ck_assert_int_eq(store_job_get(s, job, &j), STORE_OK);
    ck_assert_str_eq(jstr(j, "last_error"), "boom");
    ck_assert_str_eq(jstr(j, "status"), "Failed");
    json_object_put(j);
    ck_assert_int_eq(store_job_update_status(s, job, "Whatever", NULL), STORE_OK); /* no check */
    ck_assert_int_eq(store_job_get(s, job, &j), STORE_OK);
    ck_assert(!jhas(j, "last_error"));
    json_object_put(j);
    ck_assert_str_eq(job_status(s, job, st, sizeof(st)), "Whatever");
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 0); /* no longer AwaitingCSR */
    ck_assert_int_eq(store_job_update_status(s, job, "AwaitingCSR", NULL), STORE_OK);
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 1); /* and back */
    ck_assert_int_eq(store_job_get(s, "job-none", &j), STORE_NOT_FOUND);

    json_object *counts = NULL;
    ck_assert_int_eq(store_job_counts(s, &counts), STORE_OK);
    ck_assert_int_eq(jint(counts, "AwaitingCSR"), 1);
    ck_assert(!jhas(counts, "Failed") && !jhas(counts, "Whatever"));
    json_object_put(counts);
    free(job);
    store_free(s);
}
END_TEST

/* ---- certificates ----------------------------------------------------------------------- */

static int64_t list_page(struct store *s, const struct store_cert_filter *f, int64_t page,
                         int64_t per_page, int64_t *page_out, int64_t *per_page_out,
                         int64_t *n_out, char *first_id)
{
    json_object *l = NULL;
    ck_assert_int_eq(store_cert_list(s, f, page, per_page, &l), STORE_OK);
    json_object *data = json_object_object_get(l, "data");
    *n_out = (int64_t)json_object_array_length(data);
    *page_out = jint(l, "page");
    *per_page_out = jint(l, "per_page");
    if (first_id)
        snprintf(first_id, 64, "%s", *n_out ? jstr(json_object_array_get_idx(data, 0), "id") : "");
    int64_t total = jint(l, "total");
    json_object_put(l);
    return total;
}

START_TEST(list_paging_rules)
{
    struct store *s = seeded(3, 120, true);
    int64_t pg, pp, n;
    char first[64];
    ck_assert_int_eq(list_page(s, NULL, 0, 0, &pg, &pp, &n, first), 120);
    ck_assert(pg == 1 && pp == 50 && n == 50);
    ck_assert_str_eq(first, cert_id(1)); /* oldest first */
    ck_assert_int_eq(list_page(s, NULL, 1, 600, &pg, &pp, &n, NULL), 120);
    ck_assert(pp == 50 && n == 50); /* over 500 → 50 */
    ck_assert_int_eq(list_page(s, NULL, 1, -3, &pg, &pp, &n, NULL), 120);
    ck_assert(pp == 50 && n == 50);
    ck_assert_int_eq(list_page(s, NULL, 1, 500, &pg, &pp, &n, NULL), 120);
    ck_assert(pp == 500 && n == 120);
    ck_assert_int_eq(list_page(s, NULL, 3, 50, &pg, &pp, &n, first), 120);
    ck_assert(pg == 3 && n == 20);
    ck_assert_str_eq(first, cert_id(101));
    ck_assert_int_eq(list_page(s, NULL, 4, 50, &pg, &pp, &n, NULL), 120);
    ck_assert_int_eq(n, 0);

    struct store_cert_filter f = {.agent_id = agent_id(2)};
    ck_assert_int_eq(list_page(s, &f, 1, 10, &pg, &pp, &n, first), 40);
    ck_assert_str_eq(first, cert_id(2));
    f = (struct store_cert_filter){.status = "Active", .owner_id = "o-loadtest",
                                   .team_id = "t-loadtest", .issuer_id = "iss-local"};
    ck_assert_int_eq(list_page(s, &f, 1, 10, &pg, &pp, &n, NULL), 120);
    f = (struct store_cert_filter){.status = "RenewalInProgress"};
    ck_assert_int_eq(list_page(s, &f, 1, 1, &pg, &pp, &n, NULL), 0);
    f = (struct store_cert_filter){.owner_id = "o-other"};
    ck_assert_int_eq(list_page(s, &f, 1, 1, &pg, &pp, &n, NULL), 0);

    json_object *c = NULL;
    ck_assert_int_eq(store_cert_get(s, cert_id(7), &c), STORE_OK);
    ck_assert_str_eq(jstr(c, "name"), "loadtest-bulk-00007");
    ck_assert_str_eq(jstr(c, "environment"), "loadtest");
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
                         json_object_object_get(c, "target_ids"), 0)), "tgt-loadtest-00001");
    ck_assert_int_eq(json_object_array_length(json_object_object_get(c, "sans")), 0);
    json_object_put(c);
    ck_assert_int_eq(store_cert_get(s, "mc-nope", &c), STORE_NOT_FOUND);
    store_free(s);
}
END_TEST

START_TEST(cert_create_rules)
{
    struct store *s = seeded(1, 0, true);
    const char *sans[] = {"a.example.test", "b.example.test"};
    struct store_cert_input in = {.name = "api", .common_name = "api.example.test",
                                  .owner_id = "o-loadtest", .team_id = "t-loadtest",
                                  .issuer_id = "iss-local", .renewal_policy_id = "rp-loadtest",
                                  .sans = sans, .n_sans = 2};
    json_object *c = NULL;
    ck_assert_int_eq(store_cert_create(s, &in, &c), STORE_OK);
    ck_assert_str_eq(jstr(c, "status"), "Pending");
    ck_assert_str_eq(jstr(c, "expires_at"), "0001-01-01T00:00:00Z");
    ck_assert_int_eq(strncmp(jstr(c, "id"), "cert-", 5), 0);
    char id[128];
    snprintf(id, sizeof(id), "%s", jstr(c, "id"));
    json_object_put(c);
    ck_assert_int_eq(store_cert_get(s, id, &c), STORE_OK);
    json_object *sv = json_object_object_get(c, "sans");
    ck_assert_int_eq(json_object_array_length(sv), 2);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(sv, 1)), "b.example.test");
    ck_assert_int_eq(json_object_array_length(json_object_object_get(c, "target_ids")), 0);
    json_object_put(c);

    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_ERROR); /* name taken: 500 */
    struct store_cert_input x = in;
    x.name = "other";
    x.owner_id = "o-missing";
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_ERROR); /* FK: 500 */
    x.owner_id = "o-loadtest";
    x.certificate_profile_id = "prof-missing";
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_ERROR);
    x.certificate_profile_id = NULL;
    x.renewal_policy_id = NULL;
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_INVALID);
    x.renewal_policy_id = "rp-loadtest";
    x.status = "Bogus";
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_INVALID);
    x.status = "Active";
    x.id = "mc-explicit";
    x.expires_at_unix_s = T0_NS / 1000000000LL + DAY_S;
    ck_assert_int_eq(store_cert_create(s, &x, &c), STORE_OK);
    ck_assert_str_eq(jstr(c, "id"), "mc-explicit");
    ck_assert_str_eq(jstr(c, "expires_at"), "2030-01-02T00:00:00Z");
    json_object_put(c);
    x.name = "third";
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_ERROR); /* id taken */
    /* API-created certs reach no agent until mapped. */
    ck_assert_int_eq(store_job_create_renewal(s, "mc-explicit", NULL), STORE_OK);
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 0);
    ck_assert_int_eq(store_cert_map_target(s, "mc-explicit", "tgt-loadtest-00001"), STORE_OK);
    ck_assert_int_eq(store_cert_map_target(s, "mc-explicit", "tgt-loadtest-00001"), STORE_OK);
    ck_assert_int_eq(store_cert_map_target(s, "mc-explicit", "tgt-none"), STORE_NOT_FOUND);
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 1);
    store_free(s);
}
END_TEST

/* ---- bulk renewal ----------------------------------------------------------------------- */

static json_object *bulk(struct store *s, const struct store_bulk_criteria *c)
{
    json_object *r = NULL;
    int rc = store_bulk_renew(s, c, &r);
    ck_assert_int_eq(rc, STORE_OK);
    return r;
}

static void bulk_expect(json_object *r, int64_t matched, int64_t enq, int64_t skipped)
{
    ck_assert_int_eq(jint(r, "total_matched"), matched);
    ck_assert_int_eq(jint(r, "total_enqueued"), enq);
    ck_assert_int_eq(jint(r, "total_skipped"), skipped);
    ck_assert_int_eq(jint(r, "total_failed"), 0);
    ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "enqueued_jobs")), enq);
    ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "errors")), 0);
    json_object_put(r);
}

START_TEST(bulk_clamp_on)
{
    struct store *s = seeded(4, 60, true);
    struct store_bulk_criteria none = {0};
    json_object *r = NULL;
    ck_assert_int_eq(store_bulk_renew(s, &none, &r), STORE_INVALID);
    ck_assert_ptr_null(r);
    struct store_bulk_criteria c = {.owner_id = "o-loadtest"};
    r = bulk(s, &c);
    json_object *first = json_object_array_get_idx(json_object_object_get(r, "enqueued_jobs"), 0);
    ck_assert_str_eq(jstr(first, "certificate_id"), cert_id(1)); /* the 50 oldest */
    bulk_expect(r, 50, 50, 0);
    /* The in-progress certs keep filling the 50 slots: no progress (certctl's behaviour). */
    bulk_expect(bulk(s, &c), 50, 0, 50);
    struct store_cert_filter f = {.status = "RenewalInProgress"};
    int64_t pg, pp, n;
    ck_assert_int_eq(list_page(s, &f, 1, 1, &pg, &pp, &n, NULL), 50);
    json_object *counts = NULL;
    ck_assert_int_eq(store_job_counts(s, &counts), STORE_OK);
    ck_assert_int_eq(jint(counts, "AwaitingCSR"), 50);
    json_object_put(counts);
    /* Each agent sees exactly the jobs of its own certificates. */
    int total = 0;
    for (int i = 1; i <= 4; i++)
        total += poll_n(s, agent_id(i), NULL);
    ck_assert_int_eq(total, 50);
    ck_assert_int_eq(poll_n(s, agent_id(1), NULL), 13); /* certs 1,5,...,49 */
    store_free(s);
}
END_TEST

START_TEST(bulk_clamp_off)
{
    struct store *s = seeded(4, 60, false);
    struct store_bulk_criteria c = {.team_id = "t-loadtest"};
    bulk_expect(bulk(s, &c), 60, 60, 0);
    bulk_expect(bulk(s, &c), 60, 0, 60);
    struct store_bulk_criteria by_agent = {.agent_id = agent_id(2)};
    bulk_expect(bulk(s, &by_agent), 15, 0, 15);
    store_free(s);
}
END_TEST

START_TEST(bulk_ids_and_skip_rules)
{
    struct store *s = seeded(2, 6, true);
    struct store_cert_input in = {.name = "archived", .common_name = "x.example.test",
                                  .owner_id = "o-loadtest", .team_id = "t-loadtest",
                                  .issuer_id = "iss-local", .renewal_policy_id = "rp-loadtest",
                                  .id = "mc-arch", .status = "Archived"};
    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_OK);
    in = (struct store_cert_input){.name = "expired", .common_name = "y.example.test",
                                   .owner_id = "o-loadtest", .team_id = "t-loadtest",
                                   .issuer_id = "iss-local", .renewal_policy_id = "rp-loadtest",
                                   .id = "mc-exp", .status = "Expired"};
    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_OK);
    in = (struct store_cert_input){.name = "fresh", .common_name = "z.example.test",
                                   .owner_id = "o-loadtest", .team_id = "t-loadtest",
                                   .issuer_id = "iss-local", .renewal_policy_id = "rp-loadtest",
                                   .id = "mc-new", .status = "Revoked"};
    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_OK);
    in.id = "mc-zero";
    in.name = "zero";
    in.status = NULL; /* Pending, zero expires_at: an Issuance */
    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_OK);

    const char *ids[] = {"mc-arch", "mc-unknown", "mc-exp", "mc-new", "mc-zero",
                         "mc-loadtest-00001", "mc-loadtest-00002"};
    struct store_bulk_criteria c = {.certificate_ids = ids, .n_certificate_ids = 7};
    json_object *r = bulk(s, &c);
    json_object *jobs = json_object_object_get(r, "enqueued_jobs");
    char zero_job[128];
    snprintf(zero_job, sizeof(zero_job), "%s", jstr(json_object_array_get_idx(jobs, 0), "job_id"));
    ck_assert_str_eq(jstr(json_object_array_get_idx(jobs, 0), "certificate_id"), "mc-zero");
    bulk_expect(r, 6, 3, 3); /* unknown dropped silently; Archived/Expired/Revoked skipped */
    json_object *j = NULL;
    ck_assert_int_eq(store_job_get(s, zero_job, &j), STORE_OK);
    ck_assert_str_eq(jstr(j, "type"), "Issuance");
    ck_assert_str_eq(jstr(j, "status"), "AwaitingCSR");
    ck_assert(!jhas(j, "agent_id") && !jhas(j, "target_id"));
    json_object_put(j);
    bulk_expect(bulk(s, &c), 6, 0, 6); /* now RenewalInProgress as well */

    /* Filter and ids together: the filter's matches, intersected with the ids. */
    const char *two[] = {"mc-loadtest-00003", "mc-loadtest-00004", "mc-arch"};
    struct store_bulk_criteria both = {.agent_id = agent_id(1), .certificate_ids = two,
                                       .n_certificate_ids = 3};
    bulk_expect(bulk(s, &both), 1, 1, 0); /* cert 3 is agent 1's; 4 is agent 2's */
    store_free(s);
}
END_TEST

/* ---- profiles --------------------------------------------------------------------------- */

START_TEST(profile_rules)
{
    struct store *s = seeded(1, 0, true);
    struct store_profile_input in = {.id = "prof-test", .name = "Test profile"};
    json_object *p = NULL;
    ck_assert_int_eq(store_profile_create(s, &in, &p), STORE_OK);
    ck_assert_str_eq(jstr(p, "id"), "prof-test");
    ck_assert_str_eq(jstr(p, "acme_auth_mode"), "trust_authenticated");
    json_object_put(p);
    ck_assert_int_eq(store_profile_get(s, "prof-test", &p), STORE_OK);
    json_object *algs = json_object_object_get(p, "allowed_key_algorithms");
    ck_assert_int_eq(json_object_array_length(algs), 2);
    ck_assert_str_eq(jstr(json_object_array_get_idx(algs, 0), "algorithm"), "ECDSA");
    ck_assert_int_eq(jint(json_object_array_get_idx(algs, 0), "min_size"), 256);
    json_object_put(p);
    ck_assert_int_eq(store_profile_get(s, "prof-none", NULL), STORE_NOT_FOUND);
    ck_assert_int_eq(store_profile_create(s, &in, NULL), STORE_CONFLICT); /* id */
    struct store_profile_input dup = {.name = "Test profile"};
    ck_assert_int_eq(store_profile_create(s, &dup, NULL), STORE_CONFLICT); /* name */
    struct store_profile_input noname = {.id = "prof-x"};
    ck_assert_int_eq(store_profile_create(s, &noname, NULL), STORE_INVALID);
    struct store_profile_input mode = {.name = "m", .acme_auth_mode = "magic"};
    ck_assert_int_eq(store_profile_create(s, &mode, NULL), STORE_INVALID);
    struct store_key_rule rsa = {"RSA", 3072};
    struct store_profile_input gen = {.name = "strong", .allowed_key_algorithms = &rsa,
                                      .n_allowed = 1, .acme_auth_mode = "challenge",
                                      .max_ttl_seconds = 3600};
    ck_assert_int_eq(store_profile_create(s, &gen, &p), STORE_OK);
    ck_assert_int_eq(strncmp(jstr(p, "id"), "prof-", 5), 0);
    char pid[128];
    snprintf(pid, sizeof(pid), "%s", jstr(p, "id"));
    json_object_put(p);
    ck_assert_int_eq(store_profile_get(s, pid, &p), STORE_OK);
    ck_assert_int_eq(jint(p, "max_ttl_seconds"), 3600);
    ck_assert_str_eq(jstr(p, "acme_auth_mode"), "challenge");
    json_object_put(p);

    /* A certificate bound to the profile is found by the profile filter and bulk renewal. */
    struct store_cert_input ci = {.name = "p1", .common_name = "p1.example.test",
                                  .owner_id = "o-loadtest", .team_id = "t-loadtest",
                                  .issuer_id = "iss-local", .renewal_policy_id = "rp-loadtest",
                                  .certificate_profile_id = "prof-test", .status = "Active",
                                  .expires_at_unix_s = T0_NS / 1000000000LL + 40 * DAY_S};
    ck_assert_int_eq(store_cert_create(s, &ci, NULL), STORE_OK);
    struct store_bulk_criteria c = {.profile_id = "prof-test"};
    bulk_expect(bulk(s, &c), 1, 1, 0);
    store_free(s);
}
END_TEST

START_TEST(seed_rules)
{
    struct store *s = seeded(4, 10, true);
    struct store_seed_config again = {.agents = 4, .certs = 10, .prefix = P, .run_seed = 7};
    char err[256];
    int rc = store_seed_fleet(s, &again, err, sizeof(err));
    /* Memory refuses a second seeding; seed/ (PostgreSQL) is idempotent. */
    ck_assert(rc == STORE_CONFLICT || rc == STORE_OK);
    struct store_seed_config bad = {.agents = 0, .certs = 3, .prefix = P};
    ck_assert_int_eq(store_seed_fleet(s, &bad, err, sizeof(err)), STORE_INVALID);
    bad = (struct store_seed_config){.agents = 1, .prefix = "Bad-Prefix"};
    ck_assert_int_eq(store_seed_fleet(s, &bad, err, sizeof(err)), STORE_INVALID);

    json_object *a = NULL;
    ck_assert_int_eq(store_agent_get(s, agent_id(4), &a), STORE_OK);
    ck_assert_str_eq(jstr(a, "name"), "loadtest-agent-00004");
    ck_assert_str_eq(jstr(a, "version"), "2.1.0");
    ck_assert_str_eq(jstr(a, "status"), "Online");
    ck_assert(jhas(a, "last_heartbeat_at"));
    int64_t seeded_at = rfc3339_s(jstr(a, "registered_at"));
    struct identity_os_mix mix = identity_default_os_mix();
    struct identity_agent_meta meta;
    identity_agent_meta(7, 4, &mix, &meta);
    ck_assert_str_eq(jstr(a, "os"), meta.os);
    ck_assert_str_eq(jstr(a, "architecture"), meta.architecture);
    json_object_put(a);
    struct store_agent_counts c;
    ck_assert_int_eq(store_agent_counts(s, &c), STORE_OK);
    ck_assert_uint_eq(c.total, 4);
    ck_assert_uint_eq(c.retired, 0);

    json_object *cert = NULL;
    ck_assert_int_eq(store_cert_get(s, cert_id(10), &cert), STORE_OK);
    ck_assert_str_eq(jstr(cert, "status"), "Active");
    ck_assert_str_eq(jstr(cert, "owner_id"), "o-loadtest");
    int64_t left = rfc3339_s(jstr(cert, "expires_at")) - seeded_at;
    ck_assert_msg(left >= 32 * DAY_S && left <= 90 * DAY_S, "expires %" PRId64 " s after seeding",
                  left);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
                         json_object_object_get(cert, "target_ids"), 0)), "tgt-loadtest-00002");
    json_object_put(cert);
    store_free(s);
}
END_TEST

void store_cases_add(Suite *s, const struct store_backend *b, double timeout_s)
{
    backend = b;
    TCase *tc = tcase_create(b->name);
    tcase_set_timeout(tc, timeout_s);
    tcase_add_test(tc, register_rules);
    tcase_add_test(tc, heartbeat_rules);
    tcase_add_test(tc, retire_rules);
    tcase_add_test(tc, csr_jobs_route_to_mapped_agent_only);
    tcase_add_test(tc, csr_complete_then_deploy_claimed_once);
    tcase_add_test(tc, csr_complete_edge_rules);
    tcase_add_test(tc, job_status_rules);
    tcase_add_test(tc, list_paging_rules);
    tcase_add_test(tc, cert_create_rules);
    tcase_add_test(tc, bulk_clamp_on);
    tcase_add_test(tc, bulk_clamp_off);
    tcase_add_test(tc, bulk_ids_and_skip_rules);
    tcase_add_test(tc, profile_rules);
    tcase_add_test(tc, seed_rules);
    suite_add_tcase(s, tc);
}
