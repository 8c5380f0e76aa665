/* refserver/request.h - the reference server's request object and its one reply API. A protocol
 * module (refserver/http1.c today; HTTP/2 beside it later) fills a struct http_req from the wire
 * and hands it to the server's handler; the handler answers through http_reply_* whatever the
 * protocol. Nothing here names a protocol: see refserver/conn_internal.h for that seam. */
#ifndef FLEETSIM_REFSERVER_REQUEST_H
#define FLEETSIM_REFSERVER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct evbuffer;
struct http_proto;
struct http_stream;

/* The methods the server tells apart; anything else parsed is METHOD_OTHER. */
enum req_method {
    METHOD_GET,
    METHOD_HEAD,
    METHOD_POST,
    METHOD_PUT,
    METHOD_DELETE,
    METHOD_PATCH,
    METHOD_OPTIONS,
    METHOD_OTHER,
};

/* One request header as received (name case kept, value without surrounding whitespace). */
struct http_header {
    const char *name;
    const char *value;
};

struct http_req;
/* Called once the reply has been handed to the protocol (status 0: closed without an answer). */
typedef void (*http_sent_fn)(struct http_req *req, int status, void *arg);

/* One request. Everything it points to stays valid until the request is answered (or closed)
 * through http_reply_send / http_reply_close, even if its connection goes away meanwhile. */
struct http_req {
    /* what arrived */
    enum req_method method;
    const char *target; /* request target as sent ("/path?query"), NUL-terminated */
    const struct http_header *headers;
    size_t n_headers;
    const char *body; /* NUL-terminated after body_len bytes ("" when none) */
    size_t body_len;
    const struct sockaddr *peer;  /* the client's address */
    const struct sockaddr *local; /* the address the connection arrived on */
    bool tls;
    const char *protocol; /* "http/1.1" */
    uint64_t arrival_ns;  /* clock_now_ns() when its first byte was parsed */

    /* the answer being built: write the body here, headers through http_reply_header */
    struct evbuffer *out;

    /* optional: told the status once the reply (or close) is handed over */
    http_sent_fn on_sent;
    void *on_sent_arg;

    /* the protocol's own: its module, its stream, and the response header block being built */
    const struct http_proto *proto;
    struct http_stream *stream;
    char *resp_headers;
    size_t resp_headers_len, resp_headers_cap;
};

/* Value of the first header named name (ASCII case-insensitive), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);

/* The method's name ("GET"); "OTHER" for METHOD_OTHER. */
const char *http_method_name(enum req_method m);

/* Writes the address the request arrived on as an authority ("127.0.0.1:8443", "[::1]:8443")
 * into buf (size n). This is the server's own name for itself, never the client's Host header.
 * Returns false when it does not fit or the address family is unknown. */
bool http_req_local_authority(const struct http_req *req, char *buf, size_t n);

/* Adds a response header (name and value without CR/LF). Returns 0 or -ENOMEM. */
int http_reply_header(struct http_req *req, const char *name, const char *value);

/* The reason phrase of an HTTP status this server sends ("Unknown" for any other). */
const char *http_status_text(int status);

/* Sends status with the headers added so far and req->out as the body (Content-Length and
 * Date are added; a HEAD request gets the headers only). reason: the reason phrase. The
 * request must not be used afterwards. */
void http_reply_send(struct http_req *req, int status, const char *reason);

/* Closes the request's connection without an answer. The request must not be used
 * afterwards. */
void http_reply_close(struct http_req *req);

#endif
