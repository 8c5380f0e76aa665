/* refserver/acmesrv_handlers.c - the ACME account endpoints of fleetsim-target: new-account
 * (idempotent by key thumbprint), account/<id> (read, contact update, deactivation),
 * key-change (RFC 8555 §7.3.5 nested JWS) and revoke-cert (by the account or the cert key). */
#include "refserver/acmesrv_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define REVOCATION_REASON_MAX 10
#define REVOCATION_REASON_UNUSED 7

static void account_url(const struct acmesrv_req *r, const struct acmesrv_account *a, char *out,
                        size_t n)
{
    snprintf(out, n, "%s/account/%s", r->base, a->id);
}

static json_object *account_json(const struct acmesrv_req *r, const struct acmesrv_account *a)
{
    char url[ACMESRV_URL_MAX + ACMESRV_ID_MAX + 16];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status",
                           json_object_new_string(a->deactivated ? "deactivated" : "valid"));
    if (a->contact_json)
        json_object_object_add(o, "contact", json_tokener_parse(a->contact_json));
    account_url(r, a, url, sizeof url);
    strncat(url, "/orders", sizeof url - strlen(url) - 1);
    json_object_object_add(o, "orders", json_object_new_string(url));
    return o;
}

/* Validates an optional "contact" member (array of strings). Returns 0 absent, 1 present
 * (*out = compact JSON, malloc'd), -1 malformed. */
static int contact_member(json_object *p, char **out)
{
    json_object *c;
    *out = NULL;
    if (!json_object_object_get_ex(p, "contact", &c) || json_object_is_type(c, json_type_null))
        return 0;
    if (!json_object_is_type(c, json_type_array))
        return -1;
    for (size_t i = 0; i < json_object_array_length(c); i++)
        if (!json_object_is_type(json_object_array_get_idx(c, i), json_type_string))
            return -1;
    *out = strdup(json_object_to_json_string_ext(c, JSON_FLAGS));
    return *out ? 1 : -1;
}

static bool bool_member(json_object *p, const char *name, bool *bad)
{
    json_object *v;
    if (!json_object_object_get_ex(p, name, &v) || json_object_is_type(v, json_type_null))
        return false;
    if (!json_object_is_type(v, json_type_boolean)) {
        *bad = true;
        return false;
    }
    return json_object_get_boolean(v);
}

void acmesrv_handle_new_account(struct acmesrv_req *r)
{
    static const char parse_err[] = "could not parse new-account payload";
    if (!acmesrv_verify_jws(r, true, false))
        return;
    bool bad = false;
    json_object *p = acmesrv_payload_object(r, parse_err);
    if (!p)
        return;
    char *contact = NULL;
    bool only_existing = bool_member(p, "onlyReturnExisting", &bad);
    bool_member(p, "termsOfServiceAgreed", &bad); /* accepted, not enforced (as certctl) */
    if (contact_member(p, &contact) < 0 || bad) {
        json_object_put(p);
        acmesrv_send_problem(r, 400, "malformed", parse_err);
        return;
    }
    json_object_put(p);
    char thumb[JOSE_THUMBPRINT_LEN], loc[ACMESRV_URL_MAX + ACMESRV_ID_MAX + 16];
    struct acmesrv_account *a = NULL;
    if (jose_jwk_thumbprint(r->jws.jwk, thumb) == 0)
        a = acmesrv_account_by_thumb(&r->srv->st, thumb);
    if (a) {
        free(contact);
        acmesrv_account_touch(&r->srv->st, a, r->now_ms);
        account_url(r, a, loc, sizeof loc);
        acmesrv_send_json(r, 200, account_json(r, a), loc);
        return;
    }
    if (only_existing) {
        free(contact);
        acmesrv_send_problem(r, 400, "accountDoesNotExist",
                             "no account exists for this JWK; submit a new-account request without "
                             "onlyReturnExisting");
        return;
    }
    a = acmesrv_account_create(&r->srv->st, r->jws.jwk, thumb, r->now_ms);
    if (!a) {
        free(contact);
        acmesrv_send_problem(r, 500, "serverInternal", "ACME server error");
        return;
    }
    a->contact_json = contact;
    r->srv->stats.accounts_created++;
    account_url(r, a, loc, sizeof loc);
    acmesrv_send_json(r, 201, account_json(r, a), loc);
}

void acmesrv_handle_account(struct acmesrv_req *r, const char *acc_id)
{
    static const char parse_err[] = "could not parse account update payload";
    if (!acmesrv_verify_jws(r, false, false))
        return;
    struct acmesrv_account *a = r->account;
    if (strcmp(a->id, acc_id) != 0) {
        acmesrv_send_problem(r, 401, "unauthorized", "kid does not match URL account id");
        return;
    }
    bool empty;
    json_object *p = acmesrv_payload_json(r, &empty, parse_err);
    if (!p && !empty)
        return;
    if (p) {
        json_object *st;
        char *contact = NULL;
        const char *status =
            json_object_object_get_ex(p, "status", &st) ? json_object_get_string(st) : "";
        int cm = contact_member(p, &contact);
        if (cm < 0 || (st && !json_object_is_type(st, json_type_string)) ||
            (*status && strcmp(status, "deactivated") != 0)) {
            free(contact);
            json_object_put(p);
            acmesrv_send_problem(r, 400, "malformed",
                                 "only `deactivated` is a valid status for account update");
            return;
        }
        if (*status)
            a->deactivated = true;
        if (cm == 1) {
            free(a->contact_json);
            a->contact_json = contact;
        }
        json_object_put(p);
    }
    acmesrv_send_json(r, 200, account_json(r, a), NULL);
}

/* Checks the inner JWS of a key change; returns its new key (referenced) or NULL after
 * sending a problem. */
static EVP_PKEY *key_change_inner(struct acmesrv_req *r)
{
    static const char rejected[] = "key rollover request rejected";
    struct jose_jws in;
    char err[128], kid[ACMESRV_URL_MAX + ACMESRV_ID_MAX + 16];
    EVP_PKEY *newkey = NULL, *old = NULL;
    json_object *p = NULL, *acc, *oldkey;
    if (jose_jws_parse((const char *)r->jws.payload, r->jws.payload_len, &in, err, sizeof err)) {
        acmesrv_send_problem(r, 400, "malformed", rejected);
        return NULL;
    }
    account_url(r, r->account, kid, sizeof kid);
    if (!in.jwk || !in.url || strcmp(in.url, r->url) != 0 || in.nonce ||
        jose_jws_verify(&in, in.jwk) != 0)
        goto bad;
    p = json_tokener_parse((const char *)in.payload);
    if (!p || !json_object_object_get_ex(p, "account", &acc) ||
        !json_object_is_type(acc, json_type_string) || strcmp(json_object_get_string(acc), kid) ||
        !json_object_object_get_ex(p, "oldKey", &oldkey))
        goto bad;
    const char *oj = json_object_to_json_string_ext(oldkey, JSON_FLAGS);
    old = jose_jwk_to_pkey(oj, strlen(oj), err, sizeof err);
    if (!old || EVP_PKEY_eq(old, r->account->key) != 1)
        goto bad;
    newkey = in.jwk;
    EVP_PKEY_up_ref(newkey);
    goto out;
bad:
    acmesrv_send_problem(r, 400, "malformed", rejected);
out:
    EVP_PKEY_free(old);
    json_object_put(p);
    jose_jws_clear(&in);
    return newkey;
}

void acmesrv_handle_key_change(struct acmesrv_req *r)
{
    if (!acmesrv_verify_jws(r, false, false))
        return;
    EVP_PKEY *newkey = key_change_inner(r);
    if (!newkey)
        return;
    char thumb[JOSE_THUMBPRINT_LEN];
    struct acmesrv_account *a = r->account;
    if (jose_jwk_thumbprint(newkey, thumb) != 0 || acmesrv_account_by_thumb(&r->srv->st, thumb)) {
        acmesrv_send_problem(r, 409, "unauthorized",
                             "the supplied new account key is unavailable: already in use");
    } else if (!acmesrv_bucket_take(&a->key_change_bucket, r->srv->cfg.key_changes_per_hour,
                                    r->now_ms)) {
        acmesrv_send_problem(r, 429, "rateLimited", "too many key changes for this account");
    } else if (acmesrv_account_rekey(&r->srv->st, a, newkey, thumb) != 0) {
        acmesrv_send_problem(r, 500, "serverInternal", "ACME server error");
    } else {
        acmesrv_send_json(r, 200, account_json(r, a), NULL);
    }
    EVP_PKEY_free(newkey);
}

/* Decodes the revoke-cert payload's certificate; NULL after sending a problem. */
static X509 *revoke_payload(struct acmesrv_req *r, int *reason)
{
    static const char parse_err[] = "could not parse revoke-cert payload";
    json_object *p = acmesrv_payload_object(r, parse_err), *c, *rs;
    if (!p)
        return NULL;
    unsigned char *der = NULL;
    size_t len = 0;
    X509 *x = NULL;
    *reason = 0;
    if (json_object_object_get_ex(p, "reason", &rs)) {
        *reason = json_object_is_type(rs, json_type_int) ? json_object_get_int(rs) : -1;
        if (*reason < 0 || *reason > REVOCATION_REASON_MAX || *reason == REVOCATION_REASON_UNUSED) {
            acmesrv_send_problem(r, 400, "badRevocationReason", "unsupported revocation reason");
            goto out;
        }
    }
    if (!json_object_object_get_ex(p, "certificate", &c) ||
        !json_object_is_type(c, json_type_string) ||
        jose_b64url_decode(json_object_get_string(c), (size_t)json_object_get_string_len(c), &der,
                           &len) ||
        len == 0) {
        acmesrv_send_problem(r, 400, "badCSR", "`certificate` is not valid base64url-DER");
        goto out;
    }
    const unsigned char *q = der;
    x = d2i_X509(NULL, &q, (long)len);
    if (!x || q != der + len) {
        X509_free(x);
        x = NULL;
        acmesrv_send_problem(r, 400, "badCSR",
                             "the supplied `certificate` field is not a valid X.509 cert");
    }
out:
    free(der);
    json_object_put(p);
    return x;
}

/* The order that issued x (same serial and same certificate), or NULL. */
static struct acmesrv_order *issued_order(struct acmesrv_req *r, X509 *x)
{
    char hex[CA_SERIAL_HEX_LEN] = "";
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (ca_serial_hex_from_bn(bn, hex) != 0)
        hex[0] = '\0';
    BN_free(bn);
    struct acmesrv_order *o = *hex ? acmesrv_order_by_serial(&r->srv->st, hex) : NULL;
    if (!o || !o->cert_pem)
        return NULL;
    BIO *b = BIO_new_mem_buf(o->cert_pem, -1);
    X509 *ours = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    bool same = ours && X509_cmp(ours, x) == 0;
    X509_free(ours);
    BIO_free(b);
    return same ? o : NULL;
}

void acmesrv_handle_revoke(struct acmesrv_req *r)
{
    if (!acmesrv_verify_jws(r, false, true))
        return;
    int reason;
    X509 *x = revoke_payload(r, &reason);
    if (!x)
        return;
    struct acmesrv_order *o = issued_order(r, x);
    bool allowed = o && (r->account ? o->account == r->account
                                    : EVP_PKEY_eq(r->jws.jwk, X509_get0_pubkey(x)) == 1);
    if (!o)
        acmesrv_send_problem(r, 404, "malformed",
                             "the supplied certificate is not known to this server");
    else if (!allowed)
        acmesrv_send_problem(r, 401, "unauthorized",
                             "the requester is not authorized to revoke this certificate");
    else if (o->revoked)
        acmesrv_send_problem(r, 400, "alreadyRevoked", "the certificate has already been revoked");
    else {
        o->revoked = true;
        acmesrv_send_bytes(r, 200, NULL, NULL, 0);
    }
    X509_free(x);
}

bool acmesrv_owns(struct acmesrv_req *r, const struct acmesrv_order *o)
{
    if (o->account == r->account)
        return true;
    acmesrv_send_problem(r, 401, "unauthorized", "account does not own this resource");
    return false;
}
