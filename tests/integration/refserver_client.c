/* tests/integration/refserver_client.c - blocking test client over engine/http_client and helpers
 * to read its answers in Check tests (see target_client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/tls.h"
#include "tests/integration/refserver_client.h"

struct tc {
    struct event_base *base;
    SSL_CTX *ssl;
    struct http_conn_config cfg;
    struct http_conn *conn;
    bool done;
    struct tc_resp *out;
};

struct tc *tc_new(uint16_t port, bool tls, const char *cafile)
{
    struct tc *c = calloc(1, sizeof *c);
    char err[256];
    if (!c)
        return NULL;
    c->base = event_base_new();
    if (tls)
        c->ssl = tls_client_ctx_new(cafile, false, err, sizeof err);
    if (!c->base || (tls && !c->ssl) ||
        http_conn_config_init(&c->cfg, "127.0.0.1", port, c->ssl, err, sizeof err) < 0) {
        fprintf(stderr, "tc_new: %s\n", err);
        tc_free(c);
        return NULL;
    }
    c->cfg.timeout_ns = TC_TIMEOUT_NS;
    c->cfg.max_body_bytes = 8u << 20;
    c->conn = http_conn_new(c->base, &c->cfg);
    if (!c->conn) {
        tc_free(c);
        return NULL;
    }
    return c;
}

static void copy_header(const struct http_result *res, const char *name, char *dst)
{
    const char *v = http_result_header(res, name);
    snprintf(dst, TC_HEADER_MAX, "%s", v ? v : "");
}

static void tc_done(const struct http_result *res, void *arg)
{
    struct tc *c = arg;
    struct tc_resp *r = c->out;
    r->error = res->error;
    r->status = res->status;
    r->body = malloc(res->body_len + 1);
    if (r->body) {
        memcpy(r->body, res->body ? res->body : "", res->body_len);
        r->body[res->body_len] = '\0';
        r->body_len = res->body_len;
    }
    copy_header(res, "Content-Type", r->content_type);
    copy_header(res, "Retry-After", r->retry_after);
    copy_header(res, "WWW-Authenticate", r->www_authenticate);
    copy_header(res, "X-Request-ID", r->request_id);
    copy_header(res, "X-Content-Type-Options", r->nosniff);
    copy_header(res, "Location", r->location);
    copy_header(res, "Replay-Nonce", r->replay_nonce);
    r->duration_ns = res->done_ns - (res->sent_ns ? res->sent_ns : res->intended_ns);
    c->done = true;
}

void tc_request(struct tc *c, const char *method, const char *path, const char *auth_key,
                const char *extra_headers, const char *body, struct tc_resp *out)
{
    memset(out, 0, sizeof *out);
    out->error = HTTP_ERR_OTHER;
    char headers[1024];
    snprintf(headers, sizeof headers, "%s%s%sContent-Type: application/json\r\n%s",
             auth_key ? "Authorization: Bearer " : "", auth_key ? auth_key : "",
             auth_key ? "\r\n" : "", extra_headers ? extra_headers : "");
    struct http_request req = {.method = method,
                               .path = path,
                               .headers = headers,
                               .body = body,
                               .body_len = body ? strlen(body) : 0,
                               .intended_ns = clock_now_ns()};
    c->done = false;
    c->out = out;
    if (http_conn_send(c->conn, &req, tc_done, c) != 0)
        return;
    while (!c->done)
        event_base_loop(c->base, EVLOOP_ONCE);
}

void tc_resp_free(struct tc_resp *r)
{
    free(r->body);
    r->body = NULL;
}

void tc_free(struct tc *c)
{
    if (!c)
        return;
    http_conn_free(c->conn);
    if (c->ssl)
        SSL_CTX_free(c->ssl);
    if (c->base)
        event_base_free(c->base);
    free(c);
}

json_object *tc_body_json(const struct tc_resp *r)
{
    json_object *o = json_tokener_parse(r->body);
    ck_assert_msg(o != NULL, "not JSON: %s", r->body);
    return o;
}

json_object *tc_member(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *tc_jstr(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return json_object_get_string(v);
}

int64_t tc_jint(json_object *o, const char *key)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_int64(v);
}

json_object *tc_stats(struct tc *c)
{
    struct tc_resp r;
    tc_request(c, "GET", "/_target/stats", NULL, NULL, NULL, &r);
    ck_status(r, 200);
    json_object *o = tc_body_json(&r);
    tc_resp_free(&r);
    return o;
}
