/* engine/http_once.c - one blocking HTTP request on a private event_base (see http_once.h). */
#include "engine/http_once.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/interrupt.h"

struct once_call {
    struct event_base *base;
    struct http_once *out;
    bool done;
};

static void once_done(const struct http_result *res, void *arg)
{
    struct once_call *c = arg;
    struct http_once *o = c->out;
    c->done = true;
    event_base_loopbreak(c->base); /* the idle keep-alive socket would keep the loop running */
    o->error = res->error;
    o->status = res->status;
    snprintf(o->detail, sizeof o->detail, "%s", res->detail ? res->detail : "");
    const char *ct = http_result_header(res, "Content-Type");
    snprintf(o->content_type, sizeof o->content_type, "%s", ct ? ct : "");
    if (res->error != HTTP_ERR_NONE)
        return;
    o->body = malloc(res->body_len + 1);
    if (!o->body) {
        o->error = HTTP_ERR_OTHER;
        snprintf(o->detail, sizeof o->detail, "out of memory for the body");
        return;
    }
    memcpy(o->body, res->body ? res->body : "", res->body_len);
    o->body[res->body_len] = '\0';
    o->body_len = res->body_len;
}

void http_once(const struct http_conn_config *cc, const char *method, const char *path,
               const char *headers, const char *body, struct http_once *out)
{
    memset(out, 0, sizeof *out);
    out->error = HTTP_ERR_OTHER;
    struct once_call c = {.base = event_base_new(), .out = out};
    struct http_conn *conn = c.base ? http_conn_new(c.base, cc) : NULL;
    struct http_request req = {method,        path, headers, body, body ? strlen(body) : 0,
                               clock_now_ns()};
    struct event *stop = c.base ? interrupt_watch_break(c.base) : NULL;
    if (conn && http_conn_send(conn, &req, once_done, &c) == 0)
        event_base_dispatch(c.base);
    if (!c.done)
        snprintf(out->detail, sizeof out->detail, "%s",
                 interrupt_count() > 0 ? "interrupted" : "could not send");
    if (stop)
        event_free(stop);
    http_conn_free(conn);
    if (c.base)
        event_base_free(c.base);
}

void http_once_release(struct http_once *o)
{
    free(o->body);
    o->body = NULL;
    o->body_len = 0;
}

const char *http_once_describe(const struct http_once *o, char *buf, size_t n)
{
    if (o->error == HTTP_ERR_NONE)
        snprintf(buf, n, "HTTP %d", o->status);
    else
        snprintf(buf, n, "%s%s%s", http_error_name(o->error), o->detail[0] ? ": " : "", o->detail);
    return buf;
}
