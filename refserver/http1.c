/* refserver/http1.c - the HTTP/1.1 protocol module: requests parsed strictly by the nodejs
 * http_parser library (Debian libhttp-parser-dev) plus the checks it leaves to its user (header
 * block size and count, obs-fold, Host on HTTP/1.1, body limit), one request at a time per
 * connection so pipelined requests are answered in order, keep-alive, and each reply written as
 * one contiguous block (one TLS record when it fits). A request the module refuses is answered
 * 400, 413, 431 or 505 and the connection closed. See docs/target.md for the limits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <http_parser.h>

#include "engine/clock.h"
#include "refserver/conn_internal.h"

/* Largest reply written as one contiguous block: TLS's largest record plaintext. */
#define ONE_BLOCK_BYTES 16384u
/* A body buffer grown beyond this is freed after its request (idle connections stay small). */
#define KEEP_BODY_BYTES (64u * 1024)

/* Finds obs-fold (a header line starting with a space or tab) in the header block, which
 * http_parser accepts and joins. Stops at the blank line that ends the block. */
struct fold_scan {
    bool line_start, blank_cr, done;
    unsigned lines; /* non-empty lines seen (leading empty lines are allowed) */
};

struct hoff {
    uint32_t name, value; /* arena offsets */
};

struct http_session {
    struct conn *conn; /* NULL once the connection is gone while a request is held */
    http_parser parser;
    struct http_req req; /* the request being read or held */
    struct sockaddr_storage peer, local;
    bool tls;

    char *arena; /* target, then header names and values, each NUL-terminated */
    size_t arena_len, arena_cap;
    struct hoff *hoff;
    struct http_header *headers;
    size_t n_headers, headers_cap;
    size_t header_bytes; /* bytes of the current header block fed to the parser */
    char *body;
    size_t body_len, body_cap;
    struct fold_scan fold;

    bool in_message, headers_done, message_done, field_open, value_open, keep_alive;
    bool busy;     /* the request is with the handler */
    bool in_input; /* inside input(): a reply continues the loop instead of resuming */
    bool gone;     /* abandoned: stop parsing */
    bool closing;  /* the last request asked to close: parse no more */
    int refuse;    /* status a callback decided to refuse the request with */
};

static const http_parser_settings parser_settings;

/* ---- obs-fold ---- */

static void fold_reset(struct fold_scan *f)
{
    *f = (struct fold_scan){.line_start = true};
}

/* Returns true when the bytes show an obs-fold line. */
static bool fold_feed(struct fold_scan *f, const char *p, size_t n)
{
    for (size_t i = 0; i < n && !f->done; i++) {
        char ch = p[i];
        if (f->blank_cr) {
            f->blank_cr = false;
            if (ch == '\n' && f->lines > 0) {
                f->done = true; /* the blank line: the block ends */
                continue;
            }
        }
        if (f->line_start) {
            f->line_start = false;
            if ((ch == ' ' || ch == '\t') && f->lines > 0)
                return true;
            if (ch == '\r') {
                f->blank_cr = true;
                f->line_start = true;
                continue;
            }
            if (ch == '\n') {
                f->done = f->lines > 0;
                f->line_start = true;
                continue;
            }
            f->lines++;
        }
        if (ch == '\n')
            f->line_start = true;
    }
    return false;
}

/* ---- the header arena ---- */

static int arena_add(struct http_session *s, const char *p, size_t n)
{
    if (s->arena_len + n + 1 > s->arena_cap) {
        size_t cap = s->arena_cap ? s->arena_cap : 1024;
        while (cap < s->arena_len + n + 1)
            cap *= 2;
        char *a = realloc(s->arena, cap);
        if (!a)
            return -1;
        s->arena = a;
        s->arena_cap = cap;
    }
    memcpy(s->arena + s->arena_len, p, n);
    s->arena_len += n;
    return 0;
}

/* Ends the piece being appended (target, name or value) with a NUL. */
static int arena_end_piece(struct http_session *s)
{
    return arena_add(s, "", 1);
}

static struct http_session *session_of(http_parser *p)
{
    return p->data;
}

static int on_message_begin(http_parser *p)
{
    struct http_session *s = session_of(p);
    s->in_message = true;
    s->arena_len = 0;
    s->n_headers = 0;
    s->body_len = 0;
    s->value_open = s->field_open = false;
    s->req.arrival_ns = clock_now_ns();
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    return arena_add(session_of(p), at, n);
}

/* Closes the previous piece: the target before the first header, a name without a value
 * (an empty value), or a value. */
static int close_piece(struct http_session *s)
{
    if (s->n_headers == 0)
        return arena_end_piece(s);
    struct hoff *h = &s->hoff[s->n_headers - 1];
    s->field_open = false;
    if (!s->value_open) { /* a name whose value was empty */
        if (arena_end_piece(s) < 0)
            return -1;
        h->value = (uint32_t)s->arena_len;
    }
    s->value_open = false;
    return arena_end_piece(s);
}

/* RFC 9110's tchar: what a header name is made of (http_parser lets a space before the colon
 * through, which would hide "Transfer-Encoding : chunked" from it). */
static bool is_token(const char *p, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        bool alnum = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
        if (!alnum && (ch == '\0' || !strchr(extra, ch)))
            return false;
    }
    return true;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct http_session *s = session_of(p);
    if (!is_token(at, n)) {
        s->refuse = 400;
        return -1;
    }
    if (!s->field_open) { /* a new name (else the rest of one split across reads) */
        if (close_piece(s) < 0)
            return -1;
        if (s->n_headers == conn_limits(s->conn)->max_headers) {
            s->refuse = 431;
            return -1;
        }
        if (s->n_headers == s->headers_cap) {
            size_t cap = s->headers_cap ? 2 * s->headers_cap : 16;
            struct hoff *ho = realloc(s->hoff, cap * sizeof *ho);
            if (ho)
                s->hoff = ho;
            struct http_header *hh = ho ? realloc(s->headers, cap * sizeof *hh) : NULL;
            if (!hh)
                return -1;
            s->headers = hh;
            s->headers_cap = cap;
        }
        s->hoff[s->n_headers++] = (struct hoff){.name = (uint32_t)s->arena_len};
        s->field_open = true;
    }
    return arena_add(s, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct http_session *s = session_of(p);
    s->field_open = false;
    if (!s->value_open) {
        if (arena_end_piece(s) < 0)
            return -1;
        s->hoff[s->n_headers - 1].value = (uint32_t)s->arena_len;
        s->value_open = true;
    }
    return arena_add(s, at, n);
}

static enum req_method method_of(unsigned m)
{
    switch (m) {
    case HTTP_GET:
        return METHOD_GET;
    case HTTP_HEAD:
        return METHOD_HEAD;
    case HTTP_POST:
        return METHOD_POST;
    case HTTP_PUT:
        return METHOD_PUT;
    case HTTP_DELETE:
        return METHOD_DELETE;
    case HTTP_PATCH:
        return METHOD_PATCH;
    case HTTP_OPTIONS:
        return METHOD_OPTIONS;
    default:
        return METHOD_OTHER;
    }
}

/* What http_parser leaves to its user: version, Host, CONNECT, the declared body size. */
static int check_head(struct http_session *s, http_parser *p)
{
    if (p->http_major != 1) {
        s->refuse = 505;
        return -1;
    }
    size_t hosts = 0;
    for (size_t i = 0; i < s->n_headers; i++)
        hosts += strcasecmp(s->headers[i].name, "Host") == 0;
    if (hosts > 1 || (hosts == 0 && p->http_minor >= 1) || p->method == HTTP_CONNECT) {
        s->refuse = 400;
        return -1;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > conn_limits(s->conn)->max_body_bytes) {
        s->refuse = 413;
        return -1;
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct http_session *s = session_of(p);
    if (close_piece(s) < 0)
        return -1;
    for (size_t i = 0; i < s->n_headers; i++)
        s->headers[i] = (struct http_header){.name = s->arena + s->hoff[i].name,
                                             .value = s->arena + s->hoff[i].value};
    s->headers_done = true;
    if (check_head(s, p) < 0)
        return -1;
    const char *expect = NULL;
    for (size_t i = 0; i < s->n_headers && !expect; i++)
        if (strcasecmp(s->headers[i].name, "Expect") == 0)
            expect = s->headers[i].value;
    if (expect && strcasecmp(expect, "100-continue") == 0 && p->http_minor >= 1 &&
        ((p->flags & F_CHUNKED) || p->content_length > 0)) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        evbuffer_add(conn_output(s->conn), cont, sizeof cont - 1);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct http_session *s = session_of(p);
    size_t max = conn_limits(s->conn)->max_body_bytes;
    if (n > max - s->body_len) {
        s->refuse = 413;
        return -1;
    }
    if (s->body_len + n + 1 > s->body_cap) {
        size_t cap = s->body_cap ? s->body_cap : 512;
        size_t want = s->body_len + n + 1;
        if (s->parser.flags & F_CONTENTLENGTH && s->parser.content_length + s->body_len + 1 > want)
            want = s->parser.content_length + s->body_len + 1; /* what remains, at once */
        while (cap < want)
            cap *= 2;
        char *b = realloc(s->body, cap);
        if (!b)
            return -1;
        s->body = b;
        s->body_cap = cap;
    }
    memcpy(s->body + s->body_len, at, n);
    s->body_len += n;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    session_of(p)->message_done = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- writing replies ---- */

static bool has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* The status line and the server's own headers; the handler's go between them and the
 * blank line. Returns the length of head (at most size), tail gets the rest. */
static size_t head_parts(struct http_session *s, int status, const char *reason, size_t body_len,
                         char *head, size_t hsize, char *tail, size_t tsize, size_t *tail_len)
{
    int hn = snprintf(head, hsize, "HTTP/1.1 %d %s\r\n", status, reason);
    int tn = snprintf(tail, tsize, "Date: %s\r\n", conn_date(s->conn));
    if (has_body(status))
        tn += snprintf(tail + tn, tsize - (size_t)tn, "Content-Length: %zu\r\n", body_len);
    if (!s->keep_alive)
        tn += snprintf(tail + tn, tsize - (size_t)tn, "Connection: close\r\n");
    else if (s->parser.http_minor == 0)
        tn += snprintf(tail + tn, tsize - (size_t)tn, "Connection: keep-alive\r\n");
    tn += snprintf(tail + tn, tsize - (size_t)tn, "\r\n");
    *tail_len = (size_t)tn;
    return (size_t)hn;
}

static void write_reply(struct http_session *s, int status, const char *reason)
{
    struct http_req *req = &s->req;
    struct evbuffer *out = conn_output(s->conn);
    size_t body_len = evbuffer_get_length(req->out);
    char head[128], tail[192];
    size_t tail_len, head_len = head_parts(s, status, reason, body_len, head, sizeof head, tail,
                                           sizeof tail, &tail_len);
    bool send_body = has_body(status) && req->method != METHOD_HEAD;
    size_t sent_body = send_body ? body_len : 0;
    size_t total = head_len + req->resp_headers_len + tail_len + sent_body;
    struct evbuffer_iovec v;
    if (total <= ONE_BLOCK_BYTES && evbuffer_reserve_space(out, (ev_ssize_t)total, &v, 1) == 1) {
        char *o = v.iov_base;
        memcpy(o, head, head_len);
        if (req->resp_headers_len > 0) /* no extra headers: resp_headers may be NULL */
            memcpy(o + head_len, req->resp_headers, req->resp_headers_len);
        memcpy(o + head_len + req->resp_headers_len, tail, tail_len);
        if (sent_body)
            evbuffer_copyout(req->out, o + total - sent_body, sent_body);
        v.iov_len = total;
        evbuffer_commit_space(out, &v, 1);
        return;
    }
    evbuffer_add(out, head, head_len);
    evbuffer_add(out, req->resp_headers, req->resp_headers_len);
    evbuffer_add(out, tail, tail_len);
    if (sent_body)
        evbuffer_add_buffer(out, req->out);
}

/* Answers a request the module refused, as Go's server does, and closes. */
static void refuse(struct http_session *s, int status)
{
    const char *reason = status == 413   ? "Request Entity Too Large"
                         : status == 431 ? "Request Header Fields Too Large"
                         : status == 505 ? "HTTP Version Not Supported"
                                         : "Bad Request";
    s->keep_alive = false;
    evbuffer_drain(s->req.out, evbuffer_get_length(s->req.out));
    evbuffer_add_printf(s->req.out, "%d %s", status, reason);
    s->req.resp_headers_len = 0;
    s->req.method = METHOD_GET;
    http_reply_header(&s->req, "Content-Type", "text/plain; charset=utf-8");
    write_reply(s, status, reason);
    s->req.resp_headers_len = 0;
    conn_refused(s->conn, status);
    s->closing = true;
    conn_close_after_write(s->conn, true);
}

/* ---- the session ---- */

static void session_free(struct http_session *s)
{
    if (s->req.out)
        evbuffer_free(s->req.out);
    free(s->req.resp_headers);
    free(s->arena);
    free(s->hoff);
    free(s->headers);
    free(s->body);
    free(s);
}

static void next_message(struct http_session *s)
{
    http_parser_init(&s->parser, HTTP_REQUEST);
    s->in_message = s->headers_done = s->message_done = false;
    s->header_bytes = 0;
    s->refuse = 0;
    fold_reset(&s->fold);
}

static struct http_session *h1_open(struct conn *c)
{
    struct http_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->req.out = evbuffer_new();
    if (!s->req.out) {
        free(s);
        return NULL;
    }
    s->conn = c;
    memcpy(&s->peer, conn_peer(c), sizeof s->peer);
    memcpy(&s->local, conn_local(c), sizeof s->local);
    s->tls = conn_is_tls(c);
    next_message(s);
    s->parser.data = s;
    return s;
}

/* Fills the request object from the parsed message and hands it to the handler. */
static void dispatch(struct http_session *s)
{
    struct http_req *req = &s->req;
    if (!s->body)
        s->body = calloc(1, 1);
    if (s->body)
        s->body[s->body_len] = '\0';
    req->method = method_of(s->parser.method);
    req->target = s->arena;
    req->headers = s->headers;
    req->n_headers = s->n_headers;
    req->body = s->body ? s->body : "";
    req->body_len = s->body ? s->body_len : 0;
    req->peer = (const struct sockaddr *)&s->peer;
    req->local = (const struct sockaddr *)&s->local;
    req->tls = s->tls;
    req->protocol = "http/1.1";
    req->on_sent = NULL;
    req->on_sent_arg = NULL;
    req->proto = &http1_proto;
    req->stream = NULL;
    s->keep_alive = http_should_keep_alive(&s->parser) != 0;
    s->busy = true;
    conn_dispatch(s->conn, req);
}

/* Feeds the first contiguous part of in to the parser (within the header limit). Returns 0,
 * or the status to refuse the request with. */
static int feed(struct http_session *s, struct evbuffer *in)
{
    struct evbuffer_iovec v;
    if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
        return 400; /* cannot happen: input() checked that bytes wait */
    const char *p = v.iov_base;
    size_t n = v.iov_len;
    const struct httpd_limits *l = conn_limits(s->conn);
    if (!s->headers_done) {
        size_t room = l->max_header_bytes - s->header_bytes;
        if (room == 0)
            return 431;
        if (n > room)
            n = room;
        if (fold_feed(&s->fold, p, n))
            return 400;
        s->header_bytes += n;
    }
    size_t used = http_parser_execute(&s->parser, &parser_settings, p, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&s->parser);
    if (err != HPE_OK && err != HPE_PAUSED)
        return s->refuse ? s->refuse : err == HPE_HEADER_OVERFLOW ? 431 : 400;
    evbuffer_drain(in, used);
    if (!s->headers_done && s->header_bytes >= l->max_header_bytes)
        return 431;
    if (!s->message_done && s->in_message)
        conn_set_phase(s->conn, s->headers_done ? PHASE_BODY : PHASE_HEADERS, s->req.arrival_ns);
    return 0;
}

static int h1_input(struct http_session *s, struct evbuffer *in)
{
    s->in_input = true;
    int rc = 0;
    while (!s->busy && !s->gone && !s->closing && evbuffer_get_length(in) > 0 &&
           !conn_output_full(s->conn)) {
        int status = feed(s, in);
        if (status) {
            refuse(s, status);
            break;
        }
        if (s->message_done)
            dispatch(s);
    }
    if (!s->gone && (s->busy || conn_output_full(s->conn)))
        conn_pause(s->conn); /* resumed when answered, or by drained() */
    s->in_input = false;
    if (s->gone)
        rc = -1;
    return rc;
}

/* The request is answered (or dropped): get ready for the next one. */
static void finish_request(struct http_session *s)
{
    s->busy = false;
    s->req.resp_headers_len = 0;
    evbuffer_drain(s->req.out, evbuffer_get_length(s->req.out));
    if (s->body_cap > KEEP_BODY_BYTES) {
        free(s->body);
        s->body = NULL;
        s->body_cap = 0;
    }
    if (!s->conn) {
        session_free(s);
        return;
    }
    conn_set_phase(s->conn, PHASE_IDLE, 0);
    if (!s->keep_alive) {
        s->closing = true;
        conn_close_after_write(s->conn, false);
        return;
    }
    next_message(s);
    if (!s->in_input && !conn_output_full(s->conn))
        conn_resume(s->conn);
}

static struct http_session *owner(struct http_req *req)
{
    return (struct http_session *)((char *)req - offsetof(struct http_session, req));
}

static void h1_reply(struct http_req *req, int status, const char *reason)
{
    struct http_session *s = owner(req);
    if (req->on_sent)
        req->on_sent(req, status, req->on_sent_arg);
    if (s->conn)
        write_reply(s, status, reason);
    finish_request(s);
}

static void h1_abandon(struct http_req *req)
{
    struct http_session *s = owner(req);
    if (req->on_sent)
        req->on_sent(req, 0, req->on_sent_arg);
    s->busy = false;
    if (!s->conn) {
        session_free(s);
        return;
    }
    s->gone = true;
    conn_close_now(s->conn);
}

static void h1_drained(struct http_session *s)
{
    if (!s->busy && !s->gone)
        conn_resume(s->conn);
}

static void h1_close(struct http_session *s)
{
    if (s->busy) {
        s->conn = NULL; /* freed when the handler answers */
        return;
    }
    session_free(s);
}

const struct http_proto http1_proto = {
    .alpn = "http/1.1",
    .open = h1_open,
    .input = h1_input,
    .drained = h1_drained,
    .reply = h1_reply,
    .abandon = h1_abandon,
    .close = h1_close,
};
