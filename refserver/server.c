/* refserver/server.c - fleetsim-target's lifecycle: configuration checks, building the store, CA,
 * TLS context and the request layer (refserver/httpd.h) on a listener with a large backlog, running the loop in the
 * caller's thread or in its own, and stopping it (eventfd wake-up or SIGINT/SIGTERM). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "engine/clock.h"
#include "refserver/acmesrv.h"
#include "refserver/ca.h"
#include "refserver/httpd.h"
#include "refserver/ratelimit.h"
#include "refserver/stats.h"
#include "refserver/store.h"
#include "refserver/server_internal.h"
#include "refserver/tls_server.h"

#define TARGET_CA_CN "fleetsim-target CA"
/* After a failed accept() (out of descriptors), stop accepting this long. */
#define TARGET_ACCEPT_PAUSE_S 1

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
    return -EINVAL;
}

void target_config_defaults(struct target_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_host = TARGET_DEFAULT_HOST;
    cfg->port = TARGET_DEFAULT_PORT;
    cfg->rate_per_s = TARGET_DEFAULT_RATE_PER_S;
    cfg->burst = TARGET_DEFAULT_BURST;
    cfg->bulk_clamp = true;
    cfg->acme_orders_per_hour = TARGET_DEFAULT_ACME_ORDERS_PER_HOUR;
    cfg->acme_active_orders = TARGET_DEFAULT_ACME_ACTIVE_ORDERS;
    cfg->acme_profile_id = TARGET_DEFAULT_ACME_PROFILE;
    cfg->fleet_prefix = IDENTITY_DEFAULT_PREFIX;
    cfg->os_mix = identity_default_os_mix();
    cfg->tls_min_version = TLS1_3_VERSION; /* certctl's server accepts TLS 1.3 only */
}

/* Parses a numeric address into ss; returns its length or 0. */
static socklen_t parse_host(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return sizeof *in4;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        return sizeof *in6;
    }
    return 0;
}

static bool addr_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24 == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int target_config_check(const struct target_config *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    const char *host = cfg->listen_host ? cfg->listen_host : TARGET_DEFAULT_HOST;
    if (!parse_host(host, cfg->port, &ss))
        return fail(err, errlen, "listen address \"%s\" is not a numeric IPv4/IPv6 address%s", host,
                    "");
    if (!cfg->allow_remote && !addr_is_loopback(&ss))
        return fail(err, errlen,
                    "listen address \"%s\" is not a loopback address (127.0.0.0/8, ::1)%s", host,
                    "; --allow-remote permits it");
    if (!cfg->tls_cert_file != !cfg->tls_key_file)
        return fail(err, errlen, "%s%s", "--tls-cert and --tls-key go together", "");
    if (cfg->plain && cfg->tls_cert_file)
        return fail(err, errlen, "%s%s", "--plain and --tls-cert/--tls-key exclude each other", "");
    if (cfg->n_api_keys > TARGET_MAX_API_KEYS)
        return fail(err, errlen, "%s%s", "too many API keys (at most 16)", "");
    for (size_t i = 0; i < cfg->n_api_keys; i++) {
        size_t len = cfg->api_keys[i] ? strlen(cfg->api_keys[i]) : 0;
        if (len == 0 || len > TARGET_API_KEY_MAX)
            return fail(err, errlen, "%s%s", "an API key is empty or longer than 256 bytes", "");
    }
    if (!(cfg->rate_per_s >= 0.0) || !(cfg->burst >= 0.0))
        return fail(err, errlen, "%s%s", "the rate limit must not be negative", "");
    if (cfg->n_faults > TARGET_MAX_FAULTS)
        return fail(err, errlen, "%s%s", "too many --fault rules (at most 32)", "");
    struct fault_set fs;
    char why[200];
    if (fault_set_init(&fs, cfg->faults, cfg->n_faults, 0, why, sizeof why) < 0)
        return fail(err, errlen, "--fault %s%s", why, "");
    const char *prefix = cfg->fleet_prefix ? cfg->fleet_prefix : IDENTITY_DEFAULT_PREFIX;
    if (identity_prefix_check(prefix) < 0)
        return fail(err, errlen, "fleet prefix \"%s\" does not match [a-z][a-z0-9]{0,23}%s", prefix,
                    "");
    if (cfg->seed_certs > 0 && cfg->seed_agents == 0)
        return fail(err, errlen, "%s%s", "--seed-certs needs --seed-agents", "");
    return 0;
}

static int build_store(struct target *t, const struct target_config *cfg, char *err, size_t errlen)
{
    struct store_config sc;
    store_config_init(&sc);
    sc.db_url = cfg->db_url;
    sc.bulk_clamp = cfg->bulk_clamp;
    if (cfg->seed_agents > sc.expect_agents)
        sc.expect_agents = cfg->seed_agents;
    if (cfg->seed_certs > sc.expect_certs)
        sc.expect_certs = cfg->seed_certs;
    t->store = store_new(&sc, err, errlen);
    if (!t->store)
        return -EIO;
    bool memory = strcmp(store_backend_name(t->store), "memory") == 0;
    if (memory) {
        /* certctl's demo ids, so k6-shaped POST /api/v1/certificates work out of the box */
        static const char *const refs[][2] = {{"team", "t-platform"},
                                              {"owner", "o-alice"},
                                              {"issuer", "iss-local"},
                                              {"renewal_policy", "rp-standard"}};
        for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
            if (store_reference_add(t->store, refs[i][0], refs[i][1]) != STORE_OK)
                return fail(err, errlen, "store: cannot add %s %s", refs[i][0], refs[i][1]);
    }
    if (cfg->seed_agents || cfg->seed_certs) {
        struct store_seed_config seed = {.agents = cfg->seed_agents,
                                         .certs = cfg->seed_certs,
                                         .prefix = t->prefix,
                                         .run_seed = cfg->seed,
                                         .os_mix = cfg->os_mix,
                                         .host_targets_pct = cfg->seed_host_targets};
        char why[256] = "";
        int rc = store_seed_fleet(t->store, &seed, why, sizeof why);
        if (rc != STORE_OK)
            return fail(err, errlen, "seeding the fleet failed: %s%s",
                        why[0] ? why : store_rc_str(rc), "");
    }
    if (cfg->acme_profile_id && *cfg->acme_profile_id &&
        store_profile_get(t->store, cfg->acme_profile_id, NULL) == STORE_NOT_FOUND) {
        struct store_profile_input p = {.id = cfg->acme_profile_id,
                                        .name = cfg->acme_profile_id,
                                        .description = "created by fleetsim-target"};
        int rc = store_profile_create(t->store, &p, NULL);
        if (rc != STORE_OK && rc != STORE_CONFLICT)
            return fail(err, errlen, "cannot create ACME profile %s: %s", cfg->acme_profile_id,
                        store_rc_str(rc));
    }
    return 0;
}

/* Generates the server certificate for the listen address and writes the CA PEM file. */
static int build_generated_tls(struct target *t, char *err, size_t errlen)
{
    const char *names[4] = {"127.0.0.1", "localhost", "::1", NULL};
    size_t n = 3;
    if (strcmp(t->host, "127.0.0.1") != 0 && strcmp(t->host, "::1") != 0)
        names[n++] = t->host;
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL;
    if (ca_issue_server_cert(t->ca, names, n, &key, &leaf) != 0)
        return fail(err, errlen, "%s%s", "cannot issue the server certificate", "");
    t->ssl_ctx = tls_server_ctx_from_objects(leaf, key, ca_cert(t->ca), err, errlen);
    EVP_PKEY_free(key);
    X509_free(leaf);
    if (!t->ssl_ctx)
        return -EIO;
    snprintf(t->ca_dir, sizeof t->ca_dir, "/tmp/fleetsim-target.XXXXXX");
    if (!mkdtemp(t->ca_dir)) {
        t->ca_dir[0] = '\0';
        return fail(err, errlen, "cannot create a directory for the CA file: %s%s", strerror(errno),
                    "");
    }
    snprintf(t->ca_path, sizeof t->ca_path, "%s/ca.pem", t->ca_dir);
    if (ca_write_pem(t->ca, t->ca_path) != 0) {
        t->ca_path[0] = '\0';
        return fail(err, errlen, "cannot write the CA file in %s%s", t->ca_dir, "");
    }
    return 0;
}

static int build_ca_tls_acme(struct target *t, const struct target_config *cfg, char *err,
                             size_t errlen)
{
    t->ca = ca_new(TARGET_CA_CN, err, errlen);
    if (!t->ca)
        return -EIO;
    if (t->tls) {
        int rc = cfg->tls_cert_file ? 0 : build_generated_tls(t, err, errlen);
        if (rc < 0)
            return rc;
        if (cfg->tls_cert_file) {
            t->ssl_ctx =
                tls_server_ctx_from_files(cfg->tls_cert_file, cfg->tls_key_file, err, errlen);
            if (!t->ssl_ctx)
                return -EIO;
        }
    }
    if (t->ssl_ctx && cfg->tls_min_version &&
        SSL_CTX_set_min_proto_version(t->ssl_ctx, cfg->tls_min_version) != 1)
        return fail(err, errlen, "%s%s", "cannot set the lowest TLS version", "");
    struct acmesrv_config ac = {.ca = t->ca,
                                .tls = t->tls,
                                .orders_per_hour = cfg->acme_orders_per_hour,
                                .active_orders = cfg->acme_active_orders,
                                .profile_exists = target_acme_profile_exists,
                                .profile_arg = t};
    t->acme = acmesrv_new(&ac, err, errlen);
    return t->acme ? 0 : -EIO;
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uint64_t v;
    if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
        return;
    event_base_loopbreak(((struct target *)arg)->base);
}

/* accept() failed with something other than a retriable error (EMFILE, ENFILE, ENOBUFS): stop
 * accepting for a moment instead of spinning on a readable listener (pending connections wait
 * in the backlog), then try again. The pause is a one-shot event on the listener's base and the
 * warning is unconditional (at most one line per pause). */
static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evconnlistener_enable(arg);
}

static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    int err = EVUTIL_SOCKET_ERROR();
    evconnlistener_disable(lev);
    struct timeval pause = {TARGET_ACCEPT_PAUSE_S, 0};
    if (event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT, accept_resume_cb, lev,
                        &pause) < 0)
        evconnlistener_enable(lev);
    fprintf(stderr, "fleetsim-target: accept: %s (pausing %d s; raise ulimit -n?)\n",
            evutil_socket_error_to_string(err), TARGET_ACCEPT_PAUSE_S);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(((struct target *)arg)->base);
}

/* A request the layer refused (400, 413, 431...) counts under "other". */
static void refused_cb(void *arg, int status)
{
    tstats_request(((struct target *)arg)->stats, EP_OTHER, status);
}

static int build_http(struct target *t, uint16_t port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len = parse_host(t->host, port, &ss);
    t->listener = evconnlistener_new_bind(
        t->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        TARGET_LISTEN_BACKLOG, (struct sockaddr *)&ss, (int)len);
    if (!t->listener) {
        char addr[96];
        snprintf(addr, sizeof addr, "%s:%u", t->host, (unsigned)port);
        return fail(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
    }
    evconnlistener_set_error_cb(t->listener, accept_error_cb);
    /* Replies leave as soon as they are written, as Go's do (a large one in several writes must
     * not wait for the client's delayed ACK). Accepted sockets inherit this from the listener. */
    int one = 1;
    if (setsockopt(evconnlistener_get_fd(t->listener), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) <
        0)
        return fail(err, errlen, "TCP_NODELAY: %s%s", strerror(errno), "");
    struct httpd_config hc = {.ssl_ctx = t->tls ? t->ssl_ctx : NULL,
                              .handler = router_handle,
                              .on_refused = refused_cb,
                              .arg = t};
    httpd_limits_default(&hc.limits);
    t->httpd = httpd_new(t->base, t->listener, &hc);
    if (!t->httpd)
        return fail(err, errlen, "%s%s", "out of memory (request layer)", "");
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(evconnlistener_get_fd(t->listener), (struct sockaddr *)&bound, &blen) < 0)
        return fail(err, errlen, "getsockname: %s%s", strerror(errno), "");
    t->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                               : ((struct sockaddr_in6 *)&bound)->sin6_port);
    t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->wake_fd < 0)
        return fail(err, errlen, "eventfd: %s%s", strerror(errno), "");
    t->wake_ev = event_new(t->base, t->wake_fd, EV_READ | EV_PERSIST, wake_cb, t);
    if (!t->wake_ev || event_add(t->wake_ev, NULL) < 0)
        return fail(err, errlen, "%s%s", "cannot watch the wake-up descriptor", "");
    return 0;
}

static int build_limits(struct target *t, const struct target_config *cfg, char *err, size_t errlen)
{
    char why[240];
    if (fault_set_init(&t->faults, cfg->faults, cfg->n_faults, cfg->seed, why, sizeof why) < 0)
        return fail(err, errlen, "--fault %s%s", why, "");
    int arc = auth_init(&t->auth, cfg->api_keys, cfg->n_api_keys);
    if (arc < 0)
        return fail(err, errlen, "%s%s",
                    arc == -EINVAL ? "bad API key" : "cannot set up API-key hashing", "");
    if (cfg->rate_per_s > 0.0) {
        double burst = cfg->burst > 0.0 ? cfg->burst : 2.0 * cfg->rate_per_s;
        if (burst < 1.0)
            burst = 1.0;
        t->rl_api = ratelimit_new(cfg->rate_per_s, burst);
        t->rl_open = ratelimit_new(cfg->rate_per_s, burst);
        if (!t->rl_api || !t->rl_open)
            return fail(err, errlen, "%s%s", "out of memory (rate limiter)", "");
    }
    return 0;
}

struct target *target_new(const struct target_config *cfg, char *err, size_t errlen)
{
    if (target_config_check(cfg, err, errlen) < 0)
        return NULL;
    struct target *t = calloc(1, sizeof *t);
    if (!t) {
        fail(err, errlen, "%s%s", "out of memory", "");
        return NULL;
    }
    t->wake_fd = -1;
    snprintf(t->host, sizeof t->host, "%s",
             cfg->listen_host ? cfg->listen_host : TARGET_DEFAULT_HOST);
    snprintf(t->prefix, sizeof t->prefix, "%s",
             cfg->fleet_prefix ? cfg->fleet_prefix : IDENTITY_DEFAULT_PREFIX);
    t->tls = !cfg->plain;
    t->quiet = cfg->quiet;
    t->seed = cfg->seed;
    if (getrandom(&t->reqid_rng, sizeof t->reqid_rng, 0) != sizeof t->reqid_rng)
        t->reqid_rng = clock_now_ns() ^ (uint64_t)getpid();
    for (int i = 0; i < EP_COUNT; i++)
        t->acmesrv_done[i] = (struct acmesrv_done){t, (enum target_endpoint)i};
    /* A peer closing mid-write must not kill the process. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);

    t->base = event_base_new();
    t->stats = tstats_new(t->prefix, cfg->seed_agents);
    if (!t->base || !t->stats) {
        fail(err, errlen, "%s%s", "out of memory", "");
        target_free(t);
        return NULL;
    }
    if (build_limits(t, cfg, err, errlen) < 0 || build_store(t, cfg, err, errlen) < 0 ||
        build_ca_tls_acme(t, cfg, err, errlen) < 0 || build_http(t, cfg->port, err, errlen) < 0) {
        target_free(t);
        return NULL;
    }
    return t;
}

int target_catch_signals(struct target *t)
{
    t->sig_int = evsignal_new(t->base, SIGINT, signal_cb, t);
    t->sig_term = evsignal_new(t->base, SIGTERM, signal_cb, t);
    if (!t->sig_int || !t->sig_term || event_add(t->sig_int, NULL) < 0 ||
        event_add(t->sig_term, NULL) < 0)
        return -ENOMEM;
    return 0;
}

int target_run(struct target *t)
{
    return event_base_dispatch(t->base) < 0 ? -EIO : 0;
}

void target_request_stop(struct target *t)
{
    uint64_t one = 1;
    if (t->wake_fd >= 0 && write(t->wake_fd, &one, sizeof one) < 0) {
        /* the counter cannot overflow with ones; nothing else to do */
    }
}

void target_free(struct target *t)
{
    if (!t)
        return;
    router_drop_deferred(t);
    httpd_free(t->httpd); /* closes the open connections */
    if (t->listener)
        evconnlistener_free(t->listener);
    if (t->wake_ev)
        event_free(t->wake_ev);
    if (t->sig_int)
        event_free(t->sig_int);
    if (t->sig_term)
        event_free(t->sig_term);
    if (t->wake_fd >= 0)
        close(t->wake_fd);
    acmesrv_free(t->acme);
    SSL_CTX_free(t->ssl_ctx);
    store_free(t->store);
    ca_free(t->ca);
    if (t->ca_path[0])
        unlink(t->ca_path);
    if (t->ca_dir[0])
        rmdir(t->ca_dir);
    auth_clear(&t->auth);
    ratelimit_free(t->rl_api);
    ratelimit_free(t->rl_open);
    tstats_free(t->stats);
    if (t->base)
        event_base_free(t->base);
    free(t);
}

static void *target_thread(void *arg)
{
    target_run(arg);
    return NULL;
}

struct target *target_start(const struct target_config *cfg, char *err, size_t errlen)
{
    struct target *t = target_new(cfg, err, errlen);
    if (!t)
        return NULL;
    int rc = pthread_create(&t->thread, NULL, target_thread, t);
    if (rc != 0) {
        fail(err, errlen, "cannot start the target thread: %s%s", strerror(rc), "");
        target_free(t);
        return NULL;
    }
    t->thread_running = true;
    return t;
}

void target_stop(struct target *t)
{
    if (!t)
        return;
    if (t->thread_running) {
        target_request_stop(t);
        pthread_join(t->thread, NULL);
        t->thread_running = false;
    }
    target_free(t);
}

uint16_t target_port(const struct target *t)
{
    return t->port;
}

const char *target_host(const struct target *t)
{
    return t->host;
}

bool target_is_tls(const struct target *t)
{
    return t->tls;
}

const char *target_ca_path(const struct target *t)
{
    return t->ca_path[0] ? t->ca_path : NULL;
}

const char *target_api_key(const struct target *t)
{
    return t->auth.first_key;
}
