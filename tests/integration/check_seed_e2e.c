/* tests/integration/check_seed_e2e.c - the seed end to end, through the real programs on a
 * throwaway PostgreSQL (tests/lib/pg.h) with certctl's table shapes (seed/schema.sql): `fleetsim
 * seed` creates the fleet, `fleetsim-target --db` serves that database as its own process, and a
 * `fleetsim` run heartbeats every seeded agent: /_target/stats shows each agent beating with only
 * 200 answers, and the database shows every agent's last_heartbeat_at moved forward and its
 * metadata written by the heartbeat's UPDATE. Then a compressed bulk-renewal campaign on that
 * store (1,000 certificates, poll 1 s: every certificate renewed by the fleet with under 1 % of
 * its bulk-renew calls failed, the campaign time reported; the preset's latency thresholds are
 * not what this data path proves, so they are off, and the run lasts long enough for a loaded
 * machine, bounded) followed by `seed --reset` and `--clean` after that real run,
 * with rows that are not the fleet's left untouched. Skipped (77) with FLEETSIM_UNIT_ONLY=1;
 * smaller fleets under FLEETSIM_SANITIZED=1. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "sim/identity.h"
#include "tests/integration/refserver_client.h"
#include "tests/lib/pg.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define API_KEY "seed-e2e-key"
#define RUN_SEED "7" /* fleetsim's run seed: metadata differs from the seed command's (1) */
#define RUN_SEED_N 7u
#define SEED_SEED "1"
#define TEST_TIMEOUT_S 180
#define STEP_LIMIT_MS 120000u
#define BULK_DURATION "60s" /* bounded; the campaign ends well within it on a quiet machine */
#define BULK_DURATION_S 60

static struct pgtmp cluster;
static bool cluster_up;
static bool sanitized;

static int64_t q(const char *db, const char *sql)
{
    char err[512];
    int64_t v = -1;
    ck_assert_msg(pgtmp_query_i64(&cluster, db, sql, &v, err, sizeof err) >= 0, "%s: %s", sql, err);
    return v;
}

static void x(const char *db, const char *sql)
{
    char err[512];
    ck_assert_msg(pgtmp_exec(&cluster, db, sql, err, sizeof err) == 0, "%s: %s", sql, err);
}

/* Runs $top_builddir/fleetsim with args (NULL-terminated) and env; returns its exit code, its
 * output in *out (caller frees). */
static int run_fleetsim(const char *const *args, const char *const *env, char **out)
{
    return procs_run("fleetsim", args, env, STEP_LIMIT_MS, out, NULL);
}

/* A fresh database with certctl's schema and its iss-local issuer, seeded by the real `fleetsim
 * seed` with agents and certs; its URL (no password: trust) into url. */
static void seeded_db(char *db, size_t dbn, char *url, size_t urln, unsigned agents, unsigned certs)
{
    static unsigned counter;
    char err[512], n_agents[16], n_certs[16];
    snprintf(db, dbn, "seede2e_%d_%u", (int)getpid(), ++counter);
    snprintf(n_agents, sizeof n_agents, "%u", agents);
    snprintf(n_certs, sizeof n_certs, "%u", certs);
    ck_assert_msg(pgtmp_create_db(&cluster, db, true, err, sizeof err) == 0, "%s", err);
    ck_assert(pgtmp_url_db(&cluster, db, url, urln) > 0);
    /* certctl's own issuer, as certctl creates it (the seed never does) */
    x(db, "INSERT INTO issuers (id, name, type, config) VALUES ('iss-local', 'Local CA', "
          "'GenericCA', '{}')");
    const char *seed_args[] = {"seed",    "--db",  url,      "--agents", n_agents,
                               "--certs", n_certs, "--seed", SEED_SEED,  NULL};
    const char *seed_env[] = {"PGPASSWORD", "DATABASE_URL", NULL};
    char *out = NULL;
    int rc = run_fleetsim(seed_args, seed_env, &out);
    ck_assert_msg(rc == 0, "seed: exit %d: %s", rc, testenv_tail(out));
    free(out);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM agents"), agents);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM certificate_target_mappings"), certs);
}

/* fleetsim-target --db url as its own process (plain, limiter off). */
static void target_on_db(struct procs_target *t, const char *url)
{
    const char *targs[] = {"--db",  url,  "--plain", "--rate-limit", "off", "--api-key",
                           API_KEY, "-q", NULL};
    ck_assert_msg(procs_target_start(t, targs) == 0, "fleetsim-target --db did not start: %s",
                  testenv_slurp(t->log));
}

START_TEST(t_seed_target_db_fleet)
{
    ck_assert_msg(cluster_up, "no PostgreSQL cluster");
    const unsigned agents = sanitized ? 50 : 200;
    char db[64], url[PGTMP_CONNINFO_MAX], n_agents[16];
    snprintf(n_agents, sizeof n_agents, "%u", agents);
    /* 1. fleetsim seed */
    seeded_db(db, sizeof db, url, sizeof url, agents, 2 * agents);
    char *out = NULL;
    int rc;
    /* what the fleet's heartbeats must move: every seeded agent's last_heartbeat_at */
    x(db, "CREATE TABLE hb_before AS SELECT id, last_heartbeat_at, os, architecture FROM agents");
    ck_assert_int_eq(q(db, "SELECT count(*) FROM hb_before WHERE last_heartbeat_at IS NULL"), 0);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM hb_before WHERE last_heartbeat_at >= now()"), 0);

    /* 2. fleetsim-target on the same database, as its own process */
    struct procs_target t;
    target_on_db(&t, url);

    /* 3. a fleet run: 1 s heartbeats, no polling, 5 s */
    char sum[128];
    snprintf(sum, sizeof sum, "/tmp/check_seed_e2e.%d.json", (int)getpid());
    const char *run_args[] = {
        "--url",      t.url, "--agents", n_agents, "--heartbeat",       "1s", "--poll",         "0",
        "--duration", "5s",  "--seed",   RUN_SEED, "--report-interval", "0",  "--summary-json", sum,
        NULL};
    const char *run_env[] = {"CERTCTL_API_KEY=" API_KEY, "CERTCTL_SERVER_URL", NULL};
    rc = run_fleetsim(run_args, run_env, &out);
    json_object *summary = json_object_from_file(sum);
    unlink(sum);

    struct tc *c = tc_new(t.port, false, NULL);
    ck_assert_ptr_nonnull(c);
    json_object *st = tc_stats(c);
    tc_free(c);
    ck_assert_int_eq(procs_target_stop(&t, SIGTERM), 0);
    ck_assert_msg(rc == 0, "fleet run: exit %d: %s", rc, testenv_tail(out));
    free(out);
    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_nonnull(summary);

    /* every seeded agent heartbeat, and every heartbeat was answered 200 */
    json_object *by = tc_member(st, "heartbeats_by_agent");
    json_object *hb = tc_member(tc_member(st, "requests"), "heartbeat");
    ck_assert_ptr_nonnull(by);
    ck_assert_ptr_nonnull(hb);
    ck_assert_int_eq(json_object_object_length(by), agents);
    int64_t total = 0;
    for (unsigned i = 1; i <= agents; i++) {
        char id[IDENTITY_NAME_MAX];
        identity_agent_id(id, sizeof id, IDENTITY_DEFAULT_PREFIX, i);
        json_object *v = tc_member(by, id);
        ck_assert_msg(v != NULL, "%s never heartbeat", id);
        /* 5 s of 1 s beats, the first within the first second: about 5 each */
        ck_assert_msg(json_object_get_int64(v) >= 3, "%s: %lld heartbeats", id,
                      (long long)json_object_get_int64(v));
        total += json_object_get_int64(v);
    }
    ck_assert_int_eq(json_object_object_length(hb), 1);
    ck_assert_int_eq(json_object_get_int64(tc_member(hb, "200")), total);
    ck_assert_int_eq(json_object_get_int64(tc_member(tc_member(st, "agents"), "total")), agents);
    /* fleetsim's view agrees: every scheduled heartbeat answered (the pre-flight one aside) */
    json_object *acc = tc_member(summary, "accounting");
    ck_assert_int_eq(json_object_get_int64(tc_member(acc, "answered")), total - 1);
    ck_assert_int_eq(json_object_get_int64(tc_member(acc, "scheduled")), total - 1);
    json_object_put(summary);
    json_object_put(st);

    /* the database: every agent's last_heartbeat_at moved forward, status Online */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM agents a JOIN hb_before b USING (id) WHERE "
             "a.last_heartbeat_at > b.last_heartbeat_at AND a.last_heartbeat_at > now() - "
             "interval '5 minutes' AND a.status = 'Online'");
    ck_assert_int_eq(q(db, sql), agents);
    /* and holds the metadata fleetsim (seed 7) sent, not the seed command's (seed 1) */
    struct identity_os_mix mix = identity_default_os_mix();
    size_t cap = 128 + agents * 64, len = 0;
    char *values = malloc(cap);
    ck_assert_ptr_nonnull(values);
    unsigned changed = 0;
    for (unsigned i = 1; i <= agents; i++) {
        char id[IDENTITY_NAME_MAX];
        struct identity_agent_meta m, s;
        identity_agent_id(id, sizeof id, IDENTITY_DEFAULT_PREFIX, i);
        identity_agent_meta(RUN_SEED_N, i, &mix, &m);
        identity_agent_meta(strtoull(SEED_SEED, NULL, 10), i, &mix, &s);
        changed += strcmp(m.os, s.os) != 0 || strcmp(m.architecture, s.architecture) != 0;
        len += (size_t)snprintf(values + len, cap - len, "%s('%s','%s','%s')", i > 1 ? "," : "", id,
                                m.os, m.architecture);
    }
    ck_assert_uint_gt(changed, 0); /* the check below can tell the two apart */
    char *match = NULL;
    ck_assert_int_gt(asprintf(&match,
                              "SELECT count(*) FROM agents a JOIN (VALUES %s) v(id, os, arch) "
                              "ON a.id = v.id WHERE a.os = v.os AND a.architecture = v.arch",
                              values),
                     0);
    ck_assert_int_eq(q(db, match), agents);
    free(match);
    free(values);
    /* certctl's never-NULL columns are still set */
    ck_assert_int_eq(q(db, "SELECT count(*) FROM agents WHERE os IS NULL OR architecture IS NULL "
                           "OR ip_address IS NULL OR version IS NULL"),
                     0);
}
END_TEST

/* Counts seed-shaped rows: fleet certificates (exact id shape, never a LIKE prefix). */
#define FLEET_CERT "certificate_id ~ '^mc-loadtest-[0-9]+$'"

/* Value after "marker" in text as a double (-1 when absent). */
static double number_after(const char *text, const char *marker)
{
    const char *p = strstr(text, marker);
    return p ? strtod(p + strlen(marker), NULL) : -1;
}

/* The bulk-renew calls' http_req_failed rate from the summary: its hits into *failed and its
 * total into *calls (left as they are when the summary has none). */
static void bulk_renew_failures(json_object *summary, int64_t *failed, int64_t *calls)
{
    json_object *counters = tc_member(summary, "counters");
    for (size_t i = 0; counters && i < json_object_array_length(counters); i++) {
        json_object *c = json_object_array_get_idx(counters, i);
        json_object *ep = tc_member(tc_member(c, "tags"), "endpoint");
        if (strcmp(json_object_get_string(tc_member(c, "metric")), "http_req_failed") == 0 && ep &&
            strcmp(json_object_get_string(ep), "bulk_renew") == 0) {
            *failed = json_object_get_int64(tc_member(c, "hits"));
            *calls = json_object_get_int64(tc_member(c, "total"));
        }
    }
}

START_TEST(t_bulk_renewal_on_postgresql_then_reset_and_clean)
{
    ck_assert_msg(cluster_up, "no PostgreSQL cluster");
    const unsigned agents = sanitized ? 50 : 200, certs = sanitized ? 250 : 1000;
    char db[64], url[PGTMP_CONNINFO_MAX], n_agents[16], n_certs[16], sql[1024];
    snprintf(n_agents, sizeof n_agents, "%u", agents);
    snprintf(n_certs, sizeof n_certs, "%u", certs);
    seeded_db(db, sizeof db, url, sizeof url, agents, certs);
    /* rows that are not the fleet's: an agent whose id only starts like one, its target, and a
	 * certificate mapped to it, with owner, team and policy of their own */
    x(db, "INSERT INTO teams (id, name) VALUES ('t-other', 'other'); "
          "INSERT INTO owners (id, name, email, team_id) VALUES ('o-other', 'o', 'o@x', "
          "'t-other'); INSERT INTO renewal_policies (id, name, renewal_window_days) VALUES "
          "('rp-other', 'other', 30); INSERT INTO agents (id, name, hostname, api_key_hash, "
          "status) VALUES ('ag-loadtest-x-00001', 'x-agent', 'x.example.test', 'k', 'Online'); "
          "INSERT INTO deployment_targets (id, name, type, agent_id) VALUES ('tgt-other-1', "
          "'other', 'NGINX', 'ag-loadtest-x-00001'); INSERT INTO managed_certificates (id, name, "
          "common_name, environment, owner_id, team_id, issuer_id, renewal_policy_id, status, "
          "expires_at) VALUES ('mc-other-1', 'other-1', 'other.example.test', 'prod', "
          "'o-other', 't-other', 'iss-local', 'rp-other', 'Active', now() + interval '60 days'); "
          "INSERT INTO certificate_target_mappings VALUES ('mc-other-1', 'tgt-other-1')");
    x(db, "CREATE TABLE t_offsets AS SELECT id, expires_at - created_at AS off FROM "
          "managed_certificates WHERE id ~ '^mc-loadtest-[0-9]+$'");
    x(db, "CREATE TABLE t_other AS SELECT (SELECT a::text FROM agents a WHERE id = "
          "'ag-loadtest-x-00001') AS a, (SELECT c::text FROM managed_certificates c WHERE id = "
          "'mc-other-1') AS c, (SELECT t::text FROM deployment_targets t WHERE id = "
          "'tgt-other-1') AS t");

    /* the compressed bulk-renewal: the preset's operator (5 calls/s, batches of 50), one pass
	 * (--bulk-passes 1: calls cycling on would keep enqueueing renewals that hold the agents
	 * from the last deployments while the server is slow), and the agents polling every
	 * second; --ramp 1s, else the first polls would spread over one (default, 30 s) heartbeat
	 * interval; --no-thresholds: the preset's latency thresholds judge a server, not this
	 * data path (its failure rate is checked below) */
    struct procs_target t;
    target_on_db(&t, url);
    char sum[128];
    snprintf(sum, sizeof sum, "/tmp/check_seed_e2e_bulk.%d.json", (int)getpid());
    const char *run_args[] = {"--url",
                              t.url,
                              "--scenario",
                              "bulk-renewal",
                              "--agents",
                              n_agents,
                              "--certs",
                              n_certs,
                              "--poll",
                              "1s",
                              "--ramp",
                              "1s",
                              "--duration",
                              BULK_DURATION,
                              "--no-thresholds",
                              "--bulk-passes",
                              "1",
                              "--seed",
                              RUN_SEED,
                              "--report-interval",
                              "0",
                              "--summary-json",
                              sum,
                              NULL};
    const char *run_env[] = {"CERTCTL_API_KEY=" API_KEY, "CERTCTL_SERVER_URL", NULL};
    char *out = NULL;
    int rc = run_fleetsim(run_args, run_env, &out);
    json_object *summary = json_object_from_file(sum);
    unlink(sum);
    ck_assert_int_eq(procs_target_stop(&t, SIGTERM), 0);
    ck_assert_msg(rc == 0, "bulk-renewal: exit %d: %s", rc, testenv_tail(out));
    ck_assert_ptr_nonnull(summary);
    /* every targeted certificate renewed by the fleet, and the campaign time reported */
    char line[128];
    snprintf(line, sizeof line, "certificates renewed by the fleet, 0 skipped, 0 failed");
    ck_assert_msg(strstr(out, line) != NULL, "campaign not complete: %s", testenv_tail(out));
    double campaign_s = number_after(out, "campaign: complete in ");
    ck_assert_msg(campaign_s > 0 && campaign_s < BULK_DURATION_S, "campaign time %.2f s",
                  campaign_s);
    snprintf(line, sizeof line, "complete in %.2fs: %u certificates renewed", campaign_s, certs);
    ck_assert_msg(strstr(out, line) != NULL, "%s not in: %s", line, testenv_tail(out));
    bool found = false;
    json_object *counters = tc_member(summary, "counters");
    for (size_t i = 0; counters && i < json_object_array_length(counters); i++) {
        json_object *c = json_object_array_get_idx(counters, i);
        if (strcmp(json_object_get_string(tc_member(c, "metric")), "campaign_renewed") == 0) {
            ck_assert_int_eq(json_object_get_int64(tc_member(c, "value")), certs);
            found = true;
        }
    }
    ck_assert(found);
    /* the preset's failure threshold, judged here: under 1 % of the bulk-renew calls failed */
    int64_t failed = -1, calls = 0;
    bulk_renew_failures(summary, &failed, &calls);
    ck_assert_msg(failed >= 0 && calls > 0 && failed * 100 < calls,
                  "bulk-renew: %lld of %lld calls failed", (long long)failed, (long long)calls);
    json_object_put(summary);
    free(out);
    /* the database agrees: each fleet certificate has a completed renewal (its CSR signed by
	 * the target), a new version and a completed deployment; the other certificate none */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM managed_certificates m WHERE id ~ '^mc-loadtest-[0-9]+$' AND "
             "EXISTS (SELECT 1 FROM jobs j WHERE j.certificate_id = m.id AND j.type = 'Renewal' "
             "AND j.status = 'Completed') AND EXISTS (SELECT 1 FROM certificate_versions v WHERE "
             "v.certificate_id = m.id) AND EXISTS (SELECT 1 FROM jobs d WHERE d.certificate_id = "
             "m.id AND d.type = 'Deployment' AND d.status = 'Completed')");
    int64_t done = q(db, sql);
    ck_assert_msg(done == certs,
                  "%lld of %u certificates renewed, versioned and deployed (%lld with a completed "
                  "renewal, %lld with a completed deployment)",
                  (long long)done, certs,
                  (long long)q(db, "SELECT count(DISTINCT certificate_id) FROM jobs WHERE type = "
                                   "'Renewal' AND status = 'Completed'"),
                  (long long)q(db, "SELECT count(DISTINCT certificate_id) FROM jobs WHERE type = "
                                   "'Deployment' AND status = 'Completed'"));
    ck_assert_int_eq(q(db, "SELECT count(*) FROM jobs WHERE certificate_id = 'mc-other-1'"), 0);

    /* fleetsim seed --reset after that run: the certificates as seeded, the run's jobs and
	 * versions gone */
    const char *seed_env[] = {"PGPASSWORD", "DATABASE_URL", NULL};
    const char *reset[] = {"seed", "--db", url, "--reset", NULL};
    rc = run_fleetsim(reset, seed_env, &out);
    ck_assert_msg(rc == 0, "reset: exit %d: %s", rc, testenv_tail(out));
    snprintf(line, sizeof line, "%u certificates restored", certs);
    ck_assert_msg(strstr(out, line) != NULL, "%s", testenv_tail(out));
    free(out);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM managed_certificates m JOIN t_offsets o USING "
                           "(id) WHERE m.status = 'Active' AND m.last_renewal_at IS NULL AND "
                           "m.last_deployment_at IS NULL AND m.expires_at - m.updated_at = o.off"),
                     certs);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM jobs WHERE " FLEET_CERT), 0);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM certificate_versions WHERE " FLEET_CERT), 0);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM certificate_target_mappings WHERE " FLEET_CERT),
                     certs);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM t_other o WHERE o.a = (SELECT a::text FROM "
                           "agents a WHERE id = 'ag-loadtest-x-00001') AND o.c = (SELECT c::text "
                           "FROM managed_certificates c WHERE id = 'mc-other-1') AND o.t = (SELECT "
                           "t::text FROM deployment_targets t WHERE id = 'tgt-other-1')"),
                     1);

    /* fleetsim seed --clean: everything of the fleet gone, the other rows exactly as they were */
    const char *clean[] = {"seed", "--db", url, "--clean", NULL};
    rc = run_fleetsim(clean, seed_env, &out);
    ck_assert_msg(rc == 0, "clean: exit %d: %s", rc, testenv_tail(out));
    free(out);
    ck_assert_int_eq(q(db, "SELECT (SELECT count(*) FROM agents WHERE id ~ "
                           "'^ag-loadtest-[0-9]+$') + (SELECT count(*) FROM deployment_targets "
                           "WHERE id ~ '^tgt-loadtest-[0-9]+$') + (SELECT count(*) FROM "
                           "managed_certificates WHERE id ~ '^mc-loadtest-[0-9]+$') + (SELECT "
                           "count(*) FROM certificate_target_mappings WHERE target_id ~ "
                           "'^tgt-loadtest-[0-9]+$') + (SELECT count(*) FROM jobs) + (SELECT "
                           "count(*) FROM certificate_versions) + (SELECT count(*) FROM "
                           "renewal_policies WHERE id = 'rp-loadtest')"),
                     0);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM t_other o WHERE o.a = (SELECT a::text FROM "
                           "agents a WHERE id = 'ag-loadtest-x-00001') AND o.c = (SELECT c::text "
                           "FROM managed_certificates c WHERE id = 'mc-other-1') AND o.t = (SELECT "
                           "t::text FROM deployment_targets t WHERE id = 'tgt-other-1')"),
                     1);
    /* the foreign keys of what is left hold: the mapping still joins its certificate, target
	 * and agent */
    ck_assert_int_eq(q(db, "SELECT count(*) FROM certificate_target_mappings m JOIN "
                           "managed_certificates c ON c.id = m.certificate_id JOIN "
                           "deployment_targets t ON t.id = m.target_id JOIN agents a ON a.id = "
                           "t.agent_id"),
                     1);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM agents"), 1);
    ck_assert_int_eq(q(db, "SELECT count(*) FROM issuers WHERE id = 'iss-local'"), 1);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    sanitized = testenv_flag("FLEETSIM_SANITIZED");
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("seed_e2e");
    TCase *tc = testenv_tcase(s, "seed_e2e", TEST_TIMEOUT_S);
    tcase_add_test(tc, t_seed_target_db_fleet);
    tcase_add_test(tc, t_bulk_renewal_on_postgresql_then_reset_and_clean);
    return pgtmp_run_suite(s, &cluster, &cluster_up, "check_seed_e2e");
}
