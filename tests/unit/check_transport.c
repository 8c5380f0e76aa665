/* tests/unit/check_transport.c - the transport tables (engine/transport.h) on their own, against
 * the scripted server on loopback: plain and TLS connect, handshake, write, read with the
 * arrival time of the bytes, nothing pending after a whole response, EOF on the server's
 * close, TLS session resumption through the kept session, and a verification failure reported
 * as a TLS error with OpenSSL's reason. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/tls.h"
#include "engine/transport.h"
#include "tests/lib/http_test_server.h"

/* Rounds of the server's loop a test waits for one transport step at most (each round waits
 * up to 10 ms for the server's sockets): every wait below is bounded. */
#define ROUNDS 500

struct fx {
    struct event_base *base;
    struct tsrv srv;
    SSL_CTX *server_ctx, *client_ctx;
    EVP_PKEY *key;
    X509 *cert;
    char ca_path[64];
    struct sockaddr_in addr;
};

static void server_round(struct fx *f)
{
    struct timeval tv = {0, 10000};
    event_base_loopexit(f->base, &tv);
    event_base_loop(f->base, EVLOOP_ONCE);
}

static void fx_up(struct fx *f, bool tls)
{
    memset(f, 0, sizeof(*f));
    f->base = event_base_new();
    ck_assert_ptr_nonnull(f->base);
    if (tls) {
        char err[256];
        ck_assert_int_eq(tsrv_make_cert(&f->key, &f->cert, f->ca_path), 0);
        f->server_ctx = tsrv_ssl_ctx(f->key, f->cert, 0);
        f->client_ctx = tls_client_ctx_new(f->ca_path, false, err, sizeof err);
        ck_assert_msg(f->client_ctx != NULL, "%s", err);
    }
    ck_assert_int_eq(tsrv_start(&f->srv, f->base, "127.0.0.1", f->server_ctx), 0);
    f->addr.sin_family = AF_INET;
    f->addr.sin_port = htons(f->srv.port);
    f->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static void fx_down(struct fx *f)
{
    tsrv_stop(&f->srv);
    if (f->client_ctx)
        SSL_CTX_free(f->client_ctx);
    if (f->server_ctx)
        SSL_CTX_free(f->server_ctx);
    EVP_PKEY_free(f->key);
    X509_free(f->cert);
    if (f->ca_path[0])
        unlink(f->ca_path);
    event_base_free(f->base);
}

static struct transport_peer peer_of(struct fx *f, const char *host)
{
    return (struct transport_peer){.addr = (const struct sockaddr *)&f->addr,
                                   .addr_len = sizeof f->addr,
                                   .host = host,
                                   .ssl_ctx = f->client_ctx};
}

/* Connects t (and runs its handshake, if any) while the server's loop turns. Returns the
 * handshake's last outcome (TRANSPORT_DONE when open), why holds the reason of an error. */
static enum transport_io open_transport(struct fx *f, struct transport *t,
                                        const struct transport_peer *p, char *why, size_t n)
{
    uint64_t started = 0;
    enum transport_io r = transport_connect(t, p, &started, why, n);
    if (r != TRANSPORT_DONE)
        return r;
    ck_assert_uint_gt(started, 0);
    for (int i = 0; i < ROUNDS && transport_connect_result(t) != 0; i++)
        server_round(f);
    ck_assert_int_eq(transport_connect_result(t), 0);
    if (!transport_has_handshake(t))
        return TRANSPORT_DONE;
    for (int i = 0; i < ROUNDS; i++) {
        r = transport_handshake(t, p, why, n);
        if (r != TRANSPORT_WANT_READ && r != TRANSPORT_WANT_WRITE)
            return r;
        server_round(f);
    }
    return r;
}

/* Sends one GET and reads the whole scripted response ("body-<n>") into buf. Returns its
 * length; *arrival_ns is when its last bytes reached the host. */
static size_t request(struct fx *f, struct transport *t, char *buf, size_t cap,
                      uint64_t *arrival_ns)
{
    static const char req[] = "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n";
    char why[128];
    size_t done = 0;
    uint64_t sent_ns = clock_now_ns();
    ck_assert_int_eq(transport_write(t, req, sizeof req - 1, &done, why, sizeof why),
                     TRANSPORT_DONE);
    ck_assert_uint_eq(done, sizeof req - 1);
    size_t len = 0;
    for (int i = 0; i < ROUNDS && !strstr(buf, "body-"); i++) {
        size_t got = 0;
        enum transport_io r = transport_read(t, buf + len, cap - 1 - len, &got, why, sizeof why);
        if (r == TRANSPORT_DONE) {
            len += got;
            buf[len] = '\0';
            *arrival_ns = t->rx_ns;
            continue;
        }
        ck_assert_msg(r == TRANSPORT_WANT_READ, "read: %d %s", (int)r, why);
        server_round(f);
    }
    ck_assert_ptr_nonnull(strstr(buf, "body-"));
    ck_assert_uint_ge(*arrival_ns, sent_ns - CLOCK_NS_PER_MS); /* kernel stamp, not earlier */
    ck_assert_uint_le(*arrival_ns, clock_now_ns());
    return len;
}

/* Reads until the server's close shows; returns the last outcome. */
static enum transport_io read_to_close(struct fx *f, struct transport *t)
{
    char buf[256], why[128];
    enum transport_io r = TRANSPORT_WANT_READ;
    for (int i = 0; i < ROUNDS && r == TRANSPORT_WANT_READ; i++) {
        size_t got;
        r = transport_read(t, buf, sizeof buf, &got, why, sizeof why);
        if (r == TRANSPORT_WANT_READ)
            server_round(f);
    }
    return r;
}

static void exchange_and_close(bool tls)
{
    struct fx f;
    fx_up(&f, tls);
    struct transport t;
    transport_init(&t, tls ? TRANSPORT_TLS : TRANSPORT_PLAIN);
    ck_assert(!transport_is_open(&t));
    struct transport_peer p = peer_of(&f, "localhost");
    char why[128] = "";
    ck_assert_int_eq(open_transport(&f, &t, &p, why, sizeof why), TRANSPORT_DONE);
    ck_assert(transport_is_open(&t));
    ck_assert(!t.resumed);
    char buf[4096] = "";
    uint64_t arrival;
    request(&f, &t, buf, sizeof buf, &arrival);
    ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200"));
    ck_assert(!transport_pending_data(&t)); /* one response, nothing beyond it */
    transport_idle(&t);
    tsrv_close_all(&f.srv);
    ck_assert_int_eq(read_to_close(&f, &t), TRANSPORT_EOF);
    transport_close(&t, true);
    ck_assert(!transport_is_open(&t));
    transport_release(&t);
    fx_down(&f);
}

START_TEST(test_plain_exchange)
{
    exchange_and_close(false);
}
END_TEST

START_TEST(test_tls_exchange)
{
    exchange_and_close(true);
}
END_TEST

/* The second connection of a TLS transport offers the session the first one kept. */
START_TEST(test_tls_resumes_kept_session)
{
    struct fx f;
    fx_up(&f, true);
    struct transport t;
    transport_init(&t, TRANSPORT_TLS);
    struct transport_peer p = peer_of(&f, "localhost");
    char why[128] = "", buf[4096] = "";
    uint64_t arrival;
    ck_assert_int_eq(open_transport(&f, &t, &p, why, sizeof why), TRANSPORT_DONE);
    request(&f, &t, buf, sizeof buf, &arrival); /* a TLS 1.3 ticket comes with the answer */
    for (int i = 0; i < ROUNDS && !t.session; i++) {
        server_round(&f);
        (void)transport_pending_data(&t); /* consumes a ticket record read ahead */
        size_t got;
        (void)transport_read(&t, buf, sizeof buf, &got, why, sizeof why);
    }
    ck_assert_ptr_nonnull(t.session);
    transport_close(&t, true);
    ck_assert_ptr_nonnull(t.session); /* kept across the close */
    ck_assert_int_eq(open_transport(&f, &t, &p, why, sizeof why), TRANSPORT_DONE);
    ck_assert(t.resumed);
    transport_close(&t, true);
    transport_release(&t);
    ck_assert_ptr_null(t.session);
    fx_down(&f);
}
END_TEST

/* A certificate issued for localhost does not name another host: a TLS error with the reason. */
START_TEST(test_tls_verification_failure)
{
    struct fx f;
    fx_up(&f, true);
    struct transport t;
    transport_init(&t, TRANSPORT_TLS);
    struct transport_peer p = peer_of(&f, "wrong.example");
    char why[128] = "";
    ck_assert_int_eq(open_transport(&f, &t, &p, why, sizeof why), TRANSPORT_ERR_TLS);
    ck_assert_msg(strstr(why, "certificate verify failed") != NULL, "%s", why);
    transport_close(&t, false);
    transport_release(&t);
    fx_down(&f);
}
END_TEST

/* Nothing listens on the port any more: the connect fails (at once or when it completes). */
START_TEST(test_plain_connect_refused)
{
    struct fx f;
    fx_up(&f, false);
    tsrv_stop(&f.srv);
    struct transport t;
    transport_init(&t, TRANSPORT_PLAIN);
    struct transport_peer p = peer_of(&f, NULL);
    char why[128] = "";
    uint64_t started = 0;
    enum transport_io r = transport_connect(&t, &p, &started, why, sizeof why);
    if (r == TRANSPORT_DONE) {
        int e = 0;
        for (int i = 0; i < ROUNDS && !(e = transport_connect_result(&t)); i++)
            usleep(1000);
        ck_assert_int_eq(e, ECONNREFUSED);
    } else {
        ck_assert_int_eq(r, TRANSPORT_ERR_CONNECT);
    }
    transport_close(&t, false);
    event_base_free(f.base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transport");
    TCase *tc = tcase_create("transport");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_plain_exchange);
    tcase_add_test(tc, test_tls_exchange);
    tcase_add_test(tc, test_tls_resumes_kept_session);
    tcase_add_test(tc, test_tls_verification_failure);
    tcase_add_test(tc, test_plain_connect_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
