/* engine/http1.c - HTTP/1.1 on the connection core (see http_conn_internal.h): one request at a
 * time per connection, formatted without printf and written straight from http_conn_send
 * (the rest kept for EV_WRITE only when the socket is full), the response read through the
 * transport table into a stack buffer and parsed by engine/http_parse, keep-alive and
 * Connection: close honoured, and any byte on an idle connection (or beyond a response) ending
 * it. Idle connections hold no buffers: the parser and pending bytes live in the call. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "engine/clock.h"
#include "engine/http_conn_internal.h"
#include "engine/http_parse.h"
#include "engine/text_out.h"

/* Stack buffer a request is formatted into (larger ones are allocated), and the one responses
 * are read into. */
#define REQUEST_STACK_BYTES 4096
#define READ_CHUNK_BYTES 16384
/* Reads per readiness event at most, so that one busy connection does not starve the others
 * (the rest is read on the next loop iteration). */
#define READS_PER_EVENT 8

/* An HTTP/1.1 request in flight. */
struct http1_call {
    struct http_call base;
    char *out; /* request bytes not yet written (malloc'd), or NULL */
    size_t out_len, out_off;
    struct http_parser parser;
};

static struct http1_call *call_of(const struct http_conn *c)
{
    return (struct http1_call *)c->call;
}

static void format_host(const struct http_conn_config *cfg, struct text_out *o)
{
    text_out_str(o, "Host: ");
    if (cfg->host_header) {
        text_out_str(o, cfg->host_header);
        text_out_add(o, "\r\n", 2);
        return;
    }
    const char *host = cfg->host ? cfg->host : "";
    uint16_t port = cfg->addr.ss_family == AF_INET6
                        ? ntohs(((const struct sockaddr_in6 *)&cfg->addr)->sin6_port)
                        : ntohs(((const struct sockaddr_in *)&cfg->addr)->sin_port);
    bool v6 = strchr(host, ':') != NULL;
    if (v6)
        text_out_add(o, "[", 1);
    text_out_str(o, host);
    if (v6)
        text_out_add(o, "]", 1);
    if (port != (cfg->ssl_ctx ? 443 : 80)) { /* the scheme's default port */
        text_out_add(o, ":", 1);
        text_out_uint(o, port, 1);
    }
    text_out_add(o, "\r\n", 2);
}

/* Formats the request into buf (cap bytes). Returns its full length, which may exceed cap
 * (then only a prefix was written). */
static size_t format_request(const struct http_conn_config *cfg, const struct http_request *req,
                             char *buf, size_t cap)
{
    struct text_out o = text_out_start(buf, cap);
    text_out_str(&o, req->method);
    text_out_add(&o, " ", 1);
    text_out_str(&o, req->path);
    text_out_add(&o, " HTTP/1.1\r\n", 11);
    format_host(cfg, &o);
    if (req->headers && *req->headers) {
        size_t n = strlen(req->headers);
        text_out_add(&o, req->headers, n);
        if (req->headers[n - 1] != '\n')
            text_out_add(&o, "\r\n", 2);
    }
    if (req->body) {
        text_out_add(&o, "Content-Length: ", 16);
        text_out_uint(&o, req->body_len, 1);
        text_out_add(&o, "\r\n", 2);
    }
    text_out_add(&o, "\r\n", 2);
    if (req->body && req->body_len)
        text_out_add(&o, req->body, req->body_len);
    return o.len;
}

/* Writes the request bytes waiting in the call. Returns false when the request ended. */
static bool h1_on_writable(struct http_conn *c)
{
    struct http1_call *call = call_of(c);
    if (!call->out)
        return true;
    size_t done;
    enum http_error kind = HTTP_ERR_CLOSED;
    enum transport_io w =
        hconn_write(c, call->out + call->out_off, call->out_len - call->out_off, &done, &kind);
    if (transport_failed(w)) {
        hconn_finish(c, kind, true);
        return false;
    }
    call->out_off += done;
    if (w == TRANSPORT_DONE) {
        free(call->out);
        call->out = NULL;
        call->out_len = call->out_off = 0;
    }
    return true;
}

/* Keeps the bytes of buf (len, done of them written) that wait for the socket. Returns 0 or
 * -ENOMEM. */
static int keep_rest(struct http1_call *call, char *buf, bool on_stack, size_t len, size_t done)
{
    if (on_stack) {
        if (!(call->out = malloc(len - done)))
            return -ENOMEM;
        memcpy(call->out, buf + done, len - done);
    } else {
        memmove(buf, buf + done, len - done);
        call->out = buf;
    }
    call->out_len = len - done;
    return 0;
}

/* Sends on an open idle connection: the bytes go to the socket now, from a stack buffer when
 * the socket takes them all (the usual case), else the rest is kept until EV_WRITE (TLS: all
 * of it, SSL_write is repeated whole). A write error is reported from the loop. */
static int send_now(struct http_conn *c, const struct http_request *req)
{
    struct http1_call *call = call_of(c);
    char stack[REQUEST_STACK_BYTES];
    char *buf = stack;
    size_t len = format_request(c->cfg, req, stack, sizeof stack);
    if (len > sizeof stack) {
        if (!(buf = malloc(len)))
            return -ENOMEM;
        format_request(c->cfg, req, buf, len);
    }
    c->state = HC_BUSY;
    call->base.reused = true;
    call->base.sent_ns = clock_now_ns();
    size_t done;
    enum http_error kind = HTTP_ERR_CLOSED;
    enum transport_io w = hconn_write(c, buf, len, &done, &kind);
    if (w == TRANSPORT_DONE || transport_failed(w)) {
        if (buf != stack)
            free(buf);
        if (w == TRANSPORT_DONE)
            hconn_arm_deadline(c);
        else /* e.g. the server closed the idle connection a moment ago */
            hconn_defer(c, kind);
        return 0;
    }
    if (keep_rest(call, buf, buf == stack, len, done) != 0) {
        hconn_close(c); /* part of a request went out: the connection is unusable */
        return -ENOMEM;
    }
    hconn_arm_deadline(c);
    hconn_want(c, c->write_blocked ? EV_READ | EV_WRITE : EV_READ);
    return 0;
}

static int h1_submit(struct http_conn *c, const struct http_request *req)
{
    struct http1_call *call = call_of(c);
    size_t cap = c->cfg->max_body_bytes ? c->cfg->max_body_bytes : HTTP_DEFAULT_MAX_BODY_BYTES;
    http_parser_begin(&call->parser, cap, strcasecmp(req->method, "HEAD") == 0);
    if (c->state == HC_READY)
        return send_now(c, req);
    size_t len = format_request(c->cfg, req, NULL, 0);
    if (!(call->out = malloc(len)))
        return -ENOMEM;
    call->out_len = format_request(c->cfg, req, call->out, len);
    hconn_open(c);
    return 0;
}

static enum http_error parse_error_kind(int rc)
{
    switch (rc) {
    case HTTP_PARSE_ERR_HEADERS_TOO_LARGE:
    case HTTP_PARSE_ERR_TOO_MANY_HEADERS:
    case HTTP_PARSE_ERR_BODY_TOO_LARGE:
        return HTTP_ERR_TOO_LARGE;
    case HTTP_PARSE_ERR_EMPTY:
    case HTTP_PARSE_ERR_TRUNCATED:
        return HTTP_ERR_CLOSED;
    case HTTP_PARSE_ERR_NOMEM:
        return HTTP_ERR_OTHER;
    default:
        return HTTP_ERR_PROTOCOL;
    }
}

/* Feeds response bytes to the parser. Returns true when the request ended (the callback ran:
 * c must not be touched any more). */
static bool feed(struct http_conn *c, const char *data, size_t n)
{
    struct http1_call *call = call_of(c);
    struct http_parser *p = &call->parser;
    /* when these bytes arrived; never before the request went out */
    uint64_t arrived = c->tr.rx_ns > call->base.sent_ns ? c->tr.rx_ns : call->base.sent_ns;
    if (!call->base.first_byte_ns)
        call->base.first_byte_ns = arrived;
    size_t used = 0;
    int rc = http_parser_feed(p, data, n, &used);
    if (rc < 0) {
        hconn_fail(c, parse_error_kind(rc), http_parse_rc_str(rc), NULL);
        return true;
    }
    if (rc != HTTP_PARSE_DONE)
        return false;
    call->base.answered_ns = arrived;
    /* bytes beyond the response answer no request: drop the connection */
    bool extra = used < n || transport_pending_data(&c->tr);
    hconn_finish(c, HTTP_ERR_NONE, extra || !http_parser_keep_alive(p));
    return true;
}

/* The peer closed while a request was in flight (data before the close already fed). */
static void at_eof(struct http_conn *c)
{
    int rc = http_parser_eof(&call_of(c)->parser);
    if (rc == HTTP_PARSE_DONE)
        hconn_finish(c, HTTP_ERR_NONE, true);
    else
        hconn_fail(c, parse_error_kind(rc), http_parse_rc_str(rc), NULL);
}

/* Reads what the transport has for the request in flight. */
static enum http_readable read_response(struct http_conn *c)
{
    char buf[READ_CHUNK_BYTES];
    char err[HTTP_DETAIL_LEN];
    for (int i = 0; i < READS_PER_EVENT; i++) {
        size_t n = 0;
        enum http_error kind = HTTP_ERR_CLOSED;
        switch (hconn_read(c, buf, sizeof buf, &n, &kind, err)) {
        case TRANSPORT_DONE:
            if (feed(c, buf, n))
                return HTTP_READ_ENDED;
            /* a short read emptied the socket; the transport may still hold further records */
            if (n < sizeof buf && !transport_readable(&c->tr))
                return HTTP_READ_WAIT;
            break;
        case TRANSPORT_WANT_READ:
        case TRANSPORT_WANT_WRITE:
            return HTTP_READ_WAIT;
        case TRANSPORT_EOF:
            at_eof(c);
            return HTTP_READ_ENDED;
        default:
            hconn_fail(c, kind, err, NULL);
            return HTTP_READ_ENDED;
        }
    }
    return HTTP_READ_MORE;
}

/* Readiness on an idle open connection: the server closed it, or sent bytes answering no
 * request (both close it), or a TLS record that is not data (a session ticket) arrived. */
static void idle_read(struct http_conn *c)
{
    char buf[512];
    char err[HTTP_DETAIL_LEN];
    for (int i = 0; i < READS_PER_EVENT; i++) {
        size_t n;
        enum http_error kind;
        /* data, a close, an error, or (rare) the transport wanting to write: give it up */
        if (hconn_read(c, buf, sizeof buf, &n, &kind, err) != TRANSPORT_WANT_READ) {
            hconn_close(c);
            return;
        }
        if (!transport_readable(&c->tr)) {
            transport_idle(&c->tr); /* a session ticket re-created the write buffer */
            return;
        }
    }
}

static enum http_readable h1_on_readable(struct http_conn *c)
{
    if (c->state == HC_BUSY)
        return read_response(c);
    idle_read(c);
    return HTTP_READ_WAIT;
}

static unsigned h1_in_flight(const struct http_conn *c)
{
    return c->call != NULL;
}

static int h1_close(struct http_conn *c)
{
    if (c->call)
        return -EBUSY;
    hconn_close(c);
    return 0;
}

static void h1_result(const struct http_call *base, enum http_error err, struct http_result *res)
{
    const struct http1_call *call = (const struct http1_call *)base;
    res->status = call->parser.status;
    if (err == HTTP_ERR_NONE)
        res->body = http_parser_body(&call->parser, &res->body_len);
}

static const char *h1_header(const struct http_call *base, const char *name)
{
    return http_parser_header(&((const struct http1_call *)base)->parser, name);
}

static void h1_call_release(struct http_call *base)
{
    struct http1_call *call = (struct http1_call *)base;
    free(call->out);
    http_parser_release(&call->parser);
}

const struct http_proto http1_client_proto = {
    .name = "http/1.1",
    .call_size = sizeof(struct http1_call),
    .submit = h1_submit,
    .on_writable = h1_on_writable,
    .on_readable = h1_on_readable,
    .in_flight = h1_in_flight,
    .close = h1_close,
    .result = h1_result,
    .header = h1_header,
    .call_release = h1_call_release,
};
