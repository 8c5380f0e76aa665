/* tests/unit/check_jose.c - unit tests of engine/jose: base64url and JWK thumbprint known
 * answers (RFC 7515 App. C/A.1, RFC 7638 §3.1, RFC 8037 A.3), JWS known-answer verification
 * (RFC 7515 A.3 ES256, RFC 8037 A.4 EdDSA), sign/verify round trips, tampering, rejections. */
#include "engine/jose.h"
#include "tests/lib/testenv.h"
#include "tests/lib/x509_check.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

/* RFC 7638 §3.1 example RSA key and thumbprint. */
static const char rfc7638_n[] = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu"
                                "1RK7aPFFxuhDR1L6tSoc_BJECPebWKR"
                                "XjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
                                "RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAt"
                                "aSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
                                "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPks"
                                "INHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_thumb[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
/* RFC 8037 A.2/A.3 Ed25519 public key and thumbprint; A.4 signature. */
static const char rfc8037_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char rfc8037_thumb[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
static const char rfc8037_input[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char rfc8037_sig[] =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
/* RFC 7515 A.3 ES256 example. */
static const char rfc7515_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char rfc7515_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char rfc7515_input[] =
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv"
    "bS9pc19yb290Ijp0cnVlfQ";
static const char rfc7515_sig[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

static EVP_PKEY *jwk(const char *json)
{
    char err[128] = "";
    EVP_PKEY *k = jose_jwk_to_pkey(json, strlen(json), err, sizeof err);
    ck_assert_msg(k != NULL, "jwk: %s", err);
    return k;
}

/* A jose_jws holding a known signing input and signature, as if parsed. */
static void kat_jws(struct jose_jws *j, enum jose_alg alg, const char *input, const char *sig_b64)
{
    memset(j, 0, sizeof *j);
    j->alg = alg;
    j->signing_input = strdup(input);
    ck_assert_int_eq(jose_b64url_decode(sig_b64, strlen(sig_b64), &j->signature, &j->signature_len),
                     0);
}

/* Builds a flattened JWS with an arbitrary protected header, signing with key (ES256 as raw
 * r||s unless der is true). */
static char *custom_jws(EVP_PKEY *key, const char *header, const char *payload, bool der)
{
    char *h = jose_b64url_encode(header, strlen(header));
    char *p = jose_b64url_encode(payload, strlen(payload));
    char *input;
    ck_assert_int_gt(asprintf(&input, "%s.%s", h, p), 0);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ed = EVP_PKEY_is_a(key, "ED25519");
    unsigned char sig[1024];
    size_t sl = sizeof sig;
    ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, ed ? NULL : EVP_sha256(), NULL, key), 1);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &sl, (unsigned char *)input, strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
    if (EVP_PKEY_is_a(key, "EC") && !der) {
        const unsigned char *q = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)sl);
        const BIGNUM *r, *s;
        ECDSA_SIG_get0(es, &r, &s);
        BN_bn2binpad(r, sig, 32);
        BN_bn2binpad(s, sig + 32, 32);
        ECDSA_SIG_free(es);
        sl = 64;
    }
    char *sb = jose_b64url_encode(sig, sl);
    char *out;
    ck_assert_int_gt(
        asprintf(&out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", h, p, sb),
        0);
    free(h);
    free(p);
    free(input);
    free(sb);
    return out;
}

/* Replaces the value of JSON string member `name` in a flattened JWS with `value`. */
static char *replace_member(const char *jws, const char *name, const char *value)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\":\"", name);
    const char *a = strstr(jws, pat);
    ck_assert_ptr_nonnull(a);
    a += strlen(pat);
    const char *b = strchr(a, '"');
    char *out;
    ck_assert_int_gt(asprintf(&out, "%.*s%s%s", (int)(a - jws), jws, value, b), 0);
    return out;
}

static int parse_verify(const char *body, EVP_PKEY *key)
{
    struct jose_jws j;
    char err[160];
    int rc = jose_jws_parse(body, strlen(body), &j, err, sizeof err);
    if (rc == 0) {
        rc = jose_jws_verify(&j, key ? key : j.jwk);
        jose_jws_clear(&j);
    }
    return rc;
}

START_TEST(test_b64url_known_answers)
{
    const unsigned char appc[] = {3, 236, 255, 224, 193};
    char buf[64];
    ck_assert_int_eq(jose_b64url_encode_buf(appc, sizeof appc, buf, sizeof buf), 7);
    ck_assert_str_eq(buf, "A-z_4ME");
    const char hdr[] = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    char *s = jose_b64url_encode(hdr, strlen(hdr));
    ck_assert_str_eq(s, "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
    unsigned char *d;
    size_t dl;
    ck_assert_int_eq(jose_b64url_decode(s, strlen(s), &d, &dl), 0);
    ck_assert_uint_eq(dl, strlen(hdr));
    ck_assert_int_eq(memcmp(d, hdr, dl), 0);
    ck_assert_int_eq(d[dl], 0);
    free(d);
    free(s);
    ck_assert_int_eq(jose_b64url_decode("A-z_4ME", 7, &d, &dl), 0);
    ck_assert_uint_eq(dl, 5);
    ck_assert_int_eq(memcmp(d, appc, 5), 0);
    free(d);
    ck_assert_int_eq(jose_b64url_decode("", 0, &d, &dl), 0);
    ck_assert_uint_eq(dl, 0);
    free(d);
    ck_assert_int_eq(jose_b64url_encode_buf(appc, sizeof appc, buf, 7), -EINVAL);
}
END_TEST

START_TEST(test_b64url_rejects)
{
    unsigned char *d = NULL;
    size_t dl;
    const char *bad[] = {"A", "A-z_4ME=", "A+z/4ME", "A-z_4MF", "A-z 4ME", "QQ==", "QR"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(jose_b64url_decode(bad[i], strlen(bad[i]), &d, &dl) == -EINVAL, "%s", bad[i]);
}
END_TEST

START_TEST(test_b64url_round_trip)
{
    unsigned char data[130];
    ck_assert_int_eq(RAND_bytes(data, sizeof data), 1);
    for (size_t n = 0; n <= sizeof data; n++) {
        char *s = jose_b64url_encode(data, n);
        ck_assert_uint_eq(strlen(s), jose_b64url_encoded_len(n));
        ck_assert_ptr_null(strpbrk(s, "+/="));
        unsigned char *d;
        size_t dl;
        ck_assert_int_eq(jose_b64url_decode(s, strlen(s), &d, &dl), 0);
        ck_assert_uint_eq(dl, n);
        ck_assert_int_eq(memcmp(d, data, n), 0);
        free(d);
        free(s);
    }
}
END_TEST

START_TEST(test_thumbprint_rfc7638)
{
    char json[600];
    snprintf(json, sizeof json, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\",\"alg\":\"RS256\"}",
             rfc7638_n);
    EVP_PKEY *k = jwk(json);
    ck_assert_int_eq(jose_alg_for_key(k), JOSE_ALG_RS256);
    char *canon = jose_jwk_json(k);
    char want[600];
    snprintf(want, sizeof want, "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%s\"}", rfc7638_n);
    ck_assert_str_eq(canon, want);
    char tp[JOSE_THUMBPRINT_LEN];
    ck_assert_int_eq(jose_jwk_thumbprint(k, tp), 0);
    ck_assert_str_eq(tp, rfc7638_thumb);
    free(canon);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_thumbprint_rfc8037)
{
    char json[200];
    snprintf(json, sizeof json, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", rfc8037_x);
    EVP_PKEY *k = jwk(json);
    ck_assert_int_eq(jose_alg_for_key(k), JOSE_ALG_EDDSA);
    char tp[JOSE_THUMBPRINT_LEN];
    ck_assert_int_eq(jose_jwk_thumbprint(k, tp), 0);
    ck_assert_str_eq(tp, rfc8037_thumb);
    char *canon = jose_jwk_json(k);
    char want[200];
    snprintf(want, sizeof want, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", rfc8037_x);
    ck_assert_str_eq(canon, want);
    free(canon);
    EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_kat_verify)
{
    char json[200];
    snprintf(json, sizeof json, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
             rfc7515_x, rfc7515_y);
    EVP_PKEY *ec = jwk(json);
    char *canon = jose_jwk_json(ec);
    char want[200];
    snprintf(want, sizeof want, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
             rfc7515_x, rfc7515_y);
    ck_assert_str_eq(canon, want);
    free(canon);
    struct jose_jws j;
    kat_jws(&j, JOSE_ALG_ES256, rfc7515_input, rfc7515_sig);
    ck_assert_int_eq(jose_jws_verify(&j, ec), 0);
    j.signature[10] ^= 1;
    ck_assert_int_eq(jose_jws_verify(&j, ec), -EBADMSG);
    jose_jws_clear(&j);

    snprintf(json, sizeof json, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", rfc8037_x);
    EVP_PKEY *ed = jwk(json);
    kat_jws(&j, JOSE_ALG_EDDSA, rfc8037_input, rfc8037_sig);
    ck_assert_int_eq(jose_jws_verify(&j, ed), 0);
    ck_assert_int_eq(jose_jws_verify(&j, ec), -EKEYREJECTED);
    j.signing_input[5] ^= 1;
    ck_assert_int_eq(jose_jws_verify(&j, ed), -EBADMSG);
    jose_jws_clear(&j);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
}
END_TEST

START_TEST(test_jwk_round_trip)
{
    enum jose_alg algs[] = {JOSE_ALG_ES256, JOSE_ALG_RS256, JOSE_ALG_EDDSA};
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY *k = tx509_gen_key(algs[i]);
        ck_assert_int_eq(jose_alg_for_key(k), algs[i]);
        char *json = jose_jwk_json(k);
        ck_assert_ptr_nonnull(json);
        EVP_PKEY *back = jwk(json);
        ck_assert_int_eq(EVP_PKEY_eq(k, back), 1);
        char t1[JOSE_THUMBPRINT_LEN], t2[JOSE_THUMBPRINT_LEN];
        ck_assert_int_eq(jose_jwk_thumbprint(k, t1), 0);
        ck_assert_int_eq(jose_jwk_thumbprint(back, t2), 0);
        ck_assert_str_eq(t1, t2);
        ck_assert_uint_eq(strlen(t1), 43);
        free(json);
        EVP_PKEY_free(back);
        EVP_PKEY_free(k);
    }
}
END_TEST

START_TEST(test_jwk_rejects)
{
    char err[160];
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    ck_assert_int_eq(jose_alg_for_key(p384), JOSE_ALG_NONE);
    ck_assert_ptr_null(jose_jwk_json(p384));
    char tp[JOSE_THUMBPRINT_LEN];
    ck_assert_int_eq(jose_jwk_thumbprint(p384, tp), -EKEYREJECTED);
    EVP_PKEY_free(p384);
    EVP_PKEY *rsa1k = EVP_RSA_gen(1024);
    ck_assert_int_eq(jose_alg_for_key(rsa1k), JOSE_ALG_NONE);
    EVP_PKEY_free(rsa1k);
    char json[300];
    /* y changed by one bit: not on the curve */
    snprintf(json, sizeof json, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
             rfc7515_x, "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1");
    ck_assert_ptr_null(jose_jwk_to_pkey(json, strlen(json), err, sizeof err));
    snprintf(json, sizeof json, "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"%s\",\"y\":\"%s\"}",
             rfc7515_x, rfc7515_y);
    ck_assert_ptr_null(jose_jwk_to_pkey(json, strlen(json), err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "P-256"));
    const char *bad[] = {"{\"kty\":\"oct\",\"k\":\"AAAA\"}",
                         "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
                         "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
                         "[1,2]",
                         "{",
                         "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(jose_jwk_to_pkey(bad[i], strlen(bad[i]), err, sizeof err) == NULL, "%s",
                      bad[i]);
}
END_TEST

static void round_trip(enum jose_alg alg)
{
    EVP_PKEY *key = tx509_gen_key(alg);
    char err[160] = "";
    const char payload[] = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.test\"}]}";
    const char url[] = "https://127.0.0.1:8443/acme/profile/p/new-account";
    char *body =
        jose_jws_sign(key, NULL, "nonce-1", url, payload, strlen(payload), err, sizeof err);
    ck_assert_msg(body != NULL, "%s", err);
    struct jose_jws j;
    ck_assert_int_eq(jose_jws_parse(body, strlen(body), &j, err, sizeof err), 0);
    ck_assert_int_eq(j.alg, alg);
    ck_assert_str_eq(j.nonce, "nonce-1");
    ck_assert_str_eq(j.url, url);
    ck_assert_ptr_null(j.kid);
    ck_assert_ptr_nonnull(j.jwk);
    ck_assert_int_eq(EVP_PKEY_eq(j.jwk, key), 1);
    ck_assert_uint_eq(j.payload_len, strlen(payload));
    ck_assert_str_eq((char *)j.payload, payload);
    if (alg == JOSE_ALG_ES256)
        ck_assert_uint_eq(j.signature_len, 64);
    ck_assert_int_eq(jose_jws_verify(&j, j.jwk), 0);
    jose_jws_clear(&j);
    free(body);

    /* kid form, empty payload (POST-as-GET), no nonce */
    const char kid[] = "https://127.0.0.1:8443/acme/profile/p/account/acme-acc-x";
    body = jose_jws_sign(key, kid, NULL, url, "", 0, err, sizeof err);
    ck_assert_ptr_nonnull(body);
    ck_assert_int_eq(jose_jws_parse(body, strlen(body), &j, err, sizeof err), 0);
    ck_assert_str_eq(j.kid, kid);
    ck_assert_ptr_null(j.jwk);
    ck_assert_ptr_null(j.nonce);
    ck_assert_uint_eq(j.payload_len, 0);
    ck_assert_int_eq(jose_jws_verify(&j, key), 0);
    EVP_PKEY *other = tx509_gen_key(alg);
    ck_assert_int_eq(jose_jws_verify(&j, other), -EBADMSG);
    EVP_PKEY_free(other);
    jose_jws_clear(&j);
    free(body);
    EVP_PKEY_free(key);
}

START_TEST(test_round_trip_es256)
{
    round_trip(JOSE_ALG_ES256);
}
END_TEST

START_TEST(test_round_trip_rs256)
{
    round_trip(JOSE_ALG_RS256);
}
END_TEST

START_TEST(test_round_trip_eddsa)
{
    round_trip(JOSE_ALG_EDDSA);
}
END_TEST

START_TEST(test_tampering_rejected)
{
    enum jose_alg algs[] = {JOSE_ALG_ES256, JOSE_ALG_RS256, JOSE_ALG_EDDSA};
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY *key = tx509_gen_key(algs[i]);
        char err[160];
        char *body = jose_jws_sign(key, NULL, "n1", "https://h/u", "{\"a\":1}", 7, err, sizeof err);
        ck_assert_int_eq(parse_verify(body, NULL), 0);
        /* payload swapped */
        char *pb = jose_b64url_encode("{\"a\":2}", 7);
        char *t = replace_member(body, "payload", pb);
        ck_assert_int_eq(parse_verify(t, NULL), -EBADMSG);
        free(t);
        free(pb);
        /* signature: one bit flipped in the first character */
        const char *sig = strstr(body, "\"signature\":\"") + 13;
        char *sigcopy = strndup(sig, strcspn(sig, "\""));
        sigcopy[0] = sigcopy[0] == 'A' ? 'B' : 'A';
        t = replace_member(body, "signature", sigcopy);
        ck_assert_int_eq(parse_verify(t, NULL), -EBADMSG);
        free(t);
        free(sigcopy);
        /* protected header re-signed by nobody: nonce changed, same jwk and signature */
        char *jwkj = jose_jwk_json(key);
        char hdr[2048];
        snprintf(hdr, sizeof hdr,
                 "{\"alg\":\"%s\",\"jwk\":%s,\"nonce\":\"n2\",\"url\":\"https://h/u\"}",
                 jose_alg_name(algs[i]), jwkj);
        char *hb = jose_b64url_encode(hdr, strlen(hdr));
        t = replace_member(body, "protected", hb);
        ck_assert_int_eq(parse_verify(t, NULL), -EBADMSG);
        free(t);
        free(hb);
        free(jwkj);
        free(body);
        EVP_PKEY_free(key);
    }
}
END_TEST

START_TEST(test_es256_der_rejected)
{
    EVP_PKEY *key = tx509_gen_key(JOSE_ALG_ES256);
    char *jwkj = jose_jwk_json(key);
    char hdr[512];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"jwk\":%s,\"nonce\":\"n\",\"url\":\"u\"}", jwkj);
    char *raw = custom_jws(key, hdr, "{}", false);
    char *der = custom_jws(key, hdr, "{}", true);
    ck_assert_int_eq(parse_verify(raw, NULL), 0);
    ck_assert_int_eq(parse_verify(der, NULL), -EBADMSG);
    free(raw);
    free(der);
    free(jwkj);
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(test_alg_key_mismatch)
{
    EVP_PKEY *ec = tx509_gen_key(JOSE_ALG_ES256);
    EVP_PKEY *ed = tx509_gen_key(JOSE_ALG_EDDSA);
    char *jwkj = jose_jwk_json(ec);
    char hdr[512];
    /* header says EdDSA, jwk is an EC key, signed by an Ed25519 key */
    snprintf(hdr, sizeof hdr, "{\"alg\":\"EdDSA\",\"jwk\":%s,\"nonce\":\"n\",\"url\":\"u\"}", jwkj);
    char *body = custom_jws(ed, hdr, "{}", false);
    ck_assert_int_eq(parse_verify(body, NULL), -EKEYREJECTED);
    ck_assert_int_eq(parse_verify(body, ed), 0); /* verify's key decides, header alg must fit */
    free(body);
    const char *unsupported[] = {"HS256", "none", "ES384", "PS256"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"jwk\":%s,\"nonce\":\"n\",\"url\":\"u\"}",
                 unsupported[i], jwkj);
        body = custom_jws(ec, hdr, "{}", false);
        ck_assert_msg(parse_verify(body, NULL) == -ENOTSUP, "%s", unsupported[i]);
        free(body);
    }
    free(jwkj);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
}
END_TEST

START_TEST(test_parse_rejects)
{
    EVP_PKEY *ec = tx509_gen_key(JOSE_ALG_ES256);
    char *jwkj = jose_jwk_json(ec);
    char hdr[512];
    const char *fmts[] = {
        "{\"alg\":\"ES256\",\"jwk\":%s,\"kid\":\"k\",\"nonce\":\"n\",\"url\":\"u\"}", /* both */
        "{\"alg\":\"ES256\",\"nonce\":\"n\",\"url\":\"u\"%.0s}",                      /* neither */
        "{\"alg\":\"ES256\",\"jwk\":%s,\"nonce\":5,\"url\":\"u\"}",        /* nonce type */
        "{\"alg\":\"ES256\",\"jwk\":%s,\"crit\":[\"b64\"],\"url\":\"u\"}", /* crit */
        "{\"jwk\":%s,\"nonce\":\"n\",\"url\":\"u\"}",                      /* no alg */
        "[%s]",                                                            /* not object */
    };
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        snprintf(hdr, sizeof hdr, fmts[i], jwkj);
        char *body = custom_jws(ec, hdr, "{}", false);
        ck_assert_msg(parse_verify(body, NULL) == -EINVAL, "case %zu", i);
        free(body);
    }
    snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"jwk\":%s,\"nonce\":\"n\",\"url\":\"u\"}", jwkj);
    char *good = custom_jws(ec, hdr, "{}", false);
    ck_assert_int_eq(parse_verify(good, NULL), 0);
    char *t;
    ck_assert_int_gt(asprintf(&t, "%s x", good), 0); /* trailing garbage */
    ck_assert_int_eq(parse_verify(t, NULL), -EINVAL);
    free(t);
    ck_assert_int_gt(asprintf(&t, "{\"header\":{},%s", good + 1), 0); /* unprotected header */
    ck_assert_int_eq(parse_verify(t, NULL), -EINVAL);
    free(t);
    t = replace_member(good, "payload", "e30=");
    ck_assert_int_eq(parse_verify(t, NULL), -EINVAL);
    free(t);
    t = replace_member(good, "signature", "");
    ck_assert_int_eq(parse_verify(t, NULL), -EINVAL);
    free(t);
    /* jwk that is not a usable key */
    snprintf(
        hdr, sizeof hdr,
        "{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"},"
        "\"nonce\":\"n\",\"url\":\"u\"}");
    t = custom_jws(ec, hdr, "{}", false);
    ck_assert_int_eq(parse_verify(t, NULL), -EKEYREJECTED);
    free(t);
    ck_assert_int_eq(parse_verify("not json", NULL), -EINVAL);
    ck_assert_int_eq(parse_verify("{}", NULL), -EINVAL);
    free(good);
    free(jwkj);
    EVP_PKEY_free(ec);
}
END_TEST

START_TEST(test_sign_rejects_bad_key)
{
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    char err[160] = "";
    ck_assert_ptr_null(jose_jws_sign(p384, NULL, "n", "u", "", 0, err, sizeof err));
    ck_assert_int_gt(strlen(err), 0);
    EVP_PKEY_free(p384);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jose");
    TCase *tc = testenv_tcase(s, "jose", 30);
    tcase_add_test(tc, test_b64url_known_answers);
    tcase_add_test(tc, test_b64url_rejects);
    tcase_add_test(tc, test_b64url_round_trip);
    tcase_add_test(tc, test_thumbprint_rfc7638);
    tcase_add_test(tc, test_thumbprint_rfc8037);
    tcase_add_test(tc, test_kat_verify);
    tcase_add_test(tc, test_jwk_round_trip);
    tcase_add_test(tc, test_jwk_rejects);
    tcase_add_test(tc, test_round_trip_es256);
    tcase_add_test(tc, test_round_trip_rs256);
    tcase_add_test(tc, test_round_trip_eddsa);
    tcase_add_test(tc, test_tampering_rejected);
    tcase_add_test(tc, test_es256_der_rejected);
    tcase_add_test(tc, test_alg_key_mismatch);
    tcase_add_test(tc, test_parse_rejects);
    tcase_add_test(tc, test_sign_rejects_bad_key);
    return testenv_run(s);
}
