/* refserver/store_pg_sql.c - every SQL statement of the PostgreSQL store, against certctl's tables
 * (seed/schema.sql column names). Prepared once per connection by store_pg.c. Times are passed
 * and read as Unix microseconds; optional filters are '' when unused. */
#include "refserver/store_pg.h"

/* The SQL below keeps its hand layout, one clause a line. */
/* clang-format off */
/* Parameter n (bigint µs) as timestamptz, and a timestamptz column as bigint µs. */
#define TS(n) "('epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond')"
#define US(col) "(extract(epoch from " col ") * 1000000)::bigint"

#define AGENT_COLS                                                                          \
    "a.id, a.name, a.hostname, a.status, " US("a.last_heartbeat_at") ", "                   \
    US("a.registered_at") ", a.api_key_hash, COALESCE(a.os, ''), "                          \
    "COALESCE(a.architecture, ''), COALESCE(a.ip_address, ''), COALESCE(a.version, ''), "   \
    US("a.retired_at") ", a.retired_reason"

#define CERT_COLS                                                                           \
    "mc.id, mc.name, mc.common_name, array_to_json(COALESCE(mc.sans, '{}'))::text, "        \
    "COALESCE(mc.environment, ''), mc.owner_id, mc.team_id, mc.issuer_id, "                 \
    "mc.renewal_policy_id, mc.certificate_profile_id, mc.status, " US("mc.expires_at") ", " \
    "mc.tags::text, " US("mc.last_renewal_at") ", " US("mc.last_deployment_at") ", "        \
    US("mc.revoked_at") ", mc.revocation_reason, " US("mc.created_at") ", "                 \
    US("mc.updated_at") ", mc.source, "                                                     \
    "(SELECT COALESCE(json_agg(m.target_id ORDER BY m.target_id), '[]')::text "             \
    "FROM certificate_target_mappings m WHERE m.certificate_id = mc.id)"

#define JOB_COLS                                                                            \
    "j.id, j.type, j.certificate_id, j.target_id, j.agent_id, j.status, j.attempts, "       \
    "j.max_attempts, j.last_error, " US("j.scheduled_at") ", " US("j.started_at") ", "      \
    US("j.completed_at") ", " US("j.created_at") ", j.verification_status"

/* Certificate filter over $1..$6: status, owner, team, issuer, profile, agent ('' = any). */
#define CERT_FILTER                                                                         \
    "($1::text = '' OR mc.status = $1::text) AND ($2::text = '' OR mc.owner_id = $2::text) " \
    "AND ($3::text = '' OR mc.team_id = $3::text) "                                         \
    "AND ($4::text = '' OR mc.issuer_id = $4::text) "                                       \
    "AND ($5::text = '' OR mc.certificate_profile_id = $5::text) "                          \
    "AND ($6::text = '' OR mc.id IN (SELECT m.certificate_id FROM "                         \
    "certificate_target_mappings m JOIN deployment_targets dt ON dt.id = m.target_id "      \
    "WHERE dt.agent_id = $6::text))"

const struct pg_stmt_def pg_stmts[PG_STMT_COUNT] = {
    [PG_AGENT_INSERT] = {"fs_agent_insert",
        "INSERT INTO agents (id, name, hostname, status, last_heartbeat_at, registered_at, "
        "api_key_hash, os, architecture, ip_address, version, retired_at, retired_reason) "
        "VALUES ($1, $2, $3, $4, " TS(5) ", " TS(6) ", $7, $8, $9, $10, $11, " TS(12) ", $13)",
        13},
    [PG_AGENT_GET] = {"fs_agent_get", "SELECT " AGENT_COLS " FROM agents a WHERE a.id = $1", 1},
    /* certctl's heartbeat: the SELECT that tells 404 from 410, and the UPDATE of
     * last_heartbeat_at and the non-empty metadata of a non-retired agent, in one statement. */
    [PG_AGENT_HEARTBEAT] = {"fs_agent_heartbeat",
        "WITH a AS (SELECT retired_at FROM agents WHERE id = $1), "
        "u AS (UPDATE agents SET last_heartbeat_at = " TS(2) ", "
        "hostname = CASE WHEN $3::text = '' THEN hostname ELSE $3::text END, "
        "os = CASE WHEN $4::text = '' THEN os ELSE $4::text END, "
        "architecture = CASE WHEN $5::text = '' THEN architecture ELSE $5::text END, "
        "ip_address = CASE WHEN $6::text = '' THEN ip_address ELSE $6::text END, "
        "version = CASE WHEN $7::text = '' THEN version ELSE $7::text END, "
        "status = 'Online' WHERE id = $1 AND retired_at IS NULL RETURNING 1) "
        "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM a WHERE retired_at IS NOT NULL), "
        "(SELECT count(*) FROM u)",
        7},
    [PG_AGENT_RETIRED_AT] = {"fs_agent_retired_at",
        "SELECT " US("retired_at") " FROM agents WHERE id = $1", 1},
    [PG_AGENT_DEPS] = {"fs_agent_deps",
        "SELECT (SELECT count(*) FROM deployment_targets WHERE agent_id = $1 AND retired_at IS "
        "NULL), (SELECT count(DISTINCT m.certificate_id) FROM certificate_target_mappings m "
        "JOIN deployment_targets dt ON dt.id = m.target_id WHERE dt.agent_id = $1 AND "
        "dt.retired_at IS NULL), (SELECT count(*) FROM jobs WHERE agent_id = $1 AND status IN "
        "('Pending', 'AwaitingCSR', 'AwaitingApproval', 'Running'))",
        1},
    [PG_AGENT_RETIRE] = {"fs_agent_retire",
        "UPDATE agents SET retired_at = " TS(2) ", retired_reason = $3 "
        "WHERE id = $1 AND retired_at IS NULL",
        3},
    [PG_AGENT_RETIRE_CASCADE] = {"fs_agent_retire_cascade",
        "WITH a AS (UPDATE agents SET retired_at = " TS(2) ", retired_reason = $3 "
        "WHERE id = $1 AND retired_at IS NULL RETURNING id) "
        "UPDATE deployment_targets SET retired_at = " TS(2) ", retired_reason = $3 "
        "WHERE agent_id = $1 AND retired_at IS NULL AND EXISTS (SELECT 1 FROM a)",
        3},
    [PG_AGENT_COUNTS] = {"fs_agent_counts",
        "SELECT count(*), count(retired_at), count(*) FILTER (WHERE os = 'linux'), "
        "count(*) FILTER (WHERE os = 'windows'), count(*) FILTER (WHERE os = 'darwin') "
        "FROM agents",
        0},
    [PG_TARGET_INSERT] = {"fs_target_insert",
        "INSERT INTO deployment_targets (id, name, type, agent_id, config, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5::jsonb, " TS(6) ", " TS(6) ")",
        6},
    [PG_MAP_INSERT] = {"fs_map_insert",
        "INSERT INTO certificate_target_mappings (certificate_id, target_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING",
        2},
    /* certctl's ClaimPendingByAgentID in one statement: Pending Deployment jobs of the agent
     * (by agent_id, or by the target's agent when agent_id is NULL) become Running; AwaitingCSR
     * Renewal/Issuance jobs of certificates mapped to its targets come back unchanged. The
     * first column says whether the agent exists; an agent without work gives one row of
     * NULLs. Order: direct claims, target-routed claims, AwaitingCSR, each by created_at. */
    [PG_WORK_POLL] = {"fs_work_poll",
        "WITH ag AS (SELECT id FROM agents WHERE id = $1), "
        "claim AS (UPDATE jobs j SET status = 'Running' WHERE j.id IN ("
        "SELECT j2.id FROM jobs j2 LEFT JOIN deployment_targets dt ON dt.id = j2.target_id "
        "WHERE j2.status = 'Pending' AND j2.type = 'Deployment' AND (j2.agent_id = $1 OR "
        "(j2.agent_id IS NULL AND dt.agent_id = $1)) FOR UPDATE OF j2 SKIP LOCKED) "
        "RETURNING j.id, j.type, j.certificate_id, j.target_id, j.agent_id, j.created_at), "
        "csr AS (SELECT j.id, j.type, j.certificate_id, j.target_id, j.status, j.created_at "
        "FROM jobs j WHERE j.status = 'AwaitingCSR' AND j.type IN ('Renewal', 'Issuance') "
        "AND EXISTS (SELECT 1 FROM certificate_target_mappings m JOIN deployment_targets dt "
        "ON dt.id = m.target_id WHERE m.certificate_id = j.certificate_id AND dt.agent_id = $1)), "
        "items AS (SELECT CASE WHEN c.agent_id IS NOT NULL THEN 0 ELSE 1 END AS rank, c.id, "
        "c.type, c.certificate_id, c.target_id, 'Running'::text AS status, c.created_at "
        "FROM claim c UNION ALL SELECT 2, s.id, s.type, s.certificate_id, s.target_id, "
        "s.status::text, s.created_at FROM csr s) "
        "SELECT (SELECT count(*) FROM ag), i.id, i.type, i.certificate_id, i.target_id, "
        "i.status, CASE WHEN i.rank = 2 THEN mc.common_name END, "
        "CASE WHEN i.rank = 2 THEN array_to_json(COALESCE(mc.sans, '{}'))::text END, "
        "dt.type, dt.config::text "
        "FROM (SELECT 1) one LEFT JOIN items i ON true "
        "LEFT JOIN managed_certificates mc ON mc.id = i.certificate_id "
        "LEFT JOIN deployment_targets dt ON dt.id = i.target_id "
        "ORDER BY i.rank, i.created_at, i.id",
        1},
    [PG_CERT_INSERT] = {"fs_cert_insert",
        "INSERT INTO managed_certificates (id, name, common_name, sans, environment, owner_id, "
        "team_id, issuer_id, renewal_policy_id, certificate_profile_id, status, expires_at, "
        "tags, created_at, updated_at, source) VALUES ($1, $2, $3, "
        "ARRAY(SELECT json_array_elements_text($4::json)), $5, $6, $7, $8, $9, $10, $11, "
        TS(12) ", '{}'::jsonb, " TS(13) ", " TS(13) ", '')",
        13},
    [PG_CERT_GET] = {"fs_cert_get",
        "SELECT " CERT_COLS " FROM managed_certificates mc WHERE mc.id = $1", 1},
    [PG_CERT_BRIEF] = {"fs_cert_brief",
        "SELECT status, " US("expires_at") " FROM managed_certificates WHERE id = $1", 1},
    [PG_CERT_LIST] = {"fs_cert_list",
        "WITH f AS (SELECT mc.id, mc.created_at FROM managed_certificates mc WHERE " CERT_FILTER
        "), p AS (SELECT id FROM f ORDER BY created_at, id LIMIT $7::bigint OFFSET $8::bigint) "
        "SELECT (SELECT count(*) FROM f), " CERT_COLS " FROM (SELECT 1) one LEFT JOIN "
        "(p JOIN managed_certificates mc ON mc.id = p.id) ON true ORDER BY mc.created_at, mc.id",
        8, true},
    [PG_CERT_MATCH] = {"fs_cert_match",
        "SELECT mc.id, mc.status, " US("mc.expires_at") " FROM managed_certificates mc WHERE "
        CERT_FILTER " ORDER BY mc.created_at, mc.id LIMIT $7::bigint",
        7, true},
    [PG_CERT_SET_STATUS] = {"fs_cert_set_status",
        "UPDATE managed_certificates SET status = $2, updated_at = " TS(3) " WHERE id = $1", 3},
    [PG_CERT_RENEWED] = {"fs_cert_renewed",
        "UPDATE managed_certificates SET status = 'Active', expires_at = " TS(2) ", "
        "last_renewal_at = " TS(3) ", updated_at = " TS(3) " WHERE id = $1",
        3},
    [PG_CERT_TARGETS] = {"fs_cert_targets",
        "SELECT dt.id, dt.agent_id FROM certificate_target_mappings m JOIN deployment_targets dt "
        "ON dt.id = m.target_id WHERE m.certificate_id = $1 ORDER BY dt.id",
        1},
    [PG_CERT_LATEST_PEM] = {"fs_cert_latest_pem",
        "SELECT pem_chain FROM certificate_versions WHERE certificate_id = $1 "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        1},
    [PG_VERSION_INSERT] = {"fs_version_insert",
        "INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, "
        "not_after, fingerprint_sha256, pem_chain, csr_pem, created_at) VALUES ($1, $2, $3, "
        TS(4) ", " TS(5) ", $6, $7, $8, " TS(9) ")",
        9},
    [PG_JOB_INSERT] = {"fs_job_insert",
        "INSERT INTO jobs (id, type, certificate_id, target_id, agent_id, status, attempts, "
        "max_attempts, last_error, scheduled_at, started_at, completed_at, created_at) VALUES "
        "($1, $2, $3, $4, $5, $6, $7::int, $8::int, $9, " TS(10) ", " TS(11) ", " TS(12) ", "
        TS(13) ")",
        13},
    [PG_JOB_GET] = {"fs_job_get", "SELECT " JOB_COLS " FROM jobs j WHERE j.id = $1", 1},
    [PG_JOB_SET_STATUS] = {"fs_job_set_status",
        "UPDATE jobs SET status = $2, last_error = $3 WHERE id = $1", 3},
    [PG_JOB_FIND_AWAITING] = {"fs_job_find_awaiting",
        "SELECT id FROM jobs WHERE certificate_id = $1 AND status = 'AwaitingCSR' AND type IN "
        "('Renewal', 'Issuance') ORDER BY created_at, id LIMIT 1",
        1},
    [PG_JOB_COUNTS] = {"fs_job_counts",
        "SELECT status, count(*) FROM jobs GROUP BY status ORDER BY status", 0},
    [PG_PROFILE_INSERT] = {"fs_profile_insert",
        "INSERT INTO certificate_profiles (id, name, description, allowed_key_algorithms, "
        "max_ttl_seconds, acme_auth_mode, requires_approval, enabled, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::int, $6, $7::boolean, $8::boolean, " TS(9) ", "
        TS(9) ")",
        9},
    [PG_PROFILE_GET] = {"fs_profile_get",
        "SELECT id, name, COALESCE(description, ''), allowed_key_algorithms::text, "
        "max_ttl_seconds, acme_auth_mode, requires_approval, enabled, " US("created_at") ", "
        US("updated_at") " FROM certificate_profiles WHERE id = $1",
        1},
    [PG_REF_TEAM] = {"fs_ref_team",
        "INSERT INTO teams (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", 2},
    /* owners.team_id is NOT NULL: a new owner joins the oldest team (add a team first). */
    [PG_REF_OWNER] = {"fs_ref_owner",
        "INSERT INTO owners (id, name, email, team_id) SELECT $1, $2, $1 || '@fleet.example.test', "
        "(SELECT id FROM teams ORDER BY created_at, id LIMIT 1) ON CONFLICT (id) DO NOTHING",
        2},
    [PG_REF_ISSUER] = {"fs_ref_issuer",
        "INSERT INTO issuers (id, name, type, config) VALUES ($1, $2, 'GenericCA', '{}'::jsonb) "
        "ON CONFLICT (id) DO NOTHING",
        2},
    [PG_REF_POLICY] = {"fs_ref_policy",
        "INSERT INTO renewal_policies (id, name, renewal_window_days) VALUES ($1, $2, 30) "
        "ON CONFLICT (id) DO NOTHING",
        2},
};
/* clang-format on */
