/* refserver/store_seed.c - creating the simulated fleet (docs/architecture.md, "Fleet identity") in
 * a store. PostgreSQL goes through seed_run, the code of `fleetsim seed`; the memory store is
 * filled here through the backend operations, with the same identities, metadata, expiry spread and
 * heartbeat ages (seed/'s own helpers), so both stores hold the same fleet. */
#include <stdio.h>
#include <string.h>

#include "seed/seed.h"
#include "refserver/store_internal.h"

/* What seed/ stores in agents.api_key_hash (agents use the shared server key). */

void store_seed_options(const struct store_seed_config *cfg, struct seed_options *o)
{
    seed_options_default(o);
    o->agents = cfg->agents;
    o->certs = cfg->certs;
    o->prefix = cfg->prefix ? cfg->prefix : IDENTITY_DEFAULT_PREFIX;
    o->run_seed = cfg->run_seed;
    o->os_mix = cfg->os_mix;
    if (o->os_mix.pct[0] + o->os_mix.pct[1] + o->os_mix.pct[2] == 0)
        o->os_mix = identity_default_os_mix();
    if (cfg->issuer_id)
        o->issuer_id = cfg->issuer_id;
    o->host_targets_pct = cfg->host_targets_pct;
    if (cfg->expiry_min_days || cfg->expiry_max_days) {
        o->expiry_from_s = (uint64_t)cfg->expiry_min_days * 86400;
        o->expiry_to_s = (uint64_t)cfg->expiry_max_days * 86400;
    }
}

static int seed_refs(struct store *s, const struct seed_options *o)
{
    char team[IDENTITY_NAME_MAX], owner[IDENTITY_NAME_MAX], policy[IDENTITY_NAME_MAX];
    identity_team_id(team, sizeof(team), o->prefix);
    identity_owner_id(owner, sizeof(owner), o->prefix);
    identity_policy_id(policy, sizeof(policy), o->prefix);
    int rc = s->ops->ref_add(s, "team", team, team);
    if (rc == STORE_OK)
        rc = s->ops->ref_add(s, "owner", owner, owner);
    if (rc == STORE_OK)
        rc = s->ops->ref_add(s, "renewal_policy", policy, policy);
    if (rc == STORE_OK)
        rc = s->ops->ref_add(s, "issuer", o->issuer_id, o->issuer_id);
    return rc;
}

static int seed_agent(struct store *s, const struct seed_options *o, const char *version,
                      uint32_t i, int64_t now)
{
    char id[IDENTITY_NAME_MAX], name[IDENTITY_NAME_MAX], host[IDENTITY_NAME_MAX],
        tid[IDENTITY_NAME_MAX], tname[IDENTITY_NAME_MAX], tcfg[2 * IDENTITY_NAME_MAX];
    struct identity_agent_meta meta;
    identity_agent_id(id, sizeof(id), o->prefix, i);
    identity_agent_name(name, sizeof(name), o->prefix, i);
    identity_agent_hostname(host, sizeof(host), o->prefix, i);
    identity_target_id(tid, sizeof(tid), o->prefix, i);
    identity_target_name(tname, sizeof(tname), o->prefix);
    identity_agent_meta(o->run_seed, i, &o->os_mix, &meta);
    identity_target_config(tcfg, sizeof tcfg, o->prefix, i, o->host_targets_pct);
    struct store_agent_view a = {
        .id = id,
        .name = name,
        .hostname = host,
        .status = AGENT_ONLINE,
        .api_key_hash = SEED_API_KEY_HASH,
        .os = meta.os,
        .architecture = meta.architecture,
        .ip_address = "",
        .version = version,
        .last_heartbeat_us = now - (int64_t)seed_agent_heartbeat_age_ms(o, i) * 1000,
        .registered_us = now,
        .retired_us = STORE_TIME_NULL,
    };
    int rc = s->ops->agent_insert(s, &a);
    if (rc != STORE_OK)
        return rc;
    struct store_target_view t = {.id = tid,
                                  .name = tname,
                                  .type = IDENTITY_TARGET_TYPE,
                                  .agent_id = id,
                                  .config_json = tcfg,
                                  .created_us = now};
    return s->ops->target_insert(s, &t);
}

static int seed_cert(struct store *s, const struct seed_options *o, uint32_t j, int64_t now)
{
    char id[IDENTITY_NAME_MAX], name[IDENTITY_NAME_MAX], cn[IDENTITY_NAME_MAX],
        team[IDENTITY_NAME_MAX], owner[IDENTITY_NAME_MAX], policy[IDENTITY_NAME_MAX],
        tid[IDENTITY_NAME_MAX];
    identity_cert_id(id, sizeof(id), o->prefix, j);
    identity_cert_name(name, sizeof(name), o->prefix, j);
    identity_cert_cn(cn, sizeof(cn), o->prefix, j);
    identity_team_id(team, sizeof(team), o->prefix);
    identity_owner_id(owner, sizeof(owner), o->prefix);
    identity_policy_id(policy, sizeof(policy), o->prefix);
    identity_target_id(tid, sizeof(tid), o->prefix, identity_cert_agent(j, o->agents));
    int64_t created = store_created_us(s);
    struct store_cert_view c = {
        .id = id,
        .name = name,
        .common_name = cn,
        .environment = SEED_ENVIRONMENT,
        .owner_id = owner,
        .team_id = team,
        .issuer_id = o->issuer_id,
        .renewal_policy_id = policy,
        .status = CERT_ACTIVE,
        .tags_json = "{}",
        .source = "",
        .expires_us = now + (int64_t)seed_cert_expiry_offset_s(o, j) * 1000000,
        .last_renewal_us = STORE_TIME_NULL,
        .last_deployment_us = STORE_TIME_NULL,
        .revoked_us = STORE_TIME_NULL,
        .created_us = created,
        .updated_us = created,
    };
    int rc = s->ops->cert_insert(s, &c);
    if (rc == STORE_ERROR)
        rc = STORE_CONFLICT; /* the only expected failure: the id or name exists */
    if (rc == STORE_OK)
        rc = s->ops->map_insert(s, id, tid);
    return rc;
}

int store_seed_fleet(struct store *s, const struct store_seed_config *cfg, char *err, size_t errlen)
{
    char scratch[8];
    if (err == NULL) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    struct seed_options o;
    store_seed_options(cfg, &o);
    if (seed_options_check(&o, err, errlen) != 0)
        return STORE_INVALID;
    if (s->ops->seed_fleet != NULL)
        return s->ops->seed_fleet(s, cfg, err, errlen);
    const char *version = cfg->agent_version ? cfg->agent_version : SEED_AGENT_VERSION;
    int64_t now = store_now_us(s);
    int rc = seed_refs(s, &o);
    for (uint32_t i = 1; rc == STORE_OK && i <= o.agents; i++)
        if ((rc = seed_agent(s, &o, version, i, now)) != STORE_OK)
            snprintf(err, errlen, "seeding agent %u: %s", i, store_rc_str(rc));
    for (uint32_t j = 1; rc == STORE_OK && j <= o.certs; j++)
        if ((rc = seed_cert(s, &o, j, now)) != STORE_OK)
            snprintf(err, errlen, "seeding certificate %u: %s", j, store_rc_str(rc));
    return rc;
}
