/* tests/integration/check_verdicts.c - whom a run blames, judged through fleetsim's own
 * accounting (so it holds on a machine whose cores are busy): the real fleetsim against
 * fleetsim-target in its own process with --fault. A stalled endpoint leaves requests unanswered:
 * they fail http_req_failed, the run exits 99 and the verdict is server_slow; slow polls that
 * hold heartbeats back are server_slow (the wait is the server's, not fleetsim's lag); a fleetsim
 * starved of CPU (pinned to one core beside busy loops) is client_saturated, result invalid, exit
 * 98; an honest run against a healthy target passes. Every summary's accounting identity holds.
 * Pre-flight names the first missing agent of a fleet larger than the server's, and the 429
 * hint names the knob of the server that answered.
 * Skipped (77) when FLEETSIM_UNIT_ONLY=1. */
#include <check.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tests/lib/procs.h"
#include "tests/lib/summary_check.h"
#include "tests/lib/testenv.h"

#define API_KEY "verdict-test-key"
#define RUN_TIMEOUT_MS 120000u
#define SPINNERS 8

static const char *const fleet_env[] = {"CERTCTL_API_KEY=" API_KEY, "CERTCTL_SERVER_URL", NULL};

struct run {
    int rc;
    char *out;
    json_object *sum;
};

/* A series entry's statistic (ms), e.g. p99 of http_req_wait for the heartbeat series. */
static double series_stat(json_object *sum, const char *metric, const char *endpoint,
                          const char *stat)
{
    json_object *arr = tsum_member(sum, "series");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        json_object *tags = tsum_member(e, "tags"), *ep = NULL;
        if (strcmp(json_object_get_string(tsum_member(e, "metric")), metric) == 0 &&
            json_object_object_get_ex(tags, "endpoint", &ep) &&
            strcmp(json_object_get_string(ep), endpoint) == 0)
            return json_object_get_double(tsum_member(e, stat));
    }
    ck_abort_msg("no %s series for %s", metric, endpoint);
    return 0;
}

static const char *verdict(json_object *sum)
{
    return json_object_get_string(tsum_member(tsum_member(sum, "result"), "verdict"));
}

/* Runs fleetsim against url with args, the summary JSON read back; cpu >= 0 pins it (and every
 * thread it starts) to that CPU. */
static void fleetsim(struct run *r, const char *url, const char *const *args, int cpu)
{
    char sum[96], out[96];
    snprintf(sum, sizeof sum, "/tmp/check_verdicts.%d.json", (int)getpid());
    snprintf(out, sizeof out, "/tmp/check_verdicts.%d.out", (int)getpid());
    unlink(sum);
    const char *argv[PROCS_MAX_ARGS + 1] = {"--url", url, "--summary-json", sum, "--seed", "77"};
    int n = 6;
    for (int i = 0; args[i] && n < PROCS_MAX_ARGS; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = procs_start("fleetsim", argv, fleet_env, out);
    ck_assert_int_gt(pid, 0);
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        ck_assert_int_eq(sched_setaffinity(pid, sizeof set, &set), 0);
    }
    r->rc = procs_wait(pid, RUN_TIMEOUT_MS);
    r->out = testenv_slurp(out);
    r->sum = json_object_from_file(sum);
    unlink(out);
    unlink(sum);
    ck_assert_msg(r->sum != NULL, "no summary; exit %d: %s", r->rc, testenv_tail(r->out));
    tsum_ck_balanced(r->sum);
}

/* fleetsim with agents whose heartbeat and poll come every period (poll "0": none) from a
 * ramp of one period, for duration, no progress lines, then more (NULL-terminated). */
static void fleet_run(struct run *r, const char *url, const char *agents, const char *period,
                      const char *poll, const char *duration, const char *const *more, int cpu)
{
    const char *args[PROCS_MAX_ARGS + 1] = {
        "--agents",   agents,   "--heartbeat",       period, "--poll", poll, "--ramp", period,
        "--duration", duration, "--report-interval", "0"};
    int n = 12;
    for (int i = 0; more[i] && n < PROCS_MAX_ARGS; i++)
        args[n++] = more[i];
    args[n] = NULL;
    fleetsim(r, url, args, cpu);
}

static void run_free(struct run *r)
{
    free(r->out);
    json_object_put(r->sum);
}

/* fleetsim-target with agents seeded and one --fault (NULL: none). */
static void target_up_with(struct procs_target *t, const char *agents, const char *fault)
{
    const char *args[] = {"--plain", "--rate-limit", "off", "--seed-agents", agents, "--api-key",
                          API_KEY,   fault,          NULL};
    ck_assert_int_eq(procs_target_start(t, args), 0);
}

static void target_up(struct procs_target *t, const char *fault)
{
    target_up_with(t, "100", fault);
}

/* Polls stalled for a minute: the heartbeats queued behind them and the polls themselves are
 * unanswered at the end, they fail http_req_failed, exit 99, the server is blamed. */
START_TEST(test_stalled_endpoint_is_server_slow)
{
    struct procs_target t;
    target_up(&t, "--fault=work:stall=60s");
    const char *more[] = {"--grace", "1s", "--threshold", "http_req_failed:rate<0.01", NULL};
    struct run r;
    fleet_run(&r, t.url, "40", "500ms", "500ms", "5s", more, -1);
    procs_target_stop(&t, SIGTERM);
    ck_assert_msg(r.rc == 99, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_str_eq(verdict(r.sum), "server_slow");
    ck_assert_int_gt(tsum_acct(r.sum, "unanswered"), 0);
    ck_assert_int_eq(tsum_acct(r.sum, "in_flight"), 0);
    ck_assert_ptr_nonnull(strstr(r.out, "✗ http_req_failed:rate<0.01"));
    ck_assert_ptr_nonnull(strstr(r.out, "verdict: server_slow"));
    /* each unanswered request counts at least the time it waited: over a second here */
    ck_assert(series_stat(r.sum, "http_req_duration", "work", "max") > 1000.0);
    run_free(&r);
}
END_TEST

/* Polls answered after 3 s hold the heartbeats of the same agent back: that wait is the
 * server's (http_req_wait), not fleetsim's lag, and the verdict says so. */
START_TEST(test_slow_polls_are_server_slow)
{
    struct procs_target t;
    target_up(&t, "--fault=work:latency=3s");
    const char *more[] = {"--grace", "5s", NULL};
    struct run r;
    fleet_run(&r, t.url, "30", "500ms", "500ms", "6s", more, -1);
    procs_target_stop(&t, SIGTERM);
    ck_assert_str_eq(verdict(r.sum), "server_slow");
    double wait = series_stat(r.sum, "http_req_wait", "heartbeat", "p99");
    double lag = series_stat(r.sum, "http_req_lag", "heartbeat", "p99");
    ck_assert_msg(wait > 1000.0, "heartbeat wait p99 %.3f ms", wait);
    ck_assert_msg(lag < wait, "heartbeat lag p99 %.3f ms >= wait p99 %.3f ms", lag, wait);
    ck_assert_int_gt(tsum_acct(r.sum, "dropped"), 0); /* ticks that never became requests */
    run_free(&r);
}
END_TEST

/* Busy loops pinned to the CPU fleetsim is pinned to: fleetsim wants the CPU and waits for it,
 * its own lag grows; client_saturated, result invalid, exit 98, never a pass. */
START_TEST(test_starved_fleetsim_is_client_saturated)
{
    struct procs_target t;
    target_up_with(&t, "2000", NULL);
    pid_t spin[SPINNERS];
    for (int i = 0; i < SPINNERS; i++) {
        spin[i] = fork();
        ck_assert_int_ge(spin[i], 0);
        if (spin[i] == 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(0, &set);
            sched_setaffinity(0, sizeof set, &set);
            alarm(120); /* bounded, even if the test dies */
            for (;;) {
            }
        }
    }
    const char *more[] = {
        "--threads", "1", "--grace", "1s", "--threshold", "http_req_failed:rate<1", NULL};
    struct run r;
    fleet_run(&r, t.url, "2000", "200ms", "0", "6s", more, 0);
    for (int i = 0; i < SPINNERS; i++) {
        kill(spin[i], SIGKILL);
        waitpid(spin[i], NULL, 0);
    }
    procs_target_stop(&t, SIGTERM);
    json_object *res = tsum_member(r.sum, "result");
    double wanted = json_object_get_double(tsum_member(tsum_member(res, "loop_cpu"), "wanted"));
    double lag = 0;
    json_object *arr = tsum_member(r.sum, "series");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        if (strcmp(json_object_get_string(tsum_member(e, "metric")), "http_req_lag") == 0 &&
            json_object_get_double(tsum_member(e, "p99")) > lag)
            lag = json_object_get_double(tsum_member(e, "p99"));
    }
    /* fleetsim's own figures show the starvation ... */
    ck_assert_msg(lag > 50.0 && wanted >= 0.5, "lag p99 %.3f ms, wanted %.3f: %s", lag, wanted,
                  r.out);
    /* ... and the verdict follows them */
    ck_assert_str_eq(verdict(r.sum), "client_saturated");
    ck_assert_str_eq(json_object_get_string(tsum_member(res, "status")), "invalid");
    ck_assert_msg(r.rc == 98, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_ptr_nonnull(strstr(r.out, "use more --threads"));
    run_free(&r);
}
END_TEST

/* A healthy target, a small fleet, the release-gate thresholds: it passes. */
START_TEST(test_healthy_run_passes)
{
    struct procs_target t;
    target_up(&t, NULL);
    const char *more[] = {"--threshold", "http_req_failed:rate<0.01", "--threshold",
                          "unserved_requests:rate<0.01", NULL};
    struct run r;
    fleet_run(&r, t.url, "30", "1s", "1s", "5s", more, -1);
    procs_target_stop(&t, SIGTERM);
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_str_eq(verdict(r.sum), "kept_up");
    ck_assert_str_eq(json_object_get_string(tsum_member(tsum_member(r.sum, "result"), "status")),
                     "passed");
    ck_assert_int_eq(tsum_acct(r.sum, "unanswered"), 0);
    ck_assert_int_eq(tsum_acct(r.sum, "dropped"), 0);
    run_free(&r);
}
END_TEST

/* 6,000 agents against the 5,000 the server has: pre-flight samples the whole fleet, exits 1
 * before any load and names the first missing agent (and the last one that exists). */
START_TEST(test_preflight_names_first_missing_agent)
{
    struct procs_target t;
    target_up_with(&t, "5000", NULL);
    const char *args[] = {"--url",      t.url, "--agents", "6000", "--conn", "pool:8",
                          "--duration", "5s",  "--seed",   "77",   NULL};
    struct procs_output *o = calloc(1, sizeof *o);
    setenv("CERTCTL_API_KEY", API_KEY, 1);
    ck_assert(procs_exec("fleetsim", args, RUN_TIMEOUT_MS, o));
    procs_target_stop(&t, SIGTERM);
    ck_assert_msg(o->status == 1, "exit %d: %s", o->status, o->errb);
    ck_assert_ptr_nonnull(strstr(o->errb, "agent ag-loadtest-05001 does not exist in the server "
                                          "(the first missing one found; ag-loadtest-05000 "
                                          "exists)"));
    ck_assert_ptr_null(strstr(o->out, "accounting:")); /* no load */
    free(o);
}
END_TEST

/* fleetsim-target's limiter at 5/s under 20 agents every 200 ms: most answers are 429, and the
 * hint names the target's own knob (it identifies itself in /api/v1/version), not certctl's. */
START_TEST(test_429_hint_names_the_servers_knob)
{
    struct procs_target t;
    const char *targs[] = {"--plain", "--rate-limit", "5/s",   "--seed-agents",
                           "20",      "--api-key",    API_KEY, NULL};
    ck_assert_int_eq(procs_target_start(&t, targs), 0);
    const char *more[] = {NULL};
    struct run r;
    fleet_run(&r, t.url, "20", "200ms", "0", "3s", more, -1);
    procs_target_stop(&t, SIGTERM);
    ck_assert_ptr_nonnull(strstr(r.out, "the server is fleetsim-target"));
    ck_assert_ptr_nonnull(strstr(r.out, "--rate-limit off"));
    ck_assert_ptr_null(strstr(r.out, "CERTCTL_RATE_LIMIT_ENABLED"));
    run_free(&r);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("verdicts");
    TCase *tc = testenv_tcase(s, "verdicts", 240);
    tcase_add_test(tc, test_stalled_endpoint_is_server_slow);
    tcase_add_test(tc, test_slow_polls_are_server_slow);
    tcase_add_test(tc, test_starved_fleetsim_is_client_saturated);
    tcase_add_test(tc, test_healthy_run_passes);
    tcase_add_test(tc, test_preflight_names_first_missing_agent);
    tcase_add_test(tc, test_429_hint_names_the_servers_knob);
    return testenv_run(s);
}
