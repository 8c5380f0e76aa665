/* refserver/server.h - fleetsim-target's lifecycle: a certctl-compatible HTTP(S) server (its own request layer on
 * its own listener) with a store, auth, rate limiter, fault injection and stats. Runs either in
 * its own thread (target_start, used by fleetsim's "run with no target") or in the foreground
 * (target_new + target_run, used by the fleetsim-target program). */
#ifndef FLEETSIM_TARGET_TARGET_H
#define FLEETSIM_TARGET_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/identity.h"

/* Default listen address and port of fleetsim-target. */
#define TARGET_DEFAULT_HOST "127.0.0.1"
#define TARGET_DEFAULT_PORT 8443
/* certctl's default rate limit: 50 requests/s per client IP, burst 100. */
#define TARGET_DEFAULT_RATE_PER_S 50.0
#define TARGET_DEFAULT_BURST 100.0
/* certctl's per-hour ACME limits (orders per account per hour, active orders per account). */
#define TARGET_DEFAULT_ACME_ORDERS_PER_HOUR 100u
#define TARGET_DEFAULT_ACME_ACTIVE_ORDERS 5u
/* ACME profile created at start when acme_profile_id is set (the default). */
#define TARGET_DEFAULT_ACME_PROFILE "prof-loadtest"
/* Most API keys a target accepts. */
#define TARGET_MAX_API_KEYS 16
/* Most --fault rules. */
#define TARGET_MAX_FAULTS 32
/* Longest API key accepted, bytes (without NUL). */
#define TARGET_API_KEY_MAX 256

/* Everything a target needs; fill with target_config_defaults, then override. The target
 * copies what it keeps: the strings need only live until target_new/target_start returns. */
struct target_config {
    const char *listen_host; /* numeric IPv4/IPv6 address; default "127.0.0.1" */
    uint16_t port;           /* 0 = ephemeral (read it back with target_port) */
    bool allow_remote;       /* false: refuse listen addresses outside loopback */

    bool plain;                /* true: plain HTTP; false: HTTPS */
    const char *tls_cert_file; /* PEM cert (chain) and key; both NULL: generate a CA and */
    const char *tls_key_file;  /* a server cert for 127.0.0.1/localhost (target_ca_path) */

    const char *api_keys[TARGET_MAX_API_KEYS]; /* accepted Bearer keys; none: generate one */
    size_t n_api_keys;

    double rate_per_s; /* token bucket per client IP; 0 = limiter off (default 50) */
    double burst;      /* bucket size; 0 = 2 x rate_per_s (certctl: 100 at 50/s) */

    bool bulk_clamp;               /* certctl's 50-row clamp on filtered bulk-renew (true) */
    uint32_t acme_orders_per_hour; /* per ACME account (default 100) */
    uint32_t acme_active_orders;   /* per ACME account (default 5) */
    const char *acme_profile_id;   /* profile created at start; NULL = none */

    const char *faults[TARGET_MAX_FAULTS]; /* "ENDPOINT:KIND=VALUE" (see refserver/fault.h) */
    size_t n_faults;

    const char *db_url; /* NULL: memory store; else a libpq URL (certctl's schema) */

    uint32_t seed_agents;       /* agents seeded at start (sim/identity names) */
    uint32_t seed_certs;        /* certificates seeded at start, mapped round-robin to agents */
    uint32_t seed_host_targets; /* percent of seeded targets with {"host","port"} config (0) */
    int tls_min_version;        /* lowest TLS version accepted: TLS1_3_VERSION (certctl's) or 1.2 */
    const char *fleet_prefix;   /* default "loadtest" */
    uint64_t seed;              /* run seed: identity metadata and the fault RNG */
    struct identity_os_mix os_mix; /* default 80/10/10 */

    bool quiet; /* no informational lines on stderr */
};

struct target;

/* Fills cfg with fleetsim-target's defaults: 127.0.0.1:8443, HTTPS with a generated CA, no
 * keys (one is generated), certctl's limiter 50/s burst 100, bulk clamp on, ACME limits 100/h
 * and 5 active, profile prof-loadtest, memory store, no seeding, prefix loadtest, seed 0,
 * OS mix 80/10/10. (fleetsim's in-process target sets port 0 and rate_per_s 0 on top.) */
void target_config_defaults(struct target_config *cfg);

/* Validates cfg without starting anything (listen address loopback unless allow_remote, TLS
 * files given in pairs, fault specs parse, prefix valid, keys non-empty). Returns 0 or
 * -EINVAL with a one-line reason in err. */
int target_config_check(const struct target_config *cfg, char *err, size_t errlen);

/* Builds a target: store (and seeding), CA and TLS context, the request layer on a bound listener (backlog
 * 4096). Nothing runs until target_run. Sets SIGPIPE to SIG_IGN when it is at its default (a
 * peer closing mid-write must not kill the process). Returns NULL with a one-line reason in
 * err. */
struct target *target_new(const struct target_config *cfg, char *err, size_t errlen);

/* Makes target_run stop on SIGINT and SIGTERM (foreground use; do not call with target_start).
 * Returns 0 or -ENOMEM. */
int target_catch_signals(struct target *t);

/* Runs the event loop in the calling thread until target_request_stop or a caught signal.
 * Returns 0, or -EIO if the loop failed. */
int target_run(struct target *t);

/* Asks a running target_run to return soon (thread-safe, async-signal-unsafe). */
void target_request_stop(struct target *t);

/* Frees a target that is not running (NULL is fine); removes the generated CA file. */
void target_free(struct target *t);

/* target_new, then target_run in a new thread; returns once the target is listening.
 * Returns NULL with a reason in err. Stop and free with target_stop. */
struct target *target_start(const struct target_config *cfg, char *err, size_t errlen);

/* Stops a target started with target_start, joins its thread and frees it (NULL is fine). */
void target_stop(struct target *t);

/* The port the target listens on (the real one when 0 was asked). */
uint16_t target_port(const struct target *t);

/* The numeric listen address ("127.0.0.1"). Owned by the target. */
const char *target_host(const struct target *t);

/* true when the target speaks HTTPS. */
bool target_is_tls(const struct target *t);

/* Path of the PEM file holding the generated CA certificate, or NULL when the target runs
 * plain or with user-given cert files. Owned by the target; the file lives until target_free. */
const char *target_ca_path(const struct target *t);

/* The first accepted API key (the generated one when none was configured). Owned by the
 * target. A secret: never print it. */
const char *target_api_key(const struct target *t);

#endif
