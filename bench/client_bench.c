/* bench/client_bench.c - measures the HTTP client on loopback against the scripted test server
 * running in a child process: memory per idle keep-alive connection (RSS growth over N
 * connections) and closed-loop throughput over C connections. Plain or --tls.
 * Usage: client_bench [--conns N] [--concurrency C] [--requests R] [--tls]
 *                     [--no-resumption] */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/x509.h>

#include "engine/clock.h"
#include "engine/http_client.h"
#include "engine/tls.h"
#include "tests/lib/http_test_server.h"

struct bench;

struct slot { /* callback argument of one connection */
    struct bench *b;
    struct http_conn *conn;
};

struct bench {
    struct event_base *base;
    struct slot *slots;
    long pending; /* callbacks still expected in this phase */
    long to_send; /* closed loop: requests not yet sent */
    long ok, failed;
    uint64_t service_ns_sum;
};

/* Resident set in KiB, after returning freed heap pages (so that the per-request buffers of
 * the rounds before do not count as per-connection memory). */
static long rss_kib(void)
{
    malloc_trim(0);
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void on_stop_pipe(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Child: serve until the parent closes the control pipe. */
static void run_server(int port_fd, int ctl_fd, SSL_CTX *sctx)
{
    struct event_base *base = event_base_new();
    struct tsrv srv;
    if (tsrv_start(&srv, base, "127.0.0.1", sctx) != 0)
        _exit(1);
    if (write(port_fd, &srv.port, sizeof(srv.port)) != (ssize_t)sizeof(srv.port))
        _exit(1);
    struct event *stop = event_new(base, ctl_fd, EV_READ, on_stop_pipe, base);
    event_add(stop, NULL);
    event_base_dispatch(base);
    event_free(stop);
    tsrv_stop(&srv);
    event_base_free(base);
    _exit(0);
}

static void send_one(struct slot *sl);

static void on_done(const struct http_result *r, void *arg)
{
    struct slot *sl = arg;
    struct bench *b = sl->b;
    if (r->error == HTTP_ERR_NONE && r->status == 200) {
        b->ok++;
        b->service_ns_sum += r->done_ns - r->sent_ns;
    } else {
        b->failed++;
    }
    b->pending--;
    if (b->to_send > 0)
        send_one(sl);
    if (b->pending == 0)
        event_base_loopbreak(b->base);
}

static void send_one(struct slot *sl)
{
    struct http_request req = {.method = "GET",
                               .path = "/bench",
                               .headers = "User-Agent: fleetsim-bench\r\n",
                               .intended_ns = clock_now_ns()};
    if (http_conn_send(sl->conn, &req, on_done, sl) == 0) {
        sl->b->pending++;
        sl->b->to_send--;
    }
}

/* One request on each of connections [0, n), at most `wave` in flight at a time (as a fleet
 * whose timers are spread out). */
static void run_round(struct bench *b, int n, int wave)
{
    for (int start = 0; start < n; start += wave) {
        int end = start + wave < n ? start + wave : n;
        b->to_send = end - start;
        for (int i = start; i < end; i++)
            send_one(&b->slots[i]);
        if (b->pending)
            event_base_dispatch(b->base);
    }
}

int main(int argc, char **argv)
{
    int nconns = 2000, conc = 50;
    long requests = 100000;
    bool tls = false, no_resumption = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--conns") && i + 1 < argc)
            nconns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--concurrency") && i + 1 < argc)
            conc = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            requests = atol(argv[++i]);
        else if (!strcmp(argv[i], "--tls"))
            tls = true;
        else if (!strcmp(argv[i], "--no-resumption"))
            no_resumption = true;
        else {
            fprintf(stderr,
                    "usage: %s [--conns N] [--concurrency C] [--requests R] [--tls] "
                    "[--no-resumption]\n",
                    argv[0]);
            return 2;
        }
    }
    if (nconns < 1 || nconns > 8000 || conc < 1 || conc > nconns || requests < 1 ||
        requests > 10000000) {
        fprintf(stderr, "out of range: 1 <= conns <= 8000, 1 <= concurrency <= conns, "
                        "1 <= requests <= 1e7\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char ca_path[64] = "";
    SSL_CTX *sctx = NULL, *cctx = NULL;
    char err[256];
    if (tls) {
        if (tsrv_make_cert(&key, &cert, ca_path) != 0)
            return 1;
        sctx = tsrv_ssl_ctx(key, cert, 0);
        cctx = tls_client_ctx_new(ca_path, false, err, sizeof(err));
        if (!cctx) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    int port_pipe[2], ctl_pipe[2];
    if (pipe(port_pipe) != 0 || pipe(ctl_pipe) != 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(ctl_pipe[1]);
        run_server(port_pipe[1], ctl_pipe[0], sctx);
    }
    close(ctl_pipe[0]);
    uint16_t port = 0;
    if (read(port_pipe[0], &port, sizeof(port)) != (ssize_t)sizeof(port)) {
        fprintf(stderr, "server did not start\n");
        return 1;
    }
    struct bench b = {.base = event_base_new()};
    struct http_conn_config cfg;
    if (http_conn_config_init(&cfg, "127.0.0.1", port, cctx, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    cfg.timeout_ns = 10 * CLOCK_NS_PER_S;
    cfg.tls_no_resumption = no_resumption;
    b.slots = calloc((size_t)nconns, sizeof(*b.slots));
    /* warm up allocator and libraries on one connection before the baseline */
    b.slots[0] = (struct slot){&b, http_conn_new(b.base, &cfg)};
    run_round(&b, 1, 1);
    run_round(&b, 1, 1);
    long rss0 = rss_kib();
    for (int i = 1; i < nconns; i++)
        b.slots[i] = (struct slot){&b, http_conn_new(b.base, &cfg)};
    run_round(&b, nconns, conc);
    run_round(&b, nconns, conc); /* TLS buffers are released from the 2nd request on */
    long rss1 = rss_kib();
    printf("idle %s connections: %d, RSS growth %ld KiB, %.2f KiB per connection (ok %ld, "
           "failed %ld)\n",
           tls ? "TLS" : "plain", nconns, rss1 - rss0, (double)(rss1 - rss0) / (nconns - 1), b.ok,
           b.failed);
    b.ok = b.failed = 0;
    b.service_ns_sum = 0;
    uint64_t t0 = clock_now_ns();
    b.to_send = requests;
    for (int i = 0; i < conc && b.to_send > 0; i++)
        send_one(&b.slots[i]);
    event_base_dispatch(b.base);
    double secs = (double)(clock_now_ns() - t0) / 1e9;
    printf("closed loop over %d connections: %ld requests in %.2f s = %.0f req/s, mean service "
           "%.1f us (failed %ld)\n",
           conc, b.ok + b.failed, secs, (double)(b.ok + b.failed) / secs,
           b.ok ? (double)b.service_ns_sum / (double)b.ok / 1000.0 : 0.0, b.failed);
    for (int i = 0; i < nconns; i++)
        http_conn_free(b.slots[i].conn);
    free(b.slots);
    event_base_free(b.base);
    close(ctl_pipe[1]);
    waitpid(pid, NULL, 0);
    if (tls) {
        unlink(ca_path);
        SSL_CTX_free(cctx);
        SSL_CTX_free(sctx);
        EVP_PKEY_free(key);
        X509_free(cert);
    }
    return b.failed ? 1 : 0;
}
