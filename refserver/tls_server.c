/* refserver/tls_server.c - server SSL_CTX construction for fleetsim-target (see tls_server.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "refserver/tls_server.h"

static void tls_reason(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char buf[160] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    if (err && errlen)
        snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

/* Selects http/1.1 when the client offers it; otherwise no ALPN (HTTP/1.1 anyway). */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const unsigned char h11[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, h11, sizeof h11 - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *ctx_base(char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_reason(err, errlen, "cannot create the TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return ctx;
}

SSL_CTX *tls_server_ctx_from_files(const char *cert_file, const char *key_file, char *err,
                                   size_t errlen)
{
    SSL_CTX *ctx = ctx_base(err, errlen);
    if (!ctx)
        return NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        tls_reason(err, errlen, "cannot load the --tls-cert file");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        tls_reason(err, errlen, "cannot load the --tls-key file");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_reason(err, errlen, "the --tls-key does not match the --tls-cert");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *tls_server_ctx_from_objects(X509 *leaf, EVP_PKEY *key, X509 *chain_ca, char *err,
                                     size_t errlen)
{
    SSL_CTX *ctx = ctx_base(err, errlen);
    if (!ctx)
        return NULL;
    if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 ||
        (chain_ca && SSL_CTX_add1_chain_cert(ctx, chain_ca) != 1)) {
        tls_reason(err, errlen, "cannot install the generated server certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
