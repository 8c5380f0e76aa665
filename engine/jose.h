/* engine/jose.h - the JOSE pieces ACME needs (RFC 7515/7517/7518/7638/8037): base64url,
 * JWK of a public key, JWK thumbprint, flattened JWS signing and parsing/verification for
 * ES256, RS256 and EdDSA (Ed25519). Pure functions, no global state; thread-safe. */
#ifndef FLEETSIM_ENGINE_JOSE_H
#define FLEETSIM_ENGINE_JOSE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

/* Length of a SHA-256 thumbprint in base64url (43 characters) plus NUL. */
#define JOSE_THUMBPRINT_LEN 44
/* RSA keys outside [2048, 8192] bits are refused for RS256. */
#define JOSE_RSA_MIN_BITS 2048
#define JOSE_RSA_MAX_BITS 8192

enum jose_alg {
    JOSE_ALG_NONE = 0, /* unsupported or unknown */
    JOSE_ALG_ES256,
    JOSE_ALG_RS256,
    JOSE_ALG_EDDSA,
};

/* Error codes of the JWS functions (all negative errno values):
 *   -EINVAL       malformed input (JSON, base64url, header members)
 *   -ENOTSUP      the "alg" is not one of ES256/RS256/EdDSA
 *   -EKEYREJECTED the key is unsupported or does not fit the alg (wrong type/curve/size)
 *   -EBADMSG      the signature does not verify (wrong length, DER ES256, tampering)
 *   -ENOMEM / -EIO  allocation / OpenSSL failure */

/* Number of characters jose_b64url_encode produces for len bytes (no padding, no NUL). */
size_t jose_b64url_encoded_len(size_t len);

/* Encodes len bytes as unpadded base64url into out (outlen >= encoded_len + 1, NUL-terminated).
 * Returns the number of characters written (without NUL), or -EINVAL if out is too small. */
long jose_b64url_encode_buf(const void *data, size_t len, char *out, size_t outlen);

/* Encodes len bytes as unpadded base64url; returns a malloc'd NUL-terminated string (caller
 * frees) or NULL on allocation failure. */
char *jose_b64url_encode(const void *data, size_t len);

/* Decodes slen characters of unpadded base64url (strict: no '=' padding, no whitespace, no
 * characters outside [A-Za-z0-9_-], no non-zero trailing bits). On success returns 0 and
 * *out is a malloc'd buffer of *outlen bytes followed by one extra NUL byte (caller frees).
 * Returns -EINVAL on malformed input, -ENOMEM. */
int jose_b64url_decode(const char *s, size_t slen, unsigned char **out, size_t *outlen);

/* "ES256", "RS256", "EdDSA", or NULL for JOSE_ALG_NONE. */
const char *jose_alg_name(enum jose_alg alg);

/* Maps an "alg" header value (case-sensitive) to the enum; JOSE_ALG_NONE when unsupported. */
enum jose_alg jose_alg_from_name(const char *name);

/* The alg that signs with this key: EC P-256 -> ES256, RSA 2048..8192 bits -> RS256,
 * Ed25519 -> EdDSA; JOSE_ALG_NONE for anything else. */
enum jose_alg jose_alg_for_key(const EVP_PKEY *key);

/* The public JWK of key as compact JSON with exactly the RFC 7638 required members in
 * lexicographic order: EC {"crv","kty","x","y"}, RSA {"e","kty","n"}, OKP {"crv","kty","x"}.
 * This is also the thumbprint input. Returns a malloc'd string (caller frees) or NULL when
 * the key is unsupported or on allocation failure. */
char *jose_jwk_json(const EVP_PKEY *key);

/* RFC 7638 thumbprint: base64url(SHA-256(jose_jwk_json(key))) into out (43 chars + NUL).
 * Returns 0, -EKEYREJECTED for unsupported keys, -EIO. */
int jose_jwk_thumbprint(const EVP_PKEY *key, char out[JOSE_THUMBPRINT_LEN]);

/* Builds a public EVP_PKEY from a JWK given as JSON text (len bytes, need not be
 * NUL-terminated). Accepts kty EC (crv P-256, 32-byte x/y on the curve), RSA (2048..8192
 * bits), OKP (crv Ed25519). Returns the key (caller EVP_PKEY_free) or NULL with a reason in
 * err. */
EVP_PKEY *jose_jwk_to_pkey(const char *json, size_t len, char *err, size_t errlen);

/* Signs payload (payload_len bytes; "" with 0 for an ACME POST-as-GET) as a flattened JWS
 * {"protected","payload","signature"} with protected header members in this order:
 * alg, then kid (when kid != NULL) or jwk (the key's public JWK), then nonce (when non-NULL),
 * then url (when non-NULL). ES256 signatures are raw r||s (64 bytes). Returns a malloc'd
 * JSON string (caller frees) or NULL with a reason in err. */
char *jose_jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
                    const void *payload, size_t payload_len, char *err, size_t errlen);

/* A parsed (not yet verified) flattened JWS. All pointers are owned by the struct. */
struct jose_jws {
    enum jose_alg alg;      /* from the protected header; JOSE_ALG_NONE never survives parse */
    char *nonce;            /* "nonce" or NULL when absent */
    char *url;              /* "url" or NULL when absent */
    char *kid;              /* "kid" or NULL when a jwk was given */
    char *typ;              /* "typ" or NULL when absent */
    EVP_PKEY *jwk;          /* public key from "jwk", or NULL when a kid was given */
    unsigned char *payload; /* decoded payload, NUL-terminated (payload_len excludes it) */
    size_t payload_len;
    char *signing_input; /* "<protected b64>.<payload b64>", what the signature covers */
    unsigned char *signature;
    size_t signature_len;
};

/* Parses a flattened JWS of len bytes: exactly the members protected, payload, signature
 * (no unprotected "header", no general "signatures"); the protected header must be a JSON
 * object with a supported "alg", exactly one of "jwk"/"kid", no "crit"; "nonce", "url",
 * "kid", "typ" must be strings when present. Does NOT check the signature. On success
 * returns 0 and fills *out (release with jose_jws_clear); on failure returns -EINVAL or
 * -ENOTSUP (unsupported alg) or -EKEYREJECTED (bad jwk) with a reason in err, and *out is
 * left empty. */
int jose_jws_parse(const char *body, size_t len, struct jose_jws *out, char *err, size_t errlen);

/* Verifies jws's signature with key (the jwk from the header or the account key of its kid).
 * Returns 0 when it verifies, -EKEYREJECTED when the key does not fit jws->alg, -EBADMSG when
 * the signature is wrong (for ES256 anything but 64 raw bytes is wrong), -EIO. */
int jose_jws_verify(const struct jose_jws *jws, EVP_PKEY *key);

/* Frees everything *jws holds and zeroes it (safe on a zeroed or already cleared struct). */
void jose_jws_clear(struct jose_jws *jws);

#endif
