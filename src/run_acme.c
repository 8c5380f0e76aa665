/* src/run_acme.c - the ACME client actors as one actor of `fleetsim run` (src/actor.h), wanted
 * when --acme-clients (or a preset) sets clients; their scenario tag is the first --scenario
 * preset that sets ACME clients, else the run's. The directory they use: --acme-directory, else
 * certctl's or the built-in target's /acme/profile/<--acme-profile>/directory. Setup is the ACME
 * pre-flight: against certctl or the built-in target the profile exists (created through
 * POST /api/v1/profiles when GET says 404), then the directory answers as JSON (an HTML page:
 * certctl's dashboard, one line); with --acme-directory only the directory check, with its own
 * TLS context (--acme-cacert, --insecure) and no API key. Then the sim/acme group on its own
 * threads, and the summary lines with the failure reasons read back from the merged metrics. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/exit_status.h"
#include "engine/tls.h"
#include "sim/acme.h"
#include "sim/names.h"
#include "src/actor.h"
#include "src/run_internal.h"

#define ERR_MAX 512
#define URL_MAX (PARSE_HOST_MAX + 2 * PARSE_PATH_MAX + 64)
#define USER_AGENT_MAX 64
#define ACME_PATH_FMT "%s/acme/profile/%s/directory"
/* Failure reasons listed in the summary at most. */
#define REASONS_SHOWN 6

struct run_acme {
    struct acme_config cfg;
    struct http_conn_config cc; /* the actors' destination (a copy: it must outlive them) */
    SSL_CTX *own_ssl;           /* --acme-directory over https: its own trust */
    char dir_url[URL_MAX];
    char user_agent[USER_AGENT_MAX];
    bool certctl; /* not --acme-directory: certctl or the built-in target */
    bool builtin;
    struct acme_group *g;
};

static int run_acme_register_names(void)
{
    return sim_names_register(SIM_ACTOR_ACME);
}

static bool run_acme_wanted(const struct run_ctx *c)
{
    return c->cfg.acme_clients > 0;
}

static const char *run_acme_scenario(const struct run_ctx *c)
{
    return options_actor_scenario(&c->cfg, OPTIONS_ACTOR_ACME);
}

/* The directory URL: --acme-directory as given, else the certctl (or built-in target) base
 * URL + /acme/profile/<profile>/directory. Returns false when it does not fit. */
static bool directory_url(const struct run_ctx *c, char *out, size_t n)
{
    const struct run_config *cfg = &c->cfg;
    if (cfg->acme_directory_url)
        return snprintf(out, n, "%s", cfg->acme_directory_url) < (int)n;
    char base[PARSE_HOST_MAX + PARSE_PATH_MAX + 32];
    if (cfg->url_set) {
        if (parse_url_format(&cfg->url, base, sizeof base) < 0)
            return false;
    } else {
        snprintf(base, sizeof base, "%s", c->target_text); /* https://127.0.0.1:PORT */
    }
    int w = snprintf(out, n, ACME_PATH_FMT, base, cfg->acme_profile);
    return w > 0 && (size_t)w < n;
}

/* --dry-run: the ACME plan ("plan: acme: N clients in order mode, es256 keys, directory URL,
 * scenario S") and its pre-flight; nothing is contacted. */
static void run_acme_plan(const struct run_ctx *c, FILE *out)
{
    const struct run_config *cfg = &c->cfg;
    char url[URL_MAX];
    if (cfg->acme_directory_url || cfg->url_set)
        directory_url(c, url, sizeof url);
    else
        snprintf(url, sizeof url, "the built-in target's /acme/profile/%s/directory",
                 cfg->acme_profile);
    uint32_t shard =
        acme_shard_size(cfg->acme_clients, cfg->shard_k, cfg->shard_n ? cfg->shard_n : 1);
    fprintf(out,
            "plan: acme: %u clients (%u in this shard) in %s mode, %s account keys, "
            "scenario %s, directory %s%s\n",
            cfg->acme_clients, shard, acme_mode_name(cfg->acme_mode),
            acme_key_alg_name(cfg->acme_key_alg), run_acme_scenario(c), url,
            cfg->acme_directory_url ? " (no API key sent)" : "");
    if (!cfg->acme_directory_url)
        fprintf(out,
                "plan: pre-flight: ACME profile %s exists (created through POST "
                "/api/v1/profiles when missing) and its directory answers JSON\n",
                cfg->acme_profile);
    else
        fprintf(out, "plan: pre-flight: the ACME directory answers JSON\n");
}

/* The destination: the run's own connection settings (certctl, built-in target), or a new one
 * for --acme-directory with its own TLS context. Returns 0 or EXIT_STATUS_FAILED. */
static int setup_conn(const struct run_ctx *c, struct run_acme *ra)
{
    const struct run_config *cfg = &c->cfg;
    char err[ERR_MAX];
    if (!cfg->acme_directory_url) {
        ra->cc = c->cc;
        return 0;
    }
    const struct parsed_url *u = &cfg->acme_directory;
    if (u->tls && !(ra->own_ssl = tls_client_ctx_new(cfg->acme_cacert_path, cfg->insecure, err,
                                                     sizeof err))) {
        fprintf(stderr, "fleetsim: TLS setup for --acme-directory: %s\n", err);
        return EXIT_STATUS_FAILED;
    }
    if (http_conn_config_init(&ra->cc, u->host, u->port, ra->own_ssl, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: --acme-directory: %s\n", err);
        return EXIT_STATUS_FAILED;
    }
    ra->cc.timeout_ns = cfg->timeout_ns;
    return 0;
}

/* The profile (certctl, built-in target) and the directory checks. */
static int preflight(const struct run_ctx *c, struct run_acme *ra)
{
    const struct run_config *cfg = &c->cfg;
    FILE *out = c->quiet ? NULL : stderr;
    char err[ERR_MAX];
    const char *key = ra->certctl && c->api_key[0] ? c->api_key : NULL;
    if (ra->certctl) {
        bool created = false;
        const char *base = cfg->url_set ? cfg->url.base_path : "";
        if (acme_certctl_profile_ensure(&ra->cc, base, key, cfg->acme_profile, &created, err,
                                        sizeof err) != 0) {
            fprintf(stderr, "fleetsim: pre-flight: %s\n", err);
            return EXIT_STATUS_FAILED;
        }
        if (out)
            fprintf(out, "pre-flight: ok: ACME profile %s %s\n", cfg->acme_profile,
                    created ? "created through POST /api/v1/profiles" : "exists");
    }
    bool ari = false;
    if (acme_directory_check(&ra->cc, ra->dir_url, key, &ari, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: pre-flight: %s\n", err);
        return EXIT_STATUS_FAILED;
    }
    if (out)
        fprintf(out, "pre-flight: ok: ACME directory %s answers (renewalInfo %s)\n", ra->dir_url,
                ari ? "offered" : "not offered");
    return 0;
}

/* The group's configuration from the run's. */
static void group_config(const struct run_ctx *c, struct run_acme *ra)
{
    const struct run_config *cfg = &c->cfg;
    struct acme_config *ac = &ra->cfg;
    acme_config_defaults(ac);
    ac->scenario = run_acme_scenario(c);
    ac->mode = cfg->acme_mode;
    ac->key_alg = cfg->acme_key_alg;
    ac->n_clients = cfg->acme_clients;
    ac->shard_k = cfg->shard_k;
    ac->shard_n = cfg->shard_n ? cfg->shard_n : 1;
    ac->threads = cfg->threads ? cfg->threads : 1;
    ac->directory_url = ra->dir_url;
    ac->conn = &ra->cc;
    ac->api_key = ra->certctl && c->api_key[0] ? c->api_key : NULL;
    snprintf(ra->user_agent, sizeof ra->user_agent, "fleetsim/%s", PACKAGE_VERSION);
    ac->user_agent = ra->user_agent;
    ac->seed = cfg->seed;
    ac->pace_ns = ac->mode == ACME_MODE_BURST ? ACME_DEFAULT_BURST_PACE_NS : 0;
    ac->report_interval_ns = cfg->report_interval_ns;
    ac->grace_ns = cfg->grace_ns;
    if (cfg->source_ips_set) {
        ac->source_first = cfg->source_ips.first;
        ac->source_count = parse_ipv4_range_count(&cfg->source_ips);
    }
}

static void run_acme_free(void *state);

/* The ACME pre-flight and the group (not started); one "pre-flight: ok: ..." line per check on
 * stderr unless --quiet. */
static int run_acme_setup(struct run_ctx *c, void **state)
{
    struct run_acme *ra = calloc(1, sizeof *ra);
    if (!ra) {
        fprintf(stderr, "fleetsim: out of memory setting up the ACME clients\n");
        return EXIT_STATUS_FAILED;
    }
    ra->certctl = c->cfg.acme_directory_url == NULL;
    ra->builtin = ra->certctl && !c->cfg.url_set;
    int rc = 0;
    if (!directory_url(c, ra->dir_url, sizeof ra->dir_url)) {
        fprintf(stderr, "fleetsim: the ACME directory URL is too long\n");
        rc = EXIT_STATUS_FAILED;
    }
    if (rc == 0 && ra->certctl && !c->have_conn) {
        fprintf(stderr, "fleetsim: the ACME clients have no connection to the target\n");
        rc = EXIT_STATUS_FAILED;
    }
    if (rc == 0)
        rc = setup_conn(c, ra);
    if (rc == 0)
        rc = preflight(c, ra);
    if (rc == 0) {
        char err[ERR_MAX];
        group_config(c, ra);
        if (!(ra->g = acme_group_new(&ra->cfg, err, sizeof err))) {
            fprintf(stderr, "fleetsim: ACME clients: %s\n", err);
            rc = EXIT_STATUS_FAILED;
        }
    }
    if (rc != 0) {
        run_acme_free(ra);
        return rc;
    }
    *state = ra;
    return 0;
}

static int run_acme_start(void *state, uint64_t start_ns)
{
    struct run_acme *ra = state;
    int err = acme_group_start(ra->g, start_ns);
    if (err != 0) {
        fprintf(stderr, "fleetsim: cannot start the ACME clients' threads: %s\n", strerror(-err));
        return EXIT_STATUS_FAILED;
    }
    return 0;
}

static void run_acme_stop(void *state)
{
    acme_group_stop(((struct run_acme *)state)->g);
}

static void run_acme_cut(void *state)
{
    acme_group_cut(((struct run_acme *)state)->g);
}

static bool run_acme_finished(void *state)
{
    return acme_group_finished(((struct run_acme *)state)->g);
}

static void run_acme_join(void *state)
{
    acme_group_join(((struct run_acme *)state)->g);
}

static int run_acme_interval_take(void *state, struct metrics *out, uint64_t *taken_ns)
{
    return acme_group_interval_take(((struct run_acme *)state)->g, out, taken_ns);
}

/* The actors' request series, acme_* counters and rates. */
static int run_acme_merge(void *state, struct metrics *out)
{
    return acme_group_metrics_merge(((struct run_acme *)state)->g, out);
}

static int64_t run_acme_in_flight(void *state)
{
    return acme_group_in_flight(((struct run_acme *)state)->g);
}

static double run_acme_core_share(void *state)
{
    return acme_group_max_core_share(((struct run_acme *)state)->g);
}

/* "badNonce 3, timeout 1" from the failure counters of the merged metrics into buf. */
static void reasons(const struct metrics *m, const char *metric, const char *scenario, char *buf,
                    size_t n)
{
    size_t len = 0, shown = 0;
    buf[0] = '\0';
    for (size_t i = 0; m && i < metrics_tagged_count(m) && shown < REASONS_SHOWN; i++) {
        const struct metrics_tagged *t = metrics_tagged_at(m, i);
        if (strcmp(t->metric, metric) != 0 || !t->tag_value || !t->scenario ||
            strcmp(t->scenario, scenario) != 0 || t->value == 0)
            continue;
        int w = snprintf(buf + len, n - len, "%s%s %" PRIu64, shown ? ", " : "", t->tag_value,
                         t->value);
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
        shown++;
    }
}

/* 429s on ACME endpoints and how many had certctl's ACME shape. */
static void shape_totals(const struct metrics *m, const char *scenario, uint64_t *hits,
                         uint64_t *total)
{
    *hits = *total = 0;
    for (size_t i = 0; m && i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *t = metrics_tagged_at(m, i);
        if (strcmp(t->metric, METRIC_ACME_RATE_LIMIT_SHAPE_OK) == 0 && t->scenario &&
            strcmp(t->scenario, scenario) == 0) {
            *hits += t->value;
            *total += t->total;
        }
    }
}

/* The ACME lines of the summary (orders or iterations completed, failed by reason, abandoned;
 * badNonce resends; renewal-info; 429s and their shape; the certctl finalize hint). */
static void run_acme_print(void *state, const struct metrics *m, FILE *out)
{
    const struct run_acme *ra = state;
    struct acme_counters k;
    acme_group_counters(ra->g, &k);
    const struct acme_config *ac = &ra->cfg;
    bool order = ac->mode == ACME_MODE_ORDER;
    char why[512];
    reasons(m, order ? ACME_METRIC_ORDERS_FAILED : ACME_METRIC_ITERATIONS_FAILED, ac->scenario, why,
            sizeof why);
    fprintf(out, "\nacme: %u clients in %s mode (%s keys), scenario %s, directory %s\n",
            acme_group_size(ra->g), acme_mode_name(ac->mode), acme_key_alg_name(ac->key_alg),
            ac->scenario, ra->dir_url);
    fprintf(out,
            "acme: %s %" PRIu64 " completed, %" PRIu64 " failed%s%s%s, %" PRIu64
            " abandoned at the end, %" PRIu64 " dropped (the previous one still running)\n",
            order ? "orders" : "iterations", k.completed, k.failed, why[0] ? " (" : "", why,
            why[0] ? ")" : "", k.abandoned, k.dropped);
    if (order)
        fprintf(out,
                "acme: %" PRIu64 " accounts, %" PRIu64 " badNonce answers resent; "
                "renewal-info of new certificates: %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
                " not offered by the directory\n",
                k.accounts_created, k.bad_nonce_retries, k.renewal_info_ok, k.renewal_info_failed,
                k.renewal_info_skipped);
    uint64_t hits, total;
    shape_totals(m, ac->scenario, &hits, &total);
    if (total)
        fprintf(out,
                "acme: %" PRIu64 " rate-limited answers (429), %" PRIu64 " in certctl's ACME "
                "shape (application/problem+json, urn:ietf:params:acme:error:rateLimited)%s\n",
                total, hits,
                hits < total ? "; the others come from a limiter in front of ACME (certctl's "
                               "per-IP limiter answers text/plain)"
                             : "");
    const struct metrics_series *fin =
        m ? metrics_series_find(m, ac->scenario, SIM_ACTOR_ACME, SIM_EP_NAME_ACME_FINALIZE) : NULL;
    if (fin && ra->certctl && !ra->builtin && fin->total.status_class[5])
        fprintf(out,
                "acme: finalize answered 5xx %" PRIu64 " times: certctl's finalize inserts the new "
                "certificate without owner, team and renewal policy and answers 500 "
                "(serverInternal); this is expected from certctl, not a fleetsim fault\n",
                fin->total.status_class[5]);
}

static void run_acme_free(void *state)
{
    struct run_acme *ra = state;
    if (!ra)
        return;
    acme_group_free(ra->g);
    if (ra->own_ssl)
        SSL_CTX_free(ra->own_ssl);
    free(ra);
}

/* The ACME clients' table (registered in src/actors.c). */
const struct actor_ops acme_actor = {.name = "acme",
                                     .register_names = run_acme_register_names,
                                     .wanted = run_acme_wanted,
                                     .plan = run_acme_plan,
                                     .setup = run_acme_setup,
                                     .start = run_acme_start,
                                     .stop = run_acme_stop,
                                     .cut = run_acme_cut,
                                     .finished = run_acme_finished,
                                     .join = run_acme_join,
                                     .interval_take = run_acme_interval_take,
                                     .merge = run_acme_merge,
                                     .in_flight = run_acme_in_flight,
                                     .core_share = run_acme_core_share,
                                     .print = run_acme_print,
                                     .free = run_acme_free};
