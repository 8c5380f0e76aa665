/* bench/tls_floor.c - the floor peer for fleetsim's CPU per TLS heartbeat: the least a client
 * spends to send the same heartbeats at the same rate over N keep-alive TLS connections (plain
 * epoll, one timerfd, a binary heap of due times, cached request bytes, no measurement), so
 * bench/fleet_bench.sh can print fleetsim's CPU as a ratio to it. Loopback only; bounded.
 * Usage: CERTCTL_API_KEY=KEY bench/tls_floor --url https://127.0.0.1:PORT --cacert FILE
 *        --agents N --heartbeat-ms MS --seconds S [--ramp-s R] [--slot-ms 5] */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "engine/tls.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL
#define DRAIN_NS (2 * NS_PER_S) /* after --seconds: how long answers in flight are waited for */
#define MAX_AGENTS 99999        /* ids are ag-loadtest-%05d */

enum { ST_WAIT, ST_HANDSHAKE, ST_OPEN, ST_DEAD }; /* connection state */
enum { PH_IDLE, PH_HEADERS, PH_BODY };            /* response phase; != PH_IDLE: in flight */

struct agent {
    SSL *ssl;
    char *req;         /* the whole request, built once */
    uint64_t exact_ns; /* next intended heartbeat before rounding to the slot grid */
    int64_t clen;      /* Content-Length of the response being read, -1 until seen */
    int fd;
    uint32_t req_len;
    uint16_t status; /* 0 until the status line is read */
    uint8_t state, phase, events, writing, line_len;
    char line[40]; /* start of the header line being read (longer lines are cut) */
};

struct item {
    uint64_t due_ns;
    uint32_t idx;
};

struct floor {
    struct agent *ag;
    struct item *heap; /* min-heap of due times; each agent is in it at most once */
    uint32_t n, heap_n;
    SSL_CTX *ctx;
    struct sockaddr_in addr;
    char host[16], hostport[24];
    int ep, tfd, said_error;
    uint64_t t0_ns, interval_ns, slot_ns, ramp_ns, end_ns, armed_ns, rng; /* times since t0 */
    unsigned long answered, non2xx, skipped, conn_errors, opened, in_flight;
    char buf[16384];
};

/* Monotonic clock, ns. */
static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Uniform double in [0, 1) from a splitmix64 state. */
static double uniform(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53;
}

/* Queues agent idx at t_ns rounded up to the slot grid (O(log n)). */
static void push(struct floor *f, uint64_t t_ns, uint32_t idx)
{
    uint64_t due = f->slot_ns ? (t_ns + f->slot_ns - 1) / f->slot_ns * f->slot_ns : t_ns;
    uint32_t i = f->heap_n++;
    for (; i > 0 && f->heap[(i - 1) / 2].due_ns > due; i = (i - 1) / 2)
        f->heap[i] = f->heap[(i - 1) / 2];
    f->heap[i] = (struct item){due, idx};
}

/* Removes the heap's first item (the heap must not be empty; O(log n)). */
static void pop(struct floor *f)
{
    struct item last = f->heap[--f->heap_n];
    uint32_t i = 0, n = f->heap_n;
    for (uint32_t c; (c = 2 * i + 1) < n; i = c) {
        c += c + 1 < n && f->heap[c + 1].due_ns < f->heap[c].due_ns;
        if (last.due_ns <= f->heap[c].due_ns)
            break;
        f->heap[i] = f->heap[c];
    }
    if (n)
        f->heap[i] = last;
}

/* Counts a connection error, says the first one on stderr, and closes a for good. */
static void fail(struct floor *f, struct agent *a, const char *what)
{
    char reason[160];
    unsigned long e = ERR_peek_last_error();
    bool tls = e || (a->ssl && SSL_get_verify_result(a->ssl) != X509_V_OK);
    const char *why = tls     ? tls_error_reason(a->ssl, e, reason, sizeof reason)
                      : errno ? strerror(errno)
                              : NULL;
    if (!f->said_error++)
        fprintf(stderr, "tls_floor: agent %u: %s%s%s\n", (unsigned)(a - f->ag) + 1, what,
                why ? ": " : "", why ? why : "");
    ERR_clear_error();
    f->conn_errors++;
    f->in_flight -= a->phase != PH_IDLE;
    SSL_free(a->ssl);
    if (a->fd >= 0)
        close(a->fd);
    a->ssl = NULL, a->fd = -1, a->state = ST_DEAD, a->phase = PH_IDLE;
}

/* Sets the epoll interest of a's socket to ev when it differs (fails a on error). */
static void want(struct floor *f, struct agent *a, uint8_t ev)
{
    struct epoll_event e = {.events = ev, .data.u32 = (uint32_t)(a - f->ag) + 1};
    if (a->events != ev &&
        epoll_ctl(f->ep, a->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, a->fd, &e) < 0)
        return fail(f, a, "epoll_ctl");
    a->events = ev;
}

/* After an SSL call on a returned r <= 0: waits for the event it needs (ev, or the one
 * OpenSSL asks for when ev is 0), or fails a with `what`. */
static void retry(struct floor *f, struct agent *a, int r, uint8_t ev, const char *what)
{
    int e = SSL_get_error(a->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return fail(f, a, what);
    want(f, a, ev ? ev : e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
}

/* Opens a's non-blocking TCP connection and its SSL (verifying the peer's IP address); the
 * handshake starts when the socket is writable. */
static void start_connect(struct floor *f, struct agent *a)
{
    int one = 1;
    a->state = ST_HANDSHAKE;
    a->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a->fd < 0 || setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        (connect(a->fd, (struct sockaddr *)&f->addr, sizeof f->addr) < 0 && errno != EINPROGRESS))
        return fail(f, a, "connect");
    char err[160];
    a->ssl = tls_client_ssl_new(f->ctx, f->host, err, sizeof err);
    if (!a->ssl || SSL_set_fd(a->ssl, a->fd) != 1)
        return fail(f, a, "SSL setup");
    SSL_set_connect_state(a->ssl);
    want(f, a, EPOLLOUT);
}

/* Drives a's handshake; once done, queues its first heartbeat uniformly within one interval. */
static void handshake(struct floor *f, struct agent *a, uint64_t now_ns)
{
    errno = 0;
    int r = SSL_do_handshake(a->ssl);
    if (r != 1)
        return retry(f, a, r, 0, "TLS handshake");
    a->state = ST_OPEN;
    f->opened++;
    a->exact_ns = now_ns + (uint64_t)(uniform(&f->rng) * (double)f->interval_ns);
    push(f, a->exact_ns, (uint32_t)(a - f->ag));
    want(f, a, EPOLLIN);
}

/* Writes (or retries writing) a's cached request; waits for EPOLLOUT when the socket is full. */
static void write_req(struct floor *f, struct agent *a)
{
    errno = 0;
    int r = SSL_write(a->ssl, a->req, (int)a->req_len);
    a->writing = r <= 0;
    if (r <= 0)
        return retry(f, a, r, EPOLLIN | EPOLLOUT, "TLS write");
    want(f, a, EPOLLIN);
}

/* A due heartbeat: sends it unless the previous answer is still awaited (then skips it), and
 * queues the next one an interval +/- 10 % after this one's intended time. */
static void beat(struct floor *f, struct agent *a)
{
    if (a->phase != PH_IDLE) {
        f->skipped++;
    } else {
        a->phase = PH_HEADERS, a->status = 0, a->clen = -1, a->line_len = 0;
        f->in_flight++;
        write_req(f, a);
    }
    a->exact_ns += (uint64_t)((double)f->interval_ns * (0.9 + 0.2 * uniform(&f->rng)));
    if (a->state == ST_OPEN)
        push(f, a->exact_ns, (uint32_t)(a - f->ag));
}

/* One header line of a's response is complete (without its LF). Returns 0 or -1. */
static int header_line(struct agent *a)
{
    char *l = a->line, *end;
    uint8_t n = a->line_len - (a->line_len && a->line[a->line_len - 1] == '\r');
    l[n] = '\0';
    a->line_len = 0;
    if (!a->status) {
        if (n < 12 || strncmp(l, "HTTP/1.", 7) || l[9] < '1' || l[9] > '5')
            return -1;
        a->status = (uint16_t)atoi(l + 9);
    } else if (!strncasecmp(l, "content-length:", 15)) {
        a->clen = strtoll(l + 15, &end, 10);
        return (end == l + 15 || a->clen < 0) ? -1 : 0;
    } else if (n == 0) { /* certctl and fleetsim-target always send Content-Length */
        if (a->clen < 0 && a->status != 204 && a->status != 304)
            return -1;
        a->clen = a->clen < 0 ? 0 : a->clen;
        a->phase = PH_BODY;
    }
    return 0;
}

/* Feeds n response bytes to a's small HTTP/1.1 reader and counts each complete answer.
 * Returns 0, or -1 for bytes nobody asked for or a response it cannot frame. */
static int feed(struct floor *f, struct agent *a, const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (a->phase == PH_IDLE)
            return -1;
        if (a->phase == PH_HEADERS) {
            char c = p[i++];
            if (c != '\n' && a->line_len < sizeof a->line - 1)
                a->line[a->line_len++] = c;
            if (c == '\n' && header_line(a) < 0)
                return -1;
        }
        if (a->phase == PH_BODY) {
            size_t take = (size_t)a->clen < n - i ? (size_t)a->clen : n - i;
            i += take;
            if ((a->clen -= (int64_t)take) == 0) {
                a->phase = PH_IDLE;
                f->in_flight--;
                f->answered++;
                f->non2xx += a->status < 200 || a->status > 299;
            }
        }
    }
    return 0;
}

/* A socket event on agent a: drives the handshake, or finishes a pending write and reads every
 * record the socket holds (SSL_read until WANT_READ). */
static void on_io(struct floor *f, struct agent *a, uint32_t events, uint64_t now_ns)
{
    if (a->state == ST_HANDSHAKE)
        return handshake(f, a, now_ns);
    if (a->writing && (write_req(f, a), a->state != ST_OPEN))
        return;
    while (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        errno = 0;
        int r = SSL_read(a->ssl, f->buf, sizeof f->buf);
        if (r > 0 && feed(f, a, f->buf, (size_t)r) < 0)
            return fail(f, a, "unexpected HTTP response");
        if (r <= 0 && SSL_get_error(a->ssl, r) == SSL_ERROR_ZERO_RETURN)
            return fail(f, a, "server closed the connection");
        if (r <= 0)
            return retry(f, a, r, a->writing ? EPOLLIN | EPOLLOUT : EPOLLIN, "TLS read");
    }
}

/* The event loop: opens connections and sends heartbeats as they fall due until end_ns, then
 * waits up to DRAIN_NS for the answers still in flight. One timerfd, set to the next due slot. */
static void run(struct floor *f)
{
    struct epoll_event evs[512];
    uint64_t drain_end = 0, now, next;
    for (;;) {
        now = mono_ns() - f->t0_ns;
        if (!drain_end && now >= f->end_ns)
            drain_end = now + DRAIN_NS;
        if (drain_end && (f->in_flight == 0 || now >= drain_end))
            return;
        while (!drain_end && f->heap_n && f->heap[0].due_ns <= now) {
            struct agent *a = &f->ag[f->heap[0].idx];
            pop(f);
            if (a->state == ST_WAIT)
                start_connect(f, a);
            else if (a->state == ST_OPEN)
                beat(f, a);
        }
        next = drain_end                                    ? drain_end
               : f->heap_n && f->heap[0].due_ns < f->end_ns ? f->heap[0].due_ns
                                                            : f->end_ns;
        if (next != f->armed_ns) {
            uint64_t t = f->t0_ns + next;
            struct itimerspec its = {.it_value = {(time_t)(t / NS_PER_S), (long)(t % NS_PER_S)}};
            timerfd_settime(f->tfd, TFD_TIMER_ABSTIME, &its, NULL);
            f->armed_ns = next;
        }
        int k = epoll_wait(f->ep, evs, 512, -1);
        now = mono_ns() - f->t0_ns;
        for (int i = 0; i < k; i++) {
            struct agent *a = evs[i].data.u32 ? &f->ag[evs[i].data.u32 - 1] : NULL;
            if (!a && read(f->tfd, &next, sizeof next) > 0)
                f->armed_ns = UINT64_MAX; /* fired: set it again */
            else if (a && a->state != ST_DEAD)
                on_io(f, a, evs[i].events, now);
        }
    }
}

/* Parses https://127.x.x.x:PORT[/] into f (loopback only). Returns 0 or -1. */
static int parse_url(struct floor *f, const char *url)
{
    const char *h = url + 8, *colon = strrchr(url, ':');
    char *end;
    if (strncmp(url, "https://", 8) || colon < h || (size_t)(colon - h) >= sizeof f->host)
        return -1;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && strcmp(end, "/")) || port < 1 || port > 65535)
        return -1;
    memcpy(f->host, h, (size_t)(colon - h));
    snprintf(f->hostport, sizeof f->hostport, "%s:%ld", f->host, port);
    f->addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    return inet_pton(AF_INET, f->host, &f->addr.sin_addr) == 1 &&
                   (ntohl(f->addr.sin_addr.s_addr) >> 24) == 127
               ? 0
               : -1;
}

/* Creates the TLS context (fleetsim's own, engine/tls.c: the same versions, ALPN, buffer modes,
 * read-ahead and peer verification, here against cacert), the epoll set with the timerfd, and
 * every agent's request (built once), and queues the connections evenly over the ramp.
 * Returns 0 or -1. */
static int setup(struct floor *f, const char *cacert, const char *key)
{
    struct epoll_event te = {.events = EPOLLIN, .data.u32 = 0};
    char err[400];
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    f->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    f->ctx = tls_client_ctx_new(cacert, false, err, sizeof err);
    if (!(f->ag = calloc(f->n, sizeof *f->ag)) || !(f->heap = calloc(f->n, sizeof *f->heap)) ||
        f->ep < 0 || f->tfd < 0 || epoll_ctl(f->ep, EPOLL_CTL_ADD, f->tfd, &te) < 0 || !f->ctx)
        return -1;
    const char *fmt = "POST /api/v1/agents/ag-loadtest-%05u/heartbeat HTTP/1.1\r\nHost: %s\r\n"
                      "User-Agent: Go-http-client/1.1\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s";
    for (uint32_t i = 0; i < f->n; i++) {
        char body[128];
        int bl = snprintf(body, sizeof body,
                          "{\"architecture\":\"amd64\",\"hostname\":"
                          "\"ag-loadtest-%05u\",\"ip_address\":\"\",\"os\":\"linux\","
                          "\"version\":\"1.0.0\"}",
                          i + 1);
        size_t len = (size_t)snprintf(NULL, 0, fmt, i + 1, f->hostport, key, bl, body) + 1;
        f->ag[i].fd = -1;
        if (!(f->ag[i].req = malloc(len)))
            return -1;
        f->ag[i].req_len =
            (uint32_t)snprintf(f->ag[i].req, len, fmt, i + 1, f->hostport, key, bl, body);
        push(f, (uint64_t)((double)f->ramp_ns * i / f->n), i);
    }
    return 0;
}

/* Parses a number in [lo, hi] (lo >= 0), or returns -1. */
static double num(const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    return (end == s || *end || !(v >= lo && v <= hi)) ? -1 : v;
}

/* Frees everything f holds (wiping the requests: they hold the API key), and f. */
static void cleanup(struct floor *f)
{
    for (uint32_t i = 0; f->ag && i < f->n; i++) { /* the sockets close at exit */
        SSL_free(f->ag[i].ssl);
        if (f->ag[i].req)
            OPENSSL_cleanse(f->ag[i].req, f->ag[i].req_len);
        free(f->ag[i].req);
    }
    SSL_CTX_free(f->ctx);
    free(f->ag);
    free(f->heap);
    free(f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"url", 1, 0, 'u'},     {"cacert", 1, 0, 'c'},
                                         {"agents", 1, 0, 'n'},  {"heartbeat-ms", 1, 0, 'h'},
                                         {"seconds", 1, 0, 's'}, {"ramp-s", 1, 0, 'r'},
                                         {"slot-ms", 1, 0, 'l'}, {0, 0, 0, 0}};
    const char *url = NULL, *cacert = NULL, *key = getenv("CERTCTL_API_KEY");
    double agents = 0, hb_ms = 0, secs = 0, ramp_s = -2 /* default */, slot_ms = 5;
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (o == 'u' || o == 'c')
            *(o == 'u' ? &url : &cacert) = optarg;
        else if (o == 'n' || o == 'h' || o == 's')
            *(o == 'n' ? &agents : o == 'h' ? &hb_ms : &secs) = num(optarg, 1, 1e7);
        else
            *(o == 'r'   ? &ramp_s
              : o == 'l' ? &slot_ms
                         : &agents) = o == '?' ? -1 : num(optarg, 0, 3600);
    }
    struct floor *f = calloc(1, sizeof *f);
    struct rlimit rl = {0, 0};
    if (!url || !cacert || agents < 1 || agents > MAX_AGENTS || hb_ms < 1 || secs < 1 ||
        secs > 3600 || ramp_s == -1 || slot_ms < 0 || optind != argc || !f) {
        fprintf(stderr,
                "usage: CERTCTL_API_KEY=KEY tls_floor --url https://127.0.0.1:PORT "
                "--cacert FILE --agents N (1-%d) --heartbeat-ms MS --seconds S (1-3600) "
                "[--ramp-s R (default N/400, >= 1)] [--slot-ms 5]\n",
                MAX_AGENTS);
    } else if (!key || !*key || parse_url(f, url) < 0) {
        fprintf(stderr, "tls_floor: %s\n",
                !key || !*key ? "CERTCTL_API_KEY is not set"
                              : "--url must be https://127.x.x.x:PORT (loopback only)");
    } else if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || (rl.rlim_cur = rl.rlim_max) < agents + 32 ||
               setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "tls_floor: %.0f agents need more open files than ulimit -n allows\n",
                agents);
    } else {
        f->n = (uint32_t)agents, f->rng = 0x5eed, f->armed_ns = UINT64_MAX;
        f->interval_ns = (uint64_t)(hb_ms * NS_PER_MS);
        f->slot_ns = (uint64_t)(slot_ms * NS_PER_MS);
        f->end_ns = (uint64_t)(secs * NS_PER_S);
        ramp_s = ramp_s >= 0 ? ramp_s : agents < 400 ? 1 : agents / 400;
        f->ramp_ns = (uint64_t)(ramp_s * NS_PER_S);
        if (setup(f, cacert, key) < 0) {
            fprintf(stderr, "tls_floor: setup failed (out of memory, or cannot load --cacert %s)\n",
                    cacert);
            cleanup(f);
            return 1;
        }
        signal(SIGPIPE, SIG_IGN); /* a write to a closed connection is a counted error */
        f->t0_ns = mono_ns();
        run(f);
        printf("tls_floor: %u agents, %lu heartbeats answered (%lu non-2xx, %lu skipped, %lu "
               "connection errors) in %g s\n",
               f->n, f->answered, f->non2xx, f->skipped, f->conn_errors, secs);
        int ok = f->opened == f->n && !f->non2xx && !f->conn_errors && !f->in_flight;
        if (!ok)
            fprintf(stderr,
                    "tls_floor: invalid run: %lu of %u connections opened, %lu non-2xx, "
                    "%lu connection errors, %lu answers missing\n",
                    f->opened, f->n, f->non2xx, f->conn_errors, f->in_flight);
        cleanup(f);
        return ok ? 0 : 1;
    }
    free(f);
    return 2;
}
