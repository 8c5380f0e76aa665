/* refserver/conn.c - the reference server's connections: accept on the caller's listener, a
 * bufferevent per connection (plain, or TLS through bufferevent_openssl), the protocol module
 * picked by the ALPN id the handshake selected, one timer per connection for the idle, header
 * and read timeouts, a write timeout, and a bounded output (a client that does not read stops
 * the parsing of its next requests). Implements refserver/httpd.h and the connection side of
 * refserver/conn_internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "engine/clock.h"
#include "refserver/conn_internal.h"

/* Output beyond this stops reading further requests until it has been written. */
#define CONN_OUTPUT_LIMIT (256u * 1024)
/* After refusing a request: how long to read and discard what the client still sends once the
 * answer is out (closing with unread input would reset the connection, and the client could
 * lose the answer), as Go's server does after a 431. */
#define CONN_LINGER_MS 500u
/* ...and at most this many bytes: a client that keeps sending at loopback speed is cut off
 * instead of being read for the whole linger time (Go's server also stops discarding at
 * 256 KiB). */
#define CONN_LINGER_MAX_BYTES (256u * 1024)

/* The protocol modules by ALPN id; the first is used when the client selects none (and for
 * plain connections). An HTTP/2 module is one more line here. */
static const struct http_proto *const protocols[] = {&http1_proto};
#define N_PROTOCOLS (sizeof protocols / sizeof protocols[0])

struct httpd {
    struct event_base *base;
    struct evconnlistener *lev;
    struct httpd_config cfg;
    const struct timeval *idle_tv; /* a common timeout: the most frequent one */
    struct timeval write_tv;
    struct conn *conns; /* open connections (doubly linked) */
    time_t date_sec;
    char date[40];
};

struct conn {
    struct httpd *h;
    struct bufferevent *bev;
    struct event *timer; /* phase timeouts; also made active to free a killed connection */
    const struct http_proto *proto;
    struct http_session *session;
    struct sockaddr_storage peer, local;
    enum conn_phase phase;
    bool tls, closing, dead, over_limit;
    bool linger, lingering; /* discard input for CONN_LINGER_MS after the answer is out */
    size_t lingered;        /* bytes discarded while lingering */
    struct conn *prev, *next;
};

void httpd_limits_default(struct httpd_limits *l)
{
    *l = (struct httpd_limits){.max_header_bytes = HTTPD_DEFAULT_MAX_HEADER_BYTES,
                               .max_headers = HTTPD_DEFAULT_MAX_HEADERS,
                               .max_body_bytes = HTTPD_DEFAULT_MAX_BODY_BYTES,
                               .header_timeout_ms = HTTPD_DEFAULT_HEADER_TIMEOUT_MS,
                               .read_timeout_ms = HTTPD_DEFAULT_READ_TIMEOUT_MS,
                               .write_timeout_ms = HTTPD_DEFAULT_WRITE_TIMEOUT_MS,
                               .idle_timeout_ms = HTTPD_DEFAULT_IDLE_TIMEOUT_MS};
}

static struct timeval ms_tv(uint64_t ms)
{
    return (struct timeval){.tv_sec = (time_t)(ms / 1000),
                            .tv_usec = (suseconds_t)(ms % 1000 * 1000)};
}

static void conn_free(struct conn *c)
{
    if (c->session)
        c->proto->close(c->session);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->timer);
    bufferevent_free(c->bev); /* closes the socket (and frees the SSL) */
    free(c);
}

/* Frees c from the loop soon (never from inside one of its own callbacks' callees). */
static void conn_kill(struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    event_active(c->timer, EV_TIMEOUT, 1);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_free(arg); /* a timeout (idle, header, read) or a killed connection */
}

/* The module for the ALPN id the handshake selected (the first one when none). */
static const struct http_proto *choose_protocol(struct conn *c)
{
    if (!c->tls)
        return protocols[0];
    const unsigned char *id = NULL;
    unsigned len = 0;
    SSL_get0_alpn_selected(bufferevent_openssl_get_ssl(c->bev), &id, &len);
    for (size_t i = 0; id && i < N_PROTOCOLS; i++)
        if (strlen(protocols[i]->alpn) == len && memcmp(protocols[i]->alpn, id, len) == 0)
            return protocols[i];
    return protocols[0];
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->lingering) {
        struct evbuffer *in = bufferevent_get_input(bev);
        c->lingered += evbuffer_get_length(in);
        evbuffer_drain(in, evbuffer_get_length(in));
        if (c->lingered > CONN_LINGER_MAX_BYTES)
            conn_free(c);
        return;
    }
    if (c->dead || c->closing)
        return;
    if (!c->proto) {
        c->proto = choose_protocol(c);
        c->session = c->proto->open(c);
        if (!c->session) {
            conn_free(c);
            return;
        }
    }
    if (c->proto->input(c->session, bufferevent_get_input(bev)) < 0)
        conn_free(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct conn *c = arg; /* the output is empty */
    if (c->dead)
        return;
    if (c->closing) {
        if (c->phase == PHASE_BUSY || c->lingering)
            return;
        if (!c->linger) {
            conn_free(c);
            return;
        }
        c->lingering = true; /* answer out: stop writing, read and drop until EOF or the timer */
        shutdown(bufferevent_getfd(bev), SHUT_WR);
        struct timeval tv = ms_tv(CONN_LINGER_MS);
        event_add(c->timer, &tv);
        bufferevent_enable(bev, EV_READ);
    }
    if (c->over_limit) {
        c->over_limit = false;
        c->proto->drained(c->session);
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    if (c->dead)
        return;
    if (c->lingering) {
        conn_free(c); /* the client closed (or failed) while its input was being dropped */
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
        (c->phase == PHASE_BUSY || evbuffer_get_length(bufferevent_get_output(bev)) > 0)) {
        conn_close_after_write(c, false); /* half-closed: answer what it asked first */
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_free(c);
}

static struct bufferevent *new_bev(struct httpd *h, evutil_socket_t fd)
{
    if (!h->cfg.ssl_ctx)
        return bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE);
    SSL *ssl = SSL_new(h->cfg.ssl_ctx);
    if (!ssl)
        return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        h->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)lev;
    struct httpd *h = arg;
    struct conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = c ? new_bev(h, fd) : NULL;
    struct event *timer = bev ? evtimer_new(h->base, timer_cb, c) : NULL;
    if (!timer) {
        if (bev)
            bufferevent_free(bev);
        else
            evutil_closesocket(fd);
        free(c);
        return;
    }
    c->h = h;
    c->bev = bev;
    c->timer = timer;
    c->tls = h->cfg.ssl_ctx != NULL;
    memcpy(&c->peer, sa, (size_t)salen < sizeof c->peer ? (size_t)salen : sizeof c->peer);
    socklen_t llen = sizeof c->local;
    if (getsockname(fd, (struct sockaddr *)&c->local, &llen) < 0)
        c->local.ss_family = AF_UNSPEC;
    c->next = h->conns;
    if (c->next)
        c->next->prev = c;
    h->conns = c;
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
    bufferevent_set_timeouts(bev, NULL, &h->write_tv);
    conn_set_phase(c, PHASE_IDLE, 0);
    bufferevent_enable(bev, EV_READ);
}

struct httpd *httpd_new(struct event_base *base, struct evconnlistener *lev,
                        const struct httpd_config *cfg)
{
    struct httpd *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->base = base;
    h->lev = lev;
    h->cfg = *cfg;
    struct timeval idle = ms_tv(cfg->limits.idle_timeout_ms);
    h->idle_tv = event_base_init_common_timeout(base, &idle);
    h->write_tv = ms_tv(cfg->limits.write_timeout_ms);
    if (!h->idle_tv) {
        free(h);
        return NULL;
    }
    evconnlistener_set_cb(lev, accept_cb, h);
    return h;
}

void httpd_free(struct httpd *h)
{
    if (!h)
        return;
    evconnlistener_set_cb(h->lev, NULL, NULL);
    while (h->conns)
        conn_free(h->conns);
    free(h);
}

/* ---- the connection side of the protocol seam ---- */

struct evbuffer *conn_output(struct conn *c)
{
    return bufferevent_get_output(c->bev);
}

const struct httpd_limits *conn_limits(const struct conn *c)
{
    return &c->h->cfg.limits;
}

void conn_set_phase(struct conn *c, enum conn_phase phase, uint64_t since_ns)
{
    const struct httpd_limits *l = &c->h->cfg.limits;
    enum conn_phase was = c->phase;
    c->phase = phase;
    if (phase == PHASE_BUSY) {
        event_del(c->timer);
        return;
    }
    if (phase == PHASE_IDLE) {
        event_add(c->timer, c->h->idle_tv);
        return;
    }
    if (phase == was)
        return; /* the deadline runs from the request's first byte, not from each read */
    uint64_t limit_ms = phase == PHASE_HEADERS ? l->header_timeout_ms : l->read_timeout_ms;
    uint64_t spent_ms = (clock_now_ns() - since_ns) / 1000000u;
    struct timeval tv = ms_tv(spent_ms < limit_ms ? limit_ms - spent_ms : 0);
    event_add(c->timer, &tv);
}

void conn_pause(struct conn *c)
{
    bufferevent_disable(c->bev, EV_READ);
}

void conn_resume(struct conn *c)
{
    if (c->dead || c->closing)
        return;
    bufferevent_enable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

bool conn_output_full(struct conn *c)
{
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) <= CONN_OUTPUT_LIMIT)
        return false;
    c->over_limit = true; /* write_cb tells the protocol when it has drained */
    return true;
}

void conn_close_now(struct conn *c)
{
    conn_kill(c);
}

void conn_close_after_write(struct conn *c, bool linger)
{
    c->closing = true;
    c->linger = linger && !c->tls; /* TLS: the discarded bytes could not be decrypted anyway */
    bufferevent_disable(c->bev, EV_READ);
    if (c->phase != PHASE_BUSY && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_kill(c);
}

void conn_dispatch(struct conn *c, struct http_req *req)
{
    conn_set_phase(c, PHASE_BUSY, 0);
    c->h->cfg.handler(req, c->h->cfg.arg);
}

void conn_refused(struct conn *c, int status)
{
    if (c->h->cfg.on_refused)
        c->h->cfg.on_refused(c->h->cfg.arg, status);
}

const struct sockaddr *conn_peer(const struct conn *c)
{
    return (const struct sockaddr *)&c->peer;
}

const struct sockaddr *conn_local(const struct conn *c)
{
    return (const struct sockaddr *)&c->local;
}

bool conn_is_tls(const struct conn *c)
{
    return c->tls;
}

const char *conn_date(struct conn *c)
{
    struct httpd *h = c->h;
    struct timeval now;
    event_base_gettimeofday_cached(h->base, &now);
    if (now.tv_sec != h->date_sec) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(h->date, sizeof h->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        h->date_sec = now.tv_sec;
    }
    return h->date;
}
