/* refserver/acmesrv_ari.c - ACME Renewal Information (RFC 9773) of fleetsim-target as certctl answers
 * it: GET renewal-info/<b64url(AKI)>.<b64url(serial)> for a certificate this CA issued gives
 * the last third of its validity as suggestedWindow, with Retry-After: 21600. */
#include "refserver/acmesrv_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#define ARI_MAX_PART_BYTES 64

void acmesrv_rfc3339(int64_t ms, char out[ACMESRV_RFC3339_LEN])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, ACMESRV_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Decodes "<b64url AKI>.<b64url serial>" into the CA-relative serial hex; 0, -EINVAL (malformed)
 * or -ENOENT (AKI is not this CA's). */
static int ari_serial(struct acmesrv_req *r, const char *id, char hex[CA_SERIAL_HEX_LEN])
{
    const char *dot = strchr(id, '.');
    if (!dot || dot == id || !dot[1] || strchr(dot + 1, '.'))
        return -EINVAL;
    unsigned char *aki = NULL, *serial = NULL;
    size_t aki_len = 0, serial_len = 0;
    int rc = -EINVAL;
    if (jose_b64url_decode(id, (size_t)(dot - id), &aki, &aki_len) ||
        jose_b64url_decode(dot + 1, strlen(dot + 1), &serial, &serial_len) || aki_len == 0 ||
        serial_len == 0)
        goto out;
    rc = -ENOENT;
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca_cert(r->srv->cfg.ca));
    if (!ski || (size_t)ASN1_STRING_length(ski) != aki_len ||
        memcmp(ASN1_STRING_get0_data(ski), aki, aki_len) != 0 || serial_len > ARI_MAX_PART_BYTES)
        goto out;
    BIGNUM *bn = BN_bin2bn(serial, (int)serial_len, NULL);
    rc = ca_serial_hex_from_bn(bn, hex) == 0 ? 0 : -ENOENT;
    BN_free(bn);
out:
    free(aki);
    free(serial);
    return rc;
}

void acmesrv_handle_renewal_info(struct acmesrv_req *r, const char *id)
{
    char hex[CA_SERIAL_HEX_LEN];
    int rc = ari_serial(r, id, hex);
    if (rc == -EINVAL) {
        acmesrv_send_problem(r, 400, "malformed", "ARI cert-id is malformed");
        return;
    }
    int64_t nb = 0, na = 0;
    struct acmesrv_order *o = rc == 0 ? acmesrv_order_by_serial(&r->srv->st, hex) : NULL;
    bool found = o != NULL;
    if (o) {
        nb = o->not_before_ms;
        na = o->not_after_ms;
    } else if (rc == 0 && r->srv->cfg.cert_lookup) {
        found = r->srv->cfg.cert_lookup(r->srv->cfg.cert_lookup_arg, hex, &nb, &na);
    }
    if (!found) {
        acmesrv_send_problem(r, 404, "malformed", "resource not found");
        return;
    }
    /* certctl without a renewal policy: the last third of the validity, ending a ninth before
	 * expiry; never starting in the past; a one-day "renew now" window once expired. */
    int64_t start, end;
    if (r->now_ms > na) {
        start = r->now_ms;
        end = start + 24 * ACMESRV_HOUR_MS;
    } else {
        int64_t third = (na - nb) / 3;
        start = na - third;
        end = na - third / 3;
        if (start < r->now_ms)
            start = r->now_ms;
        if (end < start)
            end = start;
    }
    char s[ACMESRV_RFC3339_LEN], e[ACMESRV_RFC3339_LEN], ra[16];
    acmesrv_rfc3339(start, s);
    acmesrv_rfc3339(end, e);
    json_object *w = json_object_new_object();
    json_object_object_add(w, "start", json_object_new_string(s));
    json_object_object_add(w, "end", json_object_new_string(e));
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "suggestedWindow", w);
    snprintf(ra, sizeof ra, "%d", ACMESRV_RENEWAL_RETRY_AFTER_S);
    http_reply_header(r->req, "Retry-After", ra);
    http_reply_header(r->req, "Cache-Control", "no-store");
    acmesrv_send_json_plain(r, 200, doc);
}
