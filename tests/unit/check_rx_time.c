/* tests/unit/check_rx_time.c - engine/rx_time and its use by the HTTP client: a read reports
 * when its bytes arrived (not when it ran), with and without the BIO, plain and over TLS; a
 * socket without timestamps reports the read time; the realtime-to-monotonic conversion; and a
 * client whose thread is busy while the answer arrives still times the response by its arrival. */
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "engine/clock.h"
#include "engine/http_client.h"
#include "engine/rx_time.h"
#include "engine/tls.h"
#include "tests/lib/testenv.h"
#include "tests/lib/http_test_server.h"

#define MS 1000000ULL
#define WAIT_MS 80 /* how long data waits in the socket before it is read */

/* A connected TCP pair on 127.0.0.1 (blocking). */
static void tcp_pair(int *client, int *server)
{
    int lis = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(lis, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(lis, 1), 0);
    ck_assert_int_eq(getsockname(lis, (struct sockaddr *)&a, &len), 0);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(*client, (struct sockaddr *)&a, sizeof a), 0);
    *server = accept(lis, NULL, NULL);
    ck_assert_int_ge(*server, 0);
    close(lis);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The kernel switches receive timestamps on for the whole system only when some socket asks
 * for them, and does so from a work queue: packets that arrive before it has run carry none.
 * Opens a pair whose receiver asks for timestamps and waits (at most 5 s) until data arriving
 * on it is stamped; keeping the pair open keeps them on. Returns the pair in fds. */
static void stamps_on(int fds[2])
{
    tcp_pair(&fds[0], &fds[1]);
    ck_assert_int_eq(rx_time_enable(fds[1]), 0);
    for (int i = 0; i < 500; i++) {
        ck_assert_int_eq(send(fds[0], "w", 1, 0), 1);
        sleep_ms(10);
        char b[8];
        uint64_t arrival = 0;
        ck_assert_int_eq(rx_time_recv(fds[1], b, sizeof b, &arrival), 1);
        if (arrival + 5 * MS < clock_now_ns())
            return; /* stamped when it arrived, ~10 ms ago */
    }
    ck_abort_msg("the kernel gave no receive timestamps");
}

static void stamps_off(int fds[2])
{
    close(fds[0]);
    close(fds[1]);
}

/* Sends one byte at t0, waits WAIT_MS, reads: with timestamps on, the arrival is t0 (not the
 * read time); off, it is the read time. */
static void check_arrival(bool enable)
{
    int on[2], c, s;
    stamps_on(on);
    tcp_pair(&c, &s);
    if (enable)
        ck_assert_int_eq(rx_time_enable(s), 0);
    uint64_t t0 = clock_now_ns();
    ck_assert_int_eq(send(c, "x", 1, 0), 1);
    sleep_ms(WAIT_MS);
    char b[8];
    uint64_t arrival = 0;
    ck_assert_int_eq(rx_time_recv(s, b, sizeof b, &arrival), 1);
    uint64_t now = clock_now_ns();
    ck_assert_uint_le(arrival, now);
    if (enable) {
        ck_assert_uint_ge(arrival + MS, t0); /* conversion error well under 1 ms */
        ck_assert_uint_lt(arrival, t0 + 20 * MS);
    } else {
        ck_assert_uint_ge(arrival, t0 + WAIT_MS * MS);
    }
    close(c);
    close(s);
    stamps_off(on);
}

START_TEST(test_recv_reports_arrival)
{
    check_arrival(true);
}
END_TEST

START_TEST(test_recv_without_stamps_reports_read_time)
{
    check_arrival(false);
}
END_TEST

START_TEST(test_to_monotonic)
{
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    uint64_t now = clock_now_ns();
    uint64_t past = rx_time_to_monotonic_ns(real.tv_sec - 1, real.tv_nsec);
    ck_assert_uint_lt(past, now - 1000 * MS + 5 * MS);
    ck_assert_uint_gt(past, now - 1000 * MS - 5 * MS);
    uint64_t future = rx_time_to_monotonic_ns(real.tv_sec + 5, real.tv_nsec);
    ck_assert_uint_ge(future, now);
    ck_assert_uint_lt(future, now + 5 * MS);
}
END_TEST

/* The BIO: reads stamp arrival, an empty non-blocking socket asks for a retry, writes reach
 * the peer, a close reads as 0, and freeing the BIO leaves the descriptor open. */
START_TEST(test_bio)
{
    int on[2], c, s;
    stamps_on(on);
    tcp_pair(&c, &s);
    ck_assert_int_eq(rx_time_enable(s), 0);
    ck_assert_int_eq(fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK), 0);
    uint64_t arrival = 0;
    BIO *b = rx_time_bio_new(s, &arrival);
    ck_assert_ptr_nonnull(b);
    char buf[16];
    ck_assert_int_eq(BIO_read(b, buf, sizeof buf), -1);
    ck_assert(BIO_should_retry(b) && BIO_should_read(b));
    uint64_t t0 = clock_now_ns();
    ck_assert_int_eq(send(c, "hello", 5, 0), 5);
    sleep_ms(WAIT_MS);
    ck_assert_int_eq(BIO_read(b, buf, sizeof buf), 5);
    ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
    ck_assert_uint_lt(arrival, t0 + 20 * MS);
    ck_assert_uint_ge(arrival + MS, t0);
    ck_assert_int_eq(BIO_write(b, "back", 4), 4);
    ck_assert_int_eq(recv(c, buf, sizeof buf, 0), 4);
    ck_assert_int_eq(memcmp(buf, "back", 4), 0);
    close(c);
    sleep_ms(10);
    ck_assert_int_eq(BIO_read(b, buf, sizeof buf), 0);
    BIO_free(b);
    ck_assert_int_eq(send(s, "", 0, MSG_NOSIGNAL), 0); /* still open */
    close(s);
    stamps_off(on);
}
END_TEST

/* ---- the client: a server thread answers at once while the client's thread sleeps --------- */

struct answerer {
    int lis;
    SSL_CTX *ssl_ctx; /* TLS when set */
    int requests;     /* answer this many requests on one connection, then close */
};

/* Reads one request head (up to the blank line); returns false at EOF or error. */
static bool read_head(int fd, SSL *ssl)
{
    char buf[4096];
    size_t used = 0;
    while (used < sizeof buf - 1) {
        int r = ssl ? SSL_read(ssl, buf + used, (int)(sizeof buf - 1 - used))
                    : (int)recv(fd, buf + used, sizeof buf - 1 - used, 0);
        if (r <= 0)
            return false;
        used += (size_t)r;
        buf[used] = 0;
        if (strstr(buf, "\r\n\r\n"))
            return true;
    }
    return false;
}

static void *answer_main(void *arg)
{
    struct answerer *a = arg;
    int fd = accept(a->lis, NULL, NULL);
    if (fd < 0)
        return NULL;
    SSL *ssl = NULL;
    if (a->ssl_ctx) {
        ssl = SSL_new(a->ssl_ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1)
            goto out;
    }
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    for (int i = 0; i < a->requests && read_head(fd, ssl); i++) {
        if (ssl)
            SSL_write(ssl, reply, (int)sizeof reply - 1);
        else
            send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL);
    }
out:
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    close(fd);
    return NULL;
}

struct outcome {
    struct http_result res;
    uint64_t callback_ns;
    bool called;
};

static void on_done(const struct http_result *res, void *arg)
{
    struct outcome *o = arg;
    o->res = *res;
    o->res.body = NULL;
    o->res.detail = NULL;
    o->callback_ns = clock_now_ns();
    o->called = true;
}

/* One request; when busy_ms > 0 the thread sleeps that long after sending (the server answers
 * meanwhile) before its loop runs. */
static void one_request(struct event_base *base, struct http_conn *conn, unsigned busy_ms,
                        struct outcome *o)
{
    memset(o, 0, sizeof *o);
    struct http_request req = {.method = "GET", .path = "/x", .intended_ns = clock_now_ns()};
    ck_assert_int_eq(http_conn_send(conn, &req, on_done, o), 0);
    if (busy_ms)
        sleep_ms(busy_ms);
    while (!o->called)
        event_base_loop(base, EVLOOP_ONCE);
    ck_assert_int_eq(o->res.error, HTTP_ERR_NONE);
    ck_assert_int_eq(o->res.status, 200);
}

static void check_client(bool tls)
{
    int on[2];
    stamps_on(on);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char ca_path[256];
    SSL_CTX *sctx = NULL, *cctx = NULL;
    char err[256];
    if (tls) {
        ck_assert_int_eq(tsrv_make_cert(&key, &cert, ca_path), 0);
        sctx = tsrv_ssl_ctx(key, cert, 0);
        cctx = tls_client_ctx_new(ca_path, false, err, sizeof err);
        ck_assert_ptr_nonnull(cctx);
    }
    struct answerer a = {.lis = socket(AF_INET, SOCK_STREAM, 0), .ssl_ctx = sctx, .requests = 2};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    ck_assert_int_eq(bind(a.lis, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(a.lis, 1), 0);
    ck_assert_int_eq(getsockname(a.lis, (struct sockaddr *)&sa, &len), 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, answer_main, &a), 0);

    struct event_base *base = event_base_new();
    struct http_conn_config cfg;
    ck_assert_int_eq(
        http_conn_config_init(&cfg, "127.0.0.1", ntohs(sa.sin_port), cctx, err, sizeof err), 0);
    struct http_conn *conn = http_conn_new(base, &cfg);
    struct outcome first, second;
    one_request(base, conn, 0, &first);        /* connects (and shakes hands) */
    one_request(base, conn, WAIT_MS, &second); /* reused; the thread is busy */
    ck_assert(second.res.reused);
    ck_assert_uint_ge(second.callback_ns - second.res.sent_ns, WAIT_MS * MS);
    ck_assert_uint_lt(second.res.done_ns - second.res.sent_ns, 40 * MS);
    ck_assert_uint_ge(second.res.done_ns, second.res.first_byte_ns);
    ck_assert_uint_ge(second.res.first_byte_ns, second.res.sent_ns);
    http_conn_free(conn);
    pthread_join(th, NULL);
    close(a.lis);
    event_base_free(base);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    X509_free(cert);
    EVP_PKEY_free(key);
    if (tls)
        unlink(ca_path);
    stamps_off(on);
}

START_TEST(test_client_times_arrival_plain)
{
    check_client(false);
}
END_TEST

START_TEST(test_client_times_arrival_tls)
{
    check_client(true);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rx_time");
    TCase *tc = tcase_create("rx_time");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_recv_reports_arrival);
    tcase_add_test(tc, test_recv_without_stamps_reports_read_time);
    tcase_add_test(tc, test_to_monotonic);
    tcase_add_test(tc, test_bio);
    tcase_add_test(tc, test_client_times_arrival_plain);
    tcase_add_test(tc, test_client_times_arrival_tls);
    suite_add_tcase(s, tc);
    return testenv_run(s);
}
