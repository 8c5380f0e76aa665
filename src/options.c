/* src/options.c - parses `fleetsim [run] [OPTIONS]` into a struct run_config (see options.h):
 * one table of options with a value handler each (options_values.c) read by engine/cmdline,
 * then the checks after it (options_check.c) and the scrubbing of the API key from argv. */
#include "src/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cmdline.h"
#include "engine/exit_status.h"
#include "engine/threshold.h"
#include "sim/agent.h"
#include "sim/preset.h"
#include "sim/scenario_file.h"
#include "src/options_values.h"

/* Commands named in the "unknown command" error. */
#ifndef OPTIONS_COMMANDS
#define OPTIONS_COMMANDS "run, seed, merge or report"
#endif
/* The long options, in --help order: name, id, takes a value, repeatable, one-letter form,
 * value handler (options_values.c). */
static const struct cmdline_opt specs[] = {
    {"url", RUN_OPT_URL, true, false, 0, optval_url},
    {"api-key", RUN_OPT_API_KEY, true, false, 0, optval_api_key},
    {"api-key-file", RUN_OPT_API_KEY_FILE, true, false, 0, optval_api_key_file},
    {"cacert", RUN_OPT_CACERT, true, false, 0, optval_cacert},
    {"insecure", RUN_OPT_INSECURE, false, false, 0, optval_flag},
    {"scenario", RUN_OPT_SCENARIO, true, true, 0, optval_scenario},
    {"agents", RUN_OPT_AGENTS, true, false, 0, optval_agents},
    {"fleet-prefix", RUN_OPT_FLEET_PREFIX, true, false, 0, optval_fleet_prefix},
    {"heartbeat", RUN_OPT_HEARTBEAT, true, false, 0, optval_heartbeat},
    {"jitter", RUN_OPT_JITTER, true, false, 0, optval_jitter},
    {"poll", RUN_OPT_POLL, true, false, 0, optval_poll},
    {"agent-profile", RUN_OPT_AGENT_PROFILE, true, false, 0, optval_agent_profile},
    {"os-mix", RUN_OPT_OS_MIX, true, false, 0, optval_os_mix},
    {"ramp", RUN_OPT_RAMP, true, false, 0, optval_ramp},
    {"register", RUN_OPT_REGISTER, false, false, 0, optval_flag},
    {"agents-file", RUN_OPT_AGENTS_FILE, true, false, 0, optval_agents_file},
    {"duration", RUN_OPT_DURATION, true, false, 0, optval_duration},
    {"seed", RUN_OPT_SEED, true, false, 0, optval_seed},
    {"threshold", RUN_OPT_THRESHOLD, true, true, 0, optval_threshold},
    {"no-thresholds", RUN_OPT_NO_THRESHOLDS, false, false, 0, optval_flag},
    {"summary-json", RUN_OPT_SUMMARY_JSON, true, false, 0, optval_output_path},
    {"interval-log", RUN_OPT_INTERVAL_LOG, true, false, 0, optval_output_path},
    {"report-interval", RUN_OPT_REPORT_INTERVAL, true, false, 0, optval_report_interval},
    {"html", RUN_OPT_HTML, true, false, 0, optval_output_path},
    {"metrics-listen", RUN_OPT_METRICS_LISTEN, true, false, 0, optval_metrics_listen},
    {"conn", RUN_OPT_CONN, true, false, 0, optval_conn},
    {"source-ips", RUN_OPT_SOURCE_IPS, true, false, 0, optval_source_ips},
    {"threads", RUN_OPT_THREADS, true, false, 0, optval_threads},
    {"timer-slot", RUN_OPT_TIMER_SLOT, true, false, 0, optval_timer_slot},
    {"verify-probe", RUN_OPT_VERIFY_PROBE, true, false, 0, optval_verify_probe},
    {"user-agent", RUN_OPT_USER_AGENT, true, false, 0, optval_user_agent},
    {"tls-resume", RUN_OPT_TLS_RESUME, true, false, 0, optval_tls_resume},
    {"agent-failures", RUN_OPT_AGENT_FAILURES, true, false, 0, optval_agent_failures},
    {"shard", RUN_OPT_SHARD, true, false, 0, optval_shard},
    {"timeout", RUN_OPT_TIMEOUT, true, false, 0, optval_timeout},
    {"grace", RUN_OPT_GRACE, true, false, 0, optval_grace},
    {"saturation-lag", RUN_OPT_SATURATION_LAG, true, false, 0, optval_saturation_lag},
    {"saturation-cpu", RUN_OPT_SATURATION_CPU, true, false, 0, optval_saturation_cpu},
    {"quiet", RUN_OPT_QUIET, false, false, 'q', optval_flag},
    {"verbose", RUN_OPT_VERBOSE, false, true, 'v', optval_flag},
    {"dry-run", RUN_OPT_DRY_RUN, false, false, 0, optval_flag},
    {"certs", RUN_OPT_CERTS, true, false, 0, optval_certs},
    {"bulk-rate", RUN_OPT_BULK_RATE, true, false, 0, optval_bulk_rate},
    {"bulk-batch", RUN_OPT_BULK_BATCH, true, false, 0, optval_bulk_batch},
    {"bulk-passes", RUN_OPT_BULK_PASSES, true, false, 0, optval_bulk_passes},
    {"acme-clients", RUN_OPT_ACME_CLIENTS, true, false, 0, optval_acme_clients},
    {"acme-mode", RUN_OPT_ACME_MODE, true, false, 0, optval_acme_mode},
    {"acme-profile", RUN_OPT_ACME_PROFILE, true, false, 0, optval_acme_profile},
    {"acme-directory", RUN_OPT_ACME_DIRECTORY, true, false, 0, optval_acme_directory},
    {"acme-key-alg", RUN_OPT_ACME_KEY_ALG, true, false, 0, optval_acme_key_alg},
    {"acme-cacert", RUN_OPT_ACME_CACERT, true, false, 0, optval_acme_cacert},
    {"list-scenarios", RUN_OPT_LIST_SCENARIOS, false, false, 0, optval_flag},
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))
_Static_assert(RUN_OPT__COUNT <= CMDLINE_MAX_OPTS, "every option has a bit in explicit_mask");

static const struct cmdline_spec run_cmdline = {OPTIONS_PROG, specs, N_SPECS, true, NULL};

size_t options_scenario_list(char *buf, size_t n)
{
    size_t len = 0;
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < preset_count() && len < n; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", i ? ", " : "", preset_at(i)->name);
        len = w < 0 ? n : len + (size_t)w;
    }
    return len < n ? len : (n ? n - 1 : 0);
}

void options_defaults(struct run_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->action = OPTIONS_ACTION_RUN;
    cfg->agents = OPTIONS_DEFAULT_AGENTS;
    snprintf(cfg->fleet_prefix, sizeof(cfg->fleet_prefix), "%s", IDENTITY_DEFAULT_PREFIX);
    cfg->heartbeat_ns = OPTIONS_DEFAULT_HEARTBEAT_NS;
    cfg->jitter_pct = OPTIONS_DEFAULT_JITTER_PCT;
    cfg->poll_ns = OPTIONS_DEFAULT_POLL_NS;
    cfg->agent_profile = AGENT_PROFILE_DEFAULT;
    cfg->os_mix = identity_default_os_mix();
    cfg->ramp_ns = OPTIONS_DEFAULT_HEARTBEAT_NS;
    cfg->duration_ns = OPTIONS_DEFAULT_DURATION_NS;
    cfg->report_interval_ns = OPTIONS_DEFAULT_REPORT_INTERVAL_NS;
    cfg->conn_mode = OPTIONS_CONN_PER_AGENT;
    cfg->threads = OPTIONS_DEFAULT_THREADS;
    cfg->timer_slot_ns = OPTIONS_DEFAULT_TIMER_SLOT_NS;
    cfg->probe_min_ns = AGENT_PROBE_MIN_DEFAULT_NS;
    cfg->probe_max_ns = AGENT_PROBE_MAX_DEFAULT_NS;
    cfg->shard_k = 0;
    cfg->shard_n = 1;
    cfg->timeout_ns = OPTIONS_DEFAULT_TIMEOUT_NS;
    cfg->grace_ns = OPTIONS_DEFAULT_GRACE_NS;
    cfg->saturation_lag_ns = OPTIONS_DEFAULT_SATURATION_LAG_NS;
    cfg->saturation_cpu_pct = OPTIONS_DEFAULT_SATURATION_CPU_PCT;
    cfg->bulk_batch = OPTIONS_DEFAULT_BULK_BATCH;
    cfg->acme_mode = ACME_MODE_ORDER; /* a run's ACME clients complete orders unless asked */
    cfg->acme_key_alg = ACME_KEY_ES256;
    snprintf(cfg->acme_profile, sizeof(cfg->acme_profile), "%s", OPTIONS_DEFAULT_ACME_PROFILE);
}

void options_free(struct run_config *cfg)
{
    explicit_bzero(cfg->api_key, sizeof(cfg->api_key));
    free(cfg->api_key_file);
    free(cfg->cacert_path);
    for (size_t i = 0; i < cfg->n_scenarios; i++) {
        free(cfg->scenarios[i]);
        if (cfg->scenario_files[i]) /* loaded from that file: owned */
            scenario_file_free((struct preset *)cfg->scenario_presets[i]);
        free(cfg->scenario_files[i]);
    }
    free(cfg->agents_file);
    for (size_t i = 0; i < cfg->n_thresholds; i++)
        free(cfg->threshold_specs[i]);
    free(cfg->threshold_specs);
    free(cfg->thresholds);
    free(cfg->summary_json_path);
    free(cfg->interval_log_path);
    free(cfg->html_path);
    free(cfg->acme_directory_url);
    free(cfg->acme_cacert_path);
    options_defaults(cfg);
}

bool options_explicit(const struct run_config *cfg, enum run_opt o)
{
    return (unsigned)o < RUN_OPT__COUNT && (cfg->explicit_mask & (1ULL << o)) != 0;
}

bool options_given(const struct run_config *cfg, enum run_opt o)
{
    return options_explicit(cfg, o) ||
           ((unsigned)o < RUN_OPT__COUNT && (cfg->scenario_mask & (1ULL << o)));
}

const struct preset *options_scenario_preset(const struct run_config *cfg, size_t i)
{
    return i < cfg->n_scenarios ? cfg->scenario_presets[i] : NULL;
}

/* Whether preset p starts actor group a (see options_actor_scenario). */
static bool starts_actor(const struct preset *p, enum options_actor a)
{
    switch (a) {
    case OPTIONS_ACTOR_AGENTS:
        return (p->has_agents && p->agents > 0) || p->has_heartbeat;
    case OPTIONS_ACTOR_OPERATOR:
        return p->has_bulk_rate;
    case OPTIONS_ACTOR_ACME:
        return p->has_acme_clients;
    }
    return false;
}

const char *options_actor_scenario(const struct run_config *cfg, enum options_actor a)
{
    for (size_t i = 0; i < cfg->n_scenarios; i++) {
        const struct preset *p = cfg->scenario_presets[i];
        if (p && starts_actor(p, a))
            return cfg->scenarios[i];
    }
    if (a != OPTIONS_ACTOR_AGENTS)
        return options_actor_scenario(cfg, OPTIONS_ACTOR_AGENTS);
    return cfg->n_scenarios ? cfg->scenarios[0] : "default";
}

const char *options_name(enum run_opt o)
{
    for (size_t i = 0; i < N_SPECS; i++) {
        if (specs[i].id == (int)o)
            return specs[i].name;
    }
    return "?";
}

/* Runs the option table over argv from index first (argv[0] and "run" skipped). Returns 0 or
 * EXIT_STATUS_USAGE. */
static int parse_loop(int argc, char **argv, int first, struct run_config *cfg, char *err,
                      size_t errlen)
{
    struct cmdline_result res;
    int rc =
        cmdline_parse(&run_cmdline, argc - first + 1, argv + first - 1, cfg, &res, err, errlen);
    cfg->explicit_mask = res.given;
    if (rc == 0 && res.action == CMDLINE_ACTION_HELP)
        cfg->action = OPTIONS_ACTION_HELP;
    else if (rc == 0 && res.action == CMDLINE_ACTION_VERSION)
        cfg->action = OPTIONS_ACTION_VERSION;
    return rc;
}

/* Overwrites the value of every --api-key occurrence in argv so `ps` does not show it. */
static void scrub_api_key(int argc, char **argv)
{
    static const char opt[] = "--api-key";
    const size_t len = sizeof(opt) - 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], opt) == 0 && i + 1 < argc) {
            explicit_bzero(argv[i + 1], strlen(argv[i + 1]));
            i++;
        } else if (strncmp(argv[i], opt, len) == 0 && argv[i][len] == '=') {
            explicit_bzero(argv[i] + len + 1, strlen(argv[i] + len + 1));
        }
    }
}

int options_parse(int argc, char **argv, struct run_config *cfg, char *err, size_t errlen)
{
    options_defaults(cfg);
    if (err && errlen)
        err[0] = '\0';
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        if (strcmp(argv[1], "run") != 0) {
            char shown[160];
            parse_error_line(shown, sizeof(shown), OPTIONS_PROG, "unknown command", argv[1],
                             "(expected " OPTIONS_COMMANDS "; see fleetsim --help)");
            snprintf(err, errlen, "%s", shown);
            scrub_api_key(argc, argv);
            return EXIT_STATUS_USAGE;
        }
        first = 2;
    }
    int rc = parse_loop(argc, argv, first, cfg, err, errlen);
    if (rc == 0 && cfg->action == OPTIONS_ACTION_RUN)
        rc = options_finish(cfg, err, errlen);
    scrub_api_key(argc, argv);
    return rc;
}
