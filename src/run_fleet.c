/* src/run_fleet.c - the fleet as an actor of `fleetsim run` (src/actor.h): this shard's agents
 * (sim/fleet.h) on --threads loops, their dry-run events, their counters (retired, unknown
 * agents, jobs, keys) added to the results as actor metrics, and the fleet's lines of the
 * summary. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/exit_status.h"
#include "sim/fleet.h"
#include "sim/names.h"
#include "src/actor.h"
#include "src/run_internal.h"

#define ERR_MAX 512

struct run_fleet {
    const struct run_ctx *c;
    struct fleet *f;
    struct agent_counters k; /* after join */
};

static int fleet_register_names(void)
{
    return sim_names_register(SIM_ACTOR_AGENT);
}

static bool fleet_wanted(const struct run_ctx *c)
{
    return run_shard_agents(c) > 0;
}

/* --dry-run: the first scheduled events, one per line. */
static void fleet_plan_events(const struct run_ctx *c, FILE *out)
{
    struct fleet_config fc;
    run_fleet_config(c, &fc);
    uint32_t shard = fleet_shard_size(c->cfg.agents, fc.shard_k, fc.shard_n);
    size_t want = shard > RUN_DRY_RUN_MIN_EVENTS ? shard : RUN_DRY_RUN_MIN_EVENTS;
    struct fleet_plan_event *ev;
    long n = fleet_plan(&fc, want, &ev);
    if (n < 0) {
        fprintf(stderr, "fleetsim: out of memory planning the schedule\n");
        return;
    }
    fprintf(out, "events: the first %ld scheduled (agent, endpoint, intended offset in ms)\n", n);
    char id[AGENT_ID_MAX];
    for (long i = 0; i < n; i++) {
        agent_id(&c->set, ev[i].index, id, sizeof id);
        fprintf(out, "event %s %s %.3f\n", id, agent_endpoint_name(ev[i].ep),
                (double)ev[i].offset_ns / (double)CLOCK_NS_PER_MS);
    }
    free(ev);
}

static int fleet_setup(struct run_ctx *c, void **state)
{
    struct run_fleet *rf = calloc(1, sizeof *rf);
    if (!rf) {
        fprintf(stderr, "fleetsim: out of memory setting up the fleet\n");
        return EXIT_STATUS_FAILED;
    }
    struct fleet_config fc;
    run_fleet_config(c, &fc);
    char err[ERR_MAX];
    rf->c = c;
    if (!(rf->f = fleet_new(&fc, err, sizeof err))) {
        fprintf(stderr, "fleetsim: %s\n", err);
        free(rf);
        return EXIT_STATUS_FAILED;
    }
    *state = rf;
    return 0;
}

static int fleet_start_actor(void *state, uint64_t start_ns)
{
    int err = fleet_start(((struct run_fleet *)state)->f, start_ns);
    if (err != 0) {
        fprintf(stderr, "fleetsim: cannot start the fleet's threads: %s\n", strerror(-err));
        return EXIT_STATUS_FAILED;
    }
    return 0;
}

static void fleet_stop_actor(void *state)
{
    fleet_stop(((struct run_fleet *)state)->f);
}

static void fleet_cut_actor(void *state)
{
    fleet_cut(((struct run_fleet *)state)->f);
}

static bool fleet_finished_actor(void *state)
{
    return fleet_finished(((struct run_fleet *)state)->f);
}

static void fleet_join_actor(void *state)
{
    struct run_fleet *rf = state;
    fleet_join(rf->f);
    fleet_counters(rf->f, &rf->k);
}

static int fleet_interval_take_actor(void *state, struct metrics *out, uint64_t *taken_ns)
{
    return fleet_interval_take(((struct run_fleet *)state)->f, out, taken_ns);
}

/* Adds one fleet counter as an actor metric when it is not zero. */
static void add_counter(struct metrics *m, const char *scenario, const char *name, uint64_t v)
{
    if (v > 0)
        metrics_counter_add(m, name, scenario, SIM_ACTOR_AGENT, NULL, NULL, NULL, v);
}

static void add_counters(struct metrics *m, const char *scenario, const struct agent_counters *k)
{
    add_counter(m, scenario, "agent_retired", k->retired);
    add_counter(m, scenario, "agent_unknown", k->unknown_agents);
    add_counter(m, scenario, "agent_jobs_received", k->jobs_received);
    add_counter(m, scenario, "agent_work_unparsed", k->work_unparsed);
    add_counter(m, scenario, "agent_csr_generated", k->csr_generated);
    add_counter(m, scenario, "agent_csr_accepted", k->csr_accepted);
    add_counter(m, scenario, "agent_csr_failed", k->csr_failed);
    add_counter(m, scenario, "agent_deploy_completed", k->deploy_completed);
    add_counter(m, scenario, "agent_deploy_failed", k->deploy_failed);
    add_counter(m, scenario, "agent_key_match", k->key_match);
    add_counter(m, scenario, "agent_key_mismatch", k->key_mismatch);
    add_counter(m, scenario, "agent_key_missing", k->key_missing);
    add_counter(m, scenario, "agent_keys_kept", k->keys_kept);
    add_counter(m, scenario, "agent_verify_probes", k->verify_probes);
    add_counter(m, scenario, "agent_tls_full_handshakes", k->tls_full);
    add_counter(m, scenario, "agent_tls_resumed_handshakes", k->tls_resumed);
    add_counter(m, scenario, "agent_failures_csr", k->fail_csr);
    add_counter(m, scenario, "agent_failures_deploy", k->fail_deploy);
    add_counter(m, scenario, "agent_failures_verify", k->fail_verify);
}

/* The loops' metrics, then the fleet's counters as actor metrics. */
static int fleet_merge_actor(void *state, struct metrics *out)
{
    struct run_fleet *rf = state;
    int rc = fleet_metrics_merge(rf->f, out);
    if (rc == 0)
        add_counters(out, rf->c->scenario, &rf->k);
    return rc;
}

static int64_t fleet_in_flight_actor(void *state)
{
    return fleet_in_flight(((struct run_fleet *)state)->f);
}

static double fleet_demand_share(void *state)
{
    return fleet_max_demand_share(((struct run_fleet *)state)->f);
}

static double fleet_core_share(void *state)
{
    return fleet_max_core_share(((struct run_fleet *)state)->f);
}

/* The lines about the fleet itself after the engine's summary. */
static void fleet_print(void *state, const struct metrics *m, FILE *out)
{
    (void)m;
    const struct run_fleet *rf = state;
    const struct run_ctx *c = rf->c;
    const struct agent_counters *k = &rf->k;
    char slot[40];
    run_timer_slot_text(c, slot, sizeof slot);
    fprintf(out,
            "\nfleet: %u agents (shard %u/%u of %u), scenario %s, profile %s, %s, seed %" PRIu64
            "%s\n",
            fleet_size(rf->f), c->cfg.shard_k, c->cfg.shard_n, c->cfg.agents, c->scenario,
            c->set.profile == AGENT_PROFILE_CERTCTL_1_0 ? "certctl-1.0" : "default", slot,
            c->cfg.seed, c->result.phase != RUN_PHASE_NONE ? " (interrupted)" : "");
    if (k->retired)
        fprintf(out, "fleet: %" PRIu64 " agents were retired by the server (410) and stopped\n",
                k->retired);
    if (k->unknown_agents) {
        char id[AGENT_ID_MAX];
        agent_id(&c->set, k->first_unknown, id, sizeof id);
        fprintf(out,
                "fleet: %" PRIu64 " agents got 404 on heartbeat: agent %s does not exist in the "
                "server: run `fleetsim seed` or use --register\n",
                k->unknown_agents, id);
    }
    if (k->jobs_received || k->csr_generated)
        fprintf(out,
                "fleet: jobs %" PRIu64 " received; CSRs %" PRIu64 " accepted, %" PRIu64
                " failed; deployments %" PRIu64 " completed, %" PRIu64 " failed; keys %" PRIu64
                " matched, %" PRIu64 " mismatched, %" PRIu64 " missing, %" PRIu64
                " kept at the end; %" PRIu64 " verification probes\n",
                k->jobs_received, k->csr_accepted, k->csr_failed, k->deploy_completed,
                k->deploy_failed, k->key_match, k->key_mismatch, k->key_missing, k->keys_kept,
                k->verify_probes);
    if (k->fail_csr || k->fail_deploy || k->fail_verify)
        fprintf(out,
                "fleet: agent-side failures (--agent-failures, not server errors): %" PRIu64
                " CSR, %" PRIu64 " deploy, %" PRIu64 " verify probes\n",
                k->fail_csr, k->fail_deploy, k->fail_verify);
    if (k->tls_full || k->tls_resumed)
        fprintf(out,
                "fleet: TLS handshakes %" PRIu64 " full, %" PRIu64 " resumed (--tls-resume %s)\n",
                k->tls_full, k->tls_resumed, c->cfg.tls_resume ? "on" : "off");
}

static void fleet_free_actor(void *state)
{
    struct run_fleet *rf = state;
    if (!rf)
        return;
    fleet_free(rf->f);
    free(rf);
}

/* The fleet's table (registered in src/actors.c). */
const struct actor_ops fleet_actor = {.name = "fleet",
                                      .register_names = fleet_register_names,
                                      .wanted = fleet_wanted,
                                      .plan = fleet_plan_events,
                                      .setup = fleet_setup,
                                      .start = fleet_start_actor,
                                      .stop = fleet_stop_actor,
                                      .cut = fleet_cut_actor,
                                      .finished = fleet_finished_actor,
                                      .join = fleet_join_actor,
                                      .interval_take = fleet_interval_take_actor,
                                      .merge = fleet_merge_actor,
                                      .in_flight = fleet_in_flight_actor,
                                      .core_share = fleet_core_share,
                                      .demand_share = fleet_demand_share,
                                      .print = fleet_print,
                                      .free = fleet_free_actor};
