/* engine/tls.c - OpenSSL 3 client context and per-connection SSL setup (see tls.h):
 * verification, SNI, host/IP identity checks, ALPN, small buffers and session keeping. */
#include "engine/tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static void set_err(char *err, size_t errlen, const char *what)
{
    if (!err || errlen == 0)
        return;
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (reason)
        snprintf(err, errlen, "%s: %s", what, reason);
    else
        snprintf(err, errlen, "%s", what);
    ERR_clear_error();
}

/* New-session callback: hand the session to the connection's slot (TLS 1.2 after the
 * handshake, TLS 1.3 when a ticket arrives). Returning 1 keeps our reference. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    SSL_SESSION **slot = SSL_get_app_data(ssl);
    if (!slot)
        return 0;
    if (*slot)
        SSL_SESSION_free(*slot);
    *slot = sess;
    return 1;
}

SSL_CTX *tls_client_ctx_new(const char *cacert_file, bool insecure, char *err, size_t errlen)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        set_err(err, errlen, "SSL_CTX_new failed");
        return NULL;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
        set_err(err, errlen, "cannot restrict TLS versions to 1.2-1.3");
        goto fail;
    }
    if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
        set_err(err, errlen, "cannot set ALPN");
        goto fail;
    }
    /* RELEASE_BUFFERS: an idle connection holds no record buffers. ACCEPT_MOVING_WRITE_BUFFER:
     * a write the socket could not take is repeated from a copy of the bytes. read_ahead: one
     * read() takes every record the socket holds instead of a 5-byte header and then the body
     * of each record (the buffer is bounded by the record size and released when drained). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return ctx;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cacert_file) {
        if (SSL_CTX_load_verify_locations(ctx, cacert_file, NULL) != 1) {
            char what[320];
            snprintf(what, sizeof(what), "cannot load CA file %s", cacert_file);
            set_err(err, errlen, what);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        set_err(err, errlen, "cannot load the system CA store");
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

bool tls_host_is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return host && (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1);
}

SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *host, char *err, size_t errlen)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl) {
        set_err(err, errlen, "SSL_new failed");
        return NULL;
    }
    if (!host || !*host)
        return ssl;
    if (tls_host_is_ip_literal(host)) {
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
            set_err(err, errlen, "cannot set the expected IP address");
            SSL_free(ssl);
            return NULL;
        }
        return ssl;
    }
    if (SSL_set_tlsext_host_name(ssl, host) != 1 || SSL_set1_host(ssl, host) != 1) {
        set_err(err, errlen, "cannot set SNI / expected host name");
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

void tls_ssl_set_session_slot(SSL *ssl, SSL_SESSION **slot)
{
    SSL_set_app_data(ssl, slot);
}

const char *tls_error_reason(const SSL *ssl, unsigned long err_code, char *buf, size_t n)
{
    if (n == 0)
        return buf;
    long vr = X509_V_OK;
    if (ssl && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER))
        vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
        snprintf(buf, n, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
        return buf;
    }
    const char *reason = err_code ? ERR_reason_error_string(err_code) : NULL;
    snprintf(buf, n, "%s", reason ? reason : "TLS error");
    return buf;
}
