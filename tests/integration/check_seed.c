/* tests/integration/check_seed.c - `fleetsim seed` against throwaway PostgreSQL clusters
 * (tests/lib/pg.h): exact counts, idempotent re-runs, --reset, --clean that spares other rows,
 * and one-line errors with exit codes that leave the database unchanged. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seed/seed.h"
#include "src/cmd_seed.h"
#include "sim/identity.h"
#include "tests/lib/pg.h"
#include "tests/lib/testenv.h"

#define OUT_MAX 16384
#define SCRAM_PASSWORD "Corr3ct-H0rse-pw"
#define WRONG_PASSWORD "Wr0ng-Batt3ry-pw"

static struct pgtmp cluster; /* trust authentication */
static struct pgtmp scram;   /* password authentication */
static int db_counter;

struct outcome {
    int code;
    char out[OUT_MAX];
    char err[OUT_MAX];
};

static void start_trust(void)
{
    char err[512];
    if (pgtmp_start(&cluster, err, sizeof err) != 0) {
        fprintf(stderr, "check_seed: %s\n", err);
        exit(1);
    }
}

static void stop_trust(void)
{
    pgtmp_stop(&cluster);
}

static void start_scram(void)
{
    char err[512];
    struct pgtmp_options opts = {.password = SCRAM_PASSWORD};
    if (pgtmp_start_opts(&scram, &opts, err, sizeof err) != 0) {
        fprintf(stderr, "check_seed: %s\n", err);
        exit(1);
    }
}

static void stop_scram(void)
{
    pgtmp_stop(&scram);
}

/* Creates a fresh database with certctl's schema (and issuer iss-local when with_issuer) on pg;
 * writes its name into name (size 32). */
static void fresh_db(struct pgtmp *pg, char *name, bool with_issuer)
{
    char err[512];
    snprintf(name, 32, "seed_%d_%d", (int)getpid(), ++db_counter);
    ck_assert_msg(pgtmp_create_db(pg, name, true, err, sizeof err) == 0, "%s", err);
    if (with_issuer)
        ck_assert_msg(pgtmp_exec(pg, name,
                                 "INSERT INTO issuers (id, name, type, config) VALUES "
                                 "('iss-local', 'Local CA', 'GenericCA', '{}')",
                                 err, sizeof err) == 0,
                      "%s", err);
}

static int64_t q(struct pgtmp *pg, const char *db, const char *sql)
{
    char err[512];
    int64_t v = -1;
    int rc = pgtmp_query_i64(pg, db, sql, &v, err, sizeof err);
    ck_assert_msg(rc >= 0, "%s: %s", sql, err);
    return v;
}

static void x(struct pgtmp *pg, const char *db, const char *sql)
{
    char err[512];
    ck_assert_msg(pgtmp_exec(pg, db, sql, err, sizeof err) == 0, "%s: %s", sql, err);
}

static void read_fd(int fd, char *buf, size_t n)
{
    size_t used = 0;
    ssize_t r;
    while ((r = read(fd, buf + used, n - 1 - used)) > 0)
        used += (size_t)r;
    buf[used] = '\0';
}

/* Runs cmd_seed_main(args) in a child process with PGPASSWORD set to password (NULL: unset),
 * capturing stdout and stderr. */
static void run_seed_env(const char *const *args, const char *password, struct outcome *res)
{
    char outpath[] = "/tmp/check_seed_out.XXXXXX", errpath[] = "/tmp/check_seed_err.XXXXXX";
    int ofd = mkstemp(outpath), efd = mkstemp(errpath);
    ck_assert(ofd >= 0 && efd >= 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        dup2(ofd, STDOUT_FILENO);
        dup2(efd, STDERR_FILENO);
        if (password)
            setenv("PGPASSWORD", password, 1);
        else
            unsetenv("PGPASSWORD");
        unsetenv("DATABASE_URL");
        char *argv[32];
        int argc = 0;
        argv[argc++] = (char *)"seed";
        for (; args[argc - 1] != NULL && argc < 31; argc++)
            argv[argc] = strdup(args[argc - 1]);
        argv[argc] = NULL;
        int code = cmd_seed_main(argc, argv);
        fflush(stdout);
        fflush(stderr);
        _exit(code);
    }
    int status;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert_msg(WIFEXITED(status), "seed child crashed");
    res->code = WEXITSTATUS(status);
    lseek(ofd, 0, SEEK_SET);
    lseek(efd, 0, SEEK_SET);
    read_fd(ofd, res->out, sizeof res->out);
    read_fd(efd, res->err, sizeof res->err);
    close(ofd);
    close(efd);
    unlink(outpath);
    unlink(errpath);
}

static void run_seed(const char *const *args, struct outcome *res)
{
    run_seed_env(args, NULL, res);
}

static void db_url(struct pgtmp *pg, const char *db, char *buf, size_t n)
{
    ck_assert(pgtmp_url_db(pg, db, buf, n) > 0);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* fresh_db, and the database's URL into url (size n). */
static void fresh_db_url(struct pgtmp *pg, char *name, bool with_issuer, char *url, size_t n)
{
    fresh_db(pg, name, with_issuer);
    db_url(pg, name, url, n);
}

/* run_seed_env that must succeed (exit 0). */
static void seed_ok(const char *const *args, const char *password, struct outcome *res)
{
    run_seed_env(args, password, res);
    ck_assert_msg(res->code == 0, "exit %d: %s", res->code, res->err);
}

/* run_seed_env that must fail with exit code and one line on stderr containing needle. */
static void seed_fails(const char *const *args, const char *password, int code, const char *needle,
                       struct outcome *res)
{
    run_seed_env(args, password, res);
    ck_assert_msg(res->code == code, "exit %d, want %d: %s", res->code, code, res->err);
    ck_assert_msg(count_lines(res->err) == 1, "%s", res->err);
    ck_assert_msg(strstr(res->err, needle) != NULL, "no '%s' in: %s", needle, res->err);
}

/* Value in the column "created" (col 0) or "already present" (col 1) of table's result row;
 * --clean tables have one column, "removed" (col 0). */
static long result_cell(const char *out, const char *table, int col)
{
    char key[64];
    snprintf(key, sizeof key, "\n  %s ", table);
    const char *p = strstr(out, key);
    ck_assert_msg(p != NULL, "no row for %s in:\n%s", table, testenv_tail(out));
    long a = -1, b = -1;
    int got = sscanf(p + strlen(key), " %ld %ld", &a, &b);
    ck_assert(got == 2 || (got == 1 && col == 0));
    return col == 0 ? a : b;
}

/* Digest of every fleet row, to show a command changed nothing. */
static int64_t fleet_digest(struct pgtmp *pg, const char *db)
{
    return q(pg, db,
             "SELECT ('x' || substr(md5(coalesce((SELECT string_agg(a::text, ',' ORDER BY a.id) "
             "FROM agents a), '') || coalesce((SELECT string_agg(c::text, ',' ORDER BY c.id) "
             "FROM managed_certificates c), '') || coalesce((SELECT string_agg(t::text, ',' "
             "ORDER BY t.id) FROM deployment_targets t), '') || coalesce((SELECT "
             "string_agg(m::text, ',' ORDER BY m.certificate_id) FROM "
             "certificate_target_mappings m), '') || coalesce((SELECT string_agg(j::text, ',' "
             "ORDER BY j.id) FROM jobs j), '') || (SELECT count(*) FROM teams)::text || "
             "(SELECT count(*) FROM owners)::text || (SELECT count(*) FROM "
             "renewal_policies)::text), 1, 15))::bit(60)::bigint");
}

START_TEST(test_seed_counts_and_rerun)
{
    char db[32], url[256];
    fresh_db_url(&cluster, db, true, url, sizeof url);
    const char *args[] = {"--db", url, "--agents", "500", "--certs", "1200", "--seed", "7", NULL};
    struct outcome r;
    seed_ok(args, NULL, &r);
    ck_assert_int_eq(result_cell(r.out, "agents", 0), 500);
    ck_assert_int_eq(result_cell(r.out, "managed_certificates", 0), 1200);
    ck_assert_int_eq(result_cell(r.out, "certificate_target_mappings", 0), 1200);
    ck_assert_int_eq(result_cell(r.out, "teams", 0), 1);

    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM agents WHERE id ~ '^ag-loadtest-[0-9]+$' "
                       "AND status = 'Online' AND version = '2.1.0'"),
                     500);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM deployment_targets t JOIN agents a "
                       "ON a.id = t.agent_id WHERE t.id = 'tgt-' || substr(a.id, 4) "
                       "AND t.type = 'NGINX' AND t.name = 'loadtest-target' "
                       "AND t.config = '{}'::jsonb"),
                     500);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates WHERE "
                       "status = 'Active' AND environment = 'loadtest' AND "
                       "owner_id = 'o-loadtest' AND team_id = 't-loadtest' AND "
                       "issuer_id = 'iss-local' AND renewal_policy_id = 'rp-loadtest' "
                       "AND tags = '{}'::jsonb AND sans = '{}'::text[] AND "
                       "name = 'loadtest-bulk-' || substr(id, 13) AND "
                       "common_name = 'loadtest-' || substr(id, 13) || "
                       "'.certs.example.test'"),
                     1200);
    /* every certificate mapped once, to the target of agent ((j-1) mod 500)+1 */
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM certificate_target_mappings m WHERE "
                       "m.target_id = 'tgt-loadtest-' || lpad(((substr("
                       "m.certificate_id, 13)::int - 1) % 500 + 1)::text, 5, '0')"),
                     1200);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(DISTINCT certificate_id) FROM "
                       "certificate_target_mappings"),
                     1200);
    /* foreign keys resolve and nothing certctl reads into non-pointer fields is NULL */
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates c JOIN owners o ON "
                       "o.id = c.owner_id JOIN teams t ON t.id = c.team_id JOIN "
                       "issuers i ON i.id = c.issuer_id JOIN renewal_policies p ON "
                       "p.id = c.renewal_policy_id JOIN certificate_target_mappings m"
                       " ON m.certificate_id = c.id JOIN deployment_targets d ON "
                       "d.id = m.target_id JOIN agents a ON a.id = d.agent_id"),
                     1200);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM agents WHERE os IS NULL OR architecture "
                       "IS NULL OR ip_address IS NULL OR version IS NULL OR "
                       "last_heartbeat_at IS NULL OR api_key_hash = ''"),
                     0);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates WHERE environment "
                       "IS NULL OR expires_at IS NULL"),
                     0);
    /* expiry inside the default 32d-90d window, heartbeats inside the last minute */
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates WHERE expires_at "
                       "BETWEEN created_at + interval '32 days' AND created_at + "
                       "interval '90 days'"),
                     1200);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM agents WHERE last_heartbeat_at > "
                       "registered_at - interval '60 seconds' AND last_heartbeat_at "
                       "<= registered_at"),
                     500);
    ck_assert_int_ge(q(&cluster, db, "SELECT count(DISTINCT expires_at) FROM managed_certificates"),
                     1100);
    /* the OS of each agent is identity's draw for seed 7 */
    struct identity_os_mix mix = identity_default_os_mix();
    int64_t n_linux = 0, n_arm = 0;
    for (uint32_t i = 1; i <= 500; i++) {
        struct identity_agent_meta m;
        identity_agent_meta(7, i, &mix, &m);
        n_linux += m.os_kind == IDENTITY_OS_LINUX;
        n_arm += strcmp(m.architecture, "arm64") == 0;
    }
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM agents WHERE os = 'linux'"), n_linux);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM agents WHERE architecture = 'arm64'"),
                     n_arm);

    /* a re-run creates nothing and changes nothing */
    int64_t before = fleet_digest(&cluster, db);
    seed_ok(args, NULL, &r);
    const char *tables[] = {"teams",
                            "owners",
                            "renewal_policies",
                            "agents",
                            "deployment_targets",
                            "managed_certificates",
                            "certificate_target_mappings"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        ck_assert_int_eq(result_cell(r.out, tables[i], 0), 0);
    ck_assert_int_eq(result_cell(r.out, "agents", 1), 500);
    ck_assert_int_eq(result_cell(r.out, "managed_certificates", 1), 1200);
    ck_assert_int_eq(fleet_digest(&cluster, db), before);

    /* a larger re-run adds only the missing rows; existing certificates keep their mapping */
    const char *more[] = {"--db", url,      "--agents", "600", "--certs",
                          "1300", "--seed", "7",        "-q",  NULL};
    seed_ok(more, NULL, &r);
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM agents"), 600);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM certificate_target_mappings"), 1300);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(DISTINCT certificate_id) FROM "
                       "certificate_target_mappings"),
                     1300);

    /* --dry-run connects to nothing and changes nothing */
    before = fleet_digest(&cluster, db);
    const char *dry[] = {"--db", "postgresql://postgres@127.0.0.1:1/none", "--dry-run", NULL};
    seed_ok(dry, NULL, &r);
    ck_assert_ptr_nonnull(strstr(r.out, "not contacted"));
    ck_assert_ptr_nonnull(strstr(r.out, "ag-loadtest-05000"));
    ck_assert_int_eq(fleet_digest(&cluster, db), before);
}
END_TEST

START_TEST(test_reset)
{
    char db[32], url[256];
    fresh_db_url(&cluster, db, true, url, sizeof url);
    const char *args[] = {"--db", url, "--agents", "20", "--certs", "40", "-q", NULL};
    struct outcome r;
    seed_ok(args, NULL, &r);
    x(&cluster, db,
      "CREATE TABLE t_offsets AS SELECT id, expires_at - created_at AS off "
      "FROM managed_certificates");
    /* a run renewed certificates 1-5: new versions, jobs, new expiry, status changes */
    x(&cluster, db,
      "UPDATE managed_certificates SET status = 'RenewalInProgress', expires_at = "
      "now() + interval '1 day', last_renewal_at = now(), last_deployment_at = now()"
      " WHERE id <= 'mc-loadtest-00005'");
    x(&cluster, db,
      "INSERT INTO jobs (id, type, certificate_id, agent_id, status) SELECT "
      "'job-' || id, 'Renewal', id, 'ag-loadtest-00001', 'AwaitingCSR' FROM "
      "managed_certificates WHERE id <= 'mc-loadtest-00005'");
    x(&cluster, db,
      "INSERT INTO certificate_versions (id, certificate_id, serial_number, "
      "not_before, not_after, fingerprint_sha256, pem_chain) SELECT 'cv-' || id, "
      "id, '01', now(), now() + interval '90 days', 'fp-' || id, 'pem' FROM "
      "managed_certificates WHERE id <= 'mc-loadtest-00005'");
    /* another certificate with its own job and version must stay as it is */
    x(&cluster, db,
      "INSERT INTO managed_certificates (id, name, common_name, environment, "
      "owner_id, team_id, issuer_id, renewal_policy_id, status, expires_at) VALUES "
      "('mc-other-1', 'other-1', 'other.example.test', 'prod', 'o-loadtest', "
      "'t-loadtest', 'iss-local', 'rp-loadtest', 'RenewalInProgress', now()); "
      "INSERT INTO jobs (id, type, certificate_id, status) VALUES ('job-other', "
      "'Renewal', 'mc-other-1', 'Pending'); INSERT INTO certificate_versions (id, "
      "certificate_id, serial_number, not_before, not_after, fingerprint_sha256, "
      "pem_chain) VALUES ('cv-other', 'mc-other-1', '02', now(), now(), 'fp-o', 'p')");

    const char *reset[] = {"--db", url, "--reset", NULL};
    seed_ok(reset, NULL, &r);
    ck_assert_ptr_nonnull(strstr(r.out, "40 certificates restored"));
    ck_assert_ptr_nonnull(strstr(r.out, "removed 5 jobs and 5 certificate versions"));
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates m JOIN t_offsets o"
                       " USING (id) WHERE m.status = 'Active' AND m.last_renewal_at "
                       "IS NULL AND m.last_deployment_at IS NULL AND "
                       "m.expires_at - m.updated_at = o.off"),
                     40);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM jobs WHERE certificate_id ~ "
                       "'^mc-loadtest-[0-9]+$'"),
                     0);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM certificate_versions WHERE "
                       "certificate_id ~ '^mc-loadtest-[0-9]+$'"),
                     0);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM jobs WHERE id = 'job-other'"), 1);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM certificate_versions WHERE id = "
                       "'cv-other'"),
                     1);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates WHERE id = "
                       "'mc-other-1' AND status = 'RenewalInProgress'"),
                     1);
    /* agents and mappings untouched */
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM certificate_target_mappings"), 40);
}
END_TEST

START_TEST(test_clean_spares_other_rows)
{
    char db[32], url[256];
    fresh_db_url(&cluster, db, true, url, sizeof url);
    const char *args[] = {"--db", url, "--agents", "30", "--certs", "60", "-q", NULL};
    struct outcome r;
    seed_ok(args, NULL, &r);
    x(&cluster, db,
      "INSERT INTO teams (id, name) VALUES ('t-other', 'other'); "
      "INSERT INTO owners (id, name, email, team_id) VALUES ('o-other', 'o', 'o@x', 't-other'); "
      "INSERT INTO renewal_policies (id, name, renewal_window_days) VALUES ('rp-other', 'o', 30);"
      "INSERT INTO agents (id, name, hostname, api_key_hash) VALUES "
      "('ag-other-1', 'other-agent', 'h', 'k'), ('ag-loadtest-x-00001', 'x-agent', 'h', 'k');"
      "INSERT INTO deployment_targets (id, name, type, agent_id) VALUES "
      "('tgt-other-1', 'other', 'NGINX', 'ag-other-1');"
      "INSERT INTO managed_certificates (id, name, common_name, environment, owner_id, team_id, "
      "issuer_id, renewal_policy_id, expires_at) VALUES ('mc-other-1', 'other-1', 'o', 'p', "
      "'o-other', 't-other', 'iss-local', 'rp-other', now()), ('mc-shared-1', 'shared-1', 's', "
      "'p', 'o-loadtest', 't-other', 'iss-local', 'rp-other', now());"
      "INSERT INTO certificate_target_mappings VALUES ('mc-other-1', 'tgt-other-1');"
      "INSERT INTO jobs (id, type, certificate_id, target_id, agent_id, status) VALUES "
      "('job-fleet', 'Deployment', 'mc-loadtest-00002', 'tgt-loadtest-00002', "
      "'ag-loadtest-00002', 'Pending'), ('job-other', 'Renewal', 'mc-other-1', NULL, NULL, "
      "'Pending');"
      "INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, "
      "not_after, fingerprint_sha256, pem_chain) VALUES ('cv-fleet', 'mc-loadtest-00002', '1', "
      "now(), now(), 'fp1', 'p'), ('cv-other', 'mc-other-1', '2', now(), now(), 'fp2', 'p')");

    const char *clean[] = {"--db", url, "--clean", NULL};
    seed_ok(clean, NULL, &r);
    ck_assert_int_eq(result_cell(r.out, "agents", 0), 30);
    ck_assert_int_eq(result_cell(r.out, "managed_certificates", 0), 60);
    ck_assert_int_eq(result_cell(r.out, "jobs", 0), 1);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT (SELECT count(*) FROM agents WHERE id ~ "
                       "'^ag-loadtest-[0-9]+$') + (SELECT count(*) FROM "
                       "deployment_targets WHERE id ~ '^tgt-loadtest-[0-9]+$') + "
                       "(SELECT count(*) FROM managed_certificates WHERE id ~ "
                       "'^mc-loadtest-[0-9]+$') + (SELECT count(*) FROM jobs WHERE "
                       "id = 'job-fleet') + (SELECT count(*) FROM "
                       "certificate_versions WHERE id = 'cv-fleet') + (SELECT "
                       "count(*) FROM certificate_target_mappings WHERE target_id ~ "
                       "'^tgt-loadtest-[0-9]+$')"),
                     0);
    /* rp-loadtest was only the fleet's: gone; o-loadtest is used by mc-shared-1 and t-loadtest
     * by o-loadtest: kept */
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM renewal_policies WHERE id = "
                       "'rp-loadtest'"),
                     0);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM owners WHERE id = 'o-loadtest'"), 1);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM teams WHERE id = 't-loadtest'"), 1);
    /* everything else stays */
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM agents WHERE id IN ('ag-other-1', "
                       "'ag-loadtest-x-00001')"),
                     2);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates WHERE id IN "
                       "('mc-other-1', 'mc-shared-1')"),
                     2);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM certificate_target_mappings WHERE "
                       "certificate_id = 'mc-other-1'"),
                     1);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM jobs WHERE id = 'job-other'"), 1);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM certificate_versions WHERE id = "
                       "'cv-other'"),
                     1);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM issuers"), 1);

    /* with the shared certificate gone, a second clean removes the owner and team too */
    x(&cluster, db, "DELETE FROM managed_certificates WHERE id = 'mc-shared-1'");
    seed_ok(clean, NULL, &r);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM owners WHERE id = 'o-loadtest'"), 0);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM teams WHERE id = 't-loadtest'"), 0);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM agents"), 2);
}
END_TEST

START_TEST(test_bad_options)
{
    const char *bad_prefixes[] = {
        "a'b", "a\\b", "a;b", "a%b", "a_b", "Load", "1ab", "", "abcdefghijklmnopqrstuvwxy"};
    for (size_t i = 0; i < sizeof bad_prefixes / sizeof bad_prefixes[0]; i++) {
        const char *args[] = {"--db", "postgresql://postgres@127.0.0.1:1/none", "--fleet-prefix",
                              bad_prefixes[i], NULL};
        struct outcome r;
        run_seed(args, &r);
        ck_assert_msg(r.code == 2, "prefix %s: exit %d", bad_prefixes[i], r.code);
        ck_assert_ptr_nonnull(strstr(r.err, "--fleet-prefix"));
        ck_assert_int_eq(count_lines(r.err), 1);
    }
    const char *const cases[][6] = {
        {"--agents", "abc", NULL},
        {"--certs", "-1", NULL},
        {"--os-mix", "50/10/10", NULL},
        {"--expiry-window", "90d-32d", NULL},
        {"--expiry-window", "32d", NULL},
        {"--reset", "--clean", NULL},
        {"--agents", "0", "--certs", "5", NULL},
        {"--bogus", NULL},
        {"--db", "host='unterminated", NULL},
        {"stray", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct outcome r;
        run_seed(cases[i], &r);
        ck_assert_msg(r.code == 2, "case %zu (%s): exit %d", i, cases[i][0], r.code);
        ck_assert_msg(count_lines(r.err) == 1, "case %zu: %s", i, r.err);
        ck_assert_ptr_nonnull(strstr(r.err, "fleetsim seed: "));
    }
    struct outcome r;
    const char *help[] = {"--help", NULL};
    run_seed(help, &r);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "--expiry-window"));
}
END_TEST

START_TEST(test_password_hidden)
{
    /* a password inside --db is overwritten in argv and never printed (dry run: no server) */
    char outpath[] = "/tmp/check_seed_pw.XXXXXX";
    int fd = mkstemp(outpath);
    ck_assert(fd >= 0);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        char *argv[] = {strdup("seed"), strdup("--db"),
                        strdup("postgresql://u:pw-s3cret@127.0.0.1:1/x"), strdup("--dry-run"),
                        NULL};
        int code = cmd_seed_main(4, argv);
        fflush(stdout);
        _exit(code == 0 && strstr(argv[2], "pw-s3cret") == NULL ? 0 : 3);
    }
    int status;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    char out[OUT_MAX];
    lseek(fd, 0, SEEK_SET);
    read_fd(fd, out, sizeof out);
    close(fd);
    unlink(outpath);
    ck_assert_ptr_nonnull(strstr(out, "postgresql://u@127.0.0.1:1/x"));
    ck_assert_ptr_null(strstr(out, "s3cret"));
}
END_TEST

static uint16_t closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

START_TEST(test_unreachable)
{
    char url[128];
    snprintf(url, sizeof url, "postgresql://postgres@127.0.0.1:%u/certctl", closed_port());
    const char *args[] = {"--db", url, NULL};
    struct outcome r;
    seed_fails(args, NULL, 1, "cannot connect to the database", &r);
    ck_assert_ptr_nonnull(strstr(r.err, "Connection refused"));
}
END_TEST

START_TEST(test_missing_table)
{
    char db[32], url[256];
    fresh_db_url(&cluster, db, true, url, sizeof url);
    x(&cluster, db, "DROP TABLE certificate_target_mappings");
    const char *args[] = {"--db", url, "--agents", "10", "--certs", "10", NULL};
    struct outcome r;
    seed_fails(args, NULL, 1, "certificate_target_mappings", &r);
    ck_assert_ptr_nonnull(strstr(r.err, "run certctl's migrations first"));
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT (SELECT count(*) FROM agents) + (SELECT count(*) "
                       "FROM teams) + (SELECT count(*) FROM owners)"),
                     0);
    /* a missing column is named the same way */
    char db2[32];
    fresh_db_url(&cluster, db2, true, url, sizeof url);
    x(&cluster, db2, "ALTER TABLE agents DROP COLUMN os");
    seed_fails(args, NULL, 1, "agents.os", &r);
    ck_assert_int_eq(q(&cluster, db2, "SELECT count(*) FROM teams"), 0);
}
END_TEST

START_TEST(test_missing_issuer)
{
    char db[32], url[256];
    fresh_db_url(&cluster, db, false, url, sizeof url);
    const char *args[] = {"--db", url, "--agents", "10", "--certs", "10", NULL};
    struct outcome r;
    seed_fails(args, NULL, 1, "issuer \"iss-local\" does not exist", &r);
    ck_assert_ptr_nonnull(strstr(r.err, "only while its issuers table is empty"));
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT (SELECT count(*) FROM agents) + (SELECT count(*) "
                       "FROM teams) + (SELECT count(*) FROM issuers)"),
                     0);
    /* --issuer-id names an existing one */
    x(&cluster, db, "INSERT INTO issuers (id, name, type) VALUES ('iss-other', 'o', 'GenericCA')");
    const char *other[] = {"--db", url,           "--agents",  "3",  "--certs",
                           "4",    "--issuer-id", "iss-other", "-q", NULL};
    seed_ok(other, NULL, &r);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates WHERE issuer_id = "
                       "'iss-other'"),
                     4);
}
END_TEST

START_TEST(test_failure_leaves_nothing)
{
    char db[32], url[256];
    fresh_db_url(&cluster, db, true, url, sizeof url);
    /* a foreign row already holds the name certificate 3 needs: the insert of certificates
     * fails after agents and targets were inserted in the same transaction */
    x(&cluster, db,
      "INSERT INTO teams (id, name) VALUES ('t-x', 'x'); INSERT INTO owners (id, "
      "name, email, team_id) VALUES ('o-x', 'x', 'x', 't-x'); INSERT INTO "
      "renewal_policies (id, name, renewal_window_days) VALUES ('rp-x', 'x', 30); "
      "INSERT INTO managed_certificates (id, name, common_name, owner_id, team_id, "
      "issuer_id, renewal_policy_id) VALUES ('mc-foreign-1', 'loadtest-bulk-00003', "
      "'c', 'o-x', 't-x', 'iss-local', 'rp-x')");
    int64_t before = fleet_digest(&cluster, db);
    const char *args[] = {"--db", url, "--agents", "10", "--certs", "10", NULL};
    struct outcome r;
    seed_fails(args, NULL, 1, "managed_certificates", &r);
    ck_assert_int_eq(fleet_digest(&cluster, db), before);
    ck_assert_int_eq(q(&cluster, db, "SELECT count(*) FROM agents"), 0);

    /* a user without privileges gets one line and changes nothing */
    x(&cluster, db,
      "DELETE FROM managed_certificates; CREATE ROLE seedreader LOGIN; "
      "GRANT SELECT ON ALL TABLES IN SCHEMA public TO seedreader");
    char ro[256];
    snprintf(ro, sizeof ro, "host=127.0.0.1 port=%u user=seedreader dbname=%s",
             (unsigned)cluster.port, db);
    before = fleet_digest(&cluster, db);
    const char *ro_args[] = {"--db", ro, NULL};
    seed_fails(ro_args, NULL, 1, "permission denied", &r);
    ck_assert_ptr_nonnull(strstr(r.err, "INSERT on agents"));
    ck_assert_int_eq(fleet_digest(&cluster, db), before);
}
END_TEST

START_TEST(test_wrong_password)
{
    char db[32], url[256];
    fresh_db_url(&scram, db, true, url, sizeof url);
    const char *args[] = {"--db", url, "--agents", "5", "--certs", "5", NULL};
    struct outcome r;
    seed_fails(args, WRONG_PASSWORD, 1, "password authentication failed", &r);
    ck_assert_ptr_null(strstr(r.err, WRONG_PASSWORD));
    ck_assert_ptr_null(strstr(r.out, WRONG_PASSWORD));
    ck_assert_int_eq(q(&scram, db, "SELECT count(*) FROM agents"), 0);

    /* the password inside the URL is never echoed either */
    char inurl[256];
    snprintf(inurl, sizeof inurl, "postgresql://postgres:%s@127.0.0.1:%u/%s", WRONG_PASSWORD,
             (unsigned)scram.port, db);
    const char *args2[] = {"--db", inurl, NULL};
    seed_fails(args2, NULL, 1, "password authentication failed", &r);
    ck_assert_ptr_null(strstr(r.err, WRONG_PASSWORD));

    /* no password at all */
    seed_fails(args, NULL, 1, "cannot connect to the database", &r);

    /* the right one works, and is not printed */
    seed_ok(args, SCRAM_PASSWORD, &r);
    ck_assert_ptr_null(strstr(r.out, SCRAM_PASSWORD));
    ck_assert_int_eq(q(&scram, db, "SELECT count(*) FROM agents"), 5);
}
END_TEST

START_TEST(test_seed_run_api)
{
    /* the library entry point the target's PostgreSQL store uses */
    char db[32], ci[512], err[512];
    fresh_db(&cluster, db, true);
    ck_assert(pgtmp_conninfo_db(&cluster, db, ci, sizeof ci) > 0);
    PGconn *conn = seed_connect(ci, err, sizeof err);
    ck_assert_msg(conn != NULL, "%s", err);
    struct seed_options o;
    seed_options_default(&o);
    o.agents = 7;
    o.certs = 9;
    o.prefix = "apitest";
    o.expiry_from_s = 0;
    o.expiry_to_s = 30 * 86400;
    struct seed_result res;
    ck_assert_int_eq(seed_run(conn, &o, &res, err, sizeof err), 0);
    ck_assert_int_eq(res.created[SEED_T_AGENTS], 7);
    ck_assert_int_eq(res.created[SEED_T_MAPPINGS], 9);
    ck_assert_int_eq(seed_run(conn, &o, &res, err, sizeof err), 0);
    ck_assert_int_eq(res.created[SEED_T_AGENTS], 0);
    ck_assert_int_eq(res.present[SEED_T_CERTS], 9);
    ck_assert_int_eq(q(&cluster, db,
                       "SELECT count(*) FROM managed_certificates WHERE expires_at "
                       "<= created_at + interval '30 days' AND id ~ "
                       "'^mc-apitest-[0-9]+$'"),
                     9);
    o.prefix = "bad'prefix";
    ck_assert_int_eq(seed_run(conn, &o, &res, err, sizeof err), -EINVAL);
    o.prefix = "apitest";
    o.action = SEED_ACTION_CLEAN;
    ck_assert_int_eq(seed_run(conn, &o, &res, err, sizeof err), 0);
    ck_assert_int_eq(res.removed[SEED_T_AGENTS], 7);
    ck_assert_int_eq(res.removed[SEED_T_TEAMS], 1);
    PQfinish(conn);
    /* deterministic helpers */
    o.expiry_from_s = 100;
    o.expiry_to_s = 100;
    ck_assert_uint_eq(seed_cert_expiry_offset_s(&o, 3), 100);
    o.agents = 4;
    ck_assert_uint_eq(seed_agent_heartbeat_age_ms(&o, 1), 0);
    ck_assert_uint_eq(seed_agent_heartbeat_age_ms(&o, 3), 30000);
    char shown[256];
    ck_assert_int_eq(
        seed_redact_db("postgresql://u:s3cret@db.example.test:5433/c", shown, sizeof shown), 0);
    ck_assert_str_eq(shown, "postgresql://u@db.example.test:5433/c");
    ck_assert_int_eq(
        seed_redact_db("host=h port=1 user=u password=s3cret dbname=d", shown, sizeof shown), 0);
    ck_assert_ptr_null(strstr(shown, "s3cret"));
}
END_TEST

static Suite *seed_suite(void)
{
    Suite *s = suite_create("seed");
    TCase *tc = testenv_tcase(s, "trust", 0);
    tcase_add_unchecked_fixture(tc, start_trust, stop_trust);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_seed_counts_and_rerun);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_clean_spares_other_rows);
    tcase_add_test(tc, test_bad_options);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_password_hidden);
    tcase_add_test(tc, test_missing_table);
    tcase_add_test(tc, test_missing_issuer);
    tcase_add_test(tc, test_failure_leaves_nothing);
    tcase_add_test(tc, test_seed_run_api);
    TCase *auth = testenv_tcase(s, "scram", 0);
    tcase_add_unchecked_fixture(auth, start_scram, stop_scram);
    tcase_set_timeout(auth, 120);
    tcase_add_test(auth, test_wrong_password);
    return s;
}

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    return testenv_run(seed_suite());
}
