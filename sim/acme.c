/* sim/acme.c - a group of ACME client actors over one or more event loops (see acme.h): the
 * configuration defaults, the origin every request goes to, the loops' threads with their
 * periodic tick (interval snapshots, stop, drain) and the results read after the join. Each
 * loop is touched only by its own thread once started; the control thread talks to it through
 * an atomic stop flag and a mutex-protected interval snapshot, as sim/fleet.c does. */
#include "sim/acme_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "engine/clock.h"
#include "engine/parse.h"
#include "sim/schedule.h"

/* How often each loop checks for stop requests and takes its interval snapshot. */
#define ACME_TICK_NS (20ULL * 1000000ULL)
/* Salt of the actors' start offsets, so they differ from the agents' of the same index. */
#define ACME_SEED_SALT 0x61636d6563686f6fULL
#define DEFAULT_GRACE_NS (10ULL * 1000000000ULL)
#define DEFAULT_USER_AGENT "fleetsim-acme"

struct acme_group {
    struct acme_config cfg;   /* strings below are the group's copies */
    char *directory_url, *scenario, *api_key, *user_agent, *domain_suffix;
    char authority[ACME_AUTHORITY_MAX]; /* host[:port] as sent in Host */
    const char *dir_path;
    bool tls;
    struct acme_loop *loops;
    uint32_t n_loops;
    uint32_t n_actors;        /* in this shard */
    atomic_bool stop;
    uint64_t start_ns;
};

static const char *const ep_names[ACME_EP_COUNT] = {
    [ACME_EP_DIRECTORY] = "acme_directory", [ACME_EP_NONCE] = "acme_nonce",
    [ACME_EP_ACCOUNT] = "acme_account",     [ACME_EP_ORDER] = "acme_order",
    [ACME_EP_AUTHZ] = "acme_authz",         [ACME_EP_CHALLENGE] = "acme_challenge",
    [ACME_EP_FINALIZE] = "acme_finalize",   [ACME_EP_CERT] = "acme_cert",
    [ACME_EP_RENEWAL_INFO] = "acme_renewal_info",
};

const char *acme_ep_name(enum acme_endpoint ep)
{
    return (unsigned)ep < ACME_EP_COUNT ? ep_names[ep] : "acme_other";
}

const char *acme_mode_name(enum acme_mode mode)
{
    return mode == ACME_MODE_ORDER ? "order" : "burst";
}

const char *acme_key_alg_name(enum acme_key_alg alg)
{
    switch (alg) {
    case ACME_KEY_RS256: return "rs256";
    case ACME_KEY_EDDSA: return "eddsa";
    default: return "es256";
    }
}

void acme_config_defaults(struct acme_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->scenario = "default";
    cfg->mode = ACME_MODE_BURST;
    cfg->key_alg = ACME_KEY_ES256;
    cfg->shard_n = 1;
    cfg->threads = 1;
    cfg->pace_ns = ACME_DEFAULT_BURST_PACE_NS;
    cfg->bad_nonce_retries = ACME_DEFAULT_BAD_NONCE_RETRIES;
    cfg->poll_base_ns = ACME_DEFAULT_POLL_BASE_NS;
    cfg->poll_max_ns = ACME_DEFAULT_POLL_MAX_NS;
    cfg->polls_max = ACME_DEFAULT_POLLS_MAX;
    cfg->backoff_min_ns = ACME_DEFAULT_BACKOFF_MIN_NS;
    cfg->backoff_max_ns = ACME_DEFAULT_BACKOFF_MAX_NS;
    cfg->grace_ns = DEFAULT_GRACE_NS;
}

uint32_t acme_shard_size(uint32_t n_clients, uint32_t shard_k, uint32_t shard_n)
{
    if (shard_n == 0 || shard_k >= shard_n || n_clients <= shard_k)
        return 0;
    return (n_clients - shard_k - 1) / shard_n + 1;
}

/* The extra header lines of GETs, and of POSTs (with the JOSE content type). */
static char *make_headers(const struct acme_group *g, bool post)
{
    const char *key = g->api_key;
    size_t n = strlen(g->user_agent) + (key ? strlen(key) : 0) + 128;
    char *h = malloc(n);
    if (!h)
        return NULL;
    snprintf(h, n, "User-Agent: %s\r\n%s%s%s%s", g->user_agent, key ? "Authorization: Bearer " : "",
             key ? key : "", key ? "\r\n" : "", post ? "Content-Type: " ACME_CT_JOSE "\r\n" : "");
    return h;
}

static void loop_destroy(struct acme_loop *l)
{
    for (uint32_t i = 0; l->actors && i < l->n_actors; i++)
        acme_actor_release(&l->actors[i]);
    free(l->actors);
    if (l->tick)
        event_free(l->tick);
    csr_gen_free(l->csr);
    parse_secret_free(l->hdr_get);
    parse_secret_free(l->hdr_post);
    metrics_free(l->metrics);
    metrics_free(l->snapshot);
    if (l->base)
        event_base_free(l->base);
    pthread_mutex_destroy(&l->mu);
}

/* An event_base with precise timers (lag is measured in microseconds). */
static struct event_base *new_base(void)
{
    struct event_config *ec = event_config_new();
    if (!ec)
        return NULL;
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    struct event_base *base = event_base_new_with_config(ec);
    event_config_free(ec);
    return base;
}

static void loop_tick(evutil_socket_t fd, short what, void *arg);

/* The endpoints a mode can use (their series exist from the start, the others never). */
static bool endpoint_used(enum acme_mode mode, enum acme_endpoint ep)
{
    return mode == ACME_MODE_ORDER || ep == ACME_EP_DIRECTORY || ep == ACME_EP_NONCE ||
           ep == ACME_EP_RENEWAL_INFO;
}

static int loop_init(struct acme_group *g, struct acme_loop *l, uint32_t n_actors, char *err,
                     size_t errlen)
{
    l->group = g;
    l->cfg = &g->cfg;
    l->dir_path = g->dir_path;
    l->authority = g->authority;
    l->tls = g->tls;
    l->n_actors = l->active = n_actors;
    pthread_mutex_init(&l->mu, NULL);
    atomic_init(&l->finished, false);
    bool intervals = g->cfg.report_interval_ns > 0;
    l->base = new_base();
    l->metrics = metrics_new(intervals);
    l->snapshot = intervals ? metrics_new(false) : NULL;
    l->actors = calloc(n_actors ? n_actors : 1, sizeof *l->actors);
    l->csr = g->cfg.mode == ACME_MODE_ORDER ? csr_gen_new() : NULL;
    l->hdr_get = make_headers(g, false);
    l->hdr_post = make_headers(g, true);
    l->tick = l->base ? event_new(l->base, -1, EV_PERSIST, loop_tick, l) : NULL;
    bool ok = l->base && l->metrics && (!intervals || l->snapshot) && l->actors && l->hdr_get &&
              l->hdr_post && l->tick && (g->cfg.mode != ACME_MODE_ORDER || l->csr);
    for (int e = 0; ok && e < ACME_EP_COUNT; e++) {
        if (!endpoint_used(g->cfg.mode, (enum acme_endpoint)e))
            continue;
        ok = (l->series[e] = metrics_series(l->metrics, g->cfg.scenario, ACME_ACTOR,
                                            acme_ep_name((enum acme_endpoint)e))) != NULL;
    }
    if (!ok) {
        snprintf(err, errlen, "out of memory setting up %u ACME clients", n_actors);
        return -ENOMEM;
    }
    return 0;
}

/* Sets up actor a (fleet index `index`) of loop l: its connection and timer. */
static int actor_init(struct acme_loop *l, struct acme_actor *a, uint32_t index)
{
    a->loop = l;
    a->index = index;
    a->conn = http_conn_new(l->base, l->cfg->conn);
    if (!a->conn)
        return -ENOMEM;
    if (l->cfg->source_count) {
        struct in_addr src = {htonl(l->cfg->source_first + (index - 1) % l->cfg->source_count)};
        http_conn_set_source_ipv4(a->conn, &src);
    }
    acme_timer_init(a);
    return 0;
}

/* Copies the strings of cfg into g and checks the directory URL against the connection. */
static int group_setup(struct acme_group *g, const struct acme_config *cfg, char *err,
                       size_t errlen)
{
    g->cfg = *cfg;
    g->directory_url = strdup(cfg->directory_url);
    g->scenario = strdup(cfg->scenario ? cfg->scenario : "default");
    g->api_key = cfg->api_key && *cfg->api_key ? strdup(cfg->api_key) : NULL;
    g->user_agent = strdup(cfg->user_agent ? cfg->user_agent : DEFAULT_USER_AGENT);
    g->domain_suffix = strdup(cfg->domain_suffix ? cfg->domain_suffix : ACME_DEFAULT_DOMAIN_SUFFIX);
    if (!g->directory_url || !g->scenario || (cfg->api_key && *cfg->api_key && !g->api_key) ||
        !g->user_agent || !g->domain_suffix) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    g->cfg.directory_url = g->directory_url;
    g->cfg.scenario = g->scenario;
    g->cfg.api_key = g->api_key;
    g->cfg.user_agent = g->user_agent;
    g->cfg.domain_suffix = g->domain_suffix;
    g->tls = cfg->conn->ssl_ctx != NULL;
    if (acme_conn_authority(cfg->conn, g->authority, sizeof g->authority) != 0 ||
        !(g->dir_path = acme_url_path(g->directory_url, g->tls, g->authority))) {
        snprintf(err, errlen, "the ACME directory URL is not on the connection's origin %s://%s",
                 g->tls ? "https" : "http", g->authority);
        return -EINVAL;
    }
    return 0;
}

/* Order mode: every actor's account key, made now so that key generation (RSA takes tens of
 * milliseconds) never delays a request of the run. */
static int make_keys(struct acme_group *g, char *err, size_t errlen)
{
    for (uint32_t t = 0; g->cfg.mode == ACME_MODE_ORDER && t < g->n_loops; t++) {
        for (uint32_t i = 0; i < g->loops[t].n_actors; i++) {
            if (acme_actor_keygen(&g->loops[t].actors[i]) != 0) {
                snprintf(err, errlen, "cannot generate a %s account key",
                         acme_key_alg_name(g->cfg.key_alg));
                return -EIO;
            }
        }
    }
    return 0;
}

struct acme_group *acme_group_new(const struct acme_config *cfg, char *err, size_t errlen)
{
    if (!cfg->conn || !cfg->directory_url || cfg->threads == 0 || cfg->shard_n == 0 ||
        cfg->shard_k >= cfg->shard_n) {
        snprintf(err, errlen, "invalid ACME client configuration (directory, connection, "
                              "threads or shard)");
        return NULL;
    }
    struct acme_group *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&g->stop, false);
    if (group_setup(g, cfg, err, errlen) != 0) {
        acme_group_free(g);
        return NULL;
    }
    g->n_actors = acme_shard_size(cfg->n_clients, cfg->shard_k, cfg->shard_n);
    g->n_loops = cfg->threads < g->n_actors ? cfg->threads : (g->n_actors ? g->n_actors : 1);
    g->loops = calloc(g->n_loops, sizeof *g->loops);
    if (!g->loops) {
        snprintf(err, errlen, "out of memory");
        acme_group_free(g);
        return NULL;
    }
    for (uint32_t t = 0; t < g->n_loops; t++) {
        uint32_t n = g->n_actors / g->n_loops + (t < g->n_actors % g->n_loops);
        if (loop_init(g, &g->loops[t], n, err, errlen) != 0) {
            acme_group_free(g);
            return NULL;
        }
    }
    uint32_t *fill = calloc(g->n_loops, sizeof *fill);
    for (uint32_t p = 0; fill && p < g->n_actors; p++) {
        struct acme_loop *l = &g->loops[p % g->n_loops];
        uint32_t index = p * cfg->shard_n + cfg->shard_k + 1;
        if (actor_init(l, &l->actors[fill[p % g->n_loops]++], index) != 0) {
            free(fill);
            fill = NULL;
        }
    }
    if (!fill) {
        snprintf(err, errlen, "out of memory setting up ACME clients");
        acme_group_free(g);
        return NULL;
    }
    free(fill);
    if (make_keys(g, err, errlen) != 0) {
        acme_group_free(g);
        return NULL;
    }
    return g;
}

uint32_t acme_group_size(const struct acme_group *g)
{
    return g->n_actors;
}

static void loop_snapshot(struct acme_loop *l)
{
    if (!l->snapshot)
        return;
    pthread_mutex_lock(&l->mu);
    metrics_interval_take(l->metrics, l->snapshot);
    pthread_mutex_unlock(&l->mu);
}

static void loop_begin_drain(struct acme_loop *l, uint64_t now)
{
    l->stopping = true;
    l->drain_deadline_ns = now + l->cfg->grace_ns;
    for (uint32_t i = 0; i < l->n_actors; i++)
        acme_actor_stop(&l->actors[i]);
}

static void loop_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct acme_loop *l = arg;
    struct acme_group *g = l->group;
    uint64_t now = clock_now_ns();
    if (g->cfg.report_interval_ns && now >= l->next_interval_ns) {
        loop_snapshot(l);
        while (l->next_interval_ns <= now)
            l->next_interval_ns += g->cfg.report_interval_ns;
    }
    if (!l->stopping && atomic_load(&g->stop))
        loop_begin_drain(l, now);
    bool all_done = l->active == 0 && l->busy == 0;
    if (all_done || (l->stopping && (l->busy == 0 || now >= l->drain_deadline_ns)))
        event_base_loopbreak(l->base);
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Arms every actor's first iteration: spread over one pace from the start. */
static void loop_start_actors(struct acme_loop *l, uint64_t start_ns)
{
    for (uint32_t i = 0; i < l->n_actors; i++) {
        struct acme_actor *a = &l->actors[i];
        uint64_t off = schedule_agent_start_ns(l->cfg->seed ^ ACME_SEED_SALT, a->index,
                                               l->cfg->pace_ns);
        acme_arm(a, ACME_TIMER_BEGIN, start_ns + off);
    }
}

static void *loop_main(void *arg)
{
    struct acme_loop *l = arg;
    struct acme_group *g = l->group;
    uint64_t cpu0 = thread_cpu_ns(), wall0 = clock_now_ns();
    l->run_start_ns = g->start_ns;
    l->next_interval_ns = g->start_ns + g->cfg.report_interval_ns;
    loop_start_actors(l, g->start_ns);
    struct timeval tick = {0, (suseconds_t)(ACME_TICK_NS / CLOCK_NS_PER_US)};
    event_add(l->tick, &tick);
    event_base_dispatch(l->base);
    /* abandoned requests never call back: close them before counting what is in flight */
    l->in_flight_end = (int64_t)l->busy;
    for (uint32_t i = 0; i < l->n_actors; i++) {
        struct acme_actor *a = &l->actors[i];
        event_del(&a->timer);
        acme_iteration_abandon(a);
    }
    l->cpu_ns = thread_cpu_ns() - cpu0;
    l->wall_ns = clock_now_ns() - wall0;
    metrics_set_elapsed_ns(l->metrics, clock_now_ns() - g->start_ns);
    loop_snapshot(l);
    atomic_store(&l->finished, true);
    return NULL;
}

int acme_group_start(struct acme_group *g, uint64_t start_ns)
{
    g->start_ns = start_ns;
    for (uint32_t t = 0; t < g->n_loops; t++) {
        int rc = pthread_create(&g->loops[t].thread, NULL, loop_main, &g->loops[t]);
        if (rc != 0) {
            acme_group_stop(g);
            acme_group_join(g);
            return -rc;
        }
        g->loops[t].thread_started = true;
    }
    return 0;
}

void acme_group_stop(struct acme_group *g)
{
    atomic_store(&g->stop, true);
}

bool acme_group_finished(const struct acme_group *g)
{
    for (uint32_t t = 0; t < g->n_loops; t++)
        if (g->loops[t].thread_started && !atomic_load(&g->loops[t].finished))
            return false;
    return true;
}

int acme_group_join(struct acme_group *g)
{
    for (uint32_t t = 0; t < g->n_loops; t++) {
        if (g->loops[t].thread_started) {
            pthread_join(g->loops[t].thread, NULL);
            g->loops[t].thread_started = false;
        }
    }
    return 0;
}

int acme_group_interval_take(struct acme_group *g, struct metrics *out)
{
    int rc = 0;
    for (uint32_t t = 0; t < g->n_loops && rc == 0; t++) {
        struct acme_loop *l = &g->loops[t];
        if (!l->snapshot)
            continue;
        pthread_mutex_lock(&l->mu);
        rc = metrics_merge(out, l->snapshot);
        metrics_reset(l->snapshot);
        pthread_mutex_unlock(&l->mu);
    }
    return rc;
}

int acme_group_metrics_merge(const struct acme_group *g, struct metrics *out)
{
    for (uint32_t t = 0; t < g->n_loops; t++) {
        int rc = metrics_merge(out, g->loops[t].metrics);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void acme_group_counters(const struct acme_group *g, struct acme_counters *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t t = 0; t < g->n_loops; t++) {
        const struct acme_counters *c = &g->loops[t].counters;
        out->started += c->started;
        out->completed += c->completed;
        out->failed += c->failed;
        out->abandoned += c->abandoned;
        out->dropped += c->dropped;
        out->bad_nonce_retries += c->bad_nonce_retries;
        out->accounts_created += c->accounts_created;
        out->renewal_info_ok += c->renewal_info_ok;
        out->renewal_info_failed += c->renewal_info_failed;
        out->renewal_info_skipped += c->renewal_info_skipped;
    }
}

int64_t acme_group_in_flight(const struct acme_group *g)
{
    int64_t n = 0;
    for (uint32_t t = 0; t < g->n_loops; t++)
        n += g->loops[t].in_flight_end;
    return n;
}

double acme_group_max_core_share(const struct acme_group *g)
{
    double best = 0;
    for (uint32_t t = 0; t < g->n_loops; t++) {
        const struct acme_loop *l = &g->loops[t];
        double s = l->wall_ns ? (double)l->cpu_ns / (double)l->wall_ns : 0;
        best = s > best ? s : best;
    }
    return best;
}

void acme_group_free(struct acme_group *g)
{
    if (!g)
        return;
    acme_group_stop(g);
    acme_group_join(g);
    for (uint32_t t = 0; g->loops && t < g->n_loops; t++)
        loop_destroy(&g->loops[t]);
    free(g->loops);
    free(g->directory_url);
    free(g->scenario);
    parse_secret_free(g->api_key);
    free(g->user_agent);
    free(g->domain_suffix);
    free(g);
}
