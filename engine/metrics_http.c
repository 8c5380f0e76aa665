/* engine/metrics_http.c - serves GET /metrics (Prometheus text 0.0.4) from the last published
 * snapshot over evhttp. The snapshot is a rendered buffer swapped under a mutex, so the
 * listener never reads a registry that another thread is writing. */
#include "engine/metrics_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/socket.h>

#include "engine/prometheus.h"

#define HTTP_OK 200
#define HTTP_NOT_FOUND 404
#define HTTP_METHOD_NOT_ALLOWED 405
#define HTTP_INTERNAL 500
/* Scrapers send small requests: refuse anything bigger. */
#define MAX_HEADERS_BYTES 8192
#define MAX_BODY_BYTES 0

struct metrics_http {
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    uint16_t port;
    pthread_mutex_t lock; /* guards text, text_len and scrapes */
    char *text;
    size_t text_len;
    uint64_t scrapes;
};

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *type,
                       const char *body, size_t len)
{
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (out == NULL) {
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (evbuffer_add(out, body, len) != 0) {
        evbuffer_free(out);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    evhttp_send_reply(req, code, reason, out);
    evbuffer_free(out);
}

static void serve_metrics(struct metrics_http *srv, struct evhttp_request *req)
{
    struct evbuffer *out = evbuffer_new();
    int rc = out ? 0 : -1;
    pthread_mutex_lock(&srv->lock);
    if (rc == 0)
        rc = evbuffer_add(out, srv->text, srv->text_len);
    if (rc == 0)
        srv->scrapes++;
    pthread_mutex_unlock(&srv->lock);
    if (rc != 0) {
        if (out)
            evbuffer_free(out);
        evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      PROMETHEUS_CONTENT_TYPE);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    evhttp_send_reply(req, HTTP_OK, "OK", out);
    evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    static const char index_text[] = "fleetsim metrics: GET " METRICS_HTTP_PATH "\n";
    static const char missing[] = "not found: fleetsim serves only " METRICS_HTTP_PATH "\n";
    static const char not_allowed[] = "only GET and HEAD\n";
    struct metrics_http *srv = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        reply_text(req, HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed", "text/plain; charset=utf-8",
                   not_allowed, sizeof not_allowed - 1);
    } else if (path != NULL && strcmp(path, METRICS_HTTP_PATH) == 0)
        serve_metrics(srv, req);
    else if (path != NULL && strcmp(path, "/") == 0)
        reply_text(req, HTTP_OK, "OK", "text/plain; charset=utf-8", index_text,
                   sizeof index_text - 1);
    else
        reply_text(req, HTTP_NOT_FOUND, "Not Found", "text/plain; charset=utf-8", missing,
                   sizeof missing - 1);
}

static uint16_t bound_port(struct evhttp_bound_socket *sock)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* The snapshot of an empty registry, served before the first publish. */
static int initial_snapshot(struct metrics_http *srv)
{
    struct metrics *empty = metrics_new(false);
    if (empty == NULL)
        return -ENOMEM;
    int rc = prometheus_render(empty, &srv->text, &srv->text_len);
    metrics_free(empty);
    return rc;
}

struct metrics_http *metrics_http_start(struct event_base *base, const struct parsed_listen *addr,
                                        char *err, size_t errlen)
{
    struct metrics_http *srv = calloc(1, sizeof *srv);
    if (srv == NULL || pthread_mutex_init(&srv->lock, NULL) != 0) {
        free(srv);
        snprintf(err, errlen, "metrics listener: out of memory");
        return NULL;
    }
    srv->http = evhttp_new(base);
    if (srv->http == NULL || initial_snapshot(srv) != 0) {
        snprintf(err, errlen, "metrics listener: out of memory");
        metrics_http_free(srv);
        return NULL;
    }
    /* other methods reach on_request and get 405 with an Allow header (evhttp would say 501) */
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_timeout(srv->http, METRICS_HTTP_TIMEOUT_S);
    evhttp_set_max_headers_size(srv->http, MAX_HEADERS_BYTES);
    evhttp_set_max_body_size(srv->http, MAX_BODY_BYTES);
    evhttp_set_gencb(srv->http, on_request, srv);
    errno = 0;
    srv->sock = evhttp_bind_socket_with_handle(srv->http, addr->host, addr->port);
    if (srv->sock == NULL) {
        int e = errno;
        snprintf(err, errlen, "--metrics-listen: cannot listen on %s%s%s:%u: %s",
                 addr->addr.ss_family == AF_INET6 ? "[" : "", addr->host,
                 addr->addr.ss_family == AF_INET6 ? "]" : "", (unsigned)addr->port,
                 e ? strerror(e) : "bind failed");
        metrics_http_free(srv);
        return NULL;
    }
    srv->port = bound_port(srv->sock);
    return srv;
}

uint16_t metrics_http_port(const struct metrics_http *srv)
{
    return srv->port;
}

int metrics_http_publish(struct metrics_http *srv, const struct metrics *merged)
{
    char *text = NULL;
    size_t len = 0;
    int rc = prometheus_render(merged, &text, &len);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&srv->lock);
    char *old = srv->text;
    srv->text = text;
    srv->text_len = len;
    pthread_mutex_unlock(&srv->lock);
    free(old);
    return 0;
}

uint64_t metrics_http_scrapes(const struct metrics_http *srv)
{
    pthread_mutex_lock((pthread_mutex_t *)&srv->lock);
    uint64_t n = srv->scrapes;
    pthread_mutex_unlock((pthread_mutex_t *)&srv->lock);
    return n;
}

void metrics_http_free(struct metrics_http *srv)
{
    if (srv == NULL)
        return;
    if (srv->http != NULL)
        evhttp_free(srv->http);
    pthread_mutex_destroy(&srv->lock);
    free(srv->text);
    free(srv);
}
