/* src/run_operator.c - the operator as an actor of `fleetsim run` (src/actor.h): the run has one
 * when a bulk rate is set (--bulk-rate or a preset) and this process runs shard 0 (one operator
 * per distributed run); its scenario tag is the first --scenario preset that sets a bulk rate,
 * else the run's. It runs on a one-loop engine/loop_group.h group (its own thread, event_base,
 * metrics registry, interval snapshots, stop and drain) through the loop hooks; the summary
 * gets the lines about the bulk-renewal campaign. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/clock.h"
#include "engine/exit_status.h"
#include "engine/loop_group.h"
#include "engine/parse.h"
#include "sim/agent.h"
#include "sim/identity.h"
#include "sim/names.h"
#include "sim/operator.h"
#include "src/actor.h"
#include "src/run_internal.h"

#define ERR_MAX 512
/* Calls --dry-run lists at most. */
#define PLAN_CALLS 10u

struct run_operator {
    struct operator* op;
    struct loop_group *lg;      /* one loop: the operator's thread */
    char *hdr_get, *hdr_post;   /* secrets: hold the API key */
    struct agent_settings hset; /* what the headers are built from */
    struct operator_summary sum;
    bool summed;
    uint32_t batch, n_certs;
    double rate_per_s;
    const char *scenario;
};

static int run_op_register_names(void)
{
    return sim_names_register(SIM_ACTOR_OPERATOR);
}

static bool run_op_wanted(const struct run_ctx *c)
{
    return c->cfg.bulk_rate_per_s > 0 && c->cfg.certs > 0 && c->cfg.shard_k == 0;
}

static const char *run_op_scenario(const struct run_ctx *c)
{
    return options_actor_scenario(&c->cfg, OPTIONS_ACTOR_OPERATOR);
}

/* --dry-run: the plan (certificates, batches, rate, one pass's length) and the first calls, as
 * "event operator bulk_renew mc-P-00001..mc-P-00050 OFFSET_MS" lines. */
static void run_op_plan(const struct run_ctx *c, FILE *out)
{
    const struct run_config *cfg = &c->cfg;
    uint32_t nb = operator_batch_count(cfg->certs, cfg->bulk_batch);
    char pass[24];
    clock_format_duration(pass, sizeof pass, operator_call_offset_ns(nb, cfg->bulk_rate_per_s));
    fprintf(out,
            "plan: operator (scenario %s): %u certificates mc-%s-%05u..%05u in %u batches of %u, "
            "bulk-renew at %g/s (one pass every %s), progress every %gs, at most %u in flight\n",
            run_op_scenario(c), cfg->certs, cfg->fleet_prefix, 1u, cfg->certs, nb, cfg->bulk_batch,
            cfg->bulk_rate_per_s, pass,
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
        fprintf(out, "event operator %s %s..%s %.3f\n", SIM_EP_NAME_BULK_RENEW, a, b,
                (double)off / (double)CLOCK_NS_PER_MS);
    }
}

/* ---- the loop hooks (the operator's thread) ------------------------------------------- */

static int op_start(void *user, uint64_t start_ns)
{
    return operator_start(((struct run_operator *)user)->op, start_ns);
}

static void op_begin_drain(void *user)
{
    operator_stop(((struct run_operator *)user)->op);
}

static uint64_t op_in_flight(void *user)
{
    return operator_in_flight(((struct run_operator *)user)->op);
}

static void op_finish(void *user)
{
    struct run_operator *ro = user;
    operator_finish(ro->op, &ro->sum);
    ro->summed = true;
}

/* ---- setup --------------------------------------------------------------------------------- */

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

static int build(struct run_operator *ro, const struct run_ctx *c, char *err, size_t errlen)
{
    const struct run_config *cfg = &c->cfg;
    ro->batch = cfg->bulk_batch;
    ro->n_certs = cfg->certs;
    ro->rate_per_s = cfg->bulk_rate_per_s;
    ro->scenario = run_op_scenario(c);
    /* precise timers: the operator's calls are paced and their lag measured in microseconds */
    struct loop_group_config lc = {.n_loops = 1,
                                   .tick_ns = OPERATOR_TICK_NS,
                                   .report_interval_ns = cfg->report_interval_ns,
                                   .grace_ns = cfg->grace_ns,
                                   .precise_timer = true,
                                   .hooks = {.start = op_start,
                                             .begin_drain = op_begin_drain,
                                             .in_flight = op_in_flight,
                                             .finish = op_finish}};
    char lerr[ERR_MAX];
    if (!(ro->lg = loop_group_new(&lc, lerr, sizeof lerr)) || build_headers(ro, c) != 0) {
        snprintf(err, errlen, "operator: out of memory");
        return -ENOMEM;
    }
    loop_group_set_user(ro->lg, 0, ro);
    struct operator_config oc = {.scenario = ro->scenario,
                                 .prefix = cfg->fleet_prefix,
                                 .n_certs = cfg->certs,
                                 .batch = cfg->bulk_batch,
                                 .rate_per_s = cfg->bulk_rate_per_s,
                                 .duration_ns = cfg->duration_ns,
                                 .max_calls = (uint64_t)cfg->bulk_passes *
                                              operator_batch_count(cfg->certs, cfg->bulk_batch),
                                 .base_path = c->set.base_path ? c->set.base_path : "",
                                 .headers_get = ro->hdr_get,
                                 .headers_post = ro->hdr_post,
                                 .conn = &c->cc};
    ro->op =
        operator_new(loop_group_base(ro->lg, 0), &oc, loop_group_metrics(ro->lg, 0), err, errlen);
    return ro->op ? 0 : -EINVAL;
}

static void run_op_free(void *state);

/* Builds the operator (against c->cc, with c->api_key, c->set.base_path) on its loop; the
 * thread starts in run_op_start. */
static int run_op_setup(struct run_ctx *c, void **state)
{
    if (!c->have_conn) {
        fprintf(stderr, "fleetsim: operator: no connection settings (internal)\n");
        return EXIT_STATUS_FAILED;
    }
    struct run_operator *ro = calloc(1, sizeof *ro);
    char err[ERR_MAX];
    if (!ro) {
        fprintf(stderr, "fleetsim: operator: out of memory\n");
        return EXIT_STATUS_FAILED;
    }
    if (build(ro, c, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: %s\n", err);
        run_op_free(ro);
        return EXIT_STATUS_FAILED;
    }
    *state = ro;
    return 0;
}

static int run_op_start(void *state, uint64_t start_ns)
{
    int rc = loop_group_start(((struct run_operator *)state)->lg, start_ns);
    if (rc != 0) {
        fprintf(stderr, "fleetsim: cannot start the operator's thread: %s\n", strerror(-rc));
        return EXIT_STATUS_FAILED;
    }
    return 0;
}

static void run_op_stop(void *state)
{
    loop_group_stop(((struct run_operator *)state)->lg);
}

static void run_op_cut(void *state)
{
    loop_group_cut(((struct run_operator *)state)->lg);
}

static bool run_op_finished(void *state)
{
    return loop_group_finished(((struct run_operator *)state)->lg);
}

static void run_op_join(void *state)
{
    int rc = loop_group_join(((struct run_operator *)state)->lg);
    if (rc != 0)
        fprintf(stderr, "fleetsim: the operator could not start: %s\n", strerror(-rc));
}

static int run_op_interval_take(void *state, struct metrics *out, uint64_t *taken_ns)
{
    return loop_group_interval_take(((struct run_operator *)state)->lg, out, taken_ns);
}

/* Its request series, the bulk_renew_* and campaign_* counters and campaign_duration. */
static int run_op_merge(void *state, struct metrics *out)
{
    return loop_group_metrics_merge(((struct run_operator *)state)->lg, out);
}

static int64_t run_op_in_flight(void *state)
{
    const struct run_operator *ro = state;
    return ro->summed ? ro->sum.in_flight : 0;
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

/* The operator's and the campaign's lines of the summary. */
static void run_op_print(void *state, const struct metrics *m, FILE *out)
{
    (void)m;
    const struct run_operator *ro = state;
    if (!ro->summed)
        return;
    const struct operator_summary *s = &ro->sum;
    fprintf(out,
            "\noperator: scenario %s, %" PRIu64 " bulk-renew calls at %g/s over %u certificates "
            "in %u batches of %u (%" PRIu64 " full passes): %" PRIu64 " answered 200, %" PRIu64
            " dropped (at most %u in flight)\n",
            ro->scenario, s->calls_scheduled, ro->rate_per_s, ro->n_certs, s->campaign.n_batches,
            ro->batch, s->passes, s->calls_ok, s->calls_dropped, OPERATOR_DEFAULT_MAX_IN_FLIGHT);
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

static void run_op_free(void *state)
{
    struct run_operator *ro = state;
    if (!ro)
        return;
    loop_group_stop(ro->lg);
    loop_group_join(ro->lg);
    operator_free(ro->op);
    loop_group_free(ro->lg);
    parse_secret_free(ro->hdr_get);
    parse_secret_free(ro->hdr_post);
    explicit_bzero(&ro->hset, sizeof ro->hset);
    free(ro);
}

/* The operator's table (registered in src/actors.c). */
const struct actor_ops operator_actor = {.name = "operator",
                                         .register_names = run_op_register_names,
                                         .wanted = run_op_wanted,
                                         .plan = run_op_plan,
                                         .setup = run_op_setup,
                                         .start = run_op_start,
                                         .stop = run_op_stop,
                                         .cut = run_op_cut,
                                         .finished = run_op_finished,
                                         .join = run_op_join,
                                         .interval_take = run_op_interval_take,
                                         .merge = run_op_merge,
                                         .in_flight = run_op_in_flight,
                                         .print = run_op_print,
                                         .free = run_op_free};
