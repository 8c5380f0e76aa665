/* refserver/main.c - the fleetsim-target program: reads its options with engine/cmdline's
 * table (one-line errors, exit 2), scrubs API keys from argv, starts the target in the foreground, prints where
 * it listens (and where the generated CA and API key are), and stops cleanly on SIGINT/SIGTERM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "config.h"
#include "engine/cmdline.h"
#include "engine/exit_status.h"
#include "engine/parse.h"
#include "refserver/fault.h"
#include "refserver/server.h"

#define PROG "fleetsim-target"
#define KEY_BUF_LEN (TARGET_API_KEY_MAX + 2)
#define MAX_COUNT 10000000u

enum opt_id {
    OPT_LISTEN = 0,
    OPT_ALLOW_REMOTE,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_PLAIN,
    OPT_API_KEY,
    OPT_API_KEY_FILE,
    OPT_DB,
    OPT_RATE_LIMIT,
    OPT_SEED_AGENTS,
    OPT_SEED_CERTS,
    OPT_SEED_HOST_TARGETS,
    OPT_TLS_MIN,
    OPT_FLEET_PREFIX,
    OPT_SEED,
    OPT_OS_MIX,
    OPT_BULK_CLAMP,
    OPT_ACME_ORDERS,
    OPT_ACME_ACTIVE,
    OPT_ACME_PROFILE,
    OPT_FAULT,
    OPT_QUIET,
};

static const char usage_text[] =
    "Usage: " PROG " [OPTIONS]\n"
    "A certctl-compatible reference server for fleetsim (HTTPS by default).\n"
    "\n"
    "  --listen ADDR:PORT        listen address (default 127.0.0.1:8443; port 0 = any)\n"
    "  --allow-remote            permit a non-loopback listen address\n"
    "  --tls-cert FILE           serve this certificate chain with --tls-key (default:\n"
    "                            generate a CA and a certificate for 127.0.0.1/localhost)\n"
    "  --tls-key FILE            the key of --tls-cert\n"
    "  --plain                   plain HTTP instead of HTTPS\n"
    "  --tls-min 1.2|1.3         lowest TLS version accepted (default 1.3, certctl's)\n"
    "  --api-key KEY             accepted Bearer key (repeatable; removed from argv)\n"
    "  --api-key-file FILE       read one key from the first line of FILE (repeatable)\n"
    "                            (neither: env CERTCTL_AUTH_SECRET, comma-separated; else a\n"
    "                            key is generated into a file whose path is printed)\n"
    "  --db URL                  certctl's tables in PostgreSQL (default: in memory)\n"
    "  --rate-limit N/s|off      per-client-IP limit, burst 2 x N (default 50/s)\n"
    "  --seed-agents N           seed agents ag-PREFIX-00001.. with one target each\n"
    "  --seed-certs N            seed certificates mapped round-robin to the agents\n"
    "  --seed-host-targets PCT   percent of seeded targets whose config has a host, so\n"
    "                            agents verify deployments to them (default 0)\n"
    "  --fleet-prefix NAME       fleet prefix (default loadtest)\n"
    "  --seed N                  run seed: agent metadata and fault draws (default 0)\n"
    "  --os-mix L/W/D            linux/windows/darwin percentages (default 80/10/10)\n"
    "  --bulk-clamp on|off       certctl's 50-row clamp on filtered bulk renewals (on)\n"
    "  --acme-orders-per-hour N  ACME orders per account and hour (default 100)\n"
    "  --acme-active-orders N    ACME non-final orders per account (default 5)\n"
    "  --acme-profile ID         certificate profile created at start (prof-loadtest)\n"
    "  --fault ENDPOINT:KIND=VALUE   repeatable; ENDPOINT a name or *; KIND latency=50ms\n"
    "                            | latency=10ms-80ms | error=0.05 | drop=0.01 | stall=2s\n"
    "  -q, --quiet               only the address lines\n"
    "  -h, --help                this text\n"
    "  -V, --version             the version\n"
    "\n"
    "Endpoint names: heartbeat work csr job_status cert_fetch register bulk_renew\n"
    "cert_list acme_directory acme_nonce acme_account acme_order acme_authz\n"
    "acme_challenge acme_finalize acme_cert acme_renewal_info health agent_retire\n"
    "cert_create cert_get job_get profile_create job_verify discoveries other.\n"
    "GET /_target/stats (loopback\n"
    "clients only) returns the counts as JSON. SIGINT/SIGTERM stop it (exit 0).\n";

struct main_opts {
    struct target_config cfg;
    char *keys[TARGET_MAX_API_KEYS]; /* owned copies */
    size_t n_keys;
    char *scrub[2 * TARGET_MAX_API_KEYS + 2]; /* argv bytes to overwrite */
    size_t n_scrub;
    char *db_url; /* owned copy (argv's is scrubbed) */
    char listen_host[64];
    char key_file_dir[64];
    char key_file[96];
};

/* Adds an accepted key (a copy). Returns CMDLINE_OK, or CMDLINE_BAD_HIDDEN with a reason. */
static int add_key(struct main_opts *o, const char *key, char *reason, size_t n)
{
    size_t len = strlen(key);
    if (o->n_keys == TARGET_MAX_API_KEYS) {
        snprintf(reason, n, "is one key too many (expected at most %d)", TARGET_MAX_API_KEYS);
        return CMDLINE_BAD_HIDDEN;
    }
    if (len == 0 || len > TARGET_API_KEY_MAX) {
        snprintf(reason, n, "is empty or too long (expected 1 to %d bytes)", TARGET_API_KEY_MAX);
        return CMDLINE_BAD_HIDDEN;
    }
    o->keys[o->n_keys] = strdup(key);
    if (!o->keys[o->n_keys]) {
        snprintf(reason, n, "could not be stored: out of memory");
        return CMDLINE_BAD_HIDDEN;
    }
    o->cfg.api_keys[o->n_keys] = o->keys[o->n_keys];
    o->n_keys++;
    return CMDLINE_OK;
}

/* Remembers argv bytes to overwrite once parsing is done (secrets out of ps). */
static void scrub_later(struct main_opts *o, char *arg)
{
    if (o->n_scrub < sizeof o->scrub / sizeof o->scrub[0])
        o->scrub[o->n_scrub++] = arg;
}

static int opt_listen(void *ctx, int id, char *v, char *why, size_t n)
{
    struct main_opts *o = ctx;
    (void)id;
    struct parsed_listen pl;
    if (parse_listen_addr(v, &pl, why, n) < 0)
        return CMDLINE_BAD;
    snprintf(o->listen_host, sizeof o->listen_host, "%s", pl.host);
    o->cfg.port = pl.port;
    return CMDLINE_OK;
}

static int opt_tls_file(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    if (parse_readable_file(v, why, n) < 0)
        return CMDLINE_BAD;
    *(id == OPT_TLS_CERT ? &c->tls_cert_file : &c->tls_key_file) = v;
    return CMDLINE_OK;
}

static int opt_api_key(void *ctx, int id, char *v, char *why, size_t n)
{
    (void)id;
    scrub_later(ctx, v);
    return add_key(ctx, v, why, n);
}

static int opt_api_key_file(void *ctx, int id, char *v, char *why, size_t n)
{
    (void)id;
    char key[KEY_BUF_LEN];
    if (parse_read_first_line(v, key, sizeof key, why, n) < 0)
        return CMDLINE_BAD;
    int rc = add_key(ctx, key, why, n);
    memset(key, 0, sizeof key);
    return rc == CMDLINE_OK ? CMDLINE_OK : CMDLINE_BAD; /* the file name may be shown */
}

static int opt_db(void *ctx, int id, char *v, char *why, size_t n)
{
    struct main_opts *o = ctx;
    (void)id;
    free(o->db_url);
    o->db_url = strdup(v);
    if (!o->db_url) {
        snprintf(why, n, "could not be stored: out of memory");
        return CMDLINE_BAD_HIDDEN;
    }
    o->cfg.db_url = o->db_url;
    if (strchr(v, '@'))
        scrub_later(o, v); /* user[:password]@: keep it out of ps */
    return CMDLINE_OK;
}

static int opt_rate_limit(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)id;
    if (strcmp(v, "off") == 0)
        c->rate_per_s = 0.0;
    else if (parse_rate_per_s(v, 0.001, 1e9, &c->rate_per_s, why, n) < 0)
        return CMDLINE_BAD;
    c->burst = 0.0; /* 2 x rate, as certctl's defaults (50/s, burst 100) */
    return CMDLINE_OK;
}

/* --tls-min 1.2|1.3: the lowest TLS version the listener accepts. */
static int opt_tls_min(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)id;
    if (strcmp(v, "1.3") == 0) {
        c->tls_min_version = TLS1_3_VERSION;
    } else if (strcmp(v, "1.2") == 0) {
        c->tls_min_version = TLS1_2_VERSION;
    } else {
        snprintf(why, n, "is not 1.2 or 1.3");
        return CMDLINE_BAD;
    }
    return CMDLINE_OK;
}

/* The counts: seeded agents and certificates, the ACME limits. */
static int opt_count(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    uint32_t *out = id == OPT_SEED_AGENTS         ? &c->seed_agents
                    : id == OPT_SEED_CERTS        ? &c->seed_certs
                    : id == OPT_SEED_HOST_TARGETS ? &c->seed_host_targets
                    : id == OPT_ACME_ORDERS       ? &c->acme_orders_per_hour
                                                  : &c->acme_active_orders;
    uint32_t min =
        id == OPT_SEED_AGENTS || id == OPT_SEED_CERTS || id == OPT_SEED_HOST_TARGETS ? 0 : 1;
    uint32_t max = id == OPT_SEED_HOST_TARGETS ? 100 : MAX_COUNT;
    return parse_count_u32(v, min, max, out, why, n) < 0 ? CMDLINE_BAD : CMDLINE_OK;
}

static int opt_fleet_prefix(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)id;
    if (identity_prefix_check(v) < 0) {
        snprintf(why, n, "does not match [a-z][a-z0-9]{0,23} (expected e.g. loadtest)");
        return CMDLINE_BAD;
    }
    c->fleet_prefix = v;
    return CMDLINE_OK;
}

static int opt_seed(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)id;
    return parse_count_u64(v, 0, UINT64_MAX, &c->seed, why, n) < 0 ? CMDLINE_BAD : CMDLINE_OK;
}

static int opt_os_mix(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)id;
    return parse_os_mix(v, c->os_mix.pct, why, n) < 0 ? CMDLINE_BAD : CMDLINE_OK;
}

static int opt_bulk_clamp(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)id;
    if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
        snprintf(why, n, "is not on or off (expected on or off)");
        return CMDLINE_BAD;
    }
    c->bulk_clamp = strcmp(v, "on") == 0;
    return CMDLINE_OK;
}

static int opt_acme_profile(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)id;
    if (!*v) {
        snprintf(why, n, "is empty (expected a profile id, e.g. prof-loadtest)");
        return CMDLINE_BAD;
    }
    c->acme_profile_id = v;
    return CMDLINE_OK;
}

static int opt_fault(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)id;
    struct fault_rule r;
    if (fault_parse(v, &r, why, n) < 0)
        return CMDLINE_BAD;
    if (c->n_faults == TARGET_MAX_FAULTS) {
        snprintf(why, n, "is one rule too many (expected at most %d)", TARGET_MAX_FAULTS);
        return CMDLINE_BAD;
    }
    c->faults[c->n_faults++] = v;
    return CMDLINE_OK;
}

static int opt_flag(void *ctx, int id, char *v, char *why, size_t n)
{
    struct target_config *c = &((struct main_opts *)ctx)->cfg;
    (void)v;
    (void)why;
    (void)n;
    *(id == OPT_ALLOW_REMOTE ? &c->allow_remote : id == OPT_PLAIN ? &c->plain : &c->quiet) = true;
    return CMDLINE_OK;
}

/* The options, in --help order: name, id, takes a value, repeatable, one-letter form,
 * handler. */
static const struct cmdline_opt target_opts[] = {
    {"listen", OPT_LISTEN, true, false, 0, opt_listen},
    {"allow-remote", OPT_ALLOW_REMOTE, false, false, 0, opt_flag},
    {"tls-cert", OPT_TLS_CERT, true, false, 0, opt_tls_file},
    {"tls-key", OPT_TLS_KEY, true, false, 0, opt_tls_file},
    {"plain", OPT_PLAIN, false, false, 0, opt_flag},
    {"tls-min", OPT_TLS_MIN, true, false, 0, opt_tls_min},
    {"api-key", OPT_API_KEY, true, true, 0, opt_api_key},
    {"api-key-file", OPT_API_KEY_FILE, true, true, 0, opt_api_key_file},
    {"db", OPT_DB, true, false, 0, opt_db},
    {"rate-limit", OPT_RATE_LIMIT, true, false, 0, opt_rate_limit},
    {"seed-agents", OPT_SEED_AGENTS, true, false, 0, opt_count},
    {"seed-certs", OPT_SEED_CERTS, true, false, 0, opt_count},
    {"seed-host-targets", OPT_SEED_HOST_TARGETS, true, false, 0, opt_count},
    {"fleet-prefix", OPT_FLEET_PREFIX, true, false, 0, opt_fleet_prefix},
    {"seed", OPT_SEED, true, false, 0, opt_seed},
    {"os-mix", OPT_OS_MIX, true, false, 0, opt_os_mix},
    {"bulk-clamp", OPT_BULK_CLAMP, true, false, 0, opt_bulk_clamp},
    {"acme-orders-per-hour", OPT_ACME_ORDERS, true, false, 0, opt_count},
    {"acme-active-orders", OPT_ACME_ACTIVE, true, false, 0, opt_count},
    {"acme-profile", OPT_ACME_PROFILE, true, false, 0, opt_acme_profile},
    {"fault", OPT_FAULT, true, true, 0, opt_fault},
    {"quiet", OPT_QUIET, false, false, 'q', opt_flag},
};

static const struct cmdline_spec target_cmdline = {
    PROG, target_opts, sizeof target_opts / sizeof target_opts[0], true, NULL};

/* Returns 0 to run, 1 when --help/--version was answered, or -EXIT_STATUS_USAGE with the
 * line printed on stderr. */
static int parse_args(int argc, char **argv, struct main_opts *o)
{
    struct cmdline_result res;
    char err[512];
    if (cmdline_parse(&target_cmdline, argc, argv, o, &res, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -EXIT_STATUS_USAGE;
    }
    if (res.action == CMDLINE_ACTION_HELP)
        fputs(usage_text, stdout);
    else if (res.action == CMDLINE_ACTION_VERSION)
        printf(PROG " %s\n", PACKAGE_VERSION);
    return res.action == CMDLINE_ACTION_RUN ? 0 : 1;
}

/* certctl's own server variable: comma-separated shared keys. */
static int keys_from_env(struct main_opts *o)
{
    const char *env = getenv("CERTCTL_AUTH_SECRET");
    if (!env || !*env)
        return 0;
    char why[160] = "could not be read: out of memory";
    char *copy = strdup(env), *save = NULL;
    int rc = copy ? CMDLINE_OK : CMDLINE_BAD;
    for (char *k = copy ? strtok_r(copy, ",", &save) : NULL; k && rc == CMDLINE_OK;
         k = strtok_r(NULL, ",", &save)) {
        while (*k == ' ')
            k++;
        size_t len = strlen(k);
        while (len && k[len - 1] == ' ')
            k[--len] = '\0';
        if (len)
            rc = add_key(o, k, why, sizeof why);
    }
    if (copy)
        memset(copy, 0, strlen(env));
    free(copy);
    if (rc == CMDLINE_OK)
        return 0;
    char line[512];
    parse_error_line(line, sizeof line, PROG, "CERTCTL_AUTH_SECRET", NULL, why);
    fprintf(stderr, "%s\n", line);
    return -EXIT_STATUS_USAGE;
}

/* Writes the generated key into a private file so the user can pass --api-key-file. */
static int write_key_file(struct main_opts *o, const char *key)
{
    snprintf(o->key_file_dir, sizeof o->key_file_dir, "/tmp/fleetsim-target-key.XXXXXX");
    if (!mkdtemp(o->key_file_dir)) {
        o->key_file_dir[0] = '\0';
        return -errno;
    }
    snprintf(o->key_file, sizeof o->key_file, "%s/api-key", o->key_file_dir);
    mode_t old = umask(077);
    FILE *f = fopen(o->key_file, "w");
    umask(old);
    if (!f || fprintf(f, "%s\n", key) < 0 || fclose(f) != 0) {
        o->key_file[0] = '\0';
        return -EIO;
    }
    return 0;
}

static void cleanup(struct main_opts *o)
{
    for (size_t i = 0; i < o->n_keys; i++)
        parse_secret_free(o->keys[i]);
    parse_secret_free(o->db_url);
    if (o->key_file[0])
        unlink(o->key_file);
    if (o->key_file_dir[0])
        rmdir(o->key_file_dir);
}

static int serve(struct main_opts *o)
{
    char err[512];
    struct target *t = target_new(&o->cfg, err, sizeof err);
    if (!t) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_STATUS_FAILED;
    }
    if (target_catch_signals(t) < 0) {
        fprintf(stderr, PROG ": cannot catch SIGINT/SIGTERM\n");
        target_free(t);
        return EXIT_STATUS_FAILED;
    }
    if (o->n_keys == 0) {
        if (write_key_file(o, target_api_key(t)) < 0) {
            fprintf(stderr, PROG ": cannot write the generated API key file\n");
            target_free(t);
            return EXIT_STATUS_FAILED;
        }
        printf(PROG ": API key generated into %s (use --api-key-file %s)\n", o->key_file,
               o->key_file);
    }
    if (target_ca_path(t))
        printf(PROG ": CA certificate in %s (use --cacert %s)\n", target_ca_path(t),
               target_ca_path(t));
    const char *host = target_host(t);
    bool v6 = strchr(host, ':') != NULL;
    printf(PROG ": listening on %s://%s%s%s:%u\n", target_is_tls(t) ? "https" : "http",
           v6 ? "[" : "", host, v6 ? "]" : "", (unsigned)target_port(t));
    fflush(stdout);
    int rc = target_run(t);
    target_free(t);
    if (!o->cfg.quiet)
        fprintf(stderr, PROG ": stopped\n");
    return rc < 0 ? EXIT_STATUS_FAILED : EXIT_STATUS_OK;
}

int main(int argc, char **argv)
{
    static struct main_opts o;
    snprintf(o.listen_host, sizeof o.listen_host, "%s", TARGET_DEFAULT_HOST);
    target_config_defaults(&o.cfg);
    int prc = parse_args(argc, argv, &o);
    for (size_t i = 0; i < o.n_scrub; i++)
        if (o.scrub[i])
            memset(o.scrub[i], 'x', strlen(o.scrub[i]));
    if (prc == 0 && o.n_keys == 0)
        prc = keys_from_env(&o);
    if (prc != 0) {
        cleanup(&o);
        return prc > 0 ? EXIT_STATUS_OK : EXIT_STATUS_USAGE;
    }
    o.cfg.listen_host = o.listen_host;
    o.cfg.n_api_keys = o.n_keys;
    char err[512];
    if (target_config_check(&o.cfg, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        cleanup(&o);
        return EXIT_STATUS_USAGE;
    }
    int rc = serve(&o);
    cleanup(&o);
    return rc;
}
