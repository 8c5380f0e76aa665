/* sim/acme_proto.c - the pure protocol pieces of the ACME client (see acme_proto.h): JSON
 * objects of RFC 8555 read with json-c, problem documents, URL origins, the CSR encoding for
 * finalize and the RFC 9773 certificate id. */
#include "sim/acme_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "engine/jose.h"

#define HTTPS_DEFAULT_PORT "443"
#define HTTP_DEFAULT_PORT "80"
#define HTTPS_PORT 443
#define HTTP_PORT 80

/* Parses len bytes as one JSON object; NULL when it is anything else. */
static json_object *parse_object(const char *body, size_t len)
{
    if (!body || len == 0 || len > (size_t)INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    bool complete = json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    if (!o || !complete || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* The string member key of o, or NULL. */
static const char *member_string(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* strdup of the string member key into *out (NULL stays NULL). Returns false on OOM. */
static bool dup_member(json_object *o, const char *key, char **out)
{
    const char *s = member_string(o, key);
    *out = s ? strdup(s) : NULL;
    return !s || *out;
}

static int fail(char *err, size_t errlen, int rc, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", what);
    return rc;
}

int acme_directory_parse(const char *body, size_t len, struct acme_directory *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_object *o = parse_object(body, len);
    if (!o)
        return fail(err, errlen, -EINVAL, "the directory is not a JSON object");
    int rc = 0;
    if (!member_string(o, "newNonce") || !member_string(o, "newAccount") ||
        !member_string(o, "newOrder"))
        rc = fail(err, errlen, -EINVAL, "the directory lacks newNonce, newAccount or newOrder");
    else if (!dup_member(o, "newNonce", &out->new_nonce) ||
             !dup_member(o, "newAccount", &out->new_account) ||
             !dup_member(o, "newOrder", &out->new_order) ||
             !dup_member(o, "renewalInfo", &out->renewal_info))
        rc = fail(err, errlen, -ENOMEM, "out of memory");
    json_object_put(o);
    if (rc != 0)
        acme_directory_clear(out);
    return rc;
}

void acme_directory_clear(struct acme_directory *d)
{
    free(d->new_nonce);
    free(d->new_account);
    free(d->new_order);
    free(d->renewal_info);
    memset(d, 0, sizeof *d);
}

enum acme_status acme_status_parse(const char *s)
{
    static const struct {
        const char *name;
        enum acme_status st;
    } names[] = {
        {"pending", ACME_ST_PENDING},       {"ready", ACME_ST_READY},
        {"processing", ACME_ST_PROCESSING}, {"valid", ACME_ST_VALID},
        {"invalid", ACME_ST_INVALID},       {"deactivated", ACME_ST_OTHER},
        {"expired", ACME_ST_OTHER},         {"revoked", ACME_ST_OTHER},
    };
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].st;
    return ACME_ST_UNKNOWN;
}

int acme_order_info_parse(const char *body, size_t len, struct acme_order_info *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_object *o = parse_object(body, len);
    if (!o)
        return fail(err, errlen, -EINVAL, "the order is not a JSON object");
    int rc = 0;
    json_object *az = NULL;
    out->status = acme_status_parse(member_string(o, "status"));
    if (out->status == ACME_ST_UNKNOWN || !member_string(o, "finalize")) {
        rc = fail(err, errlen, -EINVAL, "the order lacks a known status or finalize");
    } else if (json_object_object_get_ex(o, "authorizations", &az) &&
               (!json_object_is_type(az, json_type_array) ||
                json_object_array_length(az) > ACME_MAX_AUTHZ)) {
        rc = fail(err, errlen, -EINVAL, "the order's authorizations are not a short array");
    } else if (!dup_member(o, "finalize", &out->finalize) ||
               !dup_member(o, "certificate", &out->certificate)) {
        rc = fail(err, errlen, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == 0 && az && i < json_object_array_length(az); i++) {
        json_object *v = json_object_array_get_idx(az, i);
        if (!json_object_is_type(v, json_type_string)) {
            rc = fail(err, errlen, -EINVAL, "an authorization URL is not a string");
        } else if (!(out->authz[out->n_authz] = strdup(json_object_get_string(v)))) {
            rc = fail(err, errlen, -ENOMEM, "out of memory");
        } else {
            out->n_authz++;
        }
    }
    json_object_put(o);
    if (rc != 0)
        acme_order_info_clear(out);
    return rc;
}

void acme_order_info_clear(struct acme_order_info *o)
{
    free(o->finalize);
    free(o->certificate);
    for (size_t i = 0; i < o->n_authz; i++)
        free(o->authz[i]);
    memset(o, 0, sizeof *o);
}

int acme_authz_info_parse(const char *body, size_t len, struct acme_authz_info *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_object *o = parse_object(body, len);
    if (!o)
        return fail(err, errlen, -EINVAL, "the authorization is not a JSON object");
    out->status = acme_status_parse(member_string(o, "status"));
    int rc = out->status == ACME_ST_UNKNOWN
                 ? fail(err, errlen, -EINVAL, "the authorization lacks a known status")
                 : 0;
    json_object *chs = NULL, *pick = NULL;
    if (rc == 0 && json_object_object_get_ex(o, "challenges", &chs) &&
        json_object_is_type(chs, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(chs); i++) {
            json_object *c = json_object_array_get_idx(chs, i);
            if (!json_object_is_type(c, json_type_object) || !member_string(c, "url"))
                continue;
            const char *type = member_string(c, "type");
            if (!pick || (type && strcmp(type, "http-01") == 0))
                pick = c;
            if (type && strcmp(type, "http-01") == 0)
                break;
        }
    }
    if (rc == 0 && pick) {
        out->challenge_status = acme_status_parse(member_string(pick, "status"));
        if (!dup_member(pick, "url", &out->challenge))
            rc = fail(err, errlen, -ENOMEM, "out of memory");
    }
    json_object_put(o);
    if (rc != 0)
        acme_authz_info_clear(out);
    return rc;
}

void acme_authz_info_clear(struct acme_authz_info *a)
{
    free(a->challenge);
    memset(a, 0, sizeof *a);
}

/* True when the media type of content_type (before any ';') equals type, case-insensitively. */
static bool media_type_is(const char *content_type, const char *type)
{
    if (!content_type)
        return false;
    size_t n = strcspn(content_type, ";");
    while (n > 0 && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
        n--;
    return n == strlen(type) && strncasecmp(content_type, type, n) == 0;
}

bool acme_content_type_is_json(const char *content_type)
{
    if (!content_type)
        return false;
    size_t n = strcspn(content_type, ";");
    while (n > 0 && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
        n--;
    static const char app[] = "application/", suffix[] = "+json";
    size_t la = sizeof app - 1, ls = sizeof suffix - 1;
    if (n < la || strncasecmp(content_type, app, la) != 0)
        return false;
    if (n == la + 4 && strncasecmp(content_type + la, "json", 4) == 0)
        return true;
    return n > la + ls && strncasecmp(content_type + n - ls, suffix, ls) == 0;
}

bool acme_problem_parse(const char *content_type, int status, const char *body, size_t len,
                        char *word, size_t n)
{
    if (n)
        word[0] = '\0';
    bool problem_ct = media_type_is(content_type, ACME_CT_PROBLEM);
    if (!problem_ct && status < 400)
        return false;
    json_object *o = parse_object(body, len);
    const char *type = o ? member_string(o, "type") : NULL;
    bool ok = type && *type;
    if (ok && n) {
        const char *colon = strrchr(type, ':'), *slash = strrchr(type, '/');
        const char *last = colon > slash ? colon : slash;
        const char *w = last && last[1] ? last + 1 : type;
        snprintf(word, n, "%s", w);
    }
    json_object_put(o);
    return ok;
}

bool acme_rate_limit_shape_ok(const char *content_type, const char *body, size_t len)
{
    if (!media_type_is(content_type, ACME_CT_PROBLEM))
        return false;
    json_object *o = parse_object(body, len);
    const char *type = o ? member_string(o, "type") : NULL;
    bool ok = type && strcmp(type, ACME_PROBLEM_RATE_LIMITED) == 0;
    json_object_put(o);
    return ok;
}

/* True when the authority span a (alen bytes) names host:port of `authority` with the
 * scheme's default port spelled out or left out. */
static bool authority_matches(const char *a, size_t alen, bool tls, const char *authority)
{
    size_t l = strlen(authority);
    if (alen == l && strncasecmp(a, authority, l) == 0)
        return true;
    const char *port = tls ? HTTPS_DEFAULT_PORT : HTTP_DEFAULT_PORT;
    size_t lp = strlen(port);
    /* url has ":443", authority has none */
    if (alen == l + 1 + lp && strncasecmp(a, authority, l) == 0 && a[l] == ':' &&
        strncmp(a + l + 1, port, lp) == 0)
        return true;
    /* authority has ":443", url has none */
    return l == alen + 1 + lp && strncasecmp(a, authority, alen) == 0 && authority[alen] == ':' &&
           strcmp(authority + alen + 1, port) == 0;
}

const char *acme_url_path(const char *url, bool tls, const char *authority)
{
    if (!url || !authority)
        return NULL;
    const char *scheme = tls ? "https://" : "http://";
    size_t ls = strlen(scheme);
    if (strncasecmp(url, scheme, ls) != 0)
        return NULL;
    const char *a = url + ls;
    const char *path = strchr(a, '/');
    if (!path || path == a || strcspn(a, "?#@ ") < (size_t)(path - a))
        return NULL;
    return authority_matches(a, (size_t)(path - a), tls, authority) ? path : NULL;
}

char *acme_csr_b64url_from_pem(const char *pem, size_t len)
{
    if (!pem || len > (size_t)INT32_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    unsigned char *der = NULL;
    int n = req ? i2d_X509_REQ(req, &der) : -1;
    X509_REQ_free(req);
    char *out = n > 0 ? jose_b64url_encode(der, (size_t)n) : NULL;
    OPENSSL_free(der);
    return out;
}

/* Appends the base64url of data to out at *pos. Returns false when it does not fit. */
static bool append_b64(char *out, size_t n, size_t *pos, const unsigned char *data, size_t len)
{
    long w = jose_b64url_encode_buf(data, len, out + *pos, n - *pos);
    if (w < 0)
        return false;
    *pos += (size_t)w;
    return true;
}

int acme_renewal_id(const char *pem, size_t len, char *out, size_t n)
{
    if (n)
        out[0] = '\0';
    if (!pem || len > (size_t)INT32_MAX)
        return -EBADMSG;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    const ASN1_OCTET_STRING *akid = x ? X509_get0_authority_key_id(x) : NULL;
    const ASN1_INTEGER *serial = x ? X509_get0_serialNumber(x) : NULL;
    unsigned char *der = NULL;
    int dlen = serial ? i2d_ASN1_INTEGER(serial, &der) : -1;
    int rc = -EBADMSG;
    /* DER INTEGER of a serial (<= 21 content octets): tag, short length, content */
    if (akid && ASN1_STRING_length(akid) > 0 && dlen > 2 && der[1] == dlen - 2) {
        size_t pos = 0;
        rc = append_b64(out, n, &pos, ASN1_STRING_get0_data(akid),
                        (size_t)ASN1_STRING_length(akid)) &&
                     pos + 1 < n && (out[pos++] = '.') &&
                     append_b64(out, n, &pos, der + 2, (size_t)dlen - 2)
                 ? 0
                 : -ENOSPC;
        if (rc != 0 && n)
            out[0] = '\0';
    }
    OPENSSL_free(der);
    X509_free(x);
    return rc;
}

int acme_conn_authority(const struct http_conn_config *cc, char *out, size_t n)
{
    if (cc->host_header)
        return snprintf(out, n, "%s", cc->host_header) < (int)n ? 0 : -ENOSPC;
    uint16_t port = 0;
    if (cc->addr.ss_family == AF_INET)
        port = ntohs(((const struct sockaddr_in *)&cc->addr)->sin_port);
    else if (cc->addr.ss_family == AF_INET6)
        port = ntohs(((const struct sockaddr_in6 *)&cc->addr)->sin6_port);
    bool v6 = cc->host && strchr(cc->host, ':') != NULL;
    const char *host = cc->host ? cc->host : "";
    bool dflt = port == (cc->ssl_ctx ? HTTPS_PORT : HTTP_PORT);
    int w = dflt ? snprintf(out, n, "%s%s%s", v6 ? "[" : "", host, v6 ? "]" : "")
                 : snprintf(out, n, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
    return w >= 0 && (size_t)w < n ? 0 : -ENOSPC;
}
