/* engine/http_client.c - one HTTP/1.1 client connection (see http_client.h) on bare libevent
 * events: lazy non-blocking connect (optionally from a chosen source address), TLS with an
 * OpenSSL SSL on a socket BIO of engine/rx_time, the request written straight from http_conn_send with send() or
 * SSL_write() (EV_WRITE only while the socket is full), one persistent EV_READ per open
 * connection (a server's close of an idle connection is noticed without re-arming anything),
 * responses read with recvmsg() or SSL_read() into a stack buffer and parsed by engine/http_parse,
 * timed by when their bytes reached the host (kernel receive timestamps), not when read.
 * Idle connections hold no buffers: per-request state is allocated on send and freed after the
 * callback. Why not bufferevents: docs/client.md. */
#include "engine/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>

#include "engine/clock.h"
#include "engine/http_parse.h"
#include "engine/rx_time.h"
#include "engine/text_out.h"
#include "engine/tls.h"

#define DETAIL_LEN 112
/* Stack buffer a request is formatted into (larger ones are allocated), and the one responses
 * are read into. */
#define REQUEST_STACK_BYTES 4096
#define READ_CHUNK_BYTES 16384
/* Reads per readiness event at most, so that one busy connection does not starve the others
 * (the rest is read on the next loop iteration). */
#define READS_PER_EVENT 8

enum conn_state {
    C_IDLE,       /* no socket */
    C_CONNECTING, /* non-blocking connect in progress; io waits for writability */
    C_TLS,        /* TLS handshake in progress */
    C_READY,      /* open, no request; io waits for reads (a close or stray bytes) */
    C_BUSY,       /* request (being) written, reading the response */
    C_DEFERRED,   /* no socket; tmo is active to deliver an early error from the loop */
};

/* Per-request state: exists only between send and callback. */
struct inflight {
    http_done_cb cb;
    void *arg;
    char *out; /* request bytes not yet written (malloc'd), or NULL */
    size_t out_len, out_off;
    uint64_t intended_ns, sent_ns, connect_ns, tls_ns, first_byte_ns;
    uint64_t answered_ns;    /* the complete response's arrival (rx_time), 0 until then */
    uint64_t phase_start_ns; /* start of the connect or of the handshake */
    enum http_error pending_err;
    bool reused, tls_resumed;
    char detail[DETAIL_LEN];
    struct http_parser parser;
};

struct http_conn {
    struct event_base *base;
    const struct http_conn_config *cfg;
    SSL *ssl;
    SSL_SESSION *session; /* last TLS session, for resumption */
    struct inflight *inf;
    struct event io;       /* the socket, with io_what | EV_PERSIST while open */
    struct event tmo;      /* request deadline, or a deferred error */
    struct timeval tmo_tv; /* libevent common-timeout handle for tmo_for_ns */
    uint64_t tmo_for_ns;
    int fd;
    short io_what; /* EV_READ / EV_WRITE the io event is added with; 0 = not added */
    struct in_addr src;
    uint8_t state;
    bool bind_src;
    bool write_blocked;    /* the pending output waits for EV_WRITE */
    bool read_wants_write; /* TLS: SSL_read asked for writability */
    uint64_t rx_ns;        /* when the bytes last read reached the host (engine/rx_time) */
};

static void on_io(evutil_socket_t fd, short what, void *arg);
static void on_tmo(evutil_socket_t fd, short what, void *arg);

const char *http_error_name(enum http_error e)
{
    static const char *const names[HTTP_ERR_COUNT] = {"none",    "connect",  "tls",       "closed",
                                                      "timeout", "protocol", "too_large", "other"};
    return (unsigned)e < HTTP_ERR_COUNT ? names[e] : "unknown";
}

int http_conn_config_init(struct http_conn_config *cfg, const char *host, uint16_t port,
                          SSL_CTX *ssl_ctx, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    if (!host || !*host || host[0] == '[') {
        snprintf(err, errlen, "host must be a name or an address without brackets");
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -EHOSTUNREACH;
    }
    const struct addrinfo *pick = res; /* prefer IPv4 when a name has both */
    for (const struct addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            pick = a;
            break;
        }
    }
    memcpy(&cfg->addr, pick->ai_addr, pick->ai_addrlen);
    cfg->addr_len = pick->ai_addrlen;
    freeaddrinfo(res);
    if (cfg->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&cfg->addr)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&cfg->addr)->sin6_port = htons(port);
    cfg->host = host;
    cfg->ssl_ctx = ssl_ctx;
    cfg->timeout_ns = 30 * CLOCK_NS_PER_S;
    cfg->max_body_bytes = HTTP_DEFAULT_MAX_BODY_BYTES;
    return 0;
}

struct http_conn *http_conn_new(struct event_base *base, const struct http_conn_config *cfg)
{
    struct http_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->base = base;
    c->cfg = cfg;
    c->src = cfg->source_ipv4;
    c->bind_src = cfg->bind_source;
    c->state = C_IDLE;
    c->fd = -1;
    event_assign(&c->io, base, -1, 0, on_io, c);
    event_assign(&c->tmo, base, -1, 0, on_tmo, c);
    return c;
}

void http_conn_set_source_ipv4(struct http_conn *conn, const struct in_addr *src)
{
    conn->bind_src = src != NULL;
    if (src)
        conn->src = *src;
}

bool http_conn_busy(const struct http_conn *conn)
{
    return conn->inf != NULL;
}

bool http_conn_is_open(const struct http_conn *conn)
{
    return conn->state == C_CONNECTING || conn->state == C_TLS || conn->state == C_READY ||
           conn->state == C_BUSY;
}

/* Makes the socket event wait for `what` (EV_READ and/or EV_WRITE). Only changes of the set
 * cost an epoll_ctl; an open idle or busy connection stays on EV_READ throughout. */
static void set_io(struct http_conn *c, short what)
{
    if (what == c->io_what && what)
        return;
    event_del(&c->io);
    c->io_what = what;
    if (!what)
        return;
    event_assign(&c->io, c->base, c->fd, what | EV_PERSIST, on_io, c);
    event_add(&c->io, NULL);
}

/* Closes the socket (if any); keeps the in-flight request, if any. clean: the TLS session
 * stays resumable (OpenSSL forgets sessions of connections freed without a shutdown; we
 * mark the shutdown done without sending close_notify, which could hit a closed socket). */
static void close_transport_ex(struct http_conn *c, bool clean)
{
    set_io(c, 0);
    if (c->ssl) {
        tls_ssl_set_session_slot(c->ssl, NULL);
        if (clean)
            SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(c->ssl);
        c->ssl = NULL;
        ERR_clear_error();
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->write_blocked = c->read_wants_write = false;
    c->state = C_IDLE;
}

static void close_transport(struct http_conn *c)
{
    close_transport_ex(c, true);
}

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
static void tls_trim_chain(SSL *ssl)
{
    STACK_OF(X509) *chains[2] = {SSL_get_peer_cert_chain(ssl), SSL_get0_verified_chain(ssl)};
    for (int i = 0; i < 2; i++)
        while (chains[i] && sk_X509_num(chains[i]) > 1)
            X509_free(sk_X509_pop(chains[i]));
}

/* On a connection falling idle: frees the record buffers unless they hold bytes. A TLS 1.3
 * session ticket read after a response re-creates the 16.5 KiB write buffer, which
 * SSL_MODE_RELEASE_BUFFERS would only free after the next write. */
static void tls_trim_buffers(SSL *ssl)
{
    if (!SSL_has_pending(ssl))
        (void)SSL_free_buffers(ssl);
}

static void free_inflight(struct inflight *inf)
{
    free(inf->out);
    http_parser_release(&inf->parser);
    free(inf);
}

/* Ends the in-flight request: closes the socket on error (or when asked), then calls back.
 * Touches nothing of c after the callback (it may free c or send again). */
static void finish(struct http_conn *c, enum http_error err, bool close_after)
{
    struct inflight *inf = c->inf;
    /* a response ends when its last bytes arrived, anything else now (before the clean-up) */
    uint64_t done_ns = err == HTTP_ERR_NONE && inf->answered_ns ? inf->answered_ns : clock_now_ns();
    c->inf = NULL;
    event_del(&c->tmo);
    if (err != HTTP_ERR_NONE || close_after) {
        close_transport_ex(c, err != HTTP_ERR_TLS);
    } else {
        c->state = C_READY;
        c->write_blocked = c->read_wants_write = false;
        set_io(c, EV_READ);
        if (c->ssl)
            tls_trim_buffers(c->ssl);
    }
    struct http_result res = {
        .error = err,
        .status = inf->parser.status,
        .detail = inf->detail,
        .body = "",
        .intended_ns = inf->intended_ns,
        .sent_ns = inf->sent_ns,
        .connect_ns = inf->connect_ns,
        .tls_ns = inf->tls_ns,
        .first_byte_ns = inf->first_byte_ns,
        .done_ns = done_ns,
        .reused = inf->reused,
        .tls_resumed = inf->tls_resumed,
        .priv_ = &inf->parser,
    };
    if (err == HTTP_ERR_NONE)
        res.body = http_parser_body(&inf->parser, &res.body_len);
    inf->cb(&res, inf->arg);
    free_inflight(inf);
}

/* Ends the request with an error; detail is "what" or "what: why". */
static void fail(struct http_conn *c, enum http_error err, const char *what, const char *why)
{
    snprintf(c->inf->detail, sizeof(c->inf->detail), "%s%s%s", what, why ? ": " : "",
             why ? why : "");
    finish(c, err, true);
}

/* Starts the request's deadline: cfg->timeout_ns from now, on a libevent common timeout (a
 * queue append and removal instead of a heap operation per request). */
static void arm_deadline(struct http_conn *c)
{
    uint64_t t = c->cfg->timeout_ns;
    if (!t)
        return;
    if (t != c->tmo_for_ns) {
        struct timeval tv = {.tv_sec = (time_t)(t / CLOCK_NS_PER_S),
                             .tv_usec = (suseconds_t)(t % CLOCK_NS_PER_S / CLOCK_NS_PER_US)};
        const struct timeval *common = event_base_init_common_timeout(c->base, &tv);
        c->tmo_tv = common ? *common : tv;
        c->tmo_for_ns = t;
    }
    event_add(&c->tmo, &c->tmo_tv);
}

/* Reports the error err (detail already set) from the event loop rather than from inside
 * http_conn_send; the socket is closed now. */
static void defer(struct http_conn *c, enum http_error err)
{
    c->inf->pending_err = err;
    close_transport(c);
    c->state = C_DEFERRED;
    event_del(&c->tmo);
    event_active(&c->tmo, EV_TIMEOUT, 1);
}

static void defer_error(struct http_conn *c, enum http_error err, const char *what, int errnum)
{
    snprintf(c->inf->detail, sizeof(c->inf->detail), "%s: %s", what, strerror(errnum));
    defer(c, err);
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
    if (port != (cfg->ssl_ctx ? 443 : 80)) {
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

/* Write outcome: everything written, the socket is full (the rest waits), or an error. */
enum wr { WR_DONE, WR_BLOCKED, WR_ERROR };

/* Writes buf[0, len) to the socket once. On WR_BLOCKED *done says how much went (plain) or 0
 * (TLS: SSL_write must be repeated with the whole buffer) and c->write_blocked whether the rest
 * waits for EV_WRITE (else for any readiness: OpenSSL wanted to read). On WR_ERROR *kind and
 * c->inf's detail say why. */
static enum wr write_some(struct http_conn *c, const char *buf, size_t len, size_t *done,
                          enum http_error *kind)
{
    *done = 0;
    c->write_blocked = false;
    if (!c->ssl) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            *done = (size_t)n;
            c->write_blocked = (size_t)n < len;
            return (size_t)n == len ? WR_DONE : WR_BLOCKED;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            c->write_blocked = true;
            return WR_BLOCKED;
        }
        *kind = HTTP_ERR_CLOSED;
        snprintf(c->inf->detail, sizeof(c->inf->detail), "send: %s", strerror(errno));
        return WR_ERROR;
    }
    err_reset();
    int n = SSL_write(c->ssl, buf, (int)len);
    if (n > 0)
        return WR_DONE; /* without partial writes, SSL_write takes all or nothing */
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        c->write_blocked = e == SSL_ERROR_WANT_WRITE; /* else the persistent EV_READ */
        return WR_BLOCKED;
    }
    int se = errno;
    unsigned long ec = ERR_get_error();
    ERR_clear_error();
    if (e == SSL_ERROR_SSL && ec) {
        *kind = HTTP_ERR_TLS;
        tls_error_reason(NULL, ec, c->inf->detail, sizeof(c->inf->detail));
    } else {
        *kind = HTTP_ERR_CLOSED;
        snprintf(c->inf->detail, sizeof(c->inf->detail), "send: %s",
                 se ? strerror(se) : "connection closed");
    }
    return WR_ERROR;
}

/* Writes the request bytes waiting in inf->out. Returns false when the request ended. */
static bool flush_out(struct http_conn *c)
{
    struct inflight *inf = c->inf;
    size_t done;
    enum http_error kind = HTTP_ERR_CLOSED;
    enum wr w = write_some(c, inf->out + inf->out_off, inf->out_len - inf->out_off, &done, &kind);
    if (w == WR_ERROR) {
        finish(c, kind, true);
        return false;
    }
    inf->out_off += done;
    if (w == WR_DONE) {
        free(inf->out);
        inf->out = NULL;
        inf->out_len = inf->out_off = 0;
    }
    return true;
}

/* The connection is ready (fresh, after connect or handshake): the request goes out now. */
static bool go_busy(struct http_conn *c)
{
    c->state = C_BUSY;
    c->inf->sent_ns = clock_now_ns();
    return flush_out(c);
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

/* True when more response bytes are already buffered in OpenSSL (a further record). Reads
 * them to find out whether they are application data; consumes records that are not (a TLS
 * 1.3 session ticket). */
static bool tls_extra_data(struct http_conn *c)
{
    char b[256];
    while (SSL_has_pending(c->ssl)) {
        err_reset();
        int r = SSL_read(c->ssl, b, sizeof b);
        if (r > 0)
            return true;
        int e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (e != SSL_ERROR_WANT_READ)
            return true; /* a close or an error: the connection cannot be reused */
    }
    return false;
}

/* Feeds response bytes to the parser. Returns true when the request ended (the callback ran:
 * c must not be touched any more). */
static bool feed(struct http_conn *c, const char *data, size_t n)
{
    struct http_parser *p = &c->inf->parser;
    /* when these bytes arrived; never before the request went out */
    uint64_t arrived = c->rx_ns > c->inf->sent_ns ? c->rx_ns : c->inf->sent_ns;
    if (!c->inf->first_byte_ns)
        c->inf->first_byte_ns = arrived;
    size_t used = 0;
    int rc = http_parser_feed(p, data, n, &used);
    if (rc < 0) {
        fail(c, parse_error_kind(rc), http_parse_rc_str(rc), NULL);
        return true;
    }
    if (rc != HTTP_PARSE_DONE)
        return false;
    c->inf->answered_ns = arrived;
    /* bytes beyond the response answer no request: drop the connection */
    bool extra = used < n || (c->ssl && (SSL_pending(c->ssl) > 0 || tls_extra_data(c)));
    finish(c, HTTP_ERR_NONE, extra || !http_parser_keep_alive(p));
    return true;
}

/* The peer closed while a request was in flight (data before the close already fed). */
static void at_eof(struct http_conn *c)
{
    int rc = http_parser_eof(&c->inf->parser);
    if (rc == HTTP_PARSE_DONE)
        finish(c, HTTP_ERR_NONE, true);
    else
        fail(c, parse_error_kind(rc), http_parse_rc_str(rc), NULL);
}

/* What one read from the socket (plain or TLS) gave. */
enum rd { RD_DATA, RD_AGAIN, RD_EOF, RD_ERROR };

/* Reads once into buf. RD_DATA sets *n; RD_ERROR sets *kind and *detail (static or a copy in
 * the errbuf of DETAIL_LEN bytes). OpenSSL 3 reports a close without close_notify as an
 * error: it is an EOF here, as is close_notify itself. */
static enum rd read_once(struct http_conn *c, char *buf, size_t cap, size_t *n,
                         enum http_error *kind, char *errbuf)
{
    if (!c->ssl) {
        ssize_t r = rx_time_recv(c->fd, buf, cap, &c->rx_ns);
        if (r > 0) {
            *n = (size_t)r;
            return RD_DATA;
        }
        if (r == 0)
            return RD_EOF;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return RD_AGAIN;
        *kind = HTTP_ERR_CLOSED;
        snprintf(errbuf, DETAIL_LEN, "%s", strerror(errno));
        return RD_ERROR;
    }
    err_reset();
    int r = SSL_read(c->ssl, buf, (int)cap);
    if (r > 0) {
        *n = (size_t)r;
        return RD_DATA;
    }
    int e = SSL_get_error(c->ssl, r);
    c->read_wants_write = e == SSL_ERROR_WANT_WRITE;
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return RD_AGAIN;
    int se = errno;
    unsigned long ec = ERR_get_error();
    ERR_clear_error();
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !se && !ec) ||
        ERR_GET_REASON(ec) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return RD_EOF;
    if (e == SSL_ERROR_SSL && ec) {
        *kind = HTTP_ERR_TLS;
        tls_error_reason(NULL, ec, errbuf, DETAIL_LEN);
    } else {
        *kind = HTTP_ERR_CLOSED;
        snprintf(errbuf, DETAIL_LEN, "%s", se ? strerror(se) : "connection error");
    }
    return RD_ERROR;
}

/* What reading for the request in flight came to. */
enum rr { RR_ENDED, RR_WAIT, RR_MORE };

/* Reads what the socket has for the request in flight: RR_ENDED when the request ended (c must
 * not be touched), RR_WAIT for more readiness, RR_MORE when more is waiting and the caller
 * must come back from the loop (the read budget ran out; OpenSSL may hold records that epoll
 * cannot see). */
static enum rr read_response(struct http_conn *c)
{
    char buf[READ_CHUNK_BYTES];
    char err[DETAIL_LEN];
    for (int i = 0; i < READS_PER_EVENT; i++) {
        size_t n = 0;
        enum http_error kind = HTTP_ERR_CLOSED;
        switch (read_once(c, buf, sizeof buf, &n, &kind, err)) {
        case RD_DATA:
            if (feed(c, buf, n))
                return RR_ENDED;
            /* a short read emptied the socket; OpenSSL may still hold further records */
            if (c->ssl ? !SSL_has_pending(c->ssl) : n < sizeof buf)
                return RR_WAIT;
            break;
        case RD_AGAIN:
            return RR_WAIT;
        case RD_EOF:
            at_eof(c);
            return RR_ENDED;
        case RD_ERROR:
            fail(c, kind, err, NULL);
            return RR_ENDED;
        }
    }
    return RR_MORE;
}

/* Readiness on an idle open connection: the server closed it, or sent bytes answering no
 * request (both close it), or a TLS record that is not data (a session ticket) arrived. */
static void idle_read(struct http_conn *c)
{
    char buf[512];
    char err[DETAIL_LEN];
    for (int i = 0; i < READS_PER_EVENT; i++) {
        size_t n;
        enum http_error kind;
        enum rd r = read_once(c, buf, sizeof buf, &n, &kind, err);
        /* data, a close, an error, or (rare) OpenSSL wanting to write: give the connection up */
        if (r != RD_AGAIN || c->read_wants_write) {
            close_transport(c);
            return;
        }
        if (!c->ssl)
            return;
        if (!SSL_has_pending(c->ssl)) {
            tls_trim_buffers(c->ssl); /* a session ticket re-created the write buffer */
            return;
        }
    }
}

/* Handshake step; on completion the request goes out. */
static void handshake(struct http_conn *c)
{
    err_reset();
    int r = SSL_connect(c->ssl);
    if (r == 1) {
        struct inflight *inf = c->inf;
        tls_trim_chain(c->ssl);
        inf->tls_ns = clock_now_ns() - inf->phase_start_ns;
        inf->tls_resumed = SSL_session_reused(c->ssl) == 1;
        if (!go_busy(c))
            return;
        set_io(c, c->write_blocked ? EV_READ | EV_WRITE : EV_READ);
        if (SSL_has_pending(c->ssl))
            event_active(&c->io, EV_READ, 1);
        return;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        set_io(c, e == SSL_ERROR_WANT_WRITE ? EV_READ | EV_WRITE : EV_READ);
        return;
    }
    int se = errno;
    unsigned long ec = ERR_get_error();
    ERR_clear_error();
    long vr =
        (SSL_get_verify_mode(c->ssl) & SSL_VERIFY_PEER) ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    if (vr != X509_V_OK ||
        (e == SSL_ERROR_SSL && ec && ERR_GET_REASON(ec) != SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        char reason[DETAIL_LEN];
        tls_error_reason(c->ssl, ec, reason, sizeof(reason));
        fail(c, HTTP_ERR_TLS, reason, NULL);
    } else if (e == SSL_ERROR_SYSCALL && se) {
        fail(c, HTTP_ERR_CLOSED, "TLS handshake", strerror(se));
    } else {
        fail(c, HTTP_ERR_CLOSED, "closed during the TLS handshake", NULL);
    }
}

/* TCP is up: plain → send; TLS → start the handshake. */
static void connected(struct http_conn *c)
{
    struct inflight *inf = c->inf;
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    if (soerr) {
        fail(c, HTTP_ERR_CONNECT, "connect", strerror(soerr));
        return;
    }
    inf->connect_ns = clock_now_ns() - inf->phase_start_ns;
    if (!c->cfg->ssl_ctx) {
        if (go_busy(c))
            set_io(c, c->write_blocked ? EV_READ | EV_WRITE : EV_READ);
        return;
    }
    char err[DETAIL_LEN];
    c->ssl = tls_client_ssl_new(c->cfg->ssl_ctx, c->cfg->host, err, sizeof(err));
    if (!c->ssl) {
        fail(c, HTTP_ERR_TLS, err, NULL);
        return;
    }
    BIO *bio = rx_time_bio_new(c->fd, &c->rx_ns);
    if (!bio) {
        fail(c, HTTP_ERR_OTHER, "cannot attach the socket to TLS", NULL);
        return;
    }
    SSL_set_bio(c->ssl, bio, bio);
    tls_ssl_set_session_slot(c->ssl, c->cfg->tls_no_resumption ? NULL : &c->session);
    if (c->session && !c->cfg->tls_no_resumption)
        SSL_set_session(c->ssl, c->session);
    inf->phase_start_ns = clock_now_ns();
    c->state = C_TLS;
    handshake(c);
}

/* Starts a non-blocking connect; errors are delivered from the loop. */
static void start_connect(struct http_conn *c)
{
    const struct http_conn_config *cfg = c->cfg;
    int fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        defer_error(c, HTTP_ERR_OTHER, "socket", errno);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    (void)rx_time_enable(fd); /* without it, reads are timed when they happen */
    if (c->bind_src && cfg->addr.ss_family == AF_INET) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = c->src};
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
            int e = errno;
            close(fd);
            defer_error(c, HTTP_ERR_CONNECT, "bind source address", e);
            return;
        }
    }
    c->inf->phase_start_ns = clock_now_ns();
    if (connect(fd, (const struct sockaddr *)&cfg->addr, cfg->addr_len) != 0 &&
        errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        defer_error(c, HTTP_ERR_CONNECT, "connect", e);
        return;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    arm_deadline(c);
    set_io(c, EV_WRITE);
}

/* Sends on an open idle connection: the bytes go to the socket now, from a stack buffer when
 * the socket takes them all (the usual case), else the rest is kept until EV_WRITE. A write
 * error is reported from the loop. */
static int send_now(struct http_conn *c, const struct http_request *req)
{
    struct inflight *inf = c->inf;
    char stack[REQUEST_STACK_BYTES];
    char *buf = stack;
    size_t len = format_request(c->cfg, req, stack, sizeof stack);
    if (len > sizeof stack) {
        if (!(buf = malloc(len)))
            return -ENOMEM;
        format_request(c->cfg, req, buf, len);
    }
    c->state = C_BUSY;
    inf->reused = true;
    inf->sent_ns = clock_now_ns();
    size_t done;
    enum http_error kind = HTTP_ERR_CLOSED;
    enum wr w = write_some(c, buf, len, &done, &kind);
    if (w == WR_DONE) {
        if (buf != stack)
            free(buf);
        arm_deadline(c);
        return 0;
    }
    if (w == WR_ERROR) { /* e.g. the server closed the idle connection a moment ago */
        if (buf != stack)
            free(buf);
        defer(c, kind);
        return 0;
    }
    /* the socket is full: keep the rest (TLS: all of it, SSL_write is repeated whole) */
    if (buf == stack) {
        if (!(inf->out = malloc(len - done))) {
            close_transport(c); /* part of a request went out: the connection is unusable */
            return -ENOMEM;
        }
        memcpy(inf->out, buf + done, len - done);
        inf->out_len = len - done;
    } else {
        memmove(buf, buf + done, len - done);
        inf->out = buf;
        inf->out_len = len - done;
    }
    arm_deadline(c);
    set_io(c, c->write_blocked ? EV_READ | EV_WRITE : EV_READ);
    return 0;
}

int http_conn_send(struct http_conn *conn, const struct http_request *req, http_done_cb cb,
                   void *arg)
{
    if (!conn || !req || !req->method || !req->path || !cb || !*req->method || !*req->path ||
        strpbrk(req->method, " \r\n") || strpbrk(req->path, " \r\n"))
        return -EINVAL;
    if (conn->inf)
        return -EBUSY;
    struct inflight *inf = calloc(1, sizeof(*inf));
    if (!inf)
        return -ENOMEM;
    size_t cap =
        conn->cfg->max_body_bytes ? conn->cfg->max_body_bytes : HTTP_DEFAULT_MAX_BODY_BYTES;
    http_parser_begin(&inf->parser, cap, strcasecmp(req->method, "HEAD") == 0);
    inf->cb = cb;
    inf->arg = arg;
    inf->intended_ns = req->intended_ns;
    conn->inf = inf;
    if (conn->state == C_READY) {
        int rc = send_now(conn, req);
        if (rc != 0) {
            conn->inf = NULL;
            free_inflight(inf);
        }
        return rc;
    }
    size_t len = format_request(conn->cfg, req, NULL, 0);
    inf->out = malloc(len);
    if (!inf->out) {
        conn->inf = NULL;
        free_inflight(inf);
        return -ENOMEM;
    }
    inf->out_len = format_request(conn->cfg, req, inf->out, len);
    start_connect(conn);
    return 0;
}

/* Socket readiness for the request in flight: pending output first, then the response. */
static void busy_io(struct http_conn *c, short what)
{
    if (c->inf->out && (what & EV_WRITE || !c->write_blocked)) {
        if (!flush_out(c))
            return;
    }
    bool want_read = (what & EV_READ) || (c->read_wants_write && (what & EV_WRITE));
    enum rr r = want_read ? read_response(c) : RR_WAIT;
    if (r == RR_ENDED)
        return;
    short need = EV_READ;
    if ((c->inf->out && c->write_blocked) || c->read_wants_write)
        need |= EV_WRITE;
    set_io(c, need);
    if (r == RR_MORE)
        event_active(&c->io, EV_READ, 1);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)fd;
    switch (c->state) {
    case C_CONNECTING:
        connected(c);
        return;
    case C_TLS:
        handshake(c);
        return;
    case C_READY:
        idle_read(c);
        return;
    case C_BUSY:
        busy_io(c, what);
        return;
    default:
        return;
    }
}

static void on_tmo(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)fd;
    (void)what;
    if (!c->inf)
        return;
    switch (c->state) {
    case C_DEFERRED:
        c->state = C_IDLE;
        finish(c, c->inf->pending_err, false);
        return;
    case C_CONNECTING:
        fail(c, HTTP_ERR_TIMEOUT, "no connection within the timeout", NULL);
        return;
    case C_TLS:
        fail(c, HTTP_ERR_TIMEOUT, "no TLS handshake within the timeout", NULL);
        return;
    case C_BUSY:
        fail(c, HTTP_ERR_TIMEOUT, "no complete response within the timeout", NULL);
        return;
    default:
        return;
    }
}

const char *http_result_header(const struct http_result *res, const char *name)
{
    if (!res || !res->priv_ || !name)
        return NULL;
    return http_parser_header(res->priv_, name);
}

int http_conn_close(struct http_conn *conn)
{
    if (conn->inf)
        return -EBUSY;
    close_transport(conn);
    return 0;
}

void http_conn_free(struct http_conn *conn)
{
    if (!conn)
        return;
    struct inflight *inf = conn->inf;
    conn->inf = NULL;
    event_del(&conn->tmo);
    close_transport(conn);
    if (inf)
        free_inflight(inf);
    if (conn->session)
        SSL_SESSION_free(conn->session);
    free(conn);
}
