/* refserver/conn_internal.h - the seam between a connection (refserver/conn.c: socket, TLS,
 * buffers, timers) and a protocol module that turns its bytes into requests (refserver/http1.c
 * for HTTP/1.1; an HTTP/2 module is one more struct http_proto in conn.c's ALPN table). The
 * connection owns the transport; the module owns its parser state and its streams. */
#ifndef FLEETSIM_REFSERVER_CONN_INTERNAL_H
#define FLEETSIM_REFSERVER_CONN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "refserver/httpd.h"
#include "refserver/request.h"

struct conn;
struct evbuffer;
struct http_session;

/* One protocol module. Its functions run on the connection's loop thread. */
struct http_proto {
    const char *alpn; /* the ALPN protocol id it speaks ("http/1.1") */
    /* State for a new connection; NULL when out of memory. */
    struct http_session *(*open)(struct conn *c);
    /* Bytes wait in in: consume (drain) what it can. Returns 0, or -1 when the connection is to
     * be closed now (its state is then closed through close). */
    int (*input)(struct http_session *s, struct evbuffer *in);
    /* The output fell to empty after being above the connection's write limit. */
    void (*drained)(struct http_session *s);
    /* Answers req (one of the module's streams) with status: serialise and queue it. */
    void (*reply)(struct http_req *req, int status, const char *reason);
    /* Drops req without an answer, closing what carries it. */
    void (*abandon)(struct http_req *req);
    /* The connection is going away: free the state now, or once a request still held by the
     * handler is answered or abandoned (it must stop using c). */
    void (*close)(struct http_session *s);
};

extern const struct http_proto http1_proto;

/* Where timers stand for the request being read. */
enum conn_phase {
    PHASE_IDLE,    /* between requests: the idle timeout */
    PHASE_HEADERS, /* a request started: the header timeout from its first byte */
    PHASE_BODY,    /* headers read: the read timeout from its first byte */
    PHASE_BUSY,    /* a request is with the handler: no read timer */
};

/* The connection's output buffer (append whole replies). */
struct evbuffer *conn_output(struct conn *c);
/* The server's limits. */
const struct httpd_limits *conn_limits(const struct conn *c);
/* Sets the read timer for phase; since_ns: when the phase's clock started (clock_now_ns). */
void conn_set_phase(struct conn *c, enum conn_phase phase, uint64_t since_ns);
/* Stops reading from the socket (a request is with the handler). */
void conn_pause(struct conn *c);
/* Reads again; bytes already buffered are offered to input from the loop, not from here. */
void conn_resume(struct conn *c);
/* true when the output holds more than the write limit: stop producing replies until the
 * protocol's drained() is called. */
bool conn_output_full(struct conn *c);
/* Closes without writing what is pending, from the loop (never from inside the caller). */
void conn_close_now(struct conn *c);
/* Closes once the output has been written (no more requests are read). linger: then shut
 * down the sending side and read and drop the client's input for a moment before closing, so
 * that unread input does not reset the connection before the client reads the answer. */
void conn_close_after_write(struct conn *c, bool linger);
/* Hands a parsed request to the server's handler. */
void conn_dispatch(struct conn *c, struct http_req *req);
/* Tells the server that the protocol answered a request itself with status. */
void conn_refused(struct conn *c, int status);
/* The peer's and the local address, whether TLS carries it, and its protocol's ALPN id. */
const struct sockaddr *conn_peer(const struct conn *c);
const struct sockaddr *conn_local(const struct conn *c);
bool conn_is_tls(const struct conn *c);
/* A formatted Date header value for now ("Tue, 08 Dec 2026 03:08:11 GMT"), cached per second. */
const char *conn_date(struct conn *c);

#endif
