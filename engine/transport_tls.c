/* engine/transport_tls.c - the TLS transport (see transport.h): TLS over the shared TCP
 * connect, an OpenSSL SSL per connection (engine/tls.c sets it up) reading through
 * engine/rx_time's socket BIO so that reads carry the kernel's receive timestamps, the last
 * session kept for resumption, and the memory an idle connection does not need given back
 * (the peer's chain after the handshake, the record buffers when idle; docs/client.md). */
#include "engine/transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "engine/rx_time.h"
#include "engine/tls.h"

/* OpenSSL's error queue must be empty before an SSL I/O call for SSL_get_error to be right.
 * It almost always is (every error path here drains it): peeking is cheaper than clearing. */
static void err_reset(void)
{
    if (ERR_peek_error())
        ERR_clear_error();
}

/* After a verified handshake: frees the certificates of the peer's chain beyond its own
 * (intermediates, a root). OpenSSL keeps every certificate it parsed for the connection's
 * life, ~4 KiB each in OpenSSL 3, though nothing here looks at them again; the leaf stays (the
 * session refers to it). A certificate still referenced elsewhere only loses a reference. */
static void trim_chain(SSL *ssl)
{
    STACK_OF(X509) *chains[2] = {SSL_get_peer_cert_chain(ssl), SSL_get0_verified_chain(ssl)};
    for (int i = 0; i < 2; i++)
        while (chains[i] && sk_X509_num(chains[i]) > 1)
            X509_free(sk_X509_pop(chains[i]));
}

/* Creates the connection's SSL on its socket, offering the kept session unless told not to. */
static enum transport_io tls_setup(struct transport *t, const struct transport_peer *peer,
                                   char *why, size_t n)
{
    SSL *ssl = tls_client_ssl_new(peer->ssl_ctx, peer->host, why, n);
    if (!ssl)
        return TRANSPORT_ERR_TLS;
    BIO *bio = rx_time_bio_new(t->fd, &t->rx_ns);
    if (!bio) {
        SSL_free(ssl);
        snprintf(why, n, "cannot attach the socket to TLS");
        return TRANSPORT_ERR_LOCAL;
    }
    SSL_set_bio(ssl, bio, bio);
    tls_ssl_set_session_slot(ssl, peer->no_resumption ? NULL : &t->session);
    if (t->session && !peer->no_resumption)
        SSL_set_session(ssl, t->session);
    t->conn = ssl;
    return TRANSPORT_DONE;
}

/* A failed handshake: a verification or TLS error, a socket error, or the peer's close. */
static enum transport_io handshake_error(SSL *ssl, int e, char *why, size_t n)
{
    int se = errno;
    unsigned long ec = ERR_get_error();
    ERR_clear_error();
    long vr = (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (vr != X509_V_OK ||
        (e == SSL_ERROR_SSL && ec && ERR_GET_REASON(ec) != SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        tls_error_reason(ssl, ec, why, n);
        return TRANSPORT_ERR_TLS;
    }
    if (e == SSL_ERROR_SYSCALL && se)
        snprintf(why, n, "TLS handshake: %s", strerror(se));
    else
        snprintf(why, n, "closed during the TLS handshake");
    return TRANSPORT_ERR_IO;
}

static enum transport_io tls_handshake(struct transport *t, const struct transport_peer *peer,
                                       char *why, size_t n)
{
    if (!t->conn) {
        enum transport_io s = tls_setup(t, peer, why, n);
        if (s != TRANSPORT_DONE)
            return s;
    }
    SSL *ssl = t->conn;
    err_reset();
    int r = SSL_connect(ssl);
    if (r == 1) {
        trim_chain(ssl);
        t->resumed = SSL_session_reused(ssl) == 1;
        return TRANSPORT_DONE;
    }
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return TRANSPORT_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return TRANSPORT_WANT_WRITE;
    return handshake_error(ssl, e, why, n);
}

/* The outcome of an SSL_write (reading false) or SSL_read that returned r <= 0: a wait, the
 * peer's close (reads; OpenSSL 3 reports a close without close_notify as an error: it is an
 * EOF here, as is close_notify itself), or an error with its reason in why. */
static enum transport_io io_outcome(SSL *ssl, int r, bool reading, char *why, size_t n)
{
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return TRANSPORT_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return TRANSPORT_WANT_WRITE;
    int se = errno;
    unsigned long ec = ERR_get_error();
    ERR_clear_error();
    if (reading && (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !se && !ec) ||
                    ERR_GET_REASON(ec) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
        return TRANSPORT_EOF;
    if (e == SSL_ERROR_SSL && ec) {
        tls_error_reason(NULL, ec, why, n);
        return TRANSPORT_ERR_TLS;
    }
    if (reading)
        snprintf(why, n, "%s", se ? strerror(se) : "connection error");
    else
        snprintf(why, n, "send: %s", se ? strerror(se) : "connection closed");
    return TRANSPORT_ERR_IO;
}

static enum transport_io tls_write(struct transport *t, const void *buf, size_t len, size_t *done,
                                   char *why, size_t n)
{
    err_reset();
    int r = SSL_write(t->conn, buf, (int)len);
    if (r > 0) {
        *done = len; /* without partial writes, SSL_write takes all or nothing */
        return TRANSPORT_DONE;
    }
    *done = 0;
    return io_outcome(t->conn, r, false, why, n);
}

static enum transport_io tls_read(struct transport *t, void *buf, size_t cap, size_t *got,
                                  char *why, size_t n)
{
    err_reset();
    int r = SSL_read(t->conn, buf, (int)cap);
    if (r > 0) {
        *got = (size_t)r;
        return TRANSPORT_DONE;
    }
    return io_outcome(t->conn, r, true, why, n);
}

/* read_ahead: OpenSSL may hold further records it took from the socket. */
static bool tls_readable(const struct transport *t)
{
    return SSL_has_pending(t->conn);
}

/* Reads the buffered records to find out whether they are application data; consumes those
 * that are not (a TLS 1.3 session ticket). */
static bool tls_pending_data(struct transport *t)
{
    SSL *ssl = t->conn;
    if (SSL_pending(ssl) > 0)
        return true;
    char b[256];
    while (SSL_has_pending(ssl)) {
        err_reset();
        int r = SSL_read(ssl, b, sizeof b);
        if (r > 0)
            return true;
        int e = SSL_get_error(ssl, r);
        ERR_clear_error();
        if (e != SSL_ERROR_WANT_READ)
            return true; /* a close or an error: the connection cannot be reused */
    }
    return false;
}

/* Frees the record buffers unless they hold bytes. A TLS 1.3 session ticket read after a
 * response re-creates the 16.5 KiB write buffer, which SSL_MODE_RELEASE_BUFFERS would only
 * free after the next write. */
static void tls_idle(struct transport *t)
{
    if (!SSL_has_pending(t->conn))
        (void)SSL_free_buffers(t->conn);
}

/* clean: OpenSSL forgets the sessions of connections freed without a shutdown; the shutdown
 * is marked done without sending close_notify, which could hit a closed socket. */
static void tls_close(struct transport *t, bool clean)
{
    SSL *ssl = t->conn;
    if (ssl) {
        tls_ssl_set_session_slot(ssl, NULL);
        if (clean)
            SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(ssl);
        t->conn = NULL;
        ERR_clear_error();
    }
    transport_tcp_close(t);
}

static void tls_release(struct transport *t)
{
    if (t->session)
        SSL_SESSION_free(t->session);
    t->session = NULL;
}

const struct transport_ops transport_tls = {
    .name = "tls",
    .connect = transport_tcp_connect,
    .handshake = tls_handshake,
    .write = tls_write,
    .read = tls_read,
    .readable = tls_readable,
    .pending_data = tls_pending_data,
    .idle = tls_idle,
    .close = tls_close,
    .release = tls_release,
};
