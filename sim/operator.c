/* sim/operator.c - the operator actor on one event_base (see operator.h): an open-model
 * schedule of bulk-renew calls over a small pool of keep-alive connections (one call in flight
 * each; a call due while every connection is busy is dropped and counted), the progress poll
 * on its own connection, the measurement of both, and the campaign fed from the answers. */
#include "sim/operator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "sim/agent.h"

/* Longest request path (base path + endpoint). */
#define OPERATOR_PATH_MAX 1024

/* One pooled connection and the call it carries. */
struct op_slot {
    struct operator* op;
    struct http_conn *conn;
    uint64_t k; /* the call in flight */
};

struct operator
{
    struct event_base *base;
    struct operator_config cfg;
    struct metrics *m;
    struct metrics_series *s_bulk, *s_list;
    struct operator_campaign camp;
    struct event *call_ev, *poll_ev;
    struct op_slot *slots;
    uint32_t n_slots;
    uint32_t *idle; /* stack of idle slot indexes (the last released on top: warm) */
    uint32_t n_idle;
    struct http_conn *poll_conn;
    bool poll_busy;
    char *body;
    size_t body_cap;
    char bulk_path[OPERATOR_PATH_MAX], list_path[OPERATOR_PATH_MAX];
    uint64_t start_ns;
    uint64_t next_k;    /* next call to schedule */
    uint64_t next_poll; /* next progress poll number (1-based) */
    bool started, stopped, done_recorded, finished;
    struct operator_summary sum;
};

/* True when call k (due at offset_ns) is past the operator's calls. */
static bool calls_over(const struct operator* op, uint64_t k, uint64_t offset_ns)
{
    return (op->cfg.duration_ns && offset_ns >= op->cfg.duration_ns) ||
           (op->cfg.max_calls && k >= op->cfg.max_calls);
}

static struct timeval tv_until(uint64_t at_ns, uint64_t now_ns)
{
    uint64_t d = at_ns > now_ns ? at_ns - now_ns : 0;
    /* round up: a timer must not fire before its intended time */
    uint64_t us = (d + CLOCK_NS_PER_US - 1) / CLOCK_NS_PER_US;
    return (struct timeval){(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
}

/* Records campaign_duration once the campaign completed. */
static void note_campaign(struct operator* op)
{
    if (op->done_recorded || !operator_campaign_complete(&op->camp))
        return;
    op->done_recorded = true;
    metrics_trend_record(op->m, METRIC_CAMPAIGN_DURATION, op->cfg.scenario, SIM_ACTOR_OPERATOR,
                         NULL, operator_campaign_duration_ns(&op->camp) / CLOCK_NS_PER_US);
}

/* ---- bulk-renew calls ------------------------------------------------------------------ */

struct note_ctx {
    struct operator* op;
    uint64_t k, now_ns;
};

static void note_cert(const char *certificate_id, bool enqueued, void *arg)
{
    struct note_ctx *n = arg;
    operator_campaign_note(&n->op->camp, n->k, certificate_id, enqueued, n->now_ns);
}

static void count(struct operator* op, const char *metric, int64_t v)
{
    metrics_counter_add(op->m, metric, op->cfg.scenario, SIM_ACTOR_OPERATOR, SIM_EP_NAME_BULK_RENEW,
                        NULL, NULL, (uint64_t)v);
}

/* A 200 answer to call k: counters and campaign; false when the body is not the shape. */
static bool take_answer(struct operator* op, uint64_t k, const struct http_result *res)
{
    struct operator_bulk_result r;
    if (operator_parse_bulk(res->body, res->body_len, &r, NULL, NULL) != 0) {
        count(op, OPERATOR_M_UNPARSED, 1);
        return false;
    }
    struct note_ctx n = {op, k, res->done_ns};
    operator_parse_bulk(res->body, res->body_len, &r, note_cert, &n);
    count(op, OPERATOR_M_MATCHED, r.matched);
    count(op, OPERATOR_M_ENQUEUED, r.enqueued);
    count(op, OPERATOR_M_SKIPPED, r.skipped);
    count(op, OPERATOR_M_FAILED, r.failed);
    operator_campaign_first_answer(&op->camp, k, &r, res->done_ns);
    return true;
}

static void on_bulk_done(const struct http_result *res, void *arg)
{
    struct op_slot *sl = arg;
    struct operator* op = sl->op;
    uint64_t k = sl->k;
    op->idle[op->n_idle++] = (uint32_t)(sl - op->slots);
    bool ok = res->error == HTTP_ERR_NONE && res->status == 200;
    agent_record_result(op->s_bulk, res, ok, 0);
    if (ok)
        op->sum.calls_ok++;
    if (!(ok && take_answer(op, k, res)))
        operator_campaign_first_lost(&op->camp, k, res->done_ns);
    note_campaign(op);
}

/* Every slot idle, slot 0 on top (connections open lazily, in that order). */
static void init_idle(struct operator* op)
{
    for (uint32_t i = 0; i < op->n_slots; i++)
        op->idle[i] = op->n_slots - 1 - i;
    op->n_idle = op->n_slots;
}

/* Sends call k intended at intended_ns, or drops it when every connection is busy. */
static void dispatch_call(struct operator* op, uint64_t k, uint64_t intended_ns)
{
    metrics_scheduled(op->s_bulk);
    op->sum.calls_scheduled++;
    if (k == 0)
        operator_campaign_begin(&op->camp, intended_ns);
    if (op->n_idle == 0) {
        metrics_dropped(op->s_bulk);
        op->sum.calls_dropped++;
        operator_campaign_first_lost(&op->camp, k, clock_now_ns());
        return;
    }
    uint32_t first, n;
    operator_batch_of_call(k, op->cfg.n_certs, op->cfg.batch, &first, &n);
    int len = operator_bulk_body(op->body, op->body_cap, op->cfg.prefix, first, n);
    struct op_slot *sl = &op->slots[op->idle[op->n_idle - 1]];
    struct http_request req = {.method = "POST",
                               .path = op->bulk_path,
                               .headers = op->cfg.headers_post,
                               .body = op->body,
                               .body_len = len > 0 ? (size_t)len : 0,
                               .intended_ns = intended_ns};
    int rc = len > 0 ? http_conn_send(sl->conn, &req, on_bulk_done, sl) : len;
    if (rc != 0) {
        uint64_t now = clock_now_ns();
        struct request_timing t = {intended_ns, 0, 0, now, 0, 0, 0};
        metrics_transport_error(op->s_bulk, &t, METRICS_ERR_OTHER);
        operator_campaign_first_lost(&op->camp, k, now);
        return;
    }
    op->n_idle--;
    sl->k = k;
    op->sum.calls_sent++;
}

static void on_call_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct operator* op = arg;
    if (op->stopped)
        return;
    uint64_t now = clock_now_ns();
    for (;;) {
        uint64_t off = operator_call_offset_ns(op->next_k, op->cfg.rate_per_s);
        if (calls_over(op, op->next_k, off))
            return;
        uint64_t due = op->start_ns + off;
        if (due > now) {
            struct timeval tv = tv_until(due, now);
            event_add(op->call_ev, &tv);
            return;
        }
        dispatch_call(op, op->next_k, due);
        op->next_k++;
    }
}

/* ---- progress poll ----------------------------------------------------------------------- */

static void on_poll_done(const struct http_result *res, void *arg)
{
    struct operator* op = arg;
    op->poll_busy = false;
    bool ok = res->error == HTTP_ERR_NONE && res->status == 200;
    agent_record_result(op->s_list, res, ok, 0);
    int64_t total;
    if (ok && operator_parse_list_total(res->body, res->body_len, &total) == 0) {
        op->sum.last_in_progress = total;
        operator_campaign_progress(&op->camp, total, res->sent_ns, res->done_ns);
        note_campaign(op);
    }
}

static void on_poll_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct operator* op = arg;
    uint64_t now = clock_now_ns();
    uint64_t off = op->next_poll * op->cfg.progress_ns;
    if (op->stopped || operator_campaign_complete(&op->camp))
        return;
    uint64_t due = op->start_ns + off;
    if (!op->s_list) /* created on the first poll: no empty row when the campaign ends first */
        op->s_list =
            metrics_series(op->m, op->cfg.scenario, SIM_ACTOR_OPERATOR, SIM_EP_NAME_CERT_LIST);
    if (!op->s_list)
        return; /* out of series: no progress polls */
    if (due <= now) {
        metrics_scheduled(op->s_list);
        op->sum.progress_polls++;
        struct http_request req = {.method = "GET",
                                   .path = op->list_path,
                                   .headers = op->cfg.headers_get,
                                   .intended_ns = due};
        if (op->poll_busy) {
            metrics_dropped(op->s_list);
        } else if (http_conn_send(op->poll_conn, &req, on_poll_done, op) == 0) {
            op->poll_busy = true;
        } else {
            struct request_timing t = {due, 0, 0, now, 0, 0, 0};
            metrics_transport_error(op->s_list, &t, METRICS_ERR_OTHER);
        }
        /* skip polls the loop was too late for: one poll per period at most */
        while (op->start_ns + op->next_poll * op->cfg.progress_ns <= now)
            op->next_poll++;
        due = op->start_ns + op->next_poll * op->cfg.progress_ns;
    }
    struct timeval tv = tv_until(due, now);
    event_add(op->poll_ev, &tv);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static int check_config(const struct operator_config *cfg, char *err, size_t errlen)
{
    const char *what = NULL;
    if (!cfg->scenario || !cfg->prefix || !cfg->conn || !cfg->base_path)
        what = "missing scenario, prefix, base path or destination";
    else if (cfg->n_certs == 0)
        what = "no certificates (--certs)";
    else if (cfg->batch == 0 || cfg->batch > OPERATOR_MAX_BATCH)
        what = "batch size out of range (--bulk-batch)";
    else if (!(cfg->rate_per_s > 0))
        what = "no call rate (--bulk-rate)";
    if (!what)
        return 0;
    snprintf(err, errlen, "operator: %s", what);
    return -EINVAL;
}

static int build_paths(struct operator* op, char *err, size_t errlen)
{
    int a = snprintf(op->bulk_path, sizeof op->bulk_path, "%s%s", op->cfg.base_path,
                     OPERATOR_BULK_PATH);
    int b = snprintf(op->list_path, sizeof op->list_path, "%s%s", op->cfg.base_path,
                     OPERATOR_PROGRESS_PATH);
    if (a < 0 || b < 0 || (size_t)a >= sizeof op->bulk_path || (size_t)b >= sizeof op->list_path) {
        snprintf(err, errlen, "operator: the URL's base path is too long");
        return -ENAMETOOLONG;
    }
    return 0;
}

static int alloc_parts(struct operator* op)
{
    op->n_slots = op->cfg.max_in_flight;
    op->slots = calloc(op->n_slots, sizeof *op->slots);
    op->idle = calloc(op->n_slots, sizeof *op->idle);
    op->body_cap = operator_bulk_body_max(op->cfg.prefix, op->cfg.batch);
    op->body = malloc(op->body_cap);
    op->call_ev = evtimer_new(op->base, on_call_timer, op);
    op->poll_ev = evtimer_new(op->base, on_poll_timer, op);
    op->poll_conn = http_conn_new(op->base, op->cfg.conn);
    op->s_bulk =
        metrics_series(op->m, op->cfg.scenario, SIM_ACTOR_OPERATOR, SIM_EP_NAME_BULK_RENEW);
    if (!op->slots || !op->idle || !op->body || !op->call_ev || !op->poll_ev || !op->poll_conn ||
        !op->s_bulk)
        return -ENOMEM;
    for (uint32_t i = 0; i < op->n_slots; i++) {
        op->slots[i].op = op;
        if (!(op->slots[i].conn = http_conn_new(op->base, op->cfg.conn)))
            return -ENOMEM;
    }
    init_idle(op);
    return operator_campaign_init(&op->camp, op->cfg.prefix, op->cfg.n_certs, op->cfg.batch);
}

struct operator* operator_new(struct event_base *base, const struct operator_config *cfg,
                              struct metrics *metrics, char *err, size_t errlen)
{
    if (check_config(cfg, err, errlen) != 0)
        return NULL;
    struct operator* op = calloc(1, sizeof *op);
    if (!op) {
        snprintf(err, errlen, "operator: out of memory");
        return NULL;
    }
    op->base = base;
    op->cfg = *cfg;
    op->m = metrics;
    if (!op->cfg.max_in_flight)
        op->cfg.max_in_flight = OPERATOR_DEFAULT_MAX_IN_FLIGHT;
    if (!op->cfg.progress_ns)
        op->cfg.progress_ns = OPERATOR_DEFAULT_PROGRESS_NS;
    op->sum.last_in_progress = -1;
    if (build_paths(op, err, errlen) != 0) {
        operator_free(op);
        return NULL;
    }
    if (alloc_parts(op) != 0) {
        snprintf(err, errlen, "operator: out of memory for %u certificates", cfg->n_certs);
        operator_free(op);
        return NULL;
    }
    return op;
}

int operator_start(struct operator* op, uint64_t start_ns)
{
    if (op->started)
        return -EALREADY;
    op->started = true;
    op->start_ns = start_ns;
    op->next_poll = 1;
    uint64_t now = clock_now_ns();
    struct timeval tc = tv_until(start_ns, now);
    struct timeval tp = tv_until(start_ns + op->cfg.progress_ns, now);
    if (event_add(op->call_ev, &tc) != 0 || event_add(op->poll_ev, &tp) != 0)
        return -EIO;
    return 0;
}

void operator_stop(struct operator* op)
{
    op->stopped = true;
    if (op->call_ev)
        event_del(op->call_ev);
    if (op->poll_ev)
        event_del(op->poll_ev);
}

unsigned operator_in_flight(const struct operator* op)
{
    return (op->n_slots - op->n_idle) + (op->poll_busy ? 1u : 0u);
}

bool operator_idle(const struct operator* op)
{
    return op->stopped && operator_in_flight(op) == 0;
}

const struct operator_campaign *operator_campaign_of(const struct operator* op)
{
    return &op->camp;
}

void operator_finish(struct operator* op, struct operator_summary *out)
{
    const struct operator_campaign *c = &op->camp;
    if (!op->finished && c->start_ns) {
        op->finished = true;
        const char *s = op->cfg.scenario;
        metrics_counter_add(op->m, OPERATOR_M_CAMPAIGN_RENEWED, s, SIM_ACTOR_OPERATOR, NULL, NULL,
                            NULL, c->renewed);
        metrics_counter_add(op->m, OPERATOR_M_CAMPAIGN_PENDING, s, SIM_ACTOR_OPERATOR, NULL, NULL,
                            NULL, c->pending);
        metrics_counter_add(op->m, OPERATOR_M_CAMPAIGN_SKIPPED, s, SIM_ACTOR_OPERATOR, NULL, NULL,
                            NULL, c->skipped);
        metrics_counter_add(op->m, OPERATOR_M_CAMPAIGN_FAILED, s, SIM_ACTOR_OPERATOR, NULL, NULL,
                            NULL, c->failed);
    }
    if (!out)
        return;
    *out = op->sum;
    uint32_t nb = op->camp.n_batches;
    out->passes = nb ? op->sum.calls_scheduled / nb : 0;
    out->campaign = *c;
    out->campaign.state = NULL;
    out->in_flight = (int64_t)operator_in_flight(op);
}

void operator_free(struct operator* op)
{
    if (!op)
        return;
    for (uint32_t i = 0; op->slots && i < op->n_slots; i++)
        http_conn_free(op->slots[i].conn);
    free(op->slots);
    free(op->idle);
    http_conn_free(op->poll_conn);
    if (op->call_ev)
        event_free(op->call_ev);
    if (op->poll_ev)
        event_free(op->poll_ev);
    free(op->body);
    operator_campaign_destroy(&op->camp);
    free(op);
}
