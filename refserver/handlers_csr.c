/* refserver/handlers_csr.c - POST /api/v1/agents/{id}/csr, certctl's CompleteAgentCSRRenewal:
 * the PEM prefix is checked (400 as certctl's handler), then the CSR is parsed, its signature
 * verified and its key checked against the certificate's profile (EC P-256+ / RSA 2048+ by
 * default), the target CA signs it for the certificate's names inside the request, and the store
 * completes the renewal (version, Active, Deployment jobs). Any failure after that is a 500. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "refserver/ca.h"
#include "refserver/store.h"
#include "refserver/server_internal.h"

#define CSR_PEM_PREFIX "-----BEGIN CERTIFICATE REQUEST-----"
/* Validity of certificates signed for agent CSRs, days (lowered by a profile's max TTL). */
#define CSR_VALIDITY_DAYS 90u
#define SECONDS_PER_DAY 86400
#define CSR_MAX_NAMES 101
#define CSR_SIGNED_BODY "{\"status\":\"csr_signed\"}\n"
#define CSR_ACCEPTED_BODY "{\"status\":\"csr_accepted\"}\n"
/* Key sizes accepted when the certificate has no profile. */
#define DEFAULT_MIN_EC_BITS 256
#define DEFAULT_MIN_RSA_BITS 2048

static const char *key_algorithm(const EVP_PKEY *key)
{
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
        return "ECDSA";
    case EVP_PKEY_RSA:
        return "RSA";
    case EVP_PKEY_ED25519:
        return "Ed25519";
    default:
        return NULL;
    }
}

static bool same_algorithm(const char *rule, const char *alg)
{
    if (strcmp(rule, alg) == 0)
        return true;
    return strcmp(alg, "ECDSA") == 0 && (strcmp(rule, "EC") == 0 || strcmp(rule, "ecdsa") == 0);
}

/* Whether key fits the profile's allowed_key_algorithms (profile NULL: the defaults). */
static bool key_allowed(const EVP_PKEY *key, json_object *profile)
{
    const char *alg = key_algorithm(key);
    if (!alg)
        return false;
    int bits = EVP_PKEY_get_bits(key);
    json_object *rules = NULL;
    if (!profile || !json_object_object_get_ex(profile, "allowed_key_algorithms", &rules) ||
        !json_object_is_type(rules, json_type_array) || json_object_array_length(rules) == 0) {
        if (strcmp(alg, "ECDSA") == 0)
            return bits >= DEFAULT_MIN_EC_BITS;
        return strcmp(alg, "RSA") == 0 && bits >= DEFAULT_MIN_RSA_BITS;
    }
    for (size_t i = 0; i < json_object_array_length(rules); i++) {
        json_object *r = json_object_array_get_idx(rules, i), *a = NULL, *m = NULL;
        if (!json_object_object_get_ex(r, "algorithm", &a) ||
            !same_algorithm(json_object_get_string(a), alg))
            continue;
        int min = json_object_object_get_ex(r, "min_size", &m) ? json_object_get_int(m) : 0;
        if (strcmp(alg, "Ed25519") == 0 || bits >= min)
            return true;
    }
    return false;
}

/* The certificate's names: common_name first, then its SANs (duplicates left out). */
static size_t cert_names(json_object *cert, const char **names)
{
    size_t n = 0;
    json_object *cn = NULL, *sans = NULL;
    if (json_object_object_get_ex(cert, "common_name", &cn) && json_object_get_string_len(cn))
        names[n++] = json_object_get_string(cn);
    if (json_object_object_get_ex(cert, "sans", &sans) &&
        json_object_is_type(sans, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(sans) && n < CSR_MAX_NAMES; i++) {
            const char *s = json_object_get_string(json_object_array_get_idx(sans, i));
            bool dup = !s || !*s;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(names[j], s) == 0;
            if (!dup)
                names[n++] = s;
        }
    }
    return n;
}

static uint32_t validity_days(json_object *profile)
{
    json_object *ttl = NULL;
    if (!profile || !json_object_object_get_ex(profile, "max_ttl_seconds", &ttl) ||
        json_object_get_int64(ttl) <= 0)
        return CSR_VALIDITY_DAYS;
    int64_t days = json_object_get_int64(ttl) / SECONDS_PER_DAY;
    if (days < 1)
        return 1;
    return days < CSR_VALIDITY_DAYS ? (uint32_t)days : CSR_VALIDITY_DAYS;
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

/* Fills the leaf's fingerprint (hex SHA-256 of the DER) and validity from the PEM chain. */
static int leaf_facts(const char *pem_chain, char fp_hex[65], int64_t *nb, int64_t *na)
{
    BIO *bio = BIO_new_mem_buf(pem_chain, -1);
    X509 *leaf = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!leaf || X509_digest(leaf, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
        X509_free(leaf);
        return -1;
    }
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(fp_hex + 2 * i, 3, "%02x", md[i]);
    *nb = asn1_unix(X509_get0_notBefore(leaf));
    *na = asn1_unix(X509_get0_notAfter(leaf));
    X509_free(leaf);
    return 0;
}

/* The certificate's profile JSON (NULL when it has none). Returns false on store errors. */
static bool cert_profile(struct store *s, json_object *cert, json_object **profile)
{
    json_object *pid = NULL;
    *profile = NULL;
    if (!json_object_object_get_ex(cert, "certificate_profile_id", &pid) ||
        !json_object_get_string_len(pid))
        return true;
    int rc = store_profile_get(s, json_object_get_string(pid), profile);
    return rc == STORE_OK || rc == STORE_NOT_FOUND;
}

/* Signs and stores; returns true on success. */
static bool complete_csr(struct target *t, const char *agent_id, const char *cert_id,
                         const char *csr_pem)
{
    json_object *cert = NULL, *profile = NULL;
    BIO *bio = NULL;
    X509_REQ *req = NULL;
    EVP_PKEY *key = NULL;
    char *chain = NULL;
    bool ok = false;
    if (store_cert_get(t->store, cert_id, &cert) != STORE_OK ||
        !cert_profile(t->store, cert, &profile))
        goto out;
    bio = BIO_new_mem_buf(csr_pem, -1);
    req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    key = req ? X509_REQ_get_pubkey(req) : NULL;
    if (!key || X509_REQ_verify(req, key) != 1 || !key_allowed(key, profile))
        goto out;
    const char *names[CSR_MAX_NAMES];
    size_t n = cert_names(cert, names);
    char serial[CA_SERIAL_HEX_LEN], fp[65];
    struct store_issued_cert issued = {
        .serial_number = serial, .fingerprint_sha256 = fp, .csr_pem = csr_pem};
    if (ca_sign_csr(t->ca, req, n ? names : NULL, n, validity_days(profile), &chain, serial) != 0 ||
        leaf_facts(chain, fp, &issued.not_before_unix_s, &issued.not_after_unix_s) < 0)
        goto out;
    issued.pem_chain = chain;
    ok = store_csr_complete(t->store, agent_id, cert_id, &issued) == STORE_OK;
out:
    free(chain);
    EVP_PKEY_free(key);
    X509_REQ_free(req);
    BIO_free(bio);
    json_object_put(profile);
    json_object_put(cert);
    return ok;
}

void h_csr(struct req_ctx *rc)
{
    json_object *obj = req_json_object(rc);
    const char *csr_pem = NULL, *cert_id = NULL;
    if (!obj || !json_opt_string(obj, "csr_pem", &csr_pem) ||
        !json_opt_string(obj, "certificate_id", &cert_id)) {
        json_object_put(obj);
        reply_error(rc, 400, "Invalid request body");
        return;
    }
    const char *p = csr_pem ? csr_pem : "";
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')
        p++;
    const char *why = NULL;
    if (!csr_pem || !*csr_pem)
        why = "csr_pem is required";
    else if (strncmp(p, CSR_PEM_PREFIX, strlen(CSR_PEM_PREFIX)) != 0)
        why = "csr_pem must be a valid PEM-encoded certificate request";
    if (why) {
        json_object_put(obj);
        reply_error(rc, 400, why);
        return;
    }
    if (!cert_id || !*cert_id) {
        /* certctl's legacy path: the CSR is accepted and nothing is signed */
        json_object_put(obj);
        reply_json(rc, 202, CSR_ACCEPTED_BODY, sizeof CSR_ACCEPTED_BODY - 1);
        return;
    }
    bool ok = complete_csr(rc->t, rc->params[0], cert_id, csr_pem);
    json_object_put(obj);
    if (ok)
        reply_json(rc, 202, CSR_SIGNED_BODY, sizeof CSR_SIGNED_BODY - 1);
    else
        reply_error(rc, 500, "Failed to submit CSR");
}
