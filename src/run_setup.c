/* src/run_setup.c - turning the parsed command line into a run: the agent profile with the
 * presets' and explicit timers on top, thresholds, the target (the built-in one when there is
 * no URL), TLS, connection settings and agent ids from --agents-file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/clock.h"
#include "engine/exit_status.h"
#include "engine/out_file.h"
#include "engine/tls.h"
#include "sim/register.h"
#include "src/run_internal.h"
#include "refserver/server.h"

#define ERR_MAX 512

_Static_assert(OPTIONS_DEFAULT_TIMER_SLOT_NS == AGENT_TIMER_SLOT_DEFAULT_NS,
               "--timer-slot's default is the agents' default slot");

/* The agents' settings: the profile's, then what a --scenario or the command line chose
 * (options_given) on top, so e.g. certctl-1.0 keeps its 60 s heartbeat unless one was asked. */
static void build_settings(struct run_ctx *c)
{
    const struct run_config *cfg = &c->cfg;
    struct agent_settings *set = &c->set;
    agent_settings_profile(set, cfg->agent_profile);
    if (cfg->user_agent[0])
        set->user_agent = cfg->user_agent;
    set->scenario = c->scenario;
    set->prefix = cfg->fleet_prefix;
    set->seed = cfg->seed;
    set->os_mix = cfg->os_mix;
    if (options_given(cfg, RUN_OPT_HEARTBEAT))
        set->heartbeat.interval_ns = cfg->heartbeat_ns;
    if (options_given(cfg, RUN_OPT_POLL))
        set->poll.interval_ns = cfg->poll_ns;
    if (options_given(cfg, RUN_OPT_JITTER))
        set->heartbeat.jitter_pct = set->poll.jitter_pct = cfg->jitter_pct;
    /* Without --ramp each timer spreads its first events over its own interval, so a poll much
     * shorter than the heartbeat runs at its full rate from the start; certctl-1.0 starts both
     * timers together at the agent's start offset, spread over one heartbeat interval. */
    bool ramp_given = options_given(cfg, RUN_OPT_RAMP);
    set->heartbeat.ramp_ns = ramp_given ? cfg->ramp_ns : set->heartbeat.interval_ns;
    set->poll.ramp_ns = ramp_given || set->poll.start_at_agent_start ? set->heartbeat.ramp_ns
                                                                     : set->poll.interval_ns;
    agent_settings_timer_slot(set, cfg->timer_slot_ns);
    set->probe_min_ns = cfg->probe_min_ns;
    set->probe_max_ns = cfg->probe_max_ns;
    set->fail_csr = cfg->fail_csr;
    set->fail_deploy = cfg->fail_deploy;
    set->fail_verify = cfg->fail_verify;
    set->base_path = cfg->url_set ? cfg->url.base_path : "";
    if (cfg->source_ips_set) {
        set->source_first = cfg->source_ips.first;
        set->source_count = parse_ipv4_range_count(&cfg->source_ips);
    }
}

/* The thresholds to evaluate: the command line's and the presets' (options_parse put both in
 * cfg->thresholds, none with --no-thresholds). */
static int collect_thresholds(struct run_ctx *c)
{
    const struct run_config *cfg = &c->cfg;
    if (!cfg->thresholds || cfg->n_thresholds == 0)
        return 0;
    c->thresholds = calloc(cfg->n_thresholds, sizeof *c->thresholds);
    if (!c->thresholds) {
        fprintf(stderr, "fleetsim: out of memory\n");
        return EXIT_STATUS_FAILED;
    }
    memcpy(c->thresholds, cfg->thresholds, cfg->n_thresholds * sizeof *c->thresholds);
    c->n_thresholds = cfg->n_thresholds;
    return 0;
}

int run_setup_config(struct run_ctx *c, const struct run_config *given)
{
    c->cfg = *given;
    c->quiet = given->verbosity < 0;
    c->scenario = options_actor_scenario(given, OPTIONS_ACTOR_AGENTS);
    build_settings(c);
    return collect_thresholds(c);
}

int run_setup_ids(struct run_ctx *c)
{
    const struct run_config *cfg = &c->cfg;
    if (!cfg->agents_file && !cfg->register_agents)
        return 0;
    c->ids = calloc(cfg->agents, sizeof *c->ids);
    if (!c->ids) {
        fprintf(stderr, "fleetsim: out of memory for %u agent ids\n", cfg->agents);
        return EXIT_STATUS_FAILED;
    }
    c->set.agent_ids = (const char *const *)c->ids;
    if (cfg->register_agents)
        return 0; /* filled by registration, written to the file afterwards */
    char err[ERR_MAX];
    if (register_read_file(cfg->agents_file, c->ids, cfg->agents, cfg->shard_k, cfg->shard_n, err,
                           sizeof err) != 0) {
        fprintf(stderr, "fleetsim: %s\n", err);
        return EXIT_STATUS_USAGE;
    }
    return 0;
}

/* Starts the in-process target seeded with the same fleet (docs/architecture.md, "The run with
 * no target"). */
static int start_builtin(struct run_ctx *c, const char **host, uint16_t *port, bool *tls,
                         const char **ca)
{
    const struct run_config *cfg = &c->cfg;
    struct target_config tc;
    target_config_defaults(&tc);
    tc.port = 0;
    tc.rate_per_s = 0;
    tc.seed_agents = cfg->register_agents ? 0 : cfg->agents;
    tc.seed_certs = tc.seed_agents ? cfg->certs : 0; /* certificates are mapped to agents */
    tc.fleet_prefix = cfg->fleet_prefix;
    tc.seed = cfg->seed;
    tc.os_mix = cfg->os_mix;
    tc.quiet = true;
    char err[ERR_MAX];
    c->target = target_start(&tc, err, sizeof err);
    if (!c->target) {
        fprintf(stderr, "fleetsim: cannot start the built-in target: %s\n", err);
        return EXIT_STATUS_FAILED;
    }
    *host = target_host(c->target);
    *port = target_port(c->target);
    *tls = target_is_tls(c->target);
    *ca = target_ca_path(c->target);
    snprintf(c->api_key, sizeof c->api_key, "%s", target_api_key(c->target));
    snprintf(c->target_text, sizeof c->target_text, "%s://%s:%u", *tls ? "https" : "http", *host,
             *port);
    fprintf(stderr,
            "fleetsim: no --url or CERTCTL_SERVER_URL: started the built-in target at %s "
            "(%u agents and %u certificates seeded, rate limiter off, generated CA and API key)\n",
            c->target_text, tc.seed_agents, tc.seed_certs);
    return 0;
}

int run_setup_target(struct run_ctx *c)
{
    const struct run_config *cfg = &c->cfg;
    const char *host, *ca;
    uint16_t port;
    bool tls;
    if (!cfg->url_set) {
        if (cfg->dry_run) {
            snprintf(c->target_text, sizeof c->target_text,
                     "the built-in target (started by a real run)");
            return 0;
        }
        int rc = start_builtin(c, &host, &port, &tls, &ca);
        if (rc != 0)
            return rc;
    } else {
        host = cfg->url.host;
        port = cfg->url.port;
        tls = cfg->url.tls;
        ca = cfg->cacert_path;
        snprintf(c->api_key, sizeof c->api_key, "%s", cfg->api_key);
        parse_url_format(&cfg->url, c->target_text, sizeof c->target_text);
        if (cfg->dry_run)
            return 0;
    }
    c->set.api_key = c->api_key;
    snprintf(c->host, sizeof c->host, "%s", host);
    char err[ERR_MAX];
    if (tls && !(c->ssl = tls_client_ctx_new(ca, cfg->insecure, err, sizeof err))) {
        fprintf(stderr, "fleetsim: TLS setup for %s: %s\n", c->target_text, err);
        return EXIT_STATUS_FAILED;
    }
    if (http_conn_config_init(&c->cc, c->host, port, c->ssl, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: %s: %s\n", c->target_text, err);
        return EXIT_STATUS_FAILED;
    }
    c->cc.timeout_ns = cfg->timeout_ns;
    c->cc.tls_no_resumption = !cfg->tls_resume;
    agent_settings_local_ip(&c->set, &c->cc);
    c->have_conn = true;
    return 0;
}

void run_actors_plan(const struct run_ctx *c, FILE *out)
{
    for (size_t i = 0; i < actor_count(); i++) {
        const struct actor_ops *a = actor_at(i);
        if (a->plan && a->wanted(c))
            a->plan(c, out);
    }
}

int run_actors_setup(struct run_ctx *c)
{
    for (size_t i = 0; i < actor_count(); i++) {
        const struct actor_ops *a = actor_at(i);
        if (!a->wanted(c))
            continue;
        void *state = NULL;
        int rc = a->setup(c, &state);
        if (rc != 0)
            return rc;
        c->actors[c->n_actors++] = (struct run_actor){a, state};
    }
    return 0;
}

void run_actors_free(struct run_ctx *c)
{
    for (size_t i = c->n_actors; i-- > 0;)
        c->actors[i].ops->free(c->actors[i].state);
    c->n_actors = 0;
}

uint32_t run_shard_agents(const struct run_ctx *c)
{
    return fleet_shard_size(c->cfg.agents, c->cfg.shard_k, c->cfg.shard_n ? c->cfg.shard_n : 1);
}

void run_fleet_config(const struct run_ctx *c, struct fleet_config *fc)
{
    memset(fc, 0, sizeof *fc);
    fc->agent = c->set;
    fc->n_agents = c->cfg.agents;
    fc->shard_k = c->cfg.shard_k;
    fc->shard_n = c->cfg.shard_n ? c->cfg.shard_n : 1;
    fc->threads = c->cfg.threads ? c->cfg.threads : 1;
    fc->pool_size = c->cfg.conn_mode == OPTIONS_CONN_POOL ? c->cfg.pool_size : 0;
    fc->conn = &c->cc;
    fc->report_interval_ns = c->cfg.report_interval_ns;
    fc->grace_ns = c->cfg.grace_ns;
}

void run_timer_slot_text(const struct run_ctx *c, char *buf, size_t n)
{
    char d[24];
    if (c->set.timer_slot_ns == 0)
        snprintf(buf, n, "exact timers");
    else
        snprintf(buf, n, "timer slot %s", clock_format_duration(d, sizeof d, c->set.timer_slot_ns));
}

void run_teardown(struct run_ctx *c)
{
    run_actors_free(c); /* their connections go before the target and the TLS context */
    if (c->target)
        target_stop(c->target);
    c->target = NULL;
    if (c->ssl)
        SSL_CTX_free(c->ssl);
    c->ssl = NULL;
    for (uint32_t i = 0; c->ids && i < c->cfg.agents; i++)
        free(c->ids[i]);
    free(c->ids);
    c->ids = NULL;
    free(c->thresholds);
    c->thresholds = NULL;
    metrics_free(c->pre);
    c->pre = NULL;
    out_stream_close(c->interval_log); /* only after a failed start: run_report closes it */
    c->interval_log = NULL;
    memset(c->api_key, 0, sizeof c->api_key);
}
