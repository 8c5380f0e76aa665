/* src/options.c - parses `fleetsim [run] [OPTIONS]` into a struct run_config (see options.h):
 * one table of options with a value handler each (options_values.c), the getopt loop, then the
 * checks after it (options_check.c) and the scrubbing of the API key from argv. */
#include "src/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/exit_status.h"
#include "engine/threshold.h"
#include "sim/preset.h"
#include "sim/scenario_file.h"
#include "src/options_values.h"

/* Commands named in the "unknown command" error. */
#ifndef OPTIONS_COMMANDS
#define OPTIONS_COMMANDS "run, seed, merge or report"
#endif
/* getopt_long return values of long options: OPT_BASE + enum run_opt, then help and version. */
#define OPT_BASE 256
#define OPT_HELP (OPT_BASE + RUN_OPT__COUNT)
#define OPT_VERSION (OPT_HELP + 1)

/* Options that may be given more than once. */
#define REPEATABLE_MASK \
    ((1ULL << RUN_OPT_THRESHOLD) | (1ULL << RUN_OPT_SCENARIO) | (1ULL << RUN_OPT_VERBOSE))

/* The long options, in --help order; handlers live in options_values.c. */
static const struct option_spec {
    const char *name;
    enum run_opt id;
    bool takes_value;
    options_value_fn handler;
} specs[] = {
    {"url", RUN_OPT_URL, true, optval_url},
    {"api-key", RUN_OPT_API_KEY, true, optval_api_key},
    {"api-key-file", RUN_OPT_API_KEY_FILE, true, optval_api_key_file},
    {"cacert", RUN_OPT_CACERT, true, optval_cacert},
    {"insecure", RUN_OPT_INSECURE, false, optval_flag},
    {"scenario", RUN_OPT_SCENARIO, true, optval_scenario},
    {"agents", RUN_OPT_AGENTS, true, optval_agents},
    {"fleet-prefix", RUN_OPT_FLEET_PREFIX, true, optval_fleet_prefix},
    {"heartbeat", RUN_OPT_HEARTBEAT, true, optval_heartbeat},
    {"jitter", RUN_OPT_JITTER, true, optval_jitter},
    {"poll", RUN_OPT_POLL, true, optval_poll},
    {"agent-profile", RUN_OPT_AGENT_PROFILE, true, optval_agent_profile},
    {"os-mix", RUN_OPT_OS_MIX, true, optval_os_mix},
    {"ramp", RUN_OPT_RAMP, true, optval_ramp},
    {"register", RUN_OPT_REGISTER, false, optval_flag},
    {"agents-file", RUN_OPT_AGENTS_FILE, true, optval_agents_file},
    {"duration", RUN_OPT_DURATION, true, optval_duration},
    {"seed", RUN_OPT_SEED, true, optval_seed},
    {"threshold", RUN_OPT_THRESHOLD, true, optval_threshold},
    {"no-thresholds", RUN_OPT_NO_THRESHOLDS, false, optval_flag},
    {"summary-json", RUN_OPT_SUMMARY_JSON, true, optval_output_path},
    {"interval-log", RUN_OPT_INTERVAL_LOG, true, optval_output_path},
    {"report-interval", RUN_OPT_REPORT_INTERVAL, true, optval_report_interval},
    {"html", RUN_OPT_HTML, true, optval_output_path},
    {"metrics-listen", RUN_OPT_METRICS_LISTEN, true, optval_metrics_listen},
    {"conn", RUN_OPT_CONN, true, optval_conn},
    {"source-ips", RUN_OPT_SOURCE_IPS, true, optval_source_ips},
    {"threads", RUN_OPT_THREADS, true, optval_threads},
    {"timer-slot", RUN_OPT_TIMER_SLOT, true, optval_timer_slot},
    {"shard", RUN_OPT_SHARD, true, optval_shard},
    {"timeout", RUN_OPT_TIMEOUT, true, optval_timeout},
    {"grace", RUN_OPT_GRACE, true, optval_grace},
    {"quiet", RUN_OPT_QUIET, false, optval_flag},
    {"verbose", RUN_OPT_VERBOSE, false, optval_flag},
    {"dry-run", RUN_OPT_DRY_RUN, false, optval_flag},
    {"certs", RUN_OPT_CERTS, true, optval_certs},
    {"bulk-rate", RUN_OPT_BULK_RATE, true, optval_bulk_rate},
    {"bulk-batch", RUN_OPT_BULK_BATCH, true, optval_bulk_batch},
    {"bulk-passes", RUN_OPT_BULK_PASSES, true, optval_bulk_passes},
    {"acme-clients", RUN_OPT_ACME_CLIENTS, true, optval_acme_clients},
    {"acme-mode", RUN_OPT_ACME_MODE, true, optval_acme_mode},
    {"acme-profile", RUN_OPT_ACME_PROFILE, true, optval_acme_profile},
    {"acme-directory", RUN_OPT_ACME_DIRECTORY, true, optval_acme_directory},
    {"acme-key-alg", RUN_OPT_ACME_KEY_ALG, true, optval_acme_key_alg},
    {"acme-cacert", RUN_OPT_ACME_CACERT, true, optval_acme_cacert},
    {"list-scenarios", RUN_OPT_LIST_SCENARIOS, false, optval_flag},
};
#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

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
    cfg->shard_k = 0;
    cfg->shard_n = 1;
    cfg->timeout_ns = OPTIONS_DEFAULT_TIMEOUT_NS;
    cfg->grace_ns = OPTIONS_DEFAULT_GRACE_NS;
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
        if (specs[i].id == o)
            return specs[i].name;
    }
    return "?";
}

/* ---- getopt plumbing ---- */

static void build_longopts(struct option *lo)
{
    size_t i;
    for (i = 0; i < N_SPECS; i++) {
        lo[i] =
            (struct option){specs[i].name, specs[i].takes_value ? required_argument : no_argument,
                            NULL, OPT_BASE + (int)specs[i].id};
    }
    lo[i++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    lo[i++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    lo[i] = (struct option){NULL, 0, NULL, 0};
}

/* The spec of a getopt return value, or NULL. */
static const struct option_spec *spec_of(int c)
{
    if (c == 'q')
        c = OPT_BASE + RUN_OPT_QUIET;
    else if (c == 'v')
        c = OPT_BASE + RUN_OPT_VERBOSE;
    for (size_t i = 0; i < N_SPECS; i++) {
        if (OPT_BASE + (int)specs[i].id == c)
            return &specs[i];
    }
    return NULL;
}

/* getopt_long accepts unique abbreviations ("--agen"); fleetsim does not, so that adding an
 * option never changes what an existing command line means. Returns 0 when elem spells the
 * long option name exactly. */
static int check_exact(const char *elem, const char *name, char *err, size_t errlen)
{
    size_t len = strlen(name);
    if (strncmp(elem, "--", 2) == 0 && strncmp(elem + 2, name, len) == 0 &&
        (elem[2 + len] == '\0' || elem[2 + len] == '='))
        return 0;
    char shown[64];
    snprintf(shown, sizeof(shown), "%.*s", (int)strcspn(elem, "="), elem);
    return optval_usage_error(
        err, errlen, "unknown option \"%s\" (did you mean --%s? see fleetsim --help)", shown, name);
}

/* Writes "--a, --b or --c" for the long options that start with prefix into buf (size n).
 * Returns how many there are. */
static size_t similar_options(const char *prefix, char *buf, size_t n)
{
    const char *match[N_SPECS];
    size_t m = 0, plen = strlen(prefix);
    if (plen == 0)
        return 0;
    for (size_t i = 0; i < N_SPECS; i++) {
        if (strncmp(specs[i].name, prefix, plen) == 0)
            match[m++] = specs[i].name;
    }
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m && len < n; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == m ? " or " : ", ");
        int w = snprintf(buf + len, n - len, "%s--%s", sep, match[i]);
        len = w < 0 ? n : len + (size_t)w;
    }
    return m;
}

/* Message for getopt's '?' (unknown option, or a value given to a flag). */
static int unknown_option(const char *elem, int opt, char *err, size_t errlen)
{
    const struct option_spec *s = spec_of(opt);
    if (s)
        return optval_usage_error(err, errlen, "--%s: takes no value (expected --%s alone)",
                                  s->name, s->name);
    if (opt == OPT_HELP || opt == OPT_VERSION)
        return optval_usage_error(err, errlen, "--%s: takes no value",
                                  opt == OPT_HELP ? "help" : "version");
    if (opt > 0 && opt < OPT_BASE)
        return optval_usage_error(err, errlen, "unknown option \"-%c\" (see fleetsim --help)", opt);
    char shown[64];
    snprintf(shown, sizeof(shown), "%.*s", (int)strcspn(elem, "="), elem);
    char hint[256];
    if (strncmp(shown, "--", 2) == 0 && similar_options(shown + 2, hint, sizeof(hint)) > 0)
        return optval_usage_error(err, errlen,
                                  "unknown option \"%s\" (did you mean %s? see fleetsim --help)",
                                  shown, hint);
    return optval_usage_error(err, errlen, "unknown option \"%s\" (see fleetsim --help)", shown);
}

/* Message for an option given last without its value: the handler's own "(expected ...)"
 * tail, obtained by running it on an empty value against a scratch config. */
static int missing_value(const struct option_spec *s, char *err, size_t errlen)
{
    if (!s)
        return optval_usage_error(err, errlen,
                                  "an option is missing its value (see fleetsim --help)");
    struct run_config scratch;
    char reason[256] = "";
    options_defaults(&scratch);
    s->handler(&scratch, s->id, "", reason, sizeof(reason));
    options_free(&scratch);
    const char *expect = strstr(reason, "(expected");
    return optval_usage_error(err, errlen, "--%s: missing value %s", s->name,
                              expect ? expect : "(see fleetsim --help)");
}

/* Applies one recognised option. */
static int apply_option(struct run_config *cfg, const struct option_spec *s, const char *arg,
                        char *err, size_t errlen)
{
    uint64_t bit = 1ULL << s->id;
    if ((cfg->explicit_mask & bit) && !(REPEATABLE_MASK & bit))
        return optval_usage_error(err, errlen,
                                  "--%s: given more than once (expected it at most once)", s->name);
    cfg->explicit_mask |= bit;
    char reason[1024] = ""; /* scenario files' lines are long */
    int rc = s->handler(cfg, s->id, arg, reason, sizeof(reason));
    if (rc == OPTVAL_OK)
        return 0;
    if (rc == OPTVAL_BAD_LINE)
        return optval_usage_error(err, errlen, "%s", reason);
    if (rc == OPTVAL_BAD_HIDDEN)
        return optval_value_error(err, errlen, s->name, NULL, reason);
    if (rc == OPTVAL_BAD_REDACTED) {
        char shown[PARSE_PATH_MAX];
        parse_url_redact(arg, shown, sizeof(shown));
        return optval_value_error(err, errlen, s->name, shown, reason);
    }
    return optval_value_error(err, errlen, s->name, arg, reason);
}

/* Runs getopt_long over argv from index first. Returns 0 or the usage exit code. */
static int parse_loop(int argc, char **argv, int first, struct run_config *cfg, char *err,
                      size_t errlen)
{
    struct option lo[N_SPECS + 3];
    build_longopts(lo);
    optind = 0; /* glibc: full re-initialisation, so options_parse can be called again */
    opterr = 0;
    /* skip argv[0] (and "run"): getopt sees a shifted vector */
    char **av = argv + first - 1;
    int ac = argc - first + 1;
    for (;;) {
        int prev = optind ? optind : 1;
        int li = -1;
        int c = getopt_long(ac, av, "+:qv", lo, &li);
        if (c == -1)
            break;
        const char *elem = prev < ac ? av[prev] : "";
        if (c == '?')
            return unknown_option(elem, optopt, err, errlen);
        if (c == ':')
            return missing_value(spec_of(optopt), err, errlen);
        if (li >= 0 && check_exact(elem, lo[li].name, err, errlen) != 0)
            return EXIT_STATUS_USAGE;
        if (c == OPT_HELP || c == OPT_VERSION) {
            cfg->action = c == OPT_HELP ? OPTIONS_ACTION_HELP : OPTIONS_ACTION_VERSION;
            return 0;
        }
        int rc = apply_option(cfg, spec_of(c), optarg, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (optind < ac) {
        char shown[96];
        parse_error_line(shown, sizeof(shown), OPTIONS_PROG, "unexpected argument", av[optind],
                         "(expected only options; see fleetsim --help)");
        snprintf(err, errlen, "%s", shown);
        return EXIT_STATUS_USAGE;
    }
    return 0;
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
