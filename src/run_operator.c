/* src/run_operator.c - the operator's thread in `fleetsim run` (see run_operator.h): its own
 * event_base and metrics registry, a periodic tick that takes interval snapshots and watches
 * the stop flag and the drain, and the summary lines about the bulk-renewal campaign. */
#include "src/run_operator.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "engine/clock.h"
#include "engine/parse.h"
#include "sim/agent.h"
#include "sim/identity.h"
#include "sim/operator.h"
#include "src/run_internal.h"

#define ERR_MAX 512
/* Calls --dry-run lists at most. */
#define PLAN_CALLS 10u

struct run_operator {
    struct operator *op;
    struct event_base *base;
    struct metrics *metrics;
    struct metrics *snapshot;  /* interval data taken by the loop, read by the control thread */
    pthread_mutex_t mu;        /* guards snapshot */
    struct event *tick;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_bool finished;
    bool draining;
    uint64_t drain_deadline_ns, grace_ns;
    uint64_t start_ns, report_interval_ns, next_interval_ns;
    char *hdr_get, *hdr_post;  /* secrets: hold the API key */
    struct agent_settings hset; /* what the headers are built from */
    struct operator_summary sum;
    bool summed;
    uint32_t batch, n_certs;
    double rate_per_s;
    const char *scenario;
};

bool run_operator_wanted(const struct run_ctx *c)
{
    return c->cfg.bulk_rate_per_s > 0 && c->cfg.certs > 0 && c->cfg.shard_k == 0;
}

const char *run_operator_scenario(const struct run_ctx *c)
{
    return options_actor_scenario(&c->cfg, OPTIONS_ACTOR_OPERATOR);
}

void run_operator_plan(const struct run_ctx *c, FILE *out)
{
    if (!run_operator_wanted(c))
        return;
    const struct run_config *cfg = &c->cfg;
    uint32_t nb = operator_batch_count(cfg->certs, cfg->bulk_batch);
    char pass[24];
    clock_format_duration(pass, sizeof pass, operator_call_offset_ns(nb, cfg->bulk_rate_per_s));
    fprintf(out,
            "plan: operator (scenario %s): %u certificates mc-%s-%05u..%05u in %u batches of %u, "
            "bulk-renew at %g/s (one pass every %s), progress every %gs, at most %u in flight\n",
            run_operator_scenario(c), cfg->certs, cfg->fleet_prefix, 1u, cfg->certs, nb,
            cfg->bulk_batch, cfg->bulk_rate_per_s, pass,
            (double)OPERATOR_DEFAULT_PROGRESS_NS / (double)CLOCK_NS_PER_S,
            OPERATOR_DEFAULT_MAX_IN_FLIGHT);
    if (cfg->bulk_passes)
        fprintf(out, "plan: operator stops calling after %u pass(es), %" PRIu64 " calls\n",
                cfg->bulk_passes, (uint64_t)cfg->bulk_passes * nb);
    for (uint64_t k = 0; k < PLAN_CALLS; k++) {
        uint64_t off = operator_call_offset_ns(k, cfg->bulk_rate_per_s);
        if (off >= cfg->duration_ns || (cfg->bulk_passes && k >= (uint64_t)cfg->bulk_passes * nb))
            break;
        uint32_t first, n;
        operator_batch_of_call(k, cfg->certs, cfg->bulk_batch, &first, &n);
        char a[IDENTITY_NAME_MAX], b[IDENTITY_NAME_MAX];
        identity_cert_id(a, sizeof a, cfg->fleet_prefix, first);
        identity_cert_id(b, sizeof b, cfg->fleet_prefix, first + n - 1);
        fprintf(out, "event operator %s %s..%s %.3f\n", OPERATOR_EP_BULK_RENEW, a, b,
                (double)off / (double)CLOCK_NS_PER_MS);
    }
}

/* ---- the loop thread -------------------------------------------------------------------- */

static void take_snapshot(struct run_operator *ro)
{
    if (!ro->snapshot)
        return;
    pthread_mutex_lock(&ro->mu);
    metrics_interval_take(ro->metrics, ro->snapshot);
    pthread_mutex_unlock(&ro->mu);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct run_operator *ro = arg;
    uint64_t now = clock_now_ns();
    if (ro->report_interval_ns && now >= ro->next_interval_ns) {
        take_snapshot(ro);
        while (ro->next_interval_ns <= now)
            ro->next_interval_ns += ro->report_interval_ns;
    }
    if (!ro->draining && atomic_load(&ro->stop)) {
        ro->draining = true;
        ro->drain_deadline_ns = now + ro->grace_ns;
        operator_stop(ro->op);
    }
    if (ro->draining && (operator_in_flight(ro->op) == 0 || now >= ro->drain_deadline_ns))
        event_base_loopbreak(ro->base);
}

static void *loop_main(void *arg)
{
    struct run_operator *ro = arg;
    ro->next_interval_ns = ro->start_ns + ro->report_interval_ns;
    struct timeval tick = {0, (suseconds_t)(OPERATOR_TICK_NS / CLOCK_NS_PER_US)};
    if (operator_start(ro->op, ro->start_ns) == 0 && event_add(ro->tick, &tick) == 0)
        event_base_dispatch(ro->base);
    operator_finish(ro->op, &ro->sum);
    ro->summed = true;
    metrics_set_elapsed_ns(ro->metrics, clock_now_ns() - ro->start_ns);
    take_snapshot(ro);
    atomic_store(&ro->finished, true);
    return NULL;
}

/* ---- setup --------------------------------------------------------------------------------- */

static struct event_base *precise_base(void)
{
    struct event_config *ec = event_config_new();
    if (!ec)
        return NULL;
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    struct event_base *base = event_base_new_with_config(ec);
    event_config_free(ec);
    return base;
}

/* Headers as the agents send them (agent_headers), with fleetsim's own User-Agent. */
static int build_headers(struct run_operator *ro, const struct run_ctx *c)
{
    ro->hset = c->set;
    snprintf(ro->hset.user_agent_buf, sizeof ro->hset.user_agent_buf, "fleetsim/%s",
             PACKAGE_VERSION);
    ro->hset.user_agent = ro->hset.user_agent_buf;
    ro->hdr_get = agent_headers(&ro->hset, false);
    ro->hdr_post = agent_headers(&ro->hset, true);
    return ro->hdr_get && ro->hdr_post ? 0 : -ENOMEM;
}

static int build(struct run_operator *ro, const struct run_ctx *c, uint64_t start_ns, char *err,
                 size_t errlen)
{
    const struct run_config *cfg = &c->cfg;
    pthread_mutex_init(&ro->mu, NULL);
    atomic_init(&ro->stop, false);
    atomic_init(&ro->finished, false);
    ro->start_ns = start_ns;
    ro->grace_ns = cfg->grace_ns;
    ro->report_interval_ns = cfg->report_interval_ns;
    ro->batch = cfg->bulk_batch;
    ro->n_certs = cfg->certs;
    ro->rate_per_s = cfg->bulk_rate_per_s;
    ro->scenario = run_operator_scenario(c);
    bool intervals = cfg->report_interval_ns > 0;
    ro->base = precise_base();
    ro->metrics = metrics_new(intervals);
    ro->snapshot = intervals ? metrics_new(false) : NULL;
    ro->tick = ro->base ? event_new(ro->base, -1, EV_PERSIST, on_tick, ro) : NULL;
    if (!ro->base || !ro->metrics || (intervals && !ro->snapshot) || !ro->tick ||
        build_headers(ro, c) != 0) {
        snprintf(err, errlen, "operator: out of memory");
        return -ENOMEM;
    }
    struct operator_config oc = {
        .scenario = ro->scenario, .prefix = cfg->fleet_prefix, .n_certs = cfg->certs,
        .batch = cfg->bulk_batch, .rate_per_s = cfg->bulk_rate_per_s,
        .duration_ns = cfg->duration_ns,
        .max_calls = (uint64_t)cfg->bulk_passes * operator_batch_count(cfg->certs, cfg->bulk_batch),
        .base_path = c->set.base_path ? c->set.base_path : "", .headers_get = ro->hdr_get,
        .headers_post = ro->hdr_post, .conn = &c->cc};
    ro->op = operator_new(ro->base, &oc, ro->metrics, err, errlen);
    return ro->op ? 0 : -EINVAL;
}

int run_operator_start(const struct run_ctx *c, uint64_t start_ns, struct run_operator **out)
{
    *out = NULL;
    if (!run_operator_wanted(c))
        return 0;
    if (!c->have_conn) {
        fprintf(stderr, "fleetsim: operator: no connection settings (internal)\n");
        return RUN_EXIT_FAILED;
    }
    struct run_operator *ro = calloc(1, sizeof *ro);
    char err[ERR_MAX];
    if (!ro) {
        fprintf(stderr, "fleetsim: operator: out of memory\n");
        return RUN_EXIT_FAILED;
    }
    if (build(ro, c, start_ns, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: %s\n", err);
        run_operator_free(ro);
        return RUN_EXIT_FAILED;
    }
    int rc = pthread_create(&ro->thread, NULL, loop_main, ro);
    if (rc != 0) {
        fprintf(stderr, "fleetsim: cannot start the operator's thread: %s\n", strerror(rc));
        run_operator_free(ro);
        return RUN_EXIT_FAILED;
    }
    ro->thread_started = true;
    *out = ro;
    return 0;
}

void run_operator_stop(struct run_operator *ro)
{
    if (ro)
        atomic_store(&ro->stop, true);
}

bool run_operator_finished(const struct run_operator *ro)
{
    return !ro || !ro->thread_started || atomic_load(&ro->finished);
}

void run_operator_join(struct run_operator *ro)
{
    if (ro && ro->thread_started) {
        pthread_join(ro->thread, NULL);
        ro->thread_started = false;
    }
}

int run_operator_interval_take(struct run_operator *ro, struct metrics *out)
{
    if (!ro || !ro->snapshot)
        return 0;
    pthread_mutex_lock(&ro->mu);
    int rc = metrics_merge(out, ro->snapshot);
    metrics_reset(ro->snapshot);
    pthread_mutex_unlock(&ro->mu);
    return rc;
}

int run_operator_merge(struct run_operator *ro, struct metrics *out)
{
    return ro ? metrics_merge(out, ro->metrics) : 0;
}

int64_t run_operator_in_flight(const struct run_operator *ro)
{
    return ro && ro->summed ? ro->sum.in_flight : 0;
}

/* ---- summary ------------------------------------------------------------------------------- */

static void print_campaign(const struct run_operator *ro, FILE *out)
{
    const struct operator_campaign *k = &ro->sum.campaign;
    char dur[24];
    if (k->done_ns) {
        clock_format_duration(dur, sizeof dur, k->done_ns - k->start_ns);
        fprintf(out,
                "campaign: complete in %s: %" PRIu64 " certificates renewed by the fleet, %" PRIu64
                " skipped, %" PRIu64 " failed (first pass)\n",
                dur, k->renewed, k->skipped, k->failed);
    } else if (k->batches_done == k->n_batches && k->enqueued == 0) {
        fprintf(out,
                "campaign: the first pass enqueued nothing: %" PRIu64 " skipped (already in "
                "progress, archived, revoked or expired), %" PRIu64 " failed or not found\n",
                k->skipped, k->failed);
    } else if (k->batches_done < k->n_batches) {
        fprintf(out,
                "campaign: incomplete: the first pass did not end (%u of %u calls answered "
                "or lost); %" PRIu64 " renewed, %" PRIu64 " still in progress, %" PRIu64
                " skipped, %" PRIu64 " failed\n",
                k->batches_done, k->n_batches, k->renewed, k->pending, k->skipped, k->failed);
    } else {
        fprintf(out,
                "campaign: incomplete at the end: %" PRIu64 " renewed, %" PRIu64
                " still RenewalInProgress, %" PRIu64 " skipped, %" PRIu64 " failed (first pass)\n",
                k->renewed, k->pending, k->skipped, k->failed);
    }
}

void run_operator_print(const struct run_operator *ro, FILE *out)
{
    if (!ro || !ro->summed)
        return;
    const struct operator_summary *s = &ro->sum;
    fprintf(out,
            "\noperator: scenario %s, %" PRIu64 " bulk-renew calls at %g/s over %u certificates "
            "in %u batches of %u (%" PRIu64 " full passes): %" PRIu64 " answered 200, %" PRIu64
            " dropped (at most %u in flight)\n",
            ro->scenario, s->calls_scheduled, ro->rate_per_s, ro->n_certs,
            s->campaign.n_batches, ro->batch, s->passes, s->calls_ok, s->calls_dropped,
            OPERATOR_DEFAULT_MAX_IN_FLIGHT);
    if (s->campaign.start_ns == 0)
        return;
    fprintf(out, "operator: first pass enqueued %" PRIu64 " certificates", s->campaign.enqueued);
    if (s->last_in_progress >= 0)
        fprintf(out, "; the last progress poll read %" PRId64 " RenewalInProgress",
                s->last_in_progress);
    fprintf(out, "\n");
    print_campaign(ro, out);
    if (s->campaign.enqueued == 0 && s->campaign.skipped == 0 && s->campaign.failed > 0)
        fprintf(out,
                "operator: hint: no certificate of the first pass was found or answered: are "
                "mc-%s-00001..%05u seeded? (fleetsim seed --certs %u)\n",
                ro->hset.prefix, ro->n_certs, ro->n_certs);
}

void run_operator_free(struct run_operator *ro)
{
    if (!ro)
        return;
    run_operator_stop(ro);
    run_operator_join(ro);
    operator_free(ro->op);
    if (ro->tick)
        event_free(ro->tick);
    metrics_free(ro->metrics);
    metrics_free(ro->snapshot);
    if (ro->base)
        event_base_free(ro->base);
    pthread_mutex_destroy(&ro->mu);
    parse_secret_free(ro->hdr_get);
    parse_secret_free(ro->hdr_post);
    explicit_bzero(&ro->hset, sizeof ro->hset);
    free(ro);
}
