/* refserver/store_json.c - certctl's JSON shapes (Agent, ManagedCertificate, Job, WorkItem,
 * CertificateProfile, retirement result) built from the store's row views, so both backends
 * answer byte-for-byte alike. Times are formatted as Go marshals time.Time. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "refserver/store_internal.h"

void store_format_time(int64_t us, char *buf, size_t n)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[80];
    snprintf(base, sizeof(base), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac == 0) {
        snprintf(buf, n, "%sZ", base);
        return;
    }
    char f[24];
    snprintf(f, sizeof(f), "%06" PRId64, frac);
    size_t len = strlen(f);
    while (len > 0 && f[len - 1] == '0')
        f[--len] = '\0';
    snprintf(buf, n, "%s.%sZ", base, f);
}

json_object *store_json_time(int64_t us)
{
    if (us == STORE_TIME_NULL)
        return NULL;
    char buf[48];
    store_format_time(us, buf, sizeof(buf));
    return json_object_new_string(buf);
}

json_object *store_json_parse_or(const char *text, const char *fallback_text)
{
    json_object *o = text ? json_tokener_parse(text) : NULL;
    return o ? o : json_tokener_parse(fallback_text);
}

static void add_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_object_new_string(v ? v : ""));
}

/* One string member of an object: key and its value (NULL: ""). */
struct str_member {
    const char *key;
    const char *value;
};

/* add_str for each of the n members, in order. */
static void add_strs(json_object *o, const struct str_member *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        add_str(o, m[i].key, m[i].value);
}

/* add_strs over a list of {key, value} pairs. */
#define ADD_STRS(o, ...)                                    \
    add_strs((o), (const struct str_member[]){__VA_ARGS__}, \
             sizeof((const struct str_member[]){__VA_ARGS__}) / sizeof(struct str_member))

static void add_opt_str(json_object *o, const char *key, const char *v)
{
    if (v != NULL && v[0] != '\0')
        json_object_object_add(o, key, json_object_new_string(v));
}

static void add_time(json_object *o, const char *key, int64_t us)
{
    json_object_object_add(o, key, store_json_time(us == STORE_TIME_NULL ? STORE_TIME_ZERO : us));
}

static void add_opt_time(json_object *o, const char *key, int64_t us)
{
    if (us != STORE_TIME_NULL)
        json_object_object_add(o, key, store_json_time(us));
}

static json_object *str_array(const char *const *v, size_t n)
{
    json_object *a = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(v[i] ? v[i] : ""));
    return a;
}

json_object *store_json_agent(const struct store_agent_view *a)
{
    json_object *o = json_object_new_object();
    ADD_STRS(o, {"id", a->id}, {"name", a->name}, {"hostname", a->hostname}, {"status", a->status});
    add_opt_time(o, "last_heartbeat_at", a->last_heartbeat_us);
    add_time(o, "registered_at", a->registered_us);
    ADD_STRS(o, {"api_key_hash", a->api_key_hash}, {"os", a->os}, {"architecture", a->architecture},
             {"ip_address", a->ip_address}, {"version", a->version});
    add_opt_time(o, "retired_at", a->retired_us);
    if (a->retired_reason != NULL)
        add_str(o, "retired_reason", a->retired_reason);
    return o;
}

json_object *store_json_cert(const struct store_cert_view *c)
{
    json_object *o = json_object_new_object();
    ADD_STRS(o, {"id", c->id}, {"name", c->name}, {"common_name", c->common_name});
    json_object_object_add(o, "sans", str_array(c->sans, c->n_sans));
    ADD_STRS(o, {"environment", c->environment}, {"owner_id", c->owner_id}, {"team_id", c->team_id},
             {"issuer_id", c->issuer_id});
    json_object_object_add(o, "target_ids", str_array(c->target_ids, c->n_target_ids));
    add_str(o, "renewal_policy_id", c->renewal_policy_id);
    add_opt_str(o, "certificate_profile_id", c->profile_id);
    add_str(o, "status", c->status);
    add_time(o, "expires_at", c->expires_us);
    json_object_object_add(o, "tags", store_json_parse_or(c->tags_json, "{}"));
    add_opt_time(o, "last_renewal_at", c->last_renewal_us);
    add_opt_time(o, "last_deployment_at", c->last_deployment_us);
    add_opt_time(o, "revoked_at", c->revoked_us);
    add_opt_str(o, "revocation_reason", c->revocation_reason);
    add_time(o, "created_at", c->created_us);
    add_time(o, "updated_at", c->updated_us);
    add_opt_str(o, "source", c->source);
    return o;
}

json_object *store_json_job(const struct store_job_view *j)
{
    json_object *o = json_object_new_object();
    ADD_STRS(o, {"id", j->id}, {"type", j->type}, {"certificate_id", j->certificate_id});
    if (j->target_id)
        add_str(o, "target_id", j->target_id);
    if (j->agent_id)
        add_str(o, "agent_id", j->agent_id);
    add_str(o, "status", j->status);
    json_object_object_add(o, "attempts", json_object_new_int(j->attempts));
    json_object_object_add(o, "max_attempts", json_object_new_int(j->max_attempts));
    if (j->last_error)
        add_str(o, "last_error", j->last_error);
    add_time(o, "scheduled_at", j->scheduled_us);
    add_opt_time(o, "started_at", j->started_us);
    add_opt_time(o, "completed_at", j->completed_us);
    add_time(o, "created_at", j->created_us);
    add_str(o, "verification_status", j->verification_status ? j->verification_status : "pending");
    return o;
}

json_object *store_json_work_item(const struct store_work_view *w)
{
    json_object *o = json_object_new_object();
    ADD_STRS(o, {"id", w->id}, {"type", w->type}, {"certificate_id", w->certificate_id});
    add_opt_str(o, "common_name", w->common_name);
    if (w->n_sans > 0)
        json_object_object_add(o, "sans", str_array(w->sans, w->n_sans));
    if (w->target_id)
        add_str(o, "target_id", w->target_id);
    add_opt_str(o, "target_type", w->target_type);
    if (w->target_config_json != NULL && w->target_config_json[0] != '\0')
        json_object_object_add(o, "target_config",
                               store_json_parse_or(w->target_config_json, "{}"));
    add_str(o, "status", w->status);
    return o;
}

json_object *store_json_profile(const struct store_profile_view *p)
{
    json_object *o = json_object_new_object();
    ADD_STRS(o, {"id", p->id}, {"name", p->name}, {"description", p->description});
    json_object_object_add(o, "allowed_key_algorithms", store_json_parse_or(p->rules_json, "[]"));
    json_object_object_add(o, "max_ttl_seconds", json_object_new_int64(p->max_ttl_seconds));
    json_object_object_add(o, "allowed_ekus", json_tokener_parse("[\"serverAuth\"]"));
    json_object_object_add(o, "required_san_patterns", json_object_new_array());
    add_str(o, "spiffe_uri_pattern", "");
    json_object_object_add(o, "allow_short_lived", json_object_new_boolean(0));
    json_object_object_add(o, "must_staple", json_object_new_boolean(0));
    add_opt_str(o, "acme_auth_mode", p->acme_auth_mode);
    if (p->requires_approval)
        json_object_object_add(o, "requires_approval", json_object_new_boolean(1));
    json_object_object_add(o, "enabled", json_object_new_boolean(p->enabled));
    add_time(o, "created_at", p->created_us);
    add_time(o, "updated_at", p->updated_us);
    return o;
}

json_object *store_json_retire(const char *agent_id, int64_t retired_us, bool already, bool cascade,
                               const struct store_dep_counts *c)
{
    json_object *o = json_object_new_object();
    add_str(o, "agent_id", agent_id);
    if (retired_us != STORE_TIME_NULL)
        json_object_object_add(o, "retired_at", store_json_time(retired_us));
    json_object_object_add(o, "already_retired", json_object_new_boolean(already));
    json_object_object_add(o, "cascade", json_object_new_boolean(cascade));
    json_object *counts = json_object_new_object();
    json_object_object_add(counts, "active_targets", json_object_new_int64(c->active_targets));
    json_object_object_add(counts, "active_certificates",
                           json_object_new_int64(c->active_certificates));
    json_object_object_add(counts, "pending_jobs", json_object_new_int64(c->pending_jobs));
    json_object_object_add(o, "counts", counts);
    return o;
}
