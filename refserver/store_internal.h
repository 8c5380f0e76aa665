/* refserver/store_internal.h - internals shared by the store's front end (store.c), its JSON builders
 * (store_json.c) and its two backends (store_mem*.c, store_pg*.c). Not for other modules.
 * The front end validates, assigns ids and times and runs the multi-step algorithms (bulk
 * renewal, CSR completion, retirement) over the fine-grained backend operations below, so both
 * backends share one set of semantics. */
#ifndef FLEETSIM_TARGET_STORE_INT_H
#define FLEETSIM_TARGET_STORE_INT_H

#include <stdint.h>

#include "refserver/store.h"

/* Times inside the store are Unix microseconds (PostgreSQL's resolution). */
#define STORE_TIME_NULL INT64_MIN                    /* SQL NULL / Go nil pointer */
#define STORE_TIME_ZERO (-62135596800LL * 1000000LL) /* Go's zero time 0001-01-01T00:00:00Z */

/* Size of buffers for generated ids (prefix-<unixnano>-<n>) and fetched short strings. */
#define STORE_ID_MAX 160
#define STORE_STATUS_MAX 64

/* Known job / certificate statuses and job types (certctl's domain constants). */
#define JOB_PENDING "Pending"
#define JOB_AWAITING_CSR "AwaitingCSR"
#define JOB_AWAITING_APPROVAL "AwaitingApproval"
#define JOB_RUNNING "Running"
#define JOB_COMPLETED "Completed"
#define JOB_FAILED "Failed"
#define JOB_CANCELLED "Cancelled"
#define JOB_TYPE_ISSUANCE "Issuance"
#define JOB_TYPE_RENEWAL "Renewal"
#define JOB_TYPE_DEPLOYMENT "Deployment"
#define CERT_PENDING "Pending"
#define CERT_ACTIVE "Active"
#define CERT_RENEWAL_IN_PROGRESS "RenewalInProgress"
#define AGENT_ONLINE "Online"
#define JOB_MAX_ATTEMPTS 3

/* Row views: borrowed pointers, valid for the duration of one call. NULL strings are SQL NULL
 * (omitted from JSON where certctl omits them). */
struct store_agent_view {
    const char *id, *name, *hostname, *status, *api_key_hash;
    const char *os, *architecture, *ip_address, *version, *retired_reason;
    int64_t last_heartbeat_us, registered_us, retired_us;
};

struct store_cert_view {
    const char *id, *name, *common_name;
    const char *const *sans;
    size_t n_sans;
    const char *environment, *owner_id, *team_id, *issuer_id, *renewal_policy_id;
    const char *profile_id; /* NULL = none */
    const char *status;
    const char *tags_json; /* NULL = "{}" */
    const char *const *target_ids;
    size_t n_target_ids;
    const char *revocation_reason, *source;
    int64_t expires_us, last_renewal_us, last_deployment_us, revoked_us, created_us, updated_us;
};

struct store_job_view {
    const char *id, *type, *certificate_id, *target_id, *agent_id, *status, *last_error;
    const char *verification_status; /* NULL = "pending" (the column's default) */
    int attempts, max_attempts;
    int64_t scheduled_us, started_us, completed_us, created_us;
};

struct store_work_view {
    const char *id, *type, *certificate_id, *common_name;
    const char *const *sans;
    size_t n_sans;
    const char *target_id, *target_type, *target_config_json, *status;
};

struct store_profile_view {
    const char *id, *name, *description;
    const char *rules_json; /* [{"algorithm":..,"min_size":..}] */
    int64_t max_ttl_seconds;
    const char *acme_auth_mode;
    bool requires_approval, enabled;
    int64_t created_us, updated_us;
};

struct store_version_view {
    const char *id, *certificate_id, *serial_number, *fingerprint_sha256, *pem_chain, *csr_pem;
    int64_t not_before_us, not_after_us, created_us;
};

struct store_target_view {
    const char *id, *name, *type, *agent_id, *config_json;
    int64_t created_us;
};

struct store_dep_counts {
    int64_t active_targets, active_certificates, pending_jobs;
};

/* (target_id, agent_id) of one mapping, for deployment job creation. */
typedef int (*store_target_cb)(const char *target_id, const char *agent_id, void *arg);
/* One candidate of a bulk renewal. */
typedef int (*store_cert_cb)(const char *id, const char *status, int64_t expires_us, void *arg);

/* Backend operations. Each returns a STORE_* code; strings in arguments are never NULL unless
 * stated. "json" outputs follow store.h's ownership rule. */
struct store_ops {
    const char *name;
    void (*destroy)(struct store *s);
    int (*begin)(struct store *s);
    int (*commit)(struct store *s);
    void (*rollback)(struct store *s);
    /* NULL: always available; else whether the backing database answers (probe: with a round
     * trip), reconnecting as needed */
    bool (*available)(struct store *s, bool probe);

    int (*agent_insert)(struct store *s, const struct store_agent_view *a); /* CONFLICT: name/id */
    int (*agent_get)(struct store *s, const char *id, json_object **out);
    int (*agent_heartbeat)(struct store *s, const char *id, const struct store_agent_meta *m,
                           int64_t now_us);
    int (*agent_retired_at)(struct store *s, const char *id, int64_t *retired_us);
    int (*agent_dep_counts)(struct store *s, const char *id, struct store_dep_counts *c);
    int (*agent_retire)(struct store *s, const char *id, int64_t now_us, const char *reason,
                        bool cascade);
    int (*agent_counts)(struct store *s, struct store_agent_counts *out);

    int (*target_insert)(struct store *s, const struct store_target_view *t);
    int (*map_insert)(struct store *s, const char *cert_id, const char *target_id);

    int (*work_poll)(struct store *s, const char *agent_id, int64_t now_us, json_object **out);

    int (*cert_insert)(struct store *s, const struct store_cert_view *c); /* ERROR: dup/FK */
    int (*cert_get)(struct store *s, const char *id, json_object **out);
    int (*cert_brief)(struct store *s, const char *id, char *status, size_t status_len,
                      int64_t *expires_us);
    int (*cert_list)(struct store *s, const struct store_cert_filter *f, int64_t limit,
                     int64_t offset, int64_t *total, json_object **data);
    int (*cert_match)(struct store *s, const struct store_cert_filter *f, int64_t limit,
                      store_cert_cb cb, void *arg); /* limit < 0: all; oldest first */
    int (*cert_set_status)(struct store *s, const char *id, const char *status, int64_t now_us);
    int (*cert_renewed)(struct store *s, const char *id, int64_t not_after_us, int64_t now_us);
    int (*cert_targets)(struct store *s, const char *id, store_target_cb cb, void *arg);
    int (*cert_latest_pem)(struct store *s, const char *id, char **pem);
    int (*version_insert)(struct store *s, const struct store_version_view *v);

    int (*job_insert)(struct store *s, const struct store_job_view *j);
    int (*job_get)(struct store *s, const char *id, json_object **out);
    int (*job_set_status)(struct store *s, const char *id, const char *status, const char *error);
    int (*job_find_awaiting)(struct store *s, const char *cert_id, char *job_id, size_t n);
    int (*job_counts)(struct store *s, json_object **out);

    int (*profile_insert)(struct store *s, const struct store_profile_view *p); /* CONFLICT */
    int (*profile_get)(struct store *s, const char *id, json_object **out);

    int (*ref_add)(struct store *s, const char *kind, const char *id, const char *name);
    /* Optional (NULL = use the generic path in store_seed.c). */
    int (*seed_fleet)(struct store *s, const struct store_seed_config *cfg, char *err,
                      size_t errlen);
};

struct store {
    const struct store_ops *ops;
    void *be; /* backend state */
    struct store_config cfg;
    uint64_t id_counter;
    int64_t last_created_us;
};

/* Backend constructors: fill s->ops and s->be; return 0 or -1 with a reason in err. */
int store_mem_open(struct store *s, char *err, size_t errlen);
int store_pg_open(struct store *s, char *err, size_t errlen);

/* Wall-clock now in µs through the configured clock. */
int64_t store_now_us(struct store *s);
/* A creation time: now, but strictly greater than the previous one (stable ordering). */
int64_t store_created_us(struct store *s);
/* Writes prefix-<unixnano>-<n> (certctl's generateID) into buf (size n >= STORE_ID_MAX). */
void store_gen_id(struct store *s, const char *prefix, char *buf, size_t n);
/* Hex SHA-256 of data into out (size >= 65). */
void store_sha256_hex(const void *data, size_t len, char *out);
/* True when status is one of certctl's 8 certificate statuses. */
bool store_cert_status_known(const char *status);

/* Ends a backend transaction: commit when rc is STORE_OK, else rollback and return rc. */
int store_in_tx(struct store *s, int rc);
/* Inserts an AwaitingCSR job of type (Renewal/Issuance) for cert_id; its id goes to id (size
 * STORE_ID_MAX). */
int store_insert_csr_job(struct store *s, const char *cert_id, const char *type, char *id);

struct seed_options;
/* seed/'s options for a store seeding request (defaults where cfg leaves zeros). */
void store_seed_options(const struct store_seed_config *cfg, struct seed_options *o);

/* JSON builders (store_json.c): certctl's JSON shapes. Return a new object (never NULL). */
json_object *store_json_agent(const struct store_agent_view *a);
json_object *store_json_cert(const struct store_cert_view *c);
json_object *store_json_job(const struct store_job_view *j);
json_object *store_json_work_item(const struct store_work_view *w);
json_object *store_json_profile(const struct store_profile_view *p);
/* Parses JSON text or returns fallback_text parsed ("{}" / "[]") when NULL or invalid. */
json_object *store_json_parse_or(const char *text, const char *fallback_text);
/* Formats µs as Go's RFC 3339 (nanosecond form, trailing zeros trimmed, UTC "Z"). buf >= 40. */
void store_format_time(int64_t us, char *buf, size_t n);
/* A JSON string of store_format_time, or NULL for STORE_TIME_NULL. */
json_object *store_json_time(int64_t us);
/* Sorts and builds the retire result body. */
json_object *store_json_retire(const char *agent_id, int64_t retired_us, bool already, bool cascade,
                               const struct store_dep_counts *c);

#endif
