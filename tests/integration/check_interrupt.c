/* tests/integration/check_interrupt.c - SIGINT and SIGTERM are results: the real fleetsim binary
 * against fleetsim-target in its own process, signalled at fixed moments of a seeded run (after
 * its Nth progress line), during pre-flight (a server that accepts and never answers) and twice
 * during a drain (polls stalled by --fault): the outputs are complete and parse, result.status is
 * interrupted with where it happened, the exit code is 105, a second signal cuts the drain short
 * (requests left unanswered, drain shorter than --grace, by fleetsim's own clock), and `fleetsim
 * merge` refuses an interrupted shard unless --allow-partial, which marks the merge partial.
 * Skipped (77) when FLEETSIM_UNIT_ONLY=1. */
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "engine/clock.h"
#include "tests/lib/procs.h"
#include "tests/lib/summary_check.h"
#include "tests/lib/testenv.h"

#define API_KEY "interrupt-test-key"
#define RUN_TIMEOUT_MS 90000u
#define EXIT_INTERRUPTED 105

static const char *const fleet_env[] = {"CERTCTL_API_KEY=" API_KEY, "CERTCTL_SERVER_URL", NULL};

/* Output files of one fleetsim run in a fresh directory. */
struct files {
    char dir[256], out[300], json[300], html[300], log[300];
};

static void files_init(struct files *f, const char *name)
{
    testenv_mkdtemp(f->dir, sizeof f->dir, name);
    snprintf(f->out, sizeof f->out, "%s/out", f->dir);
    snprintf(f->json, sizeof f->json, "%s/summary.json", f->dir);
    snprintf(f->html, sizeof f->html, "%s/report.html", f->dir);
    snprintf(f->log, sizeof f->log, "%s/intervals.jsonl", f->dir);
}

/* Starts fleetsim run against url with every output and the given extra args. */
static pid_t start_run(const struct files *f, const char *url, const char *const *extra)
{
    const char *args[PROCS_MAX_ARGS + 1] = {
        "--url",          url,    "--summary-json", f->json, "--html", f->html,
        "--interval-log", f->log, "--seed",         "4242",  NULL};
    int n = 10;
    for (int i = 0; extra[i] && n < PROCS_MAX_ARGS; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    pid_t pid = procs_start("fleetsim", args, fleet_env, f->out);
    ck_assert_int_gt(pid, 0);
    return pid;
}

/* Waits (at most 60 s) until the output file holds count occurrences of text. */
static void wait_for_output(const char *path, const char *text, int count)
{
    for (int i = 0; i < 6000; i++) {
        char *s = testenv_slurp(path);
        int seen = 0;
        for (const char *p = s; p && (p = strstr(p, text)) != NULL; p += strlen(text))
            seen++;
        free(s);
        if (seen >= count)
            return;
        usleep(10000);
    }
    char *s = testenv_slurp(path);
    ck_abort_msg("no %d x \"%s\" in the output: %s", count, text, s ? s : "(none)");
}

/* The outputs of an interrupted run: the summary parses, its result says interrupted in phase
 * with exit 105, the accounting balances, and the HTML shows the result first. Returns the
 * summary (caller puts). */
static json_object *check_outputs(const struct files *f, const char *phase)
{
    json_object *sum = json_object_from_file(f->json);
    ck_assert_msg(sum != NULL, "the summary JSON did not parse");
    json_object *r = tsum_member(sum, "result");
    ck_assert_str_eq(json_object_get_string(tsum_member(r, "status")), "interrupted");
    ck_assert_int_eq(json_object_get_int(tsum_member(r, "exit_code")), EXIT_INTERRUPTED);
    json_object *at = tsum_member(r, "interrupted_at");
    ck_assert_str_eq(json_object_get_string(tsum_member(at, "phase")), phase);
    ck_assert_str_eq(json_object_get_string(tsum_member(at, "signal")), "SIGINT");
    tsum_ck_balanced(sum);
    char *html = testenv_slurp(f->html);
    ck_assert_ptr_nonnull(html);
    char *result = strstr(html, "result: interrupted");
    ck_assert_msg(result != NULL, "the HTML does not show the result");
    char *meta = strstr(html, "fleetsim version");
    ck_assert_msg(meta && result < meta, "the result is not at the top of the HTML");
    ck_assert_ptr_nonnull(strstr(html, "</html>"));
    free(html);
    return sum;
}

/* A SIGINT after the run's Nth progress line (a fixed moment of the seeded run by fleetsim's own
 * report clock): exit 105, every output written, interrupted during the load at or after N s. */
static void interrupt_after_reports(int reports, struct files *f)
{
    struct procs_target t;
    const char *targs[] = {"--plain", "--rate-limit", "off",   "--seed-agents",
                           "40",      "--api-key",    API_KEY, NULL};
    ck_assert_int_eq(procs_target_start(&t, targs), 0);
    const char *extra[] = {"--agents",
                           "40",
                           "--heartbeat",
                           "500ms",
                           "--poll",
                           "1s",
                           "--ramp",
                           "1s",
                           "--duration",
                           "60s",
                           "--grace",
                           "5s",
                           "--report-interval",
                           "1s",
                           NULL};
    pid_t pid = start_run(f, t.url, extra);
    wait_for_output(f->out, "s] ", reports); /* "[1.00s] 80.0 req/s ..." */
    kill(pid, SIGINT);
    int rc = procs_wait(pid, RUN_TIMEOUT_MS);
    procs_target_stop(&t, SIGTERM);
    char *out = testenv_slurp(f->out);
    ck_assert_msg(rc == EXIT_INTERRUPTED, "exit %d: %s", rc, testenv_tail(out));
    ck_assert_ptr_nonnull(strstr(out, "result: interrupted (SIGINT during the load"));
    free(out);
    json_object *sum = check_outputs(f, "load");
    json_object *at = tsum_member(tsum_member(sum, "result"), "interrupted_at");
    double at_s = json_object_get_double(tsum_member(at, "elapsed_s"));
    ck_assert_msg(at_s >= reports && at_s < 60, "interrupted at %.3f s", at_s);
    ck_assert_int_gt(tsum_acct(sum, "answered"), 0);
    /* the interval log is complete lines of JSON */
    char *log = testenv_slurp(f->log);
    ck_assert_ptr_nonnull(log);
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
        json_object *o = json_tokener_parse(line);
        ck_assert_msg(o != NULL, "interval log line does not parse: %s", line);
        json_object_put(o);
    }
    free(log);
    json_object_put(sum);
}

START_TEST(test_sigint_during_load)
{
    static const int moments[] = {1, 3};
    int moment = moments[_i];
    struct files f;
    files_init(&f, "check_interrupt_load");
    interrupt_after_reports(moment, &f);
    testenv_rmtree(f.dir);
}
END_TEST

/* A server that accepts the connection and never answers: fleetsim waits in pre-flight's
 * GET /health; SIGINT ends the wait at once (long before the 30 s request timeout). */
START_TEST(test_sigint_during_preflight)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(ls, 4), 0);
    ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &len), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    struct files f;
    files_init(&f, "check_interrupt_preflight");
    const char *extra[] = {"--agents", "10", "--duration", "30s", NULL};
    pid_t pid = start_run(&f, url, extra);
    struct pollfd p = {.fd = ls, .events = POLLIN};
    ck_assert_msg(poll(&p, 1, 30000) == 1, "fleetsim never connected");
    int conn = accept(ls, NULL, NULL);
    ck_assert_int_ge(conn, 0);
    uint64_t t0 = clock_now_ns();
    kill(pid, SIGINT);
    int rc = procs_wait(pid, RUN_TIMEOUT_MS);
    uint64_t waited_ms = (clock_now_ns() - t0) / CLOCK_NS_PER_MS;
    close(conn);
    close(ls);
    char *out = testenv_slurp(f.out);
    ck_assert_msg(rc == EXIT_INTERRUPTED, "exit %d: %s", rc, testenv_tail(out));
    ck_assert_ptr_nonnull(strstr(out, "pre-flight: interrupted"));
    free(out);
    /* the request timeout is 30 s: ending at once means well under it */
    ck_assert_msg(waited_ms < 20000, "took %llu ms to end", (unsigned long long)waited_ms);
    json_object *sum = check_outputs(&f, "pre-flight");
    ck_assert_int_eq(tsum_acct(sum, "scheduled"), 0);
    json_object_put(sum);
    testenv_rmtree(f.dir);
}
END_TEST

/* Polls stalled for a minute: after the first SIGINT the drain waits for them (--grace 40s);
 * the second SIGINT ends it at once, with the stalled polls left in flight. */
START_TEST(test_second_sigint_cuts_drain)
{
    struct procs_target t;
    const char *targs[] = {"--plain", "--rate-limit", "off",   "--seed-agents",
                           "20",      "--api-key",    API_KEY, "--fault=work:stall=60s",
                           NULL};
    ck_assert_int_eq(procs_target_start(&t, targs), 0);
    struct files f;
    files_init(&f, "check_interrupt_drain");
    const char *extra[] = {"--agents",
                           "20",
                           "--heartbeat",
                           "500ms",
                           "--poll",
                           "500ms",
                           "--ramp",
                           "500ms",
                           "--duration",
                           "60s",
                           "--grace",
                           "40s",
                           "--report-interval",
                           "1s",
                           NULL};
    pid_t pid = start_run(&f, t.url, extra);
    wait_for_output(f.out, "s] ", 2);
    kill(pid, SIGINT);
    wait_for_output(f.out, "draining for up to", 1);
    kill(pid, SIGINT);
    int rc = procs_wait(pid, RUN_TIMEOUT_MS);
    procs_target_stop(&t, SIGTERM);
    char *out = testenv_slurp(f.out);
    ck_assert_msg(rc == EXIT_INTERRUPTED, "exit %d: %s", rc, testenv_tail(out));
    ck_assert_ptr_nonnull(strstr(out, "second signal: ending the drain now"));
    free(out);
    json_object *sum = check_outputs(&f, "load");
    json_object *r = tsum_member(sum, "result");
    ck_assert(json_object_get_boolean(tsum_member(r, "drain_cut")));
    double drain_s = json_object_get_double(tsum_member(r, "drain_s"));
    ck_assert_msg(drain_s < 40.0, "drained %.3f s of a 40 s grace", drain_s);
    /* the stalled polls (and the heartbeats behind them) were still in flight when it ended:
     * failed as unanswered */
    ck_assert_int_gt(tsum_acct(sum, "unanswered"), 0);
    json_object_put(sum);
    testenv_rmtree(f.dir);
}
END_TEST

/* fleetsim merge of an interrupted shard: refused (exit 2, naming the file and the way out);
 * with --allow-partial merged and marked partial. */
START_TEST(test_merge_refuses_interrupted)
{
    struct files f;
    files_init(&f, "check_interrupt_merge");
    interrupt_after_reports(1, &f);
    char merged[320];
    snprintf(merged, sizeof merged, "%s/merged.json", f.dir);
    const char *plain[] = {"merge", f.json, "--summary-json", merged, NULL};
    struct procs_output *o = calloc(1, sizeof *o);
    ck_assert(procs_exec("fleetsim", plain, RUN_TIMEOUT_MS, o));
    ck_assert_msg(o->status == 2, "exit %d: %s", o->status, testenv_tail(o->errb));
    ck_assert_ptr_nonnull(strstr(o->errb, "was interrupted"));
    ck_assert_ptr_nonnull(strstr(o->errb, "--allow-partial"));
    ck_assert_int_ne(access(merged, F_OK), 0);
    const char *partial[] = {"merge", f.json, "--summary-json", merged, "--allow-partial", NULL};
    ck_assert(procs_exec("fleetsim", partial, RUN_TIMEOUT_MS, o));
    ck_assert_msg(o->status == 0, "exit %d: %s %s", o->status, testenv_tail(o->out),
                  testenv_tail(o->errb));
    ck_assert_ptr_nonnull(strstr(o->out, "partial"));
    json_object *sum = json_object_from_file(merged);
    ck_assert_ptr_nonnull(sum);
    ck_assert(json_object_get_boolean(tsum_member(tsum_member(sum, "result"), "partial")));
    ck_assert(json_object_get_boolean(
        tsum_member(tsum_member(tsum_member(sum, "config"), "merge"), "partial")));
    json_object_put(sum);
    free(o);
    testenv_rmtree(f.dir);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("interrupt");
    TCase *tc = testenv_tcase(s, "interrupt", 240);
    tcase_add_loop_test(tc, test_sigint_during_load, 0, 2);
    tcase_add_test(tc, test_sigint_during_preflight);
    tcase_add_test(tc, test_second_sigint_cuts_drain);
    tcase_add_test(tc, test_merge_refuses_interrupted);
    return testenv_run(s);
}
