/* seed/seed_cmd.c - `fleetsim seed`: parses the options (engine/parse.h), prints the plan for
 * --dry-run (without connecting), runs seed_run_db and maps the outcome to an exit code. */
#include "seed/seed_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exit_status.h"
#include "engine/parse.h"
#include "seed/seed.h"

#define SEED_PROG "fleetsim seed"
#define SEED_ERR_MAX 1024

struct seed_cmd {
    struct seed_options o;
    const char *db;
    bool dry_run, quiet, help, reset, clean;
};

enum {
    OPT_DB = 256,
    OPT_AGENTS,
    OPT_CERTS,
    OPT_PREFIX,
    OPT_SEED,
    OPT_OS_MIX,
    OPT_EXPIRY,
    OPT_ISSUER,
    OPT_RESET,
    OPT_CLEAN,
    OPT_DRY_RUN,
};

static const struct option long_options[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"agents", required_argument, NULL, OPT_AGENTS},
    {"certs", required_argument, NULL, OPT_CERTS},
    {"fleet-prefix", required_argument, NULL, OPT_PREFIX},
    {"seed", required_argument, NULL, OPT_SEED},
    {"os-mix", required_argument, NULL, OPT_OS_MIX},
    {"expiry-window", required_argument, NULL, OPT_EXPIRY},
    {"issuer-id", required_argument, NULL, OPT_ISSUER},
    {"reset", no_argument, NULL, OPT_RESET},
    {"clean", no_argument, NULL, OPT_CLEAN},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "Usage: fleetsim seed [--db URL] [OPTIONS]\n"
    "Creates the simulated fleet in certctl's PostgreSQL database (idempotent: a re-run creates\n"
    "nothing new), resets it for a rerun (--reset) or removes it (--clean). One transaction:\n"
    "on any failure the database is left unchanged.\n"
    "\n"
    "  --db URL                 postgresql://user@host:port/db URL or libpq key=value string\n"
    "                           (default $DATABASE_URL, else libpq's PGHOST, PGPORT, PGUSER,\n"
    "                           PGDATABASE); pass the password in PGPASSWORD or ~/.pgpass\n"
    "  --agents N               agents ag-PREFIX-00001.. (default 5000), one NGINX target each\n"
    "  --certs N                certificates mc-PREFIX-00001.. (default 10000), each mapped to\n"
    "                           the target of agent ((j-1) mod agents)+1\n"
    "  --fleet-prefix NAME      [a-z][a-z0-9]{0,23} (default loadtest)\n"
    "  --seed N                 seeds the OS mix draw and the expiry spread (default 1)\n"
    "  --os-mix L/W/D           linux/windows/darwin percentages (default 80/10/10)\n"
    "  --expiry-window FROM-TO  certificates expire FROM..TO from now (default 32d-90d;\n"
    "                           0d-30d reproduces certctl's k6 fixture)\n"
    "  --issuer-id ID           existing issuer of the certificates (default iss-local)\n"
    "  --reset                  seeded certificates back as seeded; their jobs and versions\n"
    "                           removed\n"
    "  --clean                  remove the fleet's rows and what runs derived from them\n"
    "  --dry-run                print the plan; do not connect\n"
    "  -q, --quiet              print nothing on success\n"
    "  -h, --help               this text\n"
    "\n"
    "Exit status: 0 done; 1 the database work failed (unreachable, authentication, missing\n"
    "tables or issuer, permissions); 2 bad options.\n";

static int usage_error(const char *option, const char *value, const char *reason)
{
    char line[SEED_ERR_MAX];
    parse_error_line(line, sizeof line, SEED_PROG, option, value, reason);
    fprintf(stderr, "%s\n", line);
    return EXIT_STATUS_USAGE;
}

static int parse_window(const char *s, struct seed_options *o)
{
    const char *dash = strchr(s, '-');
    char from[64], reason[256];
    if (dash == NULL || (size_t)(dash - s) >= sizeof from)
        return usage_error("--expiry-window", s, "is not FROM-TO (e.g. 32d-90d)");
    memcpy(from, s, (size_t)(dash - s));
    from[dash - s] = '\0';
    uint64_t from_ns, to_ns;
    if (parse_duration_ns(from, 0, PARSE_DURATION_MAX_NS, &from_ns, reason, sizeof reason) != 0 ||
        parse_duration_ns(dash + 1, 0, PARSE_DURATION_MAX_NS, &to_ns, reason, sizeof reason) != 0)
        return usage_error("--expiry-window", s, reason);
    if (from_ns > to_ns)
        return usage_error("--expiry-window", s, "starts after it ends (expected FROM <= TO)");
    o->expiry_from_s = from_ns / 1000000000ull;
    o->expiry_to_s = to_ns / 1000000000ull;
    return 0;
}

/* Overwrites the value of --db in argv when it carries a password, so ps does not show it. */
static void hide_password(char *value)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(value, &errmsg);
    PQfreemem(errmsg);
    if (opts == NULL)
        return;
    bool has_password = false;
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0')
            has_password = true;
    PQconninfoFree(opts);
    if (has_password)
        memset(value, '*', strlen(value));
}

static int parse_one(struct seed_cmd *cmd, int c, char *arg)
{
    char reason[256];
    switch (c) {
    case OPT_DB: {
        char shown[16];
        if (seed_redact_db(arg, shown, sizeof shown) != 0)
            return usage_error("--db", NULL,
                               "is not a postgresql:// URL or libpq key=value "
                               "connection string");
        char *copy = strdup(arg);
        if (copy == NULL)
            return usage_error("--db", NULL, "out of memory");
        hide_password(arg);
        free((char *)cmd->db);
        cmd->db = copy;
        return 0;
    }
    case OPT_AGENTS:
        return parse_count_u32(arg, 0, SEED_MAX_COUNT, &cmd->o.agents, reason, sizeof reason)
                   ? usage_error("--agents", arg, reason)
                   : 0;
    case OPT_CERTS:
        return parse_count_u32(arg, 0, SEED_MAX_COUNT, &cmd->o.certs, reason, sizeof reason)
                   ? usage_error("--certs", arg, reason)
                   : 0;
    case OPT_PREFIX:
        if (identity_prefix_check(arg) != 0)
            return usage_error("--fleet-prefix", arg,
                               "is not a valid fleet prefix (expected [a-z][a-z0-9]{0,23}: "
                               "a lower-case letter, then up to 23 lower-case letters or digits)");
        cmd->o.prefix = arg;
        return 0;
    case OPT_SEED:
        return parse_count_u64(arg, 0, UINT64_MAX, &cmd->o.run_seed, reason, sizeof reason)
                   ? usage_error("--seed", arg, reason)
                   : 0;
    case OPT_OS_MIX:
        return parse_os_mix(arg, cmd->o.os_mix.pct, reason, sizeof reason)
                   ? usage_error("--os-mix", arg, reason)
                   : 0;
    case OPT_EXPIRY:
        return parse_window(arg, &cmd->o);
    case OPT_ISSUER:
        cmd->o.issuer_id = arg;
        return 0;
    case OPT_RESET:
        cmd->reset = true;
        return 0;
    case OPT_CLEAN:
        cmd->clean = true;
        return 0;
    case OPT_DRY_RUN:
        cmd->dry_run = true;
        return 0;
    case 'q':
        cmd->quiet = true;
        return 0;
    case 'h':
        cmd->help = true;
        return 0;
    default:
        return EXIT_STATUS_USAGE;
    }
}

static int parse_args(struct seed_cmd *cmd, int argc, char **argv)
{
    opterr = 0;
    optind = 0; /* GNU: full re-initialisation, the caller may have used getopt already */
    for (;;) {
        int idx = 0;
        int c = getopt_long(argc, argv, ":qh", long_options, &idx);
        if (c == -1)
            break;
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            fprintf(stderr, "%s: %s: %s (see fleetsim seed --help)\n", SEED_PROG, bad,
                    c == ':' ? "needs a value" : "unknown option");
            return EXIT_STATUS_USAGE;
        }
        int rc = parse_one(cmd, c, optarg);
        if (rc != 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%.64s\" (see fleetsim seed --help)\n", SEED_PROG,
                argv[optind]);
        return EXIT_STATUS_USAGE;
    }
    if (cmd->reset && cmd->clean) {
        fprintf(stderr, "%s: --reset and --clean exclude each other\n", SEED_PROG);
        return EXIT_STATUS_USAGE;
    }
    cmd->o.action =
        cmd->clean ? SEED_ACTION_CLEAN : (cmd->reset ? SEED_ACTION_RESET : SEED_ACTION_CREATE);
    char reason[256];
    if (seed_options_check(&cmd->o, reason, sizeof reason) != 0) {
        fprintf(stderr, "%s: %s\n", SEED_PROG, reason);
        return EXIT_STATUS_USAGE;
    }
    return 0;
}

static int run(struct seed_cmd *cmd)
{
    if (cmd->dry_run) {
        char shown[512];
        seed_redact_db(cmd->db, shown, sizeof shown);
        seed_print_plan(stdout, &cmd->o, shown);
        return EXIT_STATUS_OK;
    }
    struct seed_result res;
    char err[SEED_ERR_MAX] = "";
    int rc = seed_run_db(cmd->db, &cmd->o, &res, err, sizeof err);
    if (rc == -EINVAL) {
        fprintf(stderr, "%s: %s\n", SEED_PROG, err);
        return EXIT_STATUS_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s (nothing was changed)\n", SEED_PROG, err);
        return EXIT_STATUS_FAILED;
    }
    if (!cmd->quiet)
        seed_print_result(stdout, &cmd->o, &res);
    return EXIT_STATUS_OK;
}

int seed_cmd_main(int argc, char **argv)
{
    struct seed_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    seed_options_default(&cmd.o);
    int rc = parse_args(&cmd, argc, argv);
    if (rc == 0 && cmd.help)
        fputs(usage_text, stdout);
    else if (rc == 0)
        rc = run(&cmd);
    fflush(stdout);
    free((char *)cmd.db);
    return rc;
}
