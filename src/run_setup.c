/* src/run_setup.c - turning the parsed command line into a run: presets (explicit options keep
 * their values), the agent profile, thresholds, the target (the built-in one when there is no
 * URL), TLS, connection settings and agent ids from --agents-file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/tls.h"
#include "sim/register.h"
#include "src/run_internal.h"
#include "target/target.h"

#define ERR_MAX 512

/* Applies each --scenario preset to fields that were not given explicitly. Sets *hb and *poll when
 * a preset chose the heartbeat or poll interval. */
static int apply_presets(struct run_ctx *c, bool *hb, bool *poll)
{
    struct run_config *cfg = &c->cfg;
    for (size_t i = 0; i < cfg->n_scenarios; i++) {
        const struct preset *p = preset_find(cfg->scenarios[i]);
        if (!p) {
            fprintf(stderr, "fleetsim: --scenario: \"%s\" is not a preset of this build\n",
                    cfg->scenarios[i]);
            return RUN_EXIT_USAGE;
        }
        if (p->has_agents && !options_explicit(cfg, RUN_OPT_AGENTS))
            cfg->agents = p->agents;
        if (p->has_heartbeat && !options_explicit(cfg, RUN_OPT_HEARTBEAT)) {
            cfg->heartbeat_ns = p->heartbeat_ns;
            *hb = true;
        }
        if (p->has_poll && !options_explicit(cfg, RUN_OPT_POLL)) {
            cfg->poll_ns = p->poll_ns;
            *poll = true;
        }
        if (p->has_duration && !options_explicit(cfg, RUN_OPT_DURATION))
            cfg->duration_ns = p->duration_ns;
    }
    return 0;
}

/* The agents' settings: the profile's, then presets and explicit options on top. */
static void build_settings(struct run_ctx *c, bool hb_preset, bool poll_preset)
{
    const struct run_config *cfg = &c->cfg;
    struct agent_settings *set = &c->set;
    agent_settings_profile(set, cfg->agent_profile == OPTIONS_PROFILE_CERTCTL_1_0
                                    ? AGENT_PROFILE_CERTCTL_1_0
                                    : AGENT_PROFILE_DEFAULT,
                           PACKAGE_VERSION);
    set->scenario = c->scenario;
    set->prefix = cfg->fleet_prefix;
    set->seed = cfg->seed;
    set->os_mix = cfg->os_mix;
    if (options_explicit(cfg, RUN_OPT_HEARTBEAT) || hb_preset)
        set->heartbeat.interval_ns = cfg->heartbeat_ns;
    if (options_explicit(cfg, RUN_OPT_POLL) || poll_preset)
        set->poll.interval_ns = cfg->poll_ns;
    if (options_explicit(cfg, RUN_OPT_JITTER))
        set->heartbeat.jitter_pct = set->poll.jitter_pct = cfg->jitter_pct;
    uint64_t ramp = options_explicit(cfg, RUN_OPT_RAMP) ? cfg->ramp_ns : set->heartbeat.interval_ns;
    set->heartbeat.ramp_ns = set->poll.ramp_ns = ramp;
    set->base_path = cfg->url_set ? cfg->url.base_path : "";
    if (cfg->source_ips_set) {
        set->source_first = cfg->source_ips.first;
        set->source_count = parse_ipv4_range_count(&cfg->source_ips);
    }
}

/* The command line's thresholds plus each preset's (unless --no-thresholds). */
static int collect_thresholds(struct run_ctx *c)
{
    const struct run_config *cfg = &c->cfg;
    if (cfg->no_thresholds)
        return 0;
    size_t n = cfg->thresholds ? cfg->n_thresholds : 0;
    for (size_t i = 0; i < cfg->n_scenarios; i++)
        n += preset_threshold_count(preset_find(cfg->scenarios[i]));
    if (n == 0)
        return 0;
    c->thresholds = calloc(n, sizeof *c->thresholds);
    if (!c->thresholds)
        return RUN_EXIT_FAILED;
    char err[ERR_MAX];
    for (size_t i = 0; cfg->thresholds && i < cfg->n_thresholds; i++)
        c->thresholds[c->n_thresholds++] = cfg->thresholds[i];
    for (size_t i = 0; i < cfg->n_scenarios; i++) {
        const struct preset *p = preset_find(cfg->scenarios[i]);
        for (size_t k = 0; k < preset_threshold_count(p); k++) {
            if (threshold_parse(p->thresholds[k], &c->thresholds[c->n_thresholds], err,
                                sizeof err) != 0) {
                fprintf(stderr, "fleetsim: preset %s: threshold %s: %s\n", p->name,
                        p->thresholds[k], err);
                return RUN_EXIT_USAGE;
            }
            c->n_thresholds++;
        }
    }
    return 0;
}

int run_setup_config(struct run_ctx *c, const struct run_config *given)
{
    c->cfg = *given;
    c->quiet = given->verbosity < 0;
    c->scenario = given->n_scenarios ? given->scenarios[0] : "default";
    bool hb = false, poll = false;
    int rc = apply_presets(c, &hb, &poll);
    if (rc != 0)
        return rc;
    build_settings(c, hb, poll);
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
        return RUN_EXIT_FAILED;
    }
    c->set.agent_ids = (const char *const *)c->ids;
    if (cfg->register_agents)
        return 0; /* filled by registration, written to the file afterwards */
    char err[ERR_MAX];
    if (register_read_file(cfg->agents_file, c->ids, cfg->agents, cfg->shard_k, cfg->shard_n, err,
                           sizeof err) != 0) {
        fprintf(stderr, "fleetsim: %s\n", err);
        return RUN_EXIT_USAGE;
    }
    return 0;
}

/* Starts the in-process target seeded with the same fleet (DESIGN §5, the run with no target). */
static int start_builtin(struct run_ctx *c, const char **host, uint16_t *port, bool *tls,
                         const char **ca)
{
    const struct run_config *cfg = &c->cfg;
    struct target_config tc;
    target_config_defaults(&tc);
    tc.port = 0;
    tc.rate_per_s = 0;
    tc.seed_agents = cfg->register_agents ? 0 : cfg->agents;
    tc.fleet_prefix = cfg->fleet_prefix;
    tc.seed = cfg->seed;
    tc.os_mix = cfg->os_mix;
    tc.quiet = true;
    char err[ERR_MAX];
    c->target = target_start(&tc, err, sizeof err);
    if (!c->target) {
        fprintf(stderr, "fleetsim: cannot start the built-in target: %s\n", err);
        return RUN_EXIT_FAILED;
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
            "(%u agents seeded, rate limiter off, generated CA and API key)\n",
            c->target_text, tc.seed_agents);
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
        return RUN_EXIT_FAILED;
    }
    if (http_conn_config_init(&c->cc, c->host, port, c->ssl, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: %s: %s\n", c->target_text, err);
        return RUN_EXIT_FAILED;
    }
    c->cc.timeout_ns = cfg->timeout_ns;
    c->have_conn = true;
    return 0;
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

void run_teardown(struct run_ctx *c)
{
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
    if (c->interval_log)
        fclose(c->interval_log);
    c->interval_log = NULL;
    memset(c->api_key, 0, sizeof c->api_key);
}
