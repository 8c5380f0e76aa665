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

#include "engine/http_once.h"
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
/* A directory answer this long or longer is refused as "too long". */
#define BODY_KEEP_BYTES 4096

/* Extra header lines (User-Agent, optional Bearer key, Content-Type for a body); wiped by the
 * caller. */
static void make_headers(char *h, size_t n, const char *api_key, bool json_body)
{
    bool key = api_key && *api_key;
    snprintf(h, n, "User-Agent: fleetsim-acme\r\n%s%s%s%s", key ? "Authorization: Bearer " : "",
             key ? api_key : "", key ? "\r\n" : "",
             json_body ? "Content-Type: application/json\r\n" : "");
}

/* Sends one request with the check's headers and waits for its end. */
static void acme_once(const struct http_conn_config *cc, const char *method, const char *path,
                      const char *api_key, const char *body, struct http_once *o)
{
    char headers[700];
    make_headers(headers, sizeof headers, api_key, body != NULL);
    http_once(cc, method, path, headers, body, o);
    explicit_bzero(headers, sizeof headers);
}

static bool looks_html(const struct http_once *o)
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
    struct http_once once, *o = &once;
    acme_once(cc, "GET", path, api_key, NULL, o);
    int rc = 0;
    char buf[200];
    struct acme_directory d;
    bool too_long = o->body_len >= BODY_KEEP_BYTES;
    if (o->error != HTTP_ERR_NONE) {
        snprintf(err, errlen, "ACME directory %s: no answer (%s)", url,
                 http_once_describe(o, buf, sizeof buf));
        rc = -EIO;
    } else if (o->status == HTTP_OK && looks_html(o)) {
        snprintf(err, errlen,
                 "ACME directory %s answered an HTML page (HTTP 200), not JSON: certctl's web "
                 "dashboard serves /acme/* when it is installed: start certctl without web/dist "
                 "(and web/index.html), or point --acme-directory at another ACME server",
                 url);
        rc = -EPROTO;
    } else if (o->status != HTTP_OK) {
        snprintf(err, errlen,
                 "ACME directory %s answered HTTP %d (expected 200 with the "
                 "directory)%s",
                 url, o->status,
                 o->status == HTTP_UNAUTHORIZED ? ": the API key was not accepted" : "");
        rc = -EPROTO;
    } else if (too_long || !acme_content_type_is_json(o->content_type) ||
               acme_directory_parse(o->body, o->body_len, &d, buf, sizeof buf) != 0) {
        snprintf(err, errlen, "ACME directory %s: the answer is not an ACME directory (%s)", url,
                 too_long                                     ? "too long"
                 : acme_content_type_is_json(o->content_type) ? buf
                                                              : "Content-Type is not JSON");
        rc = -EPROTO;
    } else {
        *has_renewal_info = d.renewal_info != NULL;
        acme_directory_clear(&d);
    }
    http_once_release(o);
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

static int profile_fail(const struct http_once *o, const char *what, const char *id, char *err,
                        size_t errlen)
{
    char buf[200];
    if (o->error != HTTP_ERR_NONE) {
        snprintf(err, errlen, "%s ACME profile %s: no answer (%s)", what, id,
                 http_once_describe(o, buf, sizeof buf));
        return -EIO;
    }
    if (o->status == HTTP_UNAUTHORIZED || o->status == HTTP_FORBIDDEN) {
        snprintf(err, errlen, "%s ACME profile %s: HTTP %d: the API key was not accepted", what, id,
                 o->status);
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
        snprintf(err, errlen, "ACME profile id \"%s\" is not 1 to %d of [A-Za-z0-9._-]", profile_id,
                 PROFILE_ID_MAX);
        return -EINVAL;
    }
    const char *base = base_path ? base_path : "";
    char path[PARSE_PATH_MAX + PROFILE_ID_MAX + 32];
    char body[2 * PROFILE_ID_MAX + 64];
    struct http_once once, *o = &once;
    snprintf(path, sizeof path, "%s" PROFILES_PATH "/%s", base, profile_id);
    acme_once(cc, "GET", path, api_key, NULL, o);
    http_once_release(o);
    int rc = 0;
    if (o->error == HTTP_ERR_NONE && o->status == HTTP_OK) {
        rc = 0;
    } else if (o->error == HTTP_ERR_NONE && o->status == HTTP_NOT_FOUND) {
        snprintf(path, sizeof path, "%s" PROFILES_PATH, base);
        snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"%s\"}", profile_id, profile_id);
        acme_once(cc, "POST", path, api_key, body, o);
        http_once_release(o);
        if (o->error == HTTP_ERR_NONE &&
            (o->status == HTTP_CREATED || o->status == HTTP_OK || o->status == HTTP_CONFLICT))
            *created = o->status != HTTP_CONFLICT;
        else
            rc = profile_fail(o, "creating", profile_id, err, errlen);
    } else {
        rc = profile_fail(o, "looking up", profile_id, err, errlen);
    }
    return rc;
}
