/* refserver/acmesrv_internal.h - what the ACME server's files share (acme_server.c: routing, responses,
 * JWS checks, directory/nonce/ARI; acme_handlers.c: account and order endpoints; acme_state.c:
 * the bounded in-memory state). Not for use outside target/acme_*.c. */
#ifndef FLEETSIM_TARGET_ACME_INTERNAL_H
#define FLEETSIM_TARGET_ACME_INTERNAL_H

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

#define ACME_NONCE_BYTES 16
#define ACME_NONCE_MAX_LEN 24 /* 22 base64url characters + NUL, rounded */
#define ACME_ORDER_RAND_BYTES 10
#define ACME_ID_MAX 64
#define ACME_PROFILE_MAX 64
#define ACME_HOST_MAX 255
#define ACME_URL_MAX 512
#define ACME_ORDER_TTL_MS (24LL * 3600 * 1000)
#define ACME_HOUR_MS (3600LL * 1000)
#define ACME_DNS_NAME_MAX 253
#define ACME_RFC3339_LEN 32

#define ACME_ACCOUNT_PREFIX "acme-acc-"
#define ACME_ORDER_PREFIX "acme-ord-"
#define ACME_AUTHZ_PREFIX "acme-authz-"
#define ACME_CHALL_PREFIX "acme-chall-"
#define ACME_CERT_PREFIX "mc-acme-"
#define ACME_ERR_PREFIX "urn:ietf:params:acme:error:"

enum acme_order_status {
    ACME_ORDER_PENDING,
    ACME_ORDER_READY,
    ACME_ORDER_PROCESSING,
    ACME_ORDER_VALID,
    ACME_ORDER_INVALID,
};

/* Token bucket of a per-account hourly limit (certctl's shape: capacity = per hour, refill
 * per_hour / 3600 tokens per second, starts full). */
struct acme_bucket {
    double tokens;
    int64_t last_ms;
    bool started;
};

struct acme_nonce {
    struct acme_map_node node;
    TAILQ_ENTRY(acme_nonce) fifo;
    int64_t expires_ms;
    char value[ACME_NONCE_MAX_LEN];
};

struct acme_order;
TAILQ_HEAD(acme_order_list, acme_order);

struct acme_account {
    struct acme_map_node id_node;    /* key: id */
    struct acme_map_node thumb_node; /* key: thumb (changes on key rollover) */
    TAILQ_ENTRY(acme_account) lru;
    struct acme_order_list orders; /* linked through acme_order.by_account */
    char id[ACME_ID_MAX];
    char thumb[JOSE_THUMBPRINT_LEN];
    EVP_PKEY *key;
    char *contact_json; /* compact JSON array or NULL */
    bool deactivated;
    int64_t last_used_ms;
    struct acme_bucket order_bucket, key_change_bucket;
};

struct acme_order {
    struct acme_map_node node;        /* key: id */
    struct acme_map_node serial_node; /* key: serial_hex, linked once a certificate exists */
    TAILQ_ENTRY(acme_order) fifo;
    TAILQ_ENTRY(acme_order) by_account;
    struct acme_account *account;
    char id[ACME_ID_MAX]; /* "acme-ord-<hex>" */
    char profile[ACME_PROFILE_MAX + 1];
    enum acme_order_status status;
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

struct acme_state {
    struct acme_map nonces, accounts, thumbs, orders, serials;
    TAILQ_HEAD(, acme_nonce) nonce_fifo;
    TAILQ_HEAD(, acme_account) account_lru;
    TAILQ_HEAD(, acme_order) order_fifo;
    uint32_t max_nonces, max_accounts, max_orders;
    int64_t retention_ms;
};

struct acme_server {
    struct acme_server_config cfg; /* defaults filled in */
    pthread_mutex_t lock;
    struct acme_state st;
    unsigned char token_secret[32]; /* challenge tokens are derived from it */
    struct acme_server_stats stats;
};

/* One request being answered. */
struct acme_req {
    struct acme_server *srv;
    struct evhttp_request *req;
    const char *profile;
    const char *rest;
    int64_t now_ms;
    char base[ACME_URL_MAX]; /* scheme://host/acme/profile/<id> */
    char url[ACME_URL_MAX];  /* base + "/" + rest: what the JWS url must equal */
    /* Filled by acme_verify_jws. */
    struct jose_jws jws;
    struct acme_account *account; /* kid path */
};

/* ---- acme_state.c ---- */
int acme_state_init(struct acme_state *st, const struct acme_server_config *cfg);
void acme_state_destroy(struct acme_state *st);
/* Forgets expired nonces, orders past retention, accounts idle past retention. */
void acme_state_expire(struct acme_state *st, int64_t now_ms);
/* Issues a fresh nonce valid ACME_NONCE_VALIDITY_S (evicting the oldest at the cap). 0 or <0. */
int acme_nonce_issue(struct acme_state *st, int64_t now_ms, char out[ACME_NONCE_MAX_LEN]);
/* Consumes a nonce: true when it existed and had not expired (it is gone afterwards). */
bool acme_nonce_consume(struct acme_state *st, const char *value, int64_t now_ms);
struct acme_account *acme_account_find(struct acme_state *st, const char *id);
struct acme_account *acme_account_by_thumb(struct acme_state *st, const char *thumb);
/* Creates an account for key (reference taken on success). NULL on allocation failure. */
struct acme_account *acme_account_create(struct acme_state *st, EVP_PKEY *key, const char *thumb,
                                         int64_t now_ms);
/* Marks use (LRU). */
void acme_account_touch(struct acme_state *st, struct acme_account *a, int64_t now_ms);
/* Replaces the account key (takes a reference) and its thumbprint index entry. 0 or <0. */
int acme_account_rekey(struct acme_state *st, struct acme_account *a, EVP_PKEY *key,
                       const char *thumb);
/* Creates an order owned by a (ids copied). NULL on allocation failure. */
struct acme_order *acme_order_create(struct acme_state *st, struct acme_account *a,
                                     const char *profile, char *const *ids, size_t n,
                                     enum acme_order_status status, int64_t now_ms);
/* Looks an order up by "acme-ord-<hex>"; applies expiry (pending/ready past expires -> invalid). */
struct acme_order *acme_order_find(struct acme_state *st, const char *id, int64_t now_ms);
/* Indexes a finalized order by its certificate serial (o->serial_hex set). 0 or <0. */
int acme_order_index_serial(struct acme_state *st, struct acme_order *o);
struct acme_order *acme_order_by_serial(struct acme_state *st, const char *serial_hex);
/* Number of non-final (pending/ready/processing, not expired) orders of a. */
uint32_t acme_account_active_orders(struct acme_account *a, int64_t now_ms);
/* Takes one token from a bucket of per_hour capacity; false when empty. */
bool acme_bucket_take(struct acme_bucket *b, uint32_t per_hour, int64_t now_ms);
const char *acme_order_status_name(enum acme_order_status s);

/* ---- acme_server.c (response and verification helpers) ---- */
/* Sends an RFC 7807 problem (no Replay-Nonce); type is the last word (e.g. "badNonce"). */
void acme_send_problem(struct acme_req *r, int status, const char *type, const char *detail);
/* Same with a "subproblems" array (consumed; may be NULL). */
void acme_send_problem_sub(struct acme_req *r, int status, const char *type, const char *detail,
                           json_object *subproblems);
/* Sends JSON with a fresh Replay-Nonce and optional Location; consumes body. */
void acme_send_json(struct acme_req *r, int status, json_object *body, const char *location);
/* Sends JSON without Replay-Nonce (renewal-info); consumes body. */
void acme_send_json_plain(struct acme_req *r, int status, json_object *body);
/* Sends len bytes of content_type (NULL: no body) with a fresh Replay-Nonce. */
void acme_send_bytes(struct acme_req *r, int status, const char *content_type, const char *body,
                     size_t len);
/* Reads and verifies the JWS of a POST. expect_jwk: new-account style (jwk, no kid);
 * allow_either: revoke-cert (kid or jwk). On failure the problem has been sent and false
 * is returned; on success r->jws (and r->account for kid) are set. */
bool acme_verify_jws(struct acme_req *r, bool expect_jwk, bool allow_either);
/* Formats a wall-clock time (ms since the epoch) as RFC 3339 UTC, e.g. 2026-05-06T10:00:00Z. */
void acme_rfc3339(int64_t ms, char out[ACME_RFC3339_LEN]);
/* Parses r->jws's payload as a JSON object; empty payload gives NULL with *empty = true.
 * On a parse error sends malformed(detail) and returns NULL with *empty = false. */
json_object *acme_payload_json(struct acme_req *r, bool *empty, const char *detail);
/* As acme_payload_json where a payload is required: an empty one is answered malformed too. */
json_object *acme_payload_object(struct acme_req *r, const char *detail);

/* ---- acme_ari.c ---- */
/* GET renewal-info/<id>: 200 window, 400 malformed id, 404 unknown certificate. */
void acme_handle_renewal_info(struct acme_req *r, const char *id);

/* ---- acme_handlers.c (accounts, key change, revocation) ---- */
void acme_handle_new_account(struct acme_req *r);
void acme_handle_account(struct acme_req *r, const char *acc_id);
void acme_handle_key_change(struct acme_req *r);
void acme_handle_revoke(struct acme_req *r);
/* Owner check shared by the order endpoints: sends 401 unauthorized and returns false when the
 * verified account does not own o. */
bool acme_owns(struct acme_req *r, const struct acme_order *o);

/* ---- acme_orders.c (orders, authorizations, challenges, finalize, certificates) ---- */
void acme_handle_new_order(struct acme_req *r);
void acme_handle_order(struct acme_req *r, const char *order_id);
void acme_handle_finalize(struct acme_req *r, const char *order_id);
void acme_handle_authz(struct acme_req *r, const char *authz_id);
void acme_handle_challenge(struct acme_req *r, const char *chall_id);
void acme_handle_cert(struct acme_req *r, const char *cert_id);

#endif
