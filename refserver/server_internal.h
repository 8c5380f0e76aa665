/* refserver/server_internal.h - what the target's own files share: the struct behind
 * struct target, the per-request context, the route handler type and the reply helpers
 * (reply.c). Not for use outside refserver/. */
#ifndef FLEETSIM_TARGET_TARGET_INTERNAL_H
#define FLEETSIM_TARGET_TARGET_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <openssl/ssl.h>

#include "refserver/auth.h"
#include "refserver/endpoint.h"
#include "refserver/fault.h"
#include "refserver/request.h"
#include "refserver/server.h"

struct acmesrv;
struct event;
struct event_base;
struct evconnlistener;
struct http_req;
struct httpd;
struct ratelimit;
struct store;
struct target_ca;
struct target_stats;

/* Longest request path and query kept, bytes (longer targets get 404). */
#define REQ_PATH_MAX 2048
#define REQ_QUERY_MAX 2048
/* Path parameters a route captures at most ({id}, {job}, ...). */
#define REQ_MAX_PARAMS 3
/* "8-4-4-4-12" UUID text plus NUL. */
#define REQ_ID_LEN 37
/* Listen backlog: a fleet connects at once (somaxconn here is 4096). */
#define TARGET_LISTEN_BACKLOG 4096

struct req_ctx;
typedef void (*route_fn)(struct req_ctx *rc);

struct target {
    char host[64];
    uint16_t port;
    bool tls, quiet;
    char prefix[IDENTITY_PREFIX_MAX + 1];
    uint64_t seed;

    struct event_base *base;
    struct httpd *httpd;
    struct evconnlistener *listener;
    SSL_CTX *ssl_ctx;
    struct target_ca *ca;
    char ca_dir[64]; /* mkdtemp directory holding the CA file */
    char ca_path[PATH_MAX];

    struct store *store;
    struct acmesrv *acme;
    struct auth auth;
    struct ratelimit *rl_api;  /* authenticated routes (and /acme) */
    struct ratelimit *rl_open; /* certctl's no-auth routes have their own bucket */
    struct fault_set faults;
    struct target_stats *stats;
    uint64_t reqid_rng;

    int wake_fd;
    struct event *wake_ev, *sig_int, *sig_term;
    pthread_t thread;
    bool thread_running;

    struct req_ctx *deferred; /* requests held by a fault timer (doubly linked) */
    struct acmesrv_done {     /* on-complete argument per ACME endpoint (stats) */
        struct target *t;
        enum target_endpoint ep;
    } acmesrv_done[EP_COUNT];
};

/* Everything one request carries through limiter, auth, faults and its handler. Lives on the
 * stack unless a fault defers it (then it is heap-allocated and linked in t->deferred). */
struct req_ctx {
    struct target *t;
    struct http_req *req;
    enum target_endpoint ep;
    route_fn fn;
    char request_id[REQ_ID_LEN];
    char path[REQ_PATH_MAX];   /* decoded path segments, NUL-separated after routing */
    char query[REQ_QUERY_MAX]; /* raw query string without '?', "" if none */
    const char *params[REQ_MAX_PARAMS];
    const char *acme_profile; /* /acme/profile/{id}/{rest} */
    const char *acme_rest;
    int key_index; /* which API key authenticated the request (legacy-key-N) */

    /* deferred requests only */
    struct event *timer;
    bool close_when_due; /* drop / stall: close instead of answering */
    bool error_when_due; /* error fault: answer 500 */
    struct req_ctx *prev, *next;
};

/* ---- router.c ---- */
/* The request layer's handler for every request (arg: struct target *). */
void router_handle(struct http_req *req, void *arg);
/* Frees deferred requests, closing their connections (at shutdown). */
void router_drop_deferred(struct target *t);

/* ---- reply.c: every response goes through these (they count it in the stats) ---- */
/* JSON body (already serialised, len bytes); Content-Type application/json. */
void reply_json(struct req_ctx *rc, int status, const char *body, size_t len);
/* Sends what the handler wrote into the request's output buffer as JSON. */
void reply_json_buffered(struct req_ctx *rc, int status);
/* certctl's ErrorWithRequestID: {"error":"<status text>","message":…,"request_id":…}. */
void reply_error(struct req_ctx *rc, int status, const char *message);
/* Go's http.Error: text/plain; charset=utf-8, nosniff, body + "\n" (body without the \n). */
void reply_text(struct req_ctx *rc, int status, const char *body_line);
/* Empty response (204). */
void reply_empty(struct req_ctx *rc, int status);
/* Adds a response header. */
void reply_header(struct req_ctx *rc, const char *name, const char *value);
/* Closes the request's connection without an answer (counted as status 0). */
void reply_close(struct req_ctx *rc);
/* The request body (NUL-terminated) and its length. */
const char *req_body(struct req_ctx *rc, size_t *len);
/* Value of query parameter name (first occurrence, percent-decoded) into buf (size n).
 * Returns true when present. */
bool req_query(const struct req_ctx *rc, const char *name, char *buf, size_t n);
/* The body parsed as one JSON object (what follows it is ignored, as Go's Decode does); NULL
 * when empty, malformed or not an object. The caller puts it. */
json_object *req_json_object(struct req_ctx *rc);
/* Optional string member key of obj: true when absent, null or a string (*out = the string or
 * NULL), false for any other type (Go's decoder rejects it). */
bool json_opt_string(json_object *obj, const char *key, const char **out);

/* ---- handlers_*.c ---- */
void h_health(struct req_ctx *rc);
void h_ready(struct req_ctx *rc);
void h_version(struct req_ctx *rc);
void h_auth_info(struct req_ctx *rc);
void h_auth_check(struct req_ctx *rc);
void h_target_stats(struct req_ctx *rc);

void h_agent_register(struct req_ctx *rc);
void h_agent_get(struct req_ctx *rc);
void h_agent_retire(struct req_ctx *rc);
void h_heartbeat(struct req_ctx *rc);
void h_work(struct req_ctx *rc);
void h_csr(struct req_ctx *rc);
void h_job_status(struct req_ctx *rc);
void h_cert_fetch(struct req_ctx *rc);
void h_job_verify(struct req_ctx *rc);
void h_discoveries(struct req_ctx *rc);

void h_cert_list(struct req_ctx *rc);
void h_cert_create(struct req_ctx *rc);
void h_cert_get(struct req_ctx *rc);
void h_bulk_renew(struct req_ctx *rc);
void h_job_get(struct req_ctx *rc);
void h_profile_create(struct req_ctx *rc);
void h_profile_get(struct req_ctx *rc);

void h_acme(struct req_ctx *rc);
/* The ACME server's profile check: the profile must exist in the store (arg: the target). */
bool target_acme_profile_exists(void *arg, const char *profile_id);

#endif
