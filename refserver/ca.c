/* refserver/ca.c - the target's in-memory P-256 certificate authority: self-signed root, server
 * certificates with DNS/IP SANs, CSR signing after signature verification, PEM output. */
#include "refserver/ca.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define CA_SERIAL_BYTES 16
#define CA_BACKDATE_S (5 * 60)
#define SECONDS_PER_DAY (24L * 60 * 60)
#define CA_MAX_NAMES 100
#define CA_MAX_NAME_LEN 253

struct target_ca {
    EVP_PKEY *key;
    X509 *cert;
};

static void set_err(char *err, size_t errlen, const char *what)
{
    if (!err || errlen == 0)
        return;
    unsigned long e = ERR_get_error();
    if (e) {
        char buf[160];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err, errlen, "%s: %s", what, buf);
    } else {
        snprintf(err, errlen, "%s", what);
    }
    ERR_clear_error();
}

/* A positive random serial of CA_SERIAL_BYTES bytes (top bit cleared, never zero). */
static int set_random_serial(X509 *x)
{
    unsigned char raw[CA_SERIAL_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return -EIO;
    raw[0] &= 0x7f;
    raw[0] |= 0x01; /* never zero, fixed length */
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    if (!bn)
        return -EIO;
    ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    return ai ? 0 : -EIO;
}

static int add_ext(X509 *issuer, X509 *subject, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, subject, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -EIO;
    int ok = X509_add_ext(subject, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -EIO;
}

static int set_validity(X509 *x, uint32_t days)
{
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -CA_BACKDATE_S))
        return -EIO;
    if (!X509_gmtime_adj(X509_getm_notAfter(x), (long)days * SECONDS_PER_DAY))
        return -EIO;
    return 0;
}

static int set_cn(X509_NAME *name, const char *cn)
{
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                      0) == 1
               ? 0
               : -EIO;
}

static EVP_PKEY *gen_p256(void)
{
    return EVP_EC_gen("P-256");
}

struct target_ca *ca_new(const char *cn, char *err, size_t errlen)
{
    if (!cn || !*cn || strlen(cn) > 64) {
        set_err(err, errlen, "ca_new: CN must be 1..64 characters");
        return NULL;
    }
    struct target_ca *ca = calloc(1, sizeof *ca);
    if (!ca) {
        set_err(err, errlen, "ca_new: out of memory");
        return NULL;
    }
    ca->key = gen_p256();
    ca->cert = X509_new();
    if (!ca->key || !ca->cert)
        goto fail;
    X509 *x = ca->cert;
    if (X509_set_version(x, 2) != 1 || set_random_serial(x) ||
        set_validity(x, CA_ROOT_VALIDITY_DAYS))
        goto fail;
    if (set_cn(X509_get_subject_name(x), cn) ||
        X509_set_issuer_name(x, X509_get_subject_name(x)) != 1)
        goto fail;
    if (X509_set_pubkey(x, ca->key) != 1)
        goto fail;
    if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
        add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
        add_ext(x, x, NID_subject_key_identifier, "hash") ||
        add_ext(x, x, NID_authority_key_identifier, "keyid:always"))
        goto fail;
    if (X509_sign(x, ca->key, EVP_sha256()) <= 0)
        goto fail;
    return ca;
fail:
    set_err(err, errlen, "ca_new: cannot create the CA certificate");
    ca_free(ca);
    return NULL;
}

struct target_ca *ca_load_pem(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    struct target_ca *ca = calloc(1, sizeof *ca);
    if (!ca) {
        set_err(err, errlen, "ca_load_pem: out of memory");
        return NULL;
    }
    FILE *f = fopen(cert_path, "r");
    if (!f) {
        snprintf(err, errlen, "ca_load_pem: cannot open %s: %s", cert_path, strerror(errno));
        free(ca);
        return NULL;
    }
    ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!ca->cert) {
        set_err(err, errlen, "ca_load_pem: no PEM certificate in the CA file");
        goto fail;
    }
    f = fopen(key_path, "r");
    if (!f) {
        snprintf(err, errlen, "ca_load_pem: cannot open %s: %s", key_path, strerror(errno));
        goto fail;
    }
    ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!ca->key) {
        set_err(err, errlen, "ca_load_pem: no PEM private key in the key file");
        goto fail;
    }
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        set_err(err, errlen, "ca_load_pem: the key does not match the CA certificate");
        goto fail;
    }
    return ca;
fail:
    ca_free(ca);
    return NULL;
}

/* True when every name is non-empty, short enough and free of config-syntax characters. */
static bool names_ok(const char *const *names, size_t n)
{
    if (!names || n == 0 || n > CA_MAX_NAMES)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !*names[i] || strlen(names[i]) > CA_MAX_NAME_LEN ||
            memchr(names[i], '\n', strlen(names[i])))
            return false;
    }
    return true;
}

/* Adds a subjectAltName extension with a DNS or IP entry per name. */
static int add_san(X509 *x, const char *const *names, size_t n)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    if (!gens)
        return -EIO;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char ip[16];
        int iplen = inet_pton(AF_INET, names[i], ip) == 1    ? 4
                    : inet_pton(AF_INET6, names[i], ip) == 1 ? 16
                                                             : 0;
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_STRING *v = iplen ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
        bool ok = g && v &&
                  (iplen ? ASN1_OCTET_STRING_set(v, ip, iplen)
                         : ASN1_STRING_set(v, names[i], (int)strlen(names[i]))) == 1;
        if (ok) {
            GENERAL_NAME_set0_value(g, iplen ? GEN_IPADD : GEN_DNS, v);
            v = NULL;
            ok = sk_GENERAL_NAME_push(gens, g) > 0;
            if (ok)
                g = NULL;
        }
        ASN1_STRING_free(v);
        GENERAL_NAME_free(g);
        if (!ok)
            rc = -EIO;
    }
    if (rc == 0 && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
        rc = -EIO;
    GENERAL_NAMES_free(gens);
    return rc;
}

/* Fills a fresh leaf certificate issued by ca for pub, with names as SANs and CN. */
static X509 *build_leaf(struct target_ca *ca, EVP_PKEY *pub, const char *const *names, size_t n,
                        uint32_t days, const char *eku)
{
    X509 *x = X509_new();
    if (!x)
        goto fail;
    if (X509_set_version(x, 2) != 1 || set_random_serial(x) || set_validity(x, days))
        goto fail;
    size_t cnlen = strlen(names[0]);
    if (cnlen <= 64 && set_cn(X509_get_subject_name(x), names[0]))
        goto fail;
    if (X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
        X509_set_pubkey(x, pub) != 1)
        goto fail;
    if (add_ext(ca->cert, x, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(ca->cert, x, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
        add_ext(ca->cert, x, NID_ext_key_usage, eku) ||
        add_ext(ca->cert, x, NID_subject_key_identifier, "hash") ||
        add_ext(ca->cert, x, NID_authority_key_identifier, "keyid:always") || add_san(x, names, n))
        goto fail;
    if (X509_sign(x, ca->key, EVP_sha256()) <= 0)
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

int ca_issue_server_cert(struct target_ca *ca, const char *const *names, size_t n,
                         EVP_PKEY **key_out, X509 **cert_out)
{
    if (!ca || !names_ok(names, n) || !key_out || !cert_out)
        return -EINVAL;
    EVP_PKEY *key = gen_p256();
    if (!key)
        return -EIO;
    X509 *x = build_leaf(ca, key, names, n, CA_SERVER_VALIDITY_DAYS, "serverAuth");
    if (!x) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        return -EIO;
    }
    *key_out = key;
    *cert_out = x;
    return 0;
}

/* Collects CN + SAN DNS names of a CSR into a malloc'd array of malloc'd strings. */
static int csr_names(X509_REQ *req, char ***out, size_t *nout)
{
    char **v = calloc(CA_MAX_NAMES, sizeof *v);
    size_t n = 0;
    if (!v)
        return -ENOMEM;
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *gens = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && n < CA_MAX_NAMES; i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
        int len = ASN1_STRING_length(g->d.dNSName);
        if (len <= 0 || len > CA_MAX_NAME_LEN || memchr(d, 0, (size_t)len))
            continue;
        v[n++] = strndup((const char *)d, (size_t)len);
    }
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (n == 0) {
        char cn[CA_MAX_NAME_LEN + 1];
        int len = X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn,
                                            sizeof cn);
        if (len > 0 && (size_t)len == strlen(cn))
            v[n++] = strdup(cn);
    }
    for (size_t i = 0; i < n; i++) {
        if (!v[i]) {
            for (size_t j = 0; j < n; j++)
                free(v[j]);
            free(v);
            return -ENOMEM;
        }
    }
    *out = v;
    *nout = n;
    return 0;
}

static char *pem_of(X509 *const *certs, size_t n)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (PEM_write_bio_X509(b, certs[i]) != 1) {
            BIO_free(b);
            return NULL;
        }
    }
    char *data;
    long len = BIO_get_mem_data(b, &data);
    char *s = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (s) {
        memcpy(s, data, (size_t)len);
        s[len] = '\0';
    }
    BIO_free(b);
    return s;
}

int ca_serial_hex_from_bn(const BIGNUM *bn, char out[CA_SERIAL_HEX_LEN])
{
    char *h = bn ? BN_bn2hex(bn) : NULL;
    if (!h)
        return -EINVAL;
    const char *p = h;
    while (p[0] == '0' && p[1]) /* BN_bn2hex pads to whole bytes */
        p++;
    int rc = strlen(p) < CA_SERIAL_HEX_LEN && p[0] != '-' ? 0 : -ERANGE;
    size_t i = 0;
    for (; rc == 0 && p[i]; i++)
        out[i] = (char)((p[i] >= 'A' && p[i] <= 'F') ? p[i] - 'A' + 'a' : p[i]);
    out[i] = '\0';
    OPENSSL_free(h);
    return rc;
}

static void serial_hex(X509 *x, char *out)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (ca_serial_hex_from_bn(bn, out) != 0)
        out[0] = '\0';
    BN_free(bn);
}

int ca_sign_csr(struct target_ca *ca, X509_REQ *req, const char *const *dns_names, size_t n,
                uint32_t validity_days, char **pem_chain_out, char *serial_hex_out)
{
    if (!ca || !req || !pem_chain_out || !serial_hex_out || validity_days == 0 ||
        validity_days > CA_MAX_VALIDITY_DAYS || (dns_names && (n == 0 || n > CA_MAX_NAMES)))
        return -EINVAL;
    EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
    if (!pub || X509_REQ_verify(req, pub) != 1) {
        ERR_clear_error();
        return -EBADMSG;
    }
    char **own = NULL;
    size_t nown = 0;
    if (!dns_names) {
        int rc = csr_names(req, &own, &nown);
        if (rc)
            return rc;
        if (nown == 0) {
            free(own);
            return -EINVAL;
        }
        dns_names = (const char *const *)own;
        n = nown;
    }
    int rc = 0;
    X509 *x = NULL;
    if (!names_ok(dns_names, n))
        rc = -EINVAL;
    else if (!(x = build_leaf(ca, pub, dns_names, n, validity_days, "serverAuth,clientAuth")))
        rc = -EIO;
    if (!x) {
    } else {
        X509 *chain[2] = {x, ca->cert};
        *pem_chain_out = pem_of(chain, 2);
        if (!*pem_chain_out)
            rc = -EIO;
        else
            serial_hex(x, serial_hex_out);
    }
    X509_free(x);
    for (size_t i = 0; i < nown; i++)
        free(own[i]);
    free(own);
    ERR_clear_error();
    return rc;
}

int ca_write_pem(const struct target_ca *ca, const char *path)
{
    if (!ca || !path)
        return -EINVAL;
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    int ok = PEM_write_X509(f, ca->cert);
    if (fclose(f) != 0 || ok != 1)
        return -EIO;
    return 0;
}

int ca_write_key_pem(const struct target_ca *ca, const char *path)
{
    if (!ca || !path)
        return -EINVAL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        return -e;
    }
    int ok = PEM_write_PrivateKey(f, ca->key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || ok != 1)
        return -EIO;
    return 0;
}

X509 *ca_cert(const struct target_ca *ca)
{
    return ca ? ca->cert : NULL;
}

char *ca_cert_pem(const struct target_ca *ca)
{
    if (!ca)
        return NULL;
    X509 *c = ca->cert;
    return pem_of(&c, 1);
}

void ca_free(struct target_ca *ca)
{
    if (!ca)
        return;
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    free(ca);
}
