/* src/options_values.h - internal to src/options*.c: one handler per `fleetsim run` option that
 * checks its value and stores it in the run_config, the checks after the command line and the
 * usage error lines. Not a public interface. */
#ifndef FLEETSIM_SRC_OPTIONS_VALUES_H
#define FLEETSIM_SRC_OPTIONS_VALUES_H

#include <stddef.h>

#include "engine/cmdline.h"
#include "sim/preset.h"
#include "src/options.h"

/* The program name that starts every error line. */
#define OPTIONS_PROG "fleetsim"

/* After the command line (options_check.c): the environment defaults (CERTCTL_SERVER_URL,
 * CERTCTL_API_KEY), what the scenarios set into the options not given, the cross-option
 * checks, the thresholds, then the derived defaults (ramp, seed). Returns 0 or
 * EXIT_STATUS_USAGE with the error line in err. */
int options_finish(struct run_config *cfg, char *err, size_t errlen);

/* The value handler of each option (engine/cmdline.h's cmdline_value_fn; ctx is the struct
 * run_config). On failure the reason ends in "(expected ...)" and the verdict is one of the
 * CMDLINE_BAD* codes (CMDLINE_BAD_LINE for scenario files: `--scenario FILE: "key": ...`). */
int optval_flag(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_url(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_api_key(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_api_key_file(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_cacert(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_scenario(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_agents(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_fleet_prefix(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_heartbeat(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_jitter(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_poll(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_agent_profile(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_os_mix(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_ramp(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_agents_file(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_duration(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_seed(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_threshold(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_output_path(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_metrics_listen(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_report_interval(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_conn(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_source_ips(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_threads(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_timer_slot(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_verify_probe(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_user_agent(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_tls_resume(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_agent_failures(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_shard(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_timeout(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_grace(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_certs(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_bulk_rate(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_bulk_batch(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_bulk_passes(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_acme_clients(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_acme_mode(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_acme_profile(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_acme_directory(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_acme_key_alg(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_acme_cacert(void *ctx, int id, char *arg, char *reason, size_t n);

int optval_saturation_lag(void *ctx, int id, char *arg, char *reason, size_t n);
int optval_saturation_cpu(void *ctx, int id, char *arg, char *reason, size_t n);

/* Adds threshold spec (a --threshold or a scenario's) to cfg's list; the parsing comes after
 * the command line. Returns CMDLINE_OK or CMDLINE_BAD with a reason. */
int optval_add_threshold(struct run_config *cfg, const char *spec, char *reason, size_t n);

/* parse_url for --url and CERTCTL_SERVER_URL: a URL with user:password@ gets a reason that
 * says where the key goes instead. Returns parse_url's result. */
int optval_parse_server_url(const char *arg, struct parsed_url *out, char *reason, size_t n);

/* Checks an API key's text (non-empty, at most OPTIONS_API_KEY_MAX bytes, printable without
 * spaces). Returns 0 or -EINVAL with a reason that never contains the key. */
int optval_check_key(const char *key, char *reason, size_t n);

/* Long name (without "--") of option o. */
const char *options_name(enum run_opt o);

/* The known scenario names, ", "-separated, into buf (size n). Returns the length. */
size_t options_scenario_list(char *buf, size_t n);

/* Limits of the values (chosen to catch typos, not to police). */
#define OPTVAL_MIN_INTERVAL_NS PRESET_MIN_INTERVAL_NS /* the settings a scenario can carry */
#define OPTVAL_MAX_INTERVAL_NS PRESET_MAX_INTERVAL_NS /* have their rules in sim/preset.h */
#define OPTVAL_MAX_JITTER_PCT PRESET_MAX_JITTER_PCT
#define OPTVAL_MIN_DURATION_NS PRESET_MIN_DURATION_NS
#define OPTVAL_MAX_DURATION_NS PRESET_MAX_DURATION_NS
#define OPTVAL_MIN_REPORT_NS (100ULL * 1000000ULL)      /* 100ms */
#define OPTVAL_MIN_TIMEOUT_NS 1000000ULL                /* 1ms */
#define OPTVAL_MAX_TIMEOUT_NS (3600ULL * 1000000000ULL) /* 1h */
#define OPTVAL_MAX_GRACE_NS (3600ULL * 1000000000ULL)   /* 1h */
#define OPTVAL_MIN_SATURATION_LAG_NS (1000000ULL)       /* 1ms */

#endif
