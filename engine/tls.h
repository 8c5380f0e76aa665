/* engine/tls.h - TLS client setup for the HTTP client: an OpenSSL 3 SSL_CTX with verification,
 * ALPN http/1.1, small buffers and client-side session resumption, and per-connection SSL
 * objects with SNI and host-name (or IP address) checks. Knows nothing of HTTP or certctl. */
#ifndef FLEETSIM_ENGINE_TLS_H
#define FLEETSIM_ENGINE_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* Creates a client SSL_CTX: TLS 1.2 and 1.3 only, ALPN "http/1.1", SSL_MODE_RELEASE_BUFFERS,
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER (a blocked SSL_write may be repeated from a copy),
 * read_ahead (several records per read(): a reader must drain SSL_has_pending before waiting
 * on the socket again), client session cache without internal store (sessions are handed to
 * the slot set with tls_ssl_set_session_slot). Verification is on and uses cacert_file (PEM, only that file)
 * when non-NULL, else the system default store; insecure = true turns verification off.
 * Returns the context (free with SSL_CTX_free; it is reference counted, and every http_conn
 * using it must be freed first), or NULL with a one-line reason in err. */
SSL_CTX *tls_client_ctx_new(const char *cacert_file, bool insecure, char *err, size_t errlen);

/* Creates an SSL for one connection to host (a DNS name, or an IPv4/IPv6 literal without
 * brackets): sets SNI for names (never for IP literals), and the expected peer identity
 * (SSL_set1_host for names, X509_VERIFY_PARAM_set1_ip_asc for IP literals), which the handshake
 * enforces unless the context is insecure. host may be NULL (no SNI, no identity check).
 * Returns the SSL (owned by the caller, SSL_free), or NULL with a reason in err. */
SSL *tls_client_ssl_new(SSL_CTX *ctx, const char *host, char *err, size_t errlen);

/* Makes the handshake of ssl store each new session it receives into *slot (freeing the
 * session that was there): this is how a connection keeps its last SSL_SESSION for resumption.
 * slot must stay valid while ssl lives; NULL detaches. The caller frees *slot (SSL_SESSION_free). */
void tls_ssl_set_session_slot(SSL *ssl, SSL_SESSION **slot);

/* Writes a short reason for a failed handshake or TLS I/O on ssl into buf (at most n bytes,
 * NUL-terminated): the certificate verification error when verification failed (e.g.
 * "certificate verify failed: self-signed certificate"), else the OpenSSL reason of err_code
 * (an ERR_* packed code, 0 = none: "TLS error"). Never includes secrets. Returns buf. */
const char *tls_error_reason(const SSL *ssl, unsigned long err_code, char *buf, size_t n);

/* True when host is an IPv4 or IPv6 address literal (no brackets). */
bool tls_host_is_ip_literal(const char *host);

#endif
