/* seed/seed.c - seed options and their deterministic values (expiry spread, heartbeat ages),
 * and seed_run: pre-flight checks (tables, columns, privileges) and the one transaction around
 * the chosen action. */
#include "seed/seed.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "seed/seed_internal.h"

/* Mixed into the run seed so certificate expiry draws use their own stream. */
#define SEED_CERT_STREAM_SALT 0x9e3779b97f4a7c15ULL

static const char *const table_names[SEED_T_COUNT] = {
    [SEED_T_TEAMS] = "teams",
    [SEED_T_OWNERS] = "owners",
    [SEED_T_POLICIES] = "renewal_policies",
    [SEED_T_AGENTS] = "agents",
    [SEED_T_TARGETS] = "deployment_targets",
    [SEED_T_CERTS] = "managed_certificates",
    [SEED_T_MAPPINGS] = "certificate_target_mappings",
    [SEED_T_VERSIONS] = "certificate_versions",
    [SEED_T_JOBS] = "jobs",
    [SEED_T_NOTIFICATIONS] = "notification_events",
};

/* A table and one of its columns or privileges. */
struct seed_pair {
    const char *table, *name;
};

/* Tables and columns the seed reads or writes; all come from certctl's migrations. */
static const struct seed_pair required_columns[] = {
    {"teams", "id"},
    {"teams", "name"},
    {"teams", "description"},
    {"owners", "id"},
    {"owners", "name"},
    {"owners", "email"},
    {"owners", "team_id"},
    {"renewal_policies", "id"},
    {"renewal_policies", "name"},
    {"renewal_policies", "renewal_window_days"},
    {"renewal_policies", "auto_renew"},
    {"issuers", "id"},
    {"agents", "id"},
    {"agents", "name"},
    {"agents", "hostname"},
    {"agents", "status"},
    {"agents", "last_heartbeat_at"},
    {"agents", "registered_at"},
    {"agents", "api_key_hash"},
    {"agents", "os"},
    {"agents", "architecture"},
    {"agents", "ip_address"},
    {"agents", "version"},
    {"deployment_targets", "id"},
    {"deployment_targets", "name"},
    {"deployment_targets", "type"},
    {"deployment_targets", "agent_id"},
    {"deployment_targets", "config"},
    {"managed_certificates", "id"},
    {"managed_certificates", "name"},
    {"managed_certificates", "common_name"},
    {"managed_certificates", "sans"},
    {"managed_certificates", "environment"},
    {"managed_certificates", "owner_id"},
    {"managed_certificates", "team_id"},
    {"managed_certificates", "issuer_id"},
    {"managed_certificates", "renewal_policy_id"},
    {"managed_certificates", "status"},
    {"managed_certificates", "expires_at"},
    {"managed_certificates", "tags"},
    {"managed_certificates", "last_renewal_at"},
    {"managed_certificates", "last_deployment_at"},
    {"managed_certificates", "revoked_at"},
    {"managed_certificates", "revocation_reason"},
    {"managed_certificates", "created_at"},
    {"managed_certificates", "updated_at"},
    {"certificate_target_mappings", "certificate_id"},
    {"certificate_target_mappings", "target_id"},
    {"certificate_versions", "certificate_id"},
    {"jobs", "certificate_id"},
    {"jobs", "agent_id"},
    {"jobs", "target_id"},
};

/* Privileges each action needs, per table. */
static const struct seed_pair create_privs[] = {
    {"teams", "INSERT"},
    {"owners", "INSERT"},
    {"renewal_policies", "INSERT"},
    {"issuers", "SELECT"},
    {"agents", "INSERT"},
    {"deployment_targets", "INSERT"},
    {"managed_certificates", "INSERT"},
    {"certificate_target_mappings", "INSERT"},
    {"certificate_target_mappings", "SELECT"},
};
static const struct seed_pair reset_privs[] = {
    {"managed_certificates", "SELECT"},
    {"managed_certificates", "UPDATE"},
    {"jobs", "DELETE"},
    {"jobs", "SELECT"},
    {"certificate_versions", "DELETE"},
    {"certificate_versions", "SELECT"},
};
static const struct seed_pair clean_privs[] = {
    {"jobs", "DELETE"},
    {"certificate_versions", "DELETE"},
    {"certificate_target_mappings", "DELETE"},
    {"deployment_targets", "DELETE"},
    {"managed_certificates", "DELETE"},
    {"agents", "DELETE"},
    {"renewal_policies", "DELETE"},
    {"owners", "DELETE"},
    {"teams", "DELETE"},
    {"managed_certificates", "SELECT"},
    {"agents", "SELECT"},
};

void seed_options_default(struct seed_options *o)
{
    memset(o, 0, sizeof *o);
    o->agents = SEED_DEFAULT_AGENTS;
    o->certs = SEED_DEFAULT_CERTS;
    o->prefix = IDENTITY_DEFAULT_PREFIX;
    o->run_seed = SEED_DEFAULT_RUN_SEED;
    o->os_mix = identity_default_os_mix();
    o->expiry_from_s = SEED_DEFAULT_EXPIRY_FROM_S;
    o->expiry_to_s = SEED_DEFAULT_EXPIRY_TO_S;
    o->issuer_id = SEED_DEFAULT_ISSUER;
    o->action = SEED_ACTION_CREATE;
}

static const char *opt_prefix(const struct seed_options *o)
{
    return o->prefix ? o->prefix : IDENTITY_DEFAULT_PREFIX;
}

static const char *opt_issuer(const struct seed_options *o)
{
    return o->issuer_id ? o->issuer_id : SEED_DEFAULT_ISSUER;
}

int seed_options_check(const struct seed_options *o, char *err, size_t errlen)
{
    const char *prefix = opt_prefix(o);
    const char *issuer = opt_issuer(o);
    if (identity_prefix_check(prefix) != 0) {
        snprintf(err, errlen, "fleet prefix \"%.40s\" is not valid (expected [a-z][a-z0-9]{0,23})",
                 prefix);
        return -EINVAL;
    }
    if (o->agents > SEED_MAX_COUNT || o->certs > SEED_MAX_COUNT) {
        snprintf(err, errlen, "at most %u agents and %u certificates", SEED_MAX_COUNT,
                 SEED_MAX_COUNT);
        return -EINVAL;
    }
    if (o->action == SEED_ACTION_CREATE && o->certs > 0 && o->agents == 0) {
        snprintf(err, errlen, "certificates need agents to be mapped to (--agents is 0)");
        return -EINVAL;
    }
    if (o->expiry_from_s > o->expiry_to_s || o->expiry_to_s > SEED_EXPIRY_MAX_S) {
        snprintf(err, errlen, "expiry window must satisfy FROM <= TO <= 3650d");
        return -EINVAL;
    }
    size_t ilen = strlen(issuer);
    if (ilen == 0 || ilen > SEED_ISSUER_ID_MAX) {
        snprintf(err, errlen, "issuer id must be 1 to %d characters", SEED_ISSUER_ID_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < ilen; i++) {
        unsigned char c = (unsigned char)issuer[i];
        if (c < 0x21 || c == 0x7f) {
            snprintf(err, errlen, "issuer id must not contain spaces or control characters");
            return -EINVAL;
        }
    }
    uint32_t sum = 0;
    for (int i = 0; i < IDENTITY_OS_COUNT; i++)
        sum += o->os_mix.pct[i];
    if (sum != 100) {
        snprintf(err, errlen, "OS mix must add up to 100 (it adds up to %u)", sum);
        return -EINVAL;
    }
    return 0;
}

uint64_t seed_cert_expiry_offset_s(const struct seed_options *o, uint32_t index)
{
    uint64_t state = identity_agent_rng_seed(o->run_seed ^ SEED_CERT_STREAM_SALT, index);
    double u = identity_rng_unit(&state);
    uint64_t span = o->expiry_to_s - o->expiry_from_s;
    uint64_t add = (uint64_t)(u * (double)(span + 1));
    if (add > span)
        add = span;
    return o->expiry_from_s + add;
}

uint32_t seed_agent_heartbeat_age_ms(const struct seed_options *o, uint32_t index)
{
    if (o->agents == 0 || index == 0)
        return 0;
    return (uint32_t)(((uint64_t)(index - 1) % o->agents) * SEED_HEARTBEAT_SPREAD_MS / o->agents);
}

const char *seed_table_name(enum seed_table t)
{
    return (t >= 0 && t < SEED_T_COUNT) ? table_names[t] : "?";
}

/* Builds "{a,b,c}" array literals from n strings taken at stride from base. */
static int array_literal(char *buf, size_t n, const char *const *items, size_t count)
{
    size_t used = 0;
    int len = snprintf(buf, n, "{");
    used = (size_t)len;
    for (size_t i = 0; i < count; i++) {
        len = snprintf(buf + used, n - used, "%s%s", i ? "," : "", items[i]);
        if (len < 0 || (size_t)len >= n - used)
            return -1;
        used += (size_t)len;
    }
    if (used + 2 > n)
        return -1;
    buf[used++] = '}';
    buf[used] = '\0';
    return 0;
}

/* The tables and the names of n pairs as two "{...}" array literals (sizes tn, nn). */
static int pair_literals(const struct seed_pair *pairs, size_t n, char *tables, size_t tn,
                         char *names, size_t nn)
{
    enum { MAX_PAIRS = 64 };
    const char *t[MAX_PAIRS], *v[MAX_PAIRS];
    if (n > MAX_PAIRS)
        return -1;
    for (size_t i = 0; i < n; i++) {
        t[i] = pairs[i].table;
        v[i] = pairs[i].name;
    }
    return array_literal(tables, tn, t, n) == 0 && array_literal(names, nn, v, n) == 0 ? 0 : -1;
}

/* Runs sql (what names it in errors) with params, whose one value lists what the database lacks
 * (NULL when nothing): 0, or the failure "<lead><s> <list>: <advice>" (s when several). */
static int check_none_missing(struct seed_ctx *ctx, const char *what, const char *sql, int nparams,
                              const char *const *params, const char *lead, const char *advice)
{
    PGresult *r = NULL;
    int rc = seed_sql(ctx, what, sql, nparams, params, NULL, &r);
    if (rc != 0)
        return rc;
    if (!PQgetisnull(r, 0, 0)) {
        const char *missing = PQgetvalue(r, 0, 0);
        rc = seed_fail(ctx, "%s%s %s: %s", lead, strchr(missing, ',') ? "s" : "", missing, advice);
    }
    PQclear(r);
    return rc;
}

static int check_tables(struct seed_ctx *ctx)
{
    const char *names[SEED_T_COUNT + 1];
    size_t k = 0;
    for (int t = 0; t < SEED_T_COUNT; t++)
        if (t != SEED_T_NOTIFICATIONS)
            names[k++] = table_names[t];
    names[k++] = "issuers";
    char arr[1024];
    if (array_literal(arr, sizeof arr, names, k) != 0)
        return seed_fail(ctx, "internal error: table list too long");
    const char *params[] = {arr};
    return check_none_missing(ctx, "checking certctl's tables",
                              "SELECT string_agg(t, ', ' ORDER BY t) FROM unnest($1::text[]) AS t "
                              "WHERE to_regclass(t) IS NULL",
                              1, params, "the database has no table",
                              "run certctl's migrations first (fleetsim seed writes into "
                              "certctl's schema)");
}

static int check_columns(struct seed_ctx *ctx)
{
    char ta[4096], ca[4096];
    if (pair_literals(required_columns, sizeof required_columns / sizeof required_columns[0], ta,
                      sizeof ta, ca, sizeof ca) != 0)
        return seed_fail(ctx, "internal error: column list too long");
    const char *params[] = {ta, ca};
    return check_none_missing(ctx, "checking certctl's columns",
                              "SELECT string_agg(x.t || '.' || x.c, ', ') FROM unnest($1::text[], "
                              "$2::text[]) AS x(t, c) WHERE NOT EXISTS (SELECT 1 FROM "
                              "pg_attribute a WHERE a.attrelid = to_regclass(x.t) AND a.attname "
                              "= x.c AND NOT a.attisdropped)",
                              2, params, "the database lacks column",
                              "run certctl's migrations first (fleetsim expects certctl's schema "
                              "as of its commit aad95d3)");
}

static int check_privileges(struct seed_ctx *ctx)
{
    const struct seed_pair *privs = create_privs;
    size_t n = sizeof create_privs / sizeof create_privs[0];
    if (ctx->o->action == SEED_ACTION_RESET) {
        privs = reset_privs;
        n = sizeof reset_privs / sizeof reset_privs[0];
    } else if (ctx->o->action == SEED_ACTION_CLEAN) {
        privs = clean_privs;
        n = sizeof clean_privs / sizeof clean_privs[0];
    }
    char ta[1024], pa[1024];
    if (pair_literals(privs, n, ta, sizeof ta, pa, sizeof pa) != 0)
        return seed_fail(ctx, "internal error: privilege list too long");
    const char *params[] = {ta, pa};
    PGresult *r = NULL;
    int rc = seed_sql(ctx, "checking privileges",
                      "SELECT current_user, string_agg(x.p || ' on ' || x.t, ', ') "
                      "FROM unnest($1::text[], $2::text[]) AS x(t, p) "
                      "WHERE NOT has_table_privilege(x.t, x.p)",
                      2, params, NULL, &r);
    if (rc != 0)
        return rc;
    if (!PQgetisnull(r, 0, 1)) {
        rc = seed_fail(ctx,
                       "permission denied: database user \"%s\" lacks %s (grant them, or "
                       "use the user certctl itself connects as)",
                       PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return rc;
}

static int check_issuer(struct seed_ctx *ctx)
{
    const char *params[] = {ctx->issuer_id};
    PGresult *r = NULL;
    int rc = seed_sql(ctx, "looking up the issuer", "SELECT count(*) FROM issuers WHERE id = $1", 1,
                      params, NULL, &r);
    if (rc != 0)
        return rc;
    if (strcmp(PQgetvalue(r, 0, 0), "0") == 0) {
        rc = seed_fail(ctx,
                       "issuer \"%s\" does not exist: certctl creates iss-local itself only "
                       "while its issuers table is empty (at start-up); start certctl once, "
                       "create the issuer, or pass --issuer-id with an existing one",
                       ctx->issuer_id);
    }
    PQclear(r);
    return rc;
}

static int init_ctx(struct seed_ctx *ctx, PGconn *conn, const struct seed_options *o,
                    struct seed_result *res, char *err, size_t errlen)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->conn = conn;
    ctx->o = o;
    ctx->prefix = opt_prefix(o);
    ctx->issuer_id = opt_issuer(o);
    ctx->res = res;
    ctx->err = err;
    ctx->errlen = errlen;
    if (identity_team_id(ctx->team_id, sizeof ctx->team_id, ctx->prefix) < 0 ||
        identity_owner_id(ctx->owner_id, sizeof ctx->owner_id, ctx->prefix) < 0 ||
        identity_policy_id(ctx->policy_id, sizeof ctx->policy_id, ctx->prefix) < 0)
        return -EINVAL;
    snprintf(ctx->re_agent, sizeof ctx->re_agent, "^ag-%s-[0-9]+$", ctx->prefix);
    snprintf(ctx->re_target, sizeof ctx->re_target, "^tgt-%s-[0-9]+$", ctx->prefix);
    snprintf(ctx->re_cert, sizeof ctx->re_cert, "^mc-%s-[0-9]+$", ctx->prefix);
    return 0;
}

static int run_in_transaction(struct seed_ctx *ctx)
{
    int rc = seed_sql(ctx, "starting the transaction", "BEGIN", 0, NULL, NULL, NULL);
    if (rc != 0)
        return rc;
    rc = check_tables(ctx);
    if (rc == 0)
        rc = check_columns(ctx);
    if (rc == 0)
        rc = check_privileges(ctx);
    if (rc == 0 && ctx->o->action == SEED_ACTION_CREATE)
        rc = check_issuer(ctx);
    if (rc == 0) {
        switch (ctx->o->action) {
        case SEED_ACTION_CREATE:
            rc = seed_do_create(ctx);
            break;
        case SEED_ACTION_RESET:
            rc = seed_do_reset(ctx);
            break;
        case SEED_ACTION_CLEAN:
            rc = seed_do_clean(ctx);
            break;
        }
    }
    if (rc == 0)
        rc = seed_sql(ctx, "committing", "COMMIT", 0, NULL, NULL, NULL);
    if (rc != 0) {
        /* keep the first error message; the rollback's outcome does not change it */
        PGresult *r = PQexec(ctx->conn, "ROLLBACK");
        PQclear(r);
    }
    return rc;
}

int seed_run(PGconn *conn, const struct seed_options *o, struct seed_result *res, char *err,
             size_t errlen)
{
    memset(res, 0, sizeof *res);
    res->action = o->action;
    int rc = seed_options_check(o, err, errlen);
    if (rc != 0)
        return rc;
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        snprintf(err, errlen, "no database connection");
        return -EIO;
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        snprintf(err, errlen, "the connection is busy or inside a transaction");
        return -EIO;
    }
    struct seed_ctx ctx;
    if (init_ctx(&ctx, conn, o, res, err, errlen) != 0) {
        snprintf(err, errlen, "fleet prefix too long");
        return -EINVAL;
    }
    rc = run_in_transaction(&ctx);
    if (rc != 0) {
        struct seed_result zero = {.action = o->action};
        *res = zero; /* nothing was committed */
    }
    return rc;
}

int seed_run_db(const char *db, const struct seed_options *o, struct seed_result *res, char *err,
                size_t errlen)
{
    memset(res, 0, sizeof *res);
    int rc = seed_options_check(o, err, errlen);
    if (rc != 0)
        return rc;
    PGconn *conn = seed_connect(db, err, errlen);
    if (conn == NULL)
        return -EIO;
    rc = seed_run(conn, o, res, err, errlen);
    PQfinish(conn);
    return rc;
}
