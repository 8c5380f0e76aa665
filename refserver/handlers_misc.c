/* refserver/handlers_misc.c - certctl's no-auth routes (/health, /ready, /api/v1/version,
 * /api/v1/auth/info), GET /api/v1/auth/check, fleetsim-target's /_target/stats, and the hand-off
 * of /acme/profile/{id}/... to the ACME server. JSON objects Go marshals from maps have their
 * keys sorted, as here. */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "config.h"
#include "refserver/acmesrv.h"
#include "refserver/stats.h"
#include "refserver/store.h"
#include "refserver/server_internal.h"

#define STATIC_JSON(rc, status, lit) reply_json((rc), (status), (lit), sizeof(lit) - 1)

void h_health(struct req_ctx *rc)
{
    STATIC_JSON(rc, 200, "{\"status\":\"healthy\"}\n");
}

void h_ready(struct req_ctx *rc)
{
    if (store_available(rc->t->store, true))
        STATIC_JSON(rc, 200, "{\"db\":\"reachable\",\"status\":\"ready\"}\n");
    else
        STATIC_JSON(rc, 503, "{\"db\":\"unreachable\",\"status\":\"db_unavailable\"}\n");
}

void h_version(struct req_ctx *rc)
{
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"version\":\"fleetsim-target-%s\",\"commit\":\"\",\"modified\":false,"
                     "\"build_time\":\"\",\"go_version\":\"\"}\n",
                     PACKAGE_VERSION);
    reply_json(rc, 200, body, (size_t)n);
}

void h_auth_info(struct req_ctx *rc)
{
    STATIC_JSON(rc, 200, "{\"auth_type\":\"api-key\",\"required\":true}\n");
}

void h_auth_check(struct req_ctx *rc)
{
    char body[128];
    int n = snprintf(body, sizeof body,
                     "{\"admin\":false,\"status\":\"authenticated\",\"user\":\"legacy-key-%d\"}\n",
                     rc->key_index < 0 ? 0 : rc->key_index);
    reply_json(rc, 200, body, (size_t)n);
}

void h_target_stats(struct req_ctx *rc)
{
    struct evbuffer *out = rc->req->out;
    if (tstats_write_json(rc->t->stats, rc->t->store, out) < 0) {
        evbuffer_drain(out, evbuffer_get_length(out));
        reply_error(rc, 500, "could not read the store's counts");
        return;
    }
    reply_json_buffered(rc, 200);
}

/* Counts the ACME server's answer once it is handed to the connection. */
static void acmesrv_sent(struct http_req *req, int status, void *arg)
{
    (void)req;
    const struct acmesrv_done *d = arg;
    tstats_request(d->t->stats, d->ep, status);
}

void h_acme(struct req_ctx *rc)
{
    struct target *t = rc->t;
    rc->req->on_sent = acmesrv_sent;
    rc->req->on_sent_arg = &t->acmesrv_done[rc->ep];
    acmesrv_handle(t->acme, rc->req, rc->acme_profile, rc->acme_rest);
    rc->req = NULL;
}

bool target_acme_profile_exists(void *arg, const char *profile_id)
{
    struct target *t = arg;
    return store_profile_get(t->store, profile_id, NULL) == STORE_OK;
}
