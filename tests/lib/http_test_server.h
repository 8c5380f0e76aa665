/* tests/lib/http_test_server.h - a scripted HTTP/1.1 server for the client tests: runs on the
 * test's own event_base on 127.0.0.1 or [::1] (ephemeral port), plain or TLS, answers each
 * request with the scripted (good or deliberately broken) response and counts what it sees. */
#ifndef FLEETSIM_TESTS_HTTP_TEST_SERVER_H
#define FLEETSIM_TESTS_HTTP_TEST_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct event_base;
struct tconn;

enum tsrv_mode {
    TS_OK,             /* 200, Content-Length body "body-<n>", Replay-Nonce "nonce-<n>" */
    TS_CONN_CLOSE,     /* as TS_OK plus "Connection: close", then closes */
    TS_CHUNKED,        /* 200 chunked "hello chunked world" in pieces, with a trailer */
    TS_CLOSE_DELIM,    /* 200 without length, body "until-close", then closes */
    TS_HEAD,           /* 200 with Content-Length: 1234 and no body (an answer to HEAD) */
    TS_NO_CONTENT,     /* 204 with a Content-Length header and no body */
    TS_BAD_STATUS,     /* "HTTP/1.1 abc OK" */
    TS_BIG_HEADERS,    /* 70 KiB of header lines */
    TS_BAD_CHUNK,      /* chunked with a non-hex size */
    TS_TRUNCATED,      /* Content-Length 100, 10 bytes, then closes */
    TS_BIG_BODY,       /* Content-Length 4096 body (over a 1024-byte client cap) */
    TS_BIG_CLOSE_BODY, /* 4096 bytes delimited by close (over a 1024-byte client cap) */
    TS_GARBAGE,        /* binary junk, connection kept open */
    TS_NEVER,          /* never answers */
    TS_PARTIAL,        /* headers and half the body, then nothing */
    TS_EXTRA,          /* a complete response followed by unsolicited bytes */
    TS_RESET,          /* closes with RST (SO_LINGER 0) without answering */
};

#define TSRV_MAX_MODES 8

struct tsrv {
    struct event_base *base;
    struct evconnlistener *lis;
    SSL_CTX *ssl_ctx; /* TLS when non-NULL */
    uint16_t port;
    enum tsrv_mode modes[TSRV_MAX_MODES]; /* response to request n (the last repeats) */
    int nmodes;
    int close_on_accept;     /* close this many accepted connections at once */
    int accepts;             /* connections accepted */
    int requests;            /* requests read (over all connections) */
    int peer_closed;         /* connections the client closed (EOF/error seen) */
    int tls_resumed;         /* TLS connections that resumed a session */
    char last_peer[64];      /* address of the last accepted peer */
    char last_request[8192]; /* the last request, head and body */
    struct tconn *conns;     /* open connections */
};

/* Starts listening on host ("127.0.0.1" or "::1"); ssl_ctx NULL = plain. Returns 0 or -1. */
int tsrv_start(struct tsrv *s, struct event_base *base, const char *host, SSL_CTX *ssl_ctx);

/* Sets the script: response modes for requests 0, 1, ... (the last one repeats). */
void tsrv_script(struct tsrv *s, int n, const enum tsrv_mode *modes);

/* Writes text to every open connection (bytes nobody asked for). */
void tsrv_push(struct tsrv *s, const char *text);

/* Closes every open connection (as a server's idle timeout would). */
void tsrv_close_all(struct tsrv *s);

/* Stops listening and frees the connections still open. */
void tsrv_stop(struct tsrv *s);

/* A self-signed P-256 certificate for localhost and 127.0.0.1, its key, and a PEM file of the
 * certificate (path written into path_out, size >= 64). Returns 0 or -1. */
int tsrv_make_cert(EVP_PKEY **key_out, X509 **cert_out, char *path_out);

/* Server SSL_CTX with that certificate; max_version 0 = TLS 1.3 allowed. */
SSL_CTX *tsrv_ssl_ctx(EVP_PKEY *key, X509 *cert, int max_version);

#endif
