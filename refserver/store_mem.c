/* refserver/store_mem.c - the memory backend: its tables' life cycle, agents (O(1) heartbeat that
 * allocates nothing unless metadata changes), deployment targets, mappings and the reference
 * rows that stand in for certctl's foreign keys. Certificates and jobs live in store_mem_cert.c
 * and store_mem_job.c. No transactions: every multi-step operation is ordered so that its only
 * failing steps come before its first change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refserver/store_mem.h"

static const char *const ref_kinds[4] = {"team", "owner", "issuer", "renewal_policy"};

int mem_vec_push(struct mem_vec *vec, void *p)
{
    if (vec->n == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 2;
        void **nv = realloc(vec->v, cap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        vec->v = nv;
        vec->cap = cap;
    }
    vec->v[vec->n++] = p;
    return 0;
}

void mem_vec_free(struct mem_vec *vec)
{
    free(vec->v);
    vec->v = NULL;
    vec->n = vec->cap = 0;
}

char *mem_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int mem_set_str(char **dst, const char *src)
{
    if (*dst != NULL && strcmp(*dst, src) == 0)
        return 0;
    char *c = strdup(src);
    if (c == NULL)
        return -1;
    free(*dst);
    *dst = c;
    return 0;
}

struct mem_agent *mem_agent_find(struct mem *m, const char *id)
{
    return smap_get(&m->agents, id);
}

struct mem_target *mem_target_find(struct mem *m, const char *id)
{
    return smap_get(&m->targets, id);
}

static int os_bucket(const char *os)
{
    for (int i = 0; i < IDENTITY_OS_COUNT; i++)
        if (strcmp(os, identity_os_name((enum identity_os)i)) == 0)
            return i;
    return MEM_OS_OTHER;
}

/* ---- transactions (none) ---------------------------------------------------------------- */

static int mem_begin(struct store *s)
{
    (void)s;
    return STORE_OK;
}
static int mem_commit(struct store *s)
{
    (void)s;
    return STORE_OK;
}
static void mem_rollback(struct store *s)
{
    (void)s;
}

/* ---- agents ----------------------------------------------------------------------------- */

static void agent_free(struct mem_agent *a)
{
    free(a->id);
    free(a->name);
    free(a->hostname);
    free(a->os);
    free(a->architecture);
    free(a->ip_address);
    free(a->version);
    free(a->api_key_hash);
    free(a->retired_reason);
    mem_vec_free(&a->targets);
    free(a);
}

static int mem_agent_insert(struct store *s, const struct store_agent_view *v)
{
    struct mem *m = mem_of(s);
    if (smap_get(&m->agents, v->id) || smap_get(&m->agent_names, v->name))
        return STORE_CONFLICT;
    struct mem_agent *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return STORE_ERROR;
    a->id = strdup(v->id);
    a->name = strdup(v->name);
    a->hostname = strdup(v->hostname);
    a->os = strdup(v->os);
    a->architecture = strdup(v->architecture);
    a->ip_address = strdup(v->ip_address);
    a->version = strdup(v->version);
    a->api_key_hash = strdup(v->api_key_hash);
    a->retired_reason = mem_strdup(v->retired_reason);
    a->status = AGENT_ONLINE;
    a->registered_us = v->registered_us;
    a->last_heartbeat_us = v->last_heartbeat_us;
    a->retired_us = v->retired_us;
    a->os_bucket = os_bucket(v->os);
    if (!a->id || !a->name || !a->hostname || !a->os || !a->architecture || !a->ip_address ||
        !a->version || !a->api_key_hash || (v->retired_reason && !a->retired_reason) ||
        mem_vec_push(&m->agent_list, a) != 0) {
        agent_free(a);
        return STORE_ERROR;
    }
    if (smap_put(&m->agents, a->id, a) != 0 || smap_put(&m->agent_names, a->name, a) != 0) {
        smap_del(&m->agents, a->id);
        m->agent_list.n--;
        agent_free(a);
        return STORE_ERROR;
    }
    m->os_counts[a->os_bucket]++;
    if (a->retired_us != STORE_TIME_NULL)
        m->agents_retired++;
    return STORE_OK;
}

static void agent_view(const struct mem_agent *a, struct store_agent_view *v)
{
    *v = (struct store_agent_view){
        .id = a->id,
        .name = a->name,
        .hostname = a->hostname,
        .status = a->status,
        .api_key_hash = a->api_key_hash,
        .os = a->os,
        .architecture = a->architecture,
        .ip_address = a->ip_address,
        .version = a->version,
        .retired_reason = a->retired_reason,
        .last_heartbeat_us = a->last_heartbeat_us,
        .registered_us = a->registered_us,
        .retired_us = a->retired_us,
    };
}

static int mem_agent_get(struct store *s, const char *id, json_object **out)
{
    struct mem_agent *a = mem_agent_find(mem_of(s), id);
    if (a == NULL)
        return STORE_NOT_FOUND;
    struct store_agent_view v;
    agent_view(a, &v);
    *out = store_json_agent(&v);
    return STORE_OK;
}

static int mem_agent_heartbeat(struct store *s, const char *id, const struct store_agent_meta *mt,
                               int64_t now_us)
{
    struct mem *m = mem_of(s);
    struct mem_agent *a = mem_agent_find(m, id);
    if (a == NULL)
        return STORE_NOT_FOUND;
    if (a->retired_us != STORE_TIME_NULL)
        return STORE_GONE;
    a->last_heartbeat_us = now_us;
    a->status = AGENT_ONLINE;
    int bad = 0;
    if (mt->hostname && mt->hostname[0])
        bad |= mem_set_str(&a->hostname, mt->hostname);
    if (mt->architecture && mt->architecture[0])
        bad |= mem_set_str(&a->architecture, mt->architecture);
    if (mt->ip_address && mt->ip_address[0])
        bad |= mem_set_str(&a->ip_address, mt->ip_address);
    if (mt->version && mt->version[0])
        bad |= mem_set_str(&a->version, mt->version);
    if (mt->os && mt->os[0]) {
        bad |= mem_set_str(&a->os, mt->os);
        int b = os_bucket(a->os);
        m->os_counts[a->os_bucket]--;
        m->os_counts[b]++;
        a->os_bucket = b;
    }
    return bad ? STORE_ERROR : STORE_OK;
}

static int mem_agent_retired_at(struct store *s, const char *id, int64_t *retired_us)
{
    struct mem_agent *a = mem_agent_find(mem_of(s), id);
    if (a == NULL)
        return STORE_NOT_FOUND;
    *retired_us = a->retired_us;
    return STORE_OK;
}

static int mem_agent_dep_counts(struct store *s, const char *id, struct store_dep_counts *c)
{
    struct mem *m = mem_of(s);
    struct mem_agent *a = mem_agent_find(m, id);
    if (a == NULL)
        return STORE_NOT_FOUND;
    uint64_t gen = ++m->mark_gen;
    *c = (struct store_dep_counts){.pending_jobs = a->active_jobs};
    for (size_t i = 0; i < a->targets.n; i++) {
        struct mem_target *t = a->targets.v[i];
        if (t->retired_us != STORE_TIME_NULL)
            continue;
        c->active_targets++;
        for (size_t k = 0; k < t->certs.n; k++) {
            struct mem_cert *cert = t->certs.v[k];
            if (cert->mark != gen) {
                cert->mark = gen;
                c->active_certificates++;
            }
        }
    }
    return STORE_OK;
}

static int mem_agent_retire(struct store *s, const char *id, int64_t now_us, const char *reason,
                            bool cascade)
{
    struct mem *m = mem_of(s);
    struct mem_agent *a = mem_agent_find(m, id);
    if (a == NULL)
        return STORE_NOT_FOUND;
    if (a->retired_us != STORE_TIME_NULL)
        return STORE_OK;
    if (mem_set_str(&a->retired_reason, reason) != 0)
        return STORE_ERROR;
    a->retired_us = now_us;
    m->agents_retired++;
    for (size_t i = 0; cascade && i < a->targets.n; i++) {
        struct mem_target *t = a->targets.v[i];
        if (t->retired_us == STORE_TIME_NULL)
            t->retired_us = now_us;
    }
    return STORE_OK;
}

static int mem_agent_counts(struct store *s, struct store_agent_counts *out)
{
    struct mem *m = mem_of(s);
    out->total = m->agent_list.n;
    out->retired = m->agents_retired;
    for (int i = 0; i < IDENTITY_OS_COUNT; i++)
        out->os[i] = m->os_counts[i];
    out->os_other = m->os_counts[MEM_OS_OTHER];
    return STORE_OK;
}

/* ---- targets and mappings --------------------------------------------------------------- */

static void target_free(struct mem_target *t)
{
    free(t->id);
    free(t->name);
    free(t->type);
    free(t->config_json);
    mem_vec_free(&t->certs);
    free(t);
}

static int mem_target_insert(struct store *s, const struct store_target_view *v)
{
    struct mem *m = mem_of(s);
    struct mem_agent *a = mem_agent_find(m, v->agent_id);
    if (a == NULL)
        return STORE_NOT_FOUND;
    if (smap_get(&m->targets, v->id))
        return STORE_CONFLICT;
    for (size_t i = 0; i < a->targets.n; i++)
        if (strcmp(((struct mem_target *)a->targets.v[i])->name, v->name) == 0)
            return STORE_CONFLICT; /* UNIQUE(agent_id, name) */
    struct mem_target *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return STORE_ERROR;
    t->id = strdup(v->id);
    t->name = strdup(v->name);
    t->type = strdup(v->type);
    t->config_json = strdup(v->config_json);
    t->agent = a;
    t->created_us = v->created_us;
    t->retired_us = STORE_TIME_NULL;
    if (!t->id || !t->name || !t->type || !t->config_json || mem_vec_push(&m->target_list, t)) {
        target_free(t);
        return STORE_ERROR;
    }
    if (mem_vec_push(&a->targets, t) != 0 || smap_put(&m->targets, t->id, t) != 0)
        return STORE_ERROR; /* t stays owned by target_list */
    return STORE_OK;
}

static int mem_map_insert(struct store *s, const char *cert_id, const char *target_id)
{
    struct mem *m = mem_of(s);
    struct mem_cert *c = mem_cert_find(m, cert_id);
    struct mem_target *t = mem_target_find(m, target_id);
    if (c == NULL || t == NULL)
        return STORE_NOT_FOUND;
    for (size_t i = 0; i < c->targets.n; i++)
        if (c->targets.v[i] == t)
            return STORE_OK;
    if (mem_vec_push(&c->targets, t) != 0 || mem_vec_push(&t->certs, c) != 0)
        return STORE_ERROR;
    return STORE_OK;
}

/* ---- reference rows --------------------------------------------------------------------- */

static int mem_ref_add(struct store *s, const char *kind, const char *id, const char *name)
{
    (void)name;
    struct mem *m = mem_of(s);
    for (int i = 0; i < 4; i++) {
        if (strcmp(kind, ref_kinds[i]) != 0)
            continue;
        if (smap_get(&m->refs[i], id))
            return STORE_OK;
        char *copy = strdup(id);
        if (copy == NULL || smap_put(&m->refs[i], copy, copy) != 0) {
            free(copy);
            return STORE_ERROR;
        }
        return STORE_OK;
    }
    return STORE_INVALID;
}

/* ---- life cycle ------------------------------------------------------------------------- */

static void mem_destroy(struct store *s)
{
    struct mem *m = mem_of(s);
    for (size_t i = 0; i < m->job_list.n; i++)
        mem_job_free(m->job_list.v[i]);
    for (size_t i = 0; i < m->cert_list.n; i++)
        mem_cert_free(m->cert_list.v[i]);
    for (size_t i = 0; i < m->target_list.n; i++)
        target_free(m->target_list.v[i]);
    for (size_t i = 0; i < m->agent_list.n; i++)
        agent_free(m->agent_list.v[i]);
    for (size_t i = 0; i < m->profile_list.n; i++)
        mem_profile_free(m->profile_list.v[i]);
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < m->refs[k].cap; i++)
            if (m->refs[k].slots[i].hash)
                free(m->refs[k].slots[i].val);
        smap_free(&m->refs[k]);
    }
    for (size_t i = 0; i < m->n_statuses; i++)
        free(m->statuses[i].name);
    struct smap *maps[] = {&m->agents,   &m->agent_names,   &m->targets,
                           &m->certs,    &m->cert_names,    &m->jobs,
                           &m->profiles, &m->profile_names, &m->fingerprints};
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
        smap_free(maps[i]);
    struct mem_vec *vecs[] = {&m->agent_list, &m->target_list, &m->cert_list, &m->profile_list,
                              &m->job_list};
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
        mem_vec_free(vecs[i]);
    free(m);
}

static const struct store_ops mem_ops = {
    .name = "memory",
    .destroy = mem_destroy,
    .begin = mem_begin,
    .commit = mem_commit,
    .rollback = mem_rollback,
    .agent_insert = mem_agent_insert,
    .agent_get = mem_agent_get,
    .agent_heartbeat = mem_agent_heartbeat,
    .agent_retired_at = mem_agent_retired_at,
    .agent_dep_counts = mem_agent_dep_counts,
    .agent_retire = mem_agent_retire,
    .agent_counts = mem_agent_counts,
    .target_insert = mem_target_insert,
    .map_insert = mem_map_insert,
    .work_poll = mem_work_poll,
    .cert_insert = mem_cert_insert,
    .cert_get = mem_cert_get,
    .cert_brief = mem_cert_brief,
    .cert_list = mem_cert_list,
    .cert_match = mem_cert_match,
    .cert_set_status = mem_cert_set_status,
    .cert_renewed = mem_cert_renewed,
    .cert_targets = mem_cert_targets,
    .cert_latest_pem = mem_cert_latest_pem,
    .version_insert = mem_version_insert,
    .job_insert = mem_job_insert,
    .job_get = mem_job_get,
    .job_set_status = mem_job_set_status,
    .job_find_awaiting = mem_job_find_awaiting,
    .job_counts = mem_job_counts,
    .profile_insert = mem_profile_insert,
    .profile_get = mem_profile_get,
    .ref_add = mem_ref_add,
    .seed_fleet = NULL,
};

int store_mem_open(struct store *s, char *err, size_t errlen)
{
    struct mem *m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto oom;
    size_t na = s->cfg.expect_agents, nc = s->cfg.expect_certs;
    int rc = smap_init(&m->agents, na) | smap_init(&m->agent_names, na) |
             smap_init(&m->targets, na) | smap_init(&m->certs, nc) | smap_init(&m->cert_names, nc) |
             smap_init(&m->jobs, nc) | smap_init(&m->profiles, 16) |
             smap_init(&m->profile_names, 16) | smap_init(&m->fingerprints, nc);
    for (int k = 0; k < 4; k++)
        rc |= smap_init(&m->refs[k], 16);
    s->ops = &mem_ops;
    s->be = m;
    if (rc != 0 || mem_status_intern(m, JOB_PENDING) == NULL) {
        mem_destroy(s);
        goto oom;
    }
    /* The statuses always reported first, in certctl's order. */
    const char *known[] = {JOB_AWAITING_CSR, JOB_AWAITING_APPROVAL, JOB_RUNNING, JOB_COMPLETED,
                           JOB_FAILED,       JOB_CANCELLED};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (mem_status_intern(m, known[i]) == NULL) {
            mem_destroy(s);
            goto oom;
        }
    /* As certctl at start-up with an empty issuers table: the local issuer exists. */
    if (mem_ref_add(s, "issuer", "iss-local", "Local CA") != STORE_OK) {
        mem_destroy(s);
        goto oom;
    }
    return 0;
oom:
    snprintf(err, errlen, "memory store: out of memory");
    return -1;
}
