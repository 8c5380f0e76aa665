/* refserver/reply.c - writing responses the way certctl's Go handlers do (JSON via
 * json.Encoder with a trailing newline, http.Error as text/plain) and counting each in the
 * stats; plus small request readers (body, query parameters). Every reply leaves through
 * refserver/request.h's one reply API. */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "engine/parse.h"
#include "refserver/json_write.h"
#include "refserver/stats.h"
#include "refserver/server_internal.h"

void reply_header(struct req_ctx *rc, const char *name, const char *value)
{
    http_reply_header(rc->req, name, value);
}

static void reply_send(struct req_ctx *rc, int status)
{
    tstats_request(rc->t->stats, rc->ep, status);
    http_reply_send(rc->req, status, http_status_text(status));
    rc->req = NULL;
}

void reply_json_buffered(struct req_ctx *rc, int status)
{
    reply_header(rc, "Content-Type", "application/json");
    reply_send(rc, status);
}

void reply_json(struct req_ctx *rc, int status, const char *body, size_t len)
{
    evbuffer_add(rc->req->out, body, len);
    reply_json_buffered(rc, status);
}

void reply_error(struct req_ctx *rc, int status, const char *message)
{
    struct evbuffer *out = rc->req->out;
    evbuffer_add_printf(out, "{\"error\":\"%s\",\"message\":", http_status_text(status));
    jw_string(out, message);
    evbuffer_add_printf(out, ",\"request_id\":\"%s\"}\n", rc->request_id);
    reply_json_buffered(rc, status);
}

void reply_text(struct req_ctx *rc, int status, const char *body_line)
{
    struct evbuffer *out = rc->req->out;
    evbuffer_add(out, body_line, strlen(body_line));
    evbuffer_add(out, "\n", 1);
    reply_header(rc, "Content-Type", "text/plain; charset=utf-8");
    reply_header(rc, "X-Content-Type-Options", "nosniff");
    reply_send(rc, status);
}

void reply_empty(struct req_ctx *rc, int status)
{
    reply_send(rc, status);
}

void reply_close(struct req_ctx *rc)
{
    tstats_request(rc->t->stats, rc->ep, 0);
    http_reply_close(rc->req);
    rc->req = NULL;
}

const char *req_body(struct req_ctx *rc, size_t *len)
{
    *len = rc->req->body_len;
    return rc->req->body;
}

/* Decodes len bytes of a query component ('+' is a space) into buf (size n). Returns the
 * decoded length, or -1 when it does not fit or has a bad escape. */
static long query_decode(const char *s, size_t len, char *buf, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = parse_hex_digit(s[i + 1]);
            int lo = parse_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (o + 1 >= n)
            return -1;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return (long)o;
}

bool req_query(const struct req_ctx *rc, const char *name, char *buf, size_t n)
{
    const char *p = rc->query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        char key[64];
        if (query_decode(p, klen, key, sizeof key) >= 0 && strcmp(key, name) == 0) {
            const char *v = eq ? eq + 1 : p + plen;
            size_t vlen = eq ? plen - klen - 1 : 0;
            if (query_decode(v, vlen, buf, n) < 0)
                buf[0] = '\0';
            return true;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return false;
}

bool json_opt_string(json_object *obj, const char *key, const char **out)
{
    json_object *v = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !v)
        return true;
    if (!json_object_is_type(v, json_type_string))
        return false;
    *out = json_object_get_string(v);
    return true;
}

json_object *req_json_object(struct req_ctx *rc)
{
    size_t len;
    const char *body = req_body(rc, &len);
    if (len == 0 || len > INT32_MAX)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return NULL;
    json_object *obj = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    if (obj && !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}
