/* seed/seed.h - creates, resets and cleans the simulated fleet (sim/identity) in certctl's
 * PostgreSQL tables through libpq: COPY into temporary tables, then INSERT ... SELECT ... ON
 * CONFLICT DO NOTHING, all in one transaction. Used by `fleetsim seed` and by fleetsim-target's
 * PostgreSQL store (--seed-agents/--seed-certs). Rows are recognised by their exact id shape. */
#ifndef FLEETSIM_SEED_SEED_H
#define FLEETSIM_SEED_SEED_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/identity.h"

#define SEED_DEFAULT_AGENTS 5000u
#define SEED_DEFAULT_CERTS 10000u
#define SEED_MAX_COUNT 1000000u
#define SEED_DEFAULT_RUN_SEED 1u
#define SEED_DEFAULT_ISSUER "iss-local"
/* Default --expiry-window 32d-90d: outside certctl's 31-day automatic renewal. */
#define SEED_DEFAULT_EXPIRY_FROM_S (32ull * 86400)
#define SEED_DEFAULT_EXPIRY_TO_S (90ull * 86400)
/* Longest window end accepted, seconds (10 years). */
#define SEED_EXPIRY_MAX_S (3650ull * 86400)
/* Seeded agents' last_heartbeat_at is spread evenly over this many ms before the seed time. */
#define SEED_HEARTBEAT_SPREAD_MS 60000u
#define SEED_AGENT_VERSION "2.1.0"
/* agents.api_key_hash of seeded agents (certctl never checks it; it must not be empty). */
#define SEED_API_KEY_HASH "fleetsim-seed-no-key"
#define SEED_ENVIRONMENT "loadtest"
#define SEED_ISSUER_ID_MAX 255

enum seed_action {
    SEED_ACTION_CREATE = 0, /* create what is missing */
    SEED_ACTION_RESET,      /* seeded certificates back as seeded; their jobs/versions removed */
    SEED_ACTION_CLEAN,      /* remove the fleet's rows and what runs derived from them */
};

struct seed_options {
    uint32_t agents;               /* agents 1..N (>= 1 when certs > 0) */
    uint32_t certs;                /* certificates 1..M */
    const char *prefix;            /* fleet prefix (identity_prefix_check); NULL = "loadtest" */
    uint64_t run_seed;             /* --seed: OS mix draw and expiry spread */
    struct identity_os_mix os_mix; /* --os-mix */
    uint64_t expiry_from_s;        /* --expiry-window FROM, seconds after the seed time */
    uint64_t expiry_to_s;          /* --expiry-window TO (>= FROM) */
    const char *issuer_id;         /* existing issuer; NULL = "iss-local" */
    uint32_t host_targets_pct;     /* --host-targets: percent of targets with host config */
    enum seed_action action;
};

/* Tables the seed reports on, in creation (foreign-key) order. */
enum seed_table {
    SEED_T_TEAMS = 0,
    SEED_T_OWNERS,
    SEED_T_POLICIES,
    SEED_T_AGENTS,
    SEED_T_TARGETS,
    SEED_T_CERTS,
    SEED_T_MAPPINGS,
    SEED_T_VERSIONS,
    SEED_T_JOBS,
    SEED_T_NOTIFICATIONS,
    SEED_T_COUNT
};

/* Row counts per table from one seed_run. */
struct seed_result {
    enum seed_action action;
    uint64_t created[SEED_T_COUNT]; /* create: rows inserted */
    uint64_t present[SEED_T_COUNT]; /* create: rows wanted that were already there */
    uint64_t removed[SEED_T_COUNT]; /* reset (jobs, versions) and clean: rows deleted */
    uint64_t restored;              /* reset: certificates put back as seeded */
    uint64_t kept_shared;           /* clean: team/owner/policy rows kept because used */
};

/* Fills o with the defaults: 5000 agents, 10000 certs, prefix "loadtest", seed 1, OS mix
 * 80/10/10, expiry window 32d-90d, issuer iss-local, action create. */
void seed_options_default(struct seed_options *o);

/* Checks o without touching any database. Returns 0, or -EINVAL with a one-line reason in err
 * (bad prefix, certs without agents, window FROM > TO, bad issuer id, OS mix not adding to 100). */
int seed_options_check(const struct seed_options *o, char *err, size_t errlen);

/* Seeds (or resets, or cleans, per o->action) through conn, which must be idle and not in a
 * transaction; everything happens in one transaction, so on failure nothing is changed.
 * Fills *res. Returns 0; -EINVAL for bad options (err as seed_options_check); -EIO for a
 * database failure (missing tables or columns, missing issuer, permissions, SQL errors) with
 * one line in err that never contains a password. */
int seed_run(PGconn *conn, const struct seed_options *o, struct seed_result *res, char *err,
             size_t errlen);

/* Opens a connection: db is a libpq conninfo string or postgresql:// URL; NULL or "" means
 * $DATABASE_URL when set, else libpq's PG* environment. Applies connect_timeout=10 unless db
 * sets one. Returns the connection, or NULL with one line in err (unreachable, authentication
 * failed, ...; the password is never included). Caller PQfinish()es it. */
PGconn *seed_connect(const char *db, char *err, size_t errlen);

/* seed_connect + seed_run + PQfinish. Same returns as seed_run (-EIO for connection errors). */
int seed_run_db(const char *db, const struct seed_options *o, struct seed_result *res, char *err,
                size_t errlen);

/* Writes db as "postgresql://user@host:port/dbname" without any password into buf (size n);
 * parts libpq would take from the environment are left out. Returns 0, or -EINVAL when db does
 * not parse (buf then holds "(invalid connection string)"). */
int seed_redact_db(const char *db, char *buf, size_t n);

/* Seconds after the seed time at which certificate index (1-based) expires: FROM plus a
 * deterministic share of (TO - FROM) drawn from (run_seed, index). */
uint64_t seed_cert_expiry_offset_s(const struct seed_options *o, uint32_t index);

/* Milliseconds before the seed time of agent index's (1-based) last_heartbeat_at, spreading
 * the fleet evenly over the last SEED_HEARTBEAT_SPREAD_MS. */
uint32_t seed_agent_heartbeat_age_ms(const struct seed_options *o, uint32_t index);

/* Name of a reported table ("agents", "deployment_targets", ...). */
const char *seed_table_name(enum seed_table t);

/* Prints what seed_run would do with o (no database needed): rows per table, id ranges,
 * the id shapes used to recognise the fleet, issuer and expiry window. */
void seed_print_plan(FILE *out, const struct seed_options *o, const char *db_display);

/* Prints the per-table counts of a finished run (created vs already present, or removed). */
void seed_print_result(FILE *out, const struct seed_options *o, const struct seed_result *res);

#endif
