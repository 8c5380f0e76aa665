/* src/cmd_seed.c - `fleetsim seed` (see cmd_seed.h): its option table (engine/cmdline.h, values
 * checked with engine/parse.h), the plan for --dry-run (without connecting), seed_run_db and
 * the outcome as an exit code. */
#include "src/cmd_seed.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cmdline.h"
#include "engine/exit_status.h"
#include "engine/parse.h"
#include "seed/seed.h"
#include "src/help.h"

#define SEED_PROG "fleetsim seed"
#define SEED_ERR_MAX 1024

struct seed_cmd {
    struct seed_options o;
    const char *db;
    bool dry_run, quiet, reset, clean;
};

enum seed_opt {
    SEED_OPT_DB = 0,
    SEED_OPT_AGENTS,
    SEED_OPT_CERTS,
    SEED_OPT_PREFIX,
    SEED_OPT_SEED,
    SEED_OPT_OS_MIX,
    SEED_OPT_EXPIRY,
    SEED_OPT_ISSUER,
    SEED_OPT_HOST_TARGETS,
    SEED_OPT_RESET,
    SEED_OPT_CLEAN,
    SEED_OPT_DRY_RUN,
    SEED_OPT_QUIET,
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
    "  --host-targets PCT       percent of targets (spread evenly) whose config carries\n"
    "                           {\"host\",\"port\"}, so agents verify deployments to them\n"
    "                           (default 0: every config is {})\n"
    "  --reset                  seeded certificates back as seeded; their jobs and versions\n"
    "                           removed\n"
    "  --clean                  remove the fleet's rows and what runs derived from them\n"
    "  --dry-run                print the plan; do not connect\n"
    "  -q, --quiet              print nothing on success\n"
    "  -h, --help               this text\n"
    "  -V, --version            fleetsim's and its libraries' versions\n"
    "\n"
    "Exit status: 0 done; 1 the database work failed (unreachable, authentication, missing\n"
    "tables or issuer, permissions); 2 bad options.\n";

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

static int opt_db(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    (void)id;
    char shown[16];
    if (seed_redact_db(arg, shown, sizeof shown) != 0) {
        snprintf(reason, n,
                 "is not a postgresql:// URL or libpq key=value connection string (expected "
                 "postgresql://USER@HOST:PORT/DB or key=value pairs)");
        return CMDLINE_BAD_HIDDEN;
    }
    char *copy = strdup(arg);
    if (copy == NULL) {
        snprintf(reason, n, "could not be stored: out of memory");
        return CMDLINE_BAD_HIDDEN;
    }
    hide_password(arg);
    free((char *)cmd->db);
    cmd->db = copy;
    return CMDLINE_OK;
}

static int opt_count(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    uint32_t *out = id == SEED_OPT_AGENTS ? &cmd->o.agents : &cmd->o.certs;
    return parse_count_u32(arg, 0, SEED_MAX_COUNT, out, reason, n) ? CMDLINE_BAD : CMDLINE_OK;
}

static int opt_prefix(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    (void)id;
    if (identity_prefix_check(arg) != 0) {
        snprintf(reason, n,
                 "is not a valid fleet prefix (expected [a-z][a-z0-9]{0,23}: a lower-case "
                 "letter, then up to 23 lower-case letters or digits)");
        return CMDLINE_BAD;
    }
    cmd->o.prefix = arg;
    return CMDLINE_OK;
}

static int opt_seed(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    (void)id;
    return parse_count_u64(arg, 0, UINT64_MAX, &cmd->o.run_seed, reason, n) ? CMDLINE_BAD
                                                                            : CMDLINE_OK;
}

static int opt_os_mix(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    (void)id;
    return parse_os_mix(arg, cmd->o.os_mix.pct, reason, n) ? CMDLINE_BAD : CMDLINE_OK;
}

/* --expiry-window FROM-TO: two durations, FROM <= TO. */
static int opt_window(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    (void)id;
    const char *dash = strchr(arg, '-');
    char from[64];
    if (dash == NULL || (size_t)(dash - arg) >= sizeof from) {
        snprintf(reason, n, "is not a window (expected FROM-TO, e.g. 32d-90d)");
        return CMDLINE_BAD;
    }
    memcpy(from, arg, (size_t)(dash - arg));
    from[dash - arg] = '\0';
    uint64_t from_ns, to_ns;
    if (parse_duration_ns(from, 0, PARSE_DURATION_MAX_NS, &from_ns, reason, n) != 0 ||
        parse_duration_ns(dash + 1, 0, PARSE_DURATION_MAX_NS, &to_ns, reason, n) != 0)
        return CMDLINE_BAD;
    if (from_ns > to_ns) {
        snprintf(reason, n, "starts after it ends (expected FROM <= TO)");
        return CMDLINE_BAD;
    }
    cmd->o.expiry_from_s = from_ns / 1000000000ull;
    cmd->o.expiry_to_s = to_ns / 1000000000ull;
    return CMDLINE_OK;
}

static int opt_issuer(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    (void)id;
    (void)reason;
    (void)n;
    cmd->o.issuer_id = arg; /* checked with the other options by seed_options_check */
    return CMDLINE_OK;
}

static int opt_host_targets(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    (void)id;
    return parse_count_u32(arg, 0, 100, &cmd->o.host_targets_pct, reason, n) ? CMDLINE_BAD
                                                                             : CMDLINE_OK;
}

static int opt_flag(void *ctx, int id, char *arg, char *reason, size_t n)
{
    struct seed_cmd *cmd = ctx;
    (void)arg;
    (void)reason;
    (void)n;
    bool *flag = id == SEED_OPT_RESET     ? &cmd->reset
                 : id == SEED_OPT_CLEAN   ? &cmd->clean
                 : id == SEED_OPT_DRY_RUN ? &cmd->dry_run
                                          : &cmd->quiet;
    *flag = true;
    return CMDLINE_OK;
}

/* The options, in --help order: name, id, takes a value, repeatable, one-letter form,
 * handler. */
static const struct cmdline_opt seed_opts[] = {
    {"db", SEED_OPT_DB, true, false, 0, opt_db},
    {"agents", SEED_OPT_AGENTS, true, false, 0, opt_count},
    {"certs", SEED_OPT_CERTS, true, false, 0, opt_count},
    {"fleet-prefix", SEED_OPT_PREFIX, true, false, 0, opt_prefix},
    {"seed", SEED_OPT_SEED, true, false, 0, opt_seed},
    {"os-mix", SEED_OPT_OS_MIX, true, false, 0, opt_os_mix},
    {"expiry-window", SEED_OPT_EXPIRY, true, false, 0, opt_window},
    {"issuer-id", SEED_OPT_ISSUER, true, false, 0, opt_issuer},
    {"host-targets", SEED_OPT_HOST_TARGETS, true, false, 0, opt_host_targets},
    {"reset", SEED_OPT_RESET, false, false, 0, opt_flag},
    {"clean", SEED_OPT_CLEAN, false, false, 0, opt_flag},
    {"dry-run", SEED_OPT_DRY_RUN, false, false, 0, opt_flag},
    {"quiet", SEED_OPT_QUIET, false, false, 'q', opt_flag},
};

static const struct cmdline_spec seed_cmdline = {
    SEED_PROG, seed_opts, sizeof seed_opts / sizeof seed_opts[0], true, NULL};

/* Parses the command line into cmd, then checks the options together. Returns 0 or
 * EXIT_STATUS_USAGE with the line printed on stderr. */
static int parse_args(struct seed_cmd *cmd, int argc, char **argv, struct cmdline_result *res)
{
    char err[SEED_ERR_MAX];
    if (cmdline_parse(&seed_cmdline, argc, argv, cmd, res, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return EXIT_STATUS_USAGE;
    }
    if (res->action != CMDLINE_ACTION_RUN)
        return 0;
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

/* Prints the plan (--dry-run) or does the database work. Returns the exit code. */
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

int cmd_seed_main(int argc, char **argv)
{
    struct seed_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    seed_options_default(&cmd.o);
    struct cmdline_result res;
    int rc = parse_args(&cmd, argc, argv, &res);
    if (rc == 0 && res.action == CMDLINE_ACTION_HELP)
        fputs(usage_text, stdout);
    else if (rc == 0 && res.action == CMDLINE_ACTION_VERSION)
        help_print_version(stdout);
    else if (rc == 0)
        rc = run(&cmd);
    fflush(stdout);
    free((char *)cmd.db);
    return rc;
}
