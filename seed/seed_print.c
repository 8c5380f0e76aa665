/* seed/seed_print.c - human-readable output of the seed: the --dry-run plan (computed without a
 * database) and the per-table counts of a finished run. */
#include <inttypes.h>
#include <stdio.h>

#include "seed/seed.h"

/* The order --clean removes rows in (foreign-key order). */
static const enum seed_table clean_order[] = {
    SEED_T_JOBS,  SEED_T_VERSIONS, SEED_T_NOTIFICATIONS, SEED_T_MAPPINGS, SEED_T_TARGETS,
    SEED_T_CERTS, SEED_T_AGENTS,   SEED_T_POLICIES,      SEED_T_OWNERS,   SEED_T_TEAMS,
};

static const char *prefix_of(const struct seed_options *o)
{
    return o->prefix ? o->prefix : IDENTITY_DEFAULT_PREFIX;
}

static void print_days(FILE *out, uint64_t s)
{
    if (s % 86400 == 0)
        fprintf(out, "%" PRIu64 "d", s / 86400);
    else
        fprintf(out, "%" PRIu64 "s", s);
}

static void print_shapes(FILE *out, const char *p)
{
    fprintf(out,
            "  fleet rows are recognised by exact id shape: ^ag-%s-[0-9]+$, "
            "^tgt-%s-[0-9]+$, ^mc-%s-[0-9]+$ (and t-%s, o-%s, rp-%s)\n",
            p, p, p, p, p, p);
}

static void plan_create(FILE *out, const struct seed_options *o, const char *p)
{
    char a1[IDENTITY_NAME_MAX], an[IDENTITY_NAME_MAX], c1[IDENTITY_NAME_MAX], cn[IDENTITY_NAME_MAX];
    identity_agent_id(a1, sizeof a1, p, 1);
    identity_agent_id(an, sizeof an, p, o->agents ? o->agents : 1);
    identity_cert_id(c1, sizeof c1, p, 1);
    identity_cert_id(cn, sizeof cn, p, o->certs ? o->certs : 1);
    fprintf(out,
            "  would create, where absent (ON CONFLICT (id) DO NOTHING), in one transaction:\n");
    fprintf(out, "    %-28s %8u  t-%s\n", "teams", 1u, p);
    fprintf(out, "    %-28s %8u  o-%s\n", "owners", 1u, p);
    fprintf(out, "    %-28s %8u  rp-%s (30-day window)\n", "renewal_policies", 1u, p);
    fprintf(out,
            "    %-28s %8u  %s .. %s, Online, version %s, OS mix "
            "%u/%u/%u, seed %" PRIu64 "\n",
            "agents", o->agents, a1, an, SEED_AGENT_VERSION, o->os_mix.pct[0], o->os_mix.pct[1],
            o->os_mix.pct[2], o->run_seed);
    fprintf(out, "    %-28s %8u  one %s target per agent (tgt-%s-...), %u%% with host config\n",
            "deployment_targets", o->agents, IDENTITY_TARGET_TYPE, p, o->host_targets_pct);
    fprintf(out, "    %-28s %8u  %s .. %s, Active, issuer %s, expiring ", "managed_certificates",
            o->certs, c1, cn, o->issuer_id ? o->issuer_id : SEED_DEFAULT_ISSUER);
    print_days(out, o->expiry_from_s);
    fputs(" to ", out);
    print_days(out, o->expiry_to_s);
    fputs(" from now\n", out);
    fprintf(out,
            "    %-28s %8u  certificate j -> target of agent "
            "((j-1) mod %u)+1\n",
            "certificate_target_mappings", o->certs, o->agents);
    fprintf(out, "  checks first: certctl's tables and columns exist, privileges, issuer exists\n");
}

void seed_print_plan(FILE *out, const struct seed_options *o, const char *db_display)
{
    const char *p = prefix_of(o);
    fprintf(out, "fleetsim seed --dry-run: fleet \"%s\" in %s (not contacted)\n", p, db_display);
    switch (o->action) {
    case SEED_ACTION_CREATE:
        plan_create(out, o, p);
        break;
    case SEED_ACTION_RESET:
        fprintf(out, "  would reset every seeded certificate: status Active, expires_at now + its "
                     "seeded offset (window ");
        print_days(out, o->expiry_from_s);
        fputs("-", out);
        print_days(out, o->expiry_to_s);
        fprintf(out,
                ", seed %" PRIu64 "), last_renewal_at/last_deployment_at/revoked_at "
                "NULL;\n  and remove their jobs and certificate versions\n",
                o->run_seed);
        break;
    case SEED_ACTION_CLEAN:
        fprintf(out,
                "  would remove, in foreign-key order: jobs, certificate_versions, "
                "notification_events, certificate_target_mappings, deployment_targets, "
                "managed_certificates, agents of the fleet; then rp-%s, o-%s, t-%s unless "
                "other rows use them\n",
                p, p, p);
        break;
    }
    print_shapes(out, p);
}

void seed_print_result(FILE *out, const struct seed_options *o, const struct seed_result *res)
{
    const char *p = prefix_of(o);
    switch (res->action) {
    case SEED_ACTION_CREATE:
        fprintf(out, "fleetsim seed: fleet \"%s\" seeded\n", p);
        fprintf(out, "  %-30s %10s %16s\n", "table", "created", "already present");
        for (int t = SEED_T_TEAMS; t <= SEED_T_MAPPINGS; t++)
            fprintf(out, "  %-30s %10" PRIu64 " %16" PRIu64 "\n", seed_table_name(t),
                    res->created[t], res->present[t]);
        break;
    case SEED_ACTION_RESET:
        fprintf(out,
                "fleetsim seed --reset: fleet \"%s\": %" PRIu64 " certificates restored; "
                "removed %" PRIu64 " jobs and %" PRIu64 " certificate versions\n",
                p, res->restored, res->removed[SEED_T_JOBS], res->removed[SEED_T_VERSIONS]);
        break;
    case SEED_ACTION_CLEAN:
        fprintf(out, "fleetsim seed --clean: fleet \"%s\" removed\n", p);
        fprintf(out, "  %-30s %10s\n", "table", "removed");
        for (size_t i = 0; i < sizeof clean_order / sizeof clean_order[0]; i++)
            fprintf(out, "  %-30s %10" PRIu64 "\n", seed_table_name(clean_order[i]),
                    res->removed[clean_order[i]]);
        if (res->kept_shared > 0)
            fprintf(out, "  kept %" PRIu64 " of t-%s/o-%s/rp-%s: other rows still use them\n",
                    res->kept_shared, p, p, p);
        break;
    }
}
