/* refserver/auth.c - Bearer API-key check in constant time over SHA-256 digests (see auth.h).
 * The digest uses OpenSSL's low-level SHA256_Init/Update/Final on a stack context: in OpenSSL
 * 3.0 every EVP_DigestInit (and the one-shot SHA256()) allocates provider contexts, one to
 * three mallocs per request on the hottest path. It is deprecated API, hence
 * OPENSSL_SUPPRESS_DEPRECATED. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "refserver/auth.h"

#define BEARER_PREFIX "Bearer "
#define BEARER_PREFIX_LEN 7
#define AUTH_KEY_MAX_BYTES 256

static int auth_digest(const char *data, size_t len, unsigned char out[AUTH_DIGEST_BYTES])
{
    SHA256_CTX c;
    if (SHA256_Init(&c) != 1 || SHA256_Update(&c, data, len) != 1 || SHA256_Final(out, &c) != 1)
        return -EIO;
    return 0;
}

int auth_init(struct auth *a, const char *const *keys, size_t n)
{
    memset(a, 0, sizeof *a);
    if (n > AUTH_MAX_KEYS)
        return -EINVAL;
    if (n == 0) {
        unsigned char raw[AUTH_GENERATED_KEY_LEN / 2];
        if (RAND_bytes(raw, sizeof raw) != 1) {
            auth_clear(a);
            return -EIO;
        }
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < sizeof raw; i++) {
            a->first_key[2 * i] = hex[raw[i] >> 4];
            a->first_key[2 * i + 1] = hex[raw[i] & 15];
        }
        OPENSSL_cleanse(raw, sizeof raw);
        if (auth_digest(a->first_key, AUTH_GENERATED_KEY_LEN, a->digests[0]) < 0) {
            auth_clear(a);
            return -EIO;
        }
        a->n = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = keys[i] ? strlen(keys[i]) : 0;
        if (len == 0 || len > AUTH_KEY_MAX_BYTES) {
            auth_clear(a);
            return -EINVAL;
        }
        if (auth_digest(keys[i], len, a->digests[i]) < 0) {
            auth_clear(a);
            return -EIO;
        }
    }
    memcpy(a->first_key, keys[0], strlen(keys[0]) + 1);
    a->n = n;
    return 0;
}

void auth_clear(struct auth *a)
{
    OPENSSL_cleanse(a, sizeof *a);
}

enum auth_result auth_check(struct auth *a, const char *header, int *key_index)
{
    if (!header || !*header)
        return AUTH_MISSING;
    size_t len = strlen(header);
    if (len < BEARER_PREFIX_LEN + 1 || memcmp(header, BEARER_PREFIX, BEARER_PREFIX_LEN) != 0)
        return AUTH_BAD_FORMAT;
    unsigned char d[AUTH_DIGEST_BYTES];
    if (auth_digest(header + BEARER_PREFIX_LEN, len - BEARER_PREFIX_LEN, d) < 0)
        return AUTH_FAILED;
    /* Compare with every key, no early exit, so timing says nothing about which one. */
    int match = -1;
    for (size_t i = 0; i < a->n; i++) {
        int same = CRYPTO_memcmp(d, a->digests[i], AUTH_DIGEST_BYTES) == 0;
        if (same && match < 0)
            match = (int)i;
    }
    if (match < 0)
        return AUTH_INVALID_KEY;
    if (key_index)
        *key_index = match;
    return AUTH_OK;
}

const char *auth_failure_body(enum auth_result r)
{
    switch (r) {
    case AUTH_MISSING:
        return "{\"error\":\"Authorization header required\"}";
    case AUTH_BAD_FORMAT:
        return "{\"error\":\"Invalid Authorization header format, expected: Bearer "
               "<token>\"}";
    case AUTH_INVALID_KEY:
        return "{\"error\":\"Invalid API key\"}";
    default:
        return NULL;
    }
}
