/* tests/integration/refserver_client.h - a blocking wrapper over engine/http_client for the
 * target's integration tests: one keep-alive connection on a private event_base, one request at
 * a time, the response copied out with the headers the tests check. (The fleetsim-target
 * program itself is started with tests/lib/procs.h.) */
#ifndef FLEETSIM_TESTS_TARGET_CLIENT_H
#define FLEETSIM_TESTS_TARGET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <json-c/json.h>

#include "engine/http_client.h"

/* Per-request timeout of the test client. */
#define TC_TIMEOUT_NS (10ULL * 1000000000ULL)
#define TC_HEADER_MAX 256

struct tc;

struct tc_resp {
    enum http_error error;
    int status;
    char *body; /* malloc'd, NUL-terminated ("" when none) */
    size_t body_len;
    char content_type[TC_HEADER_MAX];
    char retry_after[TC_HEADER_MAX];
    char www_authenticate[TC_HEADER_MAX];
    char request_id[TC_HEADER_MAX];
    char nosniff[TC_HEADER_MAX];
    char location[TC_HEADER_MAX];
    char replay_nonce[TC_HEADER_MAX];
    uint64_t duration_ns; /* send to done */
};

/* Connects lazily to 127.0.0.1:port; TLS when tls, verified with cafile (NULL: system store).
 * Returns NULL on failure. */
struct tc *tc_new(uint16_t port, bool tls, const char *cafile);

/* Sends one request and waits for its end. auth_key (may be NULL) becomes "Authorization:
 * Bearer <key>"; extra_headers ("K: V\r\n" lines) may be NULL; body may be NULL (no body).
 * Always fills *out (free with tc_resp_free). */
void tc_request(struct tc *c, const char *method, const char *path, const char *auth_key,
                const char *extra_headers, const char *body, struct tc_resp *out);

/* Frees what tc_request put in out. */
void tc_resp_free(struct tc_resp *r);

/* Closes the connection and frees the client (NULL is fine). */
void tc_free(struct tc *c);

/* ---- reading answers in Check tests ---- */

/* Expects r (a struct tc_resp) answered with status want; frees nothing. */
#define ck_status(r, want)                                              \
    ck_assert_msg((r).error == HTTP_ERR_NONE && (r).status == (want),   \
                  "status %d (error %s), want %d; body %s", (r).status, \
                  http_error_name((r).error), (want), (r).body ? (r).body : "")

/* r's body parsed as JSON (the test fails when it is not); the caller puts it. */
json_object *tc_body_json(const struct tc_resp *r);

/* The member key of object o, borrowed; NULL when o is NULL or has no such member. */
json_object *tc_member(json_object *o, const char *key);

/* The member key of o as a string, NULL when absent. */
const char *tc_jstr(json_object *o, const char *key);

/* The member key of o as an integer (the test fails when it is absent). */
int64_t tc_jint(json_object *o, const char *key);

/* GET /_target/stats over c, expected 200 with a JSON body: the parsed object (caller puts). */
json_object *tc_stats(struct tc *c);

#endif
