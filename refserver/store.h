/* refserver/store.h - certctl's data model without HTTP, for fleetsim-target: agents, deployment
 * targets, managed certificates, certificate_target_mappings, certificate versions, jobs and
 * profiles, with certctl's rules (docs/certctl.md: "The agent", "Operator endpoints", "Database").
 * Two backends behind one interface (a table of operations chosen at store_new; validation, ids and
 * the multi-step operations are shared code, so both answer alike):
 * - memory (default): hash tables sized by store_config; O(1) heartbeat that allocates nothing
 *   unless metadata changes; a work poll costs O(this agent's jobs and mapped certificates);
 *   only each certificate's latest version is kept (its PEM is all the agents fetch); jobs are
 *   kept. No rollback: multi-step operations do their failing checks before any change.
 * - PostgreSQL through libpq (--db): certctl's tables (seed/schema.sql column names), prepared
 *   statements, one synchronous connection, so the store serialises its DB calls on the
 *   target's thread; each operation is one round trip, or one transaction (CSR completion, bulk
 *   renewal). Like certctl at start-up, the issuer iss-local is created when issuers is empty
 *   (the memory store knows iss-local from the start too).
 *
 * Threading: a store is used from one thread (the target's event-loop thread). No locking.
 * Results: entities come back as json-c objects already in certctl's JSON shape (the handler
 * serialises them, adding nothing); the caller owns every *_out object (json_object_put) and
 * every malloc'd string (free). On any error return *out is left NULL.
 * Times: the store reads wall-clock time through store_config.now_unix_ns (default
 * CLOCK_REALTIME); JSON times are RFC 3339 UTC with nanoseconds, as Go marshals time.Time. */
#ifndef FLEETSIM_TARGET_STORE_H
#define FLEETSIM_TARGET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "sim/identity.h"

/* Return codes of every store operation. Negative = failure. */
enum store_rc {
    STORE_OK = 0,
    STORE_NOT_FOUND = -1, /* no such row (agent, job, cert, profile) */
    STORE_GONE = -2,      /* agent retired: heartbeat → 410; retire of a retired agent → 204 */
    STORE_CONFLICT = -3,  /* unique name taken (agents.name, certificate_profiles.name) → 409 */
    STORE_INVALID = -4,   /* request fails certctl's validation → 400 */
    STORE_ERROR = -5,     /* anything else: DB error, FK failure, cert id/name taken → 500 */
};

/* certctl's paging rules for GET /api/v1/certificates. */
#define STORE_PER_PAGE_DEFAULT 50
#define STORE_PER_PAGE_MAX 500
/* Rows a filtered bulk renewal processes when bulk_clamp is on (certctl's List clamp). */
#define STORE_BULK_CLAMP_ROWS 50
/* Longest agent name certctl accepts. */
#define STORE_AGENT_NAME_MAX 128

struct store;

/* Wall-clock source: returns Unix time in nanoseconds. */
typedef int64_t (*store_clock_fn)(void *arg);

struct store_config {
    const char *db_url;         /* NULL or "" = memory backend; else a libpq conninfo/URL */
    uint32_t expect_agents;     /* sizing hint for the memory tables (0 = 50,000) */
    uint32_t expect_certs;      /* sizing hint (0 = 100,000) */
    bool bulk_clamp;            /* true = certctl's 50-row clamp on filtered bulk renewals */
    store_clock_fn now_unix_ns; /* NULL = clock_gettime(CLOCK_REALTIME) */
    void *clock_arg;
};

/* Sets cfg to the defaults: memory backend, default sizes, bulk_clamp on, real clock. */
void store_config_init(struct store_config *cfg);

/* Opens a store. For PostgreSQL it connects, checks that certctl's tables exist and prepares
 * the statements. Returns NULL and a one-line reason in err (never the password) on failure. */
struct store *store_new(const struct store_config *cfg, char *err, size_t errlen);

/* Closes the connection / frees every table. NULL is accepted. */
void store_free(struct store *s);

/* "memory" or "postgresql". */
const char *store_backend_name(const struct store *s);

/* True when the store can serve requests: always for memory; for PostgreSQL when the session
 * works, re-established (with back-off between attempts) after the server closed it; probe
 * adds a SELECT 1 round trip (for /ready). */
bool store_available(struct store *s, bool probe);

/* ---- agents ---------------------------------------------------------------------------- */

/* Metadata an agent reports; NULL or "" fields are "not given". */
struct store_agent_meta {
    const char *hostname;
    const char *os;
    const char *architecture;
    const char *ip_address;
    const char *version;
};

/* POST /api/v1/agents: name (required, ≤128 chars, unique) and meta->hostname (required).
 * Assigns id agent-<unixnano>-<n>, status Online, registered_at = now, api_key_hash = SHA-256
 * of a random key that is never kept or returned (as certctl).
 * Returns OK with *agent_out = certctl's Agent JSON; INVALID (missing/too long);
 * CONFLICT (name taken); ERROR. */
int store_agent_register(struct store *s, const char *name, const struct store_agent_meta *meta,
                         json_object **agent_out);

/* Agent JSON by id (retired agents included). OK / NOT_FOUND / ERROR. agent_out may be NULL
 * (existence check only). */
int store_agent_get(struct store *s, const char *agent_id, json_object **agent_out);

/* POST /api/v1/agents/{id}/heartbeat: sets last_heartbeat_at = now (the store's clock), each
 * non-empty meta field, and status Online. OK / NOT_FOUND (404) / GONE (retired: 410) / ERROR. meta may be NULL.
 * Memory backend: O(1), allocates nothing unless a metadata string changes. */
int store_agent_heartbeat(struct store *s, const char *agent_id,
                          const struct store_agent_meta *meta);

/* DELETE /api/v1/agents/{id}[?force=true&reason=] (certctl's RetireAgent, minus the sentinel
 * check, which is the handler's: ids "server-scanner" and "cloud-*" → 403).
 * *result_out (may be NULL) = {"agent_id","retired_at","already_retired","cascade",
 *   "counts":{"active_targets":n,"active_certificates":n,"pending_jobs":n}}.
 * OK: retired now (cascade = force and there were dependencies: active targets retired too).
 * GONE: already retired (certctl: 204); *result_out has the original retired_at.
 * CONFLICT: !force and dependencies exist (certctl: 409 blocked_by_dependencies); *result_out
 *   IS set (the counts for the 409 body) — the one exception to "NULL on error".
 * INVALID: force with an empty reason (certctl: 400). NOT_FOUND. ERROR. */
int store_agent_retire(struct store *s, const char *agent_id, bool force, const char *reason,
                       json_object **result_out);

/* Counts for /_target/stats. os buckets are by the agent's current os string; anything other
 * than linux/windows/darwin (including "") counts as other. Retired agents are in total. */
struct store_agent_counts {
    uint64_t total;
    uint64_t retired;
    uint64_t os[IDENTITY_OS_COUNT]; /* indexed by enum identity_os */
    uint64_t os_other;
};
int store_agent_counts(struct store *s, struct store_agent_counts *out);

/* ---- agent work ------------------------------------------------------------------------ */

/* GET /api/v1/agents/{id}/work, certctl's ClaimPendingByAgentID in one transaction:
 * (a) Pending Deployment jobs of this agent (jobs.agent_id, or the target's agent when
 * agent_id is empty) become Running and are returned; (b) AwaitingCSR Renewal/Issuance jobs
 * whose certificate is mapped to one of this agent's targets are returned unchanged, with
 * common_name and sans. *jobs_out = JSON array of WorkItems
 * {id,type,certificate_id,common_name?,sans?,target_id?,target_type?,target_config?,status}
 * in certctl's order: direct claims, target-routed claims, AwaitingCSR; each by created_at
 * (the handler wraps it as {"jobs":[…],"count":n}). A retired agent still gets its jobs (OK).
 * NOT_FOUND for an unknown agent (certctl answers 500); ERROR.
 * Memory backend: O(this agent's jobs + its targets' AwaitingCSR jobs), never a full scan. */
int store_work_poll(struct store *s, const char *agent_id, json_object **jobs_out);

/* A certificate the handler signed for an agent's CSR. */
struct store_issued_cert {
    const char *pem_chain;          /* leaf + chain PEM (required) */
    const char *serial_number;      /* hex (required) */
    const char *fingerprint_sha256; /* hex of the leaf DER's SHA-256 (required, unique) */
    const char *csr_pem;            /* the CSR as received (may be NULL) */
    int64_t not_before_unix_s;
    int64_t not_after_unix_s;
};

/* POST /api/v1/agents/{id}/csr after the handler signed it (certctl's
 * CompleteAgentCSRRenewal): the cert's AwaitingCSR job (if any) → Completed; a new version is
 * inserted (even when there was no such job); cert → Active, expires_at = not_after,
 * last_renewal_at = now; one Pending Deployment job per mapped target (agent_id = that
 * target's agent). One transaction. OK / NOT_FOUND (unknown certificate: certctl 500) /
 * INVALID (missing fields) / ERROR (e.g. duplicate fingerprint). agent_id is informational
 * (certctl does not check it) and may be NULL. */
int store_csr_complete(struct store *s, const char *agent_id, const char *certificate_id,
                       const struct store_issued_cert *issued);

/* GET /api/v1/agents/{id}/certificates/{cert}: malloc'd PEM chain of the cert's latest version
 * in *pem_out. OK / NOT_FOUND (no such cert or no version yet) / ERROR. */
int store_cert_latest_pem(struct store *s, const char *certificate_id, char **pem_out);

/* ---- jobs ------------------------------------------------------------------------------ */

/* POST …/jobs/{job}/status: sets status (any non-empty string, as certctl: no value check) and
 * last_error = error (NULL/"" clears it, as certctl's UpdateStatus). OK / INVALID (empty
 * status: 400) / NOT_FOUND (certctl: 500) / ERROR. */
int store_job_update_status(struct store *s, const char *job_id, const char *status,
                            const char *error);

/* GET /api/v1/jobs/{id}: certctl's Job JSON. OK / NOT_FOUND / ERROR. */
int store_job_get(struct store *s, const char *job_id, json_object **job_out);

/* Job counts by status, for /_target/stats: *counts_out = {"Pending":n,"Running":n,…} with
 * only the statuses that have jobs (statuses are free-form: the memory store counts at most 64
 * distinct ones by name and the rest under "other"). OK / ERROR. */
int store_job_counts(struct store *s, json_object **counts_out);

/* Test helper: creates an AwaitingCSR Renewal job for an existing certificate (as the
 * scheduler or a bulk renewal would, without changing the certificate). *job_id_out (may be
 * NULL) receives the malloc'd id. OK / NOT_FOUND / ERROR. */
int store_job_create_renewal(struct store *s, const char *certificate_id, char **job_id_out);

/* ---- certificates ---------------------------------------------------------------------- */

struct store_cert_filter {
    const char *status;
    const char *owner_id;
    const char *team_id;
    const char *issuer_id;
    const char *agent_id;   /* certs mapped to a target of this agent */
    const char *profile_id; /* certificate_profile_id */
};

/* Applies certctl's paging rules: page < 1 → 1; per_page 0/absent → 50; per_page < 1 or > 500
 * → 50. Inputs are what the query string said (0 when absent). */
void store_paging_normalize(int64_t page_in, int64_t per_page_in, int64_t *page_out,
                            int64_t *per_page_out);

/* GET /api/v1/certificates: *list_out = {"data":[Certificate…],"total":n,"page":p,"per_page":pp}
 * ordered by created_at then id (oldest first); page/per_page as given (normalised here too).
 * filter may be NULL. OK / ERROR. */
int store_cert_list(struct store *s, const struct store_cert_filter *filter, int64_t page,
                    int64_t per_page, json_object **list_out);

/* Certificate JSON by id. OK / NOT_FOUND / ERROR. */
int store_cert_get(struct store *s, const char *certificate_id, json_object **cert_out);

struct store_cert_input {
    const char *id; /* NULL/"" = cert-<unixnano>-<n> */
    const char *name, *common_name, *owner_id, *team_id, *issuer_id, *renewal_policy_id;
    const char *const *sans; /* n_sans strings */
    size_t n_sans;
    const char *environment;            /* NULL = "" */
    const char *certificate_profile_id; /* NULL/"" = none */
    const char *status;                 /* NULL/"" = Pending */
    int64_t expires_at_unix_s;          /* 0 = not given (stored as the zero time) */
};

/* POST /api/v1/certificates. INVALID when a required field is missing or status is not one of
 * certctl's 8 certificate statuses; ERROR (certctl: 500) when the name or id is taken or an
 * owner/team/issuer/policy/profile id does not exist. OK with *cert_out = the Certificate JSON
 * (may be NULL). No job, no mapping (certctl ignores target_ids). */
int store_cert_create(struct store *s, const struct store_cert_input *in, json_object **cert_out);

/* Maps a certificate to a deployment target (certificate_target_mappings; no certctl API does
 * this, seeding and tests do). OK (also when already mapped) / NOT_FOUND / ERROR. */
int store_cert_map_target(struct store *s, const char *certificate_id, const char *target_id);

struct store_bulk_criteria {
    const char *profile_id, *owner_id, *agent_id, *issuer_id, *team_id;
    const char *const *certificate_ids; /* n_certificate_ids ids */
    size_t n_certificate_ids;
};

/* POST /api/v1/certificates/bulk-renew (certctl's bulk_renewal.go): INVALID when no field is
 * set. certificate_ids alone are fetched one by one (unknown ones dropped silently); otherwise
 * the filter selects the oldest matches (STORE_BULK_CLAMP_ROWS of them when bulk_clamp is on),
 * intersected with certificate_ids when both are given.
 * Archived/Revoked/Expired/RenewalInProgress certs are skipped; each other cert becomes
 * RenewalInProgress and gets an AwaitingCSR job of type Renewal (Issuance when expires_at is
 * zero or before 2000). *result_out = {"total_matched","total_enqueued","total_skipped",
 * "total_failed","enqueued_jobs":[{"certificate_id","job_id"}],"errors":[{"certificate_id",
 * "error"}]}. OK / INVALID / ERROR. */
int store_bulk_renew(struct store *s, const struct store_bulk_criteria *criteria,
                     json_object **result_out);

/* ---- profiles -------------------------------------------------------------------------- */

/* One allowed key algorithm of a profile: "ECDSA" | "RSA" | "Ed25519" and its minimum size. */
struct store_key_rule {
    const char *algorithm;
    int min_size;
};

struct store_profile_input {
    const char *id;   /* NULL/"" = prof-<unixnano>-<n> */
    const char *name; /* required, unique */
    const char *description;
    const struct store_key_rule *allowed_key_algorithms; /* n_allowed; 0 = ECDSA 256 + RSA 2048 */
    size_t n_allowed;
    int64_t max_ttl_seconds;    /* 0 = none (the column's default) */
    const char *acme_auth_mode; /* NULL = "trust_authenticated"; else it or "challenge" */
    bool requires_approval;
};

/* POST /api/v1/profiles. OK with *profile_out = certctl's CertificateProfile JSON
 * {id,name,description,allowed_key_algorithms:[{algorithm,min_size}],max_ttl_seconds,
 *  acme_auth_mode,requires_approval,enabled,created_at,updated_at} (profile_out may be NULL);
 * INVALID (name missing, unknown algorithm, bad acme_auth_mode); CONFLICT (id or name taken);
 * ERROR. */
int store_profile_create(struct store *s, const struct store_profile_input *in,
                         json_object **profile_out);

/* Profile JSON by id (profile_out may be NULL: existence check). OK / NOT_FOUND / ERROR. */
int store_profile_get(struct store *s, const char *profile_id, json_object **profile_out);

/* ---- seeding --------------------------------------------------------------------------- */

struct store_seed_config {
    uint32_t agents;    /* agents 1..N (ag-P-%05u), one target each (tgt-P-%05u) */
    uint32_t certs;     /* certs 1..M (mc-P-%05u), cert j mapped to identity_cert_agent(j,N) */
    const char *prefix; /* fleet prefix (NULL = IDENTITY_DEFAULT_PREFIX) */
    uint64_t run_seed;  /* for identity_agent_meta and the expiry spread */
    struct identity_os_mix os_mix;
    const char *agent_version; /* NULL = "2.1.0" */
    const char *issuer_id;     /* NULL = "iss-local" */
    uint32_t expiry_min_days;  /* expires_at spread [min,max] days from now; 0,0 = 32..90 */
    uint32_t expiry_max_days;
    uint32_t host_targets_pct; /* percent of targets whose config carries host and port */
};

/* Creates the simulated fleet (docs/architecture.md, "Fleet identity") with the team/owner/policy
 * rows it needs (the issuer must exist: iss-local always does). PostgreSQL: through seed_run, the
 * same code as `fleetsim seed` (idempotent; agent_version is seed's 2.1.0). Memory: inserted here
 * with seed/'s expiry spread and heartbeat ages, so both stores hold the same fleet; a second
 * seeding of the same ids is CONFLICT. certs > 0 needs agents > 0; a zero os_mix means the
 * default. OK / INVALID (bad prefix, certs without agents, ...) / CONFLICT / ERROR. err (may be
 * NULL) gets a one-line reason. */
int store_seed_fleet(struct store *s, const struct store_seed_config *cfg, char *err,
                     size_t errlen);

/* Makes reference ids known to the memory store's foreign-key checks (teams, owners,
 * issuers, renewal policies) so tests and the API can create certificates; the PostgreSQL
 * backend inserts the rows (ON CONFLICT DO NOTHING; a new owner joins the oldest team, so add
 * a team first; an issuer is of type GenericCA). kind is "team", "owner", "issuer" or
 * "renewal_policy". OK / INVALID (unknown kind) / ERROR. */
int store_reference_add(struct store *s, const char *kind, const char *id);

/* Human-readable text of a return code ("not found", …). Static string. */
const char *store_rc_str(int rc);

#endif
