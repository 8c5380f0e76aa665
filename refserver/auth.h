/* refserver/auth.h - certctl's API-key check: "Authorization: Bearer <key>" compared with every
 * configured key as SHA-256 digests in constant time (CRYPTO_memcmp). Keys are kept only as
 * digests, plus the first key in clear for target_api_key. Keys are named legacy-key-N. */
#ifndef FLEETSIM_TARGET_AUTH_H
#define FLEETSIM_TARGET_AUTH_H

#include <stddef.h>

#define AUTH_MAX_KEYS 16
#define AUTH_DIGEST_BYTES 32
/* Length of a generated key: 32 random bytes as 64 hex characters. */
#define AUTH_GENERATED_KEY_LEN 64

enum auth_result {
    AUTH_OK = 0,
    AUTH_MISSING,     /* no (or an empty) Authorization header */
    AUTH_BAD_FORMAT,  /* not "Bearer <token>" */
    AUTH_INVALID_KEY, /* no configured key matches */
    AUTH_FAILED,      /* digest computation failed (answered 500) */
};

struct auth {
    unsigned char digests[AUTH_MAX_KEYS][AUTH_DIGEST_BYTES];
    size_t n;
    char first_key[257]; /* clear text of key 0 (the generated one when none was given) */
};

/* Loads keys[0..n) (n <= AUTH_MAX_KEYS, each 1..256 bytes). With n == 0 one random key is
 * generated. Returns 0, -EINVAL (bad key) or -EIO (OpenSSL). */
int auth_init(struct auth *a, const char *const *keys, size_t n);

/* Wipes the digests and the clear key. */
void auth_clear(struct auth *a);

/* Checks an Authorization header value (NULL = absent). On AUTH_OK *key_index gets the index
 * of the matching key (legacy-key-<index>). */
enum auth_result auth_check(struct auth *a, const char *header, int *key_index);

/* The text/plain body certctl sends for a failed check, without the trailing "\n" that
 * http.Error adds; NULL for AUTH_OK and AUTH_FAILED. */
const char *auth_failure_body(enum auth_result r);

#endif
