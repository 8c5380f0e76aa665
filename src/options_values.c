/* src/options_values.c - the value handler of each `fleetsim run` option (see
 * options_values.h): check with engine/parse, store in the run_config in its unit. */
#include "src/options_values.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario_file.h"

#define POOL_PREFIX "pool:"

/* Stores a copy of arg in *slot (replacing nothing: options are given once). */
static int store_string(char **slot, const char *arg, char *reason, size_t n)
{
    free(*slot);
    *slot = strdup(arg);
    if (!*slot) {
        snprintf(reason, n, "could not be stored: out of memory (expected a shorter value)");
        return CMDLINE_BAD;
    }
    return CMDLINE_OK;
}

/* Parses arg as a preset setting (sim/preset.h: the one copy of the rule a scenario file uses
 * too) into the scratch preset *v. */
static int via_preset(enum preset_setting s, const char *arg, struct preset *v, char *reason,
                      size_t n)
{
    memset(v, 0, sizeof(*v));
    return preset_set(v, s, arg, reason, n) ? CMDLINE_BAD : CMDLINE_OK;
}

int optval_flag(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)arg;
    (void)reason;
    (void)n;
    switch (id) {
    case RUN_OPT_INSECURE:
        cfg->insecure = true;
        break;
    case RUN_OPT_REGISTER:
        cfg->register_agents = true;
        break;
    case RUN_OPT_NO_THRESHOLDS:
        cfg->no_thresholds = true;
        break;
    case RUN_OPT_QUIET:
        cfg->verbosity = -1;
        break;
    case RUN_OPT_VERBOSE:
        cfg->verbosity = cfg->verbosity < 0 ? 1 : cfg->verbosity + 1;
        break;
    case RUN_OPT_DRY_RUN:
        cfg->dry_run = true;
        break;
    case RUN_OPT_LIST_SCENARIOS:
        cfg->action = OPTIONS_ACTION_LIST_SCENARIOS;
        break;
    default:
        break;
    }
    return CMDLINE_OK;
}

int optval_parse_server_url(const char *arg, struct parsed_url *out, char *reason, size_t n)
{
    int rc = parse_url(arg, out, reason, n);
    if (rc == -EACCES)
        snprintf(reason, n,
                 "contains user:password@ (pass the key with --api-key-file or CERTCTL_API_KEY)");
    return rc;
}

int optval_url(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (optval_parse_server_url(arg, &cfg->url, reason, n) != 0)
        return CMDLINE_BAD_REDACTED;
    cfg->url_set = true;
    cfg->url_source = OPTIONS_SOURCE_ARG;
    return CMDLINE_OK;
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
    snprintf(reason, n, "%s (expected 1 to %d printable characters without spaces)", what,
             OPTIONS_API_KEY_MAX);
    return -EINVAL;
}

int optval_api_key(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (optval_check_key(arg, reason, n) != 0)
        return CMDLINE_BAD_HIDDEN;
    snprintf(cfg->api_key, sizeof(cfg->api_key), "%s", arg);
    cfg->api_key_source = OPTIONS_SOURCE_ARG;
    return CMDLINE_OK;
}

int optval_api_key_file(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    char key[OPTIONS_API_KEY_MAX + 1];
    int rc = parse_read_first_line(arg, key, sizeof(key), reason, n);
    if (rc == 0 && optval_check_key(key, reason, n) != 0)
        rc = -EINVAL;
    if (rc != 0) {
        explicit_bzero(key, sizeof(key));
        return CMDLINE_BAD;
    }
    memcpy(cfg->api_key, key, sizeof(key));
    explicit_bzero(key, sizeof(key));
    cfg->api_key_source = OPTIONS_SOURCE_FILE;
    return store_string(&cfg->api_key_file, arg, reason, n);
}

int optval_cacert(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (parse_readable_file(arg, reason, n) != 0)
        return CMDLINE_BAD;
    return store_string(&cfg->cacert_path, arg, reason, n);
}

/* The path as shown in an error line: control characters become '?'. */
static void show_path(const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "%s", path);
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

/* Loads --scenario FILE (sim/scenario_file.h) into *p. On failure the reason is a whole line
 * `--scenario FILE: "key": reason` (CMDLINE_BAD_LINE). */
static int load_scenario_file(const char *arg, struct preset **p, char *reason, size_t n)
{
    char why[1024], shown[PARSE_PATH_MAX];
    if (scenario_file_load(arg, p, why, sizeof(why)) == 0)
        return CMDLINE_OK;
    show_path(arg, shown, sizeof(shown));
    snprintf(reason, n, "--scenario %s: %s", shown, why);
    return CMDLINE_BAD_LINE;
}

int optval_scenario(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    char list[256];
    options_scenario_list(list, sizeof(list));
    bool file = scenario_is_file(arg);
    struct preset *loaded = NULL;
    const struct preset *p = file ? NULL : preset_find(arg);
    if (!file && !p) {
        snprintf(reason, n,
                 "is not a known scenario (expected one of: %s; or a scenario file, "
                 "a path with a / or ending in .json)",
                 list);
        return CMDLINE_BAD;
    }
    if (cfg->n_scenarios == OPTIONS_SCENARIOS_MAX) {
        snprintf(reason, n, "is one scenario too many (expected at most %d)",
                 OPTIONS_SCENARIOS_MAX);
        return CMDLINE_BAD;
    }
    if (file) {
        int rc = load_scenario_file(arg, &loaded, reason, n);
        if (rc != CMDLINE_OK)
            return rc;
        p = loaded;
    }
    for (size_t i = 0; i < cfg->n_scenarios; i++) {
        if (strcmp(cfg->scenarios[i], p->name) != 0)
            continue;
        if (!file) {
            snprintf(reason, n, "is given twice (expected each scenario once)");
            return CMDLINE_BAD;
        }
        char shown[PARSE_PATH_MAX];
        show_path(arg, shown, sizeof(shown));
        snprintf(reason, n,
                 "--scenario %s: \"name\": \"%s\" is the name of an earlier --scenario "
                 "(expected each scenario once)",
                 shown, p->name);
        scenario_file_free(loaded);
        return CMDLINE_BAD_LINE;
    }
    size_t i = cfg->n_scenarios;
    int rc = store_string(&cfg->scenarios[i], p->name, reason, n);
    if (rc == CMDLINE_OK && file)
        rc = store_string(&cfg->scenario_files[i], arg, reason, n);
    if (rc != CMDLINE_OK) {
        free(cfg->scenarios[i]);
        cfg->scenarios[i] = NULL;
        scenario_file_free(loaded);
        return rc;
    }
    cfg->scenario_presets[i] = p;
    cfg->n_scenarios++;
    return CMDLINE_OK;
}

int optval_agents(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_AGENTS, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->agents = v.agents;
    return rc;
}

int optval_fleet_prefix(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (identity_prefix_check(arg) != 0) {
        snprintf(reason, n,
                 "is not a fleet prefix (expected a lowercase letter then up to %d lowercase "
                 "letters or digits, e.g. loadtest)",
                 IDENTITY_PREFIX_MAX - 1);
        return CMDLINE_BAD;
    }
    snprintf(cfg->fleet_prefix, sizeof(cfg->fleet_prefix), "%s", arg);
    return CMDLINE_OK;
}

/* A duration that is 0 (off) or within [min_ns, max_ns] (sim/preset.h holds the rule). */
static int duration_or_off(const char *arg, uint64_t min_ns, uint64_t max_ns, uint64_t *out,
                           char *reason, size_t n)
{
    return preset_parse_duration_or_off(arg, min_ns, max_ns, out, reason, n) ? CMDLINE_BAD
                                                                             : CMDLINE_OK;
}

/* A duration within [min_ns, max_ns]. */
static int duration_in(const char *arg, uint64_t min_ns, uint64_t max_ns, uint64_t *out,
                       char *reason, size_t n)
{
    return parse_duration_ns(arg, min_ns, max_ns, out, reason, n) ? CMDLINE_BAD : CMDLINE_OK;
}

int optval_heartbeat(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_HEARTBEAT, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->heartbeat_ns = v.heartbeat_ns;
    return rc;
}

int optval_jitter(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_JITTER, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->jitter_pct = v.jitter_pct;
    return rc;
}

int optval_poll(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_POLL, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->poll_ns = v.poll_ns;
    return rc;
}

int optval_agent_profile(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_AGENT_PROFILE, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->agent_profile = v.agent_profile;
    return rc;
}

int optval_os_mix(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_OS_MIX, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->os_mix = v.os_mix;
    return rc;
}

int optval_ramp(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_RAMP, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->ramp_ns = v.ramp_ns;
    return rc;
}

int optval_agents_file(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (*arg == '\0') {
        snprintf(reason, n, "is empty (expected a file name)");
        return CMDLINE_BAD;
    }
    /* readable or writable depends on --register, which may come later: checked after parsing */
    return store_string(&cfg->agents_file, arg, reason, n);
}

int optval_duration(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_DURATION, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->duration_ns = v.duration_ns;
    return rc;
}

int optval_seed(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return parse_count_u64(arg, 0, UINT64_MAX, &cfg->seed, reason, n) ? CMDLINE_BAD : CMDLINE_OK;
}

int optval_add_threshold(struct run_config *cfg, const char *spec, char *reason, size_t n)
{
    if (*spec == '\0') {
        snprintf(
            reason, n,
            "is empty (expected METRIC[{tag:value,...}]:EXPR, e.g. http_req_failed:rate<0.001)");
        return CMDLINE_BAD;
    }
    char **grown = realloc(cfg->threshold_specs, (cfg->n_thresholds + 1) * sizeof(*grown));
    if (!grown) {
        snprintf(reason, n, "could not be stored: out of memory (expected fewer thresholds)");
        return CMDLINE_BAD;
    }
    cfg->threshold_specs = grown;
    cfg->threshold_specs[cfg->n_thresholds] = NULL;
    int rc = store_string(&cfg->threshold_specs[cfg->n_thresholds], spec, reason, n);
    if (rc == CMDLINE_OK)
        cfg->n_thresholds++;
    return rc;
}

int optval_threshold(void *ctx, int id, char *arg, char *reason, size_t n)
{
    (void)id;
    return optval_add_threshold(ctx, arg, reason, n);
}

int optval_output_path(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    if (parse_writable_path(arg, reason, n) != 0)
        return CMDLINE_BAD;
    char **slot = id == RUN_OPT_SUMMARY_JSON ? &cfg->summary_json_path
                  : id == RUN_OPT_HTML       ? &cfg->html_path
                                             : &cfg->interval_log_path;
    return store_string(slot, arg, reason, n);
}

/* ADDR:PORT as parse_listen_addr takes it, or a bare PORT / :PORT on the loopback address. */
int optval_metrics_listen(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
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
        return CMDLINE_BAD;
    cfg->metrics_listen_set = true;
    return CMDLINE_OK;
}

int optval_report_interval(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return duration_or_off(arg, OPTVAL_MIN_REPORT_NS, OPTVAL_MAX_INTERVAL_NS,
                           &cfg->report_interval_ns, reason, n);
}

int optval_conn(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    static const char expect[] = "(expected per-agent or pool:N, e.g. pool:1000)";
    if (strcmp(arg, "per-agent") == 0) {
        cfg->conn_mode = OPTIONS_CONN_PER_AGENT;
        cfg->pool_size = 0;
        return CMDLINE_OK;
    }
    if (strncmp(arg, POOL_PREFIX, strlen(POOL_PREFIX)) != 0) {
        snprintf(reason, n, "is not a connection mode %s", expect);
        return CMDLINE_BAD;
    }
    char sub[160];
    if (parse_count_u32(arg + strlen(POOL_PREFIX), 1, OPTIONS_MAX_AGENTS, &cfg->pool_size, sub,
                        sizeof(sub)) != 0) {
        const char *tail = strstr(sub, " (expected");
        snprintf(reason, n,
                 "has a pool size that %.*s (expected pool:N with N from 1 to the --agents count)",
                 tail ? (int)(tail - sub) : (int)strlen(sub), sub);
        return CMDLINE_BAD;
    }
    cfg->conn_mode = OPTIONS_CONN_POOL;
    return CMDLINE_OK;
}

int optval_source_ips(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (parse_ipv4_range(arg, &cfg->source_ips, reason, n) != 0)
        return CMDLINE_BAD;
    cfg->source_ips_set = true;
    return CMDLINE_OK;
}

int optval_threads(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return parse_count_u32(arg, 1, OPTIONS_MAX_THREADS, &cfg->threads, reason, n) ? CMDLINE_BAD
                                                                                  : CMDLINE_OK;
}

int optval_timer_slot(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return duration_in(arg, 0, OPTIONS_MAX_TIMER_SLOT_NS, &cfg->timer_slot_ns, reason, n);
}

/* MIN or MIN-MAX, each 0 to 10 s (the real agent's probe timeout), MIN <= MAX. */
int optval_verify_probe(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    const uint64_t max_ns = 10ULL * 1000000000ULL;
    char lo[64];
    const char *dash = strchr(arg, '-');
    size_t lo_len = dash ? (size_t)(dash - arg) : strlen(arg);
    if (lo_len >= sizeof lo) {
        snprintf(reason, n, "is not DUR or DUR-DUR (e.g. 5ms-50ms)");
        return CMDLINE_BAD;
    }
    memcpy(lo, arg, lo_len);
    lo[lo_len] = '\0';
    uint64_t a, b;
    if (parse_duration_ns(lo, 0, max_ns, &a, reason, n) != 0 ||
        parse_duration_ns(dash ? dash + 1 : lo, 0, max_ns, &b, reason, n) != 0)
        return CMDLINE_BAD;
    if (a > b) {
        snprintf(reason, n, "starts after it ends (expected MIN <= MAX)");
        return CMDLINE_BAD;
    }
    cfg->probe_min_ns = a;
    cfg->probe_max_ns = b;
    return CMDLINE_OK;
}

/* 1 to 127 printable ASCII characters (a header value). */
int optval_user_agent(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    size_t len = strlen(arg);
    bool printable = len > 0 && len < sizeof cfg->user_agent;
    for (size_t i = 0; printable && i < len; i++)
        printable = arg[i] >= 0x20 && arg[i] < 0x7f;
    if (!printable) {
        snprintf(reason, n, "is not 1 to %zu printable ASCII characters",
                 sizeof cfg->user_agent - 1);
        return CMDLINE_BAD;
    }
    memcpy(cfg->user_agent, arg, len + 1);
    return CMDLINE_OK;
}

int optval_tls_resume(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0) {
        snprintf(reason, n, "is not on or off");
        return CMDLINE_BAD;
    }
    cfg->tls_resume = strcmp(arg, "on") == 0;
    return CMDLINE_OK;
}

/* One share: "0.05" (0 to 1) or "5%". Returns 0 or -1 with a reason. */
static int failure_share(const char *s, double *out, char *reason, size_t n)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end != s && *end == '%' && end[1] == '\0') {
        v /= 100.0;
    } else if (end == s || *end != '\0') {
        snprintf(reason, n, "has a share that is not a number (0 to 1, or a percentage)");
        return -1;
    }
    if (!(v >= 0.0 && v <= 1.0)) {
        snprintf(reason, n, "has a share outside 0 to 1 (0%% to 100%%)");
        return -1;
    }
    *out = v;
    return 0;
}

/* STEP=P[,STEP=P...] with STEP csr, deploy or verify. */
int optval_agent_failures(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    char buf[256];
    if (strlen(arg) >= sizeof buf || !*arg) {
        snprintf(reason, n, "is not STEP=P[,STEP=P...] (e.g. csr=0.01,deploy=2%%)");
        return CMDLINE_BAD;
    }
    snprintf(buf, sizeof buf, "%s", arg);
    double csr = 0, deploy = 0, verify = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        double *slot = NULL;
        if (eq) {
            *eq = '\0';
            slot = strcmp(item, "csr") == 0      ? &csr
                   : strcmp(item, "deploy") == 0 ? &deploy
                   : strcmp(item, "verify") == 0 ? &verify
                                                 : NULL;
        }
        if (!slot) {
            snprintf(reason, n, "names a step other than csr, deploy or verify");
            return CMDLINE_BAD;
        }
        if (failure_share(eq + 1, slot, reason, n) != 0)
            return CMDLINE_BAD;
    }
    cfg->fail_csr = csr;
    cfg->fail_deploy = deploy;
    cfg->fail_verify = verify;
    return CMDLINE_OK;
}

int optval_shard(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return parse_shard(arg, &cfg->shard_k, &cfg->shard_n, reason, n) ? CMDLINE_BAD : CMDLINE_OK;
}

int optval_timeout(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return duration_in(arg, OPTVAL_MIN_TIMEOUT_NS, OPTVAL_MAX_TIMEOUT_NS, &cfg->timeout_ns, reason,
                       n);
}

int optval_grace(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return duration_in(arg, 0, OPTVAL_MAX_GRACE_NS, &cfg->grace_ns, reason, n);
}

int optval_saturation_lag(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return duration_in(arg, OPTVAL_MIN_SATURATION_LAG_NS, OPTVAL_MAX_GRACE_NS,
                       &cfg->saturation_lag_ns, reason, n);
}

int optval_saturation_cpu(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    return parse_percent(arg, 1, 100, &cfg->saturation_cpu_pct, reason, n) ? CMDLINE_BAD
                                                                           : CMDLINE_OK;
}

int optval_certs(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_CERTS, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->certs = v.certs;
    return rc;
}

int optval_bulk_rate(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_BULK_RATE, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->bulk_rate_per_s = v.bulk_rate_per_s;
    return rc;
}

int optval_bulk_batch(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_BULK_BATCH, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->bulk_batch = v.bulk_batch;
    return rc;
}

int optval_bulk_passes(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_BULK_PASSES, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->bulk_passes = v.bulk_passes;
    return rc;
}

/* ---- ACME clients (sim/acme.h) ---- */

int optval_acme_clients(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_ACME_CLIENTS, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->acme_clients = v.acme_clients;
    return rc;
}

int optval_acme_mode(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    struct preset v;
    int rc = via_preset(PRESET_SET_ACME_MODE, arg, &v, reason, n);
    if (rc == CMDLINE_OK)
        cfg->acme_mode = v.acme_mode;
    return rc;
}

int optval_acme_profile(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
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
        return CMDLINE_BAD;
    }
    snprintf(cfg->acme_profile, sizeof(cfg->acme_profile), "%s", arg);
    return CMDLINE_OK;
}

int optval_acme_directory(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (parse_url(arg, &cfg->acme_directory, reason, n) != 0)
        return CMDLINE_BAD_REDACTED;
    if (cfg->acme_directory.base_path[0] == '\0') {
        snprintf(reason, n,
                 "has no path (expected the directory URL, e.g. https://127.0.0.1:14000/dir)");
        return CMDLINE_BAD_REDACTED;
    }
    return store_string(&cfg->acme_directory_url, arg, reason, n);
}

int optval_acme_key_alg(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    static const enum acme_key_alg algs[] = {ACME_KEY_ES256, ACME_KEY_RS256, ACME_KEY_EDDSA};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcmp(arg, acme_key_alg_name(algs[i])) == 0) {
            cfg->acme_key_alg = algs[i];
            return CMDLINE_OK;
        }
    }
    snprintf(reason, n, "is not an account key algorithm (expected %s, %s or %s)",
             acme_key_alg_name(ACME_KEY_ES256), acme_key_alg_name(ACME_KEY_RS256),
             acme_key_alg_name(ACME_KEY_EDDSA));
    return CMDLINE_BAD;
}

int optval_acme_cacert(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct run_config *cfg = ctx;
    (void)id;
    if (parse_readable_file(arg, reason, n) != 0)
        return CMDLINE_BAD;
    return store_string(&cfg->acme_cacert_path, arg, reason, n);
}
