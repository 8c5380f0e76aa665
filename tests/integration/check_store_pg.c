/* tests/integration/check_store_pg.c - the store's shared behavioural cases on the PostgreSQL
 * backend: a throwaway cluster (tests/lib/pg.h), a fresh database with seed/schema.sql per
 * test, plus checks that the rows land in certctl's tables as certctl would write them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/pg.h"
#include "tests/lib/testenv.h"
#include "tests/lib/store_cases.h"

static struct pgtmp cluster;
static int db_counter;
static char current_db[64];

static void start_cluster(void)
{
    char err[512];
    if (pgtmp_start(&cluster, err, sizeof(err)) != 0) {
        fprintf(stderr, "check_store_pg: %s\n", err);
        exit(1);
    }
}

static void stop_cluster(void)
{
    pgtmp_stop(&cluster);
}

static struct store *open_pg(struct store_config *cfg)
{
    char err[512], conninfo[PGTMP_CONNINFO_MAX];
    snprintf(current_db, sizeof(current_db), "store_%d_%d", (int)getpid(), ++db_counter);
    ck_assert_msg(pgtmp_create_db(&cluster, current_db, true, err, sizeof(err)) == 0, "%s", err);
    ck_assert(pgtmp_conninfo_db(&cluster, current_db, conninfo, sizeof(conninfo)) > 0);
    cfg->db_url = conninfo;
    struct store *s = store_new(cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(store_backend_name(s), "postgresql");
    return s;
}

static int64_t q(const char *sql)
{
    char err[512];
    int64_t v = -1;
    ck_assert_msg(pgtmp_query_i64(&cluster, current_db, sql, &v, err, sizeof(err)) >= 0, "%s: %s",
                  sql, err);
    return v;
}

/* The heartbeat is a real UPDATE of certctl's agents row; retirement blocks it. */
START_TEST(rows_as_certctl_writes_them)
{
    struct store_config cfg;
    store_config_init(&cfg);
    struct store *s = open_pg(&cfg);
    ck_assert_int_eq(q("SELECT count(*) FROM issuers WHERE id = 'iss-local'"), 1);
    struct store_agent_meta m = {.hostname = "h1", .os = "linux"};
    json_object *a = NULL;
    ck_assert_int_eq(store_agent_register(s, "pg-agent", &m, &a), STORE_OK);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM agents WHERE id = '%s' AND status = 'Online' "
             "AND last_heartbeat_at IS NULL",
             json_object_get_string(json_object_object_get(a, "id")));
    ck_assert_int_eq(q(sql), 1);
    struct store_agent_meta hb = {.os = "darwin", .architecture = "arm64"};
    ck_assert_int_eq(
        store_agent_heartbeat(s, json_object_get_string(json_object_object_get(a, "id")), &hb),
        STORE_OK);
    ck_assert_int_eq(q("SELECT count(*) FROM agents WHERE last_heartbeat_at IS NOT NULL AND "
                       "os = 'darwin' AND architecture = 'arm64' AND hostname = 'h1'"),
                     1);
    json_object_put(a);

    struct store_seed_config sc = {.agents = 2, .certs = 4, .run_seed = 1};
    char err[256];
    ck_assert_int_eq(store_seed_fleet(s, &sc, err, sizeof(err)), STORE_OK);
    ck_assert_int_eq(q("SELECT count(*) FROM certificate_target_mappings"), 4);
    struct store_bulk_criteria c = {.owner_id = "o-loadtest"};
    json_object *r = NULL;
    ck_assert_int_eq(store_bulk_renew(s, &c, &r), STORE_OK);
    json_object_put(r);
    ck_assert_int_eq(q("SELECT count(*) FROM jobs WHERE status = 'AwaitingCSR' AND type = "
                       "'Renewal' AND max_attempts = 3 AND agent_id IS NULL"),
                     4);
    ck_assert_int_eq(q("SELECT count(*) FROM managed_certificates WHERE status = "
                       "'RenewalInProgress'"),
                     4);
    store_free(s);
}
END_TEST

START_TEST(missing_tables_is_one_clear_error)
{
    char err[512], conninfo[PGTMP_CONNINFO_MAX];
    snprintf(current_db, sizeof(current_db), "bare_%d", (int)getpid());
    ck_assert_msg(pgtmp_create_db(&cluster, current_db, false, err, sizeof(err)) == 0, "%s", err);
    ck_assert(pgtmp_conninfo_db(&cluster, current_db, conninfo, sizeof(conninfo)) > 0);
    struct store_config cfg;
    store_config_init(&cfg);
    cfg.db_url = conninfo;
    ck_assert_ptr_null(store_new(&cfg, err, sizeof(err)));
    ck_assert_msg(strstr(err, "certctl's tables") != NULL, "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

static const struct store_backend pg_backend = {.name = "postgresql", .open = open_pg};

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    Suite *s = suite_create("store_pg");
    store_cases_add(s, &pg_backend, 60);
    TCase *tc = testenv_tcase(s, "postgresql_only", 60);
    tcase_add_test(tc, rows_as_certctl_writes_them);
    tcase_add_test(tc, missing_tables_is_one_clear_error);
    /* One cluster for the whole program: started before the (forked) tests, stopped after. */
    start_cluster();
    int rc = testenv_run(s);
    stop_cluster();
    return rc;
}
