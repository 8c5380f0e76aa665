/* refserver/router.c - one request's way through fleetsim-target, in certctl's order: request id,
 * route match, per-IP rate limit (no-auth routes have their own buckets), API-key auth,
 * 404/405, fault injection (timers, never sleeps), then the handler. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "engine/parse.h"
#include "engine/clock.h"
#include "sim/identity.h"
#include "refserver/acmesrv.h"
#include "refserver/ratelimit.h"
#include "refserver/store.h"
#include "refserver/stats.h"
#include "refserver/server_internal.h"

enum route_class {
    RC_AUTH,  /* behind the limiter and the API-key check */
    RC_OPEN,  /* certctl's no-auth routes: own limiter buckets, no key */
    RC_ACME,  /* limiter, no key (see docs/target.md) */
    RC_STATS, /* /_target/stats: loopback clients only, no limiter */
};

struct route {
    enum req_method method;
    const char *pattern; /* '*' matches one non-empty segment, captured as a parameter */
    enum target_endpoint ep;
    enum route_class cls;
    route_fn fn;
};

/* Most frequent first: the heartbeat is matched after one comparison. */
static const struct route routes[] = {
    {METHOD_POST, "/api/v1/agents/*/heartbeat", EP_HEARTBEAT, RC_AUTH, h_heartbeat},
    {METHOD_GET, "/api/v1/agents/*/work", EP_WORK, RC_AUTH, h_work},
    {METHOD_POST, "/api/v1/agents/*/csr", EP_CSR, RC_AUTH, h_csr},
    {METHOD_POST, "/api/v1/agents/*/jobs/*/status", EP_JOB_STATUS, RC_AUTH, h_job_status},
    {METHOD_GET, "/api/v1/agents/*/certificates/*", EP_CERT_FETCH, RC_AUTH, h_cert_fetch},
    {METHOD_POST, "/api/v1/agents/*/discoveries", EP_DISCOVERIES, RC_AUTH, h_discoveries},
    {METHOD_POST, "/api/v1/jobs/*/verify", EP_VERIFY, RC_AUTH, h_job_verify},
    {METHOD_POST, "/api/v1/agents", EP_REGISTER, RC_AUTH, h_agent_register},
    {METHOD_GET, "/api/v1/agents/*", EP_OTHER, RC_AUTH, h_agent_get},
    {METHOD_DELETE, "/api/v1/agents/*", EP_AGENT_RETIRE, RC_AUTH, h_agent_retire},
    {METHOD_POST, "/api/v1/certificates/bulk-renew", EP_BULK_RENEW, RC_AUTH, h_bulk_renew},
    {METHOD_GET, "/api/v1/certificates", EP_CERT_LIST, RC_AUTH, h_cert_list},
    {METHOD_POST, "/api/v1/certificates", EP_CERT_CREATE, RC_AUTH, h_cert_create},
    {METHOD_GET, "/api/v1/certificates/*", EP_CERT_GET, RC_AUTH, h_cert_get},
    {METHOD_GET, "/api/v1/jobs/*", EP_JOB_GET, RC_AUTH, h_job_get},
    {METHOD_POST, "/api/v1/profiles", EP_PROFILE_CREATE, RC_AUTH, h_profile_create},
    {METHOD_GET, "/api/v1/profiles/*", EP_OTHER, RC_AUTH, h_profile_get},
    {METHOD_GET, "/api/v1/auth/check", EP_OTHER, RC_AUTH, h_auth_check},
    {METHOD_GET, "/health", EP_HEALTH, RC_OPEN, h_health},
    {METHOD_GET, "/ready", EP_HEALTH, RC_OPEN, h_ready},
    {METHOD_GET, "/api/v1/version", EP_OTHER, RC_OPEN, h_version},
    {METHOD_GET, "/api/v1/auth/info", EP_OTHER, RC_OPEN, h_auth_info},
    {METHOD_GET, "/_target/stats", EP_OTHER, RC_STATS, h_target_stats},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

#define ACMESRV_PREFIX "/acme/profile/"
#define ACMESRV_PREFIX_LEN (sizeof ACMESRV_PREFIX - 1)

/* Percent-decodes a NUL-terminated segment in place (bad escapes are kept as they are). */
static void decode_segment(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        int hi = *p == '%' ? parse_hex_digit(p[1]) : -1;
        int lo = hi >= 0 ? parse_hex_digit(p[2]) : -1;
        if (lo >= 0) {
            *o++ = (char)(hi << 4 | lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* Copies the request target into rc->path / rc->query. Returns -1 when it does not fit or is
 * not in origin form. */
static int split_uri(struct req_ctx *rc)
{
    const char *uri = rc->req->target;
    if (!uri || uri[0] != '/')
        return -1;
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    const char *hash = q ? strchr(q, '#') : NULL;
    size_t qlen = q ? (hash ? (size_t)(hash - q - 1) : strlen(q + 1)) : 0;
    if (plen >= REQ_PATH_MAX || qlen >= REQ_QUERY_MAX)
        return -1;
    memcpy(rc->path, uri, plen);
    rc->path[plen] = '\0';
    if (q)
        memcpy(rc->query, q + 1, qlen);
    rc->query[qlen] = '\0';
    return 0;
}

/* /acme/profile/{id}/{rest}: the id is decoded, the rest kept raw for the ACME server. */
static bool match_acme(struct req_ctx *rc)
{
    if (strncmp(rc->path, ACMESRV_PREFIX, ACMESRV_PREFIX_LEN) != 0)
        return false;
    char *id = rc->path + ACMESRV_PREFIX_LEN;
    char *slash = strchr(id, '/');
    if (!slash || slash == id)
        return false;
    *slash = '\0';
    decode_segment(id);
    rc->acme_profile = id;
    rc->acme_rest = slash + 1;
    const char *name = acmesrv_endpoint_name(rc->acme_rest);
    int ep = name ? endpoint_from_name(name) : -1;
    rc->ep = ep >= 0 ? (enum target_endpoint)ep : EP_OTHER;
    rc->fn = h_acme;
    return true;
}

/* Splits rc->path into segments. Returns the count, or -1 for too many. */
#define MAX_SEGMENTS 8
static int split_segments(char *path, char *seg[MAX_SEGMENTS])
{
    int n = 0;
    char *p = path + 1; /* skip the leading '/' */
    for (;;) {
        if (n == MAX_SEGMENTS)
            return -1;
        seg[n++] = p;
        char *slash = strchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    for (int i = 0; i < n; i++)
        decode_segment(seg[i]);
    return n;
}

static bool pattern_matches(const char *pattern, char *const *seg, int nseg,
                            const char *params[REQ_MAX_PARAMS])
{
    const char *p = pattern + 1;
    int np = 0;
    for (int i = 0; i < nseg; i++) {
        if (!*p)
            return false;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 1 && *p == '*') {
            if (!seg[i][0] || np == REQ_MAX_PARAMS)
                return false;
            params[np++] = seg[i];
        } else if (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0) {
            return false;
        }
        p += len;
        if (*p == '/')
            p++;
        else if (i + 1 < nseg)
            return false;
    }
    return *p == '\0';
}

enum match_result { MATCH_OK, MATCH_NOT_FOUND, MATCH_METHOD };

/* Finds the route for rc's path and method. *cls_out gets the route's class (RC_AUTH when the
 * path matched nothing: certctl's mux sits behind the auth middleware). */
static enum match_result route_match(struct req_ctx *rc, enum route_class *cls_out)
{
    *cls_out = RC_AUTH;
    if (split_uri(rc) < 0)
        return MATCH_NOT_FOUND;
    if (match_acme(rc)) {
        *cls_out = RC_ACME;
        return MATCH_OK;
    }
    char *seg[MAX_SEGMENTS];
    int nseg = split_segments(rc->path, seg);
    if (nseg < 0)
        return MATCH_NOT_FOUND;
    enum req_method cmd = rc->req->method;
    if (cmd == METHOD_HEAD)
        cmd = METHOD_GET; /* a GET route answers HEAD too, as Go's mux does */
    bool path_seen = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        const char *params[REQ_MAX_PARAMS] = {0};
        if (!pattern_matches(routes[i].pattern, seg, nseg, params))
            continue;
        if (!path_seen)
            *cls_out = routes[i].cls;
        path_seen = true;
        if (routes[i].method != cmd)
            continue;
        memcpy(rc->params, params, sizeof params);
        rc->ep = routes[i].ep;
        rc->fn = routes[i].fn;
        *cls_out = routes[i].cls;
        return MATCH_OK;
    }
    return path_seen ? MATCH_METHOD : MATCH_NOT_FOUND;
}

/* A random (version 4) UUID as certctl's RequestID middleware makes. */
static void make_request_id(struct target *t, char out[REQ_ID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t a = identity_rng_next(&t->reqid_rng), b = identity_rng_next(&t->reqid_rng);
    unsigned char u[16];
    memcpy(u, &a, 8);
    memcpy(u + 8, &b, 8);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[u[i] >> 4];
        *o++ = hex[u[i] & 15];
    }
    *o = '\0';
}

static bool peer_is_loopback(const struct sockaddr *sa)
{
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

static void reply_injected_error(struct req_ctx *rc)
{
    if (endpoint_is_acme(rc->ep)) {
        static const char body[] = "{\"type\":\"urn:ietf:params:acme:error:serverInternal\","
                                   "\"detail\":\"injected fault\",\"status\":500}";
        evbuffer_add(rc->req->out, body, sizeof body - 1);
        reply_header(rc, "Content-Type", "application/problem+json");
        reply_empty(rc, 500);
        return;
    }
    reply_error(rc, 500, "injected fault");
}

static void run_handler(struct req_ctx *rc)
{
    if (rc->error_when_due)
        reply_injected_error(rc);
    else
        rc->fn(rc);
}

static void unlink_deferred(struct req_ctx *rc)
{
    if (rc->prev)
        rc->prev->next = rc->next;
    else
        rc->t->deferred = rc->next;
    if (rc->next)
        rc->next->prev = rc->prev;
}

static void deferred_due(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct req_ctx *rc = arg;
    unlink_deferred(rc);
    event_free(rc->timer);
    if (rc->close_when_due)
        reply_close(rc);
    else
        run_handler(rc);
    free(rc);
}

static const char *rebase(const char *p, const struct req_ctx *from, struct req_ctx *to)
{
    if (!p)
        return NULL;
    return to->path + (p - from->path);
}

/* Holds the request for delay_ns on a timer; then closes it or runs its handler. */
static void defer_request(struct req_ctx *src, uint64_t delay_ns)
{
    struct req_ctx *rc = malloc(sizeof *rc);
    if (rc) {
        memcpy(rc, src, sizeof *rc);
        for (int i = 0; i < REQ_MAX_PARAMS; i++)
            rc->params[i] = rebase(src->params[i], src, rc);
        rc->acme_profile = rebase(src->acme_profile, src, rc);
        rc->acme_rest = rebase(src->acme_rest, src, rc);
        rc->timer = evtimer_new(src->t->base, deferred_due, rc);
    }
    if (!rc || !rc->timer) {
        free(rc);
        reply_error(src, 500, "out of memory");
        return;
    }
    struct timeval tv = {.tv_sec = (time_t)(delay_ns / CLOCK_NS_PER_S),
                         .tv_usec = (suseconds_t)(delay_ns % CLOCK_NS_PER_S / 1000)};
    rc->prev = NULL;
    rc->next = src->t->deferred;
    if (rc->next)
        rc->next->prev = rc;
    src->t->deferred = rc;
    evtimer_add(rc->timer, &tv);
}

void router_drop_deferred(struct target *t)
{
    while (t->deferred) {
        struct req_ctx *rc = t->deferred;
        unlink_deferred(rc);
        event_free(rc->timer);
        reply_close(rc);
        free(rc);
    }
}

/* Rate limit and auth; returns false when the request was answered here. */
static bool admit(struct req_ctx *rc, enum route_class cls)
{
    struct target *t = rc->t;
    struct ratelimit *rl = cls == RC_OPEN ? t->rl_open : t->rl_api;
    if (rl && !ratelimit_allow(rl, rc->req->peer, clock_now_ns())) {
        reply_header(rc, "Retry-After", "1");
        reply_text(rc, 429, "{\"error\":\"Rate limit exceeded\"}");
        return false;
    }
    if (cls != RC_AUTH)
        return true;
    const char *hdr = http_req_header(rc->req, "Authorization");
    enum auth_result ar = auth_check(&t->auth, hdr, &rc->key_index);
    if (ar == AUTH_OK)
        return true;
    if (ar == AUTH_FAILED) {
        reply_error(rc, 500, "authentication failed");
        return false;
    }
    if (ar == AUTH_MISSING)
        reply_header(rc, "WWW-Authenticate", "Bearer realm=\"certctl\"");
    reply_text(rc, 401, auth_failure_body(ar));
    return false;
}

void router_handle(struct http_req *req, void *arg)
{
    struct req_ctx rc;
    rc.t = arg;
    rc.req = req;
    rc.ep = EP_OTHER;
    rc.fn = NULL;
    memset(rc.params, 0, sizeof rc.params);
    rc.acme_profile = rc.acme_rest = NULL;
    rc.key_index = -1;
    rc.close_when_due = rc.error_when_due = false;
    rc.query[0] = '\0';
    make_request_id(rc.t, rc.request_id);
    reply_header(&rc, "X-Request-ID", rc.request_id);

    enum route_class cls;
    enum match_result m = route_match(&rc, &cls);
    if (cls == RC_STATS && m == MATCH_OK) {
        if (!peer_is_loopback(req->peer))
            reply_error(&rc, 403, "/_target/stats answers loopback clients only");
        else
            h_target_stats(&rc);
        return;
    }
    if (!admit(&rc, cls))
        return;
    if (m == MATCH_NOT_FOUND) {
        reply_text(&rc, 404, "404 page not found");
        return;
    }
    if (m == MATCH_METHOD) {
        reply_text(&rc, 405, "Method Not Allowed");
        return;
    }
    if (cls != RC_OPEN && !store_available(rc.t->store, false)) {
        reply_error(&rc, 503, "database unavailable"); /* until the store reconnects */
        return;
    }
    struct fault_decision fd;
    if (!fault_decide(&rc.t->faults, rc.ep, &fd)) {
        rc.fn(&rc);
        return;
    }
    rc.error_when_due = fd.error;
    if (fd.drop || fd.stall_ns) {
        rc.close_when_due = true;
        defer_request(&rc, fd.drop ? 0 : fd.stall_ns);
    } else if (fd.delay_ns) {
        defer_request(&rc, fd.delay_ns);
    } else {
        run_handler(&rc);
    }
}
