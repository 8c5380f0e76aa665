/* refserver/store_pg.h - the PostgreSQL backend's internals, shared by store_pg.c (connection,
 * statements, agents, targets, reference rows, seeding), store_pg_cert.c (certificates,
 * versions, profiles) and store_pg_job.c (jobs, work polls). One synchronous libpq connection:
 * the store serialises its DB calls on the target's event-loop thread. Every statement is
 * prepared once at open (which also checks certctl's tables and columns); the two with optional
 * filters (certificate list and bulk-renewal matching) run as unnamed statements instead, so
 * each call is planned for its own values, as certctl's dynamically built SQL is. Times travel
 * as Unix microseconds (bigint) both ways. */
#ifndef FLEETSIM_TARGET_STORE_PG_H
#define FLEETSIM_TARGET_STORE_PG_H

#include <libpq-fe.h>

#include "refserver/store_internal.h"

enum pg_stmt {
    PG_AGENT_INSERT,
    PG_AGENT_GET,
    PG_AGENT_HEARTBEAT,
    PG_AGENT_RETIRED_AT,
    PG_AGENT_DEPS,
    PG_AGENT_RETIRE,
    PG_AGENT_RETIRE_CASCADE,
    PG_AGENT_COUNTS,
    PG_TARGET_INSERT,
    PG_MAP_INSERT,
    PG_WORK_POLL,
    PG_CERT_INSERT,
    PG_CERT_GET,
    PG_CERT_BRIEF,
    PG_CERT_LIST,
    PG_CERT_MATCH,
    PG_CERT_SET_STATUS,
    PG_CERT_RENEWED,
    PG_CERT_TARGETS,
    PG_CERT_LATEST_PEM,
    PG_VERSION_INSERT,
    PG_JOB_INSERT,
    PG_JOB_GET,
    PG_JOB_SET_STATUS,
    PG_JOB_FIND_AWAITING,
    PG_JOB_COUNTS,
    PG_PROFILE_INSERT,
    PG_PROFILE_GET,
    PG_REF_TEAM,
    PG_REF_OWNER,
    PG_REF_ISSUER,
    PG_REF_POLICY,
    PG_STMT_COUNT
};

struct pg_stmt_def {
    const char *name;
    const char *sql;
    int nparams;
    bool per_call; /* optional filters: planned for each call's values (unnamed statement) */
};

/* The statement table (store_pg_sql.c), indexed by enum pg_stmt. */
extern const struct pg_stmt_def pg_stmts[PG_STMT_COUNT];

struct pg {
    PGconn *conn;
    bool in_tx;           /* between BEGIN and COMMIT/ROLLBACK: never reconnected there */
    unsigned backoff_ms;  /* 0 while connected, else the wait before the next attempt */
    uint64_t retry_at_ms; /* monotonic time of the next reconnection attempt */
    uint64_t reconnects;  /* sessions re-established */
};

/* The first line of a server message msg (may be NULL) into err, for one-line errors. */
void pg_first_line(const char *msg, char *err, size_t errlen);

/* Prepares every statement of pg_stmts on conn (each new session needs them). Returns 0, or -1
 * with a one-line reason in err. */
int pg_prepare_all(PGconn *conn, char *err, size_t errlen);

/* True when the session works (probe: after a SELECT 1 round trip), re-establishing it, with
 * back-off between attempts, when the server closed it (store_pg_conn.c). */
bool pg_available(struct store *s, bool probe);

/* After a failed statement: true when the connection had been lost and is back, so the caller
 * may run the statement once more (never inside a transaction). */
bool pg_recovered(struct store *s);

static inline PGconn *pg_conn(struct store *s)
{
    return ((struct pg *)s->be)->conn;
}

/* Parameters of one statement: strings borrowed, integers formatted into buf. */
#define PG_MAX_PARAMS 16
struct pg_params {
    const char *v[PG_MAX_PARAMS];
    char buf[PG_MAX_PARAMS][24];
    int n;
};
void pg_p_str(struct pg_params *p, const char *s); /* NULL → SQL NULL */
void pg_p_i64(struct pg_params *p, int64_t v);
void pg_p_time(struct pg_params *p, int64_t us); /* STORE_TIME_NULL → SQL NULL */
void pg_p_bool(struct pg_params *p, bool b);

/* Runs a prepared statement. Returns the result (caller PQclear()s) with *rc = STORE_OK, or
 * NULL with *rc mapped from the SQLSTATE: unique_violation → on_unique, foreign_key_violation
 * → on_fk, anything else → STORE_ERROR. */
PGresult *pg_run(struct store *s, enum pg_stmt st, const struct pg_params *p, int on_unique,
                 int on_fk, int *rc);
/* As pg_run for statements whose rows are not needed; returns the STORE code and, when
 * affected is not NULL, the number of rows affected. */
int pg_cmd(struct store *s, enum pg_stmt st, const struct pg_params *p, int on_unique, int on_fk,
           int64_t *affected);

/* Runs statement st with the one text parameter id and keeps its first row: returns STORE_OK
 * with *out the result (caller PQclear()s), STORE_NOT_FOUND when there is no row, or
 * STORE_ERROR (*out NULL then). */
int pg_row_by_id(struct store *s, enum pg_stmt st, const char *id, PGresult **out);

/* The rows of r as a JSON array, each made by conv (NULL: out of memory), skipping rows whose
 * column 1 is NULL (a query's placeholder row when nothing matched). Returns STORE_OK with
 * *out, or STORE_ERROR. r stays the caller's. */
int pg_rows_json(const PGresult *r, json_object *(*conv)(const PGresult *r, int row),
                 json_object **out);

/* Field access: NULL for SQL NULL. */
const char *pg_str(const PGresult *r, int row, int col);
int64_t pg_i64(const PGresult *r, int row, int col, int64_t if_null);
int64_t pg_time(const PGresult *r, int row, int col); /* SQL NULL → STORE_TIME_NULL */
bool pg_bool(const PGresult *r, int row, int col);

/* A JSON array of strings parsed from text, with borrowed pointers to its elements. */
struct pg_strv {
    json_object *arr;
    const char **v;
    size_t n;
};
int pg_strv_parse(struct pg_strv *sv, const char *json_text); /* NULL text → empty */
void pg_strv_free(struct pg_strv *sv);

/* Operations of store_pg_cert.c and store_pg_job.c. */
int pg_cert_insert(struct store *s, const struct store_cert_view *c);
int pg_cert_get(struct store *s, const char *id, json_object **out);
int pg_cert_brief(struct store *s, const char *id, char *status, size_t n, int64_t *expires_us);
int pg_cert_list(struct store *s, const struct store_cert_filter *f, int64_t limit, int64_t offset,
                 int64_t *total, json_object **data);
int pg_cert_match(struct store *s, const struct store_cert_filter *f, int64_t limit,
                  store_cert_cb cb, void *arg);
int pg_cert_set_status(struct store *s, const char *id, const char *status, int64_t now_us);
int pg_cert_renewed(struct store *s, const char *id, int64_t not_after_us, int64_t now_us);
int pg_cert_targets(struct store *s, const char *id, store_target_cb cb, void *arg);
int pg_cert_latest_pem(struct store *s, const char *id, char **pem);
int pg_version_insert(struct store *s, const struct store_version_view *v);
int pg_profile_insert(struct store *s, const struct store_profile_view *p);
int pg_profile_get(struct store *s, const char *id, json_object **out);

int pg_job_insert(struct store *s, const struct store_job_view *j);
int pg_job_get(struct store *s, const char *id, json_object **out);
int pg_job_set_status(struct store *s, const char *id, const char *status, const char *error);
int pg_job_find_awaiting(struct store *s, const char *cert_id, char *job_id, size_t n);
int pg_job_counts(struct store *s, json_object **out);
int pg_work_poll(struct store *s, const char *agent_id, int64_t now_us, json_object **out);

#endif
