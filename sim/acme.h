/* sim/acme.h - ACME (RFC 8555) client actors (docs/scenarios.md: acme-burst, order mode, fleet):
 * each actor has its own account key and keep-alive connection, chains Replay-Nonces and retries
 * badNonce answers a bounded number of times. Burst mode repeats certctl's k6 acme_flow (directory,
 * HEAD new-nonce, renewal-info of "aaaa.bbbb") once per pace; order mode completes JWS-signed
 * orders (account, order, authz, challenge, polls, finalize with a real CSR, certificate download
 * and key check, renewal-info). The actors of a group run on their own event-loop thread(s) with
 * their own metrics registries, started, stopped and drained like the fleet (sim/fleet.h). */
#ifndef FLEETSIM_SIM_ACME_H
#define FLEETSIM_SIM_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/http_client.h"
#include "engine/metrics.h"
#include "sim/names.h"

/* What the actors do. */
enum acme_mode {
    ACME_MODE_BURST = 0, /* directory + new-nonce + renewal-info every pace_ns */
    ACME_MODE_ORDER,     /* full orders, back to back (or every pace_ns) */
};

/* Account key algorithm (Pebble 2.4 rejects EdDSA; certctl and fleetsim-target accept all). */
enum acme_key_alg { ACME_KEY_ES256 = 0, ACME_KEY_RS256, ACME_KEY_EDDSA };

/* Defaults applied by acme_config_defaults. */
#define ACME_DEFAULT_BURST_PACE_NS 1000000000ULL   /* k6 acme_flow's sleep(1) */
#define ACME_DEFAULT_BAD_NONCE_RETRIES 5u          /* per signed request */
#define ACME_DEFAULT_POLL_BASE_NS 10000000ULL      /* first poll delay, doubled per poll */
#define ACME_DEFAULT_POLL_MAX_NS 1000000000ULL     /* poll delay cap (or Retry-After cap) */
#define ACME_DEFAULT_POLLS_MAX 40u                 /* polls per wait (ready, valid) */
#define ACME_DEFAULT_BACKOFF_MIN_NS 1000000000ULL  /* delay after a failed order */
#define ACME_DEFAULT_BACKOFF_MAX_NS 60000000000ULL /* doubled per consecutive failure */
#define ACME_DEFAULT_DOMAIN_SUFFIX "acme.example.test"
/* The renewal-info id certctl's k6 acme_flow asks for (answered 404). */
#define ACME_BURST_RENEWAL_ID "aaaa.bbbb"
/* Most authorizations one order may carry (fleetsim orders one name). */
#define ACME_MAX_AUTHZ 4u
/* Longest URL kept from a directory or Location header, bytes. */
#define ACME_URL_MAX 2048u

/* Actor metrics besides acme_orders_completed, acme_problems{problem} and
 * acme_rate_limit_shape_ok (sim/names.h): counters tagged scenario and actor "acme". */
#define ACME_METRIC_ORDERS_FAILED "acme_orders_failed" /* tag reason */
#define ACME_METRIC_ORDERS_ABANDONED "acme_orders_abandoned"
#define ACME_METRIC_ITERATIONS "acme_iterations"               /* burst, completed */
#define ACME_METRIC_ITERATIONS_FAILED "acme_iterations_failed" /* burst, tag reason */
#define ACME_METRIC_BAD_NONCE_RETRIES "acme_bad_nonce_retries"
#define ACME_TAG_REASON "reason"

/* The endpoints an actor uses: sim/names.h's ACME endpoints, counted from 0. */
enum acme_endpoint {
    ACME_EP_DIRECTORY = 0,
    ACME_EP_NONCE = SIM_EP_ACME_NONCE - SIM_EP_ACME_DIRECTORY,
    ACME_EP_ACCOUNT = SIM_EP_ACME_ACCOUNT - SIM_EP_ACME_DIRECTORY,
    ACME_EP_ORDER = SIM_EP_ACME_ORDER - SIM_EP_ACME_DIRECTORY,
    ACME_EP_AUTHZ = SIM_EP_ACME_AUTHZ - SIM_EP_ACME_DIRECTORY,
    ACME_EP_CHALLENGE = SIM_EP_ACME_CHALLENGE - SIM_EP_ACME_DIRECTORY,
    ACME_EP_FINALIZE = SIM_EP_ACME_FINALIZE - SIM_EP_ACME_DIRECTORY,
    ACME_EP_CERT = SIM_EP_ACME_CERT - SIM_EP_ACME_DIRECTORY,
    ACME_EP_RENEWAL_INFO = SIM_EP_ACME_RENEWAL_INFO - SIM_EP_ACME_DIRECTORY,
    ACME_EP_COUNT
};

/* Called from an actor's loop thread with each certificate chain it downloaded (PEM, len
 * bytes, valid during the call) and its actor index; for tests and benchmarks. */
typedef void (*acme_cert_fn)(void *arg, uint32_t actor, const char *pem, size_t len);

/* A group of actors. Everything pointed to must outlive the group (strings are copied). */
struct acme_config {
    const char *scenario; /* metrics tag, e.g. "acme-burst" or "default" */
    enum acme_mode mode;
    enum acme_key_alg key_alg;
    uint32_t n_clients;        /* actors over all shards (indexes 1..n_clients) */
    uint32_t shard_k, shard_n; /* this process runs actors with (i - 1) mod shard_n == shard_k */
    uint32_t threads;          /* event loops, >= 1 (capped at the actors of this shard) */
    const char *directory_url; /* absolute URL of the ACME directory */
    const struct http_conn_config *conn; /* destination of directory_url: address, Host,
                                            TLS, per-request timeout (every request has one) */
    const char *api_key;        /* sent as Bearer on every ACME request (certctl); NULL or ""
                                    = none. A secret: never printed */
    const char *user_agent;     /* NULL = "fleetsim-acme" */
    uint64_t seed;              /* run seed: start offsets */
    uint64_t pace_ns;           /* burst: one iteration per pace (first ones spread over one
                                    pace); order: at most one order start per pace, 0 = back
                                    to back */
    uint32_t max_iterations;    /* per actor: iterations (burst) or orders (order) before it
                                    is done; 0 = until acme_group_stop */
    uint32_t bad_nonce_retries; /* resends of one signed request after badNonce */
    uint64_t poll_base_ns, poll_max_ns;      /* order poll delays (doubling; Retry-After honoured
                                           up to poll_max_ns) */
    uint32_t polls_max;                      /* polls per wait before the order counts as failed */
    uint64_t backoff_min_ns, backoff_max_ns; /* wait after a failed order (doubling) */
    uint64_t report_interval_ns;             /* interval snapshots; 0 = none */
    uint64_t grace_ns;                       /* drain time after acme_group_stop */
    uint32_t source_first;     /* first source IPv4 (host order) when source_count > 0 */
    uint32_t source_count;     /* actor i binds source_first + (i - 1) mod source_count */
    const char *domain_suffix; /* order names "acme-<i>-<n>.<suffix>"; NULL = default */
    acme_cert_fn on_cert;      /* optional */
    void *on_cert_arg;
};

/* Per-group outcome counters (summed over loops by acme_group_counters). An "iteration" is one
 * pass of burst mode or one order of order mode; started = completed + failed + abandoned once
 * the loops have ended. */
struct acme_counters {
    uint64_t started;
    uint64_t completed;            /* burst: all steps answered as expected; order: certificate
                                    downloaded and carrying the CSR's key */
    uint64_t failed;               /* by reason in acme_orders_failed / acme_iterations_failed */
    uint64_t abandoned;            /* in progress when the run ended */
    uint64_t dropped;              /* schedule slots dropped: the previous one still running */
    uint64_t bad_nonce_retries;    /* signed requests resent after badNonce */
    uint64_t accounts_created;     /* new-account answered 200 or 201 */
    uint64_t renewal_info_ok;      /* order mode: renewal-info 200 for the new certificate */
    uint64_t renewal_info_failed;  /* order mode: any other outcome */
    uint64_t renewal_info_skipped; /* order mode: the directory offers no renewalInfo */
};

/* Fills cfg with the defaults above: burst mode, ES256, 1 thread, shard 0/1, pace 1 s,
 * no iteration limit, 5 badNonce retries, polls 10 ms..1 s x 40, back-off 1 s..60 s,
 * grace 10 s, no Bearer key. The caller sets scenario, n_clients, directory_url and conn. */
void acme_config_defaults(struct acme_config *cfg);

/* The endpoint tag of ep ("acme_directory", ...; sim/names.h); static storage. (The server
 * side, refserver/acmesrv.h's acmesrv_endpoint_name, maps its paths to the same tags.) */
const char *acme_ep_name(enum acme_endpoint ep);

/* "burst" / "order"; "es256" / "rs256" / "eddsa". Static storage. */
const char *acme_mode_name(enum acme_mode mode);
const char *acme_key_alg_name(enum acme_key_alg alg);

/* Number of actors of shard k/n among n_clients. */
uint32_t acme_shard_size(uint32_t n_clients, uint32_t shard_k, uint32_t shard_n);

struct acme_group;

/* Builds the loops and actors (nothing runs yet); in order mode it also makes every actor's
 * account key (RS256: tens of ms each). Returns NULL with a one-line reason in err (bad
 * directory URL, no connection, key generation failed). */
struct acme_group *acme_group_new(const struct acme_config *cfg, char *err, size_t errlen);

/* Actors in this shard. */
uint32_t acme_group_size(const struct acme_group *g);

/* Starts one thread per loop; schedule offsets count from start_ns (clock_now_ns time).
 * Returns 0 or a negative errno (threads already started are stopped again). */
int acme_group_start(struct acme_group *g, uint64_t start_ns);

/* Asks every loop to start nothing new and drain: requests in flight may finish for up to
 * grace_ns (orders in progress are abandoned), then the loop ends. Thread-safe; idempotent. */
void acme_group_stop(struct acme_group *g);

/* As acme_group_stop, and ends the drain at once (requests in flight are abandoned). */
void acme_group_cut(struct acme_group *g);

/* True once every loop has ended (after acme_group_stop and the drain, or when every actor
 * reached max_iterations). Thread-safe. */
bool acme_group_finished(const struct acme_group *g);

/* Waits for every loop thread to end. Returns 0. */
int acme_group_join(struct acme_group *g);

/* Adds the interval data the loops snapshotted since the last call into out (a registry
 * without interval data) and stores in *taken_ns (may be NULL) when the latest of those
 * snapshots was taken (clock_now_ns time; 0 when none). Thread-safe against running loops.
 * Returns 0 or a negative errno. */
int acme_group_interval_take(struct acme_group *g, struct metrics *out, uint64_t *taken_ns);

/* After acme_group_join: adds every loop's cumulative metrics into out (exact). */
int acme_group_metrics_merge(const struct acme_group *g, struct metrics *out);

/* After acme_group_join: the loops' counters summed. */
void acme_group_counters(const struct acme_group *g, struct acme_counters *out);

/* After acme_group_join: requests in flight when the loops ended. */
int64_t acme_group_in_flight(const struct acme_group *g);

/* After acme_group_join: the largest share (0..1) of one core a loop thread used. */
double acme_group_max_core_share(const struct acme_group *g);

/* Frees the group (stops and joins first if needed). NULL is fine. */
void acme_group_free(struct acme_group *g);

/* ---- pre-flight (sim/acme_check.c): blocking, one request at a time on a private event
 * loop, each bounded by cc->timeout_ns; for `fleetsim run` before any load. ---- */

/* Checks that url (on cc's origin) answers as an ACME directory: 200 with a JSON object holding
 * newNonce, newAccount and newOrder. api_key NULL/"" = no Authorization header. Sets
 * *has_renewal_info. Returns 0, or -EIO (no answer), -EPROTO (an answer that is not a
 * directory; an HTML page gets a hint about certctl's web dashboard) with one line in err. */
int acme_directory_check(const struct http_conn_config *cc, const char *url, const char *api_key,
                         bool *has_renewal_info, char *err, size_t errlen);

/* certctl: makes sure the certificate profile profile_id exists (docs/certctl.md, "ACME server"):
 * GET <base_path>/api/v1/profiles/<id>, and on 404 POST <base_path>/api/v1/profiles
 * {"id","name"}. Sets *created when it made it. Returns 0, or -EIO (no answer), -EACCES (401
 * or 403: the key), -EPROTO (another answer) with one line in err. */
int acme_certctl_profile_ensure(const struct http_conn_config *cc, const char *base_path,
                                const char *api_key, const char *profile_id, bool *created,
                                char *err, size_t errlen);

#endif
