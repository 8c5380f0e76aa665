/* engine/jose_jwk.c - JWK export in RFC 7638 member order (the thumbprint input), thumbprints,
 * and JWK import (EC P-256 with an on-curve check, RSA 2048..8192 bits, Ed25519). */
#include "engine/jose.h"
#include "engine/jose_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

/* base64url of a BIGNUM parameter: minimal big-endian (pad_len 0) or left-padded to pad_len. */
static char *bn_param_b64(const EVP_PKEY *key, const char *param, int pad_len)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
        return NULL;
    int n = pad_len ? pad_len : BN_num_bytes(bn);
    unsigned char *buf = n > 0 && n <= RSA_MAX_MODULUS_BYTES ? malloc((size_t)n) : NULL;
    char *s = NULL;
    if (buf && BN_bn2binpad(bn, buf, n) == n)
        s = jose_b64url_encode(buf, (size_t)n);
    free(buf);
    BN_free(bn);
    return s;
}

static char *jwk_json_ec(const EVP_PKEY *key)
{
    char *x = bn_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_X, ES256_COORD_BYTES);
    char *y = bn_param_b64(key, OSSL_PKEY_PARAM_EC_PUB_Y, ES256_COORD_BYTES);
    char *s = NULL;
    if (x && y &&
        asprintf(&s, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y) < 0)
        s = NULL;
    free(x);
    free(y);
    return s;
}

static char *jwk_json_rsa(const EVP_PKEY *key)
{
    char *e = bn_param_b64(key, OSSL_PKEY_PARAM_RSA_E, 0);
    char *n = bn_param_b64(key, OSSL_PKEY_PARAM_RSA_N, 0);
    char *s = NULL;
    if (e && n && asprintf(&s, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", e, n) < 0)
        s = NULL;
    free(e);
    free(n);
    return s;
}

static char *jwk_json_ed25519(const EVP_PKEY *key)
{
    unsigned char raw[ED25519_KEY_BYTES];
    size_t len = sizeof raw;
    char x[JWK_COORD_B64_MAX];
    char *s = NULL;
    if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != ED25519_KEY_BYTES)
        return NULL;
    jose_b64url_encode_buf(raw, len, x, sizeof x);
    if (asprintf(&s, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x) < 0)
        s = NULL;
    return s;
}

char *jose_jwk_json(const EVP_PKEY *key)
{
    switch (jose_alg_for_key(key)) {
    case JOSE_ALG_ES256:
        return jwk_json_ec(key);
    case JOSE_ALG_RS256:
        return jwk_json_rsa(key);
    case JOSE_ALG_EDDSA:
        return jwk_json_ed25519(key);
    default:
        return NULL;
    }
}

int jose_jwk_thumbprint(const EVP_PKEY *key, char out[JOSE_THUMBPRINT_LEN])
{
    if (jose_alg_for_key(key) == JOSE_ALG_NONE)
        return -EKEYREJECTED;
    char *json = jose_jwk_json(key);
    if (!json)
        return -EIO;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)json, strlen(json), digest);
    free(json);
    jose_b64url_encode_buf(digest, sizeof digest, out, JOSE_THUMBPRINT_LEN);
    return 0;
}

/* Decodes the base64url string member `name` of obj; 0 or -EINVAL. */
static int member_b64(json_object *obj, const char *name, unsigned char **out, size_t *outlen)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
        return -EINVAL;
    return jose_b64url_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), out,
                              outlen);
}

static bool member_is(json_object *obj, const char *name, const char *want)
{
    json_object *v;
    return json_object_object_get_ex(obj, name, &v) && json_object_is_type(v, json_type_string) &&
           strcmp(json_object_get_string(v), want) == 0;
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *key = NULL;
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1)
        if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
            key = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return key;
}

static EVP_PKEY *jwk_ec_to_pkey(json_object *jwk, char *err, size_t errlen)
{
    unsigned char *x = NULL, *y = NULL;
    size_t xl = 0, yl = 0;
    EVP_PKEY *key = NULL;
    if (!member_is(jwk, "crv", "P-256")) {
        jose_set_err(err, errlen, "EC JWK: crv must be P-256");
        return NULL;
    }
    if (member_b64(jwk, "x", &x, &xl) || member_b64(jwk, "y", &y, &yl) || xl != ES256_COORD_BYTES ||
        yl != ES256_COORD_BYTES) {
        jose_set_err(err, errlen, "EC JWK: x and y must be 32-byte base64url");
        goto out;
    }
    unsigned char point[1 + ES256_SIG_BYTES];
    point[0] = POINT_CONVERSION_UNCOMPRESSED;
    memcpy(point + 1, x, ES256_COORD_BYTES);
    memcpy(point + 1 + ES256_COORD_BYTES, y, ES256_COORD_BYTES);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point))
        key = pkey_fromdata("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    if (!key)
        jose_set_err(err, errlen, "EC JWK: the point is not on P-256");
out:
    free(x);
    free(y);
    return key;
}

static EVP_PKEY *jwk_rsa_to_pkey(json_object *jwk, char *err, size_t errlen)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nl = 0, el = 0;
    EVP_PKEY *key = NULL;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    if (member_b64(jwk, "n", &n, &nl) || member_b64(jwk, "e", &e, &el) || nl == 0 || el == 0 ||
        nl > RSA_MAX_MODULUS_BYTES || el > 8) {
        jose_set_err(err, errlen, "RSA JWK: n and e must be base64url (n at most 8192 bits)");
        goto out;
    }
    bn_n = BN_bin2bn(n, (int)nl, NULL);
    bn_e = BN_bin2bn(e, (int)el, NULL);
    int bits = bn_n ? BN_num_bits(bn_n) : 0;
    if (!bn_n || !bn_e || bits < JOSE_RSA_MIN_BITS || bits > JOSE_RSA_MAX_BITS ||
        !BN_is_odd(bn_e) || BN_is_one(bn_e)) {
        jose_set_err(err, errlen, "RSA JWK: modulus must be 2048..8192 bits, exponent odd and > 1");
        goto out;
    }
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        key = pkey_fromdata("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    if (!key)
        jose_set_err(err, errlen, "RSA JWK: OpenSSL refused the key");
out:
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return key;
}

static EVP_PKEY *jwk_okp_to_pkey(json_object *jwk, char *err, size_t errlen)
{
    unsigned char *x = NULL;
    size_t xl = 0;
    EVP_PKEY *key = NULL;
    if (!member_is(jwk, "crv", "Ed25519")) {
        jose_set_err(err, errlen, "OKP JWK: crv must be Ed25519");
        return NULL;
    }
    if (member_b64(jwk, "x", &x, &xl) || xl != ED25519_KEY_BYTES)
        jose_set_err(err, errlen, "OKP JWK: x must be 32-byte base64url");
    else if (!(key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl)))
        jose_set_err(err, errlen, "OKP JWK: OpenSSL refused the key");
    free(x);
    return key;
}

EVP_PKEY *jose_jwk_obj_to_pkey(json_object *jwk, char *err, size_t errlen)
{
    EVP_PKEY *key = NULL;
    if (!json_object_is_type(jwk, json_type_object))
        jose_set_err(err, errlen, "JWK is not a JSON object");
    else if (member_is(jwk, "kty", "EC"))
        key = jwk_ec_to_pkey(jwk, err, errlen);
    else if (member_is(jwk, "kty", "RSA"))
        key = jwk_rsa_to_pkey(jwk, err, errlen);
    else if (member_is(jwk, "kty", "OKP"))
        key = jwk_okp_to_pkey(jwk, err, errlen);
    else
        jose_set_err(err, errlen, "JWK kty must be EC, RSA or OKP");
    ERR_clear_error();
    return key;
}

EVP_PKEY *jose_jwk_to_pkey(const char *json, size_t len, char *err, size_t errlen)
{
    json_object *obj = json ? jose_json_parse_exact(json, len) : NULL;
    if (!obj) {
        jose_set_err(err, errlen, "JWK is not valid JSON");
        return NULL;
    }
    EVP_PKEY *key = jose_jwk_obj_to_pkey(obj, err, errlen);
    json_object_put(obj);
    return key;
}
