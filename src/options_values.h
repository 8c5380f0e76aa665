/* src/options_values.h - internal to src/options*.c: one handler per `fleetsim run` option that
 * checks its value and stores it in the run_config, the checks after the command line and the
 * usage error lines. Not a public interface. */
#ifndef FLEETSIM_SRC_OPTIONS_VALUES_H
#define FLEETSIM_SRC_OPTIONS_VALUES_H

#include <stddef.h>

#include "sim/preset.h"
#include "src/options.h"

/* The program name that starts every error line. */
#define OPTIONS_PROG "fleetsim"

/* Writes `fleetsim: MESSAGE` into err (size errlen). Returns EXIT_STATUS_USAGE. */
int optval_usage_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes `fleetsim: --NAME: "VALUE" REASON` (value NULL: left out) into err. Returns
 * EXIT_STATUS_USAGE. */
int optval_value_error(char *err, size_t errlen, const char *name, const char *value,
                       const char *reason);

/* After the command line (options_check.c): the environment defaults (CERTCTL_SERVER_URL,
 * CERTCTL_API_KEY), what the scenarios set into the options not given, the cross-option
 * checks, the thresholds, then the derived defaults (ramp, seed). Returns 0 or
 * EXIT_STATUS_USAGE with the error line in err. */
int options_finish(struct run_config *cfg, char *err, size_t errlen);

/* Handler results. */
enum {
    OPTVAL_OK = 0,
    OPTVAL_BAD,          /* bad value: quote it in the error */
    OPTVAL_BAD_HIDDEN,   /* bad value that is a secret: never quote it */
    OPTVAL_BAD_REDACTED, /* bad URL: quote it with user:password@ redacted */
    OPTVAL_BAD_LINE,     /* reason is the whole message after "fleetsim: " (scenario files:
                            `--scenario FILE: "key": ...`) */
};

/* Checks arg (never NULL; "" when the value is empty) for option id and stores it in cfg.
 * On failure writes a reason ending in "(expected ...)" into reason (size n) and returns one of
 * the OPTVAL_BAD* codes. */
typedef int (*options_value_fn)(struct run_config *cfg, enum run_opt id, const char *arg,
                                char *reason, size_t n);

int optval_flag(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_url(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_api_key(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                   size_t n);
int optval_api_key_file(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                        size_t n);
int optval_cacert(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_scenario(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                    size_t n);
int optval_agents(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_fleet_prefix(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                        size_t n);
int optval_heartbeat(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                     size_t n);
int optval_jitter(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_poll(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_agent_profile(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                         size_t n);
int optval_os_mix(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_ramp(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_agents_file(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                       size_t n);
int optval_duration(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                    size_t n);
int optval_seed(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_threshold(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                     size_t n);
int optval_output_path(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                       size_t n);
int optval_metrics_listen(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                          size_t n);
int optval_report_interval(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                           size_t n);
int optval_conn(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_source_ips(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                      size_t n);
int optval_threads(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                   size_t n);
int optval_timer_slot(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                      size_t n);
int optval_shard(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_timeout(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                   size_t n);
int optval_grace(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_certs(struct run_config *cfg, enum run_opt id, const char *arg, char *reason, size_t n);
int optval_bulk_rate(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                     size_t n);
int optval_bulk_batch(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                      size_t n);
int optval_bulk_passes(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                       size_t n);
int optval_acme_clients(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                        size_t n);
int optval_acme_mode(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                     size_t n);
int optval_acme_profile(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                        size_t n);
int optval_acme_directory(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                          size_t n);
int optval_acme_key_alg(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                        size_t n);
int optval_acme_cacert(struct run_config *cfg, enum run_opt id, const char *arg, char *reason,
                       size_t n);

/* Checks an API key's text (non-empty, at most OPTIONS_API_KEY_MAX bytes, printable without
 * spaces). Returns 0 or -EINVAL with a reason that never contains the key. */
int optval_check_key(const char *key, char *reason, size_t n);

/* Long name (without "--") of option o. */
const char *options_name(enum run_opt o);

/* The known scenario names, ", "-separated, into buf (size n). Returns the length. */
size_t options_scenario_list(char *buf, size_t n);

/* Limits of the values (DESIGN §7 leaves them to us; chosen to catch typos, not to police). */
#define OPTVAL_MIN_INTERVAL_NS PRESET_MIN_INTERVAL_NS /* the settings a scenario can carry */
#define OPTVAL_MAX_INTERVAL_NS PRESET_MAX_INTERVAL_NS /* have their rules in sim/preset.h */
#define OPTVAL_MAX_JITTER_PCT PRESET_MAX_JITTER_PCT
#define OPTVAL_MIN_DURATION_NS PRESET_MIN_DURATION_NS
#define OPTVAL_MAX_DURATION_NS PRESET_MAX_DURATION_NS
#define OPTVAL_MIN_REPORT_NS (100ULL * 1000000ULL)      /* 100ms */
#define OPTVAL_MIN_TIMEOUT_NS 1000000ULL                /* 1ms */
#define OPTVAL_MAX_TIMEOUT_NS (3600ULL * 1000000000ULL) /* 1h */
#define OPTVAL_MAX_GRACE_NS (3600ULL * 1000000000ULL)   /* 1h */

#endif
