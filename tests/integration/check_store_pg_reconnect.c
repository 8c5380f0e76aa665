/* tests/integration/check_store_pg_reconnect.c - fleetsim-target --db outlives PostgreSQL
 * restarts, as certctl's pool does: a backend terminated under it is reconnected at the next
 * request (answered 200); with the server stopped, requests are answered 503 and /ready says
 * db_unavailable (503), never a 500 that lasts; once the server is back the target reconnects
 * by itself (within its back-off) and requests and /ready are 200 again. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/refserver_client.h"
#include "tests/lib/pg.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define API_KEY "reconnect-test-key"
/* Polls for the recovery: the back-off is at most 5 s between attempts; 300 x 100 ms leaves
 * room for a busy machine. */
#define RECOVERY_POLLS 300
#define POLL_US 100000

static struct pgtmp cluster;
static bool cluster_up;

/* Status of METHOD path over c (auth with the API key). */
static int status_of(struct tc *c, const char *path, char *body, size_t n)
{
    struct tc_resp r;
    tc_request(c, "GET", path, API_KEY, NULL, NULL, &r);
    int status = r.error == HTTP_ERR_NONE ? r.status : -1;
    if (body != NULL)
        snprintf(body, n, "%s", r.body ? r.body : "");
    tc_resp_free(&r);
    return status;
}

/* Polls path until it answers want (each other answer must be one of the allowed ones). */
static void wait_for(struct tc *c, const char *path, int want)
{
    char body[512];
    int status = -1;
    for (int i = 0; i < RECOVERY_POLLS && status != want; i++) {
        status = status_of(c, path, body, sizeof body);
        ck_assert_msg(status == want || status == 503, "%s answered %d while recovering: %s", path,
                      status, body);
        if (status != want)
            usleep(POLL_US);
    }
    ck_assert_msg(status == want, "%s still answers %d", path, status);
}

START_TEST(target_survives_postgresql_restarts)
{
    ck_assert_msg(cluster_up, "no PostgreSQL cluster");
    char err[512], db[64], url[PGTMP_CONNINFO_MAX], body[512];
    snprintf(db, sizeof db, "reconnect_%d", (int)getpid());
    ck_assert_msg(pgtmp_create_db(&cluster, db, true, err, sizeof err) == 0, "%s", err);
    ck_assert(pgtmp_url_db(&cluster, db, url, sizeof url) > 0);
    struct procs_target t;
    const char *args[] = {"--db",  url,  "--plain", "--rate-limit", "off", "--api-key",
                          API_KEY, "-q", NULL};
    ck_assert_msg(procs_target_start(&t, args) == 0, "fleetsim-target --db did not start: %s",
                  testenv_slurp(t.log));
    struct tc *c = tc_new(t.port, false, NULL);
    ck_assert_int_eq(status_of(c, "/api/v1/certificates", NULL, 0), 200);
    ck_assert_int_eq(status_of(c, "/ready", NULL, 0), 200);

    /* its backend terminated: the next request reconnects and succeeds */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND "
             "pid <> pg_backend_pid()",
             db);
    ck_assert_msg(pgtmp_exec(&cluster, "postgres", sql, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(status_of(c, "/api/v1/certificates", body, sizeof body), 200);

    /* the server stopped: 503 and /ready db_unavailable, not 500 */
    ck_assert_msg(pgtmp_pause(&cluster, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(status_of(c, "/api/v1/certificates", body, sizeof body), 503);
    ck_assert_int_eq(status_of(c, "/ready", body, sizeof body), 503);
    ck_assert_msg(strstr(body, "\"status\":\"db_unavailable\"") != NULL, "%s", body);
    ck_assert_int_eq(status_of(c, "/health", NULL, 0), 200); /* liveness is not the database */

    /* the server back: requests recover without restarting the target */
    ck_assert_msg(pgtmp_resume(&cluster, err, sizeof err) == 0, "%s", err);
    wait_for(c, "/api/v1/certificates", 200);
    ck_assert_int_eq(status_of(c, "/ready", body, sizeof body), 200);
    ck_assert_msg(strstr(body, "\"db\":\"reachable\"") != NULL, "%s", body);
    /* a second restart recovers the same way (the back-off was reset) */
    ck_assert_msg(pgtmp_pause(&cluster, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(status_of(c, "/api/v1/certificates", NULL, 0), 503);
    ck_assert_msg(pgtmp_resume(&cluster, err, sizeof err) == 0, "%s", err);
    wait_for(c, "/ready", 200);
    ck_assert_int_eq(status_of(c, "/api/v1/certificates", NULL, 0), 200);
    tc_free(c);
    ck_assert_int_eq(procs_target_stop(&t, SIGTERM), 0);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("store_pg_reconnect");
    TCase *tc = testenv_tcase(s, "restarts", 120);
    tcase_add_test(tc, target_survives_postgresql_restarts);
    return pgtmp_run_suite(s, &cluster, &cluster_up, "check_store_pg_reconnect");
}
