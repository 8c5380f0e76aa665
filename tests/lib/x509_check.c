/* tests/lib/x509_check.c - certificate checks the ACME tests share (see x509_check.h). */
#include "tests/lib/x509_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "engine/jose.h"

X509 *tx509_verified_leaf(const char *pem, X509_STORE *store, const char *what, int *n_rest)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    ck_assert_msg(leaf != NULL, "%s does not parse", what);
    STACK_OF(X509) *rest = sk_X509_new_null();
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
        sk_X509_push(rest, x);
    BIO_free(bio);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, leaf, rest), 1);
    ck_assert_msg(X509_verify_cert(ctx) == 1, "%s does not chain: %s", what,
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    if (n_rest)
        *n_rest = sk_X509_num(rest);
    sk_X509_pop_free(rest, X509_free);
    return leaf;
}

void tx509_ari_id(X509 *x, char *out, size_t n)
{
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    ck_assert_ptr_nonnull(aki);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    unsigned char ser[64];
    int sl = BN_bn2bin(bn, ser);
    BN_free(bn);
    char *a = jose_b64url_encode(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki));
    char *s = jose_b64url_encode(ser, (size_t)sl);
    snprintf(out, n, "%s.%s", a, s);
    free(a);
    free(s);
}

char *tx509_csr_b64url(EVP_PKEY *key, const char *const *names, size_t n)
{
    X509_REQ *req = X509_REQ_new();
    ck_assert_ptr_nonnull(req);
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                               (const unsigned char *)names[0], -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    char san[1024] = "";
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(san);
        snprintf(san + l, sizeof san - l, "%sDNS:%s", i ? "," : "", names[i]);
    }
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san));
    X509_REQ_add_extensions(req, exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ck_assert_int_gt(X509_REQ_sign(req, key, EVP_sha256()), 0);
    unsigned char *der = NULL;
    int len = i2d_X509_REQ(req, &der);
    ck_assert_int_gt(len, 0);
    char *s = jose_b64url_encode(der, (size_t)len);
    OPENSSL_free(der);
    X509_REQ_free(req);
    return s;
}

EVP_PKEY *tx509_gen_key(enum jose_alg alg)
{
    switch (alg) {
    case JOSE_ALG_ES256:
        return EVP_EC_gen("P-256");
    case JOSE_ALG_RS256:
        return EVP_RSA_gen(2048);
    default:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
}
