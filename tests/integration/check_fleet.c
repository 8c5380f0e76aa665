/* tests/integration/check_fleet.c - the real fleetsim binary against fleetsim-target in its own
 * process (loopback, ephemeral port, rate limiter off), judged by the target's /_target/stats
 * and fleetsim's --summary-json: heartbeat totals and per-agent counts, the OS mix, zero errors,
 * the accounting identity and lag (plain and TLS); renewal jobs carried out with verified CSRs
 * and matching keys; retired agents stopping at their 410, and a fleet larger than the server's
 * stopped at pre-flight naming the first missing agent; the same --seed giving the same schedule (also per shard); and exit codes 0 / 99.
 * Skipped (77) when FLEETSIM_UNIT_ONLY=1; smaller fleets under FLEETSIM_SANITIZED=1. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "engine/clock.h"
#include "engine/http_once.h"
#include "engine/tls.h"
#include "sim/agent.h"
#include "sim/identity.h"
#include "sim/schedule.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define API_KEY "fleet-test-key"
#define RUN_TIMEOUT_S 90

static bool sanitized;

/* ---- processes --------------------------------------------------------------------------- */

/* What fleetsim runs with: the API key in the environment, no URL from it. */
static const char *const fleet_env[] = {"CERTCTL_API_KEY=" API_KEY, "CERTCTL_SERVER_URL", NULL};

struct tgt {
    struct procs_target p;
    bool tls;
};

/* Starts fleetsim-target (plain or TLS) seeded with agents and certs; extra: one more option. */
static void target_up(struct tgt *t, bool tls, unsigned agents, unsigned certs, const char *extra)
{
    memset(t, 0, sizeof *t);
    t->tls = tls;
    char a[16], c[16];
    snprintf(a, sizeof a, "%u", agents);
    snprintf(c, sizeof c, "%u", certs);
    const char *args[16] = {"--rate-limit", "off",   "--seed-agents", a,     "--seed-certs", c,
                            "--api-key",    API_KEY, "--seed",        "1234"};
    int n = 10;
    if (!tls)
        args[n++] = "--plain";
    if (extra)
        args[n++] = extra;
    args[n] = NULL;
    ck_assert_msg(procs_target_start(&t->p, args) == 0, "fleetsim-target did not start");
}

static void target_down(struct tgt *t)
{
    procs_target_stop(&t->p, SIGTERM);
}

/* ---- HTTP to the target -------------------------------------------------------------------- */

/* One request to the target; returns the status (-1 on a transport error), body in *out. */
static int call(const struct tgt *t, const char *method, const char *path, const char *body,
                char **out)
{
    char err[256];
    SSL_CTX *ssl = t->tls ? tls_client_ctx_new(t->p.ca_path, false, err, sizeof err) : NULL;
    struct http_conn_config cc;
    ck_assert_int_eq(http_conn_config_init(&cc, "127.0.0.1", t->p.port, ssl, err, sizeof err), 0);
    cc.max_body_bytes = 64u << 20;
    struct http_once o;
    http_once(&cc, method, path,
              "Authorization: Bearer " API_KEY "\r\nContent-Type: application/json\r\n", body, &o);
    if (ssl)
        SSL_CTX_free(ssl);
    if (out)
        *out = o.body ? o.body : strdup("");
    else
        free(o.body);
    return o.error == HTTP_ERR_NONE ? o.status : -1;
}

static json_object *stats(const struct tgt *t)
{
    char *body;
    ck_assert_int_eq(call(t, "GET", "/_target/stats", NULL, &body), 200);
    json_object *o = json_tokener_parse(body);
    free(body);
    ck_assert_ptr_nonnull(o);
    return o;
}

/* stats.a.b.c as an integer (0 when absent). */
static int64_t jget(json_object *o, const char *a, const char *b, const char *c)
{
    const char *keys[] = {a, b, c};
    for (int i = 0; i < 3 && keys[i] && o; i++)
        if (!json_object_object_get_ex(o, keys[i], &o))
            return 0;
    return o ? json_object_get_int64(o) : 0;
}

/* ---- fleetsim -------------------------------------------------------------------------------- */

struct run {
    int rc;
    char *out; /* stdout + stderr */
    json_object *summary;
};

/* Runs fleetsim with args (NULL-terminated) against url (NULL: none) and --summary-json. */
static void fleetsim(struct run *r, const char *url, const char *const *args)
{
    char sum[64];
    snprintf(sum, sizeof sum, "/tmp/check_fleet_run.%d.json", (int)getpid());
    unlink(sum);
    const char *argv[PROCS_MAX_ARGS + 1];
    int n = 0;
    if (url) {
        argv[n++] = "--url";
        argv[n++] = url;
    }
    argv[n++] = "--summary-json";
    argv[n++] = sum;
    for (int i = 0; args[i] && n < PROCS_MAX_ARGS; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    r->rc = procs_run("fleetsim", argv, fleet_env, RUN_TIMEOUT_S * 1000u, &r->out, NULL);
    r->summary = json_object_from_file(sum);
    unlink(sum);
}

static void run_free(struct run *r)
{
    free(r->out);
    json_object_put(r->summary);
}

/* A series statistic of the summary (metric, endpoint) or -1. */
static double series_stat(json_object *sum, const char *metric, const char *endpoint,
                          const char *stat)
{
    json_object *arr, *v;
    if (!sum || !json_object_object_get_ex(sum, "series", &arr))
        return -1;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *s = json_object_array_get_idx(arr, i), *tags, *m, *ep;
        json_object_object_get_ex(s, "metric", &m);
        json_object_object_get_ex(s, "tags", &tags);
        json_object_object_get_ex(tags, "endpoint", &ep);
        if (strcmp(json_object_get_string(m), metric) == 0 && ep &&
            strcmp(json_object_get_string(ep), endpoint) == 0 &&
            json_object_object_get_ex(s, stat, &v))
            return json_object_get_double(v);
    }
    return -1;
}

/* A counter's value from the summary (summed over tag sets without status), 0 when absent. */
static int64_t counter(json_object *sum, const char *metric)
{
    json_object *arr;
    int64_t total = 0;
    if (!sum || !json_object_object_get_ex(sum, "counters", &arr))
        return 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *c = json_object_array_get_idx(arr, i), *m, *v, *tags, *st;
        json_object_object_get_ex(c, "metric", &m);
        json_object_object_get_ex(c, "tags", &tags);
        if (strcmp(json_object_get_string(m), metric) != 0 ||
            (tags && json_object_object_get_ex(tags, "status", &st)))
            continue;
        if (json_object_object_get_ex(c, "value", &v))
            total += json_object_get_int64(v);
    }
    return total;
}

static int64_t acct_field(json_object *sum, const char *field)
{
    return jget(sum, "accounting", field, NULL);
}

/* The accounting identity of the summary. */
static void assert_balanced(json_object *sum)
{
    ck_assert_ptr_nonnull(sum);
    ck_assert_int_eq(acct_field(sum, "scheduled"),
                     acct_field(sum, "answered") + acct_field(sum, "transport_errors") +
                         acct_field(sum, "timed_out") + acct_field(sum, "dropped") +
                         acct_field(sum, "in_flight"));
    ck_assert_int_ge(acct_field(sum, "in_flight"), 0);
}

/* ---- tests ----------------------------------------------------------------------------------- */

/* A run that ended client_saturated (exit 98) on a machine whose cores are busy: its own
 * figures must show it (fleetsim's lag p99 over the 50 ms limit while a loop wanted a CPU at
 * least half its time), else the verdict is wrong. */
static bool saturation_shown(const struct run *r)
{
    json_object *res, *v, *cpu, *w;
    if (r->rc != 98 || !r->summary || !json_object_object_get_ex(r->summary, "result", &res) ||
        !json_object_object_get_ex(res, "verdict", &v) ||
        strcmp(json_object_get_string(v), "client_saturated") != 0 ||
        !json_object_object_get_ex(res, "loop_cpu", &cpu) ||
        !json_object_object_get_ex(cpu, "wanted", &w))
        return false;
    double lag = 0;
    json_object *arr;
    ck_assert(json_object_object_get_ex(r->summary, "series", &arr));
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i), *m, *p;
        if (json_object_object_get_ex(e, "metric", &m) &&
            strcmp(json_object_get_string(m), "http_req_lag") == 0 &&
            json_object_object_get_ex(e, "p99", &p) && json_object_get_double(p) > lag)
            lag = json_object_get_double(p);
    }
    return lag > 50.0 && json_object_get_double(w) >= 0.5;
}

/* Heartbeats agent index should send in secs seconds (1 s +/- 10 %, first within ramp_s),
 * from the same schedule fleetsim uses. */
static int64_t expected_beats(uint32_t index, unsigned secs, unsigned ramp_s)
{
    struct schedule_params p = {CLOCK_NS_PER_S, 10.0, ramp_s * CLOCK_NS_PER_S, false,
                                AGENT_TIMER_SLOT_DEFAULT_NS};
    struct schedule_timer tm;
    schedule_timer_init(&tm, 7, index, SCHEDULE_HEARTBEAT, &p);
    int64_t n = 0;
    for (; tm.next_ns < secs * CLOCK_NS_PER_S; schedule_timer_advance(&tm, &p, 0))
        n++;
    return n;
}

/* N agents heartbeating every second for `secs` seconds (first beats spread over ramp_s),
 * judged by the target and the summary. */
static void heartbeat_run(bool tls, unsigned n, unsigned secs, unsigned ramp_s)
{
    struct tgt t;
    target_up(&t, tls, n, 0, NULL);
    char agents[16], dur[16], ramp[16];
    snprintf(agents, sizeof agents, "%u", n);
    snprintf(dur, sizeof dur, "%us", secs);
    snprintf(ramp, sizeof ramp, "%us", ramp_s);
    const char *args[] = {"--agents",
                          agents,
                          "--heartbeat",
                          "1s",
                          "--poll",
                          "0",
                          "--duration",
                          dur,
                          "--seed",
                          "7",
                          "--report-interval",
                          "2s",
                          "--ramp",
                          ramp,
                          tls ? "--cacert" : NULL,
                          t.p.ca_path,
                          NULL};
    struct run r;
    fleetsim(&r, t.p.url, args);
    json_object *st = stats(&t);
    target_down(&t);
    ck_assert_msg(r.rc == 0 || saturation_shown(&r), "exit %d: %s", r.rc, testenv_tail(r.out));
    /* fleetsim keeps its schedule unless it says it could not (client_saturated) */
    bool kept = r.rc == 0;
    json_object *by;
    ck_assert(json_object_object_get_ex(st, "heartbeats_by_agent", &by));
    int64_t total = 0, want = 0;
    struct identity_os_mix mix = identity_default_os_mix();
    int64_t want_os[IDENTITY_OS_COUNT] = {0};
    for (unsigned i = 1; i <= n; i++) {
        char id[IDENTITY_NAME_MAX];
        identity_agent_id(id, sizeof id, "loadtest", i);
        json_object *v;
        ck_assert_msg(json_object_object_get_ex(by, id, &v), "%s never heartbeat", id);
        int64_t got = json_object_get_int64(v) - (i == 1); /* minus the pre-flight heartbeat */
        int64_t exp = expected_beats(i, secs, ramp_s);
        ck_assert_msg(!kept || llabs(got - exp) <= 1, "%s: %lld heartbeats, its schedule has %lld",
                      id, (long long)got, (long long)exp);
        if (kept && ramp_s == 1) /* first beat within the first second: one per second */
            ck_assert_msg(llabs(got - (int64_t)secs) <= 1, "%s: %lld heartbeats", id,
                          (long long)got);
        total += got;
        want += exp;
        struct identity_agent_meta m;
        identity_agent_meta(7, i, &mix, &m);
        want_os[m.os_kind]++;
    }
    if (kept && ramp_s == 1)
        ck_assert_msg(llabs(total - (int64_t)n * secs) * 50 <= (int64_t)n * secs,
                      "%lld heartbeats, want %u +/- 2 %%", (long long)total, n * secs);
    ck_assert_msg(!kept || llabs(total - want) * 50 <= want, "%lld heartbeats, want %lld +/- 2 %%",
                  (long long)total, (long long)want);
    /* the OS the agents reported is fleetsim's (seed 7), not the target's seeding (seed 1234) */
    const char *os[] = {"linux", "windows", "darwin"};
    const int pct[] = {80, 10, 10};
    for (int k = 0; k < IDENTITY_OS_COUNT; k++) {
        int64_t got = jget(st, "agents", "os", os[k]);
        ck_assert_int_eq(got, want_os[k]);
        if (n >= 1000) /* +/- 2 points is a statement about large fleets */
            ck_assert_msg(llabs(got * 100 - (int64_t)pct[k] * n) <= 2 * (int64_t)n, "%s %lld of %u",
                          os[k], (long long)got, n);
    }
    ck_assert_int_eq(jget(st, "requests", "heartbeat", "200"), total + 1);
    assert_balanced(r.summary);
    ck_assert_int_eq(acct_field(r.summary, "transport_errors"), 0);
    ck_assert_int_eq(acct_field(r.summary, "timed_out"), 0);
    ck_assert_int_eq(acct_field(r.summary, "dropped"), kept ? 0 : acct_field(r.summary, "dropped"));
    ck_assert_int_eq(acct_field(r.summary, "answered") + acct_field(r.summary, "unanswered"),
                     total);
    double lag = series_stat(r.summary, "http_req_lag", "heartbeat", "p99");
    ck_assert_msg(lag >= 0 && (!kept || lag < 50.0), "lag p99 %.3f ms", lag);
    ck_assert_ptr_nonnull(strstr(r.out, "lag p99"));
    ck_assert_ptr_nonnull(strstr(r.out, "seed 7"));
    json_object_put(st);
    run_free(&r);
}

START_TEST(test_heartbeats_plain)
{
    heartbeat_run(false, sanitized ? 500 : 5000, 10, 1);
}
END_TEST

START_TEST(test_heartbeats_tls)
{
    /* a TLS handshake costs the client about 1 ms of CPU: spread them over 4 s */
    heartbeat_run(true, sanitized ? 200 : 1000, 10, 4);
}
END_TEST

/* Asks the target to renew certificates 1..certs of the seeded fleet (200). */
static void bulk_renew_all(const struct tgt *t, unsigned certs)
{
    char body[4096] = "{\"certificate_ids\":[";
    for (unsigned j = 1; j <= certs; j++) {
        char id[IDENTITY_NAME_MAX];
        identity_cert_id(id, sizeof id, "loadtest", j);
        snprintf(body + strlen(body), sizeof body - strlen(body), "%s\"%s\"", j > 1 ? "," : "", id);
    }
    strcat(body, "]}");
    ck_assert_int_eq(call(t, "POST", "/api/v1/certificates/bulk-renew", body, NULL), 200);
}

/* A plain target seeded with agents and certs (target_opt: one more option) whose certificates
 * are all renewed, then fleetsim with args against it (exit 0): its /_target/stats. */
static json_object *renewal_run(unsigned agents, unsigned certs, const char *target_opt,
                                const char *const *args, struct run *r)
{
    struct tgt t;
    target_up(&t, false, agents, certs, target_opt);
    bulk_renew_all(&t, certs);
    fleetsim(r, t.p.url, args);
    json_object *st = stats(&t);
    target_down(&t);
    ck_assert_msg(r->rc == 0, "exit %d: %s", r->rc, testenv_tail(r->out));
    return st;
}

START_TEST(test_renewal_jobs)
{
    const unsigned agents = 20, certs = 40;
    const char *args[] = {"--agents", "20",     "--heartbeat", "1s",         "--poll",
                          "500ms",    "--ramp", "500ms",       "--duration", "8s",
                          "--seed",   "3",      "-q",          NULL};
    struct run r;
    json_object *st = renewal_run(agents, certs, NULL, args, &r);
    /* every renewal job and every deployment job it created ended Completed */
    ck_assert_int_eq(jget(st, "jobs", "Completed", NULL), 2 * certs);
    json_object *jobs;
    json_object_object_get_ex(st, "jobs", &jobs);
    ck_assert_int_eq(json_object_object_length(jobs), 1);
    ck_assert_int_eq(jget(st, "requests", "csr", "202"), certs);
    ck_assert_int_eq(jget(st, "requests", "cert_fetch", "200"), certs);
    ck_assert_int_eq(jget(st, "requests", "job_status", "200"), 2 * certs);
    ck_assert_int_eq(counter(r.summary, "agent_csr_generated"), certs);
    ck_assert_int_eq(counter(r.summary, "agent_csr_accepted"), certs);
    ck_assert_int_eq(counter(r.summary, "agent_key_match"), certs);
    ck_assert_int_eq(counter(r.summary, "agent_deploy_completed"), certs);
    ck_assert_int_eq(counter(r.summary, "agent_key_mismatch"), 0);
    ck_assert_int_eq(counter(r.summary, "agent_key_missing"), 0);
    assert_balanced(r.summary);
    json_object_put(st);
    run_free(&r);
}
END_TEST

/* Targets with host config (--seed-host-targets 50: agents 2 and 4 of 4): their deployments
 * wait, probe and report one verification each; every job ends Completed. */
START_TEST(test_deploy_verify)
{
    const unsigned agents = 4, certs = 4;
    const char *args[] = {"--agents",       "4",         "--heartbeat", "1s", "--poll", "500ms",
                          "--ramp",         "500ms",     "--duration",  "7s", "--seed", "3",
                          "--verify-probe", "10ms-30ms", "-q",          NULL};
    struct run r;
    json_object *st = renewal_run(agents, certs, "--seed-host-targets=50", args, &r);
    ck_assert_int_eq(jget(st, "jobs", "Completed", NULL), 2 * certs);
    ck_assert_int_eq(jget(st, "verify", "calls", NULL), 2);
    ck_assert_int_eq(jget(st, "verify", "verified", NULL), 2);
    ck_assert_int_eq(jget(st, "requests", "job_verify", "200"), 2);
    ck_assert_int_eq(counter(r.summary, "agent_verify_probes"), 2);
    ck_assert_int_eq(counter(r.summary, "agent_deploy_completed"), certs);
    ck_assert_int_eq(counter(r.summary, "agent_keys_kept"), certs);
    assert_balanced(r.summary);
    json_object_put(st);
    run_free(&r);
}
END_TEST

START_TEST(test_retire_and_unknown)
{
    struct tgt t;
    target_up(&t, false, 20, 0, NULL);
    char out[64];
    snprintf(out, sizeof out, "/tmp/check_fleet_retire.%d.out", (int)getpid());
    /* 25 agents, of which 21..25 do not exist in the target: pre-flight's sample across the
     * fleet finds it before any load, and names the first missing one */
    const char *more[] = {"--agents", "25", "--duration", "6s", "-q", NULL};
    struct run r;
    fleetsim(&r, t.p.url, more);
    ck_assert_msg(r.rc == 1, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_ptr_nonnull(strstr(r.out, "agent ag-loadtest-00021 does not exist in the server (the "
                                        "first missing one found; ag-loadtest-00020 exists)"));
    run_free(&r);
    /* 20 agents, 10 of them retired by the server during the run */
    const char *args[] = {
        "--url",      t.p.url, "--agents", "20", "--heartbeat",       "500ms", "--poll", "500ms",
        "--duration", "6s",    "--seed",   "5",  "--report-interval", "0",     NULL};
    pid_t pid = procs_start("fleetsim", args, fleet_env, out);
    ck_assert_int_gt(pid, 0);
    usleep(2500000);
    for (unsigned i = 1; i <= 10; i++) {
        char path[256], id[IDENTITY_NAME_MAX];
        identity_agent_id(id, sizeof id, "loadtest", i);
        snprintf(path, sizeof path, "/api/v1/agents/%s?force=true&reason=test", id);
        ck_assert_int_eq(call(&t, "DELETE", path, NULL, NULL), 200);
    }
    int rc = procs_wait(pid, RUN_TIMEOUT_S * 1000u);
    char *text = testenv_slurp(out);
    unlink(out);
    json_object *st = stats(&t);
    target_down(&t);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, text);
    /* each retired agent sent exactly one heartbeat after retirement: the one answered 410 */
    ck_assert_int_eq(jget(st, "requests", "heartbeat", "410"), 10);
    ck_assert_int_eq(jget(st, "agents", "retired", NULL), 10);
    ck_assert_ptr_nonnull(strstr(text, "10 agents were retired by the server (410)"));
    ck_assert_ptr_null(strstr(text, "got 404 on heartbeat"));
    json_object_put(st);
    free(text);
}
END_TEST

START_TEST(test_register_and_agents_file)
{
    struct tgt t;
    target_up(&t, false, 0, 0, NULL); /* an empty server: the agents must be registered */
    char file[64];
    snprintf(file, sizeof file, "/tmp/check_fleet_agents.%d.txt", (int)getpid());
    const char *reg[] = {"--agents", "30",     "--register", "--agents-file", file, "--heartbeat",
                         "1s",       "--poll", "0",          "--duration",    "3s", "--seed",
                         "9",        NULL};
    struct run r;
    fleetsim(&r, t.p.url, reg);
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_ptr_nonnull(strstr(r.out, "registering agents: 30/30 done, 0 failed"));
    ck_assert_int_eq(counter(r.summary, "http_reqs") - acct_field(r.summary, "answered"), 0);
    run_free(&r);
    /* the file holds "INDEX ID" lines with the server's ids */
    char *ids = testenv_slurp(file);
    unsigned lines = 0;
    for (char *l = strchr(ids, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        unsigned idx;
        char id[128];
        ck_assert_int_eq(sscanf(l + 1, "%u %127s", &idx, id), 2);
        ck_assert_uint_eq(idx, ++lines);
        ck_assert_ptr_null(strstr(id, "ag-loadtest")); /* server-assigned, not ours */
    }
    ck_assert_uint_eq(lines, 30);
    free(ids);
    /* a later run reads the ids and heartbeats as those agents, without registering */
    const char *again[] = {"--agents", "30", "--agents-file", file, "--heartbeat", "1s",
                           "--poll",   "0",  "--duration",    "3s", "--seed",      "9",
                           "-q",       NULL};
    fleetsim(&r, t.p.url, again);
    json_object *st = stats(&t);
    target_down(&t);
    unlink(file);
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_int_eq(jget(st, "agents", "total", NULL), 30);
    ck_assert_int_eq(jget(st, "requests", "register", "201"), 30);
    ck_assert_int_eq(jget(st, "requests", "heartbeat", "404"), 0);
    json_object *by;
    json_object_object_get_ex(st, "heartbeats_by_agent", &by);
    ck_assert_int_eq(json_object_object_length(by), 30);
    ck_assert_int_ge(jget(st, "requests", "heartbeat", "200"), 2 * 30 * 2);
    json_object_put(st);
    run_free(&r);
}
END_TEST

/* The "event ..." lines of a dry run. */
static char *dry_events(const char *const *args)
{
    struct run r;
    fleetsim(&r, "http://127.0.0.1:9", args); /* port 9: nothing listens, nothing is sent */
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, testenv_tail(r.out));
    char *events = calloc(1, strlen(r.out) + 1);
    for (char *l = strstr(r.out, "\nevent "); l; l = strstr(l + 1, "\nevent ")) {
        char *end = strchr(l + 1, '\n');
        strncat(events, l + 1, end ? (size_t)(end - l) : strlen(l + 1));
    }
    run_free(&r);
    return events;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(test_dry_run_seed)
{
    const char *a42[] = {"--dry-run", "--agents", "300", "--seed", "42", NULL};
    const char *a43[] = {"--dry-run", "--agents", "300", "--seed", "43", NULL};
    const char *shard[] = {"--dry-run", "--agents", "300", "--seed", "42", "--shard", "1/3", NULL};
    char *x = dry_events(a42), *y = dry_events(a42), *z = dry_events(a43), *s = dry_events(shard);
    ck_assert_uint_eq(count_lines(x), 1000);
    ck_assert_str_eq(x, y);
    ck_assert_str_ne(x, z);
    /* a shard's events are exactly the whole fleet's events of its agents (same times) */
    double last = 0;
    for (char *l = x; *l; l = strchr(l, '\n') + 1) {
        char id[64], ep[32];
        double at;
        if (sscanf(l, "event %63s %31s %lf", id, ep, &at) == 3)
            last = at;
    }
    unsigned checked = 0;
    for (char *l = s; *l; l = strchr(l, '\n') + 1) {
        char id[64], ep[32], line[160];
        double at;
        ck_assert_int_eq(sscanf(l, "event %63s %31s %lf", id, ep, &at), 3);
        uint32_t idx;
        ck_assert_int_eq(identity_parse_index(id, "ag", "loadtest", &idx), 0);
        ck_assert_uint_eq((idx - 1) % 3, 1);
        if (at < last) {
            snprintf(line, sizeof line, "event %s %s %.3f\n", id, ep, at);
            ck_assert_msg(strstr(x, line), "%s not in the unsharded plan", line);
            checked++;
        }
    }
    ck_assert_uint_gt(checked, 300);
    free(x);
    free(y);
    free(z);
    free(s);
}
END_TEST

/* How many of a dry run's event offsets (printed in ms with 3 decimals) are multiples of
 * grid_us, and how many events there are. */
static unsigned on_grid(const char *events, long grid_us, unsigned *total)
{
    unsigned n = 0;
    *total = 0;
    for (const char *l = events; *l; l = strchr(l, '\n') + 1) {
        char id[64], ep[32];
        double at;
        if (sscanf(l, "event %63s %31s %lf", id, ep, &at) != 3)
            continue;
        (*total)++;
        n += llround(at * 1000.0) % grid_us == 0;
    }
    return n;
}

/* --timer-slot puts every intended time on its grid (5 ms by default); 0 leaves them alone. */
START_TEST(test_dry_run_timer_grid)
{
    const char *dflt[] = {"--dry-run", "--agents", "300", "--seed", "7", NULL};
    const char *slot20[] = {"--dry-run", "--agents",     "300",  "--seed",
                            "7",         "--timer-slot", "20ms", NULL};
    const char *exact[] = {"--dry-run", "--agents",     "300", "--seed",
                           "7",         "--timer-slot", "0",   NULL};
    char *d = dry_events(dflt), *s = dry_events(slot20), *e = dry_events(exact);
    unsigned total;
    ck_assert_uint_eq(on_grid(d, 5000, &total), total);
    ck_assert_uint_eq(total, 1000);
    ck_assert_uint_eq(on_grid(s, 20000, &total), total);
    ck_assert_uint_eq(total, 1000);
    ck_assert_uint_lt(on_grid(e, 5000, &total), total / 20);
    ck_assert_uint_eq(total, 1000);
    free(d);
    free(s);
    free(e);
}
END_TEST

/* The latest first event of endpoint ep over the agents of a dry run (ms), and how many agents
 * had one. */
static double latest_first(const char *events, const char *ep, unsigned *agents)
{
    char seen[2048] = {0};
    double latest = 0;
    *agents = 0;
    for (const char *l = events; *l; l = strchr(l, '\n') + 1) {
        char id[64], e[32];
        double at;
        uint32_t idx;
        if (sscanf(l, "event %63s %31s %lf", id, e, &at) != 3 || strcmp(e, ep) != 0 ||
            identity_parse_index(id, "ag", "loadtest", &idx) != 0 || idx >= sizeof seen ||
            seen[idx])
            continue;
        seen[idx] = 1;
        (*agents)++;
        latest = at > latest ? at : latest;
    }
    return latest;
}

/* Without --ramp, first polls spread over one poll interval (not the heartbeat's); with --ramp
 * both timers use it. */
START_TEST(test_dry_run_poll_ramp)
{
    const char *own[] = {"--dry-run", "--agents", "200",    "--heartbeat", "60s",
                         "--poll",    "5s",       "--seed", "3",           NULL};
    const char *given[] = {"--dry-run", "--agents", "200", "--heartbeat", "60s", "--poll",
                           "5s",        "--ramp",   "60s", "--seed",      "3",   NULL};
    char *a = dry_events(own), *b = dry_events(given);
    unsigned n;
    double last = latest_first(a, "work", &n);
    ck_assert_uint_eq(n, 200);         /* every agent polled within the first 1,000 events */
    ck_assert_double_le(last, 5000.0); /* within the ramp, rounded up to the 5 ms grid */
    ck_assert_double_gt(last, 4000.0);
    last = latest_first(b, "work", &n);
    ck_assert_double_gt(last, 5000.0); /* the 60 s ramp delays most first polls */
    free(a);
    free(b);
}
END_TEST

START_TEST(test_exit_codes)
{
    struct tgt t;
    target_up(&t, false, 50, 0, NULL);
    const char *impossible[] = {"--agents",
                                "50",
                                "--heartbeat",
                                "500ms",
                                "--poll",
                                "0",
                                "--duration",
                                "3s",
                                "-q",
                                "--threshold",
                                "http_req_duration:p(99)<0.001",
                                NULL};
    const char *easy[] = {"--agents",
                          "50",
                          "--heartbeat",
                          "500ms",
                          "--poll",
                          "0",
                          "--duration",
                          "3s",
                          "-q",
                          "--threshold",
                          "http_req_duration:p(99)<5000",
                          NULL};
    struct run r;
    fleetsim(&r, t.p.url, impossible);
    ck_assert_msg(r.rc == 99, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_ptr_nonnull(r.summary);
    run_free(&r);
    fleetsim(&r, t.p.url, easy);
    ck_assert_msg(r.rc == 0, "exit %d: %s", r.rc, testenv_tail(r.out));
    run_free(&r);
    target_down(&t);

    /* the agent-storm preset's own thresholds (p(99)<1000), with heartbeats answered late */
    target_up(&t, false, 50, 0, "--fault=heartbeat:latency=1200ms");
    const char *storm[] = {"--scenario", "agent-storm", "--agents", "50", "--heartbeat",
                           "500ms",      "--duration",  "3s",       "-q", NULL};
    fleetsim(&r, t.p.url, storm);
    ck_assert_msg(r.rc == 99, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_ptr_nonnull(
        strstr(r.out, "http_req_duration{scenario:agent-storm,endpoint:heartbeat}:p(99)<1000"));
    ck_assert_ptr_nonnull(strstr(r.out, "agent-storm/agent/heartbeat"));
    run_free(&r);
    /* no target at all: exit 1 before any load */
    target_down(&t);
    const char *none[] = {"--agents", "5", "--duration", "2s", "-q", NULL};
    fleetsim(&r, "http://127.0.0.1:9", none);
    ck_assert_msg(r.rc == 1, "exit %d: %s", r.rc, testenv_tail(r.out));
    ck_assert_ptr_nonnull(strstr(r.out, "does not answer GET /health"));
    run_free(&r);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    sanitized = testenv_flag("FLEETSIM_SANITIZED");
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("fleet");
    TCase *tc = testenv_tcase(s, "fleet", 180);
    tcase_add_test(tc, test_dry_run_seed);
    tcase_add_test(tc, test_dry_run_timer_grid);
    tcase_add_test(tc, test_dry_run_poll_ramp);
    tcase_add_test(tc, test_heartbeats_plain);
    tcase_add_test(tc, test_heartbeats_tls);
    tcase_add_test(tc, test_renewal_jobs);
    tcase_add_test(tc, test_deploy_verify);
    tcase_add_test(tc, test_retire_and_unknown);
    tcase_add_test(tc, test_exit_codes);
    tcase_add_test(tc, test_register_and_agents_file);
    return testenv_run(s);
}
