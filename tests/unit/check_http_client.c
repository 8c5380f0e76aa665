/* tests/unit/check_http_client.c - the HTTP/1.1 client against a scripted server on loopback
 * (same event_base): keep-alive reuse, reconnects, chunked/close-delimited/HEAD/204 bodies,
 * every malformed response kind, timeouts, -EBUSY, source-address binding, IPv6, and TLS
 * (verification with a CA file, failure without, insecure mode, host check, resumption). */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/x509.h>

#include "engine/clock.h"
#include "engine/http_client.h"
#include "engine/tls.h"
#include "tests/lib/testenv.h"
#include "tests/lib/http_test_server.h"

/* what the callback saw, copied out of the result */
struct outcome {
    int calls;
    enum http_error error;
    int status;
    char detail[128];
    char body[256];
    size_t body_len;
    char nonce[64];
    char content_type[64];
    char location[64];
    uint64_t intended_ns, sent_ns, connect_ns, tls_ns, first_byte_ns, done_ns;
    bool reused, tls_resumed;
};

struct fixture {
    struct event_base *base;
    struct tsrv srv;
    struct http_conn_config cfg;
    struct http_conn *conn;
    struct outcome out[8];
    int nout;
    bool guard_fired;
    int chain_left; /* requests still to send from the callback */
};

static struct fixture fx;

static void on_done(const struct http_result *r, void *arg)
{
    struct fixture *f = arg;
    ck_assert_int_lt(f->nout, 8);
    struct outcome *o = &f->out[f->nout++];
    o->calls++;
    o->error = r->error;
    o->status = r->status;
    snprintf(o->detail, sizeof(o->detail), "%s", r->detail);
    snprintf(o->body, sizeof(o->body), "%s", r->body);
    o->body_len = r->body_len;
    const char *v = http_result_header(r, "REPLAY-NONCE");
    snprintf(o->nonce, sizeof(o->nonce), "%s", v ? v : "");
    v = http_result_header(r, "content-type");
    snprintf(o->content_type, sizeof(o->content_type), "%s", v ? v : "");
    v = http_result_header(r, "Location");
    snprintf(o->location, sizeof(o->location), "%s", v ? v : "");
    o->intended_ns = r->intended_ns;
    o->sent_ns = r->sent_ns;
    o->connect_ns = r->connect_ns;
    o->tls_ns = r->tls_ns;
    o->first_byte_ns = r->first_byte_ns;
    o->done_ns = r->done_ns;
    o->reused = r->reused;
    o->tls_resumed = r->tls_resumed;
    if (f->chain_left > 0) {
        f->chain_left--;
        struct http_request req = {
            .method = "GET", .path = "/chained", .intended_ns = clock_now_ns()};
        ck_assert_int_eq(http_conn_send(f->conn, &req, on_done, f), 0);
        return;
    }
    event_base_loopbreak(f->base);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
    struct fixture *f = arg;
    (void)fd;
    (void)what;
    f->guard_fired = true;
    event_base_loopbreak(f->base);
}

/* Runs the loop until a callback breaks it (or a 5 s guard fires: a hang is a failure). */
static void run_loop(void)
{
    struct event *guard = evtimer_new(fx.base, on_guard, &fx);
    struct timeval tv = {5, 0};
    evtimer_add(guard, &tv);
    event_base_dispatch(fx.base);
    event_free(guard);
    ck_assert_msg(!fx.guard_fired, "the request did not finish within 5 s");
}

/* Runs the loop for ms milliseconds (lets the server see closes). */
static void settle(int ms)
{
    struct timeval tv = {0, ms * 1000};
    event_base_loopexit(fx.base, &tv);
    event_base_dispatch(fx.base);
}

static const struct outcome *send_and_wait(const char *method, const char *path,
                                           const char *headers, const char *body)
{
    struct http_request req = {.method = method,
                               .path = path,
                               .headers = headers,
                               .body = body,
                               .body_len = body ? strlen(body) : 0,
                               .intended_ns = clock_now_ns()};
    int before = fx.nout;
    ck_assert_int_eq(http_conn_send(fx.conn, &req, on_done, &fx), 0);
    ck_assert(http_conn_busy(fx.conn));
    run_loop();
    ck_assert_int_eq(fx.nout, before + 1);
    ck_assert(!http_conn_busy(fx.conn));
    return &fx.out[fx.nout - 1];
}

/* GET path, which must end in want, with body (NULL: any body). Returns the outcome. */
static const struct outcome *get_expect(const char *path, enum http_error want, const char *body)
{
    const struct outcome *o = send_and_wait("GET", path, NULL, NULL);
    ck_assert_msg(o->error == want, "GET %s: %s (%s), want %s", path, http_error_name(o->error),
                  o->detail, http_error_name(want));
    if (body)
        ck_assert_str_eq(o->body, body);
    return o;
}

static void start_server(const char *host, SSL_CTX *sctx, int n, const enum tsrv_mode *modes)
{
    char err[256];
    memset(&fx, 0, sizeof(fx));
    fx.base = event_base_new();
    ck_assert_ptr_nonnull(fx.base);
    ck_assert_int_eq(tsrv_start(&fx.srv, fx.base, host, sctx), 0);
    tsrv_script(&fx.srv, n, modes);
    ck_assert_int_eq(http_conn_config_init(&fx.cfg, host, fx.srv.port, NULL, err, sizeof(err)), 0);
    fx.cfg.timeout_ns = 3 * CLOCK_NS_PER_S;
}

static void setup_plain(int n, const enum tsrv_mode *modes)
{
    start_server("127.0.0.1", NULL, n, modes);
    fx.conn = http_conn_new(fx.base, &fx.cfg);
    ck_assert_ptr_nonnull(fx.conn);
}

/* setup_plain with a server answering every request TS_OK. */
static void setup_ok(void)
{
    static const enum tsrv_mode ok[] = {TS_OK};
    setup_plain(1, ok);
}

static void teardown(void)
{
    http_conn_free(fx.conn);
    fx.conn = NULL;
    tsrv_stop(&fx.srv);
    event_base_free(fx.base);
    fx.base = NULL;
}

static void assert_timings(const struct outcome *o, bool fresh)
{
    ck_assert_uint_gt(o->intended_ns, 0);
    ck_assert_uint_le(o->intended_ns, o->sent_ns);
    ck_assert_uint_le(o->sent_ns, o->first_byte_ns);
    ck_assert_uint_le(o->first_byte_ns, o->done_ns);
    if (fresh)
        ck_assert_uint_gt(o->connect_ns, 0);
    else
        ck_assert_uint_eq(o->connect_ns, 0);
    ck_assert(o->reused == !fresh);
}

START_TEST(test_keepalive_reuse)
{
    setup_ok();
    const struct outcome *a = send_and_wait("GET", "/a", "User-Agent: t/1\r\n", NULL);
    ck_assert_int_eq(a->error, HTTP_ERR_NONE);
    ck_assert_int_eq(a->status, 200);
    ck_assert_str_eq(a->body, "body-0");
    ck_assert_uint_eq(a->body_len, 6);
    ck_assert_str_eq(a->nonce, "nonce-0");
    ck_assert_str_eq(a->content_type, "text/plain");
    ck_assert_str_eq(a->location, "");
    ck_assert_str_eq(a->detail, "");
    assert_timings(a, true);
    char want[128];
    snprintf(want, sizeof(want), "GET /a HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: t/1\r\n\r\n",
             (unsigned)fx.srv.port);
    ck_assert_str_eq(fx.srv.last_request, want);
    ck_assert(http_conn_is_open(fx.conn));
    const struct outcome *b = get_expect("/b", HTTP_ERR_NONE, "body-1");
    ck_assert_str_eq(b->nonce, "nonce-1");
    assert_timings(b, false);
    ck_assert_int_eq(fx.srv.accepts, 1);
    ck_assert_int_eq(fx.srv.requests, 2);
    teardown();
}
END_TEST

START_TEST(test_send_from_callback)
{
    setup_ok();
    fx.chain_left = 3;
    struct http_request req = {.method = "GET", .path = "/first", .intended_ns = clock_now_ns()};
    ck_assert_int_eq(http_conn_send(fx.conn, &req, on_done, &fx), 0);
    run_loop();
    ck_assert_int_eq(fx.nout, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(fx.out[i].error, HTTP_ERR_NONE);
        char want[16];
        snprintf(want, sizeof(want), "body-%d", i);
        ck_assert_str_eq(fx.out[i].body, want);
    }
    ck_assert_int_eq(fx.srv.accepts, 1);
    teardown();
}
END_TEST

START_TEST(test_post_body_and_headers)
{
    setup_ok();
    fx.cfg.host_header = "certctl.example.test:8443";
    const struct outcome *o = send_and_wait(
        "POST", "/api/v1/agents/ag-1/heartbeat",
        "Authorization: Bearer not-logged\r\nContent-Type: application/json", "{\"x\":1}");
    ck_assert_int_eq(o->error, HTTP_ERR_NONE);
    ck_assert_str_eq(fx.srv.last_request,
                     "POST /api/v1/agents/ag-1/heartbeat HTTP/1.1\r\n"
                     "Host: certctl.example.test:8443\r\n"
                     "Authorization: Bearer not-logged\r\nContent-Type: application/json\r\n"
                     "Content-Length: 7\r\n\r\n{\"x\":1}");
    /* an empty non-NULL body still gets Content-Length: 0 */
    o = send_and_wait("POST", "/empty", NULL, "");
    ck_assert_int_eq(o->error, HTTP_ERR_NONE);
    ck_assert_ptr_nonnull(strstr(fx.srv.last_request, "Content-Length: 0\r\n\r\n"));
    teardown();
}
END_TEST

START_TEST(test_connection_close_then_reconnect)
{
    static const enum tsrv_mode m[] = {TS_CONN_CLOSE};
    setup_plain(1, m);
    get_expect("/a", HTTP_ERR_NONE, "body-0");
    ck_assert(!http_conn_is_open(fx.conn));
    const struct outcome *b = get_expect("/b", HTTP_ERR_NONE, "body-1");
    assert_timings(b, true);
    ck_assert_int_eq(fx.srv.accepts, 2);
    teardown();
}
END_TEST

START_TEST(test_chunked_and_close_delimited)
{
    static const enum tsrv_mode m[] = {TS_CHUNKED, TS_CLOSE_DELIM, TS_OK};
    setup_plain(3, m);
    const struct outcome *a = get_expect("/c", HTTP_ERR_NONE, "hello chunked world");
    ck_assert_str_eq(a->location, "/x/1");
    const struct outcome *b = get_expect("/d", HTTP_ERR_NONE, "until-close");
    ck_assert(b->reused);
    const struct outcome *c = get_expect("/e", HTTP_ERR_NONE, NULL);
    ck_assert(!c->reused);
    ck_assert_int_eq(fx.srv.accepts, 2);
    teardown();
}
END_TEST

START_TEST(test_head_and_204_have_no_body)
{
    static const enum tsrv_mode m[] = {TS_HEAD, TS_NO_CONTENT, TS_OK};
    setup_plain(3, m);
    const struct outcome *a = send_and_wait("HEAD", "/h", NULL, NULL);
    ck_assert_int_eq(a->error, HTTP_ERR_NONE);
    ck_assert_int_eq(a->status, 200);
    ck_assert_uint_eq(a->body_len, 0);
    const struct outcome *b = send_and_wait("DELETE", "/n", NULL, NULL);
    ck_assert_int_eq(b->error, HTTP_ERR_NONE);
    ck_assert_int_eq(b->status, 204);
    ck_assert_uint_eq(b->body_len, 0);
    const struct outcome *c = get_expect("/g", HTTP_ERR_NONE, "body-2");
    ck_assert(c->reused); /* no phantom body was read: the connection stayed in sync */
    ck_assert_int_eq(fx.srv.accepts, 1);
    teardown();
}
END_TEST

/* table of broken servers: each must end in the given kind, then the connection recovers */
struct bad_case {
    enum tsrv_mode mode;
    enum http_error want;
    const char *detail_has;
};

static const struct bad_case bad_cases[] = {
    {TS_BAD_STATUS, HTTP_ERR_PROTOCOL, "status line"},
    {TS_BIG_HEADERS, HTTP_ERR_TOO_LARGE, "64 KiB"},
    {TS_BAD_CHUNK, HTTP_ERR_PROTOCOL, "chunk size"},
    {TS_TRUNCATED, HTTP_ERR_CLOSED, "truncated"},
    {TS_BIG_BODY, HTTP_ERR_TOO_LARGE, "body"},
    {TS_BIG_CLOSE_BODY, HTTP_ERR_TOO_LARGE, "body"},
    {TS_GARBAGE, HTTP_ERR_PROTOCOL, "status line"},
    {TS_RESET, HTTP_ERR_CLOSED, ""},
};

START_TEST(test_malformed_kinds)
{
    const struct bad_case *bc = &bad_cases[_i];
    enum tsrv_mode m[] = {bc->mode, TS_OK};
    setup_plain(2, m);
    fx.cfg.max_body_bytes = 1024;
    uint64_t t0 = clock_now_ns();
    const struct outcome *a = send_and_wait("GET", "/bad", NULL, NULL);
    ck_assert_msg(a->error == bc->want, "mode %d: got %s (%s), want %s", bc->mode,
                  http_error_name(a->error), a->detail, http_error_name(bc->want));
    ck_assert_msg(strstr(a->detail, bc->detail_has) != NULL, "detail '%s'", a->detail);
    ck_assert_uint_eq(a->body_len, 0);
    ck_assert_uint_lt(a->done_ns - t0, 2 * CLOCK_NS_PER_S); /* no waiting for the timeout */
    ck_assert_uint_le(a->sent_ns, a->done_ns);
    ck_assert(!http_conn_is_open(fx.conn));
    const struct outcome *b = get_expect("/good", HTTP_ERR_NONE, "body-1");
    ck_assert(!b->reused);
    ck_assert_int_eq(fx.srv.accepts, 2);
    teardown();
}
END_TEST

START_TEST(test_never_answers_times_out)
{
    static const enum tsrv_mode m[] = {TS_NEVER, TS_OK};
    setup_plain(2, m);
    fx.cfg.timeout_ns = 200 * CLOCK_NS_PER_MS;
    uint64_t t0 = clock_now_ns();
    const struct outcome *a = send_and_wait("GET", "/slow", NULL, NULL);
    uint64_t elapsed = clock_now_ns() - t0;
    ck_assert_int_eq(a->error, HTTP_ERR_TIMEOUT);
    ck_assert_uint_ge(elapsed, 190 * CLOCK_NS_PER_MS);
    ck_assert_uint_lt(elapsed, 1500 * CLOCK_NS_PER_MS);
    ck_assert_uint_eq(a->first_byte_ns, 0);
    ck_assert(!http_conn_is_open(fx.conn));
    settle(50);
    ck_assert_int_eq(fx.srv.peer_closed, 1); /* the client closed the connection */
    get_expect("/ok", HTTP_ERR_NONE, NULL);
    teardown();
}
END_TEST

START_TEST(test_partial_body_times_out)
{
    static const enum tsrv_mode m[] = {TS_PARTIAL};
    setup_plain(1, m);
    fx.cfg.timeout_ns = 200 * CLOCK_NS_PER_MS;
    const struct outcome *a = get_expect("/partial", HTTP_ERR_TIMEOUT, NULL);
    ck_assert_int_eq(a->status, 200);
    ck_assert_uint_gt(a->first_byte_ns, 0);
    ck_assert_uint_le(a->first_byte_ns, a->done_ns);
    teardown();
}
END_TEST

START_TEST(test_server_closes_after_accept)
{
    setup_ok();
    fx.srv.close_on_accept = 1;
    const struct outcome *a = get_expect("/x", HTTP_ERR_CLOSED, NULL);
    ck_assert_int_eq(a->status, 0);
    get_expect("/y", HTTP_ERR_NONE, NULL);
    ck_assert_int_eq(fx.srv.accepts, 2);
    teardown();
}
END_TEST

START_TEST(test_connect_refused)
{
    setup_ok();
    /* a port nobody listens on: bind one, learn it, close it */
    struct tsrv tmp;
    ck_assert_int_eq(tsrv_start(&tmp, fx.base, "127.0.0.1", NULL), 0);
    uint16_t dead = tmp.port;
    tsrv_stop(&tmp);
    struct http_conn_config cfg;
    char err[128];
    ck_assert_int_eq(http_conn_config_init(&cfg, "127.0.0.1", dead, NULL, err, sizeof(err)), 0);
    struct http_conn *c = http_conn_new(fx.base, &cfg);
    struct http_request req = {.method = "GET", .path = "/", .intended_ns = clock_now_ns()};
    ck_assert_int_eq(http_conn_send(c, &req, on_done, &fx), 0);
    ck_assert_int_eq(fx.nout, 0); /* never called from inside send */
    run_loop();
    ck_assert_int_eq(fx.nout, 1);
    ck_assert_int_eq(fx.out[0].error, HTTP_ERR_CONNECT);
    ck_assert_ptr_nonnull(strstr(fx.out[0].detail, "refused"));
    ck_assert_uint_eq(fx.out[0].sent_ns, 0);
    http_conn_free(c);
    teardown();
}
END_TEST

START_TEST(test_unsolicited_bytes_close)
{
    static const enum tsrv_mode m[] = {TS_EXTRA, TS_OK};
    setup_plain(2, m);
    get_expect("/a", HTTP_ERR_NONE, "body-0");
    ck_assert(!http_conn_is_open(fx.conn));
    get_expect("/b", HTTP_ERR_NONE, NULL);
    ck_assert_int_eq(fx.srv.accepts, 2);
    teardown();
}
END_TEST

START_TEST(test_idle_connection_events)
{
    setup_ok();
    ck_assert_int_eq(send_and_wait("GET", "/a", NULL, NULL)->error, HTTP_ERR_NONE);
    /* bytes while no request is outstanding: the client drops the connection */
    tsrv_push(&fx.srv, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    settle(50);
    ck_assert(!http_conn_is_open(fx.conn));
    ck_assert_int_eq(fx.srv.peer_closed, 1);
    const struct outcome *b = get_expect("/b", HTTP_ERR_NONE, NULL);
    ck_assert(!b->reused);
    /* the server closes the idle connection: noticed, and the next send reconnects */
    tsrv_close_all(&fx.srv);
    settle(50);
    ck_assert(!http_conn_is_open(fx.conn));
    const struct outcome *c = get_expect("/c", HTTP_ERR_NONE, NULL);
    ck_assert(!c->reused);
    ck_assert_int_eq(fx.srv.accepts, 3);
    teardown();
}
END_TEST

START_TEST(test_ebusy_and_einval)
{
    setup_ok();
    struct http_request req = {.method = "GET", .path = "/", .intended_ns = clock_now_ns()};
    ck_assert_int_eq(http_conn_send(fx.conn, &req, on_done, &fx), 0);
    ck_assert_int_eq(http_conn_send(fx.conn, &req, on_done, &fx), -EBUSY);
    ck_assert_int_eq(http_conn_close(fx.conn), -EBUSY);
    run_loop();
    ck_assert_int_eq(fx.nout, 1);
    settle(30);
    ck_assert_int_eq(fx.nout, 1); /* the refused send never calls back */
    struct http_request bad = {.method = "GET", .path = "/a b"};
    ck_assert_int_eq(http_conn_send(fx.conn, &bad, on_done, &fx), -EINVAL);
    bad.path = "/\r\nX: y";
    ck_assert_int_eq(http_conn_send(fx.conn, &bad, on_done, &fx), -EINVAL);
    ck_assert_int_eq(http_conn_close(fx.conn), 0);
    ck_assert(!http_conn_is_open(fx.conn));
    teardown();
}
END_TEST

START_TEST(test_source_address_binding)
{
    setup_ok();
    struct in_addr src;
    inet_pton(AF_INET, "127.0.0.2", &src);
    http_conn_set_source_ipv4(fx.conn, &src);
    get_expect("/", HTTP_ERR_NONE, NULL);
    ck_assert_str_eq(fx.srv.last_peer, "127.0.0.2");
    /* via the config as well, for a new connection */
    struct http_conn_config cfg = fx.cfg;
    cfg.bind_source = true;
    inet_pton(AF_INET, "127.0.0.3", &cfg.source_ipv4);
    struct http_conn *c = http_conn_new(fx.base, &cfg);
    struct http_request req = {.method = "GET", .path = "/", .intended_ns = clock_now_ns()};
    ck_assert_int_eq(http_conn_send(c, &req, on_done, &fx), 0);
    run_loop();
    ck_assert_int_eq(fx.out[1].error, HTTP_ERR_NONE);
    ck_assert_str_eq(fx.srv.last_peer, "127.0.0.3");
    http_conn_free(c);
    teardown();
}
END_TEST

START_TEST(test_ipv6_loopback)
{
    static const enum tsrv_mode m[] = {TS_OK};
    memset(&fx, 0, sizeof(fx));
    fx.base = event_base_new();
    if (tsrv_start(&fx.srv, fx.base, "::1", NULL) != 0) {
        fprintf(stderr, "no IPv6 loopback here: IPv6 case not run\n");
        event_base_free(fx.base);
        return;
    }
    tsrv_script(&fx.srv, 1, m);
    char err[128];
    ck_assert_int_eq(http_conn_config_init(&fx.cfg, "::1", fx.srv.port, NULL, err, sizeof(err)), 0);
    fx.conn = http_conn_new(fx.base, &fx.cfg);
    get_expect("/v6", HTTP_ERR_NONE, NULL);
    ck_assert_str_eq(fx.srv.last_peer, "::1");
    char want[64];
    snprintf(want, sizeof(want), "Host: [::1]:%u\r\n", (unsigned)fx.srv.port);
    ck_assert_ptr_nonnull(strstr(fx.srv.last_request, want));
    teardown();
}
END_TEST

static void free_in_callback(const struct http_result *r, void *arg)
{
    struct fixture *f = arg;
    f->out[f->nout++].error = r->error;
    http_conn_free(f->conn);
    f->conn = NULL;
    event_base_loopbreak(f->base);
}

START_TEST(test_free_in_callback_and_while_busy)
{
    static const enum tsrv_mode m[] = {TS_CONN_CLOSE, TS_NEVER};
    setup_plain(2, m);
    struct http_request req = {.method = "GET", .path = "/", .intended_ns = clock_now_ns()};
    ck_assert_int_eq(http_conn_send(fx.conn, &req, free_in_callback, &fx), 0);
    run_loop();
    ck_assert_int_eq(fx.nout, 1);
    ck_assert_ptr_null(fx.conn);
    settle(20);
    /* freed while a request is in flight: the callback never runs */
    fx.conn = http_conn_new(fx.base, &fx.cfg);
    ck_assert_int_eq(http_conn_send(fx.conn, &req, on_done, &fx), 0);
    settle(50);
    http_conn_free(fx.conn);
    fx.conn = NULL;
    settle(50);
    ck_assert_int_eq(fx.nout, 1);
    teardown();
}
END_TEST

/* ---- TLS ---- */

static EVP_PKEY *tls_key;
static X509 *tls_cert;
static char ca_path[64];

static void tls_setup(void)
{
    ck_assert_int_eq(tsrv_make_cert(&tls_key, &tls_cert, ca_path), 0);
}

static void tls_teardown(void)
{
    unlink(ca_path);
    EVP_PKEY_free(tls_key);
    X509_free(tls_cert);
}

/* server with max_version, client ctx from (cacert, insecure), connection to host name */
static SSL_CTX *tls_start(int max_version, const char *cacert, bool insecure, const char *host,
                          int n, const enum tsrv_mode *modes, SSL_CTX **sctx_out)
{
    char err[256];
    SSL_CTX *sctx = tsrv_ssl_ctx(tls_key, tls_cert, max_version);
    start_server("127.0.0.1", sctx, n, modes);
    SSL_CTX *cctx = tls_client_ctx_new(cacert, insecure, err, sizeof(err));
    ck_assert_msg(cctx != NULL, "%s", err);
    fx.cfg.ssl_ctx = cctx;
    fx.cfg.host = host;
    fx.conn = http_conn_new(fx.base, &fx.cfg);
    *sctx_out = sctx;
    return cctx;
}

static void tls_stop(SSL_CTX *cctx, SSL_CTX *sctx)
{
    teardown();
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

START_TEST(test_tls_verified_keepalive)
{
    static const enum tsrv_mode m[] = {TS_OK};
    const char *hosts[] = {"127.0.0.1", "localhost"};
    SSL_CTX *sctx;
    SSL_CTX *cctx = tls_start(0, ca_path, false, hosts[_i], 1, m, &sctx);
    const struct outcome *a = get_expect("/tls", HTTP_ERR_NONE, "body-0");
    ck_assert_uint_gt(a->tls_ns, 0);
    ck_assert_uint_gt(a->connect_ns, 0);
    ck_assert_uint_ge(a->sent_ns, a->intended_ns + a->connect_ns + a->tls_ns);
    assert_timings(a, true);
    if (_i == 1) /* a name: Host is the name, with the port */
        ck_assert_ptr_nonnull(strstr(fx.srv.last_request, "Host: localhost:"));
    const struct outcome *b = get_expect("/tls2", HTTP_ERR_NONE, NULL);
    ck_assert_uint_eq(b->tls_ns, 0);
    assert_timings(b, false);
    ck_assert_int_eq(fx.srv.accepts, 1);
    tls_stop(cctx, sctx);
}
END_TEST

START_TEST(test_tls_verification_failures)
{
    static const enum tsrv_mode m[] = {TS_OK};
    static const struct {
        bool with_ca, insecure;
        const char *host;
        enum http_error want;
        const char *detail_has, *body;
    } cases[] = {
        /* system store: the self-signed certificate is unknown */
        {false, false, "127.0.0.1", HTTP_ERR_TLS, "certificate verify failed", NULL},
        {true, false, "wrong.example.test", HTTP_ERR_TLS, "hostname mismatch", NULL},
        {true, false, "127.0.0.9", HTTP_ERR_TLS, "IP address mismatch", NULL},
        /* insecure: no verification at all */
        {false, true, "wrong.example.test", HTTP_ERR_NONE, "", "body-0"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        SSL_CTX *sctx;
        SSL_CTX *cctx = tls_start(0, cases[i].with_ca ? ca_path : NULL, cases[i].insecure,
                                  cases[i].host, 1, m, &sctx);
        const struct outcome *a = get_expect("/", cases[i].want, cases[i].body);
        ck_assert_msg(strstr(a->detail, cases[i].detail_has) != NULL, "%s", a->detail);
        if (cases[i].want == HTTP_ERR_TLS) { /* nothing was sent */
            ck_assert_uint_eq(a->sent_ns, 0);
            ck_assert_int_eq(fx.srv.requests, 0);
        }
        tls_stop(cctx, sctx);
    }
}
END_TEST

START_TEST(test_tls_bad_ca_file)
{
    char err[256];
    ck_assert_ptr_null(tls_client_ctx_new("/nonexistent/ca.pem", false, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/ca.pem"));
}
END_TEST

START_TEST(test_tls_session_resumption)
{
    /* _i: 0 = TLS 1.3, 1 = TLS 1.2, 2 = resumption turned off */
    static const enum tsrv_mode m[] = {TS_CONN_CLOSE};
    SSL_CTX *sctx;
    SSL_CTX *cctx =
        tls_start(_i == 1 ? TLS1_2_VERSION : 0, ca_path, false, "localhost", 1, m, &sctx);
    fx.cfg.tls_no_resumption = _i == 2;
    const struct outcome *a = get_expect("/1", HTTP_ERR_NONE, NULL);
    ck_assert(!a->tls_resumed);
    const struct outcome *b = get_expect("/2", HTTP_ERR_NONE, NULL);
    ck_assert_uint_gt(b->tls_ns, 0);
    ck_assert_int_eq(fx.srv.accepts, 2);
    ck_assert_int_eq(b->tls_resumed, _i != 2);
    ck_assert_int_eq(fx.srv.tls_resumed, _i != 2 ? 1 : 0);
    tls_stop(cctx, sctx);
}
END_TEST

START_TEST(test_tls_server_closes_after_accept)
{
    static const enum tsrv_mode m[] = {TS_OK};
    SSL_CTX *sctx;
    SSL_CTX *cctx = tls_start(0, ca_path, false, "localhost", 1, m, &sctx);
    fx.srv.close_on_accept = 1;
    get_expect("/", HTTP_ERR_CLOSED, NULL);
    get_expect("/", HTTP_ERR_NONE, NULL);
    tls_stop(cctx, sctx);
}
END_TEST

START_TEST(test_tls_body_delimiting)
{
    /* over TLS the server's close comes without close_notify (a dirty shutdown) */
    static const enum tsrv_mode m[] = {TS_CLOSE_DELIM, TS_CHUNKED, TS_TRUNCATED, TS_BIG_HEADERS,
                                       TS_OK};
    SSL_CTX *sctx;
    SSL_CTX *cctx = tls_start(0, ca_path, false, "localhost", 5, m, &sctx);
    get_expect("/1", HTTP_ERR_NONE, "until-close");
    get_expect("/2", HTTP_ERR_NONE, "hello chunked world");
    get_expect("/3", HTTP_ERR_CLOSED, NULL);
    get_expect("/4", HTTP_ERR_TOO_LARGE, NULL);
    get_expect("/5", HTTP_ERR_NONE, NULL);
    ck_assert_int_eq(fx.srv.accepts, 4);
    tls_stop(cctx, sctx);
}
END_TEST

START_TEST(test_error_names)
{
    ck_assert_str_eq(http_error_name(HTTP_ERR_NONE), "none");
    ck_assert_str_eq(http_error_name(HTTP_ERR_TOO_LARGE), "too_large");
    ck_assert_str_eq(http_error_name(HTTP_ERR_OTHER), "other");
    ck_assert_str_eq(http_error_name((enum http_error)99), "unknown");
    struct http_conn_config cfg;
    char err[128];
    ck_assert_int_eq(http_conn_config_init(&cfg, "[::1]", 80, NULL, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(http_conn_config_init(&cfg, "localhost", 8080, NULL, err, sizeof(err)), 0);
    ck_assert_uint_eq(cfg.max_body_bytes, HTTP_DEFAULT_MAX_BODY_BYTES);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http_client");
    TCase *t = testenv_tcase(s, "plain", 20);
    tcase_add_test(t, test_keepalive_reuse);
    tcase_add_test(t, test_send_from_callback);
    tcase_add_test(t, test_post_body_and_headers);
    tcase_add_test(t, test_connection_close_then_reconnect);
    tcase_add_test(t, test_chunked_and_close_delimited);
    tcase_add_test(t, test_head_and_204_have_no_body);
    tcase_add_loop_test(t, test_malformed_kinds, 0,
                        (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(t, test_never_answers_times_out);
    tcase_add_test(t, test_partial_body_times_out);
    tcase_add_test(t, test_server_closes_after_accept);
    tcase_add_test(t, test_connect_refused);
    tcase_add_test(t, test_unsolicited_bytes_close);
    tcase_add_test(t, test_idle_connection_events);
    tcase_add_test(t, test_ebusy_and_einval);
    tcase_add_test(t, test_source_address_binding);
    tcase_add_test(t, test_ipv6_loopback);
    tcase_add_test(t, test_free_in_callback_and_while_busy);
    tcase_add_test(t, test_error_names);
    TCase *tls = testenv_tcase(s, "tls", 20);
    tcase_add_checked_fixture(tls, tls_setup, tls_teardown);
    tcase_add_loop_test(tls, test_tls_verified_keepalive, 0, 2);
    tcase_add_test(tls, test_tls_verification_failures);
    tcase_add_test(tls, test_tls_bad_ca_file);
    tcase_add_loop_test(tls, test_tls_session_resumption, 0, 3);
    tcase_add_test(tls, test_tls_server_closes_after_accept);
    tcase_add_test(tls, test_tls_body_delimiting);
    return s;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as every program using the client must */
    return testenv_run(suite());
}
