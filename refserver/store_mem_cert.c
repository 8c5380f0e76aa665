/* refserver/store_mem_cert.c - the memory backend's certificates (creation order kept for certctl's
 * "oldest first" listing), their latest versions, filtered listing and matching (the agent_id
 * filter walks that agent's targets, never all certificates), and certificate profiles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refserver/store_mem.h"

static const char *const cert_status_table[] = {
    "Pending",           "Active", "Expiring", "Expired",
    "RenewalInProgress", "Failed", "Revoked",  "Archived"};

/* The static copy of a certificate status, or NULL when it is not one of certctl's. */
static const char *cert_status_static(const char *status)
{
    for (size_t i = 0; i < sizeof(cert_status_table) / sizeof(cert_status_table[0]); i++)
        if (strcmp(status, cert_status_table[i]) == 0)
            return cert_status_table[i];
    return NULL;
}

struct mem_cert *mem_cert_find(struct mem *m, const char *id)
{
    return smap_get(&m->certs, id);
}

static void version_free(struct mem_version *v)
{
    if (v == NULL)
        return;
    free(v->id);
    free(v->serial);
    free(v->fingerprint);
    free(v->pem_chain);
    free(v);
}

void mem_cert_free(struct mem_cert *c)
{
    free(c->id);
    free(c->name);
    free(c->common_name);
    free(c->environment);
    free(c->owner_id);
    free(c->team_id);
    free(c->issuer_id);
    free(c->policy_id);
    free(c->profile_id);
    for (size_t i = 0; i < c->n_sans; i++)
        free(c->sans[i]);
    free(c->sans);
    mem_vec_free(&c->targets);
    version_free(c->latest);
    free(c);
}

void mem_cert_view(const struct mem_cert *c, struct store_cert_view *v, const char **target_ids)
{
    for (size_t i = 0; i < c->targets.n; i++)
        target_ids[i] = ((struct mem_target *)c->targets.v[i])->id;
    *v = (struct store_cert_view){
        .id = c->id,
        .name = c->name,
        .common_name = c->common_name,
        .sans = (const char *const *)c->sans,
        .n_sans = c->n_sans,
        .environment = c->environment,
        .owner_id = c->owner_id,
        .team_id = c->team_id,
        .issuer_id = c->issuer_id,
        .renewal_policy_id = c->policy_id,
        .profile_id = c->profile_id,
        .status = c->status,
        .tags_json = "{}",
        .target_ids = target_ids,
        .n_target_ids = c->targets.n,
        .source = "",
        .expires_us = c->expires_us,
        .last_renewal_us = c->last_renewal_us,
        .last_deployment_us = c->last_deployment_us,
        .revoked_us = STORE_TIME_NULL,
        .created_us = c->created_us,
        .updated_us = c->updated_us,
    };
}

static json_object *cert_json(const struct mem_cert *c)
{
    const char *stack_ids[8];
    const char **ids = c->targets.n <= 8 ? stack_ids : malloc(c->targets.n * sizeof(*ids));
    if (ids == NULL)
        return NULL;
    struct store_cert_view v;
    mem_cert_view(c, &v, ids);
    json_object *o = store_json_cert(&v);
    if (ids != stack_ids)
        free(ids);
    return o;
}

static bool refs_exist(struct mem *m, const struct store_cert_view *v)
{
    const char *ids[4] = {v->team_id, v->owner_id, v->issuer_id, v->renewal_policy_id};
    for (int k = 0; k < 4; k++)
        if (smap_get(&m->refs[k], ids[k]) == NULL)
            return false;
    return v->profile_id == NULL || smap_get(&m->profiles, v->profile_id) != NULL;
}

int mem_cert_insert(struct store *s, const struct store_cert_view *v)
{
    struct mem *m = mem_of(s);
    const char *status = cert_status_static(v->status);
    if (status == NULL)
        return STORE_INVALID;
    /* certctl: a duplicate key or a missing foreign key is a database error (500). */
    if (smap_get(&m->certs, v->id) || smap_get(&m->cert_names, v->name) || !refs_exist(m, v))
        return STORE_ERROR;
    struct mem_cert *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return STORE_ERROR;
    c->id = strdup(v->id);
    c->name = strdup(v->name);
    c->common_name = strdup(v->common_name);
    c->environment = strdup(v->environment);
    c->owner_id = strdup(v->owner_id);
    c->team_id = strdup(v->team_id);
    c->issuer_id = strdup(v->issuer_id);
    c->policy_id = strdup(v->renewal_policy_id);
    c->profile_id = mem_strdup(v->profile_id);
    c->status = status;
    c->expires_us = v->expires_us;
    c->last_renewal_us = v->last_renewal_us;
    c->last_deployment_us = v->last_deployment_us;
    c->created_us = v->created_us;
    c->updated_us = v->updated_us;
    bool ok = c->id && c->name && c->common_name && c->environment && c->owner_id && c->team_id &&
              c->issuer_id && c->policy_id && (v->profile_id == NULL || c->profile_id);
    if (ok && v->n_sans > 0) {
        c->sans = calloc(v->n_sans, sizeof(*c->sans));
        ok = c->sans != NULL;
        for (size_t i = 0; ok && i < v->n_sans; i++) {
            c->sans[i] = strdup(v->sans[i]);
            c->n_sans = i + 1;
            ok = c->sans[i] != NULL;
        }
    }
    if (!ok || mem_vec_push(&m->cert_list, c) != 0) {
        mem_cert_free(c);
        return STORE_ERROR;
    }
    if (smap_put(&m->certs, c->id, c) != 0 || smap_put(&m->cert_names, c->name, c) != 0) {
        smap_del(&m->certs, c->id);
        m->cert_list.n--;
        mem_cert_free(c);
        return STORE_ERROR;
    }
    return STORE_OK;
}

int mem_cert_get(struct store *s, const char *id, json_object **out)
{
    struct mem_cert *c = mem_cert_find(mem_of(s), id);
    if (c == NULL)
        return STORE_NOT_FOUND;
    *out = cert_json(c);
    return *out ? STORE_OK : STORE_ERROR;
}

int mem_cert_brief(struct store *s, const char *id, char *status, size_t n, int64_t *expires_us)
{
    struct mem_cert *c = mem_cert_find(mem_of(s), id);
    if (c == NULL)
        return STORE_NOT_FOUND;
    snprintf(status, n, "%s", c->status);
    *expires_us = c->expires_us;
    return STORE_OK;
}

/* ---- filtered iteration ----------------------------------------------------------------- */

static bool eq_or_any(const char *want, const char *have)
{
    return want == NULL || want[0] == '\0' || (have != NULL && strcmp(want, have) == 0);
}

static bool cert_matches(const struct mem_cert *c, const struct store_cert_filter *f)
{
    return eq_or_any(f->status, c->status) && eq_or_any(f->owner_id, c->owner_id) &&
           eq_or_any(f->team_id, c->team_id) && eq_or_any(f->issuer_id, c->issuer_id) &&
           eq_or_any(f->profile_id, c->profile_id);
}

static int by_created(const void *a, const void *b)
{
    const struct mem_cert *x = *(const struct mem_cert *const *)a;
    const struct mem_cert *y = *(const struct mem_cert *const *)b;
    if (x->created_us != y->created_us)
        return x->created_us < y->created_us ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The candidate set in creation order: all certificates, or those mapped to a target of
 * f->agent_id (collected into *tmp, which the caller frees). */
static int candidates(struct mem *m, const struct store_cert_filter *f, struct mem_vec *tmp,
                      const struct mem_vec **out)
{
    if (f->agent_id == NULL || f->agent_id[0] == '\0') {
        *out = &m->cert_list;
        return STORE_OK;
    }
    *out = tmp;
    struct mem_agent *a = mem_agent_find(m, f->agent_id);
    if (a == NULL)
        return STORE_OK;
    uint64_t gen = ++m->mark_gen;
    for (size_t i = 0; i < a->targets.n; i++) {
        struct mem_target *t = a->targets.v[i];
        for (size_t k = 0; k < t->certs.n; k++) {
            struct mem_cert *c = t->certs.v[k];
            if (c->mark == gen)
                continue;
            c->mark = gen;
            if (mem_vec_push(tmp, c) != 0)
                return STORE_ERROR;
        }
    }
    if (tmp->n > 1)
        qsort(tmp->v, tmp->n, sizeof(*tmp->v), by_created);
    return STORE_OK;
}

int mem_cert_list(struct store *s, const struct store_cert_filter *f, int64_t limit, int64_t offset,
                  int64_t *total, json_object **data)
{
    struct mem_vec tmp = {0};
    const struct mem_vec *cand;
    int rc = candidates(mem_of(s), f, &tmp, &cand);
    if (rc != STORE_OK) {
        mem_vec_free(&tmp);
        return rc;
    }
    json_object *arr = json_object_new_array();
    int64_t n = 0;
    for (size_t i = 0; i < cand->n; i++) {
        struct mem_cert *c = cand->v[i];
        if (!cert_matches(c, f))
            continue;
        if (n >= offset && n - offset < limit) {
            json_object *o = cert_json(c);
            if (o == NULL) {
                rc = STORE_ERROR;
                break;
            }
            json_object_array_add(arr, o);
        }
        n++;
    }
    mem_vec_free(&tmp);
    if (rc != STORE_OK) {
        json_object_put(arr);
        return rc;
    }
    *total = n;
    *data = arr;
    return STORE_OK;
}

int mem_cert_match(struct store *s, const struct store_cert_filter *f, int64_t limit,
                   store_cert_cb cb, void *arg)
{
    struct mem_vec tmp = {0};
    const struct mem_vec *cand;
    int rc = candidates(mem_of(s), f, &tmp, &cand);
    int64_t n = 0;
    /* cb may change a certificate's status but never adds certificates: cand->n is stable. */
    for (size_t i = 0; rc == STORE_OK && i < cand->n && (limit < 0 || n < limit); i++) {
        struct mem_cert *c = cand->v[i];
        if (!cert_matches(c, f))
            continue;
        n++;
        rc = cb(c->id, c->status, c->expires_us, arg);
    }
    mem_vec_free(&tmp);
    return rc;
}

/* ---- updates ---------------------------------------------------------------------------- */

int mem_cert_set_status(struct store *s, const char *id, const char *status, int64_t now_us)
{
    struct mem_cert *c = mem_cert_find(mem_of(s), id);
    const char *st = cert_status_static(status);
    if (c == NULL)
        return STORE_NOT_FOUND;
    if (st == NULL)
        return STORE_INVALID;
    c->status = st;
    c->updated_us = now_us;
    return STORE_OK;
}

int mem_cert_renewed(struct store *s, const char *id, int64_t not_after_us, int64_t now_us)
{
    struct mem_cert *c = mem_cert_find(mem_of(s), id);
    if (c == NULL)
        return STORE_NOT_FOUND;
    c->status = cert_status_static(CERT_ACTIVE);
    c->expires_us = not_after_us;
    c->last_renewal_us = now_us;
    c->updated_us = now_us;
    return STORE_OK;
}

int mem_cert_targets(struct store *s, const char *id, store_target_cb cb, void *arg)
{
    struct mem_cert *c = mem_cert_find(mem_of(s), id);
    if (c == NULL)
        return STORE_NOT_FOUND;
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < c->targets.n; i++) {
        struct mem_target *t = c->targets.v[i];
        rc = cb(t->id, t->agent->id, arg);
    }
    return rc;
}

int mem_cert_latest_pem(struct store *s, const char *id, char **pem)
{
    struct mem_cert *c = mem_cert_find(mem_of(s), id);
    if (c == NULL || c->latest == NULL)
        return STORE_NOT_FOUND;
    *pem = strdup(c->latest->pem_chain);
    return *pem ? STORE_OK : STORE_ERROR;
}

int mem_version_insert(struct store *s, const struct store_version_view *v)
{
    struct mem *m = mem_of(s);
    struct mem_cert *c = mem_cert_find(m, v->certificate_id);
    if (c == NULL)
        return STORE_NOT_FOUND;
    if (smap_get(&m->fingerprints, v->fingerprint_sha256))
        return STORE_ERROR; /* certificate_versions.fingerprint_sha256 is UNIQUE */
    struct mem_version *nv = calloc(1, sizeof(*nv));
    if (nv == NULL)
        return STORE_ERROR;
    nv->id = strdup(v->id);
    nv->serial = strdup(v->serial_number);
    nv->fingerprint = strdup(v->fingerprint_sha256);
    nv->pem_chain = strdup(v->pem_chain);
    nv->not_before_us = v->not_before_us;
    nv->not_after_us = v->not_after_us;
    nv->created_us = v->created_us;
    if (!nv->id || !nv->serial || !nv->fingerprint || !nv->pem_chain ||
        smap_put(&m->fingerprints, nv->fingerprint, c) != 0) {
        version_free(nv);
        return STORE_ERROR;
    }
    if (c->latest != NULL)
        smap_del(&m->fingerprints, c->latest->fingerprint);
    version_free(c->latest);
    c->latest = nv;
    c->n_versions++;
    return STORE_OK;
}

/* ---- profiles --------------------------------------------------------------------------- */

void mem_profile_free(struct mem_profile *p)
{
    free(p->id);
    free(p->name);
    free(p->description);
    free(p->rules_json);
    free(p->acme_auth_mode);
    free(p);
}

int mem_profile_insert(struct store *s, const struct store_profile_view *v)
{
    struct mem *m = mem_of(s);
    if (smap_get(&m->profiles, v->id) || smap_get(&m->profile_names, v->name))
        return STORE_CONFLICT;
    struct mem_profile *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return STORE_ERROR;
    p->id = strdup(v->id);
    p->name = strdup(v->name);
    p->description = strdup(v->description);
    p->rules_json = strdup(v->rules_json);
    p->acme_auth_mode = strdup(v->acme_auth_mode);
    p->max_ttl_seconds = v->max_ttl_seconds;
    p->requires_approval = v->requires_approval;
    p->enabled = v->enabled;
    p->created_us = v->created_us;
    p->updated_us = v->updated_us;
    if (!p->id || !p->name || !p->description || !p->rules_json || !p->acme_auth_mode ||
        mem_vec_push(&m->profile_list, p) != 0) {
        mem_profile_free(p);
        return STORE_ERROR;
    }
    if (smap_put(&m->profiles, p->id, p) != 0 || smap_put(&m->profile_names, p->name, p) != 0)
        return STORE_ERROR; /* p stays owned by profile_list */
    return STORE_OK;
}

int mem_profile_get(struct store *s, const char *id, json_object **out)
{
    struct mem_profile *p = smap_get(&mem_of(s)->profiles, id);
    if (p == NULL)
        return STORE_NOT_FOUND;
    struct store_profile_view v = {
        .id = p->id,
        .name = p->name,
        .description = p->description,
        .rules_json = p->rules_json,
        .max_ttl_seconds = p->max_ttl_seconds,
        .acme_auth_mode = p->acme_auth_mode,
        .requires_approval = p->requires_approval,
        .enabled = p->enabled,
        .created_us = p->created_us,
        .updated_us = p->updated_us,
    };
    *out = store_json_profile(&v);
    return STORE_OK;
}
