/* refserver/store_pg_cert.c - the PostgreSQL backend's certificates (insert, get, filtered list
 * with its total in one statement, bulk-renewal matching), versions and profiles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refserver/store_pg.h"

/* Builds certctl's certificate JSON from a row whose CERT_COLS start at column c0. */
static json_object *cert_from_row(const PGresult *r, int row, int c0)
{
    struct pg_strv sans, targets;
    if (pg_strv_parse(&sans, pg_str(r, row, c0 + 3)) != STORE_OK)
        return NULL;
    if (pg_strv_parse(&targets, pg_str(r, row, c0 + 20)) != STORE_OK) {
        pg_strv_free(&sans);
        return NULL;
    }
    int64_t expires = pg_time(r, row, c0 + 11);
    struct store_cert_view v = {
        .id = pg_str(r, row, c0),
        .name = pg_str(r, row, c0 + 1),
        .common_name = pg_str(r, row, c0 + 2),
        .sans = sans.v,
        .n_sans = sans.n,
        .environment = pg_str(r, row, c0 + 4),
        .owner_id = pg_str(r, row, c0 + 5),
        .team_id = pg_str(r, row, c0 + 6),
        .issuer_id = pg_str(r, row, c0 + 7),
        .renewal_policy_id = pg_str(r, row, c0 + 8),
        .profile_id = pg_str(r, row, c0 + 9),
        .status = pg_str(r, row, c0 + 10),
        .expires_us = expires == STORE_TIME_NULL ? STORE_TIME_ZERO : expires,
        .tags_json = pg_str(r, row, c0 + 12),
        .last_renewal_us = pg_time(r, row, c0 + 13),
        .last_deployment_us = pg_time(r, row, c0 + 14),
        .revoked_us = pg_time(r, row, c0 + 15),
        .revocation_reason = pg_str(r, row, c0 + 16),
        .created_us = pg_time(r, row, c0 + 17),
        .updated_us = pg_time(r, row, c0 + 18),
        .source = pg_str(r, row, c0 + 19),
        .target_ids = targets.v,
        .n_target_ids = targets.n,
    };
    json_object *o = store_json_cert(&v);
    pg_strv_free(&sans);
    pg_strv_free(&targets);
    return o;
}

int pg_cert_insert(struct store *s, const struct store_cert_view *c)
{
    json_object *sans = json_object_new_array();
    for (size_t i = 0; i < c->n_sans; i++)
        json_object_array_add(sans, json_object_new_string(c->sans[i]));
    struct pg_params p = {0};
    pg_p_str(&p, c->id);
    pg_p_str(&p, c->name);
    pg_p_str(&p, c->common_name);
    pg_p_str(&p, json_object_to_json_string_ext(sans, JSON_C_TO_STRING_PLAIN));
    pg_p_str(&p, c->environment);
    pg_p_str(&p, c->owner_id);
    pg_p_str(&p, c->team_id);
    pg_p_str(&p, c->issuer_id);
    pg_p_str(&p, c->renewal_policy_id);
    pg_p_str(&p, c->profile_id);
    pg_p_str(&p, c->status);
    pg_p_time(&p, c->expires_us);
    pg_p_time(&p, c->created_us);
    /* certctl: a duplicate key or a missing foreign key is a 500. */
    int rc = pg_cmd(s, PG_CERT_INSERT, &p, STORE_ERROR, STORE_ERROR, NULL);
    json_object_put(sans);
    return rc;
}

int pg_cert_get(struct store *s, const char *id, json_object **out)
{
    PGresult *r;
    int rc = pg_row_by_id(s, PG_CERT_GET, id, &r);
    if (rc != STORE_OK)
        return rc;
    if ((*out = cert_from_row(r, 0, 0)) == NULL)
        rc = STORE_ERROR;
    PQclear(r);
    return rc;
}

int pg_cert_brief(struct store *s, const char *id, char *status, size_t n, int64_t *expires_us)
{
    PGresult *r;
    int rc = pg_row_by_id(s, PG_CERT_BRIEF, id, &r);
    if (rc != STORE_OK)
        return rc;
    snprintf(status, n, "%s", PQgetvalue(r, 0, 0));
    int64_t e = pg_time(r, 0, 1);
    *expires_us = e == STORE_TIME_NULL ? STORE_TIME_ZERO : e;
    PQclear(r);
    return rc;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static void filter_params(struct pg_params *p, const struct store_cert_filter *f)
{
    pg_p_str(p, or_empty(f->status));
    pg_p_str(p, or_empty(f->owner_id));
    pg_p_str(p, or_empty(f->team_id));
    pg_p_str(p, or_empty(f->issuer_id));
    pg_p_str(p, or_empty(f->profile_id));
    pg_p_str(p, or_empty(f->agent_id));
}

/* A row of PG_CERT_LIST: the total count, then the certificate. */
static json_object *listed_cert(const PGresult *r, int row)
{
    return cert_from_row(r, row, 1);
}

int pg_cert_list(struct store *s, const struct store_cert_filter *f, int64_t limit, int64_t offset,
                 int64_t *total, json_object **data)
{
    struct pg_params p = {0};
    int rc;
    filter_params(&p, f);
    pg_p_i64(&p, limit);
    pg_p_i64(&p, offset);
    PGresult *r = pg_run(s, PG_CERT_LIST, &p, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    rc = pg_rows_json(r, listed_cert, data); /* the empty page: one row of NULLs */
    *total = PQntuples(r) > 0 ? pg_i64(r, 0, 0, 0) : 0;
    PQclear(r);
    return rc;
}

int pg_cert_match(struct store *s, const struct store_cert_filter *f, int64_t limit,
                  store_cert_cb cb, void *arg)
{
    struct pg_params p = {0};
    int rc;
    filter_params(&p, f);
    if (limit < 0)
        pg_p_str(&p, NULL); /* LIMIT NULL: all rows */
    else
        pg_p_i64(&p, limit);
    PGresult *r = pg_run(s, PG_CERT_MATCH, &p, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    /* The callback runs further statements; this result stays valid until PQclear. */
    for (int i = 0; i < PQntuples(r) && rc == STORE_OK; i++) {
        int64_t e = pg_time(r, i, 2);
        rc = cb(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                e == STORE_TIME_NULL ? STORE_TIME_ZERO : e, arg);
    }
    PQclear(r);
    return rc;
}

static int update_one(struct store *s, enum pg_stmt st, struct pg_params *p)
{
    int64_t n = 0;
    int rc = pg_cmd(s, st, p, STORE_ERROR, STORE_ERROR, &n);
    return rc != STORE_OK ? rc : n == 0 ? STORE_NOT_FOUND : STORE_OK;
}

int pg_cert_set_status(struct store *s, const char *id, const char *status, int64_t now_us)
{
    struct pg_params p = {0};
    pg_p_str(&p, id);
    pg_p_str(&p, status);
    pg_p_time(&p, now_us);
    return update_one(s, PG_CERT_SET_STATUS, &p);
}

int pg_cert_renewed(struct store *s, const char *id, int64_t not_after_us, int64_t now_us)
{
    struct pg_params p = {0};
    pg_p_str(&p, id);
    pg_p_time(&p, not_after_us);
    pg_p_time(&p, now_us);
    return update_one(s, PG_CERT_RENEWED, &p);
}

int pg_cert_targets(struct store *s, const char *id, store_target_cb cb, void *arg)
{
    struct pg_params p = {0};
    int rc;
    pg_p_str(&p, id);
    PGresult *r = pg_run(s, PG_CERT_TARGETS, &p, STORE_ERROR, STORE_ERROR, &rc);
    if (r == NULL)
        return rc;
    for (int i = 0; i < PQntuples(r) && rc == STORE_OK; i++)
        rc = cb(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), arg);
    PQclear(r);
    return rc;
}

int pg_cert_latest_pem(struct store *s, const char *id, char **pem)
{
    PGresult *r;
    int rc = pg_row_by_id(s, PG_CERT_LATEST_PEM, id, &r);
    if (rc != STORE_OK)
        return rc;
    if ((*pem = strdup(PQgetvalue(r, 0, 0))) == NULL)
        rc = STORE_ERROR;
    PQclear(r);
    return rc;
}

int pg_version_insert(struct store *s, const struct store_version_view *v)
{
    struct pg_params p = {0};
    pg_p_str(&p, v->id);
    pg_p_str(&p, v->certificate_id);
    pg_p_str(&p, v->serial_number);
    pg_p_time(&p, v->not_before_us);
    pg_p_time(&p, v->not_after_us);
    pg_p_str(&p, v->fingerprint_sha256);
    pg_p_str(&p, v->pem_chain);
    pg_p_str(&p, v->csr_pem);
    pg_p_time(&p, v->created_us);
    return pg_cmd(s, PG_VERSION_INSERT, &p, STORE_ERROR, STORE_NOT_FOUND, NULL);
}

/* ---- profiles --------------------------------------------------------------------------- */

int pg_profile_insert(struct store *s, const struct store_profile_view *v)
{
    struct pg_params p = {0};
    pg_p_str(&p, v->id);
    pg_p_str(&p, v->name);
    pg_p_str(&p, v->description);
    pg_p_str(&p, v->rules_json);
    pg_p_i64(&p, v->max_ttl_seconds);
    pg_p_str(&p, v->acme_auth_mode);
    pg_p_bool(&p, v->requires_approval);
    pg_p_bool(&p, v->enabled);
    pg_p_time(&p, v->created_us);
    return pg_cmd(s, PG_PROFILE_INSERT, &p, STORE_CONFLICT, STORE_ERROR, NULL);
}

int pg_profile_get(struct store *s, const char *id, json_object **out)
{
    PGresult *r;
    int rc = pg_row_by_id(s, PG_PROFILE_GET, id, &r);
    if (rc != STORE_OK)
        return rc;
    struct store_profile_view v = {
        .id = pg_str(r, 0, 0),
        .name = pg_str(r, 0, 1),
        .description = pg_str(r, 0, 2),
        .rules_json = pg_str(r, 0, 3),
        .max_ttl_seconds = pg_i64(r, 0, 4, 0),
        .acme_auth_mode = pg_str(r, 0, 5),
        .requires_approval = pg_bool(r, 0, 6),
        .enabled = pg_bool(r, 0, 7),
        .created_us = pg_time(r, 0, 8),
        .updated_us = pg_time(r, 0, 9),
    };
    *out = store_json_profile(&v);
    PQclear(r);
    return rc;
}
