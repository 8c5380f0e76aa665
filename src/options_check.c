/* src/options_check.c - what `fleetsim run` does after its command line is read (see
 * options_values.h): the environment defaults, what the --scenario presets set, the
 * cross-option checks, the thresholds and the derived defaults. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "engine/exit_status.h"
#include "engine/out_file.h"
#include "engine/threshold.h"
#include "sim/preset.h"
#include "src/options_values.h"

#define ENV_URL "CERTCTL_SERVER_URL"
#define ENV_API_KEY "CERTCTL_API_KEY"

/* ---- after the command line ---- */

static int apply_environment(struct run_config *cfg, char *err, size_t errlen)
{
    const char *url = getenv(ENV_URL);
    if (!cfg->url_set && url && *url) {
        char reason[256];
        if (optval_parse_server_url(url, &cfg->url, reason, sizeof(reason)) != 0) {
            char shown[PARSE_PATH_MAX];
            parse_url_redact(url, shown, sizeof(shown));
            parse_error_line(err, errlen, OPTIONS_PROG, ENV_URL, shown, reason);
            return EXIT_STATUS_USAGE;
        }
        cfg->url_set = true;
        cfg->url_source = OPTIONS_SOURCE_ENV;
    }
    const char *key = getenv(ENV_API_KEY);
    if (cfg->api_key_source == OPTIONS_SOURCE_NONE && key && *key) {
        char reason[160];
        if (optval_check_key(key, reason, sizeof(reason)) != 0) {
            parse_error_line(err, errlen, OPTIONS_PROG, ENV_API_KEY, NULL, reason);
            return EXIT_STATUS_USAGE;
        }
        snprintf(cfg->api_key, sizeof(cfg->api_key), "%s", key);
        cfg->api_key_source = OPTIONS_SOURCE_ENV;
    }
    return 0;
}

/* Pairs of options that cannot be combined. */
static const struct {
    enum run_opt a, b;
} conflicts[] = {
    {RUN_OPT_API_KEY, RUN_OPT_API_KEY_FILE},
    {RUN_OPT_INSECURE, RUN_OPT_CACERT},
    {RUN_OPT_QUIET, RUN_OPT_VERBOSE},
    {RUN_OPT_THRESHOLD, RUN_OPT_NO_THRESHOLDS},
    {RUN_OPT_INSECURE, RUN_OPT_ACME_CACERT},
    {RUN_OPT_ACME_DIRECTORY, RUN_OPT_ACME_PROFILE}, /* the profile is certctl's */
};

static int check_conflicts(const struct run_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(conflicts) / sizeof(conflicts[0]); i++) {
        if (options_explicit(cfg, conflicts[i].a) && options_explicit(cfg, conflicts[i].b))
            return cmdline_usage_error(
                err, errlen, OPTIONS_PROG,
                "--%s and --%s cannot be used together (expected one of them)",
                options_name(conflicts[i].a), options_name(conflicts[i].b));
    }
    if (cfg->bulk_rate_per_s > 0 && cfg->certs == 0)
        return cmdline_usage_error(
            err, errlen, OPTIONS_PROG,
            "--bulk-rate: the operator has no certificates to renew (expected --certs N too, the "
            "seeded certificates mc-%s-00001..N)",
            cfg->fleet_prefix);
    if (cfg->conn_mode == OPTIONS_CONN_POOL && cfg->pool_size > cfg->agents)
        return cmdline_usage_error(err, errlen, OPTIONS_PROG,
                                   "--conn: \"pool:%u\" has more connections than agents (expected "
                                   "pool:N with N from 1 to %u, the --agents count)",
                                   cfg->pool_size, cfg->agents);
    return 0;
}

/* --agents-file is written when registering, read otherwise. */
static int check_agents_file(const struct run_config *cfg, char *err, size_t errlen)
{
    if (!cfg->agents_file)
        return 0;
    char reason[256];
    int rc = cfg->register_agents ? parse_writable_path(cfg->agents_file, reason, sizeof(reason))
                                  : parse_readable_file(cfg->agents_file, reason, sizeof(reason));
    if (rc != 0) {
        if (!cfg->register_agents) {
            size_t l = strlen(reason);
            if (l && reason[l - 1] == ')')
                snprintf(reason + l - 1, sizeof(reason) - (l - 1), "%s",
                         " written by an earlier run with --register)");
        }
        return cmdline_value_error(err, errlen, OPTIONS_PROG, "agents-file", cfg->agents_file,
                                   reason);
    }
    return 0;
}

/* At most one output may be standard output ("-"): they would interleave. */
static int check_stdout_outputs(const struct run_config *cfg, char *err, size_t errlen)
{
    const struct {
        const char *name, *path;
    } outs[] = {{"summary-json", cfg->summary_json_path},
                {"html", cfg->html_path},
                {"interval-log", cfg->interval_log_path},
                {"agents-file", cfg->register_agents ? cfg->agents_file : NULL}};
    const char *first = NULL;
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
        if (!out_file_is_stdout(outs[i].path))
            continue;
        if (first)
            return cmdline_usage_error(err, errlen, OPTIONS_PROG,
                                       "--%s: \"-\" (standard output) is already --%s's (expected "
                                       "one output on standard output, the others in files)",
                                       outs[i].name, first);
        first = outs[i].name;
    }
    return 0;
}

/* The ACME options need ACME clients (--acme-clients or a preset), --acme-cacert the
 * --acme-directory server it is for. */
static int check_acme(const struct run_config *cfg, char *err, size_t errlen)
{
    static const enum run_opt acme_opts[] = {RUN_OPT_ACME_MODE, RUN_OPT_ACME_PROFILE,
                                             RUN_OPT_ACME_DIRECTORY, RUN_OPT_ACME_KEY_ALG,
                                             RUN_OPT_ACME_CACERT};
    for (size_t i = 0; cfg->acme_clients == 0 && i < sizeof(acme_opts) / sizeof(acme_opts[0]);
         i++) {
        if (options_explicit(cfg, acme_opts[i]))
            return cmdline_usage_error(
                err, errlen, OPTIONS_PROG,
                "--%s: has no effect without ACME clients (expected --acme-clients N "
                "or a scenario with ACME clients, e.g. acme-burst)",
                options_name(acme_opts[i]));
    }
    if (options_explicit(cfg, RUN_OPT_ACME_CACERT) &&
        !options_explicit(cfg, RUN_OPT_ACME_DIRECTORY))
        return cmdline_usage_error(
            err, errlen, OPTIONS_PROG,
            "--acme-cacert: only applies to --acme-directory (expected it with "
            "--acme-directory URL; certctl's ACME server uses --cacert)");
    return 0;
}

/* threshold_parse's reasons start "threshold 'SPEC': "; show the spec once, quoted like every
 * other value, or leave the reason whole when it has another shape. */
static int threshold_error(const char *spec, const char *reason, char *err, size_t errlen)
{
    char prefix[THRESHOLD_SPEC_MAX + 16];
    snprintf(prefix, sizeof(prefix), "threshold '%s': ", spec);
    size_t len = strlen(prefix);
    if (strncmp(reason, prefix, len) == 0)
        return cmdline_value_error(err, errlen, OPTIONS_PROG, "threshold", spec, reason + len);
    return cmdline_value_error(err, errlen, OPTIONS_PROG, "threshold", NULL, reason);
}

/* Parses every --threshold spec (engine/threshold.h) and checks its scenario tag. */
static int check_thresholds(struct run_config *cfg, char *err, size_t errlen)
{
    if (cfg->n_thresholds == 0)
        return 0;
    cfg->thresholds = calloc(cfg->n_thresholds, sizeof(*cfg->thresholds));
    if (!cfg->thresholds)
        return cmdline_usage_error(err, errlen, OPTIONS_PROG,
                                   "out of memory while parsing --threshold");
    const char *default_name = "default";
    const char *const *names =
        cfg->n_scenarios ? (const char *const *)cfg->scenarios : &default_name;
    size_t n_names = cfg->n_scenarios ? cfg->n_scenarios : 1;
    for (size_t i = 0; i < cfg->n_thresholds; i++) {
        char reason[512] = "";
        if (threshold_parse(cfg->threshold_specs[i], &cfg->thresholds[i], reason, sizeof(reason)) !=
                0 ||
            threshold_check_scenarios(&cfg->thresholds[i], names, n_names, reason,
                                      sizeof(reason)) != 0)
            return threshold_error(cfg->threshold_specs[i], reason, err, errlen);
    }
    return 0;
}

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) == (ssize_t)sizeof(seed))
        return seed;
    /* getrandom cannot fail for 8 bytes once the pool is ready; keep a fallback anyway */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
           ((uint64_t)getpid() << 32);
}

/* Fills what the --scenario presets and scenario files set (sim/preset.h) into the options not
 * given explicitly (docs/scenarios.md), recording them in scenario_mask; when several scenarios set
 * one value the first one named wins. Appends every scenario's thresholds unless
 * --no-thresholds. */
static int apply_presets(struct run_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_scenarios; i++) {
        const struct preset *p = cfg->scenario_presets[i];
        if (!p)
            continue; /* names were checked while parsing */
#define FILL(has, opt, field, value)          \
    if (p->has && !options_given(cfg, opt)) { \
        cfg->field = (value);                 \
        cfg->scenario_mask |= 1ULL << (opt);  \
    }
        FILL(has_agents, RUN_OPT_AGENTS, agents, p->agents)
        FILL(has_heartbeat, RUN_OPT_HEARTBEAT, heartbeat_ns, p->heartbeat_ns)
        FILL(has_jitter, RUN_OPT_JITTER, jitter_pct, p->jitter_pct)
        FILL(has_poll, RUN_OPT_POLL, poll_ns, p->poll_ns)
        FILL(has_agent_profile, RUN_OPT_AGENT_PROFILE, agent_profile, p->agent_profile)
        FILL(has_os_mix, RUN_OPT_OS_MIX, os_mix, p->os_mix)
        FILL(has_ramp, RUN_OPT_RAMP, ramp_ns, p->ramp_ns)
        FILL(has_duration, RUN_OPT_DURATION, duration_ns, p->duration_ns)
        FILL(has_certs, RUN_OPT_CERTS, certs, p->certs)
        FILL(has_bulk_rate, RUN_OPT_BULK_RATE, bulk_rate_per_s, p->bulk_rate_per_s)
        FILL(has_bulk_batch, RUN_OPT_BULK_BATCH, bulk_batch, p->bulk_batch)
        FILL(has_bulk_passes, RUN_OPT_BULK_PASSES, bulk_passes, p->bulk_passes)
        FILL(has_acme_clients, RUN_OPT_ACME_CLIENTS, acme_clients, p->acme_clients)
        FILL(has_acme_mode, RUN_OPT_ACME_MODE, acme_mode, p->acme_mode)
#undef FILL
        for (size_t t = 0; !cfg->no_thresholds && t < preset_threshold_count(p); t++) {
            char reason[160];
            if (optval_add_threshold(cfg, p->thresholds[t], reason, sizeof(reason)) != CMDLINE_OK)
                return cmdline_usage_error(err, errlen, OPTIONS_PROG, "--scenario %s: %s", p->name,
                                           reason);
        }
    }
    return 0;
}

int options_finish(struct run_config *cfg, char *err, size_t errlen)
{
    int rc = apply_environment(cfg, err, errlen);
    if (rc == 0)
        rc = apply_presets(cfg, err, errlen);
    if (rc == 0)
        rc = check_conflicts(cfg, err, errlen);
    if (rc == 0)
        rc = check_agents_file(cfg, err, errlen);
    if (rc == 0)
        rc = check_stdout_outputs(cfg, err, errlen);
    if (rc == 0)
        rc = check_acme(cfg, err, errlen);
    if (rc == 0)
        rc = check_thresholds(cfg, err, errlen);
    if (rc != 0)
        return rc;
    if (!options_given(cfg, RUN_OPT_RAMP))
        cfg->ramp_ns = cfg->heartbeat_ns;
    if (!options_explicit(cfg, RUN_OPT_SEED))
        cfg->seed = random_seed();
    return 0;
}
