/* refserver/store_pg.c - the PostgreSQL backend: connection (through seed_connect, so --db means
 * the same everywhere), statement preparation, parameter and result helpers, transactions,
 * agents, deployment targets, mappings, reference rows and seeding (seed_run, the code of
 * `fleetsim seed`). Certificates and jobs are in store_pg_cert.c and store_pg_job.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed/seed.h"
#include "refserver/store_pg.h"

/* SQLSTATEs the store maps to its own codes. */
#define SQLSTATE_UNIQUE "23505"
#define SQLSTATE_FK "23503"

/* ---- helpers ---------------------------------------------------------------------------- */

void pg_p_str(struct pg_params *p, const char *s)
{
    p->v[p->n++] = s;
}

void pg_p_i64(struct pg_params *p, int64_t v)
{
    snprintf(p->buf[p->n], sizeof(p->buf[0]), "%" PRId64, v);
    p->v[p->n] = p->buf[p->n];
    p->n++;
}

void pg_p_time(struct pg_params *p, int64_t us)
{
    if (us == STORE_TIME_NULL)
        pg_p_str(p, NULL);
    else
        pg_p_i64(p, us);
}

void pg_p_bool(struct pg_params *p, bool b)
{
    pg_p_str(p, b ? "true" : "false");
}

static PGresult *exec_stmt(struct store *s, const struct pg_stmt_def *d, const struct pg_params *p)
{
    return d->per_call ? PQexecParams(pg_conn(s), d->sql, p->n, NULL, p->v, NULL, NULL, 0)
                       : PQexecPrepared(pg_conn(s), d->name, p->n, p->v, NULL, NULL, 0);
}

PGresult *pg_run(struct store *s, enum pg_stmt st, const struct pg_params *p, int on_unique,
                 int on_fk, int *rc)
{
    static const struct pg_params none = {0};
    if (p == NULL)
        p = &none;
    PGresult *r = exec_stmt(s, &pg_stmts[st], p);
    ExecStatusType es = PQresultStatus(r);
    if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK && pg_recovered(s)) {
        PQclear(r); /* the server restarted under us: once more on the new session */
        r = exec_stmt(s, &pg_stmts[st], p);
        es = PQresultStatus(r);
    }
    if (es == PGRES_TUPLES_OK || es == PGRES_COMMAND_OK) {
        *rc = STORE_OK;
        return r;
    }
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && strcmp(state, SQLSTATE_UNIQUE) == 0)
        *rc = on_unique;
    else if (state && strcmp(state, SQLSTATE_FK) == 0)
        *rc = on_fk;
    else
        *rc = STORE_ERROR;
    PQclear(r);
    return NULL;
}

int pg_cmd(struct store *s, enum pg_stmt st, const struct pg_params *p, int on_unique, int on_fk,
           int64_t *affected)
{
    int rc;
    PGresult *r = pg_run(s, st, p, on_unique, on_fk, &rc);
    if (r == NULL)
        return rc;
    if (affected)
        *affected = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return STORE_OK;
}

int pg_row_by_id(struct store *s, enum pg_stmt st, const char *id, PGresult **out)
{
    struct pg_params p = {0};
    int rc;
    pg_p_str(&p, id);
    PGresult *r = pg_run(s, st, &p, STORE_ERROR, STORE_ERROR, &rc);
    if (r != NULL && PQntuples(r) == 0) {
        PQclear(r);
        r = NULL;
        rc = STORE_NOT_FOUND;
    }
    *out = r;
    return rc;
}

int pg_rows_json(const PGresult *r, json_object *(*conv)(const PGresult *r, int row),
                 json_object **out)
{
    json_object *arr = json_object_new_array();
    if (arr == NULL)
        return STORE_ERROR;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, 1))
            continue;
        json_object *o = conv(r, i);
        if (o == NULL) {
            json_object_put(arr);
            return STORE_ERROR;
        }
        json_object_array_add(arr, o);
    }
    *out = arr;
    return STORE_OK;
}

const char *pg_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

int64_t pg_i64(const PGresult *r, int row, int col, int64_t if_null)
{
    return PQgetisnull(r, row, col) ? if_null : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int64_t pg_time(const PGresult *r, int row, int col)
{
    return pg_i64(r, row, col, STORE_TIME_NULL);
}

bool pg_bool(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

int pg_strv_parse(struct pg_strv *sv, const char *json_text)
{
    *sv = (struct pg_strv){0};
    if (json_text == NULL)
        return STORE_OK;
    sv->arr = json_tokener_parse(json_text);
    if (sv->arr == NULL || !json_object_is_type(sv->arr, json_type_array))
        goto bad;
    sv->n = json_object_array_length(sv->arr);
    if (sv->n == 0)
        return STORE_OK;
    sv->v = calloc(sv->n, sizeof(*sv->v));
    if (sv->v == NULL)
        goto bad;
    for (size_t i = 0; i < sv->n; i++)
        sv->v[i] = json_object_get_string(json_object_array_get_idx(sv->arr, i));
    return STORE_OK;
bad:
    pg_strv_free(sv);
    return STORE_ERROR;
}

void pg_strv_free(struct pg_strv *sv)
{
    json_object_put(sv->arr);
    free(sv->v);
    *sv = (struct pg_strv){0};
}

static int pg_simple(struct store *s, const char *sql)
{
    PGresult *r = PQexec(pg_conn(s), sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? STORE_OK : STORE_ERROR;
}

static int pg_begin(struct store *s)
{
    struct pg *pg = s->be;
    if (!pg_available(s, false) || pg_simple(s, "BEGIN") != STORE_OK)
        return STORE_ERROR;
    pg->in_tx = true;
    return STORE_OK;
}
static int pg_commit(struct store *s)
{
    ((struct pg *)s->be)->in_tx = false;
    return pg_simple(s, "COMMIT");
}
static void pg_rollback(struct store *s)
{
    ((struct pg *)s->be)->in_tx = false;
    (void)pg_simple(s, "ROLLBACK");
}

/* ---- agents ----------------------------------------------------------------------------- */

static int pg_agent_insert(struct store *s, const struct store_agent_view *a)
{
    struct pg_params p = {0};
    pg_p_str(&p, a->id);
    pg_p_str(&p, a->name);
    pg_p_str(&p, a->hostname);
    pg_p_str(&p, a->status);
    pg_p_time(&p, a->last_heartbeat_us);
    pg_p_time(&p, a->registered_us);
    pg_p_str(&p, a->api_key_hash);
    pg_p_str(&p, a->os);
    pg_p_str(&p, a->architecture);
    pg_p_str(&p, a->ip_address);
    pg_p_str(&p, a->version);
    pg_p_time(&p, a->retired_us);
    pg_p_str(&p, a->retired_reason);
    return pg_cmd(s, PG_AGENT_INSERT, &p, STORE_CONFLICT, STORE_ERROR, NULL);
}

static int pg_agent_get(struct store *s, const char *id, json_object **out)
{
    struct pg_params p = {0};
    int rc;
    pg_p_str(&p, id);
    PGresult *r = pg_run(s, PG_AGENT_GET, &p, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return STORE_NOT_FOUND;
    }
    struct store_agent_view a = {
        .id = pg_str(r, 0, 0),
        .name = pg_str(r, 0, 1),
        .hostname = pg_str(r, 0, 2),
        .status = pg_str(r, 0, 3),
        .last_heartbeat_us = pg_time(r, 0, 4),
        .registered_us = pg_time(r, 0, 5),
        .api_key_hash = pg_str(r, 0, 6),
        .os = pg_str(r, 0, 7),
        .architecture = pg_str(r, 0, 8),
        .ip_address = pg_str(r, 0, 9),
        .version = pg_str(r, 0, 10),
        .retired_us = pg_time(r, 0, 11),
        .retired_reason = pg_str(r, 0, 12),
    };
    *out = store_json_agent(&a);
    PQclear(r);
    return STORE_OK;
}

static int pg_agent_heartbeat(struct store *s, const char *id, const struct store_agent_meta *m,
                              int64_t now_us)
{
    struct pg_params p = {0};
    int rc;
    pg_p_str(&p, id);
    pg_p_time(&p, now_us);
    pg_p_str(&p, m->hostname ? m->hostname : "");
    pg_p_str(&p, m->os ? m->os : "");
    pg_p_str(&p, m->architecture ? m->architecture : "");
    pg_p_str(&p, m->ip_address ? m->ip_address : "");
    pg_p_str(&p, m->version ? m->version : "");
    PGresult *r = pg_run(s, PG_AGENT_HEARTBEAT, &p, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    int64_t exists = pg_i64(r, 0, 0, 0), retired = pg_i64(r, 0, 1, 0), updated = pg_i64(r, 0, 2, 0);
    PQclear(r);
    if (exists == 0)
        return STORE_NOT_FOUND;
    if (retired > 0)
        return STORE_GONE;
    return updated == 1 ? STORE_OK : STORE_ERROR;
}

static int pg_agent_retired_at(struct store *s, const char *id, int64_t *retired_us)
{
    PGresult *r;
    int rc = pg_row_by_id(s, PG_AGENT_RETIRED_AT, id, &r);
    if (rc != STORE_OK)
        return rc;
    *retired_us = pg_time(r, 0, 0);
    PQclear(r);
    return rc;
}

static int pg_agent_dep_counts(struct store *s, const char *id, struct store_dep_counts *c)
{
    struct pg_params p = {0};
    int rc;
    pg_p_str(&p, id);
    PGresult *r = pg_run(s, PG_AGENT_DEPS, &p, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    c->active_targets = pg_i64(r, 0, 0, 0);
    c->active_certificates = pg_i64(r, 0, 1, 0);
    c->pending_jobs = pg_i64(r, 0, 2, 0);
    PQclear(r);
    return STORE_OK;
}

static int pg_agent_retire(struct store *s, const char *id, int64_t now_us, const char *reason,
                           bool cascade)
{
    struct pg_params p = {0};
    pg_p_str(&p, id);
    pg_p_time(&p, now_us);
    pg_p_str(&p, reason);
    return pg_cmd(s, cascade ? PG_AGENT_RETIRE_CASCADE : PG_AGENT_RETIRE, &p, STORE_ERROR,
                  STORE_ERROR, NULL);
}

static int pg_agent_counts(struct store *s, struct store_agent_counts *out)
{
    int rc;
    PGresult *r = pg_run(s, PG_AGENT_COUNTS, NULL, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    out->total = (uint64_t)pg_i64(r, 0, 0, 0);
    out->retired = (uint64_t)pg_i64(r, 0, 1, 0);
    uint64_t known = 0;
    for (int i = 0; i < IDENTITY_OS_COUNT; i++) {
        out->os[i] = (uint64_t)pg_i64(r, 0, 2 + i, 0);
        known += out->os[i];
    }
    out->os_other = out->total - known;
    PQclear(r);
    return STORE_OK;
}

/* ---- targets, mappings, reference rows -------------------------------------------------- */

static int pg_target_insert(struct store *s, const struct store_target_view *t)
{
    struct pg_params p = {0};
    pg_p_str(&p, t->id);
    pg_p_str(&p, t->name);
    pg_p_str(&p, t->type);
    pg_p_str(&p, t->agent_id);
    pg_p_str(&p, t->config_json);
    pg_p_time(&p, t->created_us);
    return pg_cmd(s, PG_TARGET_INSERT, &p, STORE_CONFLICT, STORE_NOT_FOUND, NULL);
}

static int pg_map_insert(struct store *s, const char *cert_id, const char *target_id)
{
    struct pg_params p = {0};
    pg_p_str(&p, cert_id);
    pg_p_str(&p, target_id);
    return pg_cmd(s, PG_MAP_INSERT, &p, STORE_OK, STORE_NOT_FOUND, NULL);
}

static int pg_ref_add(struct store *s, const char *kind, const char *id, const char *name)
{
    static const struct {
        const char *kind;
        enum pg_stmt st;
    } kinds[] = {{"team", PG_REF_TEAM},
                 {"owner", PG_REF_OWNER},
                 {"issuer", PG_REF_ISSUER},
                 {"renewal_policy", PG_REF_POLICY}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kind, kinds[i].kind) != 0)
            continue;
        struct pg_params p = {0};
        pg_p_str(&p, id);
        pg_p_str(&p, name);
        return pg_cmd(s, kinds[i].st, &p, STORE_ERROR, STORE_ERROR, NULL);
    }
    return STORE_INVALID;
}

static int pg_seed_fleet(struct store *s, const struct store_seed_config *cfg, char *err,
                         size_t errlen)
{
    struct seed_options o;
    struct seed_result res;
    store_seed_options(cfg, &o);
    int rc = seed_run(pg_conn(s), &o, &res, err, errlen);
    return rc == 0 ? STORE_OK : rc == -EINVAL ? STORE_INVALID : STORE_ERROR;
}

/* ---- life cycle ------------------------------------------------------------------------- */

static void pg_destroy(struct store *s)
{
    struct pg *pg = s->be;
    if (pg->conn)
        PQfinish(pg->conn);
    free(pg);
}

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .destroy = pg_destroy,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .available = pg_available,
    .agent_insert = pg_agent_insert,
    .agent_get = pg_agent_get,
    .agent_heartbeat = pg_agent_heartbeat,
    .agent_retired_at = pg_agent_retired_at,
    .agent_dep_counts = pg_agent_dep_counts,
    .agent_retire = pg_agent_retire,
    .agent_counts = pg_agent_counts,
    .target_insert = pg_target_insert,
    .map_insert = pg_map_insert,
    .work_poll = pg_work_poll,
    .cert_insert = pg_cert_insert,
    .cert_get = pg_cert_get,
    .cert_brief = pg_cert_brief,
    .cert_list = pg_cert_list,
    .cert_match = pg_cert_match,
    .cert_set_status = pg_cert_set_status,
    .cert_renewed = pg_cert_renewed,
    .cert_targets = pg_cert_targets,
    .cert_latest_pem = pg_cert_latest_pem,
    .version_insert = pg_version_insert,
    .job_insert = pg_job_insert,
    .job_get = pg_job_get,
    .job_set_status = pg_job_set_status,
    .job_find_awaiting = pg_job_find_awaiting,
    .job_counts = pg_job_counts,
    .profile_insert = pg_profile_insert,
    .profile_get = pg_profile_get,
    .ref_add = pg_ref_add,
    .seed_fleet = pg_seed_fleet,
};

/* As certctl at start-up: the local issuer iss-local exists when the issuers table is empty. */
static int ensure_local_issuer(PGconn *conn, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, "INSERT INTO issuers (id, name, type, config) SELECT 'iss-local', "
                               "'Local CA', 'GenericCA', '{}'::jsonb WHERE NOT EXISTS "
                               "(SELECT 1 FROM issuers)");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        pg_first_line(PQresultErrorMessage(r), err, errlen);
    PQclear(r);
    return ok ? 0 : -1;
}

int store_pg_open(struct store *s, char *err, size_t errlen)
{
    struct pg *pg = calloc(1, sizeof(*pg));
    if (pg == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pg->conn = seed_connect(s->cfg.db_url, err, errlen);
    s->ops = &pg_ops;
    s->be = pg;
    if (pg->conn == NULL || pg_prepare_all(pg->conn, err, errlen) != 0 ||
        ensure_local_issuer(pg->conn, err, errlen) != 0) {
        pg_destroy(s);
        return -1;
    }
    return 0;
}
