/* sim/csr.c - P-256 keys, hand-built PKCS#10 CSRs and the certificate/key check (see csr.h).
 * The DER writer below reserves nothing: each constructed value is closed by inserting its
 * length in front of the content once the content is known. */
#include "sim/csr.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Longest CN or SAN accepted, bytes. */
#define CSR_NAME_MAX_BYTES 65536u
/* Bytes of base64 per PEM line. */
#define PEM_LINE_CHARS 64

/* DER tags used here. */
enum {
    TAG_INTEGER = 0x02,
    TAG_BIT_STRING = 0x03,
    TAG_OCTET_STRING = 0x04,
    TAG_OID = 0x06,
    TAG_UTF8_STRING = 0x0c,
    TAG_SEQUENCE = 0x30,
    TAG_SET = 0x31,
    TAG_CONTEXT_0 = 0xa0, /* [0] IMPLICIT, constructed: CSR attributes */
    TAG_GN_RFC822 = 0x81, /* GeneralName rfc822Name [1] IMPLICIT IA5String */
    TAG_GN_DNS = 0x82,    /* GeneralName dNSName [2] IMPLICIT IA5String */
};

/* INTEGER 0: the CSR version. */
static const uint8_t der_version0[] = {TAG_INTEGER, 0x01, 0x00};
/* OID 2.5.4.3 commonName. */
static const uint8_t der_oid_cn[] = {TAG_OID, 0x03, 0x55, 0x04, 0x03};
/* SubjectPublicKeyInfo up to the uncompressed point: id-ecPublicKey, prime256v1, BIT STRING. */
static const uint8_t der_spki_p256_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                               0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                               0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
/* OID 1.2.840.113549.1.9.14 extensionRequest. */
static const uint8_t der_oid_ext_req[] = {TAG_OID, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                          0xf7,    0x0d, 0x01, 0x09, 0x0e};
/* OID 2.5.29.17 subjectAltName. */
static const uint8_t der_oid_san[] = {TAG_OID, 0x03, 0x55, 0x1d, 0x11};
/* AlgorithmIdentifier ecdsa-with-SHA256 (no parameters). */
static const uint8_t der_alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                               0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};

struct csr_gen {
    EVP_PKEY_CTX *keygen;
    EVP_MD *sha256;
    EVP_MD_CTX *md;
};

/* A growable DER output buffer; oom latches the first allocation failure. */
struct der {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void der_reserve(struct der *d, size_t extra)
{
    if (d->oom || d->len + extra <= d->cap)
        return;
    size_t cap = d->cap ? d->cap : 512;
    while (cap < d->len + extra)
        cap *= 2;
    uint8_t *p = realloc(d->p, cap);
    if (!p) {
        d->oom = true;
        return;
    }
    d->p = p;
    d->cap = cap;
}

static void der_put(struct der *d, const void *src, size_t n)
{
    der_reserve(d, n);
    if (d->oom)
        return;
    memcpy(d->p + d->len, src, n);
    d->len += n;
}

/* Writes tag and returns where the content starts (close it with der_close). */
static size_t der_open(struct der *d, uint8_t tag)
{
    der_put(d, &tag, 1);
    return d->len;
}

/* Inserts the DER length of everything written since der_open returned start. */
static void der_close(struct der *d, size_t start)
{
    if (d->oom)
        return;
    size_t content = d->len - start;
    uint8_t hdr[5];
    size_t hl = 0;
    if (content < 0x80) {
        hdr[hl++] = (uint8_t)content;
    } else {
        size_t bytes = 0;
        for (size_t v = content; v; v >>= 8)
            bytes++;
        hdr[hl++] = (uint8_t)(0x80 | bytes);
        for (size_t i = bytes; i > 0; i--)
            hdr[hl++] = (uint8_t)(content >> (8 * (i - 1)));
    }
    der_reserve(d, hl);
    if (d->oom)
        return;
    memmove(d->p + start + hl, d->p + start, content);
    memcpy(d->p + start, hdr, hl);
    d->len += hl;
}

/* Writes a primitive value tag || length || bytes. */
static void der_prim(struct der *d, uint8_t tag, const void *src, size_t n)
{
    size_t s = der_open(d, tag);
    der_put(d, src, n);
    der_close(d, s);
}

struct csr_gen *csr_gen_new(void)
{
    struct csr_gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->keygen = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    g->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    g->md = EVP_MD_CTX_new();
    if (!g->keygen || !g->sha256 || !g->md || EVP_PKEY_keygen_init(g->keygen) <= 0 ||
        EVP_PKEY_CTX_set_group_name(g->keygen, "P-256") <= 0) {
        csr_gen_free(g);
        return NULL;
    }
    return g;
}

void csr_gen_free(struct csr_gen *g)
{
    if (!g)
        return;
    EVP_PKEY_CTX_free(g->keygen);
    EVP_MD_free(g->sha256);
    EVP_MD_CTX_free(g->md);
    free(g);
}

/* Copies the private scalar and the uncompressed public point of pkey into key. */
static int export_key(EVP_PKEY *pkey, struct csr_key *key)
{
    size_t pub_len = 0;
    BIGNUM *priv = NULL;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, key->pub, sizeof key->pub,
                                        &pub_len) != 1 ||
        pub_len != CSR_PUB_LEN || key->pub[0] != 0x04)
        return -EIO;
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1)
        return -EIO;
    int ok = BN_bn2binpad(priv, key->priv, CSR_PRIV_LEN) == CSR_PRIV_LEN;
    BN_clear_free(priv);
    return ok ? 0 : -EIO;
}

/* Writes the Subject Name: CN only, or an empty Name. */
static void put_subject(struct der *d, const char *cn)
{
    size_t name = der_open(d, TAG_SEQUENCE);
    if (cn && *cn) {
        size_t rdn = der_open(d, TAG_SET);
        size_t atv = der_open(d, TAG_SEQUENCE);
        der_put(d, der_oid_cn, sizeof der_oid_cn);
        der_prim(d, TAG_UTF8_STRING, cn, strlen(cn));
        der_close(d, atv);
        der_close(d, rdn);
    }
    der_close(d, name);
}

/* Writes the [0] attributes: an extensionRequest with subjectAltName when there are SANs. */
static void put_attributes(struct der *d, const char *const *sans, size_t n_sans)
{
    size_t attrs = der_open(d, TAG_CONTEXT_0);
    if (n_sans > 0) {
        size_t attr = der_open(d, TAG_SEQUENCE);
        der_put(d, der_oid_ext_req, sizeof der_oid_ext_req);
        size_t values = der_open(d, TAG_SET);
        size_t exts = der_open(d, TAG_SEQUENCE);
        size_t ext = der_open(d, TAG_SEQUENCE);
        der_put(d, der_oid_san, sizeof der_oid_san);
        size_t wrap = der_open(d, TAG_OCTET_STRING);
        size_t names = der_open(d, TAG_SEQUENCE);
        for (size_t i = 0; i < n_sans; i++) {
            uint8_t tag = strchr(sans[i], '@') ? TAG_GN_RFC822 : TAG_GN_DNS;
            der_prim(d, tag, sans[i], strlen(sans[i]));
        }
        der_close(d, names);
        der_close(d, wrap);
        der_close(d, ext);
        der_close(d, exts);
        der_close(d, values);
        der_close(d, attr);
    }
    der_close(d, attrs);
}

/* Builds the CertificationRequestInfo for the public point pub. */
static void put_request_info(struct der *d, const char *cn, const char *const *sans, size_t n_sans,
                             const uint8_t *pub)
{
    size_t info = der_open(d, TAG_SEQUENCE);
    der_put(d, der_version0, sizeof der_version0);
    put_subject(d, cn);
    der_put(d, der_spki_p256_prefix, sizeof der_spki_p256_prefix);
    der_put(d, pub, CSR_PUB_LEN);
    put_attributes(d, sans, n_sans);
    der_close(d, info);
}

/* PEM-armours der (len bytes) as a CERTIFICATE REQUEST. Returns a malloc'd string or NULL. */
static char *pem_armour(const uint8_t *der, size_t len, size_t *out_len)
{
    static const char head[] = "-----BEGIN CERTIFICATE REQUEST-----\n";
    static const char tail[] = "-----END CERTIFICATE REQUEST-----\n";
    size_t b64_len = 4 * ((len + 2) / 3);
    unsigned char *b64 = malloc(b64_len + 1);
    size_t lines = (b64_len + PEM_LINE_CHARS - 1) / PEM_LINE_CHARS;
    char *out = malloc(sizeof head + b64_len + lines + sizeof tail);
    if (!b64 || !out) {
        free(b64);
        free(out);
        return NULL;
    }
    EVP_EncodeBlock(b64, der, (int)len);
    size_t o = 0;
    memcpy(out, head, sizeof head - 1);
    o += sizeof head - 1;
    for (size_t i = 0; i < b64_len; i += PEM_LINE_CHARS) {
        size_t n = b64_len - i < PEM_LINE_CHARS ? b64_len - i : PEM_LINE_CHARS;
        memcpy(out + o, b64 + i, n);
        o += n;
        out[o++] = '\n';
    }
    memcpy(out + o, tail, sizeof tail);
    o += sizeof tail - 1;
    free(b64);
    if (out_len)
        *out_len = o;
    return out;
}

/* Signs info with pkey and wraps it into the CertificationRequest DER in *out. */
static int sign_request(struct csr_gen *g, EVP_PKEY *pkey, const struct der *info, struct der *out)
{
    uint8_t sig[80]; /* a DER ECDSA P-256 signature is at most 72 bytes */
    size_t sig_len = sizeof sig;
    EVP_MD_CTX_reset(g->md);
    if (EVP_DigestSignInit(g->md, NULL, g->sha256, NULL, pkey) != 1 ||
        EVP_DigestSign(g->md, sig, &sig_len, info->p, info->len) != 1)
        return -EIO;
    size_t req = der_open(out, TAG_SEQUENCE);
    der_put(out, info->p, info->len);
    der_put(out, der_alg_ecdsa_sha256, sizeof der_alg_ecdsa_sha256);
    size_t bits = der_open(out, TAG_BIT_STRING);
    der_put(out, "", 1); /* no unused bits */
    der_put(out, sig, sig_len);
    der_close(out, bits);
    der_close(out, req);
    return out->oom ? -ENOMEM : 0;
}

static bool names_ok(const char *cn, const char *const *sans, size_t n_sans)
{
    if (cn && strlen(cn) > CSR_NAME_MAX_BYTES)
        return false;
    if (n_sans > 0 && !sans)
        return false;
    for (size_t i = 0; i < n_sans; i++)
        if (!sans[i] || strlen(sans[i]) > CSR_NAME_MAX_BYTES)
            return false;
    return true;
}

int csr_generate(struct csr_gen *g, const char *cn, const char *const *sans, size_t n_sans,
                 struct csr_key *key_out, char **pem_out, size_t *pem_len_out)
{
    if (!g || !key_out || !pem_out || !names_ok(cn, sans, n_sans))
        return -EINVAL;
    EVP_PKEY *pkey = NULL;
    if (EVP_PKEY_generate(g->keygen, &pkey) != 1)
        return -EIO;
    struct der info = {0}, req = {0};
    int rc = export_key(pkey, key_out);
    if (rc == 0) {
        put_request_info(&info, cn, sans, n_sans, key_out->pub);
        rc = info.oom ? -ENOMEM : sign_request(g, pkey, &info, &req);
    }
    if (rc == 0) {
        *pem_out = pem_armour(req.p, req.len, pem_len_out);
        rc = *pem_out ? 0 : -ENOMEM;
    }
    if (rc != 0)
        csr_key_wipe(key_out);
    EVP_PKEY_free(pkey);
    free(info.p);
    free(req.p);
    return rc;
}

/* Compares two encoded P-256 points that may differ in form (compressed/uncompressed). */
static int points_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pa = group ? EC_POINT_new(group) : NULL;
    EC_POINT *pb = group ? EC_POINT_new(group) : NULL;
    int eq = 0;
    if (pa && pb && EC_POINT_oct2point(group, pa, a, a_len, NULL) == 1 &&
        EC_POINT_oct2point(group, pb, b, b_len, NULL) == 1)
        eq = EC_POINT_cmp(group, pa, pb, NULL) == 0;
    EC_POINT_free(pa);
    EC_POINT_free(pb);
    EC_GROUP_free(group);
    return eq;
}

/* The first certificate of a PEM chain, or NULL. */
static X509 *first_cert(const char *pem, size_t pem_len)
{
    if (!pem || pem_len == 0 || pem_len > INT32_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return cert;
}

int csr_cert_fingerprint(const char *pem, size_t pem_len, char hex[CSR_FINGERPRINT_HEX + 1])
{
    X509 *cert = first_cert(pem, pem_len);
    if (!cert)
        return -EBADMSG;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int ok = X509_digest(cert, EVP_sha256(), md, &md_len) == 1 && md_len * 2 == CSR_FINGERPRINT_HEX;
    X509_free(cert);
    if (!ok)
        return -EBADMSG;
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < md_len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[CSR_FINGERPRINT_HEX] = '\0';
    return 0;
}

int csr_cert_matches_key(const char *pem, size_t pem_len, const struct csr_key *key)
{
    X509 *cert = key ? first_cert(pem, pem_len) : NULL;
    if (!cert)
        return -EBADMSG;
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    uint8_t point[CSR_PUB_LEN + 8];
    size_t point_len = 0;
    char group[32] = "";
    int rc = 0;
    if (pub && EVP_PKEY_is_a(pub, "EC") &&
        EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       NULL) == 1 &&
        strcmp(group, "prime256v1") == 0 &&
        EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                        &point_len) == 1) {
        if (point_len == CSR_PUB_LEN)
            rc = memcmp(point, key->pub, CSR_PUB_LEN) == 0;
        else
            rc = points_equal(point, point_len, key->pub, CSR_PUB_LEN);
    }
    X509_free(cert);
    return rc;
}

void csr_key_wipe(struct csr_key *key)
{
    OPENSSL_cleanse(key, sizeof *key);
}
