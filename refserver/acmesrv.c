/* refserver/acmesrv.c - the ACME server's front: configuration, routing of
 * /acme/profile/{id}/<rest>, response writers (problem documents without Replay-Nonce, JSON with
 * a fresh one), the JWS checks every POST goes through, and the directory and new-nonce
 * endpoints. Accounts: acmesrv_handlers.c; orders: acmesrv_orders.c; ARI: acmesrv_ari.c. */
#include "refserver/acmesrv_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/rand.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static int64_t now_ms(const struct acmesrv *srv)
{
    if (srv->cfg.now_ms)
        return srv->cfg.now_ms(srv->cfg.now_arg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct acmesrv *acmesrv_new(const struct acmesrv_config *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->ca) {
        snprintf(err, errlen, "acme server: a CA is required");
        return NULL;
    }
    struct acmesrv *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "acme server: out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    struct acmesrv_config *c = &srv->cfg;
    c->orders_per_hour = c->orders_per_hour ? c->orders_per_hour : ACMESRV_DEFAULT_ORDERS_PER_HOUR;
    c->active_orders = c->active_orders ? c->active_orders : ACMESRV_DEFAULT_ACTIVE_ORDERS;
    c->key_changes_per_hour =
        c->key_changes_per_hour ? c->key_changes_per_hour : ACMESRV_DEFAULT_KEY_CHANGES_PER_HOUR;
    c->cert_validity_days =
        c->cert_validity_days ? c->cert_validity_days : ACMESRV_DEFAULT_CERT_VALIDITY_DAYS;
    c->max_nonces = c->max_nonces ? c->max_nonces : ACMESRV_DEFAULT_MAX_NONCES;
    c->max_accounts = c->max_accounts ? c->max_accounts : ACMESRV_DEFAULT_MAX_ACCOUNTS;
    c->max_orders = c->max_orders ? c->max_orders : ACMESRV_DEFAULT_MAX_ORDERS;
    c->retention_s = c->retention_s ? c->retention_s : ACMESRV_DEFAULT_RETENTION_S;
    if (c->cert_validity_days > CA_MAX_VALIDITY_DAYS) {
        snprintf(err, errlen, "acme server: cert_validity_days must be at most %u",
                 CA_MAX_VALIDITY_DAYS);
        free(srv);
        return NULL;
    }
    if (RAND_bytes(srv->token_secret, sizeof srv->token_secret) != 1 ||
        acmesrv_state_init(&srv->st, c) != 0) {
        snprintf(err, errlen, "acme server: cannot initialise state");
        free(srv);
        return NULL;
    }
    pthread_mutex_init(&srv->lock, NULL);
    return srv;
}

void acmesrv_free(struct acmesrv *srv)
{
    if (!srv)
        return;
    acmesrv_state_destroy(&srv->st);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

void acmesrv_stats(struct acmesrv *srv, struct acmesrv_stats *out)
{
    pthread_mutex_lock(&srv->lock);
    *out = srv->stats;
    out->live_nonces = (uint32_t)srv->st.nonces.count;
    out->live_accounts = (uint32_t)srv->st.accounts.count;
    out->live_orders = (uint32_t)srv->st.orders.count;
    pthread_mutex_unlock(&srv->lock);
}

/* ---- responses ---- */

static void add_header(struct acmesrv_req *r, const char *k, const char *v)
{
    http_reply_header(r->req, k, v);
}

/* Sends status with an optional body of len bytes. */
static void send_body(struct acmesrv_req *r, int status, const char *type, const char *body,
                      size_t len)
{
    if (type)
        add_header(r, "Content-Type", type);
    if (body && len)
        evbuffer_add(r->req->out, body, len);
    http_reply_send(r->req, status, http_status_text(status));
}

static void send_text(struct acmesrv_req *r, int status, const char *text)
{
    send_body(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void send_json_obj(struct acmesrv_req *r, int status, const char *type, json_object *obj)
{
    const char *s = json_object_to_json_string_ext(obj, JSON_FLAGS);
    size_t len = strlen(s);
    char *body = malloc(len + 2);
    if (body) {
        memcpy(body, s, len);
        body[len] = '\n'; /* Go's json.Encoder ends documents with a newline */
        body[len + 1] = '\0';
    }
    send_body(r, status, type, body, body ? len + 1 : 0);
    free(body);
    json_object_put(obj);
}

void acmesrv_send_problem_sub(struct acmesrv_req *r, int status, const char *type,
                              const char *detail, json_object *subproblems)
{
    char full[96];
    snprintf(full, sizeof full, "%s%s", ACMESRV_ERR_PREFIX, type);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "type", json_object_new_string(full));
    json_object_object_add(p, "detail", json_object_new_string(detail));
    json_object_object_add(p, "status", json_object_new_int(status));
    if (subproblems)
        json_object_object_add(p, "subproblems", subproblems);
    r->srv->stats.problems++;
    if (status == 429)
        r->srv->stats.rate_limited++;
    if (strcmp(type, "badNonce") == 0)
        r->srv->stats.bad_nonces++;
    send_json_obj(r, status, "application/problem+json", p);
}

void acmesrv_send_problem(struct acmesrv_req *r, int status, const char *type, const char *detail)
{
    acmesrv_send_problem_sub(r, status, type, detail, NULL);
}

/* Adds a fresh Replay-Nonce header (none when issuing fails, as certctl). */
static void add_nonce(struct acmesrv_req *r)
{
    char nonce[ACMESRV_NONCE_MAX_LEN];
    if (acmesrv_nonce_issue(&r->srv->st, r->now_ms, nonce) == 0) {
        add_header(r, "Replay-Nonce", nonce);
        r->srv->stats.nonces_issued++;
    }
}

void acmesrv_send_json(struct acmesrv_req *r, int status, json_object *body, const char *location)
{
    add_nonce(r);
    if (location)
        add_header(r, "Location", location);
    send_json_obj(r, status, "application/json", body);
}

void acmesrv_send_json_plain(struct acmesrv_req *r, int status, json_object *body)
{
    send_json_obj(r, status, "application/json", body);
}

void acmesrv_send_bytes(struct acmesrv_req *r, int status, const char *content_type,
                        const char *body, size_t len)
{
    add_nonce(r);
    send_body(r, status, content_type, body, len);
}

/* ---- JWS verification ---- */

static bool read_body(struct acmesrv_req *r, char **out, size_t *len)
{
    size_t n = r->req->body_len;
    if (n > ACMESRV_MAX_JWS_BODY_BYTES) {
        acmesrv_send_problem(r, 400, "malformed", "request body too large");
        return false;
    }
    char *b = malloc(n + 1);
    if (!b) {
        acmesrv_send_problem(r, 500, "serverInternal", "ACME server error");
        return false;
    }
    memcpy(b, r->req->body, n);
    b[n] = '\0';
    *out = b;
    *len = n;
    return true;
}

static bool parse_jws(struct acmesrv_req *r)
{
    char *body;
    size_t len;
    if (!read_body(r, &body, &len))
        return false;
    char err[128];
    int rc = jose_jws_parse(body, len, &r->jws, err, sizeof err);
    free(body);
    if (rc == -ENOTSUP)
        acmesrv_send_problem(
            r, 400, "malformed",
            "signature algorithm not allowed (RFC 8555 §6.2: RS256, ES256, EdDSA only)");
    else if (rc == -EKEYREJECTED)
        acmesrv_send_problem(r, 400, "malformed", "invalid or unsupported JWK");
    else if (rc == -EINVAL && strstr(err, "exactly one of kid or jwk"))
        acmesrv_send_problem(r, 400, "malformed",
                             "protected header MUST contain exactly one of `kid` or `jwk`");
    else if (rc)
        acmesrv_send_problem(r, 400, "malformed", "malformed JWS");
    return rc == 0;
}

/* Resolves the kid to an account: kid must be exactly <base>/account/<id> of an account. */
static bool resolve_kid(struct acmesrv_req *r)
{
    const char *kid = r->jws.kid;
    size_t bl = strlen(r->base);
    static const char seg[] = "/account/";
    if (strncmp(kid, r->base, bl) != 0 || strncmp(kid + bl, seg, sizeof seg - 1) != 0 ||
        kid[bl + sizeof seg - 1] == '\0' || strchr(kid + bl + sizeof seg - 1, '/')) {
        acmesrv_send_problem(r, 400, "malformed", "malformed JWS");
        return false;
    }
    r->account = acmesrv_account_find(&r->srv->st, kid + bl + sizeof seg - 1);
    if (!r->account) {
        acmesrv_send_problem(r, 400, "accountDoesNotExist", "kid points at unknown account");
        return false;
    }
    if (r->account->deactivated) {
        acmesrv_send_problem(r, 401, "unauthorized", "account status is not `valid`");
        return false;
    }
    return true;
}

bool acmesrv_verify_jws(struct acmesrv_req *r, bool expect_jwk, bool allow_either)
{
    if (!parse_jws(r))
        return false;
    struct jose_jws *j = &r->jws;
    if (j->typ && *j->typ && strcmp(j->typ, "application/jose+json") != 0) {
        acmesrv_send_problem(r, 400, "malformed",
                             "protected header `typ` must be `application/jose+json`");
        return false;
    }
    if (!j->url || !*j->url || strcmp(j->url, r->url) != 0) {
        acmesrv_send_problem(r, 401, "unauthorized", "protected header `url` mismatch or missing");
        return false;
    }
    if (!j->nonce || !*j->nonce) {
        acmesrv_send_problem(r, 400, "badNonce", "protected header `nonce` is required");
        return false;
    }
    if (!acmesrv_nonce_consume(&r->srv->st, j->nonce, r->now_ms)) {
        acmesrv_send_problem(r, 400, "badNonce", "nonce missing, replayed, or expired");
        return false;
    }
    if (!allow_either && expect_jwk && j->kid) {
        acmesrv_send_problem(r, 400, "malformed",
                             "this endpoint requires `jwk` (new-account flow); got `kid`");
        return false;
    }
    if (!allow_either && !expect_jwk && j->jwk) {
        acmesrv_send_problem(r, 400, "malformed",
                             "this endpoint requires `kid` (registered account); got `jwk`");
        return false;
    }
    if (j->kid && !resolve_kid(r))
        return false;
    if (jose_jws_verify(j, j->kid ? r->account->key : j->jwk) != 0) {
        acmesrv_send_problem(r, 401, "unauthorized", "signature did not verify");
        return false;
    }
    if (r->account)
        acmesrv_account_touch(&r->srv->st, r->account, r->now_ms);
    return true;
}

json_object *acmesrv_payload_json(struct acmesrv_req *r, bool *empty, const char *detail)
{
    *empty = r->jws.payload_len == 0;
    if (*empty)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(16);
    json_object *o =
        tok ? json_tokener_parse_ex(tok, (const char *)r->jws.payload, (int)r->jws.payload_len)
            : NULL;
    bool complete = tok && json_tokener_get_error(tok) == json_tokener_success &&
                    json_tokener_get_parse_end(tok) == r->jws.payload_len;
    if (tok)
        json_tokener_free(tok);
    if (!o || !complete || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        acmesrv_send_problem(r, 400, "malformed", detail);
        return NULL;
    }
    return o;
}

json_object *acmesrv_payload_object(struct acmesrv_req *r, const char *detail)
{
    bool empty;
    json_object *o = acmesrv_payload_json(r, &empty, detail);
    if (!o && empty)
        acmesrv_send_problem(r, 400, "malformed", detail);
    return o;
}

/* ---- directory, new-nonce, renewal-info ---- */

static void handle_directory(struct acmesrv_req *r)
{
    static const struct {
        const char *key, *path;
    } entries[] = {{"newNonce", "new-nonce"},   {"newAccount", "new-account"},
                   {"newOrder", "new-order"},   {"revokeCert", "revoke-cert"},
                   {"keyChange", "key-change"}, {"renewalInfo", "renewal-info"}};
    json_object *d = json_object_new_object();
    char url[ACMESRV_URL_MAX + 32];
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        snprintf(url, sizeof url, "%s/%s", r->base, entries[i].path);
        json_object_object_add(d, entries[i].key, json_object_new_string(url));
    }
    add_nonce(r);
    add_header(r, "Cache-Control", "public, max-age=0, no-cache");
    send_json_obj(r, 200, "application/json", d);
}

static void handle_new_nonce(struct acmesrv_req *r, bool head)
{
    char nonce[ACMESRV_NONCE_MAX_LEN];
    if (acmesrv_nonce_issue(&r->srv->st, r->now_ms, nonce) != 0) {
        acmesrv_send_problem(r, 500, "serverInternal", "nonce issuance failed");
        return;
    }
    r->srv->stats.nonces_issued++;
    add_header(r, "Replay-Nonce", nonce);
    add_header(r, "Cache-Control", "no-store");
    send_body(r, head ? 200 : 204, NULL, NULL, 0);
}

/* ---- routing ---- */

enum route_method { M_GET = 1, M_HEAD = 2, M_POST = 4 };

/* If rest starts with prefix and the remainder is one non-empty path segment, returns it. */
static const char *segment_after(const char *rest, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(rest, prefix, n) != 0 || !rest[n] || strchr(rest + n, '/'))
        return NULL;
    return rest + n;
}

const char *acmesrv_endpoint_name(const char *rest)
{
    if (!rest)
        return NULL;
    if (strcmp(rest, "directory") == 0)
        return "acme_directory";
    if (strcmp(rest, "new-nonce") == 0)
        return "acme_nonce";
    if (strcmp(rest, "new-account") == 0 || strcmp(rest, "key-change") == 0 ||
        segment_after(rest, "account/"))
        return "acme_account";
    if (strcmp(rest, "new-order") == 0 || segment_after(rest, "order/"))
        return "acme_order";
    if (strncmp(rest, "order/", 6) == 0) {
        const char *slash = strchr(rest + 6, '/');
        if (slash && slash > rest + 6 && strcmp(slash, "/finalize") == 0)
            return "acme_finalize";
        return NULL;
    }
    if (segment_after(rest, "authz/"))
        return "acme_authz";
    if (segment_after(rest, "challenge/"))
        return "acme_challenge";
    if (segment_after(rest, "cert/") || strcmp(rest, "revoke-cert") == 0)
        return "acme_cert";
    if (segment_after(rest, "renewal-info/"))
        return "acme_renewal_info";
    return NULL;
}

static bool method_ok(struct acmesrv_req *r, unsigned allowed)
{
    enum req_method cmd = r->req->method;
    unsigned m = cmd == METHOD_GET    ? M_GET
                 : cmd == METHOD_HEAD ? M_HEAD
                 : cmd == METHOD_POST ? M_POST
                                      : 0;
    if (m & allowed)
        return true;
    add_header(r, "Allow", allowed & M_POST ? "POST" : allowed & M_HEAD ? "GET, HEAD" : "GET");
    send_text(r, 405, "Method Not Allowed\n");
    return false;
}

static void route_post(struct acmesrv_req *r)
{
    const char *rest = r->rest, *id;
    if (!method_ok(r, M_POST))
        return;
    if (strcmp(rest, "new-account") == 0)
        acmesrv_handle_new_account(r);
    else if ((id = segment_after(rest, "account/")))
        acmesrv_handle_account(r, id);
    else if (strcmp(rest, "new-order") == 0)
        acmesrv_handle_new_order(r);
    else if ((id = segment_after(rest, "order/")))
        acmesrv_handle_order(r, id);
    else if (strncmp(rest, "order/", 6) == 0) {
        char oid[ACMESRV_ID_MAX];
        snprintf(oid, sizeof oid, "%.*s", (int)strcspn(rest + 6, "/"), rest + 6);
        acmesrv_handle_finalize(r, oid);
    } else if ((id = segment_after(rest, "authz/")))
        acmesrv_handle_authz(r, id);
    else if ((id = segment_after(rest, "challenge/")))
        acmesrv_handle_challenge(r, id);
    else if ((id = segment_after(rest, "cert/")))
        acmesrv_handle_cert(r, id);
    else if (strcmp(rest, "key-change") == 0)
        acmesrv_handle_key_change(r);
    else
        acmesrv_handle_revoke(r);
}

static void route(struct acmesrv_req *r, const char *endpoint)
{
    if (strcmp(endpoint, "acme_directory") == 0) {
        if (method_ok(r, M_GET | M_HEAD))
            handle_directory(r);
    } else if (strcmp(endpoint, "acme_nonce") == 0) {
        if (method_ok(r, M_GET | M_HEAD))
            handle_new_nonce(r, r->req->method == METHOD_HEAD);
    } else if (strcmp(endpoint, "acme_renewal_info") == 0) {
        if (method_ok(r, M_GET | M_HEAD))
            acmesrv_handle_renewal_info(r, r->rest + strlen("renewal-info/"));
    } else {
        route_post(r);
    }
}

static bool profile_ok(const struct acmesrv *srv, const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > ACMESRV_PROFILE_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
            return false;
    if (srv->cfg.profile_exists)
        return srv->cfg.profile_exists(srv->cfg.profile_arg, id);
    if (srv->cfg.profiles) {
        for (const char *const *p = srv->cfg.profiles; *p; p++)
            if (strcmp(*p, id) == 0)
                return true;
        return false;
    }
    return true;
}

void acmesrv_handle(struct acmesrv *srv, struct http_req *req, const char *profile_id,
                    const char *rest_path)
{
    struct acmesrv_req r = {.srv = srv, .req = req, .profile = profile_id, .rest = rest_path};
    pthread_mutex_lock(&srv->lock);
    r.now_ms = now_ms(srv);
    acmesrv_state_expire(&srv->st, r.now_ms);
    const char *endpoint = rest_path ? acmesrv_endpoint_name(rest_path) : NULL;
    char authority[ACMESRV_URL_MAX / 2];
    if (!endpoint || !profile_id) {
        send_text(&r, 404, "404 page not found\n");
    } else if (!http_req_local_authority(req, authority, sizeof authority)) {
        acmesrv_send_problem(&r, 500, "serverInternal", "cannot name the server's own address");
    } else if (!profile_ok(srv, profile_id)) {
        acmesrv_send_problem(&r, 404, "userActionRequired", "profile not found");
    } else {
        const char *scheme = srv->cfg.tls ? "https" : "http";
        snprintf(r.base, sizeof r.base, "%s://%s/acme/profile/%s", scheme, authority, profile_id);
        int n = snprintf(r.url, sizeof r.url, "%s/%s", r.base, rest_path);
        if (n < 0 || (size_t)n >= sizeof r.url)
            send_text(&r, 404, "404 page not found\n");
        else
            route(&r, endpoint);
    }
    jose_jws_clear(&r.jws);
    pthread_mutex_unlock(&srv->lock);
}
