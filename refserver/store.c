/* refserver/store.c - the store's front end: configuration, backend choice, validation, ids and
 * times, and certctl's multi-step operations (registration, retirement, CSR completion, bulk
 * renewal) written once over the backend operations of store_internal.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "refserver/store_internal.h"

static const char *const cert_statuses[] = {"Pending",           "Active", "Expiring", "Expired",
                                            "RenewalInProgress", "Failed", "Revoked",  "Archived"};

static bool empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static int64_t real_clock_ns(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void store_config_init(struct store_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->bulk_clamp = true;
}

struct store *store_new(const struct store_config *cfg, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cfg != NULL)
        s->cfg = *cfg;
    else
        store_config_init(&s->cfg);
    if (s->cfg.now_unix_ns == NULL)
        s->cfg.now_unix_ns = real_clock_ns;
    if (s->cfg.expect_agents == 0)
        s->cfg.expect_agents = 50000;
    if (s->cfg.expect_certs == 0)
        s->cfg.expect_certs = 100000;
    int rc = empty(s->cfg.db_url) ? store_mem_open(s, err, errlen) : store_pg_open(s, err, errlen);
    if (rc != 0) {
        free(s);
        return NULL;
    }
    s->cfg.db_url = NULL; /* not kept: it may hold a password */
    return s;
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    s->ops->destroy(s);
    free(s);
}

const char *store_backend_name(const struct store *s)
{
    return s->ops->name;
}

const char *store_rc_str(int rc)
{
    switch (rc) {
    case STORE_OK:
        return "ok";
    case STORE_NOT_FOUND:
        return "not found";
    case STORE_GONE:
        return "retired";
    case STORE_CONFLICT:
        return "conflict";
    case STORE_INVALID:
        return "invalid";
    case STORE_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

bool store_available(struct store *s, bool probe)
{
    return s->ops->available == NULL || s->ops->available(s, probe);
}

/* ---- shared helpers ---------------------------------------------------------------------- */

int64_t store_now_us(struct store *s)
{
    return s->cfg.now_unix_ns(s->cfg.clock_arg) / 1000;
}

int64_t store_created_us(struct store *s)
{
    int64_t now = store_now_us(s);
    if (now <= s->last_created_us)
        now = s->last_created_us + 1;
    s->last_created_us = now;
    return now;
}

void store_gen_id(struct store *s, const char *prefix, char *buf, size_t n)
{
    int64_t ns = s->cfg.now_unix_ns(s->cfg.clock_arg);
    snprintf(buf, n, "%s-%" PRId64 "-%" PRIu64, prefix, ns, ++s->id_counter);
}

void store_sha256_hex(const void *data, size_t len, char *out)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < mdlen; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
    out[2 * mdlen] = '\0';
}

bool store_cert_status_known(const char *status)
{
    for (size_t i = 0; i < sizeof(cert_statuses) / sizeof(cert_statuses[0]); i++)
        if (strcmp(status, cert_statuses[i]) == 0)
            return true;
    return false;
}

/* ---- agents ------------------------------------------------------------------------------ */

int store_agent_register(struct store *s, const char *name, const struct store_agent_meta *meta,
                         json_object **agent_out)
{
    if (agent_out)
        *agent_out = NULL;
    if (empty(name) || strlen(name) > STORE_AGENT_NAME_MAX || meta == NULL || empty(meta->hostname))
        return STORE_INVALID;
    char id[STORE_ID_MAX], hash[65];
    unsigned char key[32];
    store_gen_id(s, "agent", id, sizeof(id));
    if (RAND_bytes(key, sizeof(key)) != 1)
        return STORE_ERROR;
    store_sha256_hex(key, sizeof(key), hash); /* the key itself is never kept (certctl) */
    int64_t now = store_created_us(s);
    struct store_agent_view a = {
        .id = id,
        .name = name,
        .hostname = meta->hostname,
        .status = AGENT_ONLINE,
        .api_key_hash = hash,
        .os = meta->os ? meta->os : "",
        .architecture = meta->architecture ? meta->architecture : "",
        .ip_address = meta->ip_address ? meta->ip_address : "",
        .version = meta->version ? meta->version : "",
        .retired_reason = NULL,
        .last_heartbeat_us = STORE_TIME_NULL,
        .registered_us = now,
        .retired_us = STORE_TIME_NULL,
    };
    int rc = s->ops->agent_insert(s, &a);
    if (rc == STORE_OK && agent_out)
        *agent_out = store_json_agent(&a);
    return rc;
}

/* One record by id through the backend's get: an empty id is not found; out may be NULL when
 * only the answer matters. */
static int get_by_id(struct store *s, int (*get)(struct store *, const char *, json_object **),
                     const char *id, json_object **out)
{
    json_object *tmp = NULL;
    if (out)
        *out = NULL;
    if (empty(id))
        return STORE_NOT_FOUND;
    int rc = get(s, id, &tmp);
    if (out)
        *out = tmp;
    else
        json_object_put(tmp);
    return rc;
}

int store_agent_get(struct store *s, const char *agent_id, json_object **agent_out)
{
    return get_by_id(s, s->ops->agent_get, agent_id, agent_out);
}

int store_agent_heartbeat(struct store *s, const char *agent_id,
                          const struct store_agent_meta *meta)
{
    static const struct store_agent_meta none = {0};
    if (empty(agent_id))
        return STORE_NOT_FOUND;
    return s->ops->agent_heartbeat(s, agent_id, meta ? meta : &none, store_now_us(s));
}

int store_agent_retire(struct store *s, const char *agent_id, bool force, const char *reason,
                       json_object **result_out)
{
    if (result_out)
        *result_out = NULL;
    if (empty(agent_id))
        return STORE_NOT_FOUND;
    int64_t retired_us = STORE_TIME_NULL;
    struct store_dep_counts c = {0};
    int rc = s->ops->agent_retired_at(s, agent_id, &retired_us);
    if (rc != STORE_OK)
        return rc;
    if (retired_us != STORE_TIME_NULL) {
        if (result_out)
            *result_out = store_json_retire(agent_id, retired_us, true, false, &c);
        return STORE_GONE;
    }
    rc = s->ops->agent_dep_counts(s, agent_id, &c);
    if (rc != STORE_OK)
        return rc;
    bool deps = c.active_targets > 0 || c.active_certificates > 0 || c.pending_jobs > 0;
    if (force && empty(reason))
        return STORE_INVALID;
    if (!force && deps) {
        if (result_out)
            *result_out = store_json_retire(agent_id, STORE_TIME_NULL, false, false, &c);
        return STORE_CONFLICT;
    }
    int64_t now = store_now_us(s);
    bool cascade = force && deps;
    rc = s->ops->agent_retire(s, agent_id, now, reason ? reason : "", cascade);
    if (rc == STORE_OK && result_out)
        *result_out = store_json_retire(agent_id, now, false, cascade, &c);
    return rc;
}

int store_agent_counts(struct store *s, struct store_agent_counts *out)
{
    memset(out, 0, sizeof(*out));
    return s->ops->agent_counts(s, out);
}

/* ---- work, CSR, certificates for agents -------------------------------------------------- */

int store_work_poll(struct store *s, const char *agent_id, json_object **jobs_out)
{
    *jobs_out = NULL;
    if (empty(agent_id))
        return STORE_NOT_FOUND;
    return s->ops->work_poll(s, agent_id, store_now_us(s), jobs_out);
}

int store_cert_latest_pem(struct store *s, const char *certificate_id, char **pem_out)
{
    *pem_out = NULL;
    if (empty(certificate_id))
        return STORE_NOT_FOUND;
    return s->ops->cert_latest_pem(s, certificate_id, pem_out);
}

/* ---- jobs -------------------------------------------------------------------------------- */

int store_job_update_status(struct store *s, const char *job_id, const char *status,
                            const char *error)
{
    if (empty(status))
        return STORE_INVALID;
    if (empty(job_id))
        return STORE_NOT_FOUND;
    return s->ops->job_set_status(s, job_id, status, empty(error) ? NULL : error);
}

int store_job_get(struct store *s, const char *job_id, json_object **job_out)
{
    return get_by_id(s, s->ops->job_get, job_id, job_out);
}

int store_job_counts(struct store *s, json_object **counts_out)
{
    *counts_out = NULL;
    return s->ops->job_counts(s, counts_out);
}

int store_job_create_renewal(struct store *s, const char *certificate_id, char **job_id_out)
{
    if (job_id_out)
        *job_id_out = NULL;
    char status[STORE_STATUS_MAX], id[STORE_ID_MAX];
    int64_t expires;
    if (empty(certificate_id))
        return STORE_NOT_FOUND;
    int rc = s->ops->cert_brief(s, certificate_id, status, sizeof(status), &expires);
    if (rc == STORE_OK)
        rc = store_insert_csr_job(s, certificate_id, JOB_TYPE_RENEWAL, id);
    if (rc == STORE_OK && job_id_out && (*job_id_out = strdup(id)) == NULL)
        rc = STORE_ERROR;
    return rc;
}

/* ---- certificates ------------------------------------------------------------------------ */

void store_paging_normalize(int64_t page_in, int64_t per_page_in, int64_t *page_out,
                            int64_t *per_page_out)
{
    *page_out = page_in < 1 ? 1 : page_in;
    *per_page_out = (per_page_in < 1 || per_page_in > STORE_PER_PAGE_MAX) ? STORE_PER_PAGE_DEFAULT
                                                                          : per_page_in;
}

static const struct store_cert_filter no_filter = {0};

int store_cert_list(struct store *s, const struct store_cert_filter *filter, int64_t page,
                    int64_t per_page, json_object **list_out)
{
    *list_out = NULL;
    int64_t pg, pp, total = 0;
    store_paging_normalize(page, per_page, &pg, &pp);
    if (pg > INT64_MAX / pp)
        pg = INT64_MAX / pp; /* an absurd page is simply past the end */
    json_object *data = NULL;
    int rc = s->ops->cert_list(s, filter ? filter : &no_filter, pp, (pg - 1) * pp, &total, &data);
    if (rc != STORE_OK)
        return rc;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "data", data);
    json_object_object_add(o, "total", json_object_new_int64(total));
    json_object_object_add(o, "page", json_object_new_int64(pg));
    json_object_object_add(o, "per_page", json_object_new_int64(pp));
    *list_out = o;
    return STORE_OK;
}

int store_cert_get(struct store *s, const char *certificate_id, json_object **cert_out)
{
    return get_by_id(s, s->ops->cert_get, certificate_id, cert_out);
}

int store_cert_create(struct store *s, const struct store_cert_input *in, json_object **cert_out)
{
    if (cert_out)
        *cert_out = NULL;
    if (in == NULL || empty(in->name) || empty(in->common_name) || empty(in->owner_id) ||
        empty(in->team_id) || empty(in->issuer_id) || empty(in->renewal_policy_id))
        return STORE_INVALID;
    if (!empty(in->status) && !store_cert_status_known(in->status))
        return STORE_INVALID;
    for (size_t i = 0; i < in->n_sans; i++)
        if (in->sans[i] == NULL)
            return STORE_INVALID;
    char id[STORE_ID_MAX];
    if (empty(in->id))
        store_gen_id(s, "cert", id, sizeof(id));
    else if (strlen(in->id) >= sizeof(id))
        return STORE_INVALID;
    else
        snprintf(id, sizeof(id), "%s", in->id);
    int64_t now = store_created_us(s);
    struct store_cert_view c = {
        .id = id,
        .name = in->name,
        .common_name = in->common_name,
        .sans = in->sans,
        .n_sans = in->n_sans,
        .environment = in->environment ? in->environment : "",
        .owner_id = in->owner_id,
        .team_id = in->team_id,
        .issuer_id = in->issuer_id,
        .renewal_policy_id = in->renewal_policy_id,
        .profile_id = empty(in->certificate_profile_id) ? NULL : in->certificate_profile_id,
        .status = empty(in->status) ? CERT_PENDING : in->status,
        .tags_json = "{}",
        .source = "",
        .expires_us = in->expires_at_unix_s ? in->expires_at_unix_s * 1000000 : STORE_TIME_ZERO,
        .last_renewal_us = STORE_TIME_NULL,
        .last_deployment_us = STORE_TIME_NULL,
        .revoked_us = STORE_TIME_NULL,
        .created_us = now,
        .updated_us = now,
    };
    int rc = s->ops->cert_insert(s, &c);
    if (rc == STORE_OK && cert_out)
        *cert_out = store_json_cert(&c);
    return rc;
}

int store_cert_map_target(struct store *s, const char *certificate_id, const char *target_id)
{
    if (empty(certificate_id) || empty(target_id))
        return STORE_NOT_FOUND;
    return s->ops->map_insert(s, certificate_id, target_id);
}

/* ---- profiles and reference rows --------------------------------------------------------- */

static bool key_algorithm_known(const char *a)
{
    return a && (strcmp(a, "RSA") == 0 || strcmp(a, "ECDSA") == 0 || strcmp(a, "Ed25519") == 0);
}

static json_object *profile_rules(const struct store_profile_input *in)
{
    static const struct store_key_rule defaults[] = {{"ECDSA", 256}, {"RSA", 2048}};
    const struct store_key_rule *r = in->n_allowed ? in->allowed_key_algorithms : defaults;
    size_t n = in->n_allowed ? in->n_allowed : 2;
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        if (!key_algorithm_known(r[i].algorithm) || r[i].min_size < 0) {
            json_object_put(arr);
            return NULL;
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "algorithm", json_object_new_string(r[i].algorithm));
        json_object_object_add(o, "min_size", json_object_new_int(r[i].min_size));
        json_object_array_add(arr, o);
    }
    return arr;
}

int store_profile_create(struct store *s, const struct store_profile_input *in,
                         json_object **profile_out)
{
    if (profile_out)
        *profile_out = NULL;
    if (in == NULL || empty(in->name) || in->max_ttl_seconds < 0)
        return STORE_INVALID;
    const char *mode = empty(in->acme_auth_mode) ? "trust_authenticated" : in->acme_auth_mode;
    if (strcmp(mode, "trust_authenticated") != 0 && strcmp(mode, "challenge") != 0)
        return STORE_INVALID;
    char id[STORE_ID_MAX];
    if (empty(in->id))
        store_gen_id(s, "prof", id, sizeof(id));
    else if (strlen(in->id) >= sizeof(id))
        return STORE_INVALID;
    else
        snprintf(id, sizeof(id), "%s", in->id);
    json_object *rules = profile_rules(in);
    if (rules == NULL)
        return STORE_INVALID;
    int64_t now = store_created_us(s);
    struct store_profile_view p = {
        .id = id,
        .name = in->name,
        .description = in->description ? in->description : "",
        .rules_json = json_object_to_json_string_ext(rules, JSON_C_TO_STRING_PLAIN),
        .max_ttl_seconds = in->max_ttl_seconds,
        .acme_auth_mode = mode,
        .requires_approval = in->requires_approval,
        .enabled = true,
        .created_us = now,
        .updated_us = now,
    };
    int rc = s->ops->profile_insert(s, &p);
    if (rc == STORE_OK && profile_out)
        *profile_out = store_json_profile(&p);
    json_object_put(rules);
    return rc;
}

int store_profile_get(struct store *s, const char *profile_id, json_object **profile_out)
{
    return get_by_id(s, s->ops->profile_get, profile_id, profile_out);
}

int store_reference_add(struct store *s, const char *kind, const char *id)
{
    if (empty(kind) || empty(id))
        return STORE_INVALID;
    if (strcmp(kind, "team") != 0 && strcmp(kind, "owner") != 0 && strcmp(kind, "issuer") != 0 &&
        strcmp(kind, "renewal_policy") != 0)
        return STORE_INVALID;
    return s->ops->ref_add(s, kind, id, id);
}
