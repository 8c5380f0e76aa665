/* engine/jose.c - base64url and the flattened JWS (ES256 raw r||s, RS256, EdDSA): signing,
 * parsing and verification used by ACME on both sides. JWK import/export is in jose_jwk.c. */
#include "engine/jose.h"
#include "engine/jose_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#define JSON_MAX_DEPTH 16

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void jose_set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

size_t jose_b64url_encoded_len(size_t len)
{
    return (len / 3) * 4 + (len % 3 ? len % 3 + 1 : 0);
}

long jose_b64url_encode_buf(const void *data, size_t len, char *out, size_t outlen)
{
    size_t need = jose_b64url_encoded_len(len);
    if (!out || outlen < need + 1)
        return -EINVAL;
    const unsigned char *p = data;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = b64url_alphabet[(v >> 18) & 63];
        out[o++] = b64url_alphabet[(v >> 12) & 63];
        out[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return (long)o;
}

char *jose_b64url_encode(const void *data, size_t len)
{
    size_t n = jose_b64url_encoded_len(len) + 1;
    char *s = malloc(n);
    if (s)
        jose_b64url_encode_buf(data, len, s, n);
    return s;
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int jose_b64url_decode(const char *s, size_t slen, unsigned char **out, size_t *outlen)
{
    if (!s || !out || !outlen || slen % 4 == 1)
        return -EINVAL;
    size_t n = slen / 4 * 3 + (slen % 4 ? slen % 4 - 1 : 0);
    unsigned char *buf = malloc(n + 1);
    if (!buf)
        return -ENOMEM;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < slen; i++) {
        int v = b64url_value(s[i]);
        if (v < 0) {
            free(buf);
            return -EINVAL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) { /* non-zero leftover bits: not the canonical encoding */
        free(buf);
        return -EINVAL;
    }
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return 0;
}

const char *jose_alg_name(enum jose_alg alg)
{
    switch (alg) {
    case JOSE_ALG_ES256:
        return "ES256";
    case JOSE_ALG_RS256:
        return "RS256";
    case JOSE_ALG_EDDSA:
        return "EdDSA";
    default:
        return NULL;
    }
}

enum jose_alg jose_alg_from_name(const char *name)
{
    if (!name)
        return JOSE_ALG_NONE;
    if (strcmp(name, "ES256") == 0)
        return JOSE_ALG_ES256;
    if (strcmp(name, "RS256") == 0)
        return JOSE_ALG_RS256;
    if (strcmp(name, "EdDSA") == 0)
        return JOSE_ALG_EDDSA;
    return JOSE_ALG_NONE;
}

bool jose_is_p256(const EVP_PKEY *key)
{
    char group[64];
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1)
        return false;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

enum jose_alg jose_alg_for_key(const EVP_PKEY *key)
{
    if (!key)
        return JOSE_ALG_NONE;
    if (EVP_PKEY_is_a(key, "EC"))
        return jose_is_p256(key) ? JOSE_ALG_ES256 : JOSE_ALG_NONE;
    if (EVP_PKEY_is_a(key, "RSA")) {
        int bits = EVP_PKEY_get_bits(key);
        return bits >= JOSE_RSA_MIN_BITS && bits <= JOSE_RSA_MAX_BITS ? JOSE_ALG_RS256
                                                                      : JOSE_ALG_NONE;
    }
    if (EVP_PKEY_is_a(key, "ED25519"))
        return JOSE_ALG_EDDSA;
    return JOSE_ALG_NONE;
}

/* Parses exactly len bytes of JSON (no trailing bytes); NULL on error. */
json_object *jose_json_parse_exact(const char *s, size_t len)
{
    if (len > INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok)
        return NULL;
    json_object *obj = json_tokener_parse_ex(tok, s, (int)len);
    if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
                json_tokener_get_parse_end(tok) != len)) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}

/* Raw signature over msg: ES256 -> 64-byte r||s, RS256 -> PKCS#1 v1.5, EdDSA -> 64 bytes. */
static int sign_raw(EVP_PKEY *key, enum jose_alg alg, const char *msg, size_t len,
                    unsigned char **sig_out, size_t *sig_len_out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = alg == JOSE_ALG_EDDSA ? NULL : EVP_sha256();
    size_t sl = 0;
    unsigned char *sig = NULL;
    int rc = -EIO;
    if (!ctx || EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, &sl, (const unsigned char *)msg, len) != 1)
        goto out;
    sig = malloc(sl > ES256_SIG_BYTES ? sl : ES256_SIG_BYTES);
    if (!sig || EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)msg, len) != 1)
        goto out;
    if (alg == JOSE_ALG_ES256) {
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
        const BIGNUM *r, *s;
        if (!es)
            goto out;
        ECDSA_SIG_get0(es, &r, &s);
        bool ok = BN_bn2binpad(r, sig, ES256_COORD_BYTES) == ES256_COORD_BYTES &&
                  BN_bn2binpad(s, sig + ES256_COORD_BYTES, ES256_COORD_BYTES) == ES256_COORD_BYTES;
        ECDSA_SIG_free(es);
        if (!ok)
            goto out;
        sl = ES256_SIG_BYTES;
    }
    *sig_out = sig;
    *sig_len_out = sl;
    sig = NULL;
    rc = 0;
out:
    free(sig);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

static char *protected_header(EVP_PKEY *key, enum jose_alg alg, const char *kid, const char *nonce,
                              const char *url)
{
    json_object *h = json_object_new_object();
    char *out = NULL;
    if (!h)
        return NULL;
    json_object_object_add(h, "alg", json_object_new_string(jose_alg_name(alg)));
    if (kid) {
        json_object_object_add(h, "kid", json_object_new_string(kid));
    } else {
        char *jwk = jose_jwk_json(key);
        json_object *j = jwk ? json_tokener_parse(jwk) : NULL;
        free(jwk);
        if (!j)
            goto out;
        json_object_object_add(h, "jwk", j);
    }
    if (nonce)
        json_object_object_add(h, "nonce", json_object_new_string(nonce));
    if (url)
        json_object_object_add(h, "url", json_object_new_string(url));
    const char *s =
        json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    out = s ? strdup(s) : NULL;
out:
    json_object_put(h);
    return out;
}

char *jose_jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
                    const void *payload, size_t payload_len, char *err, size_t errlen)
{
    enum jose_alg alg = jose_alg_for_key(key);
    if (alg == JOSE_ALG_NONE) {
        jose_set_err(err, errlen, "JWS sign: unsupported key (need P-256, RSA 2048+ or Ed25519)");
        return NULL;
    }
    if (!payload && payload_len) {
        jose_set_err(err, errlen, "JWS sign: payload is NULL");
        return NULL;
    }
    char *hdr = protected_header(key, alg, kid, nonce, url);
    char *hdr_b64 = hdr ? jose_b64url_encode(hdr, strlen(hdr)) : NULL;
    char *pay_b64 = jose_b64url_encode(payload ? payload : "", payload_len);
    char *input = NULL, *sig_b64 = NULL, *out = NULL;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    if (!hdr_b64 || !pay_b64 || asprintf(&input, "%s.%s", hdr_b64, pay_b64) < 0) {
        input = NULL;
        jose_set_err(err, errlen, "JWS sign: out of memory");
        goto out;
    }
    if (sign_raw(key, alg, input, strlen(input), &sig, &sig_len)) {
        jose_set_err(err, errlen, "JWS sign: OpenSSL signing failed");
        goto out;
    }
    sig_b64 = jose_b64url_encode(sig, sig_len);
    if (!sig_b64 || asprintf(&out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
                             hdr_b64, pay_b64, sig_b64) < 0) {
        out = NULL;
        jose_set_err(err, errlen, "JWS sign: out of memory");
    }
out:
    free(hdr);
    free(hdr_b64);
    free(pay_b64);
    free(input);
    free(sig);
    free(sig_b64);
    return out;
}

/* Copies the optional string member `name` of h into *out; -EINVAL when present but not a
 * string. */
static int opt_string(json_object *h, const char *name, char **out)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(h, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return -EINVAL;
    *out = strdup(json_object_get_string(v));
    return *out ? 0 : -ENOMEM;
}

static int parse_protected(json_object *h, struct jose_jws *out, char *err, size_t errlen)
{
    json_object *v, *jwk = NULL;
    if (!json_object_is_type(h, json_type_object)) {
        jose_set_err(err, errlen, "JWS: protected header is not a JSON object");
        return -EINVAL;
    }
    if (json_object_object_get_ex(h, "crit", &v)) {
        jose_set_err(err, errlen, "JWS: \"crit\" header parameters are not supported");
        return -EINVAL;
    }
    if (!json_object_object_get_ex(h, "alg", &v) || !json_object_is_type(v, json_type_string)) {
        jose_set_err(err, errlen, "JWS: protected header has no \"alg\"");
        return -EINVAL;
    }
    out->alg = jose_alg_from_name(json_object_get_string(v));
    if (out->alg == JOSE_ALG_NONE) {
        jose_set_err(err, errlen, "JWS: alg must be RS256, ES256 or EdDSA");
        return -ENOTSUP;
    }
    int rc = opt_string(h, "nonce", &out->nonce);
    rc = rc ? rc : opt_string(h, "url", &out->url);
    rc = rc ? rc : opt_string(h, "kid", &out->kid);
    rc = rc ? rc : opt_string(h, "typ", &out->typ);
    if (rc) {
        jose_set_err(err, errlen, "JWS: nonce, url, kid and typ must be strings");
        return rc;
    }
    bool has_jwk = json_object_object_get_ex(h, "jwk", &jwk);
    if (has_jwk == (out->kid != NULL)) {
        jose_set_err(err, errlen, "JWS: protected header must contain exactly one of kid or jwk");
        return -EINVAL;
    }
    if (has_jwk && !(out->jwk = jose_jwk_obj_to_pkey(jwk, err, errlen)))
        return -EKEYREJECTED;
    return 0;
}

static int parse_members(json_object *root, struct jose_jws *out, char *err, size_t errlen)
{
    json_object *prot, *pay, *sig, *v;
    if (json_object_object_get_ex(root, "header", &v) ||
        json_object_object_get_ex(root, "signatures", &v)) {
        jose_set_err(err, errlen,
                     "JWS: only the flattened serialization without unprotected header");
        return -EINVAL;
    }
    if (!json_object_object_get_ex(root, "protected", &prot) ||
        !json_object_object_get_ex(root, "payload", &pay) ||
        !json_object_object_get_ex(root, "signature", &sig) ||
        !json_object_is_type(prot, json_type_string) ||
        !json_object_is_type(pay, json_type_string) ||
        !json_object_is_type(sig, json_type_string)) {
        jose_set_err(err, errlen, "JWS: protected, payload and signature must be strings");
        return -EINVAL;
    }
    const char *ps = json_object_get_string(prot), *ys = json_object_get_string(pay);
    size_t pl = (size_t)json_object_get_string_len(prot),
           yl = (size_t)json_object_get_string_len(pay);
    unsigned char *hdr = NULL;
    size_t hdr_len = 0;
    if (pl == 0 || jose_b64url_decode(ps, pl, &hdr, &hdr_len) ||
        jose_b64url_decode(ys, yl, &out->payload, &out->payload_len) ||
        jose_b64url_decode(json_object_get_string(sig), (size_t)json_object_get_string_len(sig),
                           &out->signature, &out->signature_len) ||
        out->signature_len == 0) {
        free(hdr);
        jose_set_err(err, errlen, "JWS: protected, payload or signature is not base64url");
        return -EINVAL;
    }
    json_object *h = jose_json_parse_exact((const char *)hdr, hdr_len);
    free(hdr);
    if (!h) {
        jose_set_err(err, errlen, "JWS: protected header is not valid JSON");
        return -EINVAL;
    }
    int rc = parse_protected(h, out, err, errlen);
    json_object_put(h);
    if (rc)
        return rc;
    out->signing_input = malloc(pl + 1 + yl + 1);
    if (!out->signing_input)
        return -ENOMEM;
    memcpy(out->signing_input, ps, pl);
    out->signing_input[pl] = '.';
    memcpy(out->signing_input + pl + 1, ys, yl);
    out->signing_input[pl + 1 + yl] = '\0';
    return 0;
}

int jose_jws_parse(const char *body, size_t len, struct jose_jws *out, char *err, size_t errlen)
{
    if (!out)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    json_object *root = body ? jose_json_parse_exact(body, len) : NULL;
    if (!root || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        jose_set_err(err, errlen, "JWS: body is not a JSON object");
        return -EINVAL;
    }
    int rc = parse_members(root, out, err, errlen);
    json_object_put(root);
    if (rc)
        jose_jws_clear(out);
    return rc;
}

/* DER-encodes a raw 64-byte r||s ES256 signature; returns the length or -EBADMSG. */
static int es256_raw_to_der(const unsigned char *raw, unsigned char **der)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, ES256_COORD_BYTES, NULL);
    BIGNUM *s = BN_bin2bn(raw + ES256_COORD_BYTES, ES256_COORD_BYTES, NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -EIO;
    }
    *der = NULL;
    int len = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    return len > 0 ? len : -EIO;
}

int jose_jws_verify(const struct jose_jws *jws, EVP_PKEY *key)
{
    if (!jws || !key || !jws->signing_input)
        return -EINVAL;
    if (jose_alg_for_key(key) != jws->alg || jws->alg == JOSE_ALG_NONE)
        return -EKEYREJECTED;
    const unsigned char *sig = jws->signature;
    size_t sig_len = jws->signature_len;
    unsigned char *der = NULL;
    if (jws->alg == JOSE_ALG_ES256) {
        if (sig_len != ES256_SIG_BYTES)
            return -EBADMSG;
        int dl = es256_raw_to_der(sig, &der);
        if (dl < 0)
            return dl;
        sig = der;
        sig_len = (size_t)dl;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = jws->alg == JOSE_ALG_EDDSA ? NULL : EVP_sha256();
    int rc = -EIO;
    if (ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1) {
        int v = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jws->signing_input,
                                 strlen(jws->signing_input));
        rc = v == 1 ? 0 : -EBADMSG;
    }
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ERR_clear_error();
    return rc;
}

void jose_jws_clear(struct jose_jws *jws)
{
    if (!jws)
        return;
    free(jws->nonce);
    free(jws->url);
    free(jws->kid);
    free(jws->typ);
    EVP_PKEY_free(jws->jwk);
    free(jws->payload);
    free(jws->signing_input);
    free(jws->signature);
    memset(jws, 0, sizeof *jws);
}
