/* refserver/store_mem.h - the memory backend's tables, shared by store_mem.c (agents, targets,
 * reference rows), store_mem_cert.c (certificates, versions, profiles) and store_mem_job.c
 * (jobs, work polls, counts). Indexes make every agent-facing call cost O(that agent's rows):
 * each agent keeps its targets and the intrusive list of Pending Deployment jobs routed to it;
 * each target keeps its mapped certificates; each certificate keeps its AwaitingCSR jobs. */
#ifndef FLEETSIM_TARGET_STORE_MEM_H
#define FLEETSIM_TARGET_STORE_MEM_H

#include "refserver/store_internal.h"
#include "refserver/store_map.h"

/* A growable array of pointers. */
struct mem_vec {
    void **v;
    size_t n, cap;
};
int mem_vec_push(struct mem_vec *vec, void *p);
void mem_vec_free(struct mem_vec *vec);

/* Which intrusive list a job is on. */
enum mem_job_list { MEM_LIST_NONE, MEM_LIST_AGENT_PENDING, MEM_LIST_CERT_AWAITING };

struct mem_job;

struct mem_job_list_head {
    struct mem_job *head, *tail;
};

/* OS bucket of an agent: enum identity_os, or this for anything else. */
#define MEM_OS_OTHER IDENTITY_OS_COUNT

struct mem_agent {
    char *id, *name, *hostname, *os, *architecture, *ip_address, *version, *api_key_hash;
    char *retired_reason; /* NULL = SQL NULL */
    const char *status;   /* static string */
    int64_t registered_us, last_heartbeat_us, retired_us;
    int os_bucket;
    int64_t active_jobs;              /* jobs with agent_id = this agent in an active status */
    struct mem_vec targets;           /* struct mem_target * */
    struct mem_job_list_head pending; /* Pending Deployment jobs routed here */
};

struct mem_target {
    char *id, *name, *type, *config_json;
    struct mem_agent *agent;
    int64_t created_us, retired_us;
    struct mem_vec certs; /* struct mem_cert * mapped to this target */
};

struct mem_version {
    char *id, *serial, *fingerprint, *pem_chain;
    int64_t not_before_us, not_after_us, created_us;
};

struct mem_cert {
    char *id, *name, *common_name, *environment, *owner_id, *team_id, *issuer_id, *policy_id;
    char *profile_id; /* NULL = none */
    char **sans;
    size_t n_sans;
    const char *status; /* static string (certctl's 8 statuses) */
    int64_t expires_us, last_renewal_us, last_deployment_us, created_us, updated_us;
    struct mem_vec targets;            /* struct mem_target * */
    struct mem_job_list_head awaiting; /* AwaitingCSR Renewal/Issuance jobs */
    struct mem_version *latest;        /* only the latest version is kept */
    uint64_t n_versions;
    uint64_t mark; /* scratch for de-duplication during one call */
};

struct mem_job {
    const char *type;   /* static */
    const char *status; /* interned (mem_status_intern) or status_owned */
    char *status_owned;
    char *last_error;
    struct mem_cert *cert;
    struct mem_target *target; /* NULL = none */
    struct mem_agent *agent;   /* agent_id; NULL = none */
    struct mem_agent *route;   /* agent, or the target's agent */
    int attempts, max_attempts;
    int64_t scheduled_us, started_us, completed_us, created_us;
    uint64_t seq, mark;
    enum mem_job_list list;
    struct mem_job *prev, *next;
    char id[]; /* NUL-terminated */
};

/* Job counts by status: the known statuses plus at most MEM_STATUS_MAX others. */
#define MEM_STATUS_MAX 64
struct mem_status_count {
    char *name;
    uint64_t n;
};

struct mem_profile {
    char *id, *name, *description, *rules_json, *acme_auth_mode;
    int64_t max_ttl_seconds, created_us, updated_us;
    bool requires_approval, enabled;
};

struct mem {
    struct smap agents, agent_names, targets, certs, cert_names, jobs, profiles, profile_names;
    struct smap fingerprints; /* latest versions' fingerprints → cert */
    struct smap refs[4];      /* team, owner, issuer, renewal_policy ids (key = value) */
    struct mem_vec agent_list, target_list, cert_list, profile_list; /* creation order */
    struct mem_vec job_list;
    struct mem_status_count statuses[MEM_STATUS_MAX];
    size_t n_statuses;
    uint64_t other_status_jobs; /* jobs whose status did not fit the table */
    uint64_t agents_retired, os_counts[IDENTITY_OS_COUNT + 1];
    uint64_t job_seq, mark_gen;
};

static inline struct mem *mem_of(struct store *s)
{
    return s->be;
}

/* strdup that maps NULL to NULL; returns NULL also on failure (callers check). */
char *mem_strdup(const char *s);
/* Replaces *dst with a copy of src unless equal. Returns 0 or -1 (out of memory). */
int mem_set_str(char **dst, const char *src);

/* Agents / targets (store_mem.c). */
struct mem_agent *mem_agent_find(struct mem *m, const char *id);
struct mem_target *mem_target_find(struct mem *m, const char *id);

/* Certificates (store_mem_cert.c). */
struct mem_cert *mem_cert_find(struct mem *m, const char *id);
void mem_cert_view(const struct mem_cert *c, struct store_cert_view *v, const char **target_ids);
void mem_cert_free(struct mem_cert *c);
void mem_profile_free(struct mem_profile *p);

/* Jobs (store_mem_job.c). */
void mem_job_free(struct mem_job *j);
/* Interns a status for counting; returns the stable string or NULL when the table is full. */
const char *mem_status_intern(struct mem *m, const char *status);
/* True for the statuses certctl's retirement pre-flight counts as pending work. */
bool mem_status_active(const char *status);

/* The operations of each file, installed by store_mem_open. */
int mem_cert_insert(struct store *s, const struct store_cert_view *c);
int mem_cert_get(struct store *s, const char *id, json_object **out);
int mem_cert_brief(struct store *s, const char *id, char *status, size_t n, int64_t *expires_us);
int mem_cert_list(struct store *s, const struct store_cert_filter *f, int64_t limit, int64_t offset,
                  int64_t *total, json_object **data);
int mem_cert_match(struct store *s, const struct store_cert_filter *f, int64_t limit,
                   store_cert_cb cb, void *arg);
int mem_cert_set_status(struct store *s, const char *id, const char *status, int64_t now_us);
int mem_cert_renewed(struct store *s, const char *id, int64_t not_after_us, int64_t now_us);
int mem_cert_targets(struct store *s, const char *id, store_target_cb cb, void *arg);
int mem_cert_latest_pem(struct store *s, const char *id, char **pem);
int mem_version_insert(struct store *s, const struct store_version_view *v);
int mem_profile_insert(struct store *s, const struct store_profile_view *p);
int mem_profile_get(struct store *s, const char *id, json_object **out);

int mem_job_insert(struct store *s, const struct store_job_view *j);
int mem_job_get(struct store *s, const char *id, json_object **out);
int mem_job_set_status(struct store *s, const char *id, const char *status, const char *error);
int mem_job_find_awaiting(struct store *s, const char *cert_id, char *job_id, size_t n);
int mem_job_counts(struct store *s, json_object **out);
int mem_work_poll(struct store *s, const char *agent_id, int64_t now_us, json_object **out);

#endif
