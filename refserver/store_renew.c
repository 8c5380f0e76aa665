/* refserver/store_renew.c - certctl's renewal paths over the backend operations: the agent CSR
 * completion (CompleteAgentCSRRenewal + createDeploymentJobs) and the bulk renewal
 * (bulk_renewal.go), written once for both backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refserver/store_internal.h"

/* Statuses a bulk renewal skips (certctl's bulk_renewal.go). */
static const char *const bulk_skip_statuses[] = {"Archived", "Revoked", "Expired",
                                                 "RenewalInProgress"};

/* expires_at before this (2000-01-01T00:00:00Z, µs) makes a bulk job an Issuance. */
#define YEAR_2000_US (946684800LL * 1000000LL)

static bool empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static bool bulk_skips(const char *status)
{
    for (size_t i = 0; i < sizeof(bulk_skip_statuses) / sizeof(bulk_skip_statuses[0]); i++)
        if (strcmp(status, bulk_skip_statuses[i]) == 0)
            return true;
    return false;
}

/* Ends a backend transaction: commit when rc is STORE_OK, else rollback and return rc. */
int store_in_tx(struct store *s, int rc)
{
    if (rc == STORE_OK)
        return s->ops->commit(s);
    s->ops->rollback(s);
    return rc;
}

/* Inserts an AwaitingCSR renewal-type job for a cert; id written to id (size STORE_ID_MAX). */
int store_insert_csr_job(struct store *s, const char *cert_id, const char *type, char *id)
{
    store_gen_id(s, "job", id, STORE_ID_MAX);
    int64_t now = store_created_us(s);
    struct store_job_view j = {
        .id = id,
        .type = type,
        .certificate_id = cert_id,
        .status = JOB_AWAITING_CSR,
        .max_attempts = JOB_MAX_ATTEMPTS,
        .scheduled_us = now,
        .started_us = STORE_TIME_NULL,
        .completed_us = STORE_TIME_NULL,
        .created_us = now,
    };
    return s->ops->job_insert(s, &j);
}

/* Collected (target, agent) pairs: jobs are inserted after the iteration ends. */
struct target_list {
    char (*ids)[2][STORE_ID_MAX];
    size_t n, cap;
};

static int collect_target(const char *target_id, const char *agent_id, void *arg)
{
    struct target_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        void *p = realloc(l->ids, cap * sizeof(*l->ids));
        if (p == NULL)
            return STORE_ERROR;
        l->ids = p;
        l->cap = cap;
    }
    snprintf(l->ids[l->n][0], STORE_ID_MAX, "%s", target_id);
    snprintf(l->ids[l->n][1], STORE_ID_MAX, "%s", agent_id ? agent_id : "");
    l->n++;
    return STORE_OK;
}

/* certctl's createDeploymentJobs: one Pending Deployment job per mapped target. */
static int create_deployment_jobs(struct store *s, const char *cert_id)
{
    struct target_list l = {0};
    int rc = s->ops->cert_targets(s, cert_id, collect_target, &l);
    for (size_t i = 0; rc == STORE_OK && i < l.n; i++) {
        char id[STORE_ID_MAX];
        store_gen_id(s, "job", id, sizeof(id));
        int64_t now = store_created_us(s);
        struct store_job_view j = {
            .id = id,
            .type = JOB_TYPE_DEPLOYMENT,
            .certificate_id = cert_id,
            .target_id = l.ids[i][0],
            .agent_id = l.ids[i][1][0] ? l.ids[i][1] : NULL,
            .status = JOB_PENDING,
            .max_attempts = JOB_MAX_ATTEMPTS,
            .scheduled_us = now,
            .started_us = STORE_TIME_NULL,
            .completed_us = STORE_TIME_NULL,
            .created_us = now,
        };
        rc = s->ops->job_insert(s, &j);
    }
    free(l.ids);
    return rc;
}

static int csr_complete_tx(struct store *s, const char *certificate_id,
                           const struct store_issued_cert *in)
{
    char status[STORE_STATUS_MAX], job_id[STORE_ID_MAX], ver_id[STORE_ID_MAX];
    int64_t expires;
    int rc = s->ops->cert_brief(s, certificate_id, status, sizeof(status), &expires);
    if (rc != STORE_OK)
        return rc;
    /* The version goes first: its unique fingerprint is the step that can fail, and the memory
     * backend cannot roll back. */
    store_gen_id(s, "certver", ver_id, sizeof(ver_id));
    int64_t now = store_created_us(s);
    struct store_version_view v = {
        .id = ver_id,
        .certificate_id = certificate_id,
        .serial_number = in->serial_number,
        .fingerprint_sha256 = in->fingerprint_sha256,
        .pem_chain = in->pem_chain,
        .csr_pem = in->csr_pem ? in->csr_pem : "",
        .not_before_us = in->not_before_unix_s * 1000000,
        .not_after_us = in->not_after_unix_s * 1000000,
        .created_us = now,
    };
    rc = s->ops->version_insert(s, &v);
    if (rc != STORE_OK)
        return rc;
    rc = s->ops->job_find_awaiting(s, certificate_id, job_id, sizeof(job_id));
    if (rc == STORE_OK)
        rc = s->ops->job_set_status(s, job_id, JOB_COMPLETED, NULL);
    else if (rc == STORE_NOT_FOUND)
        rc = STORE_OK; /* no AwaitingCSR job: certctl still stores the version */
    if (rc == STORE_OK)
        rc = s->ops->cert_renewed(s, certificate_id, v.not_after_us, now);
    if (rc == STORE_OK)
        rc = create_deployment_jobs(s, certificate_id);
    return rc;
}

int store_csr_complete(struct store *s, const char *agent_id, const char *certificate_id,
                       const struct store_issued_cert *issued)
{
    (void)agent_id; /* certctl does not check which agent sends the CSR */
    if (empty(certificate_id))
        return STORE_NOT_FOUND;
    if (issued == NULL || empty(issued->pem_chain) || empty(issued->serial_number) ||
        empty(issued->fingerprint_sha256))
        return STORE_INVALID;
    int rc = s->ops->begin(s);
    if (rc != STORE_OK)
        return rc;
    return store_in_tx(s, csr_complete_tx(s, certificate_id, issued));
}

/* ---- bulk renewal ------------------------------------------------------------------------ */

struct bulk_ctx {
    struct store *s;
    const struct store_bulk_criteria *crit;
    bool intersect; /* filter + ids: keep only listed ids */
    int64_t matched, enqueued, skipped, failed;
    json_object *jobs, *errors;
};

static bool bulk_listed(const struct store_bulk_criteria *c, const char *id)
{
    for (size_t i = 0; i < c->n_certificate_ids; i++)
        if (c->certificate_ids[i] && strcmp(c->certificate_ids[i], id) == 0)
            return true;
    return false;
}

static void bulk_error(struct bulk_ctx *b, const char *cert_id, const char *what)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "certificate_id", json_object_new_string(cert_id));
    json_object_object_add(e, "error", json_object_new_string(what));
    json_object_array_add(b->errors, e);
    b->failed++;
}

/* One matched certificate: skip, or → RenewalInProgress + AwaitingCSR job. */
static int bulk_one(const char *id, const char *status, int64_t expires_us, void *arg)
{
    struct bulk_ctx *b = arg;
    if (b->intersect && !bulk_listed(b->crit, id))
        return STORE_OK;
    b->matched++;
    if (bulk_skips(status)) {
        b->skipped++;
        return STORE_OK;
    }
    char job_id[STORE_ID_MAX];
    int64_t now = store_now_us(b->s);
    if (b->s->ops->cert_set_status(b->s, id, CERT_RENEWAL_IN_PROGRESS, now) != STORE_OK) {
        bulk_error(b, id, "failed to update certificate status");
        return STORE_OK;
    }
    const char *type = (expires_us == STORE_TIME_ZERO || expires_us < YEAR_2000_US)
                           ? JOB_TYPE_ISSUANCE
                           : JOB_TYPE_RENEWAL;
    if (store_insert_csr_job(b->s, id, type, job_id) != STORE_OK) {
        bulk_error(b, id, "failed to create renewal job");
        return STORE_OK;
    }
    json_object *j = json_object_new_object();
    json_object_object_add(j, "certificate_id", json_object_new_string(id));
    json_object_object_add(j, "job_id", json_object_new_string(job_id));
    json_object_array_add(b->jobs, j);
    b->enqueued++;
    return STORE_OK;
}

static int bulk_by_ids(struct bulk_ctx *b)
{
    const struct store_bulk_criteria *c = b->crit;
    for (size_t i = 0; i < c->n_certificate_ids; i++) {
        char status[STORE_STATUS_MAX];
        int64_t expires;
        if (empty(c->certificate_ids[i]))
            continue;
        int rc =
            b->s->ops->cert_brief(b->s, c->certificate_ids[i], status, sizeof(status), &expires);
        if (rc == STORE_NOT_FOUND)
            continue; /* unknown ids drop out silently */
        if (rc == STORE_OK)
            rc = bulk_one(c->certificate_ids[i], status, expires, b);
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

int store_bulk_renew(struct store *s, const struct store_bulk_criteria *c, json_object **result_out)
{
    *result_out = NULL;
    bool has_filter = c && (!empty(c->profile_id) || !empty(c->owner_id) || !empty(c->agent_id) ||
                            !empty(c->issuer_id) || !empty(c->team_id));
    bool has_ids = c && c->n_certificate_ids > 0;
    if (!has_filter && !has_ids)
        return STORE_INVALID;
    struct bulk_ctx b = {.s = s,
                         .crit = c,
                         .intersect = has_filter && has_ids,
                         .jobs = json_object_new_array(),
                         .errors = json_object_new_array()};
    int rc = s->ops->begin(s);
    if (rc == STORE_OK) {
        if (!has_filter) {
            rc = bulk_by_ids(&b);
        } else {
            struct store_cert_filter f = {.owner_id = c->owner_id,
                                          .team_id = c->team_id,
                                          .issuer_id = c->issuer_id,
                                          .agent_id = c->agent_id,
                                          .profile_id = c->profile_id};
            rc = s->ops->cert_match(s, &f, s->cfg.bulk_clamp ? STORE_BULK_CLAMP_ROWS : -1, bulk_one,
                                    &b);
        }
        rc = store_in_tx(s, rc);
    }
    if (rc != STORE_OK) {
        json_object_put(b.jobs);
        json_object_put(b.errors);
        return rc;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "total_matched", json_object_new_int64(b.matched));
    json_object_object_add(o, "total_enqueued", json_object_new_int64(b.enqueued));
    json_object_object_add(o, "total_skipped", json_object_new_int64(b.skipped));
    json_object_object_add(o, "total_failed", json_object_new_int64(b.failed));
    json_object_object_add(o, "enqueued_jobs", b.jobs);
    json_object_object_add(o, "errors", b.errors);
    *result_out = o;
    return STORE_OK;
}
