/* refserver/store_mem_job.c - the memory backend's jobs: insertion, status changes (which keep the
 * per-agent Pending Deployment list, the per-certificate AwaitingCSR list and the per-status
 * counts current), and certctl's ClaimPendingByAgentID work poll in O(this agent's rows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refserver/store_mem.h"

static const char *const job_types[] = {JOB_TYPE_ISSUANCE, JOB_TYPE_RENEWAL, JOB_TYPE_DEPLOYMENT,
                                        "Validation"};

void mem_job_free(struct mem_job *j)
{
    free(j->status_owned);
    free(j->last_error);
    free(j);
}

bool mem_status_active(const char *status)
{
    return strcmp(status, JOB_PENDING) == 0 || strcmp(status, JOB_AWAITING_CSR) == 0 ||
           strcmp(status, JOB_AWAITING_APPROVAL) == 0 || strcmp(status, JOB_RUNNING) == 0;
}

static struct mem_status_count *status_entry(struct mem *m, const char *status)
{
    for (size_t i = 0; i < m->n_statuses; i++)
        if (m->statuses[i].name == status || strcmp(m->statuses[i].name, status) == 0)
            return &m->statuses[i];
    return NULL;
}

const char *mem_status_intern(struct mem *m, const char *status)
{
    struct mem_status_count *e = status_entry(m, status);
    if (e != NULL)
        return e->name;
    if (m->n_statuses == MEM_STATUS_MAX)
        return NULL;
    char *name = strdup(status);
    if (name == NULL)
        return NULL;
    m->statuses[m->n_statuses++] = (struct mem_status_count){.name = name};
    return name;
}

/* Adds delta to the count of the job's current status. */
static void count_status(struct mem *m, const struct mem_job *j, int delta)
{
    if (j->status_owned != NULL) {
        m->other_status_jobs += (uint64_t)(int64_t)delta;
        return;
    }
    struct mem_status_count *e = status_entry(m, j->status);
    if (e != NULL)
        e->n += (uint64_t)(int64_t)delta;
}

/* ---- intrusive lists -------------------------------------------------------------------- */

static struct mem_job_list_head *list_head(struct mem_job *j, enum mem_job_list which)
{
    if (which == MEM_LIST_AGENT_PENDING)
        return &j->route->pending;
    if (which == MEM_LIST_CERT_AWAITING)
        return &j->cert->awaiting;
    return NULL;
}

static void unlink_job(struct mem_job *j)
{
    struct mem_job_list_head *h = list_head(j, j->list);
    if (h == NULL)
        return;
    if (j->prev)
        j->prev->next = j->next;
    else
        h->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        h->tail = j->prev;
    j->prev = j->next = NULL;
    j->list = MEM_LIST_NONE;
}

/* Puts the job on the list its (type, status) calls for, at the tail. */
static void relink_job(struct mem_job *j)
{
    enum mem_job_list want = MEM_LIST_NONE;
    if (strcmp(j->type, JOB_TYPE_DEPLOYMENT) == 0 && strcmp(j->status, JOB_PENDING) == 0 &&
        j->route)
        want = MEM_LIST_AGENT_PENDING;
    else if ((strcmp(j->type, JOB_TYPE_RENEWAL) == 0 || strcmp(j->type, JOB_TYPE_ISSUANCE) == 0) &&
             strcmp(j->status, JOB_AWAITING_CSR) == 0)
        want = MEM_LIST_CERT_AWAITING;
    if (want == j->list)
        return;
    unlink_job(j);
    struct mem_job_list_head *h = list_head(j, want);
    if (h == NULL)
        return;
    j->prev = h->tail;
    if (h->tail)
        h->tail->next = j;
    else
        h->head = j;
    h->tail = j;
    j->list = want;
}

/* Sets the job's status string (interned, or owned when the table is full). */
static int assign_status(struct mem *m, struct mem_job *j, const char *status)
{
    const char *in = mem_status_intern(m, status);
    char *owned = NULL;
    if (in == NULL) {
        if ((owned = strdup(status)) == NULL)
            return -1;
        in = owned;
    }
    free(j->status_owned);
    j->status_owned = owned;
    j->status = in;
    return 0;
}

/* ---- operations ------------------------------------------------------------------------- */

int mem_job_insert(struct store *s, const struct store_job_view *v)
{
    struct mem *m = mem_of(s);
    struct mem_cert *c = mem_cert_find(m, v->certificate_id);
    struct mem_target *t = v->target_id ? mem_target_find(m, v->target_id) : NULL;
    struct mem_agent *a = v->agent_id ? mem_agent_find(m, v->agent_id) : NULL;
    if (c == NULL || (v->target_id && !t) || (v->agent_id && !a))
        return STORE_NOT_FOUND;
    if (smap_get(&m->jobs, v->id))
        return STORE_ERROR;
    const char *type = NULL;
    for (size_t i = 0; i < sizeof(job_types) / sizeof(job_types[0]); i++)
        if (strcmp(v->type, job_types[i]) == 0)
            type = job_types[i];
    if (type == NULL)
        return STORE_INVALID;
    size_t idlen = strlen(v->id);
    struct mem_job *j = calloc(1, sizeof(*j) + idlen + 1);
    if (j == NULL)
        return STORE_ERROR;
    memcpy(j->id, v->id, idlen + 1);
    j->type = type;
    j->cert = c;
    j->target = t;
    j->agent = a;
    j->route = a ? a : t ? t->agent : NULL;
    j->attempts = v->attempts;
    j->max_attempts = v->max_attempts;
    j->scheduled_us = v->scheduled_us;
    j->started_us = v->started_us;
    j->completed_us = v->completed_us;
    j->created_us = v->created_us;
    j->seq = ++m->job_seq;
    if (assign_status(m, j, v->status) != 0 ||
        (v->last_error && (j->last_error = strdup(v->last_error)) == NULL) ||
        mem_vec_push(&m->job_list, j) != 0) {
        mem_job_free(j);
        return STORE_ERROR;
    }
    if (smap_put(&m->jobs, j->id, j) != 0) {
        m->job_list.n--;
        mem_job_free(j);
        return STORE_ERROR;
    }
    count_status(m, j, +1);
    if (a && mem_status_active(j->status))
        a->active_jobs++;
    relink_job(j);
    return STORE_OK;
}

static void job_view(const struct mem_job *j, struct store_job_view *v)
{
    *v = (struct store_job_view){
        .id = j->id,
        .type = j->type,
        .certificate_id = j->cert->id,
        .target_id = j->target ? j->target->id : NULL,
        .agent_id = j->agent ? j->agent->id : NULL,
        .status = j->status,
        .last_error = j->last_error,
        .attempts = j->attempts,
        .max_attempts = j->max_attempts,
        .scheduled_us = j->scheduled_us,
        .started_us = j->started_us,
        .completed_us = j->completed_us,
        .created_us = j->created_us,
    };
}

int mem_job_get(struct store *s, const char *id, json_object **out)
{
    struct mem_job *j = smap_get(&mem_of(s)->jobs, id);
    if (j == NULL)
        return STORE_NOT_FOUND;
    struct store_job_view v;
    job_view(j, &v);
    *out = store_json_job(&v);
    return STORE_OK;
}

/* Changes a job's status with every index kept current. */
static int set_status(struct mem *m, struct mem_job *j, const char *status)
{
    bool was_active = mem_status_active(j->status);
    count_status(m, j, -1);
    if (assign_status(m, j, status) != 0) {
        count_status(m, j, +1);
        return STORE_ERROR;
    }
    count_status(m, j, +1);
    if (j->agent) {
        bool now_active = mem_status_active(j->status);
        j->agent->active_jobs += (int64_t)now_active - (int64_t)was_active;
    }
    relink_job(j);
    return STORE_OK;
}

int mem_job_set_status(struct store *s, const char *id, const char *status, const char *error)
{
    struct mem *m = mem_of(s);
    struct mem_job *j = smap_get(&m->jobs, id);
    if (j == NULL)
        return STORE_NOT_FOUND;
    char *err_copy = NULL;
    if (error && (err_copy = strdup(error)) == NULL)
        return STORE_ERROR;
    int rc = set_status(m, j, status);
    if (rc != STORE_OK) {
        free(err_copy);
        return rc;
    }
    free(j->last_error);
    j->last_error = err_copy; /* NULL clears it, as certctl's UpdateStatus */
    return STORE_OK;
}

int mem_job_find_awaiting(struct store *s, const char *cert_id, char *job_id, size_t n)
{
    struct mem_cert *c = mem_cert_find(mem_of(s), cert_id);
    if (c == NULL)
        return STORE_NOT_FOUND;
    const struct mem_job *best = NULL;
    for (const struct mem_job *j = c->awaiting.head; j; j = j->next)
        if (best == NULL || j->created_us < best->created_us ||
            (j->created_us == best->created_us && strcmp(j->id, best->id) < 0))
            best = j;
    if (best == NULL)
        return STORE_NOT_FOUND;
    snprintf(job_id, n, "%s", best->id);
    return STORE_OK;
}

int mem_job_counts(struct store *s, json_object **out)
{
    struct mem *m = mem_of(s);
    json_object *o = json_object_new_object();
    for (size_t i = 0; i < m->n_statuses; i++)
        if (m->statuses[i].n > 0)
            json_object_object_add(o, m->statuses[i].name,
                                   json_object_new_int64((int64_t)m->statuses[i].n));
    if (m->other_status_jobs > 0)
        json_object_object_add(o, "other", json_object_new_int64((int64_t)m->other_status_jobs));
    *out = o;
    return STORE_OK;
}

/* ---- work poll -------------------------------------------------------------------------- */

/* certctl's order: direct Pending deployments, then target-routed ones, then AwaitingCSR jobs,
 * each by created_at. */
static int poll_rank(const struct mem_job *j)
{
    if (j->list == MEM_LIST_CERT_AWAITING)
        return 2;
    return j->agent ? 0 : 1;
}

static int by_poll_order(const void *a, const void *b)
{
    const struct mem_job *x = *(const struct mem_job *const *)a;
    const struct mem_job *y = *(const struct mem_job *const *)b;
    int rx = poll_rank(x), ry = poll_rank(y);
    if (rx != ry)
        return rx - ry;
    if (x->created_us != y->created_us)
        return x->created_us < y->created_us ? -1 : 1;
    return x->seq < y->seq ? -1 : 1;
}

static json_object *work_item(const struct mem_job *j, const char *status)
{
    struct store_work_view w = {
        .id = j->id,
        .type = j->type,
        .certificate_id = j->cert->id,
        .status = status,
        .target_id = j->target ? j->target->id : NULL,
    };
    if (j->list == MEM_LIST_CERT_AWAITING) {
        w.common_name = j->cert->common_name;
        w.sans = (const char *const *)j->cert->sans;
        w.n_sans = j->cert->n_sans;
    }
    if (j->target) {
        w.target_type = j->target->type;
        w.target_config_json = j->target->config_json;
    }
    return store_json_work_item(&w);
}

/* Collects this agent's items: its Pending Deployment list and the AwaitingCSR jobs of the
 * certificates mapped to its targets (each job once). */
static int collect_work(struct mem *m, struct mem_agent *a, struct mem_vec *items)
{
    uint64_t gen = ++m->mark_gen;
    for (struct mem_job *j = a->pending.head; j; j = j->next)
        if (mem_vec_push(items, j) != 0)
            return STORE_ERROR;
    for (size_t i = 0; i < a->targets.n; i++) {
        struct mem_target *t = a->targets.v[i];
        for (size_t k = 0; k < t->certs.n; k++) {
            struct mem_cert *c = t->certs.v[k];
            for (struct mem_job *j = c->awaiting.head; j; j = j->next) {
                if (j->mark == gen)
                    continue;
                j->mark = gen;
                if (mem_vec_push(items, j) != 0)
                    return STORE_ERROR;
            }
        }
    }
    return STORE_OK;
}

int mem_work_poll(struct store *s, const char *agent_id, int64_t now_us, json_object **out)
{
    (void)now_us;
    struct mem *m = mem_of(s);
    struct mem_agent *a = mem_agent_find(m, agent_id);
    if (a == NULL)
        return STORE_NOT_FOUND; /* certctl answers 500: the claim has no existence check */
    struct mem_vec items = {0};
    int rc = collect_work(m, a, &items);
    if (rc != STORE_OK) {
        mem_vec_free(&items);
        return rc;
    }
    if (items.n > 1)
        qsort(items.v, items.n, sizeof(*items.v), by_poll_order);
    json_object *arr = json_object_new_array_ext((int)items.n);
    for (size_t i = 0; i < items.n; i++) {
        struct mem_job *j = items.v[i];
        bool claim = j->list == MEM_LIST_AGENT_PENDING;
        json_object_array_add(arr, work_item(j, claim ? JOB_RUNNING : j->status));
        if (claim && set_status(m, j, JOB_RUNNING) != STORE_OK)
            rc = STORE_ERROR;
    }
    mem_vec_free(&items);
    if (rc != STORE_OK) {
        json_object_put(arr);
        return rc;
    }
    *out = arr;
    return STORE_OK;
}
