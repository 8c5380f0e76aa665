/* refserver/store_pg_job.c - the PostgreSQL backend's jobs: insert, get, status updates, the
 * AwaitingCSR lookup of a CSR completion, counts by status, and the agent work poll (one
 * statement: see PG_WORK_POLL in store_pg_sql.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refserver/store_pg.h"

int pg_job_insert(struct store *s, const struct store_job_view *j)
{
    struct pg_params p = {0};
    pg_p_str(&p, j->id);
    pg_p_str(&p, j->type);
    pg_p_str(&p, j->certificate_id);
    pg_p_str(&p, j->target_id);
    pg_p_str(&p, j->agent_id);
    pg_p_str(&p, j->status);
    pg_p_i64(&p, j->attempts);
    pg_p_i64(&p, j->max_attempts);
    pg_p_str(&p, j->last_error);
    pg_p_time(&p, j->scheduled_us);
    pg_p_time(&p, j->started_us);
    pg_p_time(&p, j->completed_us);
    pg_p_time(&p, j->created_us);
    return pg_cmd(s, PG_JOB_INSERT, &p, STORE_ERROR, STORE_NOT_FOUND, NULL);
}

int pg_job_get(struct store *s, const char *id, json_object **out)
{
    PGresult *r;
    int rc = pg_row_by_id(s, PG_JOB_GET, id, &r);
    if (rc != STORE_OK)
        return rc;
    struct store_job_view v = {
        .id = pg_str(r, 0, 0),
        .type = pg_str(r, 0, 1),
        .certificate_id = pg_str(r, 0, 2),
        .target_id = pg_str(r, 0, 3),
        .agent_id = pg_str(r, 0, 4),
        .status = pg_str(r, 0, 5),
        .attempts = (int)pg_i64(r, 0, 6, 0),
        .max_attempts = (int)pg_i64(r, 0, 7, 0),
        .last_error = pg_str(r, 0, 8),
        .scheduled_us = pg_time(r, 0, 9),
        .started_us = pg_time(r, 0, 10),
        .completed_us = pg_time(r, 0, 11),
        .created_us = pg_time(r, 0, 12),
        .verification_status = pg_str(r, 0, 13),
    };
    *out = store_json_job(&v);
    PQclear(r);
    return rc;
}

int pg_job_set_status(struct store *s, const char *id, const char *status, const char *error)
{
    struct pg_params p = {0};
    int64_t n = 0;
    pg_p_str(&p, id);
    pg_p_str(&p, status);
    pg_p_str(&p, error);
    int rc = pg_cmd(s, PG_JOB_SET_STATUS, &p, STORE_ERROR, STORE_ERROR, &n);
    return rc != STORE_OK ? rc : n == 0 ? STORE_NOT_FOUND : STORE_OK;
}

int pg_job_find_awaiting(struct store *s, const char *cert_id, char *job_id, size_t n)
{
    PGresult *r;
    int rc = pg_row_by_id(s, PG_JOB_FIND_AWAITING, cert_id, &r);
    if (rc != STORE_OK)
        return rc;
    snprintf(job_id, n, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

int pg_job_counts(struct store *s, json_object **out)
{
    int rc;
    PGresult *r = pg_run(s, PG_JOB_COUNTS, NULL, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    json_object *o = json_object_new_object();
    for (int i = 0; i < PQntuples(r); i++)
        json_object_object_add(o, PQgetvalue(r, i, 0), json_object_new_int64(pg_i64(r, i, 1, 0)));
    PQclear(r);
    *out = o;
    return STORE_OK;
}

/* One WorkItem from a PG_WORK_POLL row. */
static json_object *work_from_row(const PGresult *r, int i)
{
    struct pg_strv sans;
    if (pg_strv_parse(&sans, pg_str(r, i, 7)) != STORE_OK)
        return NULL;
    struct store_work_view w = {
        .id = pg_str(r, i, 1),
        .type = pg_str(r, i, 2),
        .certificate_id = pg_str(r, i, 3),
        .target_id = pg_str(r, i, 4),
        .status = pg_str(r, i, 5),
        .common_name = pg_str(r, i, 6),
        .sans = sans.v,
        .n_sans = sans.n,
        .target_type = pg_str(r, i, 8),
        .target_config_json = pg_str(r, i, 9),
    };
    json_object *o = store_json_work_item(&w);
    pg_strv_free(&sans);
    return o;
}

int pg_work_poll(struct store *s, const char *agent_id, int64_t now_us, json_object **out)
{
    (void)now_us;
    struct pg_params p = {0};
    int rc;
    pg_p_str(&p, agent_id);
    PGresult *r = pg_run(s, PG_WORK_POLL, &p, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0 || pg_i64(r, 0, 0, 0) == 0) {
        PQclear(r);
        return STORE_NOT_FOUND; /* certctl answers 500: the claim has no existence check */
    }
    rc = pg_rows_json(r, work_from_row, out); /* an agent without work: one row of NULLs */
    PQclear(r);
    return rc;
}
