/* engine/http_client.c - the HTTP client's connection core (see http_client.h and
 * http_conn_internal.h): one connection's life on bare libevent events - a lazy non-blocking
 * connect (optionally from a chosen source address), the transport's handshake, one persistent
 * EV_READ per open connection (a server's close of an idle connection is noticed without
 * re-arming anything), EV_WRITE only while the socket is full, the request's deadline on a
 * common timeout, errors delivered from the loop, and the callback with every phase's time.
 * Bytes go through the connection's transport table (plain or TLS, engine/transport.h);
 * requests and responses through its protocol table (HTTP/1.1, engine/http1.c). Why bare
 * events and not bufferevents: docs/client.md. */
#include "engine/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/http_conn_internal.h"

static void on_io(evutil_socket_t fd, short what, void *arg);
static void on_tmo(evutil_socket_t fd, short what, void *arg);

static const struct http_proto *const protocols[] = {
    [HTTP_PROTO_1_1] = &http1_client_proto,
};

/* The connection's protocol table. */
static const struct http_proto *proto_of(const struct http_conn *c)
{
    return protocols[c->proto];
}

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
    c->cfg = cfg;
    c->proto = HTTP_PROTO_1_1;
    transport_init(&c->tr, cfg->ssl_ctx ? TRANSPORT_TLS : TRANSPORT_PLAIN);
    c->src = cfg->source_ipv4;
    c->bind_src = cfg->bind_source;
    c->state = HC_IDLE;
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
    return proto_of(conn)->in_flight(conn) > 0;
}

bool http_conn_is_open(const struct http_conn *conn)
{
    return conn->state == HC_CONNECTING || conn->state == HC_HANDSHAKE || conn->state == HC_READY ||
           conn->state == HC_BUSY;
}

void hconn_want(struct http_conn *c, short what)
{
    if (what == c->io_what && what)
        return;
    event_del(&c->io);
    c->io_what = what;
    if (!what)
        return;
    event_assign(&c->io, event_get_base(&c->tmo), c->tr.fd, what | EV_PERSIST, on_io, c);
    event_add(&c->io, NULL);
}

/* Closes the transport (if open); keeps the call, if any. clean: the TLS session stays
 * resumable. */
static void close_transport(struct http_conn *c, bool clean)
{
    hconn_want(c, 0);
    transport_close(&c->tr, clean);
    c->write_blocked = c->read_wants_write = false;
    c->state = HC_IDLE;
}

void hconn_close(struct http_conn *c)
{
    close_transport(c, true);
}

static void free_call(struct http_call *call)
{
    call->proto->call_release(call);
    free(call);
}

void hconn_finish(struct http_conn *c, enum http_error err, bool close_after)
{
    struct http_call *call = c->call;
    /* a response ends when its last bytes arrived, anything else now (before the clean-up) */
    uint64_t done_ns =
        err == HTTP_ERR_NONE && call->answered_ns ? call->answered_ns : clock_now_ns();
    c->call = NULL;
    event_del(&c->tmo);
    if (err != HTTP_ERR_NONE || close_after) {
        close_transport(c, err != HTTP_ERR_TLS);
    } else {
        c->state = HC_READY;
        c->write_blocked = c->read_wants_write = false;
        hconn_want(c, EV_READ);
        transport_idle(&c->tr);
    }
    struct http_result res = {
        .error = err,
        .detail = call->detail,
        .body = "",
        .intended_ns = call->intended_ns,
        .sent_ns = call->sent_ns,
        .connect_ns = call->connect_ns,
        .tls_ns = call->tls_ns,
        .first_byte_ns = call->first_byte_ns,
        .done_ns = done_ns,
        .reused = call->reused,
        .tls_resumed = call->tls_resumed,
        .priv_ = call,
    };
    call->proto->result(call, err, &res);
    call->cb(&res, call->arg);
    free_call(call);
}

void hconn_fail(struct http_conn *c, enum http_error err, const char *what, const char *why)
{
    snprintf(c->call->detail, sizeof(c->call->detail), "%s%s%s", what, why ? ": " : "",
             why ? why : "");
    hconn_finish(c, err, true);
}

/* The deadline is a libevent common timeout: a queue append and removal instead of a heap
 * operation per request. */
void hconn_arm_deadline(struct http_conn *c)
{
    uint64_t t = c->cfg->timeout_ns;
    if (!t)
        return;
    if (t != c->tmo_for_ns) {
        struct timeval tv = {.tv_sec = (time_t)(t / CLOCK_NS_PER_S),
                             .tv_usec = (suseconds_t)(t % CLOCK_NS_PER_S / CLOCK_NS_PER_US)};
        const struct timeval *common = event_base_init_common_timeout(event_get_base(&c->tmo), &tv);
        c->tmo_tv = common ? *common : tv;
        c->tmo_for_ns = t;
    }
    event_add(&c->tmo, &c->tmo_tv);
}

void hconn_defer(struct http_conn *c, enum http_error err)
{
    c->call->pending_err = err;
    hconn_close(c);
    c->state = HC_DEFERRED;
    event_del(&c->tmo);
    event_active(&c->tmo, EV_TIMEOUT, 1);
}

/* The request's error kind for a failed transport call. */
static enum http_error error_kind(enum transport_io r)
{
    switch (r) {
    case TRANSPORT_ERR_TLS:
        return HTTP_ERR_TLS;
    case TRANSPORT_ERR_CONNECT:
        return HTTP_ERR_CONNECT;
    case TRANSPORT_ERR_LOCAL:
        return HTTP_ERR_OTHER;
    default:
        return HTTP_ERR_CLOSED;
    }
}

enum transport_io hconn_write(struct http_conn *c, const void *buf, size_t len, size_t *done,
                              enum http_error *kind)
{
    enum transport_io r =
        transport_write(&c->tr, buf, len, done, c->call->detail, sizeof(c->call->detail));
    /* TRANSPORT_WANT_READ waits on the persistent EV_READ */
    c->write_blocked = r == TRANSPORT_WANT_WRITE;
    if (transport_failed(r))
        *kind = error_kind(r);
    return r;
}

enum transport_io hconn_read(struct http_conn *c, void *buf, size_t cap, size_t *got,
                             enum http_error *kind, char *errbuf)
{
    enum transport_io r = transport_read(&c->tr, buf, cap, got, errbuf, HTTP_DETAIL_LEN);
    c->read_wants_write = r == TRANSPORT_WANT_WRITE;
    if (transport_failed(r))
        *kind = error_kind(r);
    return r;
}

/* Where the connection goes: the transport's view of the configuration. */
static struct transport_peer peer_of(const struct http_conn *c)
{
    const struct http_conn_config *cfg = c->cfg;
    return (struct transport_peer){
        .addr = (const struct sockaddr *)&cfg->addr,
        .addr_len = cfg->addr_len,
        .source = c->bind_src ? &c->src : NULL,
        .host = cfg->host,
        .ssl_ctx = cfg->ssl_ctx,
        .no_resumption = cfg->tls_no_resumption,
    };
}

/* The connection is ready (fresh, after connect or handshake): the request goes out now. */
static void go_busy(struct http_conn *c)
{
    c->state = HC_BUSY;
    c->call->sent_ns = clock_now_ns();
    if (!proto_of(c)->on_writable(c))
        return;
    hconn_want(c, c->write_blocked ? EV_READ | EV_WRITE : EV_READ);
    if (transport_readable(&c->tr))
        event_active(&c->io, EV_READ, 1);
}

/* Handshake step; on completion the request goes out. */
static void handshake(struct http_conn *c)
{
    struct transport_peer peer = peer_of(c);
    char why[HTTP_DETAIL_LEN];
    enum transport_io r = transport_handshake(&c->tr, &peer, why, sizeof(why));
    switch (r) {
    case TRANSPORT_DONE:
        c->call->tls_ns = clock_now_ns() - c->call->phase_start_ns;
        c->call->tls_resumed = c->tr.resumed;
        go_busy(c);
        return;
    case TRANSPORT_WANT_READ:
    case TRANSPORT_WANT_WRITE:
        hconn_want(c, r == TRANSPORT_WANT_WRITE ? EV_READ | EV_WRITE : EV_READ);
        return;
    default:
        hconn_fail(c, error_kind(r), why, NULL);
    }
}

/* TCP is up: the transport's handshake, if it has one, else the request. */
static void connected(struct http_conn *c)
{
    struct http_call *call = c->call;
    int soerr = transport_connect_result(&c->tr);
    if (soerr) {
        hconn_fail(c, HTTP_ERR_CONNECT, "connect", strerror(soerr));
        return;
    }
    call->connect_ns = clock_now_ns() - call->phase_start_ns;
    if (!transport_has_handshake(&c->tr)) {
        go_busy(c);
        return;
    }
    call->phase_start_ns = clock_now_ns();
    c->state = HC_HANDSHAKE;
    handshake(c);
}

void hconn_open(struct http_conn *c)
{
    struct transport_peer peer = peer_of(c);
    enum transport_io r = transport_connect(&c->tr, &peer, &c->call->phase_start_ns,
                                            c->call->detail, sizeof(c->call->detail));
    if (r != TRANSPORT_DONE) {
        hconn_defer(c, error_kind(r));
        return;
    }
    c->state = HC_CONNECTING;
    hconn_arm_deadline(c);
    hconn_want(c, EV_WRITE);
}

int http_conn_send(struct http_conn *conn, const struct http_request *req, http_done_cb cb,
                   void *arg)
{
    if (!conn || !req || !req->method || !req->path || !cb || !*req->method || !*req->path ||
        strpbrk(req->method, " \r\n") || strpbrk(req->path, " \r\n"))
        return -EINVAL;
    if (conn->call)
        return -EBUSY;
    struct http_call *call = calloc(1, proto_of(conn)->call_size);
    if (!call)
        return -ENOMEM;
    call->proto = proto_of(conn);
    call->cb = cb;
    call->arg = arg;
    call->intended_ns = req->intended_ns;
    conn->call = call;
    int rc = proto_of(conn)->submit(conn, req);
    if (rc != 0) {
        conn->call = NULL;
        free_call(call);
    }
    return rc;
}

/* Socket readiness for the request in flight: pending output first, then the response. */
static void busy_io(struct http_conn *c, short what)
{
    if ((what & EV_WRITE || !c->write_blocked) && !proto_of(c)->on_writable(c))
        return;
    bool want_read = (what & EV_READ) || (c->read_wants_write && (what & EV_WRITE));
    enum http_readable r = want_read ? proto_of(c)->on_readable(c) : HTTP_READ_WAIT;
    if (r == HTTP_READ_ENDED)
        return;
    short need = EV_READ;
    if (c->write_blocked || c->read_wants_write)
        need |= EV_WRITE;
    hconn_want(c, need);
    if (r == HTTP_READ_MORE)
        event_active(&c->io, EV_READ, 1);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    (void)fd;
    switch (c->state) {
    case HC_CONNECTING:
        connected(c);
        return;
    case HC_HANDSHAKE:
        handshake(c);
        return;
    case HC_READY:
        (void)proto_of(c)->on_readable(c);
        return;
    case HC_BUSY:
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
    if (!c->call)
        return;
    switch (c->state) {
    case HC_DEFERRED:
        c->state = HC_IDLE;
        hconn_finish(c, c->call->pending_err, false);
        return;
    case HC_CONNECTING:
        hconn_fail(c, HTTP_ERR_TIMEOUT, "no connection within the timeout", NULL);
        return;
    case HC_HANDSHAKE:
        hconn_fail(c, HTTP_ERR_TIMEOUT, "no TLS handshake within the timeout", NULL);
        return;
    case HC_BUSY:
        hconn_fail(c, HTTP_ERR_TIMEOUT, "no complete response within the timeout", NULL);
        return;
    default:
        return;
    }
}

const char *http_result_header(const struct http_result *res, const char *name)
{
    if (!res || !res->priv_ || !name)
        return NULL;
    const struct http_call *call = res->priv_;
    return call->proto->header(call, name);
}

int http_conn_close(struct http_conn *conn)
{
    return proto_of(conn)->close(conn);
}

void http_conn_free(struct http_conn *conn)
{
    if (!conn)
        return;
    struct http_call *call = conn->call;
    conn->call = NULL;
    event_del(&conn->tmo);
    hconn_close(conn);
    if (call)
        free_call(call);
    transport_release(&conn->tr);
    free(conn);
}
