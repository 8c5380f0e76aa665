/* engine/http_once.h - one blocking HTTP request on a private, short-lived event_base and a new
 * connection: for the checks before a run and for tests, never for load. Bounded by the
 * connection settings' timeout_ns (a config with timeout 0 can wait forever) and, once
 * engine/interrupt.h is installed, by SIGINT/SIGTERM (the detail is then "interrupted"). */
#ifndef FLEETSIM_ENGINE_HTTP_ONCE_H
#define FLEETSIM_ENGINE_HTTP_ONCE_H

#include <stddef.h>

#include "engine/http_client.h"

/* The outcome of one request. */
struct http_once {
    enum http_error error;  /* HTTP_ERR_NONE when a complete response arrived */
    int status;             /* the HTTP status (check error first) */
    char detail[160];       /* the error's reason; "could not send" when never sent */
    char content_type[128]; /* the Content-Type header ("" when absent) */
    char *body;             /* malloc'd copy, NUL-terminated; NULL unless error is NONE */
    size_t body_len;
};

/* Sends METHOD path over a new connection made from cc (referenced only during the call) and
 * waits for its end. headers are extra "Name: value\r\n" lines (may be NULL); body may be NULL
 * (none). Always fills *out; free it with http_once_release. */
void http_once(const struct http_conn_config *cc, const char *method, const char *path,
               const char *headers, const char *body, struct http_once *out);

/* Frees what http_once put in o (its body). */
void http_once_release(struct http_once *o);

/* "HTTP 503" for a response, "connect: Connection refused" (the error's name and detail) for a
 * failure, into buf (size n). Returns buf. */
const char *http_once_describe(const struct http_once *o, char *buf, size_t n);

#endif
