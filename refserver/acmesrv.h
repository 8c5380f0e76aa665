/* refserver/acmesrv.h - the ACME (RFC 8555) server side of fleetsim-target, answering under
 * /acme/profile/{id}/ the way certctl does (docs/certctl.md, "ACME server"): directory, nonces,
 * accounts, orders (trust_authenticated: ready at once), authz, challenge, finalize (issues a real
 * certificate from the target CA), cert download, renewal-info; JWS checks; per-account limits.
 * All state is in memory and bounded. The caller owns the HTTP server and routing. */
#ifndef FLEETSIM_REFSERVER_ACMESRV_H
#define FLEETSIM_REFSERVER_ACMESRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_req;
struct target_ca;
struct acmesrv;

/* Defaults used when the matching config field is 0. */
#define ACMESRV_DEFAULT_ORDERS_PER_HOUR 100u
#define ACMESRV_DEFAULT_ACTIVE_ORDERS 5u
#define ACMESRV_DEFAULT_KEY_CHANGES_PER_HOUR 5u
#define ACMESRV_DEFAULT_MAX_NONCES 200000u
#define ACMESRV_DEFAULT_MAX_ACCOUNTS 100000u
#define ACMESRV_DEFAULT_MAX_ORDERS 200000u
#define ACMESRV_DEFAULT_CERT_VALIDITY_DAYS 90u
#define ACMESRV_DEFAULT_RETENTION_S (24u * 3600u)
/* Fixed protocol values (certctl's). */
#define ACMESRV_NONCE_VALIDITY_S 300
#define ACMESRV_MAX_JWS_BODY_BYTES (64 * 1024)
#define ACMESRV_RENEWAL_RETRY_AFTER_S 21600
#define ACMESRV_MAX_IDENTIFIERS 100

/* Returns true when profile_id names an existing certificate profile. */
typedef bool (*acmesrv_profile_exists_fn)(void *arg, const char *profile_id);
/* Optional lookup of certificates issued outside ACME (agent renewals) for renewal-info:
 * returns true and their validity when serial_hex (lowercase hex, no leading zeros) is known. */
typedef bool (*acmesrv_cert_lookup_fn)(void *arg, const char *serial_hex, int64_t *not_before_ms,
                                       int64_t *not_after_ms);
/* Wall-clock time in milliseconds since the epoch (tests inject a fake clock). */
typedef int64_t (*acmesrv_now_ms_fn)(void *arg);

struct acmesrv_config {
    struct target_ca *ca;          /* required; borrowed, must outlive the server */
    bool tls;                      /* URLs use https:// when true, http:// for a plain listener */
    uint32_t orders_per_hour;      /* per account, token bucket of this capacity (0 = 100) */
    uint32_t active_orders;        /* per account, non-final orders at once (0 = 5) */
    uint32_t key_changes_per_hour; /* per account (0 = 5) */
    uint32_t cert_validity_days;   /* of issued certificates (0 = 90) */
    uint32_t max_nonces;           /* caps; the oldest entry is evicted beyond (0 = defaults) */
    uint32_t max_accounts;
    uint32_t max_orders;
    uint32_t retention_s; /* orders and idle accounts are forgotten after this (0 = 24 h) */
    /* Profiles: a callback, else a NULL-terminated list, else every id is accepted. */
    acmesrv_profile_exists_fn profile_exists;
    void *profile_arg;
    const char *const *profiles;
    /* renewal-info also answers for these (NULL: only certificates this server issued). */
    acmesrv_cert_lookup_fn cert_lookup;
    void *cert_lookup_arg;
    /* Clock; NULL = CLOCK_REALTIME. */
    acmesrv_now_ms_fn now_ms;
    void *now_arg;
};

/* Counters for reports and tests (cumulative since acmesrv_new, except the live counts). */
struct acmesrv_stats {
    uint64_t nonces_issued, accounts_created, orders_created, certs_issued;
    uint64_t problems, rate_limited, bad_nonces;
    uint32_t live_nonces, live_accounts, live_orders;
};

/* Creates a server from cfg (copied; the profiles list and ca are borrowed). Returns NULL with a
 * one-line reason in err when cfg is invalid (no CA) or on allocation failure. */
struct acmesrv *acmesrv_new(const struct acmesrv_config *cfg, char *err, size_t errlen);

/* Answers one request whose path was /acme/profile/<profile_id>/<rest_path> (rest_path without
 * a leading '/', without query string, e.g. "new-nonce", "order/abc/finalize"). Writes the whole
 * response (status, headers, body) with http_reply_send. URLs in responses and the JWS "url"
 * check name the address the request arrived on (http_req_local_authority), never the client's
 * Host header. Thread-safe (an internal mutex serialises requests). */
void acmesrv_handle(struct acmesrv *srv, struct http_req *req, const char *profile_id,
                    const char *rest_path);

/* The endpoint tag (docs/metrics.md, "Series and tags") for a rest path: acme_directory,
 * acme_nonce, acme_account (new-account, account/, key-change), acme_order (new-order, order/X),
 * acme_finalize, acme_authz, acme_challenge, acme_cert (cert/, revoke-cert), acme_renewal_info;
 * NULL when the path is not an ACME endpoint. Static strings. */
const char *acmesrv_endpoint_name(const char *rest_path);

/* Copies the current counters into *out. */
void acmesrv_stats(struct acmesrv *srv, struct acmesrv_stats *out);

/* Frees the server and all its state (NULL is fine). */
void acmesrv_free(struct acmesrv *srv);

#endif
