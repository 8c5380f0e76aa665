/* tests/unit/check_csr.c - sim/csr: the hand-built CSR parses with OpenSSL, its signature
 * verifies with its own key, it carries the CN and the SANs (DNS and e-mail), a certificate
 * issued for it matches its key and not another key, and generation is fast enough to pace. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sim/csr.h"
#include "tests/lib/testenv.h"

static X509_REQ *parse_req(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_REQ *req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return req;
}

START_TEST(test_csr_parses_and_verifies)
{
    struct csr_gen *g = csr_gen_new();
    ck_assert_ptr_nonnull(g);
    const char *sans[] = {"a.example.test", "ops@example.test", "b.example.test"};
    struct csr_key key;
    char *pem = NULL;
    size_t len = 0;
    ck_assert_int_eq(csr_generate(g, "a.example.test", sans, 3, &key, &pem, &len), 0);
    ck_assert_uint_eq(strlen(pem), len);
    ck_assert(strncmp(pem, "-----BEGIN CERTIFICATE REQUEST-----\n", 36) == 0);
    X509_REQ *req = parse_req(pem, len);
    ck_assert_ptr_nonnull(req);
    EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
    ck_assert_ptr_nonnull(pub);
    ck_assert_int_eq(X509_REQ_verify(req, pub), 1);
    ck_assert_int_eq(EVP_PKEY_get_bits(pub), 256);

    char cn[128];
    ck_assert_int_gt(
        X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn),
        0);
    ck_assert_str_eq(cn, "a.example.test");

    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    ck_assert_ptr_nonnull(exts);
    GENERAL_NAMES *names = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
    ck_assert_ptr_nonnull(names);
    ck_assert_int_eq(sk_GENERAL_NAME_num(names), 3);
    int type;
    ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, 0), &type);
    ck_assert_int_eq(type, GEN_DNS);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(v), "a.example.test");
    v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, 1), &type);
    ck_assert_int_eq(type, GEN_EMAIL);
    ck_assert_str_eq((const char *)ASN1_STRING_get0_data(v), "ops@example.test");
    GENERAL_NAMES_free(names);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    free(pem);
    csr_gen_free(g);
}
END_TEST

START_TEST(test_csr_cn_only_and_long_names)
{
    struct csr_gen *g = csr_gen_new();
    struct csr_key key;
    char *pem = NULL;
    size_t len = 0;
    ck_assert_int_eq(csr_generate(g, "only.example.test", NULL, 0, &key, &pem, &len), 0);
    X509_REQ *req = parse_req(pem, len);
    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
    STACK_OF(X509_EXTENSION) *none = X509_REQ_get_extensions(req);
    ck_assert_int_le(none ? sk_X509_EXTENSION_num(none) : 0, 0);
    sk_X509_EXTENSION_pop_free(none, X509_EXTENSION_free);
    X509_REQ_free(req);
    free(pem);

    /* a SAN list long enough to need multi-byte DER lengths */
    enum { N = 40 };
    char buf[N][80];
    const char *sans[N];
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "host-%02d.a-rather-long-subdomain.example.test", i);
        sans[i] = buf[i];
    }
    ck_assert_int_eq(csr_generate(g, "x.example.test", sans, N, &key, &pem, &len), 0);
    req = parse_req(pem, len);
    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *names = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
    ck_assert_int_eq(sk_GENERAL_NAME_num(names), N);
    GENERAL_NAMES_free(names);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    free(pem);
    ck_assert_int_eq(csr_generate(g, "x", NULL, 2, &key, &pem, &len), -EINVAL);
    csr_gen_free(g);
}
END_TEST

/* Issues a self-signed certificate for the CSR's key (as a CA would), returns its PEM. */
static char *issue_for(X509_REQ *req, EVP_PKEY *signer)
{
    X509 *cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_set_subject_name(cert, X509_REQ_get_subject_name(req));
    X509_set_issuer_name(cert, X509_REQ_get_subject_name(req));
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, X509_REQ_get0_pubkey(req));
    X509_sign(cert, signer, EVP_sha256());
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    X509_free(cert);
    return out;
}

START_TEST(test_cert_matches_key)
{
    struct csr_gen *g = csr_gen_new();
    struct csr_key key, other;
    char *pem, *pem2;
    size_t len, len2;
    ck_assert_int_eq(csr_generate(g, "m.example.test", NULL, 0, &key, &pem, &len), 0);
    ck_assert_int_eq(csr_generate(g, "n.example.test", NULL, 0, &other, &pem2, &len2), 0);
    ck_assert(memcmp(key.pub, other.pub, CSR_PUB_LEN) != 0);
    ck_assert(memcmp(key.priv, other.priv, CSR_PRIV_LEN) != 0);
    X509_REQ *req = parse_req(pem, len);
    EVP_PKEY *ca = EVP_EC_gen("P-256");
    char *cert = issue_for(req, ca);
    /* a chain: leaf then another certificate */
    size_t cert_len = strlen(cert);
    ck_assert_int_eq(csr_cert_matches_key(cert, cert_len, &key), 1);
    ck_assert_int_eq(csr_cert_matches_key(cert, cert_len, &other), 0);
    ck_assert_int_eq(csr_cert_matches_key("garbage", 7, &key), -EBADMSG);
    ck_assert_int_eq(csr_cert_matches_key(pem, len, &key), -EBADMSG); /* a CSR is no cert */
    csr_key_wipe(&key);
    static const struct csr_key zero;
    ck_assert(memcmp(&key, &zero, sizeof key) == 0);
    free(cert);
    EVP_PKEY_free(ca);
    X509_REQ_free(req);
    free(pem);
    free(pem2);
    csr_gen_free(g);
}
END_TEST

START_TEST(test_speed)
{
    struct csr_gen *g = csr_gen_new();
    const char *sans[] = {"s.example.test"};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    const int n = 200;
    for (int i = 0; i < n; i++) {
        struct csr_key key;
        char *pem;
        ck_assert_int_eq(csr_generate(g, "s.example.test", sans, 1, &key, &pem, NULL), 0);
        free(pem);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / n;
    /* ~66 us measured (docs/fleet.md, "Work: CSR and deployment"); X509_REQ's path costs ~240
     * us. Sanitizers slow it down. */
    ck_assert_msg(us < (getenv("FLEETSIM_SANITIZED") ? 2000.0 : 400.0), "%.0f us per CSR", us);
    csr_gen_free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csr");
    TCase *tc = testenv_tcase(s, "core", 30);
    tcase_add_test(tc, test_csr_parses_and_verifies);
    tcase_add_test(tc, test_csr_cn_only_and_long_names);
    tcase_add_test(tc, test_cert_matches_key);
    tcase_add_test(tc, test_speed);
    return testenv_run(s);
}
