/* sim/acme_proto.h - the pure protocol pieces of the ACME client actors (sim/acme.h): reading
 * directories, orders, authorizations and problem documents, splitting server URLs, the
 * rate-limit shape check, the finalize CSR encoding and the renewal-info certificate id.
 * No I/O and no global state; unit-tested on their own (tests/unit/check_acme_client.c). */
#ifndef FLEETSIM_SIM_ACME_PROTO_H
#define FLEETSIM_SIM_ACME_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/acme.h"

/* The problem type prefix of RFC 8555 §6.7 and the rate-limit type. */
#define ACME_PROBLEM_PREFIX "urn:ietf:params:acme:error:"
#define ACME_PROBLEM_RATE_LIMITED ACME_PROBLEM_PREFIX "rateLimited"
#define ACME_PROBLEM_BAD_NONCE "badNonce"
/* Content types. */
#define ACME_CT_PROBLEM "application/problem+json"
#define ACME_CT_JOSE "application/jose+json"
/* Longest problem word kept (the type's last segment), bytes including the NUL. */
#define ACME_PROBLEM_WORD_MAX 48u

/* URLs of a directory (malloc'd, owned); renewal_info NULL when not offered. */
struct acme_directory {
    char *new_nonce, *new_account, *new_order, *renewal_info;
};

/* Parses a directory object (len bytes of JSON): newNonce, newAccount and newOrder must be
 * strings (renewalInfo is optional). Returns 0, or -EINVAL with a reason in err (not JSON,
 * a member missing), -ENOMEM. Release with acme_directory_clear. */
int acme_directory_parse(const char *body, size_t len, struct acme_directory *out, char *err,
                         size_t errlen);

/* Frees the URLs and zeroes *d (safe on a zeroed struct). */
void acme_directory_clear(struct acme_directory *d);

/* Status of an order, authorization or challenge (RFC 8555 §7.1.6). */
enum acme_status {
    ACME_ST_UNKNOWN = 0,
    ACME_ST_PENDING,
    ACME_ST_READY,
    ACME_ST_PROCESSING,
    ACME_ST_VALID,
    ACME_ST_INVALID,
    ACME_ST_OTHER, /* deactivated, expired, revoked */
};

/* The status named s (NULL or unknown text: ACME_ST_UNKNOWN; other RFC words: ACME_ST_OTHER). */
enum acme_status acme_status_parse(const char *s);

/* An order object (URLs malloc'd, owned). */
struct acme_order_info {
    enum acme_status status;
    char *finalize;    /* NULL when absent */
    char *certificate; /* NULL until valid */
    char *authz[ACME_MAX_AUTHZ];
    size_t n_authz;
};

/* Parses an order object: status and finalize required, authorizations an array of at most
 * ACME_MAX_AUTHZ strings. Returns 0, -EINVAL with a reason, -ENOMEM. Release with
 * acme_order_info_clear. */
int acme_order_info_parse(const char *body, size_t len, struct acme_order_info *out, char *err,
                          size_t errlen);
void acme_order_info_clear(struct acme_order_info *o);

/* An authorization object: its status and the challenge to answer (http-01 when offered,
 * else the first one). challenge NULL when there is none. */
struct acme_authz_info {
    enum acme_status status;
    char *challenge;
    enum acme_status challenge_status;
};

/* Parses an authorization object (status required). Returns 0, -EINVAL, -ENOMEM. Release
 * with acme_authz_info_clear. */
int acme_authz_info_parse(const char *body, size_t len, struct acme_authz_info *out, char *err,
                          size_t errlen);
void acme_authz_info_clear(struct acme_authz_info *a);

/* Reads a problem document: true when body (len bytes) is a JSON object with a string "type"
 * and either content_type is application/problem+json or status >= 400; word gets the type's
 * last segment (after the last ':' or '/'), e.g. "badNonce", "rateLimited", truncated to
 * n - 1 bytes. False (word "") otherwise. */
bool acme_problem_parse(const char *content_type, int status, const char *body, size_t len,
                        char *word, size_t n);

/* The rate-limit shape check of a 429 (docs/certctl.md, "ACME server"): true when content_type is
 * application/problem+json (parameters allowed) and the body's type is exactly
 * urn:ietf:params:acme:error:rateLimited. */
bool acme_rate_limit_shape_ok(const char *content_type, const char *body, size_t len);

/* True when content_type names JSON (application/json, application/problem+json,
 * application/<x>+json; parameters allowed). */
bool acme_content_type_is_json(const char *content_type);

/* Longest authority (host[:port]) kept, bytes including the NUL. */
#define ACME_AUTHORITY_MAX 272u

/* The authority the connection sends as Host (host_header, else the host, bracketed when
 * IPv6, with ":port" unless it is the scheme's default): servers build their URLs from it.
 * Returns 0 or -ENOSPC. */
int acme_conn_authority(const struct http_conn_config *cc, char *out, size_t n);

/* The request target of an absolute server URL when it is on the given origin: scheme https
 * when tls else http, and authority equal (case-insensitive) to authority, or to
 * host:default_port spelled out. Returns a pointer into url (at its '/'), or NULL when the URL
 * is malformed or on another origin. */
const char *acme_url_path(const char *url, bool tls, const char *authority);

/* The finalize payload's CSR: the DER of the first PEM CERTIFICATE REQUEST in pem (len bytes)
 * as unpadded base64url. Returns a malloc'd string (caller frees) or NULL when pem holds none. */
char *acme_csr_b64url_from_pem(const char *pem, size_t len);

/* The renewal-info (RFC 9773) id of the first certificate of a PEM chain:
 * base64url(AKI keyIdentifier) "." base64url(serial DER content octets), into out (size n).
 * Returns 0, -EBADMSG (no certificate or no AKI key id), -ENOSPC. */
int acme_renewal_id(const char *pem, size_t len, char *out, size_t n);

#endif
