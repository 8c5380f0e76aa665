/* bench/acme_drive.c - a small driver of fleetsim's ACME client actors (sim/acme.h) for
 * bench/acme_bench.sh: N order-mode actors against one ACME directory for a fixed time, then
 * one line with the orders completed and failed and the rate. It measures the same code
 * `fleetsim run --acme-directory` runs, without the rest of a run.
 *
 *   acme_drive --directory URL [--cacert FILE] [--clients N] [--seconds S] [--threads T]
 *              [--key es256|rs256]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/parse.h"
#include "engine/tls.h"
#include "sim/acme.h"

#define DEFAULT_CLIENTS 8u
#define DEFAULT_SECONDS 20.0
#define MAX_SECONDS 3600.0
#define REQUEST_TIMEOUT_NS (10ULL * CLOCK_NS_PER_S)
#define GRACE_NS (5ULL * CLOCK_NS_PER_S)
#define POLL_US 20000

struct args {
    const char *directory, *cacert;
    unsigned clients, threads;
    double seconds;
    enum acme_key_alg key;
};

static int usage(const char *why)
{
    fprintf(stderr,
            "acme_drive: %s\nusage: acme_drive --directory URL [--cacert FILE] "
            "[--clients N] [--seconds S] [--threads T] [--key es256|rs256]\n",
            why);
    return 2;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    *a = (struct args){.clients = DEFAULT_CLIENTS, .threads = 1, .seconds = DEFAULT_SECONDS};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage("an option is missing its value");
        if (strcmp(argv[i], "--directory") == 0)
            a->directory = v;
        else if (strcmp(argv[i], "--cacert") == 0)
            a->cacert = v;
        else if (strcmp(argv[i], "--clients") == 0)
            a->clients = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            a->threads = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            a->seconds = strtod(v, NULL);
        else if (strcmp(argv[i], "--key") == 0 && strcmp(v, "rs256") == 0)
            a->key = ACME_KEY_RS256;
        else if (strcmp(argv[i], "--key") != 0 || strcmp(v, "es256") != 0)
            return usage("unknown option or value");
        i++;
    }
    if (!a->directory || a->clients == 0 || a->threads == 0 || !(a->seconds > 0) ||
        a->seconds > MAX_SECONDS)
        return usage("--directory is required; counts and seconds must be positive");
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    char err[300];
    struct parsed_url u;
    if (parse_url(a.directory, &u, err, sizeof err) != 0)
        return usage(err);
    SSL_CTX *ssl = u.tls ? tls_client_ctx_new(a.cacert, false, err, sizeof err) : NULL;
    struct http_conn_config cc;
    if ((u.tls && !ssl) || http_conn_config_init(&cc, u.host, u.port, ssl, err, sizeof err) != 0) {
        fprintf(stderr, "acme_drive: %s\n", err);
        return 1;
    }
    cc.timeout_ns = REQUEST_TIMEOUT_NS;
    struct acme_config cfg;
    acme_config_defaults(&cfg);
    cfg.scenario = "bench";
    cfg.mode = ACME_MODE_ORDER;
    cfg.key_alg = a.key;
    cfg.n_clients = a.clients;
    cfg.threads = a.threads;
    cfg.directory_url = a.directory;
    cfg.conn = &cc;
    cfg.pace_ns = 0;
    cfg.grace_ns = GRACE_NS;
    struct acme_group *g = acme_group_new(&cfg, err, sizeof err);
    if (!g) {
        fprintf(stderr, "acme_drive: %s\n", err);
        return 1;
    }
    uint64_t t0 = clock_now_ns(), end = t0 + (uint64_t)(a.seconds * 1e9);
    if (acme_group_start(g, t0) != 0) {
        fprintf(stderr, "acme_drive: cannot start threads\n");
        return 1;
    }
    while (clock_now_ns() < end && !acme_group_finished(g))
        usleep(POLL_US);
    acme_group_stop(g);
    acme_group_join(g);
    double elapsed = (double)(clock_now_ns() - t0) / 1e9;
    struct acme_counters k;
    acme_group_counters(g, &k);
    printf("acme_drive: clients %u seconds %.2f orders_completed %llu orders_failed %llu "
           "orders_abandoned %llu bad_nonce_retries %llu orders_per_s %.2f\n",
           a.clients, elapsed, (unsigned long long)k.completed, (unsigned long long)k.failed,
           (unsigned long long)k.abandoned, (unsigned long long)k.bad_nonce_retries,
           (double)k.completed / elapsed);
    acme_group_free(g);
    SSL_CTX_free(ssl);
    return k.completed > 0 ? 0 : 1;
}
