/* refserver/acmesrv_orders.c - the ACME order endpoints of fleetsim-target in certctl's
 * trust_authenticated mode: new-order (dns identifiers, per-account limits, order ready at
 * once with one valid http-01 authorization per name), order, authz and challenge reads,
 * finalize (CSR checked and signed by the target CA) and certificate download. */
#include "refserver/acmesrv_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#define DNS_LABEL_MAX 63
#define URL_BUF (ACMESRV_URL_MAX + ACMESRV_ID_MAX + 32)

/* ---- identifiers ---- */

/* True for a plausible DNS name (letters, digits, '-', dots; an optional leading "*."). */
static bool dns_name_ok(const char *v)
{
    size_t n = strlen(v), label = 0;
    if (n == 0 || n > ACMESRV_DNS_NAME_MAX)
        return false;
    if (strncmp(v, "*.", 2) == 0)
        v += 2;
    for (const char *p = v; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (isalnum((unsigned char)*p) || *p == '-') {
            if (++label > DNS_LABEL_MAX)
                return false;
        } else {
            return false;
        }
    }
    return label > 0;
}

static json_object *subproblem(const char *type, const char *detail, const char *idtype,
                               const char *value)
{
    char full[96];
    snprintf(full, sizeof full, "%s%s", ACMESRV_ERR_PREFIX, type);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "type", json_object_new_string(full));
    json_object_object_add(p, "detail", json_object_new_string(detail));
    json_object_object_add(p, "status", json_object_new_int(400));
    if (idtype) {
        json_object *id = json_object_new_object();
        json_object_object_add(id, "type", json_object_new_string(idtype));
        json_object_object_add(id, "value", json_object_new_string(value));
        json_object_object_add(p, "identifier", id);
    }
    return p;
}

static bool contains(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static const char *member_str(json_object *e, const char *name)
{
    json_object *v;
    const char *s = json_object_object_get_ex(e, name, &v) ? json_object_get_string(v) : NULL;
    return s ? s : "";
}

/* Checks one identifier; on success writes its lowercase value into low and returns true,
 * otherwise appends a rejectedIdentifier subproblem to sub. */
static bool check_identifier(json_object *e, json_object *sub, char low[ACMESRV_DNS_NAME_MAX + 1])
{
    const char *type = member_str(e, "type"), *value = member_str(e, "value"), *why = NULL;
    if (strcasecmp(type, "dns") != 0)
        why = "identifier type is not supported (dns only)";
    else if (!*value)
        why = "identifier value is empty";
    else if (!dns_name_ok(value))
        why = "identifier value is not a DNS name";
    if (why) {
        json_object_array_add(sub, subproblem("rejectedIdentifier", why, type, value));
        return false;
    }
    size_t k = 0;
    for (; value[k]; k++)
        low[k] = (char)tolower((unsigned char)value[k]);
    low[k] = '\0';
    return true;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

/* Collects the lowercase, de-duplicated DNS names of the "identifiers" member into names
 * (capacity ACMESRV_MAX_IDENTIFIERS). Returns the count, or -1 after sending a problem. */
static int order_identifiers(struct acmesrv_req *r, json_object *p, char **names)
{
    json_object *ids = NULL, *sub;
    size_t n = 0;
    bool oom = false;
    if (json_object_object_get_ex(p, "identifiers", &ids) &&
        !json_object_is_type(ids, json_type_array)) {
        acmesrv_send_problem(r, 400, "malformed", "could not parse new-order payload");
        return -1;
    }
    size_t len = ids ? json_object_array_length(ids) : 0;
    sub = json_object_new_array();
    if (len == 0 || len > ACMESRV_MAX_IDENTIFIERS)
        json_object_array_add(sub, subproblem("malformed",
                                              len ? "too many identifiers"
                                                  : "new-order requires at least one identifier",
                                              NULL, NULL));
    for (size_t i = 0; i < len && len <= ACMESRV_MAX_IDENTIFIERS; i++) {
        char low[ACMESRV_DNS_NAME_MAX + 1];
        if (check_identifier(json_object_array_get_idx(ids, i), sub, low) &&
            !contains(names, n, low) && !(names[n++] = strdup(low)))
            oom = true;
    }
    if (json_object_array_length(sub) > 0 || oom) {
        free_names(names, n);
        if (oom) {
            json_object_put(sub);
            acmesrv_send_problem(r, 500, "serverInternal", "ACME server error");
        } else {
            acmesrv_send_problem_sub(r, 400, "rejectedIdentifier",
                                     "one or more identifiers were rejected", sub);
        }
        return -1;
    }
    json_object_put(sub);
    return (int)n;
}

/* ---- JSON documents ---- */

static const char *order_hex(const struct acmesrv_order *o)
{
    return o->id + strlen(ACMESRV_ORDER_PREFIX);
}

static json_object *identifier_json(const char *value)
{
    json_object *id = json_object_new_object();
    json_object_object_add(id, "type", json_object_new_string("dns"));
    json_object_object_add(id, "value", json_object_new_string(value));
    return id;
}

static json_object *order_json(const struct acmesrv_req *r, const struct acmesrv_order *o)
{
    char buf[URL_BUF], t[ACMESRV_RFC3339_LEN];
    json_object *j = json_object_new_object(), *ids = json_object_new_array(),
                *az = json_object_new_array();
    json_object_object_add(j, "status",
                           json_object_new_string(acmesrv_order_status_name(o->status)));
    acmesrv_rfc3339(o->expires_ms, t);
    json_object_object_add(j, "expires", json_object_new_string(t));
    for (size_t i = 0; i < o->n_ids; i++) {
        json_object_array_add(ids, identifier_json(o->ids[i]));
        snprintf(buf, sizeof buf, "%s/authz/%s%s-%zu", r->base, ACMESRV_AUTHZ_PREFIX, order_hex(o),
                 i);
        json_object_array_add(az, json_object_new_string(buf));
    }
    json_object_object_add(j, "identifiers", ids);
    json_object_object_add(j, "authorizations", az);
    snprintf(buf, sizeof buf, "%s/order/%s/finalize", r->base, o->id);
    json_object_object_add(j, "finalize", json_object_new_string(buf));
    if (o->status == ACMESRV_ORDER_VALID && o->cert_pem) {
        snprintf(buf, sizeof buf, "%s/cert/%s%s", r->base, ACMESRV_CERT_PREFIX, order_hex(o));
        json_object_object_add(j, "certificate", json_object_new_string(buf));
    }
    if (o->error_type) {
        char full[96];
        snprintf(full, sizeof full, "%s%s", ACMESRV_ERR_PREFIX, o->error_type);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "type", json_object_new_string(full));
        json_object_object_add(e, "detail", json_object_new_string(o->error_detail));
        json_object_object_add(e, "status", json_object_new_int(o->error_status));
        json_object_object_add(j, "error", e);
    }
    return j;
}

static json_object *challenge_json(const struct acmesrv_req *r, const struct acmesrv_order *o,
                                   size_t i)
{
    char id[ACMESRV_ID_MAX + 16], buf[URL_BUF], t[ACMESRV_RFC3339_LEN], token[JOSE_THUMBPRINT_LEN];
    unsigned char d[SHA256_DIGEST_LENGTH];
    snprintf(id, sizeof id, "%s%s-%zu", ACMESRV_CHALL_PREFIX, order_hex(o), i);
    /* token = SHA-256(secret || challenge id): stable without storing it */
    unsigned char in[sizeof r->srv->token_secret + sizeof id];
    size_t il = strlen(id);
    memcpy(in, r->srv->token_secret, sizeof r->srv->token_secret);
    memcpy(in + sizeof r->srv->token_secret, id, il);
    SHA256(in, sizeof r->srv->token_secret + il, d);
    jose_b64url_encode_buf(d, sizeof d, token, sizeof token);
    json_object *j = json_object_new_object();
    json_object_object_add(j, "type", json_object_new_string("http-01"));
    snprintf(buf, sizeof buf, "%s/challenge/%s", r->base, id);
    json_object_object_add(j, "url", json_object_new_string(buf));
    json_object_object_add(j, "status", json_object_new_string("valid"));
    json_object_object_add(j, "token", json_object_new_string(token));
    acmesrv_rfc3339(o->created_ms, t);
    json_object_object_add(j, "validated", json_object_new_string(t));
    return j;
}

static json_object *authz_json(const struct acmesrv_req *r, const struct acmesrv_order *o, size_t i)
{
    char t[ACMESRV_RFC3339_LEN];
    json_object *j = json_object_new_object(), *ch = json_object_new_array();
    json_object_object_add(j, "identifier", identifier_json(o->ids[i]));
    json_object_object_add(j, "status", json_object_new_string("valid"));
    acmesrv_rfc3339(o->expires_ms, t);
    json_object_object_add(j, "expires", json_object_new_string(t));
    if (strncmp(o->ids[i], "*.", 2) == 0)
        json_object_object_add(j, "wildcard", json_object_new_boolean(true));
    json_object_array_add(ch, challenge_json(r, o, i));
    json_object_object_add(j, "challenges", ch);
    return j;
}

/* ---- lookups ---- */

/* The order of an id "<prefix><hex>" or "<prefix><hex>-<index>" (index stored in *idx when
 * idx != NULL); NULL after sending 404 or 401. */
static struct acmesrv_order *lookup(struct acmesrv_req *r, const char *id, const char *prefix,
                                    size_t *idx)
{
    char oid[ACMESRV_ID_MAX];
    size_t pl = strlen(prefix);
    struct acmesrv_order *o = NULL;
    if (strncmp(id, prefix, pl) == 0) {
        const char *hex = id + pl, *dash = idx ? strrchr(hex, '-') : NULL;
        size_t hl = idx ? (dash ? (size_t)(dash - hex) : 0) : strlen(hex);
        char *end = NULL;
        unsigned long i = dash ? strtoul(dash + 1, &end, 10) : 0;
        bool idx_ok = !idx || (dash && dash[1] && *end == '\0' && isdigit((unsigned char)dash[1]));
        if (hl > 0 && hl < ACMESRV_ID_MAX - strlen(ACMESRV_ORDER_PREFIX) && idx_ok) {
            snprintf(oid, sizeof oid, "%s%.*s", ACMESRV_ORDER_PREFIX, (int)hl, hex);
            o = acmesrv_order_find(&r->srv->st, oid, r->now_ms);
            if (o && idx && i >= o->n_ids)
                o = NULL;
            if (idx)
                *idx = i;
        }
    }
    if (!o) {
        acmesrv_send_problem(r, 404, "malformed", "resource not found");
        return NULL;
    }
    return acmesrv_owns(r, o) ? o : NULL;
}

/* ---- endpoints ---- */

void acmesrv_handle_new_order(struct acmesrv_req *r)
{
    static const char parse_err[] = "could not parse new-order payload";
    if (!acmesrv_verify_jws(r, false, false))
        return;
    json_object *p = acmesrv_payload_object(r, parse_err);
    if (!p)
        return;
    char *names[ACMESRV_MAX_IDENTIFIERS];
    int n = order_identifiers(r, p, names);
    json_object_put(p);
    if (n < 0)
        return;
    struct acmesrv_account *a = r->account;
    const struct acmesrv_config *c = &r->srv->cfg;
    struct acmesrv_order *o = NULL;
    char msg[128];
    if (acmesrv_account_active_orders(a, r->now_ms) >= c->active_orders) {
        snprintf(msg, sizeof msg, "too many active orders for this account (limit %u)",
                 c->active_orders);
        acmesrv_send_problem(r, 429, "rateLimited", msg);
    } else if (!acmesrv_bucket_take(&a->order_bucket, c->orders_per_hour, r->now_ms)) {
        snprintf(msg, sizeof msg, "too many new orders for this account (limit %u per hour)",
                 c->orders_per_hour);
        acmesrv_send_problem(r, 429, "rateLimited", msg);
    } else if (!(o = acmesrv_order_create(&r->srv->st, a, r->profile, names, (size_t)n,
                                          ACMESRV_ORDER_READY, r->now_ms))) {
        acmesrv_send_problem(r, 500, "serverInternal", "ACME server error");
    } else {
        char loc[URL_BUF];
        r->srv->stats.orders_created++;
        snprintf(loc, sizeof loc, "%s/order/%s", r->base, o->id);
        acmesrv_send_json(r, 201, order_json(r, o), loc);
    }
    free_names(names, n > 0 ? (size_t)n : 0);
}

void acmesrv_handle_order(struct acmesrv_req *r, const char *order_id)
{
    if (!acmesrv_verify_jws(r, false, false))
        return;
    struct acmesrv_order *o = lookup(r, order_id, ACMESRV_ORDER_PREFIX, NULL);
    if (o)
        acmesrv_send_json(r, 200, order_json(r, o), NULL);
}

void acmesrv_handle_authz(struct acmesrv_req *r, const char *authz_id)
{
    size_t i;
    if (!acmesrv_verify_jws(r, false, false))
        return;
    struct acmesrv_order *o = lookup(r, authz_id, ACMESRV_AUTHZ_PREFIX, &i);
    if (o)
        acmesrv_send_json(r, 200, authz_json(r, o, i), NULL);
}

void acmesrv_handle_challenge(struct acmesrv_req *r, const char *chall_id)
{
    size_t i;
    if (!acmesrv_verify_jws(r, false, false))
        return;
    struct acmesrv_order *o = lookup(r, chall_id, ACMESRV_CHALL_PREFIX, &i);
    if (o) /* already valid: answered as is (certctl's idempotent re-POST) */
        acmesrv_send_json(r, 200, challenge_json(r, o, i), NULL);
}

void acmesrv_handle_cert(struct acmesrv_req *r, const char *cert_id)
{
    if (!acmesrv_verify_jws(r, false, false))
        return;
    struct acmesrv_order *o = lookup(r, cert_id, ACMESRV_CERT_PREFIX, NULL);
    if (!o)
        return;
    if (o->status != ACMESRV_ORDER_VALID || !o->cert_pem) {
        acmesrv_send_problem(r, 404, "malformed", "resource not found");
        return;
    }
    acmesrv_send_bytes(r, 200, "application/pem-certificate-chain", o->cert_pem,
                       strlen(o->cert_pem));
}

/* Decodes the finalize payload's CSR; NULL after sending a problem. */
static X509_REQ *finalize_csr(struct acmesrv_req *r)
{
    static const char parse_err[] = "could not parse finalize payload";
    json_object *p = acmesrv_payload_object(r, parse_err), *c;
    if (!p)
        return NULL;
    unsigned char *der = NULL;
    size_t len = 0;
    X509_REQ *req = NULL;
    const char *s =
        json_object_object_get_ex(p, "csr", &c) && json_object_is_type(c, json_type_string)
            ? json_object_get_string(c)
            : "";
    if (jose_b64url_decode(s, strlen(s), &der, &len)) {
        acmesrv_send_problem(r, 400, "badCSR", "csr field is not valid base64url");
    } else {
        const unsigned char *q = der;
        req = d2i_X509_REQ(NULL, &q, (long)len);
        if (!req || q != der + len) {
            X509_REQ_free(req);
            req = NULL;
            acmesrv_send_problem(r, 400, "badCSR", "csr did not parse as a valid PKCS#10");
        }
    }
    free(der);
    json_object_put(p);
    return req;
}

/* True when the CSR's names (CN and SAN DNS names, case-folded) are exactly the order's. */
static bool csr_matches(X509_REQ *req, const struct acmesrv_order *o)
{
    char *seen[ACMESRV_MAX_IDENTIFIERS + 1];
    size_t n = 0;
    bool ok = true;
    char cn[ACMESRV_DNS_NAME_MAX + 2];
    int cl =
        X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn);
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *gens = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
    int total = (cl > 0 ? 1 : 0) + (gens ? sk_GENERAL_NAME_num(gens) : 0);
    for (int k = 0; ok && k < total; k++) {
        char name[ACMESRV_DNS_NAME_MAX + 2];
        if (cl > 0 && k == 0) {
            snprintf(name, sizeof name, "%s", cn);
        } else {
            GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, k - (cl > 0 ? 1 : 0));
            if (g->type != GEN_DNS)
                continue;
            int len = ASN1_STRING_length(g->d.dNSName);
            if (len <= 0 || len > ACMESRV_DNS_NAME_MAX) {
                ok = false;
                break;
            }
            snprintf(name, sizeof name, "%.*s", len,
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        }
        for (char *q = name; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        if (!contains(o->ids, o->n_ids, name))
            ok = false;
        else if (!contains(seen, n, name) && !(seen[n++] = strdup(name)))
            ok = false, n--;
    }
    ok = ok && n == o->n_ids;
    for (size_t i = 0; i < n; i++)
        free(seen[i]);
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return ok;
}

static int64_t asn1_ms(const ASN1_TIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm) * 1000;
}

/* Signs req for o and records the certificate; returns false after sending a problem. */
static bool issue(struct acmesrv_req *r, struct acmesrv_order *o, X509_REQ *req)
{
    char *pem = NULL;
    int rc = ca_sign_csr(r->srv->cfg.ca, req, (const char *const *)o->ids, o->n_ids,
                         r->srv->cfg.cert_validity_days, &pem, o->serial_hex);
    if (rc == -EBADMSG) {
        acmesrv_send_problem(r, 400, "badCSR", "the CSR signature does not verify");
        return false;
    }
    BIO *b = rc == 0 ? BIO_new_mem_buf(pem, -1) : NULL;
    X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!leaf) {
        free(pem);
        o->status = ACMESRV_ORDER_INVALID;
        o->error_type = "serverInternal";
        o->error_detail = "issuer rejected the CSR";
        o->error_status = 500;
        acmesrv_send_problem(r, 500, "serverInternal", "ACME server error");
        return false;
    }
    o->not_before_ms = asn1_ms(X509_get0_notBefore(leaf));
    o->not_after_ms = asn1_ms(X509_get0_notAfter(leaf));
    X509_free(leaf);
    o->cert_pem = pem;
    o->status = ACMESRV_ORDER_VALID;
    acmesrv_order_index_serial(&r->srv->st, o); /* without the index only ARI misses it */
    r->srv->stats.certs_issued++;
    return true;
}

void acmesrv_handle_finalize(struct acmesrv_req *r, const char *order_id)
{
    if (!acmesrv_verify_jws(r, false, false))
        return;
    X509_REQ *req = finalize_csr(r);
    if (!req)
        return;
    struct acmesrv_order *o = lookup(r, order_id, ACMESRV_ORDER_PREFIX, NULL);
    if (!o) {
        X509_REQ_free(req);
        return;
    }
    if (o->status != ACMESRV_ORDER_READY) {
        acmesrv_send_problem(r, 403, "orderNotReady",
                             "order is not in the `ready` state; complete authorizations first");
    } else if (!csr_matches(req, o)) {
        o->status = ACMESRV_ORDER_INVALID;
        o->error_type = "badCSR";
        o->error_detail = "CSR names differ from the order identifiers";
        o->error_status = 400;
        acmesrv_send_problem(r, 400, "badCSR", o->error_detail);
    } else if (issue(r, o, req)) {
        char loc[URL_BUF];
        snprintf(loc, sizeof loc, "%s/order/%s", r->base, o->id);
        acmesrv_send_json(r, 200, order_json(r, o), loc);
    }
    X509_REQ_free(req);
}
