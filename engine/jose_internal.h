/* engine/jose_internal.h - helpers shared by engine/jose.c (base64url, JWS) and engine/jose_jwk.c
 * (JWK import/export). Not for use outside engine/jose*.c. */
#ifndef FLEETSIM_ENGINE_JOSE_INT_H
#define FLEETSIM_ENGINE_JOSE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#define ES256_COORD_BYTES 32
#define ES256_SIG_BYTES (2 * ES256_COORD_BYTES)
#define ED25519_KEY_BYTES 32
#define RSA_MAX_MODULUS_BYTES (JOSE_RSA_MAX_BITS / 8)
#define JWK_COORD_B64_MAX 64

/* Writes msg into err (when err and errlen are non-zero). */
void jose_set_err(char *err, size_t errlen, const char *msg);
/* Parses exactly len bytes of JSON (depth-limited, no trailing bytes); NULL on error. */
json_object *jose_json_parse_exact(const char *s, size_t len);
/* A public key from a parsed JWK object; NULL with a reason in err. */
EVP_PKEY *jose_jwk_obj_to_pkey(json_object *jwk, char *err, size_t errlen);
/* True when key is an EC key on P-256. */
bool jose_is_p256(const EVP_PKEY *key);

#endif
