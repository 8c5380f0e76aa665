/* refserver/tls_server.h - the target's server-side TLS context: TLS 1.2 and 1.3, ALPN http/1.1,
 * small idle buffers (a fleet keeps thousands of connections open), certificate and key either
 * from PEM files or from objects the target CA just issued. */
#ifndef FLEETSIM_TARGET_TLS_SERVER_H
#define FLEETSIM_TARGET_TLS_SERVER_H

#include <stddef.h>

#include <openssl/ssl.h>

/* Creates a server context from a PEM certificate chain file (leaf first) and a PEM key file.
 * Returns the context (SSL_CTX_free) or NULL with a one-line reason in err. */
SSL_CTX *tls_server_ctx_from_files(const char *cert_file, const char *key_file, char *err,
                                   size_t errlen);

/* Creates a server context for leaf + key, sending chain_ca (may be NULL) as the chain. The
 * objects are not consumed (the context takes its own references). Returns NULL with a reason
 * in err. */
SSL_CTX *tls_server_ctx_from_objects(X509 *leaf, EVP_PKEY *key, X509 *chain_ca, char *err,
                                     size_t errlen);

#endif
