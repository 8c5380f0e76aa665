/* src/options_values.c - the value handler of each `fleetsim run` option (see
 * options_values.h): check with engine/parse, store in the run_config in its unit. */
#include "src/options_values.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_PREFIX "pool:"

/* Stores a copy of arg in *slot (replacing nothing: options are given once). */
static int store_string(char **slot, const char *arg, char *reason, size_t n)
{
    free(*slot);
    *slot = strdup(arg);
    if (!*slot) {
        snprintf(reason, n, "could not be stored: out of memory (expected a shorter value)");
        return OPTVAL_BAD;
    }
    return OPTVAL_OK;
}

int optval_flag(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)arg;
    (void)reason;
    (void)n;
    switch (id) {
    case RUN_OPT_INSECURE: cfg->insecure = true; break;
    case RUN_OPT_REGISTER: cfg->register_agents = true; break;
    case RUN_OPT_NO_THRESHOLDS: cfg->no_thresholds = true; break;
    case RUN_OPT_QUIET: cfg->verbosity = -1; break;
    case RUN_OPT_VERBOSE: cfg->verbosity = cfg->verbosity < 0 ? 1 : cfg->verbosity + 1; break;
    case RUN_OPT_DRY_RUN: cfg->dry_run = true; break;
    default: break;
    }
    return OPTVAL_OK;
}

int optval_url(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (parse_url(arg, &cfg->url, reason, n) != 0)
        return OPTVAL_BAD_REDACTED;
    cfg->url_set = true;
    cfg->url_source = OPTIONS_SOURCE_ARG;
    return OPTVAL_OK;
}

int optval_check_key(const char *key, char *reason, size_t n)
{
    size_t len = strlen(key);
    const char *what = NULL;
    if (len == 0)
        what = "the key is empty";
    else if (len > OPTIONS_API_KEY_MAX)
        what = "the key is too long";
    for (size_t i = 0; i < len && !what; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c <= 0x20 || c >= 0x7f)
            what = "the key has a space or a non-printable character";
    }
    if (!what)
        return 0;
    snprintf(reason, n, "%s (expected 1 to %d printable characters without spaces)", what, OPTIONS_API_KEY_MAX);
    return -EINVAL;
}

int optval_api_key(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (optval_check_key(arg, reason, n) != 0)
        return OPTVAL_BAD_HIDDEN;
    snprintf(cfg->api_key, sizeof(cfg->api_key), "%s", arg);
    cfg->api_key_source = OPTIONS_SOURCE_ARG;
    return OPTVAL_OK;
}

int optval_api_key_file(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    char key[OPTIONS_API_KEY_MAX + 1];
    int rc = parse_read_first_line(arg, key, sizeof(key), reason, n);
    if (rc == 0 && optval_check_key(key, reason, n) != 0)
        rc = -EINVAL;
    if (rc != 0) {
        explicit_bzero(key, sizeof(key));
        return OPTVAL_BAD;
    }
    memcpy(cfg->api_key, key, sizeof(key));
    explicit_bzero(key, sizeof(key));
    cfg->api_key_source = OPTIONS_SOURCE_FILE;
    return store_string(&cfg->api_key_file, arg, reason, n);
}

int optval_cacert(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (parse_readable_file(arg, reason, n) != 0)
        return OPTVAL_BAD;
    return store_string(&cfg->cacert_path, arg, reason, n);
}

int optval_scenario(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    char list[256];
    options_scenario_list(list, sizeof(list));
    if (!options_scenario_known(arg)) {
        snprintf(reason, n, "is not a known scenario (expected one of: %s)", list);
        return OPTVAL_BAD;
    }
    for (size_t i = 0; i < cfg->n_scenarios; i++) {
        if (strcmp(cfg->scenarios[i], arg) == 0) {
            snprintf(reason, n, "is given twice (expected each scenario once)");
            return OPTVAL_BAD;
        }
    }
    if (cfg->n_scenarios == OPTIONS_SCENARIOS_MAX) {
        snprintf(reason, n, "is one scenario too many (expected at most %d)", OPTIONS_SCENARIOS_MAX);
        return OPTVAL_BAD;
    }
    int rc = store_string(&cfg->scenarios[cfg->n_scenarios], arg, reason, n);
    if (rc == OPTVAL_OK)
        cfg->n_scenarios++;
    return rc;
}

int optval_agents(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_count_u32(arg, 1, OPTIONS_MAX_AGENTS, &cfg->agents, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_fleet_prefix(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (identity_prefix_check(arg) != 0) {
        snprintf(reason, n,
                 "is not a fleet prefix (expected a lowercase letter then up to %d lowercase letters or digits, e.g. loadtest)",
                 IDENTITY_PREFIX_MAX - 1);
        return OPTVAL_BAD;
    }
    snprintf(cfg->fleet_prefix, sizeof(cfg->fleet_prefix), "%s", arg);
    return OPTVAL_OK;
}

/* A duration that is 0 (off) or within [min_ns, max_ns]. */
static int duration_or_off(const char *arg, uint64_t min_ns, uint64_t max_ns, uint64_t *out,
                           char *reason, size_t n)
{
    uint64_t v = 0;
    int rc = parse_duration_ns(arg, 0, max_ns, &v, reason, n);
    if (rc == 0 && (v == 0 || v >= min_ns)) {
        *out = v;
        return OPTVAL_OK;
    }
    char what[96];
    if (rc == 0) {
        snprintf(what, sizeof(what), "is too short");
    } else {
        const char *expect = strstr(reason, " (expected");
        snprintf(what, sizeof(what), "%.*s", expect ? (int)(expect - reason) : (int)strlen(reason), reason);
    }
    char lo[32], hi[32];
    parse_format_duration(lo, sizeof(lo), min_ns);
    parse_format_duration(hi, sizeof(hi), max_ns);
    snprintf(reason, n, "%s (expected 0 for off, or a duration from %s to %s, e.g. 30s)", what, lo, hi);
    return OPTVAL_BAD;
}

/* A duration within [min_ns, max_ns]. */
static int duration_in(const char *arg, uint64_t min_ns, uint64_t max_ns, uint64_t *out,
                       char *reason, size_t n)
{
    return parse_duration_ns(arg, min_ns, max_ns, out, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_heartbeat(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return duration_in(arg, OPTVAL_MIN_INTERVAL_NS, OPTVAL_MAX_INTERVAL_NS, &cfg->heartbeat_ns, reason, n);
}

int optval_jitter(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_percent(arg, 0, OPTVAL_MAX_JITTER_PCT, &cfg->jitter_pct, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_poll(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return duration_or_off(arg, OPTVAL_MIN_INTERVAL_NS, OPTVAL_MAX_INTERVAL_NS, &cfg->poll_ns, reason, n);
}

int optval_agent_profile(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (strcmp(arg, "default") == 0) {
        cfg->agent_profile = OPTIONS_PROFILE_DEFAULT;
    } else if (strcmp(arg, "certctl-1.0") == 0) {
        cfg->agent_profile = OPTIONS_PROFILE_CERTCTL_1_0;
    } else {
        snprintf(reason, n, "is not an agent profile (expected default or certctl-1.0)");
        return OPTVAL_BAD;
    }
    return OPTVAL_OK;
}

int optval_os_mix(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_os_mix(arg, cfg->os_mix.pct, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_ramp(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return duration_in(arg, 0, OPTVAL_MAX_INTERVAL_NS, &cfg->ramp_ns, reason, n);
}

int optval_agents_file(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (*arg == '\0') {
        snprintf(reason, n, "is empty (expected a file name)");
        return OPTVAL_BAD;
    }
    /* readable or writable depends on --register, which may come later: checked after parsing */
    return store_string(&cfg->agents_file, arg, reason, n);
}

int optval_duration(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return duration_in(arg, OPTVAL_MIN_DURATION_NS, OPTVAL_MAX_DURATION_NS, &cfg->duration_ns, reason, n);
}

int optval_seed(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_count_u64(arg, 0, UINT64_MAX, &cfg->seed, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_threshold(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (*arg == '\0') {
        snprintf(reason, n, "is empty (expected METRIC[{tag:value,...}]:EXPR, e.g. http_req_failed:rate<0.001)");
        return OPTVAL_BAD;
    }
    char **grown = realloc(cfg->threshold_specs, (cfg->n_thresholds + 1) * sizeof(*grown));
    if (!grown) {
        snprintf(reason, n, "could not be stored: out of memory (expected fewer thresholds)");
        return OPTVAL_BAD;
    }
    cfg->threshold_specs = grown;
    cfg->threshold_specs[cfg->n_thresholds] = NULL;
    int rc = store_string(&cfg->threshold_specs[cfg->n_thresholds], arg, reason, n);
    if (rc == OPTVAL_OK)
        cfg->n_thresholds++;
    return rc;
}

int optval_output_path(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    if (parse_writable_path(arg, reason, n) != 0)
        return OPTVAL_BAD;
    char **slot = id == RUN_OPT_SUMMARY_JSON ? &cfg->summary_json_path
                  : id == RUN_OPT_HTML       ? &cfg->html_path
                                             : &cfg->interval_log_path;
    return store_string(slot, arg, reason, n);
}

/* ADDR:PORT as parse_listen_addr takes it, or a bare PORT / :PORT on the loopback address. */
int optval_metrics_listen(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    static const char loopback[] = "127.0.0.1:";
    char full[sizeof(loopback) + 8];
    const char *port = arg[0] == ':' ? arg + 1 : arg;
    const char *text = arg;
    if (*port && strlen(port) <= 5 && strspn(port, "0123456789") == strlen(port)) {
        snprintf(full, sizeof(full), "%s%s", loopback, port);
        text = full;
    }
    if (parse_listen_addr(text, &cfg->metrics_listen, reason, n) != 0)
        return OPTVAL_BAD;
    cfg->metrics_listen_set = true;
    return OPTVAL_OK;
}

int optval_report_interval(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return duration_or_off(arg, OPTVAL_MIN_REPORT_NS, OPTVAL_MAX_INTERVAL_NS, &cfg->report_interval_ns, reason, n);
}

int optval_conn(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    static const char expect[] = "(expected per-agent or pool:N, e.g. pool:1000)";
    if (strcmp(arg, "per-agent") == 0) {
        cfg->conn_mode = OPTIONS_CONN_PER_AGENT;
        cfg->pool_size = 0;
        return OPTVAL_OK;
    }
    if (strncmp(arg, POOL_PREFIX, strlen(POOL_PREFIX)) != 0) {
        snprintf(reason, n, "is not a connection mode %s", expect);
        return OPTVAL_BAD;
    }
    char sub[160];
    if (parse_count_u32(arg + strlen(POOL_PREFIX), 1, OPTIONS_MAX_AGENTS, &cfg->pool_size, sub, sizeof(sub)) != 0) {
        const char *tail = strstr(sub, " (expected");
        snprintf(reason, n, "has a pool size that %.*s (expected pool:N with N from 1 to the --agents count)",
                 tail ? (int)(tail - sub) : (int)strlen(sub), sub);
        return OPTVAL_BAD;
    }
    cfg->conn_mode = OPTIONS_CONN_POOL;
    return OPTVAL_OK;
}

int optval_source_ips(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (parse_ipv4_range(arg, &cfg->source_ips, reason, n) != 0)
        return OPTVAL_BAD;
    cfg->source_ips_set = true;
    return OPTVAL_OK;
}

int optval_threads(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_count_u32(arg, 1, OPTIONS_MAX_THREADS, &cfg->threads, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_shard(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_shard(arg, &cfg->shard_k, &cfg->shard_n, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_timeout(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return duration_in(arg, OPTVAL_MIN_TIMEOUT_NS, OPTVAL_MAX_TIMEOUT_NS, &cfg->timeout_ns, reason, n);
}

int optval_grace(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return duration_in(arg, 0, OPTVAL_MAX_GRACE_NS, &cfg->grace_ns, reason, n);
}

int optval_certs(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_count_u32(arg, 1, OPTIONS_MAX_CERTS, &cfg->certs, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_bulk_rate(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_rate_per_s(arg, OPTIONS_MIN_BULK_RATE_PER_S, OPTIONS_MAX_BULK_RATE_PER_S,
                            &cfg->bulk_rate_per_s, reason, n) ? OPTVAL_BAD : OPTVAL_OK;
}

int optval_bulk_batch(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_count_u32(arg, 1, OPTIONS_MAX_BULK_BATCH, &cfg->bulk_batch, reason, n) ? OPTVAL_BAD
                                                                                       : OPTVAL_OK;
}

int optval_bulk_passes(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_count_u32(arg, 1, OPTIONS_MAX_BULK_PASSES, &cfg->bulk_passes, reason, n) ? OPTVAL_BAD
                                                                                         : OPTVAL_OK;
}

/* ---- ACME clients (sim/acme.h) ---- */

int optval_acme_clients(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    return parse_count_u32(arg, 1, OPTIONS_MAX_ACME_CLIENTS, &cfg->acme_clients, reason, n)
               ? OPTVAL_BAD
               : OPTVAL_OK;
}

int optval_acme_mode(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (strcmp(arg, "order") == 0)
        cfg->acme_mode = OPTIONS_ACME_ORDER;
    else if (strcmp(arg, "burst") == 0)
        cfg->acme_mode = OPTIONS_ACME_BURST;
    else {
        snprintf(reason, n, "is not an ACME mode (expected burst or order)");
        return OPTVAL_BAD;
    }
    return OPTVAL_OK;
}

int optval_acme_profile(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    size_t len = strlen(arg);
    bool ok = len > 0 && len <= OPTIONS_ACME_PROFILE_MAX;
    for (size_t i = 0; ok && i < len; i++) {
        char c = arg[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    }
    if (!ok) {
        snprintf(reason, n, "is not a profile id (expected 1 to %d of A-Z a-z 0-9 . _ -, e.g. %s)",
                 OPTIONS_ACME_PROFILE_MAX, OPTIONS_DEFAULT_ACME_PROFILE);
        return OPTVAL_BAD;
    }
    snprintf(cfg->acme_profile, sizeof(cfg->acme_profile), "%s", arg);
    return OPTVAL_OK;
}

int optval_acme_directory(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (parse_url(arg, &cfg->acme_directory, reason, n) != 0)
        return OPTVAL_BAD_REDACTED;
    if (cfg->acme_directory.base_path[0] == '\0') {
        snprintf(reason, n, "has no path (expected the directory URL, e.g. https://127.0.0.1:14000/dir)");
        return OPTVAL_BAD_REDACTED;
    }
    return store_string(&cfg->acme_directory_url, arg, reason, n);
}

int optval_acme_key_alg(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (strcmp(arg, "es256") == 0)
        cfg->acme_key_alg = OPTIONS_ACME_ES256;
    else if (strcmp(arg, "rs256") == 0)
        cfg->acme_key_alg = OPTIONS_ACME_RS256;
    else if (strcmp(arg, "eddsa") == 0)
        cfg->acme_key_alg = OPTIONS_ACME_EDDSA;
    else {
        snprintf(reason, n, "is not an account key algorithm (expected es256, rs256 or eddsa)");
        return OPTVAL_BAD;
    }
    return OPTVAL_OK;
}

int optval_acme_cacert(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n)
{
    (void)id;
    if (parse_readable_file(arg, reason, n) != 0)
        return OPTVAL_BAD;
    return store_string(&cfg->acme_cacert_path, arg, reason, n);
}
