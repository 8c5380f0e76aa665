/* engine/http_client.c - one HTTP/1.1 client connection (see http_client.h): lazy non-blocking
 * connect (optionally from a chosen source address), TLS via bufferevent_openssl, one request
 * in flight, the response parsed by engine/http_parse, timings from engine/clock. Idle
 * connections hold no buffers: per-request state is allocated on send and freed after the
 * callback. */
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

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>

#include "engine/clock.h"
#include "engine/http_parse.h"
#include "engine/tls.h"

#define READ_HIGH_WATERMARK_BYTES (64 * 1024)
#define DETAIL_LEN 112

enum conn_state {
    C_IDLE,       /* no socket */
    C_CONNECTING, /* non-blocking connect in progress; ev waits for writability */
    C_TLS,        /* TLS handshake in progress on bev */
    C_READY,      /* open, no request */
    C_BUSY,       /* request written, reading the response */
    C_DEFERRED,   /* no socket; ev is active to deliver an early error from the loop */
};

/* Per-request state: exists only between send and callback. */
struct inflight {
    http_done_cb cb;
    void *arg;
    struct evbuffer *pending;  /* request bytes while (re)connecting */
    uint64_t intended_ns, sent_ns, connect_ns, tls_ns, first_byte_ns, deadline_ns;
    uint64_t phase_start_ns;   /* start of the connect or of the handshake */
    enum http_error pending_err;
    bool reused, tls_resumed;
    char detail[DETAIL_LEN];
    struct http_parser parser;
};

struct http_conn {
    struct event_base *base;
    const struct http_conn_config *cfg;
    struct bufferevent *bev;
    SSL_SESSION *session;      /* last TLS session, for resumption */
    struct inflight *inf;
    struct event ev;           /* connect wait, request timer, or deferred error */
    struct in_addr src;
    uint8_t state;
    bool bind_src;
};

static void on_ev(evutil_socket_t fd, short what, void *arg);
static void on_read(struct bufferevent *bev, void *arg);
static void on_bev_event(struct bufferevent *bev, short what, void *arg);

const char *http_error_name(enum http_error e)
{
    static const char *const names[HTTP_ERR_COUNT] = {
        "none", "connect", "tls", "closed", "timeout", "protocol", "too_large", "other"};
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
    const struct addrinfo *pick = res;  /* prefer IPv4 when a name has both */
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
    event_assign(&c->ev, base, -1, 0, on_ev, c);
    return c;
}

void http_conn_set_source_ipv4(struct http_conn *conn, const struct in_addr *src)
{
    conn->bind_src = src != NULL;
    if (src)
        conn->src = *src;
}

bool http_conn_busy(const struct http_conn *conn) { return conn->inf != NULL; }

bool http_conn_is_open(const struct http_conn *conn)
{
    return conn->state == C_CONNECTING || conn->state == C_TLS || conn->state == C_READY ||
           conn->state == C_BUSY;
}

/* Closes the socket (if any); keeps the in-flight request, if any. clean: the TLS session
 * stays resumable (OpenSSL forgets sessions of connections freed without a shutdown; we
 * mark the shutdown done without sending close_notify, which could hit a closed socket). */
static void close_transport_ex(struct http_conn *c, bool clean)
{
    event_del(&c->ev);
    if (c->state == C_CONNECTING) {
        evutil_socket_t fd = event_get_fd(&c->ev);
        if (fd >= 0)
            close(fd);
    }
    event_assign(&c->ev, c->base, -1, 0, on_ev, c);
    if (c->bev) {
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        if (ssl) {
            tls_ssl_set_session_slot(ssl, NULL);
            if (clean)
                SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        }
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    c->state = C_IDLE;
}

static void close_transport(struct http_conn *c) { close_transport_ex(c, true); }

static void free_inflight(struct inflight *inf)
{
    if (inf->pending)
        evbuffer_free(inf->pending);
    http_parser_release(&inf->parser);
    free(inf);
}

/* Ends the in-flight request: closes the socket on error (or when asked), then calls back.
 * Touches nothing of c after the callback (it may free c or send again). */
static void finish(struct http_conn *c, enum http_error err, bool close_after)
{
    struct inflight *inf = c->inf;
    c->inf = NULL;
    event_del(&c->ev);
    if (err != HTTP_ERR_NONE || close_after)
        close_transport_ex(c, err != HTTP_ERR_TLS);
    else
        c->state = C_READY;
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
        .done_ns = clock_now_ns(),
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

/* Arms c->ev as the request timer for the rest of the deadline (fd >= 0: also wait for
 * writability, the connect). */
static void arm(struct http_conn *c, evutil_socket_t fd)
{
    event_del(&c->ev);
    event_assign(&c->ev, c->base, fd, fd >= 0 ? EV_WRITE : 0, on_ev, c);
    if (!c->inf->deadline_ns) {
        if (fd >= 0)
            event_add(&c->ev, NULL);
        return;
    }
    uint64_t now = clock_now_ns();
    uint64_t left = c->inf->deadline_ns > now ? c->inf->deadline_ns - now : 0;
    struct timeval tv = {.tv_sec = (time_t)(left / CLOCK_NS_PER_S),
                         .tv_usec = (suseconds_t)(left % CLOCK_NS_PER_S / 1000)};
    event_add(&c->ev, &tv);
}

/* Reports an error from the event loop rather than from inside http_conn_send. */
static void defer_error(struct http_conn *c, enum http_error err, const char *what, int errnum)
{
    snprintf(c->inf->detail, sizeof(c->inf->detail), "%s: %s", what, strerror(errnum));
    c->inf->pending_err = err;
    c->state = C_DEFERRED;
    event_del(&c->ev);
    event_assign(&c->ev, c->base, -1, 0, on_ev, c);
    event_active(&c->ev, EV_TIMEOUT, 1);
}

static void format_host(const struct http_conn_config *cfg, struct evbuffer *out)
{
    if (cfg->host_header) {
        evbuffer_add_printf(out, "Host: %s\r\n", cfg->host_header);
        return;
    }
    const char *host = cfg->host ? cfg->host : "";
    uint16_t port = cfg->addr.ss_family == AF_INET6
                        ? ntohs(((const struct sockaddr_in6 *)&cfg->addr)->sin6_port)
                        : ntohs(((const struct sockaddr_in *)&cfg->addr)->sin_port);
    bool v6 = strchr(host, ':') != NULL;
    evbuffer_add_printf(out, "Host: %s%s%s", v6 ? "[" : "", host, v6 ? "]" : "");
    if (port != (cfg->ssl_ctx ? 443 : 80))
        evbuffer_add_printf(out, ":%u", (unsigned)port);
    evbuffer_add(out, "\r\n", 2);
}

static int write_request(const struct http_conn_config *cfg, const struct http_request *req,
                         struct evbuffer *out)
{
    int rc = evbuffer_add_printf(out, "%s %s HTTP/1.1\r\n", req->method, req->path) < 0;
    format_host(cfg, out);
    if (req->headers && *req->headers) {
        size_t n = strlen(req->headers);
        rc |= evbuffer_add(out, req->headers, n);
        if (req->headers[n - 1] != '\n')
            rc |= evbuffer_add(out, "\r\n", 2);
    }
    if (req->body)
        rc |= evbuffer_add_printf(out, "Content-Length: %zu\r\n", req->body_len) < 0;
    rc |= evbuffer_add(out, "\r\n", 2);
    if (req->body && req->body_len)
        rc |= evbuffer_add(out, req->body, req->body_len);
    return rc ? -ENOMEM : 0;
}

/* The connection is ready: hand the request bytes to the socket and wait for the response. */
static void go_busy(struct http_conn *c)
{
    struct inflight *inf = c->inf;
    if (inf->pending) {
        if (bufferevent_write_buffer(c->bev, inf->pending) != 0) {
            fail(c, HTTP_ERR_OTHER, "cannot queue the request", NULL);
            return;
        }
        evbuffer_free(inf->pending);
        inf->pending = NULL;
    }
    inf->sent_ns = clock_now_ns();
    c->state = C_BUSY;
    arm(c, -1);
}

static void setup_bev(struct http_conn *c)
{
    bufferevent_setcb(c->bev, on_read, NULL, on_bev_event, c);
    bufferevent_setwatermark(c->bev, EV_READ, 0, READ_HIGH_WATERMARK_BYTES);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* TCP is up (fd connected): plain → send; TLS → start the handshake. */
static void connected(struct http_conn *c, evutil_socket_t fd)
{
    struct inflight *inf = c->inf;
    uint64_t now = clock_now_ns();
    inf->connect_ns = now - inf->phase_start_ns;
    if (!c->cfg->ssl_ctx) {
        c->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!c->bev) {
            close(fd);
            fail(c, HTTP_ERR_OTHER, "cannot create a bufferevent", NULL);
            return;
        }
        setup_bev(c);
        go_busy(c);
        return;
    }
    char err[DETAIL_LEN];
    SSL *ssl = tls_client_ssl_new(c->cfg->ssl_ctx, c->cfg->host, err, sizeof(err));
    if (!ssl) {
        close(fd);
        fail(c, HTTP_ERR_TLS, err, NULL);
        return;
    }
    tls_ssl_set_session_slot(ssl, c->cfg->tls_no_resumption ? NULL : &c->session);
    if (c->session && !c->cfg->tls_no_resumption)
        SSL_set_session(ssl, c->session);
    c->bev = bufferevent_openssl_socket_new(c->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        SSL_free(ssl);
        close(fd);
        fail(c, HTTP_ERR_OTHER, "cannot create a TLS bufferevent", NULL);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    setup_bev(c);
    inf->phase_start_ns = clock_now_ns();
    c->state = C_TLS;
    arm(c, -1);
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
    c->state = C_CONNECTING;
    arm(c, fd);
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
    size_t cap = conn->cfg->max_body_bytes ? conn->cfg->max_body_bytes
                                           : HTTP_DEFAULT_MAX_BODY_BYTES;
    http_parser_init(&inf->parser, cap, strcasecmp(req->method, "HEAD") == 0);
    inf->cb = cb;
    inf->arg = arg;
    inf->intended_ns = req->intended_ns;
    if (conn->cfg->timeout_ns)
        inf->deadline_ns = clock_now_ns() + conn->cfg->timeout_ns;
    if (conn->state == C_READY) {
        if (write_request(conn->cfg, req, bufferevent_get_output(conn->bev)) != 0) {
            free_inflight(inf);
            return -ENOMEM;
        }
        conn->inf = inf;
        inf->reused = true;
        go_busy(conn);
        return 0;
    }
    inf->pending = evbuffer_new();
    if (!inf->pending || write_request(conn->cfg, req, inf->pending) != 0) {
        free_inflight(inf);
        return -ENOMEM;
    }
    conn->inf = inf;
    start_connect(conn);
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

/* Feeds the buffered input to the parser. Returns true when the request ended (the callback
 * ran: c must not be touched any more). at_eof: the peer has closed. */
static bool process_input(struct http_conn *c, bool at_eof)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct http_parser *p = &c->inf->parser;
    if (!c->inf->first_byte_ns && evbuffer_get_length(in) > 0)
        c->inf->first_byte_ns = clock_now_ns();
    while (evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t used = 0;
        int rc = http_parser_feed(p, v.iov_base, v.iov_len, &used);
        evbuffer_drain(in, used);
        if (rc < 0) {
            fail(c, parse_error_kind(rc), http_parse_rc_str(rc), NULL);
            return true;
        }
        if (rc == HTTP_PARSE_DONE) {
            /* bytes beyond the response answer no request: drop the connection */
            bool extra = evbuffer_get_length(in) > 0;
            finish(c, HTTP_ERR_NONE, extra || at_eof || !http_parser_keep_alive(p));
            return true;
        }
    }
    return false;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct http_conn *c = arg;
    (void)bev;
    if (c->state != C_BUSY) {  /* data with no request outstanding */
        close_transport(c);
        return;
    }
    process_input(c, false);
}

static void tls_failure(struct http_conn *c, struct bufferevent *bev, short what)
{
    unsigned long e = bufferevent_get_openssl_error(bev);
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long vr = (ssl && (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER)) ? SSL_get_verify_result(ssl)
                                                                     : X509_V_OK;
    while (bufferevent_get_openssl_error(bev))
        ;
    if (vr == X509_V_OK && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        e = 0;  /* the peer closed: not a TLS failure */
    if (e || vr != X509_V_OK) {
        char reason[DETAIL_LEN];
        tls_error_reason(ssl, e, reason, sizeof(reason));
        fail(c, HTTP_ERR_TLS, reason, NULL);
        return;
    }
    int se = EVUTIL_SOCKET_ERROR();
    if ((what & BEV_EVENT_ERROR) && se)
        fail(c, HTTP_ERR_CLOSED, "TLS handshake", strerror(se));
    else
        fail(c, HTTP_ERR_CLOSED, "closed during the TLS handshake", NULL);
}

static void on_bev_event(struct bufferevent *bev, short what, void *arg)
{
    struct http_conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (c->state == C_TLS) {
            c->inf->tls_ns = clock_now_ns() - c->inf->phase_start_ns;
            c->inf->tls_resumed = SSL_session_reused(bufferevent_openssl_get_ssl(bev)) == 1;
            go_busy(c);
        }
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
        return;
    if (c->state == C_TLS) {
        tls_failure(c, bev, what);
        return;
    }
    if (c->state != C_BUSY) {  /* idle connection closed by the server */
        ERR_clear_error();
        close_transport(c);
        return;
    }
    int se = EVUTIL_SOCKET_ERROR();
    unsigned long e = c->cfg->ssl_ctx ? bufferevent_get_openssl_error(bev) : 0;
    if (c->cfg->ssl_ctx)
        while (bufferevent_get_openssl_error(bev))
            ;
    /* OpenSSL 3 reports a close without close_notify as an error that libevent 2.1 does not
     * turn into EOF even with dirty shutdowns allowed: it is an EOF here */
    bool eof = (what & BEV_EVENT_EOF) || ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
    if (process_input(c, true))
        return;
    if (eof) {
        int rc = http_parser_eof(&c->inf->parser);
        if (rc == HTTP_PARSE_DONE)
            finish(c, HTTP_ERR_NONE, true);
        else
            fail(c, parse_error_kind(rc), http_parse_rc_str(rc), NULL);
        return;
    }
    if (e) {
        char reason[DETAIL_LEN];
        fail(c, HTTP_ERR_TLS, tls_error_reason(NULL, e, reason, sizeof(reason)), NULL);
        return;
    }
    fail(c, HTTP_ERR_CLOSED, se ? strerror(se) : "connection error", NULL);
}

static void on_ev(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    if (!c->inf)
        return;
    switch (c->state) {
    case C_DEFERRED:
        c->state = C_IDLE;
        finish(c, c->inf->pending_err, false);
        return;
    case C_CONNECTING: {
        if (what & EV_TIMEOUT) {
            fail(c, HTTP_ERR_TIMEOUT, "no connection within the timeout", NULL);
            return;
        }
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno;
        if (soerr) {
            fail(c, HTTP_ERR_CONNECT, "connect", strerror(soerr));
            return;
        }
        event_del(&c->ev);
        event_assign(&c->ev, c->base, -1, 0, on_ev, c);
        c->state = C_IDLE;  /* the fd now belongs to the bufferevent */
        connected(c, fd);
        return;
    }
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
    close_transport(conn);
    if (inf)
        free_inflight(inf);
    if (conn->session)
        SSL_SESSION_free(conn->session);
    free(conn);
}
