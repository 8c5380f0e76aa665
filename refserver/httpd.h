/* refserver/httpd.h - the reference server's own HTTP front end: connections accepted on a
 * listener, TLS (OpenSSL through bufferevent_openssl) when a context is given, the protocol
 * chosen by ALPN, each request handed to one handler as a struct http_req (refserver/request.h).
 * Limits and timeouts are per server; requests the protocol refuses are answered and counted
 * through on_refused, never reach the handler. */
#ifndef FLEETSIM_REFSERVER_HTTPD_H
#define FLEETSIM_REFSERVER_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "refserver/request.h"

struct event_base;
struct evconnlistener;
struct httpd;

/* Defaults: Go's net/http as certctl configures it (header 5 s, read 30 s, write 120 s, idle
 * 60 s, CERTCTL_MAX_BODY_SIZE 1 MiB) and a 16 KiB header block. */
#define HTTPD_DEFAULT_MAX_HEADER_BYTES (16u * 1024)
#define HTTPD_DEFAULT_MAX_HEADERS 100u
#define HTTPD_DEFAULT_MAX_BODY_BYTES (1u << 20)
#define HTTPD_DEFAULT_HEADER_TIMEOUT_MS 5000u
#define HTTPD_DEFAULT_READ_TIMEOUT_MS 30000u
#define HTTPD_DEFAULT_WRITE_TIMEOUT_MS 120000u
#define HTTPD_DEFAULT_IDLE_TIMEOUT_MS 60000u

struct httpd_limits {
    size_t max_header_bytes;    /* request line and header block; beyond: 431, close */
    size_t max_headers;         /* header lines; beyond: 431, close */
    size_t max_body_bytes;      /* declared or received body; beyond: 413, close */
    uint32_t header_timeout_ms; /* first byte of a request to the end of its headers */
    uint32_t read_timeout_ms;   /* first byte of a request to the end of its body */
    uint32_t write_timeout_ms;  /* a pending reply that makes no progress this long */
    uint32_t idle_timeout_ms;   /* keep-alive connection with no request */
};

typedef void (*httpd_handler_fn)(struct http_req *req, void *arg);
/* A request the protocol answered itself (status 400, 413, 431...) before any handler. */
typedef void (*httpd_refused_fn)(void *arg, int status);

struct httpd_config {
    SSL_CTX *ssl_ctx; /* NULL: plain HTTP; else TLS with this context (ALPN selects) */
    struct httpd_limits limits;
    httpd_handler_fn handler;    /* every parsed request; answers through http_reply_* */
    httpd_refused_fn on_refused; /* optional */
    void *arg;                   /* for handler and on_refused */
};

/* Fills l with the defaults above. */
void httpd_limits_default(struct httpd_limits *l);

/* Serves cfg on lev's connections (its callback is replaced) in base's loop. The listener
 * stays the caller's. Returns NULL when out of memory. */
struct httpd *httpd_new(struct event_base *base, struct evconnlistener *lev,
                        const struct httpd_config *cfg);

/* Closes every connection and frees the server (NULL is fine). Requests still held by the
 * caller stay valid until answered or closed. */
void httpd_free(struct httpd *h);

#endif
