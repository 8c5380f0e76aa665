/* sim/acme_check.c - the ACME pre-flight (see acme.h): the directory must answer as JSON (a
 * stock certctl with its web dashboard answers /acme/... with its HTML index instead), and on
 * certctl the ACME profile must exist, created through the API when missing. One blocking
 * request at a time on a private event loop, bounded by the connection's timeout. */
#include "sim/acme_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/parse.h"

#define HTTP_OK 200
#define HTTP_CREATED 201
#define HTTP_UNAUTHORIZED 401
#define HTTP_FORBIDDEN 403
#define HTTP_NOT_FOUND 404
#define HTTP_CONFLICT 409
#define PROFILES_PATH "/api/v1/profiles"
/* Longest profile id accepted here (it goes into a URL path and a JSON string). */
#define PROFILE_ID_MAX 128
#define BODY_KEEP_BYTES 4096

/* The outcome of one blocking request. */
struct once {
    struct event_base *base;
    bool done;
    enum http_error error;
    int status;
    char detail[160];
    char content_type[128];
    char body[BODY_KEEP_BYTES];
    size_t body_len;
    bool body_cut; /* longer than BODY_KEEP_BYTES */
};

static void once_done(const struct http_result *res, void *arg)
{
    struct once *o = arg;
    o->done = true;
    event_base_loopbreak(o->base); /* an idle keep-alive connection would keep the loop going */
    o->error = res->error;
    o->status = res->status;
    snprintf(o->detail, sizeof o->detail, "%s", res->detail ? res->detail : "");
    const char *ct = http_result_header(res, "Content-Type");
    snprintf(o->content_type, sizeof o->content_type, "%s", ct ? ct : "");
    o->body_cut = res->body_len >= sizeof o->body;
    o->body_len = o->body_cut ? sizeof o->body - 1 : res->body_len;
    memcpy(o->body, res->body, o->body_len);
    o->body[o->body_len] = '\0';
}

/* Extra header lines (User-Agent, optional Bearer key, Content-Type for a body); wiped by the
 * caller. */
static void make_headers(char *h, size_t n, const char *api_key, bool json_body)
{
    bool key = api_key && *api_key;
    snprintf(h, n, "User-Agent: fleetsim-acme\r\n%s%s%s%s", key ? "Authorization: Bearer " : "",
             key ? api_key : "", key ? "\r\n" : "",
             json_body ? "Content-Type: application/json\r\n" : "");
}

/* Sends one request and waits for its end. */
static void http_once(const struct http_conn_config *cc, const char *method, const char *path,
                      const char *api_key, const char *body, struct once *o)
{
    memset(o, 0, sizeof *o);
    o->error = HTTP_ERR_OTHER;
    char headers[700];
    make_headers(headers, sizeof headers, api_key, body != NULL);
    struct event_base *base = event_base_new();
    o->base = base;
    struct http_conn *conn = base ? http_conn_new(base, cc) : NULL;
    struct http_request req = {method, path, headers, body, body ? strlen(body) : 0,
                               clock_now_ns()};
    if (conn && http_conn_send(conn, &req, once_done, o) == 0)
        event_base_dispatch(base);
    explicit_bzero(headers, sizeof headers);
    if (!o->done)
        snprintf(o->detail, sizeof o->detail, "could not send");
    http_conn_free(conn);
    if (base)
        event_base_free(base);
}

/* "connect: Connection refused" for a request without an answer. */
static const char *no_answer(const struct once *o, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", http_error_name(o->error), o->detail[0] ? ": " : "", o->detail);
    return buf;
}

static bool looks_html(const struct once *o)
{
    if (strncasecmp(o->content_type, "text/html", 9) == 0)
        return true;
    const char *p = o->body;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return *p == '<';
}

int acme_directory_check(const struct http_conn_config *cc, const char *url, const char *api_key,
                         bool *has_renewal_info, char *err, size_t errlen)
{
    *has_renewal_info = false;
    char authority[ACME_AUTHORITY_MAX];
    const char *path = acme_conn_authority(cc, authority, sizeof authority) == 0
                           ? acme_url_path(url, cc->ssl_ctx != NULL, authority)
                           : NULL;
    if (!path) {
        snprintf(err, errlen, "ACME directory %s: not an %s URL with a path on %s", url,
                 cc->ssl_ctx ? "https" : "http", authority);
        return -EINVAL;
    }
    struct once *o = malloc(sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    http_once(cc, "GET", path, api_key, NULL, o);
    int rc = 0;
    char buf[200];
    struct acme_directory d;
    if (o->error != HTTP_ERR_NONE) {
        snprintf(err, errlen, "ACME directory %s: no answer (%s)", url,
                 no_answer(o, buf, sizeof buf));
        rc = -EIO;
    } else if (o->status == HTTP_OK && looks_html(o)) {
        snprintf(err, errlen,
                 "ACME directory %s answered an HTML page (HTTP 200), not JSON: certctl's web "
                 "dashboard serves /acme/* (run certctl without web/dist, see certctl-facts §4)",
                 url);
        rc = -EPROTO;
    } else if (o->status != HTTP_OK) {
        snprintf(err, errlen, "ACME directory %s answered HTTP %d (expected 200 with the "
                              "directory)%s",
                 url, o->status,
                 o->status == HTTP_UNAUTHORIZED ? ": the API key was not accepted" : "");
        rc = -EPROTO;
    } else if (o->body_cut || !acme_content_type_is_json(o->content_type) ||
               acme_directory_parse(o->body, o->body_len, &d, buf, sizeof buf) != 0) {
        snprintf(err, errlen, "ACME directory %s: the answer is not an ACME directory (%s)", url,
                 o->body_cut ? "too long" : acme_content_type_is_json(o->content_type)
                                                ? buf
                                                : "Content-Type is not JSON");
        rc = -EPROTO;
    } else {
        *has_renewal_info = d.renewal_info != NULL;
        acme_directory_clear(&d);
    }
    free(o);
    return rc;
}

/* True when id is safe in a URL path segment and a JSON string. */
static bool profile_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > PROFILE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

static int profile_fail(const struct once *o, const char *what, const char *id, char *err,
                        size_t errlen)
{
    char buf[200];
    if (o->error != HTTP_ERR_NONE) {
        snprintf(err, errlen, "%s ACME profile %s: no answer (%s)", what, id,
                 no_answer(o, buf, sizeof buf));
        return -EIO;
    }
    if (o->status == HTTP_UNAUTHORIZED || o->status == HTTP_FORBIDDEN) {
        snprintf(err, errlen, "%s ACME profile %s: HTTP %d: the API key was not accepted", what,
                 id, o->status);
        return -EACCES;
    }
    snprintf(err, errlen, "%s ACME profile %s: unexpected HTTP %d", what, id, o->status);
    return -EPROTO;
}

int acme_certctl_profile_ensure(const struct http_conn_config *cc, const char *base_path,
                                const char *api_key, const char *profile_id, bool *created,
                                char *err, size_t errlen)
{
    *created = false;
    if (!profile_id_ok(profile_id)) {
        snprintf(err, errlen, "ACME profile id \"%s\" is not 1 to %d of [A-Za-z0-9._-]",
                 profile_id, PROFILE_ID_MAX);
        return -EINVAL;
    }
    const char *base = base_path ? base_path : "";
    char path[PARSE_PATH_MAX + PROFILE_ID_MAX + 32];
    char body[2 * PROFILE_ID_MAX + 64];
    struct once *o = malloc(sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    snprintf(path, sizeof path, "%s" PROFILES_PATH "/%s", base, profile_id);
    http_once(cc, "GET", path, api_key, NULL, o);
    int rc = 0;
    if (o->error == HTTP_ERR_NONE && o->status == HTTP_OK) {
        rc = 0;
    } else if (o->error == HTTP_ERR_NONE && o->status == HTTP_NOT_FOUND) {
        snprintf(path, sizeof path, "%s" PROFILES_PATH, base);
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"%s\"}", profile_id, profile_id);
        http_once(cc, "POST", path, api_key, body, o);
        if (o->error == HTTP_ERR_NONE &&
            (o->status == HTTP_CREATED || o->status == HTTP_OK || o->status == HTTP_CONFLICT))
            *created = o->status != HTTP_CONFLICT;
        else
            rc = profile_fail(o, "creating", profile_id, err, errlen);
    } else {
        rc = profile_fail(o, "looking up", profile_id, err, errlen);
    }
    free(o);
    return rc;
}
