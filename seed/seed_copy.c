/* seed/seed_copy.c - `fleetsim seed` creating the fleet: the team/owner/policy rows when absent,
 * then agents, targets, certificates and mappings COPYed into temporary tables and inserted with
 * INSERT ... SELECT ... ON CONFLICT (id) DO NOTHING, so a re-run creates nothing new. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "seed/seed_internal.h"

/* Marker stored in agents.api_key_hash: certctl requires a non-empty value; agents
 * authenticate with the server's shared key, not with this column. */
#define SEED_POLICY_WINDOW_DAYS "30"

static int create_temp_tables(struct seed_ctx *ctx)
{
    int rc = seed_sql(ctx, "creating a temporary table",
                      "CREATE TEMP TABLE fleetsim_seed_agents (id text, name text, hostname text, "
                      "os text, architecture text, heartbeat_age_ms integer, target_id text, "
                      "target_config text) "
                      "ON COMMIT DROP",
                      0, NULL, NULL, NULL);
    if (rc != 0)
        return rc;
    return seed_sql(ctx, "creating a temporary table",
                    "CREATE TEMP TABLE fleetsim_seed_certs (id text, name text, common_name text, "
                    "expiry_s bigint, target_id text) ON COMMIT DROP",
                    0, NULL, NULL, NULL);
}

static int copy_agents(struct seed_ctx *ctx)
{
    struct seed_copy cp;
    int rc = seed_copy_begin(&cp, ctx, "COPY fleetsim_seed_agents FROM STDIN");
    const struct seed_options *o = ctx->o;
    for (uint32_t i = 1; rc == 0 && i <= o->agents; i++) {
        char id[IDENTITY_NAME_MAX], name[IDENTITY_NAME_MAX], host[IDENTITY_NAME_MAX],
            tgt[IDENTITY_NAME_MAX], tcfg[2 * IDENTITY_NAME_MAX], row[8 * IDENTITY_NAME_MAX];
        struct identity_agent_meta meta;
        identity_agent_id(id, sizeof id, ctx->prefix, i);
        identity_agent_name(name, sizeof name, ctx->prefix, i);
        identity_agent_hostname(host, sizeof host, ctx->prefix, i);
        identity_target_id(tgt, sizeof tgt, ctx->prefix, i);
        identity_agent_meta(o->run_seed, i, &o->os_mix, &meta);
        identity_target_config(tcfg, sizeof tcfg, ctx->prefix, i, o->host_targets_pct);
        int len =
            snprintf(row, sizeof row, "%s\t%s\t%s\t%s\t%s\t%u\t%s\t%s\n", id, name, host, meta.os,
                     meta.architecture, seed_agent_heartbeat_age_ms(o, i), tgt, tcfg);
        rc = seed_copy_row(&cp, row, (size_t)len);
    }
    int end = seed_copy_end(&cp);
    return rc != 0 ? rc : end;
}

static int copy_certs(struct seed_ctx *ctx)
{
    struct seed_copy cp;
    int rc = seed_copy_begin(&cp, ctx, "COPY fleetsim_seed_certs FROM STDIN");
    const struct seed_options *o = ctx->o;
    for (uint32_t j = 1; rc == 0 && j <= o->certs; j++) {
        char id[IDENTITY_NAME_MAX], name[IDENTITY_NAME_MAX], cn[IDENTITY_NAME_MAX],
            tgt[IDENTITY_NAME_MAX], row[4 * IDENTITY_NAME_MAX + 64];
        identity_cert_id(id, sizeof id, ctx->prefix, j);
        identity_cert_name(name, sizeof name, ctx->prefix, j);
        identity_cert_cn(cn, sizeof cn, ctx->prefix, j);
        identity_target_id(tgt, sizeof tgt, ctx->prefix, identity_cert_agent(j, o->agents));
        int len = snprintf(row, sizeof row, "%s\t%s\t%s\t%" PRIu64 "\t%s\n", id, name, cn,
                           seed_cert_expiry_offset_s(o, j), tgt);
        rc = seed_copy_row(&cp, row, (size_t)len);
    }
    int end = seed_copy_end(&cp);
    return rc != 0 ? rc : end;
}

/* Runs an INSERT and books created/present for table t out of `wanted` rows. */
static int insert_counted(struct seed_ctx *ctx, enum seed_table t, uint64_t wanted, const char *sql,
                          int nparams, const char *const *params)
{
    char what[96];
    snprintf(what, sizeof what, "inserting into %s", seed_table_name(t));
    uint64_t created = 0;
    int rc = seed_sql(ctx, what, sql, nparams, params, &created, NULL);
    if (rc != 0)
        return rc;
    ctx->res->created[t] = created;
    ctx->res->present[t] = wanted >= created ? wanted - created : 0;
    return 0;
}

static int insert_supporting(struct seed_ctx *ctx)
{
    char team_name[IDENTITY_NAME_MAX], owner_name[IDENTITY_NAME_MAX], email[IDENTITY_NAME_MAX],
        policy_name[IDENTITY_NAME_MAX], descr[IDENTITY_NAME_MAX];
    snprintf(team_name, sizeof team_name, "fleetsim-%s", ctx->prefix);
    snprintf(descr, sizeof descr, "fleetsim simulated fleet %s", ctx->prefix);
    snprintf(owner_name, sizeof owner_name, "fleetsim %s owner", ctx->prefix);
    snprintf(email, sizeof email, "%s@fleet.example.test", ctx->prefix);
    snprintf(policy_name, sizeof policy_name, "fleetsim-%s", ctx->prefix);

    const char *team[] = {ctx->team_id, team_name, descr};
    int rc = insert_counted(ctx, SEED_T_TEAMS, 1,
                            "INSERT INTO teams (id, name, description) VALUES ($1, $2, $3) "
                            "ON CONFLICT (id) DO NOTHING",
                            3, team);
    if (rc != 0)
        return rc;
    const char *owner[] = {ctx->owner_id, owner_name, email, ctx->team_id};
    rc = insert_counted(ctx, SEED_T_OWNERS, 1,
                        "INSERT INTO owners (id, name, email, team_id) VALUES ($1, $2, $3, $4) "
                        "ON CONFLICT (id) DO NOTHING",
                        4, owner);
    if (rc != 0)
        return rc;
    const char *policy[] = {ctx->policy_id, policy_name, SEED_POLICY_WINDOW_DAYS};
    return insert_counted(ctx, SEED_T_POLICIES, 1,
                          "INSERT INTO renewal_policies (id, name, renewal_window_days, "
                          "auto_renew) VALUES ($1, $2, $3::int, true) ON CONFLICT (id) DO NOTHING",
                          3, policy);
}

static int insert_agents_and_targets(struct seed_ctx *ctx)
{
    const char *agent[] = {SEED_API_KEY_HASH, SEED_AGENT_VERSION};
    int rc = insert_counted(
        ctx, SEED_T_AGENTS, ctx->o->agents,
        "INSERT INTO agents (id, name, hostname, status, last_heartbeat_at, registered_at, "
        "api_key_hash, os, architecture, ip_address, version) "
        "SELECT s.id, s.name, s.hostname, 'Online', "
        "now() - s.heartbeat_age_ms * interval '1 millisecond', now(), $1, s.os, "
        "s.architecture, '', $2 FROM fleetsim_seed_agents s ORDER BY s.id "
        "ON CONFLICT (id) DO NOTHING",
        2, agent);
    if (rc != 0)
        return rc;
    char tname[IDENTITY_NAME_MAX];
    identity_target_name(tname, sizeof tname, ctx->prefix);
    const char *target[] = {tname, IDENTITY_TARGET_TYPE};
    return insert_counted(ctx, SEED_T_TARGETS, ctx->o->agents,
                          "INSERT INTO deployment_targets (id, name, type, agent_id, config) "
                          "SELECT s.target_id, $1, $2, s.id, s.target_config::jsonb "
                          "FROM fleetsim_seed_agents s ORDER BY s.target_id "
                          "ON CONFLICT (id) DO NOTHING",
                          2, target);
}

static int insert_certs_and_mappings(struct seed_ctx *ctx)
{
    const char *cert[] = {SEED_ENVIRONMENT, ctx->owner_id, ctx->team_id, ctx->issuer_id,
                          ctx->policy_id};
    int rc = insert_counted(
        ctx, SEED_T_CERTS, ctx->o->certs,
        "INSERT INTO managed_certificates (id, name, common_name, sans, environment, owner_id, "
        "team_id, issuer_id, renewal_policy_id, status, expires_at, tags, created_at, "
        "updated_at) "
        "SELECT s.id, s.name, s.common_name, '{}'::text[], $1, $2, $3, $4, $5, 'Active', "
        "now() + s.expiry_s * interval '1 second', '{}'::jsonb, now(), now() "
        "FROM fleetsim_seed_certs s ORDER BY s.id ON CONFLICT (id) DO NOTHING",
        5, cert);
    if (rc != 0)
        return rc;
    /* One mapping per certificate: a certificate that already has any mapping keeps it (a
     * re-run with another --agents must not map a certificate to a second agent). */
    return insert_counted(ctx, SEED_T_MAPPINGS, ctx->o->certs,
                          "INSERT INTO certificate_target_mappings (certificate_id, target_id) "
                          "SELECT s.id, s.target_id FROM fleetsim_seed_certs s "
                          "WHERE NOT EXISTS (SELECT 1 FROM certificate_target_mappings m "
                          "WHERE m.certificate_id = s.id) ORDER BY s.id "
                          "ON CONFLICT DO NOTHING",
                          0, NULL);
}

int seed_do_create(struct seed_ctx *ctx)
{
    int rc = create_temp_tables(ctx);
    if (rc == 0)
        rc = copy_agents(ctx);
    if (rc == 0)
        rc = copy_certs(ctx);
    if (rc == 0)
        rc = insert_supporting(ctx);
    if (rc == 0)
        rc = insert_agents_and_targets(ctx);
    if (rc == 0)
        rc = insert_certs_and_mappings(ctx);
    return rc;
}
