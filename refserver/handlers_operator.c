/* refserver/handlers_operator.c - certctl's operator endpoints fleetsim drives (docs/certctl.md,
 * "Operator endpoints"): certificate list/create/get, bulk renewal, job get, profile create/get.
 * The store implements the rules (paging, bulk accounting and clamp); this file reads requests
 * and writes answers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "engine/clock.h"
#include "refserver/json_write.h"
#include "refserver/store.h"
#include "refserver/server_internal.h"

/* Most SANs, bulk certificate ids and key rules read from one request. */
#define MAX_SANS 100
#define MAX_BULK_IDS 100000
#define MAX_KEY_RULES 16
#define QUERY_VALUE_MAX 256

/* Sends obj (put here) followed by "\n" as the JSON answer. */
static void reply_object(struct req_ctx *rc, int status, json_object *obj)
{
    struct evbuffer *out = rc->req->out;
    jw_object(out, obj);
    evbuffer_add(out, "\n", 1);
    json_object_put(obj);
    reply_json_buffered(rc, status);
}

/* Go's strconv.Atoi: optional sign and decimal digits, in range. */
static bool go_atoi(const char *s, int64_t *out)
{
    if (!*s)
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || s[0] == ' ' || s[0] == '\t' || s[0] == '\n')
        return false;
    *out = v;
    return true;
}

static int64_t query_int(const struct req_ctx *rc, const char *name)
{
    char buf[32];
    int64_t v = 0;
    if (req_query(rc, name, buf, sizeof buf) && go_atoi(buf, &v))
        return v;
    return 0;
}

/* A filter value: NULL when absent or empty. */
static const char *query_filter(const struct req_ctx *rc, const char *name, char *buf, size_t n)
{
    return req_query(rc, name, buf, n) && buf[0] ? buf : NULL;
}

void h_cert_list(struct req_ctx *rc)
{
    char status[QUERY_VALUE_MAX], owner[QUERY_VALUE_MAX], team[QUERY_VALUE_MAX],
        issuer[QUERY_VALUE_MAX], agent[QUERY_VALUE_MAX], profile[QUERY_VALUE_MAX];
    struct store_cert_filter f = {
        .status = query_filter(rc, "status", status, sizeof status),
        .owner_id = query_filter(rc, "owner_id", owner, sizeof owner),
        .team_id = query_filter(rc, "team_id", team, sizeof team),
        .issuer_id = query_filter(rc, "issuer_id", issuer, sizeof issuer),
        .agent_id = query_filter(rc, "agent_id", agent, sizeof agent),
        .profile_id = query_filter(rc, "profile_id", profile, sizeof profile),
    };
    json_object *list = NULL;
    if (store_cert_list(rc->t->store, &f, query_int(rc, "page"), query_int(rc, "per_page"),
                        &list) != STORE_OK) {
        reply_error(rc, 500, "Failed to list certificates");
        return;
    }
    reply_object(rc, 200, list);
}

void h_cert_get(struct req_ctx *rc)
{
    json_object *cert = NULL;
    if (store_cert_get(rc->t->store, rc->params[0], &cert) != STORE_OK) {
        reply_error(rc, 404, "Certificate not found");
        return;
    }
    reply_object(rc, 200, cert);
}

void h_job_get(struct req_ctx *rc)
{
    json_object *job = NULL;
    if (store_job_get(rc->t->store, rc->params[0], &job) != STORE_OK) {
        reply_error(rc, 404, "Job not found");
        return;
    }
    reply_object(rc, 200, job);
}

void h_profile_get(struct req_ctx *rc)
{
    json_object *p = NULL;
    if (store_profile_get(rc->t->store, rc->params[0], &p) != STORE_OK) {
        reply_error(rc, 404, "Profile not found");
        return;
    }
    reply_object(rc, 200, p);
}

/* Reads an optional array of strings (at most max). false on a type error or too many. */
static bool opt_string_array(json_object *obj, const char *key, const char **out, size_t max,
                             size_t *n)
{
    json_object *arr = NULL;
    *n = 0;
    if (!json_object_object_get_ex(obj, key, &arr) || !arr)
        return true;
    if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) > max)
        return false;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (!v || !json_object_is_type(v, json_type_string))
            return false;
        out[(*n)++] = json_object_get_string(v);
    }
    return true;
}

static bool opt_int(json_object *obj, const char *key, int64_t *out)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !v)
        return true;
    if (!json_object_is_type(v, json_type_int))
        return false;
    *out = json_object_get_int64(v);
    return true;
}

static bool opt_bool(json_object *obj, const char *key, bool *out)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !v)
        return true;
    if (!json_object_is_type(v, json_type_boolean))
        return false;
    *out = json_object_get_boolean(v);
    return true;
}

/* The first required certificate field that is missing, or NULL. */
static const char *missing_cert_field(const struct store_cert_input *in)
{
    const struct {
        const char *name, *value;
    } req[] = {
        {"name", in->name},           {"common_name", in->common_name},
        {"owner_id", in->owner_id},   {"team_id", in->team_id},
        {"issuer_id", in->issuer_id}, {"renewal_policy_id", in->renewal_policy_id},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!req[i].value || !*req[i].value)
            return req[i].name;
    return NULL;
}

static bool read_cert_input(json_object *obj, struct store_cert_input *in, const char **sans)
{
    const char *expires = NULL;
    bool ok = json_opt_string(obj, "id", &in->id) && json_opt_string(obj, "name", &in->name) &&
              json_opt_string(obj, "common_name", &in->common_name) &&
              json_opt_string(obj, "owner_id", &in->owner_id) &&
              json_opt_string(obj, "team_id", &in->team_id) &&
              json_opt_string(obj, "issuer_id", &in->issuer_id) &&
              json_opt_string(obj, "renewal_policy_id", &in->renewal_policy_id) &&
              json_opt_string(obj, "environment", &in->environment) &&
              json_opt_string(obj, "certificate_profile_id", &in->certificate_profile_id) &&
              json_opt_string(obj, "status", &in->status) &&
              json_opt_string(obj, "expires_at", &expires) &&
              opt_string_array(obj, "sans", sans, MAX_SANS, &in->n_sans);
    if (!ok)
        return false;
    in->sans = sans;
    if (expires && *expires) {
        time_t t;
        if (clock_parse_rfc3339(expires, &t) < 0)
            return false;
        in->expires_at_unix_s = (int64_t)t;
    }
    return true;
}

void h_cert_create(struct req_ctx *rc)
{
    json_object *obj = req_json_object(rc);
    struct store_cert_input in = {0};
    const char *sans[MAX_SANS];
    if (!obj || !read_cert_input(obj, &in, sans)) {
        json_object_put(obj);
        reply_error(rc, 400, "Invalid request body");
        return;
    }
    const char *missing = missing_cert_field(&in);
    if (missing) {
        char msg[64];
        snprintf(msg, sizeof msg, "%s is required", missing);
        json_object_put(obj);
        reply_error(rc, 400, msg);
        return;
    }
    json_object *cert = NULL;
    int src = store_cert_create(rc->t->store, &in, &cert);
    json_object_put(obj);
    if (src == STORE_OK)
        reply_object(rc, 201, cert);
    else if (src == STORE_INVALID)
        reply_error(rc, 400, "Invalid certificate");
    else
        reply_error(rc, 500, "Failed to create certificate");
}

void h_bulk_renew(struct req_ctx *rc)
{
    json_object *obj = req_json_object(rc);
    struct store_bulk_criteria c = {0};
    const char **ids = NULL;
    bool ok = obj != NULL;
    json_object *arr = NULL;
    if (ok && json_object_object_get_ex(obj, "certificate_ids", &arr) && arr &&
        json_object_is_type(arr, json_type_array)) {
        size_t n = json_object_array_length(arr);
        ids = calloc(n ? n : 1, sizeof *ids);
        ok = ids != NULL;
        if (ok)
            ok = opt_string_array(obj, "certificate_ids", ids, MAX_BULK_IDS, &c.n_certificate_ids);
    } else if (ok && arr) {
        ok = false; /* certificate_ids of another type */
    }
    ok = ok && json_opt_string(obj, "profile_id", &c.profile_id) &&
         json_opt_string(obj, "owner_id", &c.owner_id) &&
         json_opt_string(obj, "agent_id", &c.agent_id) &&
         json_opt_string(obj, "issuer_id", &c.issuer_id) &&
         json_opt_string(obj, "team_id", &c.team_id);
    if (!ok) {
        free(ids);
        json_object_put(obj);
        reply_error(rc, 400, "Invalid request body");
        return;
    }
    c.certificate_ids = ids;
    json_object *result = NULL;
    int src = store_bulk_renew(rc->t->store, &c, &result);
    free(ids);
    json_object_put(obj);
    if (src == STORE_OK)
        reply_object(rc, 200, result);
    else if (src == STORE_INVALID)
        reply_error(rc, 400,
                    "at least one of profile_id, owner_id, agent_id, issuer_id, "
                    "team_id or certificate_ids is required");
    else
        reply_error(rc, 500, "Failed to bulk renew certificates");
}

static bool read_key_rules(json_object *obj, struct store_key_rule *rules, size_t *n)
{
    json_object *arr = NULL;
    *n = 0;
    if (!json_object_object_get_ex(obj, "allowed_key_algorithms", &arr) || !arr)
        return true;
    if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) > MAX_KEY_RULES)
        return false;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *r = json_object_array_get_idx(arr, i);
        int64_t size = 0;
        const char *alg = NULL;
        if (!r || !json_object_is_type(r, json_type_object) ||
            !json_opt_string(r, "algorithm", &alg) || !opt_int(r, "min_size", &size))
            return false;
        rules[*n].algorithm = alg ? alg : "";
        rules[*n].min_size = (int)size;
        (*n)++;
    }
    return true;
}

void h_profile_create(struct req_ctx *rc)
{
    json_object *obj = req_json_object(rc);
    struct store_profile_input in = {0};
    struct store_key_rule rules[MAX_KEY_RULES];
    bool ok = obj && json_opt_string(obj, "id", &in.id) && json_opt_string(obj, "name", &in.name) &&
              json_opt_string(obj, "description", &in.description) &&
              json_opt_string(obj, "acme_auth_mode", &in.acme_auth_mode) &&
              opt_int(obj, "max_ttl_seconds", &in.max_ttl_seconds) &&
              opt_bool(obj, "requires_approval", &in.requires_approval) &&
              read_key_rules(obj, rules, &in.n_allowed);
    if (!ok) {
        json_object_put(obj);
        reply_error(rc, 400, "Invalid request body");
        return;
    }
    in.allowed_key_algorithms = rules;
    if (in.acme_auth_mode && !*in.acme_auth_mode)
        in.acme_auth_mode = NULL;
    json_object *profile = NULL;
    bool named = in.name && *in.name;
    int src = named ? store_profile_create(rc->t->store, &in, &profile) : STORE_INVALID;
    json_object_put(obj);
    if (src == STORE_OK)
        reply_object(rc, 201, profile);
    else if (src == STORE_INVALID)
        reply_error(rc, 400, named ? "Invalid profile" : "name is required");
    else if (src == STORE_CONFLICT)
        reply_error(rc, 409, "Profile already exists");
    else
        reply_error(rc, 500, "Failed to create profile");
}
