/* refserver/acmesrv_internal.h - what the ACME server's files share (acmesrv.c: routing, responses,
 * JWS checks, directory/nonce; acmesrv_handlers.c: account endpoints; acmesrv_orders.c: order
 * endpoints; acmesrv_ari.c: renewal-info; acmesrv_state.c: the bounded in-memory state). Not for
 * use outside refserver/acmesrv*.c. */
#ifndef FLEETSIM_REFSERVER_ACMESRV_INTERNAL_H
#define FLEETSIM_REFSERVER_ACMESRV_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "engine/jose.h"
#include "refserver/acmesrv_map.h"
#include "refserver/acmesrv.h"
#include "refserver/ca.h"
#include "refserver/request.h"

#define ACMESRV_NONCE_BYTES 16
#define ACMESRV_NONCE_MAX_LEN 24 /* 22 base64url characters + NUL, rounded */
#define ACMESRV_ORDER_RAND_BYTES 10
#define ACMESRV_ID_MAX 64
#define ACMESRV_PROFILE_MAX 64
#define ACMESRV_URL_MAX 512
#define ACMESRV_ORDER_TTL_MS (24LL * 3600 * 1000)
#define ACMESRV_HOUR_MS (3600LL * 1000)
#define ACMESRV_DNS_NAME_MAX 253
#define ACMESRV_RFC3339_LEN 32

#define ACMESRV_ACCOUNT_PREFIX "acme-acc-"
#define ACMESRV_ORDER_PREFIX "acme-ord-"
#define ACMESRV_AUTHZ_PREFIX "acme-authz-"
#define ACMESRV_CHALL_PREFIX "acme-chall-"
#define ACMESRV_CERT_PREFIX "mc-acme-"
#define ACMESRV_ERR_PREFIX "urn:ietf:params:acme:error:"

enum acmesrv_order_status {
    ACMESRV_ORDER_PENDING,
    ACMESRV_ORDER_READY,
    ACMESRV_ORDER_PROCESSING,
    ACMESRV_ORDER_VALID,
    ACMESRV_ORDER_INVALID,
};

/* Token bucket of a per-account hourly limit (certctl's shape: capacity = per hour, refill
 * per_hour / 3600 tokens per second, starts full). */
struct acmesrv_bucket {
    double tokens;
    int64_t last_ms;
    bool started;
};

struct acmesrv_nonce {
    struct acmesrv_map_node node;
    TAILQ_ENTRY(acmesrv_nonce) fifo;
    int64_t expires_ms;
    char value[ACMESRV_NONCE_MAX_LEN];
};

struct acmesrv_order;
TAILQ_HEAD(acmesrv_order_list, acmesrv_order);

struct acmesrv_account {
    struct acmesrv_map_node id_node;    /* key: id */
    struct acmesrv_map_node thumb_node; /* key: thumb (changes on key rollover) */
    TAILQ_ENTRY(acmesrv_account) lru;
    struct acmesrv_order_list orders; /* linked through acmesrv_order.by_account */
    char id[ACMESRV_ID_MAX];
    char thumb[JOSE_THUMBPRINT_LEN];
    EVP_PKEY *key;
    char *contact_json; /* compact JSON array or NULL */
    bool deactivated;
    int64_t last_used_ms;
    struct acmesrv_bucket order_bucket, key_change_bucket;
};

struct acmesrv_order {
    struct acmesrv_map_node node;        /* key: id */
    struct acmesrv_map_node serial_node; /* key: serial_hex, linked once a certificate exists */
    TAILQ_ENTRY(acmesrv_order) fifo;
    TAILQ_ENTRY(acmesrv_order) by_account;
    struct acmesrv_account *account;
    char id[ACMESRV_ID_MAX]; /* "acme-ord-<hex>" */
    char profile[ACMESRV_PROFILE_MAX + 1];
    enum acmesrv_order_status status;
    int64_t created_ms, expires_ms;
    size_t n_ids;
    char **ids;                            /* lowercase DNS names */
    const char *error_type, *error_detail; /* static strings, set when invalid */
    int error_status;
    char *cert_pem; /* leaf + CA chain once valid */
    char serial_hex[CA_SERIAL_HEX_LEN];
    int64_t not_before_ms, not_after_ms;
    bool revoked;
};

struct acmesrv_state {
    struct acmesrv_map nonces, accounts, thumbs, orders, serials;
    TAILQ_HEAD(, acmesrv_nonce) nonce_fifo;
    TAILQ_HEAD(, acmesrv_account) account_lru;
    TAILQ_HEAD(, acmesrv_order) order_fifo;
    uint32_t max_nonces, max_accounts, max_orders;
    int64_t retention_ms;
};

struct acmesrv {
    struct acmesrv_config cfg; /* defaults filled in */
    pthread_mutex_t lock;
    struct acmesrv_state st;
    unsigned char token_secret[32]; /* challenge tokens are derived from it */
    struct acmesrv_stats stats;
};

/* One request being answered. */
struct acmesrv_req {
    struct acmesrv *srv;
    struct http_req *req;
    const char *profile;
    const char *rest;
    int64_t now_ms;
    char base[ACMESRV_URL_MAX]; /* scheme://host/acme/profile/<id> */
    char url[ACMESRV_URL_MAX];  /* base + "/" + rest: what the JWS url must equal */
    /* Filled by acmesrv_verify_jws. */
    struct jose_jws jws;
    struct acmesrv_account *account; /* kid path */
};

/* ---- acmesrv_state.c ---- */
int acmesrv_state_init(struct acmesrv_state *st, const struct acmesrv_config *cfg);
void acmesrv_state_destroy(struct acmesrv_state *st);
/* Forgets expired nonces, orders past retention, accounts idle past retention. */
void acmesrv_state_expire(struct acmesrv_state *st, int64_t now_ms);
/* Issues a fresh nonce valid ACMESRV_NONCE_VALIDITY_S (evicting the oldest at the cap). 0 or <0. */
int acmesrv_nonce_issue(struct acmesrv_state *st, int64_t now_ms, char out[ACMESRV_NONCE_MAX_LEN]);
/* Consumes a nonce: true when it existed and had not expired (it is gone afterwards). */
bool acmesrv_nonce_consume(struct acmesrv_state *st, const char *value, int64_t now_ms);
struct acmesrv_account *acmesrv_account_find(struct acmesrv_state *st, const char *id);
struct acmesrv_account *acmesrv_account_by_thumb(struct acmesrv_state *st, const char *thumb);
/* Creates an account for key (reference taken on success). NULL on allocation failure. */
struct acmesrv_account *acmesrv_account_create(struct acmesrv_state *st, EVP_PKEY *key,
                                               const char *thumb, int64_t now_ms);
/* Marks use (LRU). */
void acmesrv_account_touch(struct acmesrv_state *st, struct acmesrv_account *a, int64_t now_ms);
/* Replaces the account key (takes a reference) and its thumbprint index entry. 0 or <0. */
int acmesrv_account_rekey(struct acmesrv_state *st, struct acmesrv_account *a, EVP_PKEY *key,
                          const char *thumb);
/* Creates an order owned by a (ids copied). NULL on allocation failure. */
struct acmesrv_order *acmesrv_order_create(struct acmesrv_state *st, struct acmesrv_account *a,
                                           const char *profile, char *const *ids, size_t n,
                                           enum acmesrv_order_status status, int64_t now_ms);
/* Looks an order up by "acme-ord-<hex>"; applies expiry (pending/ready past expires -> invalid). */
struct acmesrv_order *acmesrv_order_find(struct acmesrv_state *st, const char *id, int64_t now_ms);
/* Indexes a finalized order by its certificate serial (o->serial_hex set). 0 or <0. */
int acmesrv_order_index_serial(struct acmesrv_state *st, struct acmesrv_order *o);
struct acmesrv_order *acmesrv_order_by_serial(struct acmesrv_state *st, const char *serial_hex);
/* Number of non-final (pending/ready/processing, not expired) orders of a. */
uint32_t acmesrv_account_active_orders(struct acmesrv_account *a, int64_t now_ms);
/* Takes one token from a bucket of per_hour capacity; false when empty. */
bool acmesrv_bucket_take(struct acmesrv_bucket *b, uint32_t per_hour, int64_t now_ms);
const char *acmesrv_order_status_name(enum acmesrv_order_status s);

/* ---- acmesrv.c (response and verification helpers) ---- */
/* Sends an RFC 7807 problem (no Replay-Nonce); type is the last word (e.g. "badNonce"). */
void acmesrv_send_problem(struct acmesrv_req *r, int status, const char *type, const char *detail);
/* Same with a "subproblems" array (consumed; may be NULL). */
void acmesrv_send_problem_sub(struct acmesrv_req *r, int status, const char *type,
                              const char *detail, json_object *subproblems);
/* Sends JSON with a fresh Replay-Nonce and optional Location; consumes body. */
void acmesrv_send_json(struct acmesrv_req *r, int status, json_object *body, const char *location);
/* Sends JSON without Replay-Nonce (renewal-info); consumes body. */
void acmesrv_send_json_plain(struct acmesrv_req *r, int status, json_object *body);
/* Sends len bytes of content_type (NULL: no body) with a fresh Replay-Nonce. */
void acmesrv_send_bytes(struct acmesrv_req *r, int status, const char *content_type,
                        const char *body, size_t len);
/* Reads and verifies the JWS of a POST. expect_jwk: new-account style (jwk, no kid);
 * allow_either: revoke-cert (kid or jwk). On failure the problem has been sent and false
 * is returned; on success r->jws (and r->account for kid) are set. */
bool acmesrv_verify_jws(struct acmesrv_req *r, bool expect_jwk, bool allow_either);
/* Formats a wall-clock time (ms since the epoch) as RFC 3339 UTC, e.g. 2026-05-06T10:00:00Z. */
void acmesrv_rfc3339(int64_t ms, char out[ACMESRV_RFC3339_LEN]);
/* Parses r->jws's payload as a JSON object; empty payload gives NULL with *empty = true.
 * On a parse error sends malformed(detail) and returns NULL with *empty = false. */
json_object *acmesrv_payload_json(struct acmesrv_req *r, bool *empty, const char *detail);
/* As acmesrv_payload_json where a payload is required: an empty one is answered malformed too. */
json_object *acmesrv_payload_object(struct acmesrv_req *r, const char *detail);

/* ---- acmesrv_ari.c ---- */
/* GET renewal-info/<id>: 200 window, 400 malformed id, 404 unknown certificate. */
void acmesrv_handle_renewal_info(struct acmesrv_req *r, const char *id);

/* ---- acmesrv_handlers.c (accounts, key change, revocation) ---- */
void acmesrv_handle_new_account(struct acmesrv_req *r);
void acmesrv_handle_account(struct acmesrv_req *r, const char *acc_id);
void acmesrv_handle_key_change(struct acmesrv_req *r);
void acmesrv_handle_revoke(struct acmesrv_req *r);
/* Owner check shared by the order endpoints: sends 401 unauthorized and returns false when the
 * verified account does not own o. */
bool acmesrv_owns(struct acmesrv_req *r, const struct acmesrv_order *o);

/* ---- acmesrv_orders.c (orders, authorizations, challenges, finalize, certificates) ---- */
void acmesrv_handle_new_order(struct acmesrv_req *r);
void acmesrv_handle_order(struct acmesrv_req *r, const char *order_id);
void acmesrv_handle_finalize(struct acmesrv_req *r, const char *order_id);
void acmesrv_handle_authz(struct acmesrv_req *r, const char *authz_id);
void acmesrv_handle_challenge(struct acmesrv_req *r, const char *chall_id);
void acmesrv_handle_cert(struct acmesrv_req *r, const char *cert_id);

#endif
