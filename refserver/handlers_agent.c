/* refserver/handlers_agent.c - certctl's agent endpoints (docs/target.md): register, get,
 * retire, heartbeat, work poll, job status, certificate pickup, deployment verification and
 * discovery reports. The heartbeat and job-status
 * bodies are read with the allocation-free scanner; status codes and messages are certctl's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "refserver/json_scan.h"
#include "refserver/json_write.h"
#include "refserver/stats.h"
#include "refserver/store.h"
#include "refserver/server_internal.h"

/* Longest metadata value read from a heartbeat (anything longer is ignored, as a decode error). */
#define META_VALUE_MAX 256
/* Longest job status and error message read. */
#define STATUS_MAX 64
#define STATUS_ERROR_MAX 4096

#define STATIC_JSON(rc, status, lit) reply_json((rc), (status), (lit), sizeof(lit) - 1)

void h_heartbeat(struct req_ctx *rc)
{
    char host[META_VALUE_MAX], os[META_VALUE_MAX], arch[META_VALUE_MAX], ip[META_VALUE_MAX],
        ver[META_VALUE_MAX];
    struct jscan_field f[] = {
        {.name = "hostname", .out = host, .cap = sizeof host},
        {.name = "os", .out = os, .cap = sizeof os},
        {.name = "architecture", .out = arch, .cap = sizeof arch},
        {.name = "ip_address", .out = ip, .cap = sizeof ip},
        {.name = "version", .out = ver, .cap = sizeof ver},
    };
    size_t len;
    const char *body = req_body(rc, &len);
    struct store_agent_meta meta = {0}, *mp = NULL;
    /* certctl ignores a body it cannot decode and records the heartbeat without metadata */
    if (len > 0 && jscan_object(body, len, f, 5) == 0) {
        meta = (struct store_agent_meta){host, os, arch, ip, ver};
        if (*host || *os || *arch || *ip || *ver)
            mp = &meta;
    }
    const char *agent_id = rc->params[0];
    int src = store_agent_heartbeat(rc->t->store, agent_id, mp);
    switch (src) {
    case STORE_OK:
        tstats_heartbeat(rc->t->stats, agent_id);
        STATIC_JSON(rc, 200, "{\"status\":\"heartbeat_recorded\"}\n");
        break;
    case STORE_NOT_FOUND:
        reply_error(rc, 404, "Agent not found");
        break;
    case STORE_GONE:
        reply_error(rc, 410, "Agent has been retired");
        break;
    default:
        reply_error(rc, 500, "Failed to record heartbeat");
    }
}

void h_work(struct req_ctx *rc)
{
    json_object *jobs = NULL;
    if (store_work_poll(rc->t->store, rc->params[0], &jobs) != STORE_OK) {
        reply_error(rc, 500, "Failed to get pending work");
        return;
    }
    struct evbuffer *out = rc->req->out;
    evbuffer_add_printf(out, "{\"count\":%zu,\"jobs\":", json_object_array_length(jobs));
    jw_object(out, jobs);
    evbuffer_add(out, "}\n", 2);
    json_object_put(jobs);
    reply_json_buffered(rc, 200);
}

void h_job_status(struct req_ctx *rc)
{
    char status[STATUS_MAX], error[STATUS_ERROR_MAX];
    struct jscan_field f[] = {
        {.name = "status", .out = status, .cap = sizeof status},
        {.name = "error", .out = error, .cap = sizeof error},
    };
    size_t len;
    const char *body = req_body(rc, &len);
    int jrc = jscan_object(body, len, f, 2);
    if (jrc == -ENOSPC && !f[0].present) {
        reply_error(rc, 500, "Failed to update job status"); /* too long for the column */
        return;
    }
    if (jrc < 0) {
        reply_error(rc, 400, "Invalid request body");
        return;
    }
    if (!status[0]) {
        reply_error(rc, 400, "Status is required");
        return;
    }
    int src =
        store_job_update_status(rc->t->store, rc->params[1], status, f[1].present ? error : NULL);
    if (src == STORE_OK)
        STATIC_JSON(rc, 200, "{\"status\":\"updated\"}\n");
    else if (src == STORE_INVALID)
        reply_error(rc, 400, "Status is required");
    else
        reply_error(rc, 500, "Failed to update job status");
}

void h_cert_fetch(struct req_ctx *rc)
{
    char *pem = NULL;
    if (store_cert_latest_pem(rc->t->store, rc->params[1], &pem) != STORE_OK) {
        reply_error(rc, 404, "Certificate not found or not ready");
        return;
    }
    struct evbuffer *out = rc->req->out;
    evbuffer_add(out, "{\"certificate_pem\":", 19);
    jw_string(out, pem);
    evbuffer_add(out, "}\n", 2);
    free(pem);
    reply_json_buffered(rc, 200);
}

void h_job_verify(struct req_ctx *rc)
{
    json_object *obj = req_json_object(rc), *verified = NULL;
    const char *target = NULL, *expected = NULL, *actual = NULL, *error = NULL;
    if (!obj || !json_opt_string(obj, "target_id", &target) ||
        !json_opt_string(obj, "expected_fingerprint", &expected) ||
        !json_opt_string(obj, "actual_fingerprint", &actual) ||
        !json_opt_string(obj, "error", &error) ||
        (json_object_object_get_ex(obj, "verified", &verified) && verified &&
         !json_object_is_type(verified, json_type_boolean))) {
        json_object_put(obj);
        reply_error(rc, 400, "Invalid request body");
        return;
    }
    if (!expected || !*expected || !actual || !*actual) {
        json_object_put(obj);
        reply_error(rc, 400, "expected_fingerprint and actual_fingerprint are required");
        return;
    }
    bool ok = verified && json_object_get_boolean(verified);
    json_object_put(obj);
    struct evbuffer *out = rc->req->out;
    evbuffer_add_printf(out, "{\"job_id\":");
    jw_string(out, rc->params[0]);
    evbuffer_add_printf(out, ",\"verified\":%s}\n", ok ? "true" : "false");
    tstats_verify(rc->t->stats, ok);
    reply_json_buffered(rc, 200);
}

void h_discoveries(struct req_ctx *rc)
{
    json_object *obj = req_json_object(rc), *certs = NULL;
    if (!obj || (json_object_object_get_ex(obj, "certificates", &certs) && certs &&
                 !json_object_is_type(certs, json_type_array))) {
        json_object_put(obj);
        reply_error(rc, 400, "Invalid request body");
        return;
    }
    size_t n = certs ? json_object_array_length(certs) : 0;
    json_object_put(obj);
    tstats_discovery(rc->t->stats, n);
    struct evbuffer *out = rc->req->out;
    evbuffer_add_printf(out, "{\"status\":\"accepted\",\"certificates\":%zu}\n", n);
    reply_json_buffered(rc, 202);
}

void h_agent_register(struct req_ctx *rc)
{
    json_object *obj = req_json_object(rc);
    const char *name, *host, *os, *arch, *ip, *ver;
    if (!obj || !json_opt_string(obj, "name", &name) || !json_opt_string(obj, "hostname", &host) ||
        !json_opt_string(obj, "os", &os) || !json_opt_string(obj, "architecture", &arch) ||
        !json_opt_string(obj, "ip_address", &ip) || !json_opt_string(obj, "version", &ver)) {
        json_object_put(obj);
        reply_error(rc, 400, "Invalid request body");
        return;
    }
    const char *why = NULL;
    if (!name || !*name)
        why = "name is required";
    else if (strlen(name) > STORE_AGENT_NAME_MAX)
        why = "name must be 128 characters or fewer";
    else if (!host || !*host)
        why = "hostname is required";
    if (why) {
        json_object_put(obj);
        reply_error(rc, 400, why);
        return;
    }
    struct store_agent_meta meta = {host, os, arch, ip, ver};
    json_object *agent = NULL;
    int src = store_agent_register(rc->t->store, name, &meta, &agent);
    json_object_put(obj);
    if (src == STORE_OK) {
        struct evbuffer *out = rc->req->out;
        jw_object(out, agent);
        evbuffer_add(out, "\n", 1);
        json_object_put(agent);
        reply_json_buffered(rc, 201);
    } else if (src == STORE_CONFLICT) {
        reply_error(rc, 409, "Agent with this name already exists");
    } else if (src == STORE_INVALID) {
        reply_error(rc, 400, "Invalid request body");
    } else {
        reply_error(rc, 500, "Failed to register agent");
    }
}

void h_agent_get(struct req_ctx *rc)
{
    json_object *agent = NULL;
    if (store_agent_get(rc->t->store, rc->params[0], &agent) != STORE_OK) {
        reply_error(rc, 404, "Agent not found");
        return;
    }
    struct evbuffer *out = rc->req->out;
    jw_object(out, agent);
    evbuffer_add(out, "\n", 1);
    json_object_put(agent);
    reply_json_buffered(rc, 200);
}

/* Go's strconv.ParseBool; anything it rejects counts as false (certctl). */
static bool parse_go_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(s, yes[i]) == 0)
            return true;
    return false;
}

/* certctl's reserved agents that cannot be retired (exactly these four ids). */
static bool is_sentinel_agent(const char *id)
{
    static const char *const sentinels[] = {"server-scanner", "cloud-aws-sm", "cloud-azure-kv",
                                            "cloud-gcp-sm"};
    for (size_t i = 0; i < sizeof sentinels / sizeof sentinels[0]; i++)
        if (strcmp(id, sentinels[i]) == 0)
            return true;
    return false;
}

void h_agent_retire(struct req_ctx *rc)
{
    char force_s[16] = "", reason[512] = "";
    if (!req_query(rc, "force", force_s, sizeof force_s))
        force_s[0] = '\0';
    if (!req_query(rc, "reason", reason, sizeof reason))
        reason[0] = '\0';
    bool force = parse_go_bool(force_s);
    const char *id = rc->params[0];
    if (is_sentinel_agent(id)) {
        reply_error(rc, 403, "Agent is a reserved sentinel and cannot be retired");
        return;
    }
    if (force && !reason[0]) {
        reply_error(rc, 400, "force=true requires a non-empty reason");
        return;
    }
    json_object *result = NULL;
    int src = store_agent_retire(rc->t->store, id, force, reason[0] ? reason : NULL, &result);
    struct evbuffer *out = rc->req->out;
    if (src == STORE_OK) {
        jw_object(out, result);
        evbuffer_add(out, "\n", 1);
        reply_json_buffered(rc, 200);
    } else if (src == STORE_GONE) {
        reply_empty(rc, 204); /* no body at all, as certctl */
    } else if (src == STORE_NOT_FOUND) {
        reply_error(rc, 404, "Agent not found");
    } else if (src == STORE_INVALID) {
        reply_error(rc, 400, "force=true requires a non-empty reason");
    } else if (src == STORE_CONFLICT) {
        json_object *counts = NULL;
        if (result)
            json_object_object_get_ex(result, "counts", &counts);
        evbuffer_add_printf(out, "{\"error\":\"blocked_by_dependencies\",\"message\":");
        jw_string(out, "Agent has active downstream dependencies. Retire or reassign them "
                       "first, or re-run with ?force=true&reason=... to cascade.");
        evbuffer_add(out, ",\"counts\":", 10);
        if (counts)
            jw_object(out, counts);
        else
            evbuffer_add(out, "{}", 2);
        evbuffer_add(out, "}\n", 2);
        reply_json_buffered(rc, 409);
    } else {
        reply_error(rc, 500, "Failed to retire agent");
    }
    json_object_put(result);
}
