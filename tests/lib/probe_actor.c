/* tests/lib/probe_actor.c - a fourth actor for tests, defined outside src/ and added to a run
 * with one line, actor_register(&probe_actor) (src/actor.h): on its own one-loop
 * engine/loop_group.h group it sends GET <base path>/api/v1/version to the run's target through
 * the engine's HTTP client every PROBE_PERIOD_NS, at most PROBE_MAX_REQUESTS in all, over one
 * keep-alive connection. A tick that finds the previous request still in flight counts as
 * dropped. Its requests are the series actor "probe", endpoint "version" (200 expected), under
 * the run's scenario tag; it registers both names, so thresholds can judge it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exit_status.h"
#include "engine/http_client.h"
#include "engine/loop_group.h"
#include "engine/metric_names.h"
#include "sim/agent.h"
#include "src/actor.h"
#include "src/run_internal.h"

#define PROBE_ACTOR "probe"
#define PROBE_ENDPOINT "version"
#define PROBE_PATH "/api/v1/version"
#define PROBE_PERIOD_MS 50u
#define PROBE_PERIOD_NS ((uint64_t)PROBE_PERIOD_MS * 1000000u)
#define PROBE_MAX_REQUESTS 1000u
#define PROBE_PATH_MAX 512
#define ERR_MAX 256

struct probe {
    const struct run_ctx *c;
    struct loop_group *lg;
    struct http_conn *conn;   /* the loop's; NULL after finish */
    struct metrics_series *s; /* in the loop's registry */
    uint64_t next_ns;         /* intended time of the next request */
    uint32_t scheduled, answered_200;
    bool draining;
    char path[PROBE_PATH_MAX];
};

static int probe_register_names(void)
{
    int rc = metric_names_add_actor(PROBE_ACTOR);
    return rc == 0 ? metric_names_add_endpoint(PROBE_ENDPOINT) : rc;
}

static bool probe_wanted(const struct run_ctx *c)
{
    return c->have_conn;
}

static void probe_plan(const struct run_ctx *c, FILE *out)
{
    (void)c;
    fprintf(out, "plan: probe: GET %s every %u ms, at most %u requests\n", PROBE_PATH,
            PROBE_PERIOD_MS, PROBE_MAX_REQUESTS);
}

static void on_answer(const struct http_result *res, void *arg)
{
    struct probe *p = arg;
    bool ok = res->error == HTTP_ERR_NONE && res->status == 200;
    agent_record_result(p->s, res, ok, 0);
    p->answered_200 += ok;
}

/* ---- the loop hooks (the probe's thread) ----------------------------------------------- */

static int loop_start(void *user, uint64_t start_ns)
{
    struct probe *p = user;
    p->next_ns = start_ns;
    p->conn = http_conn_new(loop_group_base(p->lg, 0), &p->c->cc);
    p->s =
        metrics_series(loop_group_metrics(p->lg, 0), p->c->scenario, PROBE_ACTOR, PROBE_ENDPOINT);
    return p->conn && p->s ? 0 : -ENOMEM;
}

/* Every request due by now: sent, or dropped when the previous one is still in flight. */
static void loop_tick(void *user, uint64_t now_ns)
{
    struct probe *p = user;
    while (!p->draining && p->scheduled < PROBE_MAX_REQUESTS && p->next_ns <= now_ns) {
        struct http_request rq = {.method = "GET",
                                  .path = p->path,
                                  .headers = "User-Agent: fleetsim-probe\r\n",
                                  .intended_ns = p->next_ns};
        p->next_ns += PROBE_PERIOD_NS;
        p->scheduled++;
        metrics_scheduled(p->s);
        if (http_conn_busy(p->conn) || http_conn_send(p->conn, &rq, on_answer, p) != 0)
            metrics_dropped(p->s);
    }
}

static void loop_begin_drain(void *user)
{
    ((struct probe *)user)->draining = true;
}

static uint64_t loop_in_flight(void *user)
{
    const struct probe *p = user;
    return p->conn && http_conn_busy(p->conn) ? 1 : 0;
}

/* A request still in flight is abandoned here: it stays "in flight" in the accounting. */
static void loop_finish(void *user)
{
    struct probe *p = user;
    http_conn_free(p->conn);
    p->conn = NULL;
}

/* ---- the actor ----------------------------------------------------------------------------- */

static void probe_free(void *state)
{
    struct probe *p = state;
    if (!p)
        return;
    loop_group_free(p->lg); /* stops and joins first */
    http_conn_free(p->conn);
    free(p);
}

static int probe_setup(struct run_ctx *c, void **state)
{
    struct probe *p = calloc(1, sizeof *p);
    char err[ERR_MAX];
    if (!p)
        return EXIT_STATUS_FAILED;
    p->c = c;
    snprintf(p->path, sizeof p->path, "%s%s", c->set.base_path ? c->set.base_path : "", PROBE_PATH);
    struct loop_group_config lc = {.n_loops = 1,
                                   .tick_ns = PROBE_PERIOD_NS / 5,
                                   .report_interval_ns = c->cfg.report_interval_ns,
                                   .grace_ns = c->cfg.grace_ns,
                                   .hooks = {.start = loop_start,
                                             .tick = loop_tick,
                                             .begin_drain = loop_begin_drain,
                                             .in_flight = loop_in_flight,
                                             .finish = loop_finish}};
    if (!(p->lg = loop_group_new(&lc, err, sizeof err))) {
        fprintf(stderr, "fleetsim: probe: %s\n", err);
        free(p);
        return EXIT_STATUS_FAILED;
    }
    loop_group_set_user(p->lg, 0, p);
    *state = p;
    return 0;
}

static int probe_start(void *state, uint64_t start_ns)
{
    return loop_group_start(((struct probe *)state)->lg, start_ns) == 0 ? 0 : EXIT_STATUS_FAILED;
}

static void probe_stop(void *state)
{
    loop_group_stop(((struct probe *)state)->lg);
}

static void probe_cut(void *state)
{
    loop_group_cut(((struct probe *)state)->lg);
}

static bool probe_finished(void *state)
{
    return loop_group_finished(((struct probe *)state)->lg);
}

static void probe_join(void *state)
{
    loop_group_join(((struct probe *)state)->lg);
}

static int probe_interval_take(void *state, struct metrics *out, uint64_t *taken_ns)
{
    return loop_group_interval_take(((struct probe *)state)->lg, out, taken_ns);
}

static int probe_merge(void *state, struct metrics *out)
{
    return loop_group_metrics_merge(((struct probe *)state)->lg, out);
}

static int64_t probe_in_flight(void *state)
{
    return loop_group_in_flight_end(((struct probe *)state)->lg);
}

static void probe_print(void *state, const struct metrics *m, FILE *out)
{
    (void)m;
    const struct probe *p = state;
    fprintf(out, "\nprobe: %u requests to %s scheduled, %u answered 200\n", p->scheduled, p->path,
            p->answered_200);
}

/* The probe's table: register it with actor_register(&probe_actor) before the options are
 * parsed. */
const struct actor_ops probe_actor = {.name = "probe",
                                      .register_names = probe_register_names,
                                      .wanted = probe_wanted,
                                      .plan = probe_plan,
                                      .setup = probe_setup,
                                      .start = probe_start,
                                      .stop = probe_stop,
                                      .cut = probe_cut,
                                      .finished = probe_finished,
                                      .join = probe_join,
                                      .interval_take = probe_interval_take,
                                      .merge = probe_merge,
                                      .in_flight = probe_in_flight,
                                      .print = probe_print,
                                      .free = probe_free};
