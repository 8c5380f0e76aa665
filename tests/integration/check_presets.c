/* tests/integration/check_presets.c - every scenario preset run through the real fleetsim binary,
 * scaled down with explicit options, against fleetsim-target started as its own process (plain,
 * limiter off, seeded with what the preset needs): the preset's thresholds (sim/preset.h's table,
 * also as --list-scenarios prints them) all appear in the summary JSON, with data behind them,
 * and decide the exit code: 0 on a healthy target; 99 when a fault injected into the target
 * breaks exactly the threshold it aims at (agent-storm: heartbeat errors fail http_req_failed,
 * heartbeat latency fails p(99)<1000; one fault per other preset). Skipped (77) with
 * FLEETSIM_UNIT_ONLY=1; smaller fleets under FLEETSIM_SANITIZED=1. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "sim/preset.h"
#include "tests/integration/refserver_client.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define API_KEY "presets-test-key"
#define RUN_LIMIT_MS 60000u
#define MAX_ARGS 48
#define TEST_TIMEOUT_S 120

static bool sanitized;

/* ---- one preset run ------------------------------------------------------------------------ */

struct run {
    int rc;
    char *out;            /* fleetsim's stdout + stderr */
    json_object *summary; /* --summary-json, NULL when none was written */
    json_object *stats;   /* the target's /_target/stats after the run */
};

static json_object *target_stats(const struct procs_target *t)
{
    struct tc *c = tc_new(t->port, false, NULL);
    ck_assert_ptr_nonnull(c);
    json_object *o = tc_stats(c);
    tc_free(c);
    return o;
}

/* Starts a target with target_args, runs fleetsim with --url, --summary-json and fleet_args
 * (both NULL-terminated), reads the target's stats and stops it. */
static void run_preset(struct run *r, const char *const *target_args, const char *const *fleet_args)
{
    memset(r, 0, sizeof *r);
    const char *targv[MAX_ARGS] = {"--plain", "--rate-limit", "off",  "--api-key",
                                   API_KEY,   "--seed",       "1234", "-q"};
    size_t n = 8;
    for (size_t i = 0; target_args[i] && n < MAX_ARGS - 1; i++)
        targv[n++] = target_args[i];
    targv[n] = NULL;
    struct procs_target t;
    ck_assert_msg(procs_target_start(&t, targv) == 0, "fleetsim-target did not start: %s",
                  testenv_slurp(t.log));

    char sum[128];
    snprintf(sum, sizeof sum, "/tmp/check_presets.%d.json", (int)getpid());
    unlink(sum);
    const char *argv[MAX_ARGS] = {"--url",   t.url, "--summary-json",    sum,
                                  "--seed",  "42",  "--report-interval", "0",
                                  "--grace", "3s"};
    n = 10;
    for (size_t i = 0; fleet_args[i] && n < MAX_ARGS - 1; i++)
        argv[n++] = fleet_args[i];
    argv[n] = NULL;
    const char *env[] = {"CERTCTL_API_KEY=" API_KEY, "CERTCTL_SERVER_URL", NULL};
    r->rc = procs_run("fleetsim", argv, env, RUN_LIMIT_MS, &r->out, NULL);
    r->summary = json_object_from_file(sum);
    unlink(sum);
    r->stats = target_stats(&t);
    ck_assert_int_eq(procs_target_stop(&t, SIGTERM), 0);
    ck_assert_msg(r->summary != NULL, "no summary JSON (exit %d): %s", r->rc, testenv_tail(r->out));
}

static void run_free(struct run *r)
{
    free(r->out);
    json_object_put(r->summary);
    json_object_put(r->stats);
}

static const char *member_str(json_object *o, const char *key)
{
    json_object *v = tc_member(o, key);
    return v ? json_object_get_string(v) : NULL;
}

/* stats.a.b.c as an integer, 0 when absent. */
static int64_t stat_get(json_object *o, const char *a, const char *b, const char *c)
{
    o = tc_member(tc_member(o, a), b);
    if (c)
        o = tc_member(o, c);
    return o ? json_object_get_int64(o) : 0;
}

/* The summary's threshold entry whose expr is expr, or NULL. */
static json_object *threshold(const struct run *r, const char *expr)
{
    json_object *arr = tc_member(r->summary, "thresholds");
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        json_object *t = json_object_array_get_idx(arr, i);
        if (strcmp(member_str(t, "expr"), expr) == 0)
            return t;
    }
    return NULL;
}

static bool threshold_ok(const struct run *r, const char *expr)
{
    json_object *t = threshold(r, expr);
    ck_assert_msg(t != NULL, "threshold %s missing from the summary", expr);
    return json_object_get_boolean(tc_member(t, "ok"));
}

static double threshold_observed(const struct run *r, const char *expr)
{
    json_object *t = threshold(r, expr);
    ck_assert_msg(t != NULL, "threshold %s missing from the summary", expr);
    json_object *v = tc_member(t, "observed");
    ck_assert_msg(
        v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)),
        "%s: observed is not a number", expr);
    return json_object_get_double(v);
}

/* Requests counted in the http_req_duration series of scenario (and endpoint, when given). */
static int64_t series_count(const struct run *r, const char *scenario, const char *endpoint)
{
    json_object *arr = tc_member(r->summary, "series");
    int64_t n = 0;
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        json_object *s = json_object_array_get_idx(arr, i), *tags = tc_member(s, "tags");
        if (strcmp(member_str(s, "metric"), "http_req_duration") != 0 ||
            strcmp(member_str(tags, "scenario"), scenario) != 0 ||
            (endpoint && strcmp(member_str(tags, "endpoint"), endpoint) != 0))
            continue;
        n += json_object_get_int64(tc_member(s, "count"));
    }
    return n;
}

/* Every threshold of preset p, and nothing else, is in the summary with a result and an
 * observed value, and there was traffic behind it (requests of its scenario and endpoint).
 * Returns the number of thresholds that failed. */
static size_t check_preset_thresholds(const struct run *r, const struct preset *p)
{
    size_t n = preset_threshold_count(p), failed = 0;
    ck_assert_uint_gt(n, 0);
    json_object *arr = tc_member(r->summary, "thresholds");
    ck_assert_ptr_nonnull(arr);
    ck_assert_uint_eq(json_object_array_length(arr), n);
    for (size_t i = 0; i < n; i++) {
        const char *expr = p->thresholds[i];
        json_object *t = threshold(r, expr);
        ck_assert_msg(t != NULL, "%s: threshold %s missing from the summary", p->name, expr);
        ck_assert(json_object_is_type(tc_member(t, "ok"), json_type_boolean));
        (void)threshold_observed(r, expr);
        failed += !threshold_ok(r, expr);
        const char *ep = strstr(expr, "endpoint:");
        char endpoint[64] = "";
        if (ep)
            snprintf(endpoint, sizeof endpoint, "%.*s", (int)strcspn(ep + 9, ",}"), ep + 9);
        ck_assert_msg(series_count(r, p->name, ep ? endpoint : NULL) > 0,
                      "%s: no requests behind %s", p->name, expr);
    }
    /* the text summary prints every threshold too */
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strstr(r->out, p->thresholds[i]) != NULL, "%s not printed", p->thresholds[i]);
    return failed;
}

/* The summary's config shows the explicit options over the preset's values. */
static void check_config(const struct run *r, const char *preset, int64_t agents,
                         int64_t duration_ms)
{
    json_object *cfg = tc_member(r->summary, "config");
    ck_assert_ptr_nonnull(cfg);
    json_object *sc = tc_member(cfg, "scenarios");
    ck_assert_uint_eq(json_object_array_length(sc), 1);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(sc, 0)), preset);
    ck_assert_int_eq(json_object_get_int64(tc_member(cfg, "agents")), agents);
    ck_assert_int_eq(json_object_get_int64(tc_member(cfg, "duration_ms")), duration_ms);
}

/* ---- the presets, scaled down ------------------------------------------------------------- */

static unsigned n_agents(void)
{
    return sanitized ? 50 : 200;
}

static unsigned n_certs(void)
{
    return 2 * n_agents();
}

/* Runs that must pass last 3 s; runs that a fault breaks need less to show it. */
#define DURATION "3s"
#define DURATION_MS 3000
#define FAULT_DURATION "2s"

struct preset_run {
    char agents[16], certs[16];
    const char *target[12];
    const char *fleet[MAX_ARGS];
};

/* Fills pr with the target seeding and the fleetsim options of preset name: agents (0 = the
 * default size) heartbeating every heartbeat (NULL = 1s), and one target fault when fault is
 * non-NULL. */
static void preset_args(struct preset_run *pr, const char *name, const char *fault,
                        unsigned agents_n, const char *heartbeat)
{
    memset(pr, 0, sizeof *pr);
    snprintf(pr->agents, sizeof pr->agents, "%u", agents_n ? agents_n : n_agents());
    snprintf(pr->certs, sizeof pr->certs, "%u", n_certs());
    size_t t = 0, f = 0;
    pr->fleet[f++] = "--scenario";
    pr->fleet[f++] = name;
    pr->fleet[f++] = "--duration";
    pr->fleet[f++] = fault ? FAULT_DURATION : DURATION;
    pr->fleet[f++] = "--timeout";
    pr->fleet[f++] = "5s";
    bool agents = strcmp(name, "acme-burst") != 0;
    bool certs = strcmp(name, "bulk-renewal") == 0 || strcmp(name, "fleet") == 0;
    if (agents) {
        pr->target[t++] = "--seed-agents";
        pr->target[t++] = pr->agents;
        pr->fleet[f++] = "--agents";
        pr->fleet[f++] = pr->agents;
        pr->fleet[f++] = "--heartbeat";
        pr->fleet[f++] = heartbeat ? heartbeat : "1s";
    }
    if (certs) {
        pr->target[t++] = "--seed-certs";
        pr->target[t++] = pr->certs;
        pr->fleet[f++] = "--certs";
        pr->fleet[f++] = pr->certs;
        pr->fleet[f++] = "--poll";
        pr->fleet[f++] = "1s";
    }
    if (strcmp(name, "acme-burst") == 0) {
        pr->fleet[f++] = "--acme-clients";
        pr->fleet[f++] = sanitized ? "5" : "20";
    }
    if (strcmp(name, "fleet") == 0) {
        pr->fleet[f++] = "--acme-clients";
        pr->fleet[f++] = "2";
    }
    if (fault) {
        pr->target[t++] = "--fault";
        pr->target[t++] = fault;
    }
    pr->target[t] = NULL;
    pr->fleet[f] = NULL;
}

/* A healthy target: every threshold of the preset passes, exit 0. */
static void preset_passes(const char *name)
{
    const struct preset *p = preset_find(name);
    ck_assert_ptr_nonnull(p);
    struct preset_run pr;
    preset_args(&pr, name, NULL, 0, NULL);
    struct run r;
    run_preset(&r, pr.target, pr.fleet);
    size_t failed = check_preset_thresholds(&r, p);
    ck_assert_msg(failed == 0 && r.rc == 0, "%s: %zu thresholds failed, exit %d: %s", name, failed,
                  r.rc, testenv_tail(r.out));
    ck_assert_ptr_nonnull(strstr(r.out, "thresholds: all "));
    bool agents = strcmp(name, "acme-burst") != 0;
    check_config(&r, name, agents ? n_agents() : 0, DURATION_MS);
    run_free(&r);
}

START_TEST(t_agent_storm_passes)
{
    preset_passes("agent-storm");
}
END_TEST

START_TEST(t_bulk_renewal_passes)
{
    preset_passes("bulk-renewal");
}
END_TEST

START_TEST(t_acme_burst_passes)
{
    preset_passes("acme-burst");
}
END_TEST

START_TEST(t_fleet_passes)
{
    preset_passes("fleet");
}
END_TEST

/* A faulty target: exactly the thresholds named in broken fail (NULL-terminated), exit 99.
 * agents_n and heartbeat as preset_args. */
static struct run preset_fails(const char *name, const char *fault, unsigned agents_n,
                               const char *heartbeat, const char *const *broken)
{
    const struct preset *p = preset_find(name);
    ck_assert_ptr_nonnull(p);
    struct preset_run pr;
    preset_args(&pr, name, fault, agents_n, heartbeat);
    struct run r;
    run_preset(&r, pr.target, pr.fleet);
    ck_assert_msg(r.rc == 99, "%s with %s: exit %d: %s", name, fault, r.rc, testenv_tail(r.out));
    size_t n_broken = 0;
    for (; broken[n_broken]; n_broken++)
        ck_assert_msg(!threshold_ok(&r, broken[n_broken]), "%s passed with %s", broken[n_broken],
                      fault);
    ck_assert_uint_eq(check_preset_thresholds(&r, p), n_broken);
    return r;
}

START_TEST(t_agent_storm_error_fault_exit_99)
{
    /* 5 % of heartbeats answered 500. The target's fault draws come from its --seed (1234) in
	 * request order, and the first heartbeat (fleetsim's pre-flight) draws a pass. */
    const char *failed = "http_req_failed{scenario:agent-storm}:rate<0.001";
    const char *broken[] = {failed, NULL};
    struct run r = preset_fails("agent-storm", "heartbeat:error=0.05", 0, NULL, broken);
    double observed = threshold_observed(&r, failed);
    /* fleetsim's failure rate is the target's share of 500s (its first, pre-flight, beat
	 * answered 200 is not part of the run) */
    int64_t e500 = stat_get(r.stats, "requests", "heartbeat", "500");
    int64_t ok = stat_get(r.stats, "requests", "heartbeat", "200");
    ck_assert_int_gt(e500, 0);
    double want = (double)e500 / (double)(e500 + ok - 1);
    ck_assert_msg(fabs(observed - want) < 0.002, "observed %.4f, target %.4f", observed, want);
    ck_assert_msg(observed > 0.01 && observed < 0.15, "observed %.4f", observed);
    run_free(&r);
}
END_TEST

START_TEST(t_agent_storm_latency_fault_exit_99)
{
    /* every heartbeat answered 1.2 s late; beats every 2 s so none waits for the previous one,
	 * a 5 s timeout leaves a wide margin: nothing fails, only the latency thresholds */
    const char *p99 = "http_req_duration{scenario:agent-storm,endpoint:heartbeat}:p(99)<1000";
    const char *p95 = "http_req_duration{scenario:agent-storm,endpoint:heartbeat}:p(95)<500";
    const char *broken[] = {p99, p95, NULL};
    struct run r = preset_fails("agent-storm", "heartbeat:latency=1200ms", 50, "2s", broken);
    ck_assert_double_ge(threshold_observed(&r, p99), 1200.0);
    ck_assert_double_eq(threshold_observed(&r, "http_req_failed{scenario:agent-storm}:rate<0.001"),
                        0.0);
    ck_assert_int_eq(stat_get(r.summary, "accounting", "timed_out", NULL), 0);
    run_free(&r);
}
END_TEST

START_TEST(t_bulk_renewal_fault_exit_99)
{
    const char *failed = "http_req_failed{scenario:bulk-renewal,endpoint:bulk_renew}:rate<0.01";
    const char *broken[] = {failed, NULL};
    struct run r = preset_fails("bulk-renewal", "bulk_renew:error=0.5", 0, NULL, broken);
    ck_assert_int_gt(stat_get(r.stats, "requests", "bulk_renew", "500"), 0);
    run_free(&r);
}
END_TEST

START_TEST(t_acme_burst_fault_exit_99)
{
    const char *slow = "http_req_duration{scenario:acme-burst,endpoint:acme_nonce}:p(95)<300";
    const char *broken[] = {slow, NULL};
    struct run r = preset_fails("acme-burst", "acme_nonce:latency=400ms", 0, NULL, broken);
    ck_assert_double_ge(threshold_observed(&r, slow), 400.0);
    run_free(&r);
}
END_TEST

START_TEST(t_fleet_fault_exit_99)
{
    const char *e5xx = "http_req_5xx{scenario:fleet,actor:acme}:rate<0.001";
    const char *broken[] = {e5xx, NULL};
    struct run r = preset_fails("fleet", "acme_renewal_info:error=1", 0, NULL, broken);
    ck_assert_double_gt(threshold_observed(&r, e5xx), 0.0);
    ck_assert_int_gt(stat_get(r.stats, "requests", "acme_renewal_info", "500"), 0);
    run_free(&r);
}
END_TEST

/* --list-scenarios prints every preset with exactly the table's thresholds. */
START_TEST(t_list_scenarios_matches_table)
{
    const char *args[] = {"--list-scenarios", NULL};
    char *text;
    ck_assert_int_eq(procs_run("fleetsim", args, NULL, 10000, &text, NULL), 0);
    ck_assert_uint_eq(preset_count(), 4);
    for (size_t i = 0; i < preset_count(); i++) {
        const struct preset *p = preset_at(i);
        char head[64];
        snprintf(head, sizeof head, "%s%s\n", i ? "\n" : "", p->name);
        const char *block = strstr(text, head);
        if (i == 0 && block != text) /* the first preset opens the listing */
            block = NULL;
        ck_assert_msg(block != NULL, "%s not listed", p->name);
        const char *end = strstr(block + strlen(head), "\n\n");
        size_t len = end ? (size_t)(end - block) : strlen(block);
        size_t lines = 0;
        for (const char *l = strstr(block, "\n    "); l && l < block + len;
             l = strstr(l + 1, "\n    "))
            lines++;
        ck_assert_uint_eq(lines, preset_threshold_count(p));
        for (size_t k = 0; k < preset_threshold_count(p); k++) {
            char line[256];
            snprintf(line, sizeof line, "\n    %s\n", p->thresholds[k]);
            const char *at = strstr(block, line);
            ck_assert_msg(at && at < block + len, "%s: %s not listed", p->name, p->thresholds[k]);
        }
    }
    free(text);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    sanitized = testenv_flag("FLEETSIM_SANITIZED");
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("presets");
    TCase *tc = testenv_tcase(s, "presets", TEST_TIMEOUT_S);
    tcase_add_test(tc, t_list_scenarios_matches_table);
    tcase_add_test(tc, t_agent_storm_passes);
    tcase_add_test(tc, t_bulk_renewal_passes);
    tcase_add_test(tc, t_acme_burst_passes);
    tcase_add_test(tc, t_fleet_passes);
    tcase_add_test(tc, t_agent_storm_error_fault_exit_99);
    tcase_add_test(tc, t_agent_storm_latency_fault_exit_99);
    tcase_add_test(tc, t_bulk_renewal_fault_exit_99);
    tcase_add_test(tc, t_acme_burst_fault_exit_99);
    tcase_add_test(tc, t_fleet_fault_exit_99);
    return testenv_run(s);
}
