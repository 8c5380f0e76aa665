/* engine/http_conn_internal.h - inside the HTTP client: the connection core
 * (engine/http_client.c: connect, handshake, one persistent EV_READ, deadline, callback) and
 * the protocol seam it drives (struct http_proto: the request/response layer that HTTP/1.1
 * implements in engine/http1.c), over one transport table (engine/transport.h). The actors
 * use only engine/http_client.h and never see which protocol or transport runs
 * (docs/client.md). */
#ifndef FLEETSIM_ENGINE_HTTP_CONN_INTERNAL_H
#define FLEETSIM_ENGINE_HTTP_CONN_INTERNAL_H

#include <event2/event.h>
#include <event2/event_struct.h>

#include "engine/http_client.h"
#include "engine/transport.h"

#define HTTP_DETAIL_LEN 112

struct http_proto;

/* Connection states (http_conn.state). */
enum http_conn_state {
    HC_IDLE,       /* no socket */
    HC_CONNECTING, /* non-blocking connect in progress; io waits for writability */
    HC_HANDSHAKE,  /* the transport's handshake (TLS) in progress */
    HC_READY,      /* open, nothing in flight; io waits for reads (a close, stray bytes) */
    HC_BUSY,       /* a request is (being) written, its response read */
    HC_DEFERRED,   /* no socket; tmo is active to deliver an early error from the loop */
};

/* One request in flight: exists from http_conn_send to the end of its callback. A protocol's
 * own per-request state starts with it (http_proto.call_size bytes are allocated, zeroed). */
struct http_call {
    const struct http_proto *proto;
    http_done_cb cb;
    void *arg;
    uint64_t intended_ns, sent_ns, connect_ns, tls_ns, first_byte_ns;
    uint64_t answered_ns;    /* the complete response's arrival (rx_time), 0 until then */
    uint64_t phase_start_ns; /* start of the connect or of the handshake */
    enum http_error pending_err;
    bool reused, tls_resumed;
    char detail[HTTP_DETAIL_LEN];
};

/* What reading for a connection came to. */
enum http_readable {
    HTTP_READ_ENDED, /* the request ended (its callback ran: c must not be touched) */
    HTTP_READ_WAIT,  /* wait for the socket's next readiness */
    HTTP_READ_MORE,  /* more is waiting (the read budget ran out): come back from the loop */
};

/* The request/response layer: one table per protocol, chosen once per connection. */
struct http_proto {
    const char *name; /* "http/1.1" (its ALPN id) */
    size_t call_size; /* bytes of a call: struct http_call, then the protocol's state */
    /* Takes the request: c->call is set (callback, intended time). On an open idle connection
     * the protocol writes it now (hconn_write); otherwise it keeps the bytes and opens the
     * connection (hconn_open), and on_writable sends them once it is ready. Returns 0, or
     * -errno with nothing started (the core then frees the call; its callback never runs). */
    int (*submit)(struct http_conn *c, const struct http_request *req);
    /* The socket is writable, or the connection just became ready: sends what waits. Returns
     * false when the request ended (c must not be touched). */
    bool (*on_writable)(struct http_conn *c);
    /* The socket or the transport has bytes, or the peer closed; on a busy connection (read the
     * response) or an idle one (HTTP/1.1: anything but a TLS ticket ends the connection). */
    enum http_readable (*on_readable)(struct http_conn *c);
    /* Requests in flight on c. */
    unsigned (*in_flight)(const struct http_conn *c);
    /* Closes the connection when nothing is in flight: 0, or -EBUSY. */
    int (*close)(struct http_conn *c);
    /* Fills res's status, body and header access when call ends with err. */
    void (*result)(const struct http_call *call, enum http_error err, struct http_result *res);
    /* A response header of the call (case-insensitive name), or NULL. */
    const char *(*header)(const struct http_call *call, const char *name);
    /* Frees the protocol's part of a call (not the call itself). */
    void (*call_release)(struct http_call *call);
};

/* HTTP/1.1 (engine/http1.c). */
extern const struct http_proto http1_client_proto;

/* The protocols, by http_conn.proto (a byte, as the transport's kind). */
enum http_proto_id {
    HTTP_PROTO_1_1,
};

/* A connection. Its size is a fleet's memory per agent: it holds no pointer it can do
 * without (the event_base is the events'). */
struct http_conn {
    const struct http_conn_config *cfg;
    struct transport tr;
    struct http_call *call; /* the request in flight, or NULL */
    struct event io;        /* the socket, with io_what | EV_PERSIST while open */
    struct event tmo;       /* request deadline, or a deferred error */
    struct timeval tmo_tv;  /* libevent common-timeout handle for tmo_for_ns */
    uint64_t tmo_for_ns;
    short io_what; /* EV_READ / EV_WRITE the io event is added with; 0 = not added */
    struct in_addr src;
    uint8_t state; /* enum http_conn_state */
    uint8_t proto; /* enum http_proto_id */
    bool bind_src;
    bool write_blocked;    /* the pending output waits for EV_WRITE */
    bool read_wants_write; /* the transport's read asked for writability */
};

/* ---- the core's services to protocols (engine/http_client.c) ---------------------------- */

/* Starts the connect (lazily, on a request); errors are delivered from the loop. */
void hconn_open(struct http_conn *c);

/* Makes the socket event wait for `what` (EV_READ and/or EV_WRITE); only changes cost an
 * epoll_ctl. */
void hconn_want(struct http_conn *c, short what);

/* Closes the transport (a clean close keeps the TLS session resumable); keeps the call. */
void hconn_close(struct http_conn *c);

/* Starts the request's deadline (cfg->timeout_ns from now). */
void hconn_arm_deadline(struct http_conn *c);

/* Writes through the transport once and records whether the rest waits for EV_WRITE. On an
 * error *kind is set and the call's detail says why. */
enum transport_io hconn_write(struct http_conn *c, const void *buf, size_t len, size_t *done,
                              enum http_error *kind);

/* Reads through the transport once; on an error *kind is set and errbuf (HTTP_DETAIL_LEN
 * bytes) says why. */
enum transport_io hconn_read(struct http_conn *c, void *buf, size_t cap, size_t *got,
                             enum http_error *kind, char *errbuf);

/* Reports err (the call's detail already set) from the event loop rather than from inside
 * http_conn_send; the socket is closed now. */
void hconn_defer(struct http_conn *c, enum http_error err);

/* Ends the call: closes the transport on an error (or when asked), then calls back. Touches
 * nothing of c after the callback (it may free c or send again). */
void hconn_finish(struct http_conn *c, enum http_error err, bool close_after);

/* Ends the call with an error; detail is "what" or "what: why". */
void hconn_fail(struct http_conn *c, enum http_error err, const char *what, const char *why);

#endif
