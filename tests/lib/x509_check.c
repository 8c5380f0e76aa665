/* tests/lib/x509_check.c - certificate checks the ACME tests share (see x509_check.h). */
#include "tests/lib/x509_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
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
