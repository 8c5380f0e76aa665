/* sim/acme_send.c - how an ACME actor sends: plain GET/HEAD and JWS-signed POSTs on its own
 * connection (always to the directory's origin), Replay-Nonce chaining, the bounded badNonce
 * resend, and the measurement of every answer: request metrics, acme_problems{problem} and
 * the rate-limit shape check of each 429. */
#include "sim/acme_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rsa.h>

#include "engine/clock.h"
#include "engine/jose.h"
#include "sim/agent.h"

#define RSA_KEY_BITS 2048
#define HTTP_TOO_MANY_REQUESTS 429
/* Retry-After values above this many seconds are treated as this (the caps apply later). */
#define RETRY_AFTER_MAX_S 86400L

void acme_count(struct acme_loop *l, const char *metric, const char *reason)
{
    metrics_counter_add(l->metrics, metric, l->cfg->scenario, SIM_ACTOR_ACME, NULL,
                        reason ? ACME_TAG_REASON : NULL, reason, 1);
}

int acme_actor_keygen(struct acme_actor *a)
{
    EVP_PKEY *k = NULL;
    switch (a->loop->cfg->key_alg) {
    case ACME_KEY_ES256:
        k = EVP_EC_gen("P-256");
        break;
    case ACME_KEY_RS256:
        k = EVP_RSA_gen(RSA_KEY_BITS);
        break;
    case ACME_KEY_EDDSA:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    }
    if (!k)
        return -EIO;
    EVP_PKEY_free(a->key);
    a->key = k;
    return 0;
}

void acme_post_clear(struct acme_actor *a)
{
    free(a->post.url);
    free(a->post.payload);
    memset(&a->post, 0, sizeof a->post);
}

/* Seconds of a Retry-After header given as a number (dates are ignored), in ns; 0 = none. */
static uint64_t retry_after_ns(const char *v)
{
    if (!v || *v < '0' || *v > '9')
        return 0;
    char *end;
    long s = strtol(v, &end, 10);
    if (*end != '\0' || s <= 0)
        return 0;
    if (s > RETRY_AFTER_MAX_S)
        s = RETRY_AFTER_MAX_S;
    return (uint64_t)s * CLOCK_NS_PER_S;
}

/* Measures one answer: nonce, problem counter, 429 shape, request metrics. Writes the
 * problem word into problem (size n) and returns whether the status was expected. */
static bool measure(struct acme_actor *a, const struct http_result *res, char *problem, size_t n)
{
    struct acme_loop *l = a->loop;
    const char *ep = acme_ep_name(a->ep);
    bool expected = false;
    problem[0] = '\0';
    a->retry_after_ns = 0;
    if (res->error == HTTP_ERR_NONE) {
        const char *nonce = http_result_header(res, "Replay-Nonce");
        if (nonce && *nonce) {
            free(a->nonce);
            a->nonce = strdup(nonce);
        }
        const char *ct = http_result_header(res, "Content-Type");
        if (acme_problem_parse(ct, res->status, res->body, res->body_len, problem, n))
            metrics_counter_add(l->metrics, METRIC_ACME_PROBLEMS, l->cfg->scenario, SIM_ACTOR_ACME,
                                ep, SIM_TAG_PROBLEM, problem, 1);
        if (res->status == HTTP_TOO_MANY_REQUESTS)
            metrics_rate_add(l->metrics, METRIC_ACME_RATE_LIMIT_SHAPE_OK, l->cfg->scenario,
                             SIM_ACTOR_ACME, ep, NULL, NULL,
                             acme_rate_limit_shape_ok(ct, res->body, res->body_len));
        a->retry_after_ns = retry_after_ns(http_result_header(res, "Retry-After"));
        expected = acme_step_expected(a->step, res->status);
    } else {
        /* the nonce may have been used by a request that never got its answer */
        free(a->nonce);
        a->nonce = NULL;
    }
    agent_record_result(l->series[a->ep], res, expected, 0);
    return expected;
}

/* A badNonce answer to the stored signed request: resend it (after a fresh nonce when the
 * answer carried none). Returns true when the resend is under way or failed (handled). */
static bool resend_bad_nonce(struct acme_actor *a, const struct http_result *res,
                             const char *problem)
{
    struct acme_loop *l = a->loop;
    if (l->stopping || res->error != HTTP_ERR_NONE || !a->post.url || a->step != a->post.step ||
        strcmp(problem, ACME_PROBLEM_BAD_NONCE) != 0 ||
        a->post.retries >= l->cfg->bad_nonce_retries)
        return false;
    a->post.retries++;
    l->counters.bad_nonce_retries++;
    acme_count(l, ACME_METRIC_BAD_NONCE_RETRIES, NULL);
    uint64_t now = clock_now_ns();
    int rc = a->nonce ? acme_post_now(a, now)
                      : acme_send_plain(a, "HEAD", a->dir.new_nonce, ACME_EP_NONCE, ACME_STEP_NONCE,
                                        now);
    if (rc != 0)
        acme_iteration_end(a, false, a->bad_reason[0] ? a->bad_reason : "send_failed");
    return true;
}

static void on_done(const struct http_result *res, void *arg)
{
    struct acme_actor *a = arg;
    a->loop->busy--;
    a->in_flight = false;
    char problem[ACME_PROBLEM_WORD_MAX];
    bool expected = measure(a, res, problem, sizeof problem);
    if (resend_bad_nonce(a, res, problem))
        return;
    acme_on_answer(a, res, expected, problem);
}

/* Sends one request on the actor's connection and accounts it as scheduled. */
static int send_req(struct acme_actor *a, const char *method, const char *path, const char *body,
                    enum acme_endpoint ep, enum acme_step step, uint64_t intended_ns)
{
    struct acme_loop *l = a->loop;
    const char *hdr = body ? l->hdr_post : l->hdr_get;
    struct http_request req = {method, path, hdr, body, body ? strlen(body) : 0, intended_ns};
    metrics_scheduled(l->series[ep]);
    int rc = http_conn_send(a->conn, &req, on_done, a);
    if (rc != 0) {
        struct request_timing t = {intended_ns, 0, 0, clock_now_ns(), 0, 0, 0};
        metrics_transport_error(l->series[ep], &t, METRICS_ERR_OTHER);
        snprintf(a->bad_reason, sizeof a->bad_reason, "send_failed");
        return -EIO;
    }
    a->in_flight = true;
    a->ep = ep;
    a->step = step;
    l->busy++;
    return 0;
}

int acme_send_plain(struct acme_actor *a, const char *method, const char *url,
                    enum acme_endpoint ep, enum acme_step step, uint64_t intended_ns)
{
    const char *path = acme_url_path(url, a->loop->tls, a->loop->authority);
    if (!path) {
        snprintf(a->bad_reason, sizeof a->bad_reason, "foreign_url");
        return -EINVAL;
    }
    return send_req(a, method, path, NULL, ep, step, intended_ns);
}

int acme_post_now(struct acme_actor *a, uint64_t intended_ns)
{
    if (!a->key && acme_actor_keygen(a) != 0) {
        snprintf(a->bad_reason, sizeof a->bad_reason, "keygen_failed");
        return -EIO;
    }
    char err[160];
    const char *payload = a->post.payload;
    char *jws = jose_jws_sign(a->key, a->post.use_jwk ? NULL : a->kid, a->nonce, a->post.url,
                              payload, strlen(payload), err, sizeof err);
    free(a->nonce); /* single use, whatever happens next */
    a->nonce = NULL;
    if (!jws) {
        snprintf(a->bad_reason, sizeof a->bad_reason, "sign_failed");
        return -EIO;
    }
    const char *path = acme_url_path(a->post.url, a->loop->tls, a->loop->authority);
    int rc = send_req(a, "POST", path, jws, a->post.ep, a->post.step, intended_ns);
    free(jws);
    return rc;
}

int acme_send_signed(struct acme_actor *a, const char *url, const char *payload, bool use_jwk,
                     enum acme_endpoint ep, enum acme_step step, uint64_t intended_ns)
{
    if (!url || !acme_url_path(url, a->loop->tls, a->loop->authority)) {
        snprintf(a->bad_reason, sizeof a->bad_reason, url ? "foreign_url" : "missing_url");
        return -EINVAL;
    }
    acme_post_clear(a);
    a->post.url = strdup(url);
    a->post.payload = strdup(payload);
    if (!a->post.url || !a->post.payload) {
        acme_post_clear(a);
        snprintf(a->bad_reason, sizeof a->bad_reason, "out_of_memory");
        return -ENOMEM;
    }
    a->post.ep = ep;
    a->post.step = step;
    a->post.use_jwk = use_jwk;
    if (a->nonce)
        return acme_post_now(a, intended_ns);
    return acme_send_plain(a, "HEAD", a->dir.new_nonce, ACME_EP_NONCE, ACME_STEP_NONCE,
                           intended_ns);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct acme_actor *a = arg;
    uint64_t now = clock_now_ns();
    if (now < a->timer_due_ns) { /* never send before the intended time */
        acme_arm(a, a->timer_what, a->timer_due_ns);
        return;
    }
    if (a->loop->stopping)
        return;
    if (a->timer_what == ACME_TIMER_POLL)
        acme_poll_due(a, a->timer_due_ns);
    else
        acme_begin(a, a->timer_due_ns);
}

void acme_timer_init(struct acme_actor *a)
{
    event_assign(&a->timer, a->loop->base, -1, 0, on_timer, a);
}

void acme_arm(struct acme_actor *a, enum acme_timer_what what, uint64_t due_ns)
{
    a->timer_what = what;
    a->timer_due_ns = due_ns;
    uint64_t now = clock_now_ns();
    uint64_t d = due_ns > now ? due_ns - now : 0;
    struct timeval tv = {(time_t)(d / CLOCK_NS_PER_S),
                         (suseconds_t)(d % CLOCK_NS_PER_S / CLOCK_NS_PER_US)};
    event_add(&a->timer, &tv);
}
