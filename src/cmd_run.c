/* src/cmd_run.c - `fleetsim run` (see cmd_run.h): setup (presets, profile, target), --dry-run
 * (the plan, each actor's plan and the first scheduled events, nothing sent), pre-flight,
 * --register, the run's actors (src/actor.h) set up and run under the control loop, and the
 * report with thresholds and the exit code. */
#include "src/cmd_run.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/exit_status.h"
#include "engine/interrupt.h"
#include "engine/out_file.h"
#include "sim/fleet.h"
#include "sim/register.h"
#include "src/preflight.h"
#include "src/run_internal.h"

#define ERR_MAX 512

static void preflight_input(const struct run_ctx *c, struct preflight_input *in)
{
    const struct run_config *cfg = &c->cfg;
    memset(in, 0, sizeof *in);
    in->conn = c->have_conn ? &c->cc : NULL;
    in->set = &c->set;
    in->target_text = c->target_text;
    in->first_index = fleet_shard_index(0, cfg->shard_k, cfg->shard_n ? cfg->shard_n : 1);
    uint32_t shard = run_shard_agents(c);
    in->check_agent = !cfg->register_agents && shard > 0;
    in->shard_agents = shard;
    in->shard_k = cfg->shard_k;
    in->shard_n = cfg->shard_n ? cfg->shard_n : 1;
    in->connections = cfg->conn_mode == OPTIONS_CONN_POOL ? cfg->pool_size : shard;
    in->builtin_target = !cfg->url_set;
    in->source_count = cfg->source_ips_set ? parse_ipv4_range_count(&cfg->source_ips) : 0;
}

/* --dry-run: the plan, then the first scheduled events, one per line. */
static int dry_run(struct run_ctx *c)
{
    const struct run_config *cfg = &c->cfg;
    struct fleet_config fc;
    run_fleet_config(c, &fc);
    uint32_t shard = fleet_shard_size(cfg->agents, fc.shard_k, fc.shard_n);
    char hb[24], poll[24], ramp[64], poll_ramp[24], dur[24], slot[40];
    clock_format_duration(hb, sizeof hb, c->set.heartbeat.interval_ns);
    clock_format_duration(poll, sizeof poll, c->set.poll.interval_ns);
    clock_format_duration(ramp, sizeof ramp, c->set.heartbeat.ramp_ns);
    if (c->set.poll.interval_ns && c->set.poll.ramp_ns != c->set.heartbeat.ramp_ns) {
        size_t len = strlen(ramp);
        snprintf(ramp + len, sizeof ramp - len, " (polls %s)",
                 clock_format_duration(poll_ramp, sizeof poll_ramp, c->set.poll.ramp_ns));
    }
    clock_format_duration(dur, sizeof dur, cfg->duration_ns);
    run_timer_slot_text(c, slot, sizeof slot);
    printf("fleetsim run --dry-run: nothing is sent\n");
    printf("plan: target %s\n", c->target_text);
    printf("plan: seed %" PRIu64 ", %u agents in shard %u/%u of %u, scenario %s, profile %s\n",
           cfg->seed, shard, fc.shard_k, fc.shard_n, cfg->agents, c->scenario,
           agent_profile_name(c->set.profile));
    printf("plan: heartbeat %s (jitter %.0f%%), poll %s, ramp %s, duration %s, %u thread(s), "
           "%s connections, %s\n",
           hb, c->set.heartbeat.jitter_pct, c->set.poll.interval_ns ? poll : "off", ramp, dur,
           fc.threads, fc.pool_size ? "pooled" : "per-agent", slot);
    for (size_t i = 0; i < c->n_thresholds; i++)
        printf("plan: threshold %s\n", c->thresholds[i].spec);
    struct preflight_input in;
    preflight_input(c, &in);
    preflight_plan(&in, stdout);
    run_actors_plan(c, stdout);
    return EXIT_STATUS_OK;
}

/* --register, then --agents-file written. Returns 0 or EXIT_STATUS_FAILED. */
static int do_register(struct run_ctx *c)
{
    const struct run_config *cfg = &c->cfg;
    c->pre = metrics_new(false);
    struct register_config rc = {.set = &c->set,
                                 .conn = &c->cc,
                                 .n_agents = cfg->agents,
                                 .shard_k = cfg->shard_k,
                                 .shard_n = cfg->shard_n ? cfg->shard_n : 1,
                                 .progress = c->quiet ? NULL : stderr,
                                 .metrics = c->pre};
    char err[ERR_MAX];
    if (register_agents(&rc, c->ids, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: %s\n", err);
        c->pre_in_flight = rc.in_flight_end;
        return EXIT_STATUS_FAILED;
    }
    if (cfg->agents_file && register_write_file(cfg->agents_file, c->ids, cfg->agents, rc.shard_k,
                                                rc.shard_n, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: %s\n", err);
        return EXIT_STATUS_FAILED;
    }
    return 0;
}

/* A step before the load failed (rc): when a signal was the cause, the run still ends as a
 * result (status interrupted, every output written, its exit code); else rc. */
static int before_load(struct run_ctx *c, enum run_phase phase, int rc)
{
    if (rc == 0 || interrupt_count() == 0)
        return rc;
    c->result.phase = phase;
    c->result.signal = interrupt_signal(1);
    c->started_at = c->ended_at = clock_wall_s();
    /* every output exists afterwards: the interval log has no interval yet */
    char why[ERR_MAX];
    if (c->cfg.interval_log_path && !c->interval_log &&
        !(c->interval_log = out_stream_open(c->cfg.interval_log_path, why, sizeof why)))
        fprintf(stderr, "fleetsim: --interval-log %s: %s\n", c->cfg.interval_log_path, why);
    if (!c->quiet)
        fprintf(stderr, "fleetsim: interrupted (%s) during the %s: writing the outputs\n",
                run_signal_name(c->result.signal), run_phase_name(phase));
    run_actors_free(c);
    return run_report(c);
}

/* Pre-flight, registration, the actors set up (each with its own pre-flight) and run under
 * the control loop, and the report. */
static int real_run(struct run_ctx *c)
{
    struct preflight_input in;
    preflight_input(c, &in);
    int rc = preflight_run(&in, c->quiet ? NULL : stderr);
    if (rc == 0 && in.conn)
        c->target_is_refserver = !c->cfg.url_set || preflight_target_is_refserver(&in);
    if (rc != 0)
        return before_load(c, RUN_PHASE_PREFLIGHT, EXIT_STATUS_FAILED);
    if (c->cfg.register_agents && run_shard_agents(c) > 0 && do_register(c) != 0)
        return before_load(c, RUN_PHASE_REGISTRATION, EXIT_STATUS_FAILED);
    if (run_actors_setup(c) != 0) /* each actor's own pre-flight */
        return before_load(c, RUN_PHASE_PREFLIGHT, EXIT_STATUS_FAILED);
    char why[ERR_MAX];
    if (c->cfg.interval_log_path &&
        !(c->interval_log = out_stream_open(c->cfg.interval_log_path, why, sizeof why))) {
        fprintf(stderr, "fleetsim: --interval-log %s: %s\n", c->cfg.interval_log_path, why);
        return EXIT_STATUS_FAILED;
    }
    if (!c->quiet)
        fprintf(stderr, "fleetsim: seed %" PRIu64 ": %u agents against %s\n", c->cfg.seed,
                run_shard_agents(c), c->target_text);
    rc = run_control(c);
    return rc == 0 ? run_report(c) : rc;
}

int cmd_run(const struct run_config *cfg)
{
    struct run_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "fleetsim: out of memory\n");
        return EXIT_STATUS_FAILED;
    }
    /* a peer closing a socket must not kill the process mid-write */
    signal(SIGPIPE, SIG_IGN);
    /* SIGINT/SIGTERM end the run as a result (outputs written), from pre-flight on */
    if (!cfg->dry_run && interrupt_install() != 0)
        fprintf(stderr, "fleetsim: warning: cannot catch SIGINT/SIGTERM: a signal ends the "
                        "process without outputs\n");
    int rc = run_setup_config(c, cfg);
    if (rc == 0)
        rc = run_setup_ids(c);
    if (rc == 0)
        rc = run_setup_target(c);
    if (rc == 0)
        rc = cfg->dry_run ? dry_run(c) : real_run(c);
    run_teardown(c);
    free(c);
    return rc;
}
