/* refserver/main.c - the fleetsim-target program: parses DESIGN §7's options (one-line
 * errors, exit 2), scrubs API keys from argv, starts the target in the foreground, prints where
 * it listens (and where the generated CA and API key are), and stops cleanly on SIGINT/SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "engine/exit_status.h"
#include "engine/parse.h"
#include "refserver/fault.h"
#include "refserver/server.h"

#define PROG "fleetsim-target"
#define KEY_BUF_LEN (TARGET_API_KEY_MAX + 2)
#define MAX_COUNT 10000000u

enum opt_id {
    OPT_LISTEN = 256,
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
    OPT_FLEET_PREFIX,
    OPT_SEED,
    OPT_OS_MIX,
    OPT_BULK_CLAMP,
    OPT_ACME_ORDERS,
    OPT_ACME_ACTIVE,
    OPT_ACME_PROFILE,
    OPT_FAULT,
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"plain", no_argument, NULL, OPT_PLAIN},
    {"api-key", required_argument, NULL, OPT_API_KEY},
    {"api-key-file", required_argument, NULL, OPT_API_KEY_FILE},
    {"db", required_argument, NULL, OPT_DB},
    {"rate-limit", required_argument, NULL, OPT_RATE_LIMIT},
    {"seed-agents", required_argument, NULL, OPT_SEED_AGENTS},
    {"seed-certs", required_argument, NULL, OPT_SEED_CERTS},
    {"fleet-prefix", required_argument, NULL, OPT_FLEET_PREFIX},
    {"seed", required_argument, NULL, OPT_SEED},
    {"os-mix", required_argument, NULL, OPT_OS_MIX},
    {"bulk-clamp", required_argument, NULL, OPT_BULK_CLAMP},
    {"acme-orders-per-hour", required_argument, NULL, OPT_ACME_ORDERS},
    {"acme-active-orders", required_argument, NULL, OPT_ACME_ACTIVE},
    {"acme-profile", required_argument, NULL, OPT_ACME_PROFILE},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "Usage: " PROG " [OPTIONS]\n"
    "A certctl-compatible reference server for fleetsim (HTTPS by default).\n"
    "\n"
    "  --listen ADDR:PORT        listen address (default 127.0.0.1:8443; port 0 = any)\n"
    "  --allow-remote            permit a non-loopback listen address\n"
    "  --tls-cert FILE --tls-key FILE   serve this certificate (default: generate a CA\n"
    "                            and a certificate for 127.0.0.1/localhost)\n"
    "  --plain                   plain HTTP instead of HTTPS\n"
    "  --api-key KEY             accepted Bearer key (repeatable; removed from argv)\n"
    "  --api-key-file FILE       read one key from the first line of FILE (repeatable)\n"
    "                            (neither: env CERTCTL_AUTH_SECRET, comma-separated; else a\n"
    "                            key is generated into a file whose path is printed)\n"
    "  --db URL                  certctl's tables in PostgreSQL (default: in memory)\n"
    "  --rate-limit N/s|off      per-client-IP limit, burst 2 x N (default 50/s)\n"
    "  --seed-agents N           seed agents ag-PREFIX-00001.. with one target each\n"
    "  --seed-certs N            seed certificates mapped round-robin to the agents\n"
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
    "  -h, --help                this text        -V, --version   the version\n"
    "\n"
    "Endpoint names: heartbeat work csr job_status cert_fetch register bulk_renew\n"
    "cert_list acme_directory acme_nonce acme_account acme_order acme_authz\n"
    "acme_challenge acme_finalize acme_cert acme_renewal_info health agent_retire\n"
    "cert_create cert_get job_get profile_create other. GET /_target/stats (loopback\n"
    "clients only) returns the counts as JSON. SIGINT/SIGTERM stop it (exit 0).\n";

struct main_opts {
    struct target_config cfg;
    char *keys[TARGET_MAX_API_KEYS]; /* owned copies */
    size_t n_keys;
    char *scrub[2 * TARGET_MAX_API_KEYS + 2]; /* argv bytes to overwrite */
    size_t n_scrub;
    char *db_url; /* owned copy (argv's is scrubbed) */
    char key_file_dir[64];
    char key_file[96];
};

static int usage_error(const char *option, const char *value, const char *reason)
{
    char line[512];
    parse_error_line(line, sizeof line, PROG, option, value, reason);
    fprintf(stderr, "%s\n", line);
    return -EXIT_STATUS_USAGE;
}

static int add_key(struct main_opts *o, const char *key, const char *option)
{
    if (o->n_keys == TARGET_MAX_API_KEYS)
        return usage_error(option, NULL, "too many API keys (at most 16)");
    size_t len = strlen(key);
    if (len == 0 || len > TARGET_API_KEY_MAX)
        return usage_error(option, NULL, "is empty or longer than 256 bytes");
    o->keys[o->n_keys] = strdup(key);
    if (!o->keys[o->n_keys])
        return usage_error(option, NULL, "out of memory");
    o->cfg.api_keys[o->n_keys] = o->keys[o->n_keys];
    o->n_keys++;
    return 0;
}

static int opt_count(const char *name, const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
    char why[160];
    if (parse_count_u32(v, min, max, out, why, sizeof why) < 0)
        return usage_error(name, v, why);
    return 0;
}

static int opt_on_off(const char *name, const char *v, bool *out)
{
    if (strcmp(v, "on") == 0)
        *out = true;
    else if (strcmp(v, "off") == 0)
        *out = false;
    else
        return usage_error(name, v, "is not on or off");
    return 0;
}

static int opt_value(struct main_opts *o, int id, char *v, char *listen_host, size_t hostlen)
{
    struct target_config *c = &o->cfg;
    char why[200];
    switch (id) {
    case OPT_LISTEN: {
        struct parsed_listen pl;
        if (parse_listen_addr(v, &pl, why, sizeof why) < 0)
            return usage_error("--listen", v, why);
        snprintf(listen_host, hostlen, "%s", pl.host);
        c->port = pl.port;
        return 0;
    }
    case OPT_TLS_CERT:
    case OPT_TLS_KEY:
        if (parse_readable_file(v, why, sizeof why) < 0)
            return usage_error(id == OPT_TLS_CERT ? "--tls-cert" : "--tls-key", v, why);
        *(id == OPT_TLS_CERT ? &c->tls_cert_file : &c->tls_key_file) = v;
        return 0;
    case OPT_API_KEY:
        if (o->n_scrub < sizeof o->scrub / sizeof o->scrub[0])
            o->scrub[o->n_scrub++] = v;
        return add_key(o, v, "--api-key");
    case OPT_API_KEY_FILE: {
        char key[KEY_BUF_LEN];
        if (parse_read_first_line(v, key, sizeof key, why, sizeof why) < 0)
            return usage_error("--api-key-file", v, why);
        int rc = add_key(o, key, "--api-key-file");
        memset(key, 0, sizeof key);
        return rc;
    }
    case OPT_DB:
        free(o->db_url);
        o->db_url = strdup(v);
        if (!o->db_url)
            return usage_error("--db", NULL, "out of memory");
        c->db_url = o->db_url;
        if (strchr(v, '@') && o->n_scrub < sizeof o->scrub / sizeof o->scrub[0])
            o->scrub[o->n_scrub++] = v; /* user[:password]@: keep it out of ps */
        return 0;
    case OPT_RATE_LIMIT:
        if (strcmp(v, "off") == 0) {
            c->rate_per_s = 0.0;
        } else {
            if (parse_rate_per_s(v, 0.001, 1e9, &c->rate_per_s, why, sizeof why) < 0)
                return usage_error("--rate-limit", v, why);
        }
        c->burst = 0.0; /* 2 x rate, as certctl's defaults (50/s, burst 100) */
        return 0;
    case OPT_SEED_AGENTS:
        return opt_count("--seed-agents", v, 0, MAX_COUNT, &c->seed_agents);
    case OPT_SEED_CERTS:
        return opt_count("--seed-certs", v, 0, MAX_COUNT, &c->seed_certs);
    case OPT_FLEET_PREFIX:
        if (identity_prefix_check(v) < 0)
            return usage_error("--fleet-prefix", v, "does not match [a-z][a-z0-9]{0,23}");
        c->fleet_prefix = v;
        return 0;
    case OPT_SEED:
        if (parse_count_u64(v, 0, UINT64_MAX, &c->seed, why, sizeof why) < 0)
            return usage_error("--seed", v, why);
        return 0;
    case OPT_OS_MIX:
        if (parse_os_mix(v, c->os_mix.pct, why, sizeof why) < 0)
            return usage_error("--os-mix", v, why);
        return 0;
    case OPT_BULK_CLAMP:
        return opt_on_off("--bulk-clamp", v, &c->bulk_clamp);
    case OPT_ACME_ORDERS:
        return opt_count("--acme-orders-per-hour", v, 1, MAX_COUNT, &c->acme_orders_per_hour);
    case OPT_ACME_ACTIVE:
        return opt_count("--acme-active-orders", v, 1, MAX_COUNT, &c->acme_active_orders);
    case OPT_ACME_PROFILE:
        if (!*v)
            return usage_error("--acme-profile", v, "is empty");
        c->acme_profile_id = v;
        return 0;
    case OPT_FAULT: {
        struct fault_rule r;
        if (fault_parse(v, &r, why, sizeof why) < 0)
            return usage_error("--fault", v, why);
        if (c->n_faults == TARGET_MAX_FAULTS)
            return usage_error("--fault", v, "is one rule too many (at most 32)");
        c->faults[c->n_faults++] = v;
        return 0;
    }
    default:
        return usage_error("", v, "is not an option");
    }
}

/* Returns 0 to run, 1 when --help/--version was answered, or -EXIT_STATUS_USAGE. */
static int parse_args(int argc, char **argv, struct main_opts *o, char *listen_host, size_t hostlen)
{
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":qhV", long_opts, NULL)) != -1) {
        switch (ch) {
        case 'q':
            o->cfg.quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 1;
        case 'V':
            printf(PROG " %s\n", PACKAGE_VERSION);
            return 1;
        case OPT_ALLOW_REMOTE:
            o->cfg.allow_remote = true;
            break;
        case OPT_PLAIN:
            o->cfg.plain = true;
            break;
        case ':':
            return usage_error(argv[optind - 1], NULL, "needs a value");
        case '?':
            return usage_error(argv[optind - 1], NULL, "is not an option (see " PROG " --help)");
        default: {
            int rc = opt_value(o, ch, optarg, listen_host, hostlen);
            if (rc < 0)
                return rc;
        }
        }
    }
    if (optind < argc)
        return usage_error("argument", argv[optind], "is not expected (options only)");
    return 0;
}

/* certctl's own server variable: comma-separated shared keys. */
static int keys_from_env(struct main_opts *o)
{
    const char *env = getenv("CERTCTL_AUTH_SECRET");
    if (!env || !*env)
        return 0;
    char *copy = strdup(env), *save = NULL;
    if (!copy)
        return usage_error("CERTCTL_AUTH_SECRET", NULL, "out of memory");
    int rc = 0;
    for (char *k = strtok_r(copy, ",", &save); k && rc == 0; k = strtok_r(NULL, ",", &save)) {
        while (*k == ' ')
            k++;
        size_t len = strlen(k);
        while (len && k[len - 1] == ' ')
            k[--len] = '\0';
        if (len)
            rc = add_key(o, k, "CERTCTL_AUTH_SECRET");
    }
    memset(copy, 0, strlen(env));
    free(copy);
    return rc;
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
    char listen_host[64] = TARGET_DEFAULT_HOST;
    target_config_defaults(&o.cfg);
    int prc = parse_args(argc, argv, &o, listen_host, sizeof listen_host);
    for (size_t i = 0; i < o.n_scrub; i++)
        if (o.scrub[i])
            memset(o.scrub[i], 'x', strlen(o.scrub[i]));
    if (prc == 0 && o.n_keys == 0)
        prc = keys_from_env(&o);
    if (prc != 0) {
        cleanup(&o);
        return prc > 0 ? EXIT_STATUS_OK : EXIT_STATUS_USAGE;
    }
    o.cfg.listen_host = listen_host;
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
