/* tests/integration/check_refserver_strict.c - fleetsim-target's request layer refuses what
 * Go's net/http (certctl's server) and nginx refuse: each malformed request is sent over a raw
 * socket to an in-process target (plain HTTP on 127.0.0.1), its status checked, the connection
 * seen closed, and a good request served afterwards; pipelined requests are answered in order;
 * a header flood is cut at the limit (the connection closed, not buffered). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "refserver/httpd.h"
#include "tests/lib/target_fx.h"
#include "tests/lib/testenv.h"

#define KEY "strict-test-key-0123456789"
#define TEST_TIMEOUT_S 60
#define IO_TIMEOUT_S 10
#define GOOD "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

static struct tc_fx fx;

static void setup(void)
{
    struct target_config cfg;
    tc_fx_config(&cfg, KEY, false);
    tc_fx_start(&fx, &cfg);
}

static void teardown(void)
{
    tc_fx_stop(&fx);
}

static int connect_target(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(target_port(fx.t)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        ck_assert_msg(w > 0, "send: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

/* Reads until the server closes (the test fails on a timeout: the server must close). */
static size_t read_to_close(int fd, char *buf, size_t size)
{
    size_t used = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + used, size - 1 - used, 0);
        ck_assert_msg(r >= 0, "the server neither answered nor closed: %s", strerror(errno));
        if (r == 0 || used + (size_t)r == size - 1) {
            used += (size_t)r;
            break;
        }
        used += (size_t)r;
    }
    buf[used] = '\0';
    return used;
}

static int status_of(const char *resp)
{
    int st = 0;
    return sscanf(resp, "HTTP/1.1 %d ", &st) == 1 ? st : -1;
}

/* Sends raw as one request on a new connection; the answer must be want, then a close. */
static void expect_refused(const char *raw, size_t len, int want)
{
    int fd = connect_target();
    send_all(fd, raw, len);
    char resp[4096];
    read_to_close(fd, resp, sizeof resp);
    close(fd);
    ck_assert_msg(status_of(resp) == want, "want %d for [%.60s...], got: %.200s", want, raw, resp);
    ck_assert_msg(strstr(resp, "\r\nConnection: close\r\n") != NULL, "%s", resp);
    /* the server keeps serving */
    fd = connect_target();
    send_all(fd, GOOD "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             2 * strlen(GOOD) + strlen("Connection: close\r\n"));
    read_to_close(fd, resp, sizeof resp);
    close(fd);
    ck_assert_msg(status_of(resp) == 200, "%s", resp);
}

#define REFUSED(lit, want) expect_refused((lit), sizeof(lit) - 1, (want))

START_TEST(t_request_line)
{
    REFUSED("GET /health HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400);
    REFUSED("GARBAGE\r\n\r\n", 400);
    REFUSED("GET /he alth HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    REFUSED("GET /health HTTP/9.9\r\nHost: a\r\n\r\n", 505);
    REFUSED("CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}
END_TEST

START_TEST(t_headers)
{
    REFUSED("GET /health HTTP/1.1\r\n\r\n", 400);                            /* no Host on 1.1 */
    REFUSED("GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);      /* two Hosts */
    REFUSED("GET /health HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400); /* obs-fold */
    REFUSED("GET /health HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", 400); /* space before colon */
    REFUSED("POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"
            "0\r\n\r\n",
            400);
}
END_TEST

START_TEST(t_body_framing)
{
    REFUSED("POST /health HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
            "abcd",
            400);
    REFUSED("POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
            "Content-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            400);
    REFUSED("POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "zz\r\nabc\r\n0\r\n\r\n",
            400); /* a bad chunk is a 400, not a 413 */
    REFUSED("POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
    REFUSED("POST /health HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", 413);
}
END_TEST

/* A chunked body that grows past the body limit is cut there with 413. */
START_TEST(t_chunked_body_limit)
{
    size_t chunk = 64 * 1024, n = HTTPD_DEFAULT_MAX_BODY_BYTES / chunk + 1;
    const char head[] = "POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t len = sizeof head - 1 + n * (chunk + 16) + 8;
    char *raw = malloc(len), *o = raw;
    ck_assert_ptr_nonnull(raw);
    o += sprintf(o, "%s", head);
    for (size_t i = 0; i < n; i++) {
        o += sprintf(o, "%zx\r\n", chunk);
        memset(o, 'a', chunk);
        o += chunk;
        o += sprintf(o, "\r\n");
    }
    o += sprintf(o, "0\r\n\r\n");
    expect_refused(raw, (size_t)(o - raw), 413);
    free(raw);
}
END_TEST

/* A header block beyond the limit (one long header, or too many headers) is a 431. */
START_TEST(t_header_limits)
{
    size_t big = HTTPD_DEFAULT_MAX_HEADER_BYTES + 100;
    char *raw = malloc(big + 128);
    ck_assert_ptr_nonnull(raw);
    int n = sprintf(raw, "GET /health HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(raw + n, 'a', big);
    n += (int)big;
    n += sprintf(raw + n, "\r\n\r\n");
    expect_refused(raw, (size_t)n, 431);
    free(raw);

    char many[8192];
    n = sprintf(many, "GET /health HTTP/1.1\r\nHost: a\r\n");
    for (unsigned i = 0; i < HTTPD_DEFAULT_MAX_HEADERS + 1; i++)
        n += sprintf(many + n, "X-%u: v\r\n", i);
    n += sprintf(many + n, "\r\n");
    expect_refused(many, (size_t)n, 431);
    ck_assert_int_eq(tc_fx_stat_count(&fx, "other", "431"), 2);
}
END_TEST

/* An endless header block: the server answers 431 and closes at the limit instead of buffering
 * it; the client's sends fail long before everything is out. */
START_TEST(t_header_flood_closed)
{
    int fd = connect_target();
    const char start[] = "GET /health HTTP/1.1\r\nHost: a\r\n";
    send_all(fd, start, sizeof start - 1);
    char line[1024];
    memset(line, 'x', sizeof line);
    memcpy(line, "X-Flood: ", 9);
    line[sizeof line - 2] = '\r';
    line[sizeof line - 1] = '\n';
    size_t sent = 0, cap = 256u << 20; /* 256 MiB: far beyond any socket buffering */
    while (sent < cap) {
        ssize_t w = send(fd, line, sizeof line, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    close(fd);
    ck_assert_msg(sent < cap, "the server took %zu bytes of headers without closing", sent);
    ck_assert_int_eq(tc_fx_stat_count(&fx, "other", "431"), 1);
    tc_fx_expect(&fx, "GET", "/health", NULL, 200);
}
END_TEST

/* Pipelined requests on one connection are answered in order, then Connection: close ends it. */
START_TEST(t_pipelined_in_order)
{
    int fd = connect_target();
    const char raw[] = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /api/v1/version HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /ready HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    send_all(fd, raw, sizeof raw - 1);
    char resp[8192];
    read_to_close(fd, resp, sizeof resp);
    close(fd);
    const char *a = strstr(resp, "\"status\":\"healthy\"");
    const char *b = strstr(resp, "\"version\":\"fleetsim-target-");
    const char *c = strstr(resp, "\"status\":\"ready\"");
    ck_assert_msg(a && b && c && a < b && b < c, "%s", resp);
    ck_assert_ptr_null(strstr(c, "HTTP/1.1 ")); /* nothing after the third answer */
}
END_TEST

/* Requests pipelined behind one that a latency fault holds on a timer wait for it, and the
 * answers still leave in order (the held request's connection resumes from the loop). */
START_TEST(t_pipelined_behind_delayed)
{
    int fd = connect_target();
    const char raw[] = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /api/v1/version HTTP/1.1\r\nHost: a\r\n\r\n"
                       "GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    send_all(fd, raw, sizeof raw - 1);
    char resp[8192];
    read_to_close(fd, resp, sizeof resp);
    close(fd);
    const char *a = strstr(resp, "\"status\":\"healthy\"");
    const char *b = a ? strstr(a, "\"version\":\"fleetsim-target-") : NULL;
    const char *c = b ? strstr(b, "\"status\":\"healthy\"") : NULL;
    ck_assert_msg(a && b && c, "%s", resp);
    ck_assert_int_eq(tc_fx_stat_count(&fx, "health", "200"), 2);
}
END_TEST

static void setup_delayed(void)
{
    struct target_config cfg;
    tc_fx_config(&cfg, KEY, false);
    cfg.faults[0] = "health:latency=30ms";
    cfg.n_faults = 1;
    tc_fx_start(&fx, &cfg);
}

/* HTTP/1.0 is served and closed unless it asks for keep-alive; HEAD gets no body. */
START_TEST(t_http10_and_head)
{
    int fd = connect_target();
    const char raw[] = "GET /health HTTP/1.0\r\n\r\n";
    send_all(fd, raw, sizeof raw - 1);
    char resp[4096];
    read_to_close(fd, resp, sizeof resp);
    close(fd);
    ck_assert_msg(status_of(resp) == 200 && strstr(resp, "healthy"), "%s", resp);

    fd = connect_target();
    const char head[] = "HEAD /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    send_all(fd, head, sizeof head - 1);
    read_to_close(fd, resp, sizeof resp);
    close(fd);
    ck_assert_msg(status_of(resp) == 200 && !strstr(resp, "healthy"), "%s", resp);
}
END_TEST

int main(void)
{
    if (testenv_unit_only())
        return TESTENV_SKIP;
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("refserver_strict");
    const TTest *tests[] = {t_request_line,       t_headers,        t_body_framing,
                            t_chunked_body_limit, t_header_limits,  t_header_flood_closed,
                            t_pipelined_in_order, t_http10_and_head};
    TCase *tc =
        testenv_tcase_tests(s, "strict", TEST_TIMEOUT_S, tests, sizeof tests / sizeof *tests);
    tcase_add_checked_fixture(tc, setup, teardown);
    const TTest *delayed[] = {t_pipelined_behind_delayed};
    tc = testenv_tcase_tests(s, "delayed", TEST_TIMEOUT_S, delayed, 1);
    tcase_add_checked_fixture(tc, setup_delayed, teardown);
    return testenv_run(s);
}
