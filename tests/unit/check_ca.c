/* tests/unit/check_ca.c - unit tests of refserver/ca: the self-signed P-256 CA, server certificates
 * with DNS/IP SANs, CSR signing (verified, names copied or overridden), PEM files. */
#include "refserver/ca.h"
#include "tests/lib/testenv.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static struct target_ca *new_ca(void)
{
    char err[256] = "";
    struct target_ca *ca = ca_new("fleetsim test CA", err, sizeof err);
    ck_assert_msg(ca != NULL, "ca_new: %s", err);
    return ca;
}

/* 1 when leaf verifies up to ca_cert (as a TLS server or client cert), else 0. */
static int verifies(X509 *root, X509 *leaf)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_add_cert(st, root);
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    int ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return ok == 1;
}

static X509_REQ *make_csr(EVP_PKEY *key, const char *cn, const char *san)
{
    X509_REQ *req = X509_REQ_new();
    ck_assert_ptr_nonnull(req);
    if (cn)
        X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0);
    ck_assert_int_eq(X509_REQ_set_pubkey(req, key), 1);
    if (san) {
        STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
        ck_assert_ptr_nonnull(ext);
        sk_X509_EXTENSION_push(exts, ext);
        X509_REQ_add_extensions(req, exts);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    }
    ck_assert_int_gt(X509_REQ_sign(req, key, EVP_sha256()), 0);
    return req;
}

/* Parses a PEM chain into at most max certificates; returns the count. */
static int read_chain(const char *pem, X509 **out, int max)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    int n = 0;
    X509 *x;
    while (n < max && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        out[n++] = x;
    BIO_free(b);
    return n;
}

static int count_dns_sans(X509 *x, const char *want)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int n = 0, found = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS)
            continue;
        n++;
        if (want && strcmp((const char *)ASN1_STRING_get0_data(g->d.dNSName), want) == 0)
            found = 1;
    }
    GENERAL_NAMES_free(gens);
    return want ? found : n;
}

START_TEST(test_ca_self_signed)
{
    struct target_ca *ca = new_ca();
    X509 *c = ca_cert(ca);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(X509_check_ca(c), 1);
    EVP_PKEY *pub = X509_get0_pubkey(c);
    ck_assert(EVP_PKEY_is_a(pub, "EC"));
    ck_assert_int_eq(EVP_PKEY_get_bits(pub), 256);
    ck_assert_int_eq(X509_verify(c, pub), 1);
    ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)), 0);
    char *pem = ca_cert_pem(ca);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN CERTIFICATE-----"));
    free(pem);
    ca_free(ca);
    char err[128];
    ck_assert_ptr_null(ca_new("", err, sizeof err));
    ck_assert_int_gt(strlen(err), 0);
}
END_TEST

START_TEST(test_server_cert)
{
    struct target_ca *ca = new_ca();
    const char *names[] = {"localhost", "127.0.0.1", "::1"};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    ck_assert_int_eq(ca_issue_server_cert(ca, names, 3, &key, &cert), 0);
    ck_assert(verifies(ca_cert(ca), cert));
    ck_assert_int_eq(X509_check_private_key(cert, key), 1);
    ck_assert_int_eq(X509_check_host(cert, "localhost", 0, 0, NULL), 1);
    ck_assert_int_eq(X509_check_host(cert, "other.example", 0, 0, NULL), 0);
    ck_assert_int_eq(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    ck_assert_int_eq(X509_check_ip_asc(cert, "::1", 0), 1);
    ck_assert_int_eq(X509_check_ip_asc(cert, "127.0.0.2", 0), 0);
    ck_assert_int_eq(X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0), 1);
    ck_assert_int_eq(X509_check_ca(cert), 0);
    EVP_PKEY_free(key);
    X509_free(cert);
    ck_assert_int_eq(ca_issue_server_cert(ca, names, 0, &key, &cert), -EINVAL);
    const char *bad[] = {""};
    ck_assert_int_eq(ca_issue_server_cert(ca, bad, 1, &key, &cert), -EINVAL);
    ca_free(ca);
}
END_TEST

START_TEST(test_sign_csr_names_from_csr)
{
    struct target_ca *ca = new_ca();
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_REQ *req = make_csr(key, "a.example.test", "DNS:a.example.test,DNS:b.example.test");
    char *pem = NULL;
    char serial[CA_SERIAL_HEX_LEN];
    ck_assert_int_eq(ca_sign_csr(ca, req, NULL, 0, 90, &pem, serial), 0);
    X509 *chain[3] = {0};
    ck_assert_int_eq(read_chain(pem, chain, 3), 2);
    ck_assert(verifies(ca_cert(ca), chain[0]));
    ck_assert_int_eq(X509_cmp(chain[1], ca_cert(ca)), 0);
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(chain[0]), key), 1);
    ck_assert_int_eq(count_dns_sans(chain[0], NULL), 2);
    ck_assert(count_dns_sans(chain[0], "b.example.test"));
    /* serial_hex matches the certificate's serial */
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(chain[0]), NULL);
    BIGNUM *back = NULL;
    ck_assert_int_eq(BN_hex2bn(&back, serial), (int)strlen(serial));
    ck_assert_int_eq(BN_cmp(bn, back), 0);
    ck_assert(serial[0] != '0');
    for (const char *p = serial; *p; p++)
        ck_assert(!(*p >= 'A' && *p <= 'F'));
    BN_free(back);
    /* validity is 90 days (to the day) */
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(chain[0]), X509_get0_notAfter(chain[0]));
    ck_assert_int_eq(days, 90);
    ck_assert_int_eq(X509_check_purpose(chain[0], X509_PURPOSE_SSL_CLIENT, 0), 1);
    BN_free(bn);
    X509_free(chain[0]);
    X509_free(chain[1]);
    free(pem);
    /* a second certificate gets a different serial */
    char serial2[CA_SERIAL_HEX_LEN];
    ck_assert_int_eq(ca_sign_csr(ca, req, NULL, 0, 1, &pem, serial2), 0);
    ck_assert_str_ne(serial, serial2);
    free(pem);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    ca_free(ca);
}
END_TEST

START_TEST(test_sign_csr_cn_only_and_override)
{
    struct target_ca *ca = new_ca();
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_REQ *req = make_csr(key, "cn-only.example.test", NULL);
    char *pem = NULL;
    char serial[CA_SERIAL_HEX_LEN];
    X509 *chain[2] = {0};
    ck_assert_int_eq(ca_sign_csr(ca, req, NULL, 0, 30, &pem, serial), 0);
    ck_assert_int_eq(read_chain(pem, chain, 2), 2);
    ck_assert(count_dns_sans(chain[0], "cn-only.example.test"));
    ck_assert_int_eq(count_dns_sans(chain[0], NULL), 1);
    X509_free(chain[0]);
    X509_free(chain[1]);
    free(pem);
    const char *names[] = {"x.example.test"};
    ck_assert_int_eq(ca_sign_csr(ca, req, names, 1, 30, &pem, serial), 0);
    ck_assert_int_eq(read_chain(pem, chain, 2), 2);
    ck_assert(count_dns_sans(chain[0], "x.example.test"));
    ck_assert(!count_dns_sans(chain[0], "cn-only.example.test"));
    X509_free(chain[0]);
    X509_free(chain[1]);
    free(pem);
    ck_assert_int_eq(ca_sign_csr(ca, req, NULL, 0, 0, &pem, serial), -EINVAL);
    ck_assert_int_eq(ca_sign_csr(ca, req, NULL, 0, CA_MAX_VALIDITY_DAYS + 1, &pem, serial),
                     -EINVAL);
    X509_REQ_free(req);
    /* no name at all */
    req = make_csr(key, NULL, NULL);
    ck_assert_int_eq(ca_sign_csr(ca, req, NULL, 0, 30, &pem, serial), -EINVAL);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    ca_free(ca);
}
END_TEST

START_TEST(test_sign_csr_bad_signature)
{
    struct target_ca *ca = new_ca();
    EVP_PKEY *key = EVP_EC_gen("P-256");
    EVP_PKEY *other = EVP_EC_gen("P-256");
    X509_REQ *req = make_csr(key, "a.example.test", NULL);
    /* Swap in another public key without re-signing: the self-signature no longer holds. */
    ck_assert_int_eq(X509_REQ_set_pubkey(req, other), 1);
    char *pem = NULL;
    char serial[CA_SERIAL_HEX_LEN];
    ck_assert_int_eq(ca_sign_csr(ca, req, NULL, 0, 30, &pem, serial), -EBADMSG);
    ck_assert_ptr_null(pem);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    ca_free(ca);
}
END_TEST

START_TEST(test_serial_hex_form)
{
    char out[CA_SERIAL_HEX_LEN];
    BIGNUM *bn = NULL;
    BN_hex2bn(&bn, "000AB0");
    ck_assert_int_eq(ca_serial_hex_from_bn(bn, out), 0);
    ck_assert_str_eq(out, "ab0");
    BN_zero(bn);
    ck_assert_int_eq(ca_serial_hex_from_bn(bn, out), 0);
    ck_assert_str_eq(out, "0");
    BN_hex2bn(&bn, "1234567890123456789012345678901234567890FF"); /* 42 digits */
    ck_assert_int_eq(ca_serial_hex_from_bn(bn, out), -ERANGE);
    BN_hex2bn(&bn, "-5");
    ck_assert_int_eq(ca_serial_hex_from_bn(bn, out), -ERANGE);
    ck_assert_int_eq(ca_serial_hex_from_bn(NULL, out), -EINVAL);
    BN_free(bn);
}
END_TEST

START_TEST(test_pem_files_round_trip)
{
    char dir[64];
    testenv_mkdtemp(dir, sizeof dir, "check_ca");
    char certp[128], keyp[128], otherp[128];
    snprintf(certp, sizeof certp, "%s/ca.pem", dir);
    snprintf(keyp, sizeof keyp, "%s/ca.key", dir);
    snprintf(otherp, sizeof otherp, "%s/other.key", dir);
    struct target_ca *ca = new_ca();
    struct target_ca *other = new_ca();
    ck_assert_int_eq(ca_write_pem(ca, certp), 0);
    ck_assert_int_eq(ca_write_key_pem(ca, keyp), 0);
    ck_assert_int_eq(ca_write_key_pem(other, otherp), 0);
    ck_assert_int_eq(access(keyp, R_OK), 0);
    char err[256] = "";
    struct target_ca *loaded = ca_load_pem(certp, keyp, err, sizeof err);
    ck_assert_msg(loaded != NULL, "%s", err);
    ck_assert_int_eq(X509_cmp(ca_cert(loaded), ca_cert(ca)), 0);
    /* a certificate from the loaded CA verifies against the original CA certificate */
    const char *names[] = {"localhost"};
    EVP_PKEY *key;
    X509 *cert;
    ck_assert_int_eq(ca_issue_server_cert(loaded, names, 1, &key, &cert), 0);
    ck_assert(verifies(ca_cert(ca), cert));
    EVP_PKEY_free(key);
    X509_free(cert);
    ck_assert_ptr_null(ca_load_pem(certp, otherp, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "does not match"));
    ck_assert_ptr_null(ca_load_pem("/nonexistent/ca.pem", keyp, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/ca.pem"));
    ck_assert_int_lt(ca_write_pem(ca, "/nonexistent/x.pem"), 0);
    ca_free(loaded);
    ca_free(other);
    ca_free(ca);
    testenv_rmtree(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ca");
    TCase *tc = testenv_tcase(s, "ca", 0);
    tcase_add_test(tc, test_ca_self_signed);
    tcase_add_test(tc, test_server_cert);
    tcase_add_test(tc, test_sign_csr_names_from_csr);
    tcase_add_test(tc, test_sign_csr_cn_only_and_override);
    tcase_add_test(tc, test_sign_csr_bad_signature);
    tcase_add_test(tc, test_serial_hex_form);
    tcase_add_test(tc, test_pem_files_round_trip);
    return testenv_run(s);
}
