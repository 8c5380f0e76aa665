/* tests/integration/check_fleet_retire.c - "agents retired mid-run stop exactly then",
 * polls included: the real fleetsim binary (heartbeat and poll every 500 ms) against
 * fleetsim-target as its own process; every agent of the fleet is retired through the API in the
 * middle of the run, and once the target has answered each agent's heartbeat with its 410 it
 * receives nothing more from the fleet - no heartbeat, no poll, no job request - while fleetsim,
 * which keeps running to its end, counted exactly one 410 per agent and as many requests as the
 * target saw. Skipped (77) with FLEETSIM_UNIT_ONLY=1. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "sim/identity.h"
#include "tests/integration/refserver_client.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define API_KEY "retire-test-key"
#define AGENTS 10u
#define RUN_LIMIT_MS 60000u
#define RUNNING_BEFORE_RETIRE_US 1500000 /* let the agents beat and poll a few times */
/* Each agent has one connection and one request in flight at most: once the target has answered
 * every agent's heartbeat with 410, anything more it receives from the fleet was sent after an
 * agent's 410. The 410s come within one heartbeat (500 ms +/- 10 %); wait at most this long. */
#define ALL_410_WAIT_MS 10000
#define STATS_POLL_US 20000
#define TEST_TIMEOUT_S 60

static const char *const agent_endpoints[] = {"heartbeat",  "work",       "csr",
                                              "job_status", "cert_fetch", NULL};

/* Requests the target answered for endpoint, over every status (a transport-level drop would be
 * status 0, also counted). */
static int64_t endpoint_total(json_object *st, const char *endpoint)
{
    json_object *ep = tc_member(tc_member(st, "requests"), endpoint);
    int64_t n = 0;
    if (ep) {
        json_object_object_foreach(ep, status, v)
        {
            (void)status;
            n += json_object_get_int64(v);
        }
    }
    return n;
}

static int64_t fleet_total(json_object *st)
{
    int64_t n = 0;
    for (size_t i = 0; agent_endpoints[i]; i++)
        n += endpoint_total(st, agent_endpoints[i]);
    return n;
}

/* fleetsim's http_reqs for endpoint (status given: only that status; NULL: all). */
static int64_t fleet_counted(json_object *sum, const char *endpoint, const char *status)
{
    json_object *arr = tc_member(sum, "counters");
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        json_object *c = json_object_array_get_idx(arr, i), *tags = tc_member(c, "tags");
        json_object *ep = tc_member(tags, "endpoint"), *st = tc_member(tags, "status");
        if (strcmp(json_object_get_string(tc_member(c, "metric")), "http_reqs") != 0 || !ep ||
            strcmp(json_object_get_string(ep), endpoint) != 0)
            continue;
        if ((status && st && strcmp(json_object_get_string(st), status) == 0) || (!status && !st))
            return json_object_get_int64(tc_member(c, "value"));
    }
    return 0;
}

START_TEST(t_retired_agents_stop_exactly_then)
{
    char n[16];
    snprintf(n, sizeof n, "%u", AGENTS);
    const char *targs[] = {"--plain", "--rate-limit", "off", "--api-key", API_KEY, "--seed-agents",
                           n,         "-q",           NULL};
    struct procs_target t;
    ck_assert_msg(procs_target_start(&t, targs) == 0, "fleetsim-target did not start: %s",
                  testenv_slurp(t.log));
    char out[128], sum[128];
    snprintf(out, sizeof out, "/tmp/check_fleet_retire_all.%d.out", (int)getpid());
    snprintf(sum, sizeof sum, "/tmp/check_fleet_retire_all.%d.json", (int)getpid());
    unlink(sum);
    const char *args[] = {"--url",
                          t.url,
                          "--agents",
                          n,
                          "--heartbeat",
                          "500ms",
                          "--poll",
                          "500ms",
                          "--duration",
                          "5s",
                          "--seed",
                          "5",
                          "--report-interval",
                          "0",
                          "--summary-json",
                          sum,
                          NULL};
    const char *env[] = {"CERTCTL_API_KEY=" API_KEY, "CERTCTL_SERVER_URL", NULL};
    pid_t pid = procs_start("fleetsim", args, env, out);
    ck_assert_int_gt(pid, 0);

    usleep(RUNNING_BEFORE_RETIRE_US);
    struct tc *c = tc_new(t.port, false, NULL);
    ck_assert_ptr_nonnull(c);
    for (unsigned i = 1; i <= AGENTS; i++) {
        char id[IDENTITY_NAME_MAX], path[256];
        identity_agent_id(id, sizeof id, IDENTITY_DEFAULT_PREFIX, i);
        snprintf(path, sizeof path, "/api/v1/agents/%s?force=true&reason=test", id);
        struct tc_resp r;
        tc_request(c, "DELETE", path, API_KEY, NULL, NULL, &r);
        ck_assert_msg(r.error == HTTP_ERR_NONE && r.status == 200, "retire %s: %d", id, r.status);
        tc_resp_free(&r);
    }
    json_object *settled = NULL;
    for (unsigned waited = 0; waited * (STATS_POLL_US / 1000) < ALL_410_WAIT_MS; waited++) {
        settled = tc_stats(c);
        if (json_object_get_int64(
                tc_member(tc_member(tc_member(settled, "requests"), "heartbeat"), "410")) >= AGENTS)
            break;
        json_object_put(settled);
        settled = NULL;
        usleep(STATS_POLL_US);
    }
    ck_assert_msg(settled != NULL, "the agents' heartbeats were not all answered 410");
    /* the run goes on for a few seconds more: the window in which nothing may arrive */
    ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "fleetsim ended before the check");
    int rc = procs_wait(pid, RUN_LIMIT_MS);
    json_object *end = tc_stats(c);
    tc_free(c);
    char *text = testenv_slurp(out);
    json_object *summary = json_object_from_file(sum);
    unlink(out);
    unlink(sum);
    ck_assert_int_eq(procs_target_stop(&t, SIGTERM), 0);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, testenv_tail(text));
    ck_assert_ptr_nonnull(summary);

    /* the agents did beat and poll before their retirement */
    ck_assert_int_ge(endpoint_total(settled, "heartbeat"), 2 * AGENTS);
    ck_assert_int_ge(endpoint_total(settled, "work"), AGENTS);
    /* exactly one 410 each, all of them before the settled snapshot */
    ck_assert_int_eq(json_object_get_int64(
                         tc_member(tc_member(tc_member(settled, "requests"), "heartbeat"), "410")),
                     AGENTS);
    ck_assert_int_eq(json_object_get_int64(tc_member(tc_member(settled, "agents"), "retired")),
                     AGENTS);
    /* and nothing at all after it: not a heartbeat, not a poll, not a job request */
    for (size_t i = 0; agent_endpoints[i]; i++)
        ck_assert_msg(endpoint_total(end, agent_endpoints[i]) ==
                          endpoint_total(settled, agent_endpoints[i]),
                      "%s: %lld requests after the agents were retired", agent_endpoints[i],
                      (long long)(endpoint_total(end, agent_endpoints[i]) -
                                  endpoint_total(settled, agent_endpoints[i])));
    /* fleetsim's own count agrees with what the target saw (the pre-flight beat aside) */
    ck_assert_int_eq(fleet_counted(summary, "heartbeat", "410"), AGENTS);
    ck_assert_int_eq(fleet_counted(summary, "heartbeat", NULL),
                     endpoint_total(end, "heartbeat") - 1);
    ck_assert_int_eq(fleet_counted(summary, "work", NULL), endpoint_total(end, "work"));
    ck_assert_int_eq(fleet_total(end) - 1, json_object_get_int64(tc_member(
                                               tc_member(summary, "accounting"), "answered")));
    char line[96];
    snprintf(line, sizeof line, "%u agents were retired by the server (410)", AGENTS);
    ck_assert_msg(strstr(text, line) != NULL, "no retirement line in: %s", testenv_tail(text));
    free(text);
    json_object_put(settled);
    json_object_put(end);
    json_object_put(summary);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("fleet_retire");
    TCase *tc = testenv_tcase(s, "fleet_retire", TEST_TIMEOUT_S);
    tcase_add_test(tc, t_retired_agents_stop_exactly_then);
    return testenv_run(s);
}
