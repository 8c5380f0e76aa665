/* sim/acme.c - a group of ACME client actors over one or more event loops (see acme.h): the
 * configuration defaults, the origin every request goes to, the loop hooks (start, drain,
 * in-flight, abandon at the end) on an engine/loop_group.h group, which runs the threads, ticks,
 * interval snapshots and drain, and the results read after the join. Each loop is touched only
 * by its own thread once started. */
#include "sim/acme_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "engine/loop_group.h"
#include "engine/parse.h"
#include "sim/schedule.h"

/* How often each loop checks for stop requests and takes its interval snapshot. */
#define ACME_TICK_NS (20ULL * 1000000ULL)
/* Salt of the actors' start offsets, so they differ from the agents' of the same index. */
#define ACME_SEED_SALT 0x61636d6563686f6fULL
#define DEFAULT_GRACE_NS (10ULL * 1000000000ULL)
#define DEFAULT_USER_AGENT "fleetsim-acme"

struct acme_group {
    struct acme_config cfg; /* strings below are the group's copies */
    char *directory_url, *scenario, *api_key, *user_agent, *domain_suffix;
    char authority[ACME_AUTHORITY_MAX]; /* host[:port] as sent in Host */
    const char *dir_path;
    bool tls;
    struct loop_group *lg;
    struct acme_loop *loops;
    uint32_t n_loops;
    uint32_t n_actors; /* in this shard */
};

const char *acme_ep_name(enum acme_endpoint ep)
{
    return (unsigned)ep < ACME_EP_COUNT
               ? sim_endpoint_name((enum sim_endpoint)(SIM_EP_ACME_DIRECTORY + ep))
               : "acme_other";
}

const char *acme_mode_name(enum acme_mode mode)
{
    return mode == ACME_MODE_ORDER ? "order" : "burst";
}

const char *acme_key_alg_name(enum acme_key_alg alg)
{
    switch (alg) {
    case ACME_KEY_RS256:
        return "rs256";
    case ACME_KEY_EDDSA:
        return "eddsa";
    default:
        return "es256";
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
    csr_gen_free(l->csr);
    parse_secret_free(l->hdr_get);
    parse_secret_free(l->hdr_post);
}

/* ---- the loop hooks (each loop's thread) ------------------------------------------------ */

/* Arms every actor's first iteration: spread over one pace from the start. */
static int loop_start(void *user, uint64_t start_ns)
{
    struct acme_loop *l = user;
    l->run_start_ns = start_ns;
    for (uint32_t i = 0; i < l->n_actors; i++) {
        struct acme_actor *a = &l->actors[i];
        uint64_t off =
            schedule_agent_start_ns(l->cfg->seed ^ ACME_SEED_SALT, a->index, l->cfg->pace_ns);
        acme_arm(a, ACME_TIMER_BEGIN, start_ns + off);
    }
    return 0;
}

static void loop_begin_drain(void *user)
{
    struct acme_loop *l = user;
    l->stopping = true;
    for (uint32_t i = 0; i < l->n_actors; i++)
        acme_actor_stop(&l->actors[i]);
}

static uint64_t loop_in_flight(void *user)
{
    return ((struct acme_loop *)user)->busy;
}

/* Every actor reached max_iterations and nothing is in flight: the loop may end. */
static bool loop_done(void *user)
{
    struct acme_loop *l = user;
    return l->active == 0 && l->busy == 0;
}

/* Abandoned requests never call back: close them (after the in-flight count was taken). */
static void loop_finish(void *user)
{
    struct acme_loop *l = user;
    for (uint32_t i = 0; i < l->n_actors; i++) {
        struct acme_actor *a = &l->actors[i];
        event_del(&a->timer);
        acme_iteration_abandon(a);
    }
}

/* The loops: precise timers (lag is measured in microseconds). */
static struct loop_group *new_group(const struct acme_group *g, char *err, size_t errlen)
{
    struct loop_group_config lc = {.n_loops = g->n_loops,
                                   .tick_ns = ACME_TICK_NS,
                                   .report_interval_ns = g->cfg.report_interval_ns,
                                   .grace_ns = g->cfg.grace_ns,
                                   .precise_timer = true,
                                   .hooks = {.start = loop_start,
                                             .begin_drain = loop_begin_drain,
                                             .in_flight = loop_in_flight,
                                             .done = loop_done,
                                             .finish = loop_finish}};
    return loop_group_new(&lc, err, errlen);
}

/* ---- setup ------------------------------------------------------------------------------ */

/* The endpoints a mode can use (their series exist from the start, the others never). */
static bool endpoint_used(enum acme_mode mode, enum acme_endpoint ep)
{
    return mode == ACME_MODE_ORDER || ep == ACME_EP_DIRECTORY || ep == ACME_EP_NONCE ||
           ep == ACME_EP_RENEWAL_INFO;
}

static int loop_init(struct acme_group *g, uint32_t t, uint32_t n_actors, char *err, size_t errlen)
{
    struct acme_loop *l = &g->loops[t];
    l->group = g;
    l->cfg = &g->cfg;
    l->dir_path = g->dir_path;
    l->authority = g->authority;
    l->tls = g->tls;
    l->n_actors = l->active = n_actors;
    l->base = loop_group_base(g->lg, t);
    l->metrics = loop_group_metrics(g->lg, t);
    loop_group_set_user(g->lg, t, l);
    l->actors = calloc(n_actors ? n_actors : 1, sizeof *l->actors);
    l->csr = g->cfg.mode == ACME_MODE_ORDER ? csr_gen_new() : NULL;
    l->hdr_get = make_headers(g, false);
    l->hdr_post = make_headers(g, true);
    bool ok = l->actors && l->hdr_get && l->hdr_post && (g->cfg.mode != ACME_MODE_ORDER || l->csr);
    for (int e = 0; ok && e < ACME_EP_COUNT; e++) {
        if (!endpoint_used(g->cfg.mode, (enum acme_endpoint)e))
            continue;
        ok = (l->series[e] = metrics_series(l->metrics, g->cfg.scenario, SIM_ACTOR_ACME,
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
        snprintf(err, errlen,
                 "invalid ACME client configuration (directory, connection, "
                 "threads or shard)");
        return NULL;
    }
    struct acme_group *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (group_setup(g, cfg, err, errlen) != 0) {
        acme_group_free(g);
        return NULL;
    }
    g->n_actors = acme_shard_size(cfg->n_clients, cfg->shard_k, cfg->shard_n);
    g->n_loops = cfg->threads < g->n_actors ? cfg->threads : (g->n_actors ? g->n_actors : 1);
    g->loops = calloc(g->n_loops, sizeof *g->loops);
    if (!g->loops || !(g->lg = new_group(g, err, errlen))) {
        if (!g->loops)
            snprintf(err, errlen, "out of memory");
        acme_group_free(g);
        return NULL;
    }
    for (uint32_t t = 0; t < g->n_loops; t++) {
        uint32_t n = g->n_actors / g->n_loops + (t < g->n_actors % g->n_loops);
        if (loop_init(g, t, n, err, errlen) != 0) {
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

int acme_group_start(struct acme_group *g, uint64_t start_ns)
{
    return loop_group_start(g->lg, start_ns);
}

void acme_group_stop(struct acme_group *g)
{
    loop_group_stop(g->lg);
}

void acme_group_cut(struct acme_group *g)
{
    loop_group_cut(g->lg);
}

bool acme_group_finished(const struct acme_group *g)
{
    return loop_group_finished(g->lg);
}

int acme_group_join(struct acme_group *g)
{
    loop_group_join(g->lg);
    return 0;
}

int acme_group_interval_take(struct acme_group *g, struct metrics *out, uint64_t *taken_ns)
{
    return loop_group_interval_take(g->lg, out, taken_ns);
}

int acme_group_metrics_merge(const struct acme_group *g, struct metrics *out)
{
    return loop_group_metrics_merge(g->lg, out);
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
    return loop_group_in_flight_end(g->lg);
}

double acme_group_max_core_share(const struct acme_group *g)
{
    return loop_group_max_core_share(g->lg);
}

void acme_group_free(struct acme_group *g)
{
    if (!g)
        return;
    loop_group_stop(g->lg);
    loop_group_join(g->lg);
    for (uint32_t t = 0; g->loops && t < g->n_loops; t++)
        loop_destroy(&g->loops[t]);
    free(g->loops);
    loop_group_free(g->lg);
    free(g->directory_url);
    free(g->scenario);
    parse_secret_free(g->api_key);
    free(g->user_agent);
    free(g->domain_suffix);
    free(g);
}
