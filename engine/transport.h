/* engine/transport.h - the byte stream under the HTTP client: one table of functions per kind of
 * connection (plain TCP in engine/transport_plain.c, TLS in engine/transport_tls.c), chosen once
 * per connection, so that the protocol above (engine/http1.c) never asks which one it talks to.
 * Non-blocking only; every read reports when its bytes reached the host (engine/rx_time). Knows
 * nothing of HTTP (docs/client.md). */
#ifndef FLEETSIM_ENGINE_TRANSPORT_H
#define FLEETSIM_ENGINE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

/* Outcome of one transport call. The errors name what failed; their reason is written to the
 * caller's buffer. */
enum transport_io {
    TRANSPORT_DONE,        /* connected, handshake complete, bytes written or read */
    TRANSPORT_WANT_READ,   /* call again when the socket is readable */
    TRANSPORT_WANT_WRITE,  /* call again when the socket is writable */
    TRANSPORT_EOF,         /* the peer closed (TLS: with or without close_notify) */
    TRANSPORT_ERR_IO,      /* the socket failed (reset, broken pipe, ...) */
    TRANSPORT_ERR_TLS,     /* a TLS handshake, verification or record error */
    TRANSPORT_ERR_CONNECT, /* the TCP connect (or the bind of the source address) failed */
    TRANSPORT_ERR_LOCAL,   /* a local failure (socket(), out of memory) */
};

/* True for the error outcomes. */
static inline bool transport_failed(enum transport_io r)
{
    return r > TRANSPORT_EOF;
}

/* Where and how to connect; shared by many connections, referenced only during the calls. */
struct transport_peer {
    const struct sockaddr *addr; /* destination, IPv4 or IPv6 */
    socklen_t addr_len;
    const struct in_addr *source; /* bind to this source IPv4 address first (NULL = no) */
    const char *host;             /* TLS: SNI and the expected identity (NULL = none) */
    SSL_CTX *ssl_ctx;             /* TLS: the client context (engine/tls.h) */
    bool no_resumption;           /* TLS: never offer the previous session */
};

struct transport;

/* One kind of connection. Every function takes the connection's transport; errors write a short
 * reason (never secrets) to why (n bytes). */
struct transport_ops {
    const char *name; /* "tcp", "tls" */
    /* Starts a non-blocking TCP connect to peer: TRANSPORT_DONE (in progress or made: wait for
     * writability, then transport_connect_result; *started_ns is when connect() was called)
     * or an error. */
    enum transport_io (*connect)(struct transport *t, const struct transport_peer *peer,
                                 uint64_t *started_ns, char *why, size_t n);
    /* After the TCP connect: runs the transport's handshake a step further (NULL when the
     * transport has none; the first step sets up its state). DONE when complete; t->resumed
     * then tells whether a session was resumed. */
    enum transport_io (*handshake)(struct transport *t, const struct transport_peer *peer,
                                   char *why, size_t n);
    /* Writes buf[0, len) once. DONE: all of it went. WANT_*: *done bytes went (TLS: 0, the call
     * must be repeated with the same bytes), the rest waits for that readiness. */
    enum transport_io (*write)(struct transport *t, const void *buf, size_t len, size_t *done,
                               char *why, size_t n);
    /* Reads once into buf: DONE with *got > 0 bytes, which reached the host at t->rx_ns. */
    enum transport_io (*read)(struct transport *t, void *buf, size_t cap, size_t *got, char *why,
                              size_t n);
    /* True when bytes are buffered inside the transport (which epoll cannot see): read again
     * before waiting for the socket. */
    bool (*readable)(const struct transport *t);
    /* True when application bytes are already buffered beyond what was read; records that carry
     * none (a TLS 1.3 session ticket) are consumed on the way. */
    bool (*pending_data)(struct transport *t);
    /* The connection fell idle: release buffers it will not need until the next request (NULL
     * when it holds none). */
    void (*idle)(struct transport *t);
    /* Closes the connection (keeps what a reconnect reuses: the TLS session). clean: a TLS
     * session stays resumable (no close_notify is sent: the socket may be closed already). */
    void (*close)(struct transport *t, bool clean);
    /* Frees what close kept (NULL when it keeps nothing). */
    void (*release)(struct transport *t);
};

/* The kinds of transport, chosen once per connection. */
enum transport_kind {
    TRANSPORT_PLAIN, /* plain TCP */
    TRANSPORT_TLS,   /* TLS over TCP */
};

/* One connection's transport; embed it, then transport_init. Its table is found by its kind
 * (a byte, not a pointer: a fleet holds one per agent, and every 8 bytes are ~1 % of a plain
 * agent's memory). */
struct transport {
    void *conn;           /* the implementation's per-connection state (TLS: the SSL), or NULL */
    SSL_SESSION *session; /* TLS: the last session, kept across reconnects for resumption */
    uint64_t rx_ns;       /* when the bytes of the last read reached the host (CLOCK_MONOTONIC) */
    int fd;               /* the socket, -1 when closed */
    bool resumed;         /* the last handshake resumed a session */
    uint8_t kind;         /* enum transport_kind */
};

/* The tables (engine/transport.c), by kind. */
extern const struct transport_ops *const transport_tables[];
extern const struct transport_ops transport_plain;
extern const struct transport_ops transport_tls;

/* Sets t up closed, of the given kind. */
void transport_init(struct transport *t, enum transport_kind kind);

/* t's table. */
static inline const struct transport_ops *transport_ops(const struct transport *t)
{
    return transport_tables[t->kind];
}

/* True while t has a socket. */
static inline bool transport_is_open(const struct transport *t)
{
    return t->fd >= 0;
}

/* ---- calls through t's table (see struct transport_ops) ---------------------------------- */

static inline enum transport_io transport_connect(struct transport *t,
                                                  const struct transport_peer *peer,
                                                  uint64_t *started_ns, char *why, size_t n)
{
    return transport_ops(t)->connect(t, peer, started_ns, why, n);
}

/* True when t has a handshake to run after the TCP connect. */
static inline bool transport_has_handshake(const struct transport *t)
{
    return transport_ops(t)->handshake != NULL;
}

static inline enum transport_io
transport_handshake(struct transport *t, const struct transport_peer *peer, char *why, size_t n)
{
    return transport_ops(t)->handshake(t, peer, why, n);
}

static inline enum transport_io transport_write(struct transport *t, const void *buf, size_t len,
                                                size_t *done, char *why, size_t n)
{
    return transport_ops(t)->write(t, buf, len, done, why, n);
}

static inline enum transport_io transport_read(struct transport *t, void *buf, size_t cap,
                                               size_t *got, char *why, size_t n)
{
    return transport_ops(t)->read(t, buf, cap, got, why, n);
}

static inline bool transport_readable(const struct transport *t)
{
    return transport_ops(t)->readable(t);
}

static inline bool transport_pending_data(struct transport *t)
{
    return transport_ops(t)->pending_data(t);
}

static inline void transport_idle(struct transport *t)
{
    if (transport_ops(t)->idle)
        transport_ops(t)->idle(t);
}

static inline void transport_close(struct transport *t, bool clean)
{
    transport_ops(t)->close(t, clean);
}

static inline void transport_release(struct transport *t)
{
    if (transport_ops(t)->release)
        transport_ops(t)->release(t);
}

/* After writability following connect: 0 when the TCP connect succeeded, else its errno. */
int transport_connect_result(const struct transport *t);

/* The TCP connect both tables use (engine/transport_plain.c): a non-blocking socket with
 * TCP_NODELAY and kernel receive timestamps, bound to peer->source when set. */
enum transport_io transport_tcp_connect(struct transport *t, const struct transport_peer *peer,
                                        uint64_t *started_ns, char *why, size_t n);

/* Closes t's socket, if any. */
void transport_tcp_close(struct transport *t);

#endif
