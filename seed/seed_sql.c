/* seed/seed_sql.c - `fleetsim seed --reset` (seeded certificates back as seeded, their jobs and
 * versions removed) and `--clean` (the fleet's rows and what runs derived from them removed in
 * foreign-key order). Rows are chosen by exact id shape (^mc-<prefix>-[0-9]+$ ...), never LIKE. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed/seed_internal.h"

/* Deletes with params and books the count as removed from table t. */
static int delete_counted(struct seed_ctx *ctx, enum seed_table t, const char *sql, int nparams,
                          const char *const *params)
{
    char what[96];
    snprintf(what, sizeof what, "removing from %s", seed_table_name(t));
    uint64_t n = 0;
    int rc = seed_sql(ctx, what, sql, nparams, params, &n, NULL);
    if (rc == 0)
        ctx->res->removed[t] += n;
    return rc;
}

/* COPYs (id, seconds-after-now) of every seeded certificate present into a temporary table. */
static int stage_reset_rows(struct seed_ctx *ctx)
{
    int rc = seed_sql(ctx, "creating a temporary table",
                      "CREATE TEMP TABLE fleetsim_seed_reset (id text, expiry_s bigint) "
                      "ON COMMIT DROP",
                      0, NULL, NULL, NULL);
    if (rc != 0)
        return rc;
    const char *re[] = {ctx->re_cert};
    PGresult *ids = NULL;
    rc = seed_sql(ctx, "listing the seeded certificates",
                  "SELECT id FROM managed_certificates WHERE id ~ $1", 1, re, NULL, &ids);
    if (rc != 0)
        return rc;
    struct seed_copy cp;
    rc = seed_copy_begin(&cp, ctx, "COPY fleetsim_seed_reset FROM STDIN");
    for (int i = 0; rc == 0 && i < PQntuples(ids); i++) {
        const char *id = PQgetvalue(ids, i, 0);
        uint32_t index;
        /* the regex admits indexes past 2^32-1, which identity cannot have made: skip them */
        if (identity_parse_index(id, "mc", ctx->prefix, &index) != 0 || index == 0)
            continue;
        char row[IDENTITY_NAME_MAX + 32];
        int len = snprintf(row, sizeof row, "%s\t%" PRIu64 "\n", id,
                           seed_cert_expiry_offset_s(ctx->o, index));
        rc = seed_copy_row(&cp, row, (size_t)len);
    }
    int end = seed_copy_end(&cp);
    PQclear(ids);
    return rc != 0 ? rc : end;
}

int seed_do_reset(struct seed_ctx *ctx)
{
    int rc = stage_reset_rows(ctx);
    if (rc != 0)
        return rc;
    const char *re[] = {ctx->re_cert};
    rc = delete_counted(ctx, SEED_T_JOBS, "DELETE FROM jobs WHERE certificate_id ~ $1", 1, re);
    if (rc == 0)
        rc = delete_counted(ctx, SEED_T_VERSIONS,
                            "DELETE FROM certificate_versions WHERE certificate_id ~ $1", 1, re);
    if (rc != 0)
        return rc;
    uint64_t n = 0;
    rc = seed_sql(ctx, "restoring the seeded certificates",
                  "UPDATE managed_certificates m SET status = 'Active', "
                  "expires_at = now() + r.expiry_s * interval '1 second', "
                  "last_renewal_at = NULL, last_deployment_at = NULL, revoked_at = NULL, "
                  "revocation_reason = NULL, updated_at = now() "
                  "FROM fleetsim_seed_reset r WHERE m.id = r.id",
                  0, NULL, &n, NULL);
    if (rc == 0)
        ctx->res->restored = n;
    return rc;
}

/* Sets *used when any row of any table holds a foreign key to table.id = id. */
static int row_in_use(struct seed_ctx *ctx, const char *table, const char *id, bool *used)
{
    *used = false;
    const char *p[] = {table};
    PGresult *fks = NULL;
    int rc = seed_sql(ctx, "listing foreign keys",
                      "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c "
                      "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                      "WHERE c.contype = 'f' AND c.confrelid = to_regclass($1) "
                      "AND cardinality(c.conkey) = 1",
                      1, p, NULL, &fks);
    for (int i = 0; rc == 0 && !*used && i < PQntuples(fks); i++) {
        char *col =
            PQescapeIdentifier(ctx->conn, PQgetvalue(fks, i, 1), strlen(PQgetvalue(fks, i, 1)));
        if (col == NULL) {
            rc = seed_fail_pg(ctx, NULL, "quoting a column name");
            break;
        }
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s WHERE %s = $1)",
                 PQgetvalue(fks, i, 0), col);
        PQfreemem(col);
        const char *idp[] = {id};
        PGresult *r = NULL;
        rc = seed_sql(ctx, "checking references", sql, 1, idp, NULL, &r);
        if (rc == 0) {
            *used = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
            PQclear(r);
        }
    }
    PQclear(fks);
    return rc;
}

/* Removes one supporting row (team/owner/policy) unless something still refers to it. */
static int remove_shared(struct seed_ctx *ctx, enum seed_table t, const char *id)
{
    bool used = false;
    int rc = row_in_use(ctx, seed_table_name(t), id, &used);
    if (rc != 0)
        return rc;
    if (used) {
        const char *p[] = {id};
        PGresult *r = NULL;
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE id = $1", seed_table_name(t));
        rc = seed_sql(ctx, "checking a shared row", sql, 1, p, NULL, &r);
        if (rc == 0) {
            ctx->res->kept_shared += strtoull(PQgetvalue(r, 0, 0), NULL, 10);
            PQclear(r);
        }
        return rc;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = $1", seed_table_name(t));
    const char *p[] = {id};
    return delete_counted(ctx, t, sql, 1, p);
}

static int table_exists(struct seed_ctx *ctx, const char *table, bool *exists)
{
    const char *p[] = {table};
    PGresult *r = NULL;
    int rc =
        seed_sql(ctx, "checking a table", "SELECT to_regclass($1) IS NOT NULL", 1, p, NULL, &r);
    if (rc == 0) {
        *exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
    }
    return rc;
}

static int clean_derived(struct seed_ctx *ctx)
{
    const char *all[] = {ctx->re_cert, ctx->re_agent, ctx->re_target};
    int rc = delete_counted(ctx, SEED_T_JOBS,
                            "DELETE FROM jobs WHERE certificate_id ~ $1 OR agent_id ~ $2 "
                            "OR target_id ~ $3",
                            3, all);
    const char *cert[] = {ctx->re_cert};
    if (rc == 0)
        rc = delete_counted(ctx, SEED_T_VERSIONS,
                            "DELETE FROM certificate_versions WHERE certificate_id ~ $1", 1, cert);
    bool notifications = false;
    if (rc == 0)
        rc = table_exists(ctx, "notification_events", &notifications);
    if (rc == 0 && notifications)
        rc = delete_counted(ctx, SEED_T_NOTIFICATIONS,
                            "DELETE FROM notification_events WHERE certificate_id ~ $1", 1, cert);
    const char *map[] = {ctx->re_cert, ctx->re_target};
    if (rc == 0)
        rc = delete_counted(ctx, SEED_T_MAPPINGS,
                            "DELETE FROM certificate_target_mappings WHERE certificate_id ~ $1 "
                            "OR target_id ~ $2",
                            2, map);
    return rc;
}

int seed_do_clean(struct seed_ctx *ctx)
{
    int rc = clean_derived(ctx);
    const char *tgt[] = {ctx->re_target}, *cert[] = {ctx->re_cert}, *agent[] = {ctx->re_agent};
    if (rc == 0)
        rc = delete_counted(ctx, SEED_T_TARGETS, "DELETE FROM deployment_targets WHERE id ~ $1", 1,
                            tgt);
    if (rc == 0)
        rc = delete_counted(ctx, SEED_T_CERTS, "DELETE FROM managed_certificates WHERE id ~ $1", 1,
                            cert);
    if (rc == 0)
        rc = delete_counted(ctx, SEED_T_AGENTS, "DELETE FROM agents WHERE id ~ $1", 1, agent);
    if (rc == 0)
        rc = remove_shared(ctx, SEED_T_POLICIES, ctx->policy_id);
    if (rc == 0)
        rc = remove_shared(ctx, SEED_T_OWNERS, ctx->owner_id);
    if (rc == 0)
        rc = remove_shared(ctx, SEED_T_TEAMS, ctx->team_id);
    return rc;
}
