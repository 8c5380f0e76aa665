/* src/options.h - fleetsim's command line for `fleetsim [run] ...` (man/fleetsim.1): parses argv
 * and the CERTCTL_* environment into a struct run_config holding every value in its unit, records
 * which options were given explicitly (so scenario presets fill only the others,
 * docs/scenarios.md), scrubs the API key from argv, and renders the config as JSON without
 * secrets. */
#ifndef FLEETSIM_SRC_OPTIONS_H
#define FLEETSIM_SRC_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "engine/parse.h"
#include "sim/acme.h"
#include "sim/agent.h"
#include "sim/identity.h"
#include "sim/preset.h"

struct threshold; /* engine/threshold.h (owner "measure") */

/* Longest API key accepted, bytes without the NUL. */
#define OPTIONS_API_KEY_MAX 511
/* Most --scenario options in one run. */
#define OPTIONS_SCENARIOS_MAX 8
/* Defaults (man/fleetsim.1). */
#define OPTIONS_DEFAULT_AGENTS 5000u
#define OPTIONS_MAX_AGENTS PRESET_MAX_AGENTS
#define OPTIONS_DEFAULT_HEARTBEAT_NS (30ULL * 1000000000ULL)
#define OPTIONS_DEFAULT_JITTER_PCT 10.0
#define OPTIONS_DEFAULT_POLL_NS (30ULL * 1000000000ULL)
#define OPTIONS_DEFAULT_DURATION_NS (300ULL * 1000000000ULL)
#define OPTIONS_DEFAULT_REPORT_INTERVAL_NS (10ULL * 1000000000ULL)
#define OPTIONS_DEFAULT_TIMEOUT_NS (30ULL * 1000000000ULL)
#define OPTIONS_DEFAULT_GRACE_NS (10ULL * 1000000000ULL)
/* The verdict client_saturated: fleetsim's own lag p99 above this ... */
#define OPTIONS_DEFAULT_SATURATION_LAG_NS (50ULL * 1000000ULL)
/* ... while a loop thread wanted a CPU (running or queued) at least this share of its time. */
#define OPTIONS_DEFAULT_SATURATION_CPU_PCT 50.0
#define OPTIONS_DEFAULT_THREADS 1u
#define OPTIONS_DEFAULT_TIMER_SLOT_NS 5000000ULL /* = AGENT_TIMER_SLOT_DEFAULT_NS */
#define OPTIONS_MAX_TIMER_SLOT_NS 1000000000ULL
#define OPTIONS_MAX_THREADS 256u
#define OPTIONS_DEFAULT_BULK_BATCH 50u /* certctl clamps filtered matches at 50 */
#define OPTIONS_MAX_CERTS PRESET_MAX_CERTS
#define OPTIONS_MAX_BULK_BATCH PRESET_MAX_BULK_BATCH /* certctl's body limit holds about 25k ids */
#define OPTIONS_MIN_BULK_RATE_PER_S PRESET_MIN_BULK_RATE_PER_S /* 0.6/m */
#define OPTIONS_MAX_BULK_RATE_PER_S PRESET_MAX_BULK_RATE_PER_S
#define OPTIONS_MAX_BULK_PASSES PRESET_MAX_BULK_PASSES

/* What main should do after a successful parse. */
enum options_action {
    OPTIONS_ACTION_RUN = 0,        /* run (or dry-run) the simulation */
    OPTIONS_ACTION_HELP,           /* --help: print help_print() to stdout, exit 0 */
    OPTIONS_ACTION_VERSION,        /* --version: print help_print_version() to stdout, exit 0 */
    OPTIONS_ACTION_LIST_SCENARIOS, /* --list-scenarios: print help_print_scenarios() to
                                      stdout, exit 0 (the other options are parsed, not
                                      checked together) */
};

/* Options whose "given explicitly" state is recorded (bit i of run_config.explicit_mask). */
enum run_opt {
    RUN_OPT_URL = 0,
    RUN_OPT_API_KEY,
    RUN_OPT_API_KEY_FILE,
    RUN_OPT_CACERT,
    RUN_OPT_INSECURE,
    RUN_OPT_SCENARIO,
    RUN_OPT_AGENTS,
    RUN_OPT_FLEET_PREFIX,
    RUN_OPT_HEARTBEAT,
    RUN_OPT_JITTER,
    RUN_OPT_POLL,
    RUN_OPT_AGENT_PROFILE,
    RUN_OPT_OS_MIX,
    RUN_OPT_RAMP,
    RUN_OPT_REGISTER,
    RUN_OPT_AGENTS_FILE,
    RUN_OPT_DURATION,
    RUN_OPT_SEED,
    RUN_OPT_THRESHOLD,
    RUN_OPT_NO_THRESHOLDS,
    RUN_OPT_SUMMARY_JSON,
    RUN_OPT_INTERVAL_LOG,
    RUN_OPT_REPORT_INTERVAL,
    RUN_OPT_CONN,
    RUN_OPT_SOURCE_IPS,
    RUN_OPT_THREADS,
    RUN_OPT_TIMER_SLOT,
    RUN_OPT_VERIFY_PROBE,
    RUN_OPT_USER_AGENT,
    RUN_OPT_TLS_RESUME,
    RUN_OPT_AGENT_FAILURES,
    RUN_OPT_SHARD,
    RUN_OPT_TIMEOUT,
    RUN_OPT_GRACE,
    RUN_OPT_QUIET,
    RUN_OPT_VERBOSE,
    RUN_OPT_DRY_RUN,
    RUN_OPT_CERTS,
    RUN_OPT_BULK_RATE,
    RUN_OPT_BULK_BATCH,
    RUN_OPT_BULK_PASSES,
    RUN_OPT_HTML,
    RUN_OPT_METRICS_LISTEN,
    RUN_OPT_ACME_CLIENTS,
    RUN_OPT_ACME_MODE,
    RUN_OPT_ACME_PROFILE,
    RUN_OPT_ACME_DIRECTORY,
    RUN_OPT_ACME_KEY_ALG,
    RUN_OPT_ACME_CACERT,
    RUN_OPT_LIST_SCENARIOS,
    RUN_OPT_SATURATION_LAG,
    RUN_OPT_SATURATION_CPU,
    RUN_OPT__COUNT
};

/* Where a value came from. */
enum options_source {
    OPTIONS_SOURCE_NONE = 0,
    OPTIONS_SOURCE_ENV,
    OPTIONS_SOURCE_ARG,
    OPTIONS_SOURCE_FILE
};

enum options_conn_mode { OPTIONS_CONN_PER_AGENT = 0, OPTIONS_CONN_POOL };

#define OPTIONS_MAX_ACME_CLIENTS PRESET_MAX_ACME_CLIENTS
#define OPTIONS_ACME_PROFILE_MAX 128
#define OPTIONS_DEFAULT_ACME_PROFILE "prof-loadtest"

/* The parsed `fleetsim run` configuration. Strings are owned (malloc'd) by the config and
 * released by options_free; durations are nanoseconds, shares percent. */
struct run_config {
    enum options_action action;

    /* target */
    bool url_set;                   /* false: start the built-in target */
    enum options_source url_source; /* ARG (--url) or ENV (CERTCTL_SERVER_URL) */
    struct parsed_url url;
    char api_key[OPTIONS_API_KEY_MAX + 1]; /* secret: never print; "" when none */
    enum options_source api_key_source;    /* ARG, FILE (--api-key-file) or ENV (CERTCTL_API_KEY) */
    char *api_key_file;                    /* path, or NULL */
    char *cacert_path;                     /* NULL: system trust store */
    bool insecure;                         /* skip certificate verification */

    /* scenarios: names as given, validated against the presets (preset_find) */
    char *scenarios[OPTIONS_SCENARIOS_MAX];
    size_t n_scenarios; /* 0: the "default" scenario */
    /* --scenario FILE (sim/scenario_file.h): scenarios[i] is then the file's "name" (the
     * scenario tag), scenario_files[i] the path as given and scenario_presets[i] the loaded
     * preset (owned, released by options_free); for a built-in preset scenario_files[i] is
     * NULL and scenario_presets[i] points into sim/preset.c's table. Use
     * options_scenario_preset() rather than preset_find(scenarios[i]). */
    const struct preset *scenario_presets[OPTIONS_SCENARIOS_MAX];
    char *scenario_files[OPTIONS_SCENARIOS_MAX];

    /* fleet */
    uint32_t agents;                            /* default 5000 */
    char fleet_prefix[IDENTITY_PREFIX_MAX + 1]; /* default "loadtest" */
    uint64_t heartbeat_ns;                      /* default 30 s */
    double jitter_pct;                /* default 10 (%), interval varies by +/- this share */
    uint64_t poll_ns;                 /* default 30 s; 0 = no work polling */
    enum agent_profile agent_profile; /* sim/agent.h, default AGENT_PROFILE_DEFAULT */
    struct identity_os_mix os_mix;    /* default 80/10/10 */
    uint64_t ramp_ns;                 /* default: the final heartbeat_ns */
    bool register_agents;             /* --register */
    char *agents_file;                /* --agents-file: written with --register, else read */

    /* run */
    uint64_t duration_ns; /* default 5 min */
    uint64_t seed;        /* --seed, else random from getrandom() */

    /* thresholds: --threshold specs then the presets', and their parsed forms (same order) */
    char **threshold_specs;
    struct threshold *thresholds; /* n_thresholds entries (engine/threshold.h) */
    size_t n_thresholds;
    bool no_thresholds;

    /* outputs */
    char *summary_json_path;
    char *interval_log_path;
    uint64_t report_interval_ns;         /* default 10 s; 0 = off */
    char *html_path;                     /* --html FILE (engine/report_html.h), or NULL */
    bool metrics_listen_set;             /* --metrics-listen given */
    struct parsed_listen metrics_listen; /* where to serve GET /metrics (engine/metrics_http.h);
                                            a bare PORT means 127.0.0.1:PORT; port 0 = ephemeral */

    /* connections and scale-out */
    enum options_conn_mode conn_mode;
    uint32_t pool_size; /* pool:N, 1 <= N <= agents */
    bool source_ips_set;
    struct ipv4_range source_ips;
    uint32_t threads;                    /* default 1 */
    uint64_t timer_slot_ns;              /* agents' wake-up slot, 0 = exact; default 5 ms */
    uint32_t shard_k, shard_n;           /* default 0/1 */
    uint64_t timeout_ns;                 /* per request, default 30 s */
    uint64_t grace_ns;                   /* drain at the end, default 10 s */
    uint64_t saturation_lag_ns;          /* client_saturated: lag p99 above this (default 50 ms) */
    double saturation_cpu_pct;           /* ... and a loop wanting a CPU this % of its time (50) */
    uint64_t probe_min_ns, probe_max_ns; /* --verify-probe: simulated probe duration range */
    char user_agent[128]; /* --user-agent; "" = Go-http-client/1.1, as the real agent */
    bool tls_resume;      /* --tls-resume on: resume TLS sessions on reconnect (default off) */
    double fail_csr, fail_deploy, fail_verify; /* --agent-failures shares, 0..1 (default 0) */

    /* operator (bulk renewal, docs/scenarios.md): off unless bulk_rate_per_s > 0 */
    uint32_t certs;         /* --certs: mc-<prefix>-00001..N; default 0 (none) */
    double bulk_rate_per_s; /* --bulk-rate: bulk-renew calls per second; 0 = off */
    uint32_t bulk_batch;    /* --bulk-batch: ids per call, default 50 */
    uint32_t bulk_passes;   /* --bulk-passes: passes over the certificates; 0 = all run */

    /* ACME clients (docs/scenarios.md): off unless acme_clients > 0 */
    uint32_t acme_clients;                           /* --acme-clients, default 0 */
    enum acme_mode acme_mode;                        /* --acme-mode, default ACME_MODE_ORDER */
    char acme_profile[OPTIONS_ACME_PROFILE_MAX + 1]; /* --acme-profile, default prof-loadtest */
    char *acme_directory_url;         /* --acme-directory as given (another ACME server, e.g.
                                           Pebble), or NULL: certctl's (or the built-in
                                           target's) /acme/profile/<profile>/directory */
    struct parsed_url acme_directory; /* its scheme, host and port */
    enum acme_key_alg acme_key_alg;   /* --acme-key-alg, default ACME_KEY_ES256 */
    char *acme_cacert_path;           /* --acme-cacert: CAs of the --acme-directory server */

    int verbosity; /* -1 quiet, 0 normal, 1+ verbose (-v repeatable) */
    bool dry_run;

    uint64_t explicit_mask; /* bit RUN_OPT_x set when that option was given */
    uint64_t scenario_mask; /* bit RUN_OPT_x set when a --scenario set that option's
                                           value (never together with its explicit bit) */
};

/* The actor groups, each tagged with one scenario (docs/metrics.md). */
enum options_actor { OPTIONS_ACTOR_AGENTS = 0, OPTIONS_ACTOR_OPERATOR, OPTIONS_ACTOR_ACME };

/* Fills cfg with the defaults above (seed 0, nothing explicit, no strings). Used by
 * options_parse; callers that build a config by hand (tests) use it too. */
void options_defaults(struct run_config *cfg);

/* Parses `fleetsim [run] [OPTIONS]` (argv[0] is the program; an optional "run" word follows)
 * plus CERTCTL_SERVER_URL / CERTCTL_API_KEY (the command line wins). On success returns 0 with
 * cfg filled (cfg->action says run, help or version) and the API key's bytes in argv
 * overwritten. The --scenario presets (sim/preset.h) and scenario files (sim/scenario_file.h)
 * are already applied: they set each value they carry (agents, heartbeat, jitter, poll,
 * profile, OS mix, ramp, duration, operator and ACME settings) where it was not given
 * explicitly (the first scenario named that sets it wins; scenario_mask records them), and
 * their thresholds follow the --threshold ones in threshold_specs/thresholds (none with
 * --no-thresholds); ramp_ns follows the final heartbeat unless --ramp or a scenario set it.
 * A scenario file that cannot be loaded is a usage error
 * `fleetsim: --scenario FILE: "key": reason`. On a usage error returns EXIT_STATUS_USAGE (2) and writes exactly one line
 * (no newline) into err, e.g. `fleetsim: --agents: "abc" is not a number (expected an integer
 * from 1 to 1000000)`; cfg then holds nothing to free beyond what options_free handles.
 * Always call options_free(cfg) afterwards. */
int options_parse(int argc, char **argv, struct run_config *cfg, char *err, size_t errlen);

/* Releases what cfg owns and wipes the API key. cfg may be reused after options_defaults. */
void options_free(struct run_config *cfg);

/* True when option o was given on the command line. */
bool options_explicit(const struct run_config *cfg, enum run_opt o);

/* True when option o's value was chosen: given on the command line, or set by a --scenario
 * (preset or file). False when it holds the default (the run may then use the agent
 * profile's own value, e.g. for --heartbeat, --jitter, --ramp). */
bool options_given(const struct run_config *cfg, enum run_opt o);

/* The preset of the i-th --scenario (built-in or loaded from a file), or NULL past the end.
 * Borrowed from cfg: valid until options_free(cfg). */
const struct preset *options_scenario_preset(const struct run_config *cfg, size_t i);

/* The scenario name that tags actor group a's requests (docs/scenarios.md): the agents take
 * the first --scenario that sets agents (more than 0) or the heartbeat, else the first
 * --scenario, else "default"; the operator the first that sets a bulk rate, the ACME clients
 * the first that sets ACME clients, each else the agents' name. Borrowed from cfg. */
const char *options_actor_scenario(const struct run_config *cfg, enum options_actor a);

/* The config as a new json_object (caller owns one reference): every option's value in
 * user units (durations in ms, shares in percent), no secrets — the API key appears only as
 * "api_key_set": true/false. */
json_object *options_config_json(const struct run_config *cfg);

#endif
