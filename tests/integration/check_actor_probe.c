/* tests/integration/check_actor_probe.c - a fourth actor through the actor interface: the probe
 * of tests/lib/probe_actor.c, registered with one line, runs beside 20 agents in an in-process
 * `fleetsim run` against the built-in target and sends real requests through the engine's
 * client. Its series (actor "probe", endpoint "version") appear, with the accounting identity
 * balanced, in the summary JSON, in the --metrics-listen exposition scraped during the run, in
 * the text summary (its own lines), and in `fleetsim merge` of that summary; a threshold names
 * it. Judged by fleetsim's own counts, not by wall-clock timing. */
#include <check.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/http_once.h"
#include "src/actor.h"
#include "src/cmd_merge.h"
#include "src/cmd_run.h"
#include "src/options.h"
#include "tests/lib/testenv.h"

/* The test-side actor (tests/lib/probe_actor.c). */
extern const struct actor_ops probe_actor;

#define THRESHOLD "http_req_failed{actor:probe,endpoint:version}:rate<0.01"
#define SCRAPES_MAX 200
#define SCRAPE_PAUSE_US 100000
#define ERR_MAX 1024

/* A free loopback port (bound and released: nothing else on this host races for it). */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- the Prometheus scraper (a thread beside the run) ------------------------------------- */

struct scraper {
    unsigned port;
    atomic_bool run_over;
    char *seen; /* the last exposition in which the probe's series had been scheduled */
};

/* The value of the sample line that starts with name{labels} in text, or -1. */
static long long sample(const char *text, const char *name_and_labels)
{
    for (const char *p = strstr(text, name_and_labels); p; p = strstr(p + 1, name_and_labels))
        if (p == text || p[-1] == '\n')
            return atoll(p + strlen(name_and_labels) + 1);
    return -1;
}

#define PROBE_LABELS "{scenario=\"default\",actor=\"probe\",endpoint=\"version\"}"

static void *scrape(void *arg)
{
    struct scraper *s = arg;
    struct http_conn_config cc;
    char err[ERR_MAX];
    if (http_conn_config_init(&cc, "127.0.0.1", (uint16_t)s->port, NULL, err, sizeof err) != 0)
        return NULL;
    cc.timeout_ns = 2000000000ULL;
    for (int i = 0; i < SCRAPES_MAX && !atomic_load(&s->run_over); i++) {
        struct http_once o;
        http_once(&cc, "GET", "/metrics", NULL, NULL, &o);
        if (o.error == HTTP_ERR_NONE && o.status == 200 &&
            sample(o.body, "fleetsim_scheduled_requests_total" PROBE_LABELS) > 0) {
            free(s->seen);
            s->seen = strdup(o.body);
        }
        http_once_release(&o);
        usleep(SCRAPE_PAUSE_US);
    }
    return NULL;
}

/* ---- running fleetsim in this process ------------------------------------------------------ */

/* Runs fn(argc, argv) with stdout going to out_path; returns its result. */
static int with_stdout(const char *out_path, int (*fn)(int, char **), int argc, char **argv)
{
    fflush(stdout);
    int saved = dup(1);
    FILE *f = fopen(out_path, "w");
    ck_assert(saved >= 0 && f != NULL);
    dup2(fileno(f), 1);
    int rc = fn(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(f);
    return rc;
}

static int run_main(int argc, char **argv)
{
    struct run_config cfg;
    char err[ERR_MAX];
    int rc = options_parse(argc, argv, &cfg, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    rc = cmd_run(&cfg);
    options_free(&cfg);
    return rc;
}

/* ---- reading the summary ------------------------------------------------------------------- */

static const char *tag(json_object *entry, const char *key)
{
    json_object *tags, *v;
    if (!json_object_object_get_ex(entry, "tags", &tags) ||
        !json_object_object_get_ex(tags, key, &v))
        return NULL;
    return json_object_get_string(v);
}

/* Sum of the counter metric over the probe's entries (without a status tag unless status). */
static long long probe_counter(json_object *sum, const char *metric, const char *status)
{
    json_object *arr, *m, *v;
    long long total = 0;
    ck_assert(json_object_object_get_ex(sum, "counters", &arr));
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *c = json_object_array_get_idx(arr, i);
        const char *actor = tag(c, "actor"), *st = tag(c, "status");
        json_object_object_get_ex(c, "metric", &m);
        if (!actor || strcmp(actor, "probe") != 0 || strcmp(json_object_get_string(m), metric))
            continue;
        if ((status == NULL) != (st == NULL) || (status && strcmp(status, st) != 0))
            continue;
        ck_assert_str_eq(tag(c, "endpoint"), "version");
        if (json_object_object_get_ex(c, "value", &v))
            total += json_object_get_int64(v);
    }
    return total;
}

static long long accounting(json_object *sum, const char *field)
{
    json_object *a, *v;
    ck_assert(json_object_object_get_ex(sum, "accounting", &a) &&
              json_object_object_get_ex(a, field, &v));
    return json_object_get_int64(v);
}

/* The probe's own identity (scheduled = completed + dropped + in flight, with at most its one
 * connection's request in flight) and the run's (every actor's in flight known). Returns the
 * probe's scheduled count. */
static long long check_identity(json_object *sum)
{
    long long scheduled = probe_counter(sum, "scheduled_requests", NULL);
    long long completed = probe_counter(sum, "http_reqs", NULL);
    long long dropped = probe_counter(sum, "dropped_requests", NULL);
    long long ok = probe_counter(sum, "http_reqs", "200");
    ck_assert_int_gt(scheduled, 0);
    ck_assert_int_gt(ok, 0);
    ck_assert_int_le(ok, completed);
    ck_assert_msg(scheduled - completed - dropped >= 0 && scheduled - completed - dropped <= 1,
                  "probe: scheduled %lld, completed %lld, dropped %lld", scheduled, completed,
                  dropped);
    ck_assert_int_eq(accounting(sum, "scheduled"),
                     accounting(sum, "answered") + accounting(sum, "transport_errors") +
                         accounting(sum, "timed_out") + accounting(sum, "dropped") +
                         accounting(sum, "in_flight"));
    ck_assert_int_ge(accounting(sum, "in_flight"), 0);
    return scheduled;
}

/* The threshold on the probe was judged, and passed. */
static void check_threshold(json_object *sum)
{
    json_object *arr, *e, *v;
    ck_assert(json_object_object_get_ex(sum, "thresholds", &arr));
    ck_assert_int_eq(json_object_array_length(arr), 1);
    e = json_object_array_get_idx(arr, 0);
    ck_assert(json_object_object_get_ex(e, "expr", &v));
    ck_assert_str_eq(json_object_get_string(v), THRESHOLD);
    ck_assert(json_object_object_get_ex(e, "ok", &v) && json_object_get_boolean(v));
}

START_TEST(test_probe_beside_the_fleet)
{
    char dir[256], sum_path[300], out_path[300], merged_path[300], merge_out[300], listen[32];
    testenv_mkdtemp(dir, sizeof dir, "check_actor_probe");
    snprintf(sum_path, sizeof sum_path, "%s/summary.json", dir);
    snprintf(out_path, sizeof out_path, "%s/run.txt", dir);
    snprintf(merged_path, sizeof merged_path, "%s/merged.json", dir);
    snprintf(merge_out, sizeof merge_out, "%s/merge.txt", dir);
    struct scraper s = {.port = free_port()};
    snprintf(listen, sizeof listen, "127.0.0.1:%u", s.port);
    char *argv[] = {
        "fleetsim", "--agents",    "20",      "--heartbeat",      "1s",   "--ramp",
        "1s",       "--duration",  "3s",      "--seed",           "5",    "--report-interval",
        "1s",       "--threshold", THRESHOLD, "--metrics-listen", listen, "--summary-json",
        sum_path,   "--quiet",     NULL};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, scrape, &s), 0);
    int rc = with_stdout(out_path, run_main, (int)(sizeof argv / sizeof argv[0]) - 1, argv);
    atomic_store(&s.run_over, true);
    pthread_join(th, NULL);
    ck_assert_int_eq(rc, 0);

    /* the summary JSON */
    json_object *sum = json_object_from_file(sum_path);
    ck_assert_ptr_nonnull(sum);
    long long scheduled = check_identity(sum);
    check_threshold(sum);

    /* the text summary: its lines, and the accounting balanced with every actor's in flight */
    char *text = testenv_slurp(out_path);
    ck_assert_msg(strstr(text, "\nprobe: ") && strstr(text, "/api/v1/version scheduled"), "%s",
                  text);
    ck_assert_msg(!strstr(text, "DOES NOT BALANCE"), "%s", testenv_tail(text));
    free(text);

    /* the live exposition: the probe's families under its actor label */
    ck_assert_msg(s.seen != NULL, "no scrape showed the probe's series");
    long long p_sched = sample(s.seen, "fleetsim_scheduled_requests_total" PROBE_LABELS);
    long long p_reqs = sample(s.seen, "fleetsim_http_reqs_total" PROBE_LABELS);
    long long p_drop = sample(s.seen, "fleetsim_dropped_requests_total" PROBE_LABELS);
    ck_assert_msg(p_sched > 0 && p_reqs >= 0 && p_drop >= 0 && p_reqs + p_drop <= p_sched &&
                      p_sched <= scheduled,
                  "scrape: scheduled %lld, reqs %lld, dropped %lld (run %lld)", p_sched, p_reqs,
                  p_drop, scheduled);
    free(s.seen);

    /* fleetsim merge of the summary (in this process, which knows the probe's names) */
    char *margv[] = {"merge", "--summary-json", merged_path, sum_path, NULL};
    ck_assert_int_eq(with_stdout(merge_out, cmd_merge_main, 4, margv), 0);
    json_object *merged = json_object_from_file(merged_path);
    ck_assert_ptr_nonnull(merged);
    ck_assert_int_eq(check_identity(merged), scheduled);
    ck_assert_int_eq(probe_counter(merged, "http_reqs", "200"),
                     probe_counter(sum, "http_reqs", "200"));
    check_threshold(merged);
    text = testenv_slurp(merge_out);
    ck_assert_msg(strstr(text, "probe") && !strstr(text, "DOES NOT BALANCE"), "%s",
                  testenv_tail(text));
    free(text);
    json_object_put(merged);
    json_object_put(sum);
    testenv_rmtree(dir);
}
END_TEST

int main(void)
{
    if (actor_register(&probe_actor) != 0 || actor_register_names() != 0)
        return 1;
    unsetenv("CERTCTL_SERVER_URL");
    unsetenv("CERTCTL_API_KEY");
    Suite *s = suite_create("actor_probe");
    TCase *tc = testenv_tcase(s, "run", 120);
    tcase_add_test(tc, test_probe_beside_the_fleet);
    return testenv_run(s);
}
