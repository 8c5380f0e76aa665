/* engine/http_client.h - HTTP/1.1 client connection on bare libevent events, plain or TLS:
 * keep-alive, exactly one request in flight, per-request timeout, bounded buffers and
 * per-request timings (intended, sent, connect, TLS, first byte, done) on one monotonic clock.
 * Non-blocking only: callbacks run from the connection's event_base. A program using it must
 * ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)): OpenSSL writes to sockets the server may have
 * closed. */
#ifndef FLEETSIM_ENGINE_HTTP_CLIENT_H
#define FLEETSIM_ENGINE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

struct event_base;
struct http_conn;

/* Default cap on a response body when http_conn_config.max_body_bytes is 0. */
#define HTTP_DEFAULT_MAX_BODY_BYTES ((size_t)1 << 20)

/* How a request ended. Every request ends in exactly one of these. */
enum http_error {
    HTTP_ERR_NONE = 0,  /* a complete response was received (any status) */
    HTTP_ERR_CONNECT,   /* TCP connect failed (refused, unreachable, bind of source failed) */
    HTTP_ERR_TLS,       /* TLS handshake or record error; detail holds OpenSSL's reason */
    HTTP_ERR_CLOSED,    /* connection closed or reset before the response was complete
                            (no byte at all, or a truncated header section or body) */
    HTTP_ERR_TIMEOUT,   /* no complete response within timeout_ns of http_conn_send */
    HTTP_ERR_PROTOCOL,  /* malformed response: bad status line, header, chunk size, garbage */
    HTTP_ERR_TOO_LARGE, /* response over a limit: header section > 64 KiB, too many headers,
                            body > max_body_bytes */
    HTTP_ERR_OTHER,     /* local failure (out of memory, socket() failed, ...) */
};
#define HTTP_ERR_COUNT 8

/* Short lower-case name of an error kind ("none", "connect", "tls", "closed", "timeout",
 * "protocol", "too_large", "other"); static storage. */
const char *http_error_name(enum http_error e);

/* Connection settings. Referenced, not copied, by http_conn_new (except source_ipv4 and
 * bind_source): it must outlive every connection created from it, and many connections may
 * share one config. Fill with http_conn_config_init, then adjust fields. */
struct http_conn_config {
    struct sockaddr_storage addr; /* destination, IPv4 or IPv6 */
    socklen_t addr_len;
    const char *host;        /* name or IP literal (IPv6 without brackets): SNI, verification,
                                 and Host header; not copied */
    const char *host_header; /* Host header value; NULL = host, plus ":port" when the port is
                                 not the scheme's default, IPv6 literals in brackets */
    SSL_CTX *ssl_ctx;        /* NULL = plain HTTP; else TLS with this context (not owned) */
    bool bind_source;        /* bind the socket to source_ipv4 (port chosen at connect;
                                 IPv4 destinations only) */
    struct in_addr source_ipv4;
    uint64_t timeout_ns;    /* per request, from http_conn_send to done; 0 = none */
    size_t max_body_bytes;  /* response body cap; 0 = HTTP_DEFAULT_MAX_BODY_BYTES */
    bool tls_no_resumption; /* true: never resume a TLS session on reconnect */
};

/* Initialises cfg for host:port (resolved now with getaddrinfo, which may block: call it at
 * setup, not per request; IP literals never block; a name with IPv4 and IPv6 addresses gets
 * the first IPv4 one), TLS when ssl_ctx is non-NULL, with
 * timeout_ns = 30 s and the default body cap. host is referenced, not copied.
 * Returns 0, or a negative errno-style code with a one-line reason in err. */
int http_conn_config_init(struct http_conn_config *cfg, const char *host, uint16_t port,
                          SSL_CTX *ssl_ctx, char *err, size_t errlen);

/* A request. Every pointer only needs to be valid during http_conn_send (bytes are copied). */
struct http_request {
    const char *method;  /* "GET", "POST", "HEAD", ... */
    const char *path;    /* request target, e.g. "/api/v1/items/1?x=y" */
    const char *headers; /* extra header lines "Name: value\r\n..." (User-Agent,
                             Authorization, Content-Type, ...) or NULL; never logged */
    const char *body;    /* NULL = no body and no Content-Length; else body_len bytes are
                             sent with a Content-Length header (also when body_len is 0) */
    size_t body_len;
    uint64_t intended_ns; /* when the caller's schedule wanted it sent (clock_now_ns) */
};

/* The outcome of one request, passed to the callback. Everything it points to is valid only
 * during the callback. Times are CLOCK_MONOTONIC nanoseconds (clock_now_ns). */
struct http_result {
    enum http_error error;
    int status;         /* HTTP status, 0 when no status line was received; on an error
                               it may hold the broken response's status: check error first */
    const char *detail; /* short reason for an error ("" when none); never holds headers */
    const char *body;   /* response body, NUL-terminated after body_len bytes; "" when
                               none and on every error */
    size_t body_len;
    uint64_t intended_ns;   /* as given in the request */
    uint64_t sent_ns;       /* request bytes handed to the socket (after connect and TLS on a
                               fresh connection); 0 when never sent */
    uint64_t connect_ns;    /* duration of the TCP connect; 0 when the connection was reused */
    uint64_t tls_ns;        /* duration of the TLS handshake; 0 when reused or plain */
    uint64_t first_byte_ns; /* when the first response bytes reached the host (the kernel's
                               receive timestamp, engine/rx_time); 0 when none */
    uint64_t done_ns;       /* a response: when its last bytes reached the host (so time the
                               loop took to get round to it is not counted); an error: when
                               it was noticed */
    bool reused;            /* the request went over an already open connection */
    bool tls_resumed;       /* a fresh TLS connection resumed a previous session */
    const void *priv_;      /* internal: header storage for http_result_header */
};

/* Case-insensitive lookup of a response header ("Replay-Nonce", "Location", "Content-Type",
 * "Retry-After", ...). Returns the first value (NUL-terminated, surrounding whitespace
 * trimmed, valid during the callback), or NULL when absent or no response was received. */
const char *http_result_header(const struct http_result *res, const char *name);

/* Completion callback: called exactly once per accepted http_conn_send, always from the event
 * loop (never from inside http_conn_send). It may call http_conn_send again on the same
 * connection (the connection is already idle) or http_conn_free. */
typedef void (*http_done_cb)(const struct http_result *res, void *arg);

/* Creates an idle connection (no socket yet: it connects lazily on the first send, and again
 * after an error, a timeout or a server close). Returns NULL on out of memory. */
struct http_conn *http_conn_new(struct event_base *base, const struct http_conn_config *cfg);

/* Overrides the source IPv4 address of this connection (used from the next connect on);
 * src NULL = no binding. */
void http_conn_set_source_ipv4(struct http_conn *conn, const struct in_addr *src);

/* Sends req; cb(res, arg) runs once when the response is complete or the request failed.
 * On an open idle connection the bytes are written to the socket before this returns (the
 * rest waits for writability when the socket is full); otherwise the connect starts.
 * Returns 0, -EBUSY when a request is already in flight on this connection, -EINVAL for a
 * missing method/path, -ENOMEM. On a non-zero return cb is never called. */
int http_conn_send(struct http_conn *conn, const struct http_request *req, http_done_cb cb,
                   void *arg);

/* True while a request is in flight (between a successful send and its callback). */
bool http_conn_busy(const struct http_conn *conn);

/* True when the connection has an open socket (connected or connecting). */
bool http_conn_is_open(const struct http_conn *conn);

/* Closes the socket of an idle connection (the next send reconnects). Returns 0, or -EBUSY
 * while a request is in flight. */
int http_conn_close(struct http_conn *conn);

/* Frees the connection and closes its socket. A request still in flight is abandoned: its
 * callback is never called. NULL is a no-op. */
void http_conn_free(struct http_conn *conn);

#endif
