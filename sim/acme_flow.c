/* sim/acme_flow.c - the ACME actor's state machine (see acme.h): burst iterations (directory,
 * new-nonce, renewal-info) and full orders (directory and account once, then new-order, authz,
 * challenge when pending, polls until ready, finalize with a P-256 CSR, polls until valid,
 * certificate download and key check, renewal-info), their schedule (a fixed pace with one
 * waiting slot and drops, back-off after failed orders) and their outcome counters. */
#include "sim/acme_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"

#define HTTP_OK 200
#define HTTP_CREATED 201
#define HTTP_NO_CONTENT 204
#define HTTP_NOT_FOUND 404
#define ACCOUNT_PAYLOAD "{\"termsOfServiceAgreed\":true}"
#define CHALLENGE_PAYLOAD "{}"
#define POST_AS_GET ""

bool acme_step_expected(enum acme_step step, int status)
{
    switch (step) {
    case ACME_STEP_NONCE:
    case ACME_STEP_B_NONCE:
        return status == HTTP_OK || status == HTTP_NO_CONTENT;
    case ACME_STEP_B_RENEWAL:
        return status == HTTP_OK || status == HTTP_NOT_FOUND;
    case ACME_STEP_ACCOUNT:
        return status == HTTP_OK || status == HTTP_CREATED;
    case ACME_STEP_NEW_ORDER:
        return status == HTTP_CREATED;
    case ACME_STEP_NONE:
        return false;
    default:
        return status == HTTP_OK;
    }
}

/* Frees the state of the order in progress (the account, nonce and directory stay). */
static void order_reset(struct acme_actor *a)
{
    free(a->order_url);
    a->order_url = NULL;
    acme_order_info_clear(&a->order);
    a->authz_i = 0;
    a->challenged = false;
    a->polls = 0;
    a->counted = false;
    if (a->have_csr_key)
        csr_key_wipe(&a->csr_key);
    a->have_csr_key = false;
    acme_post_clear(a);
}

void acme_actor_release(struct acme_actor *a)
{
    if (event_initialized(&a->timer))
        event_del(&a->timer);
    order_reset(a);
    http_conn_free(a->conn);
    a->conn = NULL;
    EVP_PKEY_free(a->key);
    a->key = NULL;
    free(a->kid);
    a->kid = NULL;
    free(a->nonce);
    a->nonce = NULL;
    acme_directory_clear(&a->dir);
    a->have_dir = false;
}

/* Counts one schedule slot dropped (the previous iteration was still running). */
static void drop_slot(struct acme_actor *a)
{
    struct acme_loop *l = a->loop;
    enum acme_endpoint ep = l->cfg->mode == ACME_MODE_BURST ? ACME_EP_DIRECTORY : ACME_EP_ORDER;
    metrics_scheduled(l->series[ep]);
    metrics_dropped(l->series[ep]);
    l->counters.dropped++;
}

/* The delay after the n-th consecutive failed order (n >= 1): min * 2^(n-1), capped. */
static uint64_t backoff_ns(const struct acme_config *cfg, uint32_t n, uint64_t retry_after)
{
    uint64_t d = cfg->backoff_min_ns;
    for (uint32_t i = 1; i < n && d < cfg->backoff_max_ns; i++)
        d *= 2;
    if (d > cfg->backoff_max_ns)
        d = cfg->backoff_max_ns;
    return retry_after > d ? retry_after : d;
}

/* Arms the next iteration: the next slot of the pace (a late slot starts at once, keeping its
 * intended time, and the slots behind it are dropped), or after the back-off of a failed order. */
static void schedule_next(struct acme_actor *a, bool ok)
{
    const struct acme_config *cfg = a->loop->cfg;
    uint64_t now = clock_now_ns();
    if (cfg->mode == ACME_MODE_ORDER && !ok) {
        uint64_t due = now + backoff_ns(cfg, a->failures, a->retry_after_ns);
        a->cursor_ns = due;
        acme_arm(a, ACME_TIMER_BEGIN, due);
        return;
    }
    if (cfg->pace_ns == 0) {
        acme_arm(a, ACME_TIMER_BEGIN, now);
        return;
    }
    uint64_t slot = a->cursor_ns;
    if (slot <= now) {
        uint64_t next = slot + cfg->pace_ns;
        while (next <= now) {
            drop_slot(a);
            next += cfg->pace_ns;
        }
        a->cursor_ns = next;
    }
    acme_arm(a, ACME_TIMER_BEGIN, slot);
}

void acme_iteration_end(struct acme_actor *a, bool ok, const char *reason)
{
    struct acme_loop *l = a->loop;
    if (!a->in_iteration)
        return;
    bool order = l->cfg->mode == ACME_MODE_ORDER;
    a->in_iteration = false;
    if (ok) {
        if (!a->counted) {
            l->counters.completed++;
            acme_count(l, order ? METRIC_ACME_ORDERS_COMPLETED : ACME_METRIC_ITERATIONS, NULL);
        }
        a->failures = 0;
    } else {
        l->counters.failed++;
        acme_count(l, order ? ACME_METRIC_ORDERS_FAILED : ACME_METRIC_ITERATIONS_FAILED,
                   reason && *reason ? reason : "unknown");
        a->failures++;
    }
    order_reset(a);
    if (l->cfg->max_iterations && a->iterations >= l->cfg->max_iterations) {
        a->done = true;
        l->active--;
        return;
    }
    if (!l->stopping)
        schedule_next(a, ok);
}

void acme_iteration_abandon(struct acme_actor *a)
{
    struct acme_loop *l = a->loop;
    if (!a->in_iteration)
        return;
    a->in_iteration = false;
    if (!a->counted) {
        l->counters.abandoned++;
        if (l->cfg->mode == ACME_MODE_ORDER)
            acme_count(l, ACME_METRIC_ORDERS_ABANDONED, NULL);
    }
    order_reset(a);
}

void acme_actor_stop(struct acme_actor *a)
{
    if (event_initialized(&a->timer))
        event_del(&a->timer);
    if (!a->in_flight)
        acme_iteration_abandon(a);
}

/* The failure word of an unexpected answer: its problem type, else "status_<code>". */
static const char *answer_reason(const struct http_result *res, const char *problem, char *buf,
                                 size_t n)
{
    if (problem && *problem)
        return problem;
    snprintf(buf, n, "status_%d", res->status);
    return buf;
}

/* Ends the iteration as failed when rc != 0 (the send helpers left the reason). */
static void check_sent(struct acme_actor *a, int rc)
{
    if (rc != 0)
        acme_iteration_end(a, false, a->bad_reason[0] ? a->bad_reason : "send_failed");
}

/* ---- burst ---- */

static void burst_answer(struct acme_actor *a, const struct http_result *res, bool expected,
                         const char *problem)
{
    char buf[ACME_REASON_MAX];
    uint64_t now = clock_now_ns();
    if (!expected && !a->iteration_bad) {
        a->iteration_bad = true;
        snprintf(a->bad_reason, sizeof a->bad_reason, "%s",
                 answer_reason(res, problem, buf, sizeof buf));
    }
    switch (a->step) {
    case ACME_STEP_B_DIRECTORY: {
        struct acme_directory d;
        if (!expected || acme_directory_parse(res->body, res->body_len, &d, NULL, 0) != 0) {
            acme_iteration_end(a, false, expected ? "bad_directory" : a->bad_reason);
            return;
        }
        acme_directory_clear(&a->dir);
        a->dir = d;
        a->have_dir = true;
        check_sent(
            a, acme_send_plain(a, "HEAD", a->dir.new_nonce, ACME_EP_NONCE, ACME_STEP_B_NONCE, now));
        return;
    }
    case ACME_STEP_B_NONCE:
        if (a->dir.renewal_info) {
            char url[ACME_URL_MAX];
            snprintf(url, sizeof url, "%s/%s", a->dir.renewal_info, ACME_BURST_RENEWAL_ID);
            check_sent(
                a, acme_send_plain(a, "GET", url, ACME_EP_RENEWAL_INFO, ACME_STEP_B_RENEWAL, now));
            return;
        }
        break;
    default:
        break;
    }
    acme_iteration_end(a, !a->iteration_bad, a->bad_reason);
}

/* ---- order ---- */

static void send_new_order(struct acme_actor *a, uint64_t intended_ns)
{
    char payload[ACME_NAME_MAX + 64];
    snprintf(payload, sizeof payload, "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"%s\"}]}",
             a->name);
    check_sent(a, acme_send_signed(a, a->dir.new_order, payload, false, ACME_EP_ORDER,
                                   ACME_STEP_NEW_ORDER, intended_ns));
}

/* After the directory: the account once, then the order. */
static void order_continue(struct acme_actor *a, uint64_t intended_ns)
{
    if (!a->kid)
        check_sent(a, acme_send_signed(a, a->dir.new_account, ACCOUNT_PAYLOAD, true,
                                       ACME_EP_ACCOUNT, ACME_STEP_ACCOUNT, intended_ns));
    else
        send_new_order(a, intended_ns);
}

static void order_begin(struct acme_actor *a, uint64_t intended_ns)
{
    const struct acme_config *cfg = a->loop->cfg;
    order_reset(a);
    a->order_seq++;
    snprintf(a->name, sizeof a->name, "acme-%05u-%u.%s", a->index, a->order_seq,
             cfg->domain_suffix ? cfg->domain_suffix : ACME_DEFAULT_DOMAIN_SUFFIX);
    if (!a->have_dir)
        check_sent(a, acme_send_plain(a, "GET", cfg->directory_url, ACME_EP_DIRECTORY,
                                      ACME_STEP_DIRECTORY, intended_ns));
    else
        order_continue(a, intended_ns);
}

void acme_begin(struct acme_actor *a, uint64_t intended_ns)
{
    struct acme_loop *l = a->loop;
    if (l->stopping || a->done || a->in_iteration)
        return;
    a->in_iteration = true;
    a->iteration_bad = false;
    a->bad_reason[0] = '\0';
    a->iterations++;
    l->counters.started++;
    if (l->cfg->pace_ns && a->cursor_ns <= intended_ns)
        a->cursor_ns = intended_ns + l->cfg->pace_ns;
    if (l->cfg->mode == ACME_MODE_BURST)
        check_sent(a, acme_send_plain(a, "GET", l->cfg->directory_url, ACME_EP_DIRECTORY,
                                      ACME_STEP_B_DIRECTORY, intended_ns));
    else
        order_begin(a, intended_ns);
}

/* Schedules the next poll of the order (a doubling delay, or the server's Retry-After). */
static void schedule_poll(struct acme_actor *a, enum acme_step step)
{
    const struct acme_config *cfg = a->loop->cfg;
    if (a->polls >= cfg->polls_max) {
        acme_iteration_end(a, false, "poll_limit");
        return;
    }
    uint64_t d = cfg->poll_base_ns;
    for (uint32_t i = 0; i < a->polls && d < cfg->poll_max_ns; i++)
        d *= 2;
    if (a->retry_after_ns)
        d = a->retry_after_ns;
    if (d > cfg->poll_max_ns)
        d = cfg->poll_max_ns;
    a->polls++;
    a->poll_step = step;
    acme_arm(a, ACME_TIMER_POLL, clock_now_ns() + d);
}

void acme_poll_due(struct acme_actor *a, uint64_t intended_ns)
{
    if (!a->in_iteration)
        return;
    check_sent(a, acme_send_signed(a, a->order_url, POST_AS_GET, false, ACME_EP_ORDER, a->poll_step,
                                   intended_ns));
}

static void send_finalize(struct acme_actor *a, uint64_t now)
{
    char *pem = NULL;
    const char *sans[] = {a->name};
    if (csr_generate(a->loop->csr, a->name, sans, 1, &a->csr_key, &pem, NULL) != 0) {
        acme_iteration_end(a, false, "csr_failed");
        return;
    }
    a->have_csr_key = true;
    char *b64 = acme_csr_b64url_from_pem(pem, strlen(pem));
    free(pem);
    size_t n = b64 ? strlen(b64) + 16 : 0;
    char *payload = b64 ? malloc(n) : NULL;
    if (!payload) {
        free(b64);
        acme_iteration_end(a, false, "csr_failed");
        return;
    }
    snprintf(payload, n, "{\"csr\":\"%s\"}", b64);
    free(b64);
    a->polls = 0;
    check_sent(a, acme_send_signed(a, a->order.finalize, payload, false, ACME_EP_FINALIZE,
                                   ACME_STEP_FINALIZE, now));
    free(payload);
}

/* Authorizations one by one: fetch each, answer its challenge when pending. */
static void next_authz(struct acme_actor *a, uint64_t now)
{
    if (a->authz_i < a->order.n_authz) {
        check_sent(a, acme_send_signed(a, a->order.authz[a->authz_i], POST_AS_GET, false,
                                       ACME_EP_AUTHZ, ACME_STEP_AUTHZ, now));
        return;
    }
    if (a->order.status == ACME_ST_READY && !a->challenged)
        send_finalize(a, now);
    else {
        a->polls = 0;
        schedule_poll(a, ACME_STEP_POLL_READY);
    }
}

/* Replaces the actor's order object by the one in the answer; false when it is malformed. */
static bool take_order(struct acme_actor *a, const struct http_result *res)
{
    struct acme_order_info o;
    if (acme_order_info_parse(res->body, res->body_len, &o, NULL, 0) != 0)
        return false;
    acme_order_info_clear(&a->order);
    a->order = o;
    return true;
}

/* The order object after a poll or finalize: on to the next step, or poll again. */
static void order_progress(struct acme_actor *a, uint64_t now)
{
    switch (a->order.status) {
    case ACME_ST_READY:
        if (a->step == ACME_STEP_POLL_READY)
            send_finalize(a, now);
        else
            schedule_poll(a, ACME_STEP_POLL_VALID);
        return;
    case ACME_ST_VALID:
        if (!a->order.certificate) {
            acme_iteration_end(a, false, "no_certificate_url");
            return;
        }
        check_sent(a, acme_send_signed(a, a->order.certificate, POST_AS_GET, false, ACME_EP_CERT,
                                       ACME_STEP_CERT, now));
        return;
    case ACME_ST_PENDING:
    case ACME_ST_PROCESSING:
        schedule_poll(a, a->step == ACME_STEP_POLL_READY ? ACME_STEP_POLL_READY
                                                         : ACME_STEP_POLL_VALID);
        return;
    default:
        acme_iteration_end(a, false, "order_invalid");
        return;
    }
}

static void on_authz(struct acme_actor *a, const struct http_result *res, uint64_t now)
{
    struct acme_authz_info z;
    if (acme_authz_info_parse(res->body, res->body_len, &z, NULL, 0) != 0) {
        acme_iteration_end(a, false, "bad_authz");
        return;
    }
    if (z.status == ACME_ST_VALID) {
        a->authz_i++;
        next_authz(a, now);
    } else if (z.status == ACME_ST_PENDING && z.challenge) {
        check_sent(a, acme_send_signed(a, z.challenge, CHALLENGE_PAYLOAD, false, ACME_EP_CHALLENGE,
                                       ACME_STEP_CHALLENGE, now));
    } else {
        acme_iteration_end(a, false,
                           z.status == ACME_ST_PENDING ? "no_challenge" : "authz_invalid");
    }
    acme_authz_info_clear(&z);
}

/* The certificate chain: check it carries the CSR's key, hand it on, then renewal-info. */
static void on_cert(struct acme_actor *a, const struct http_result *res, uint64_t now)
{
    struct acme_loop *l = a->loop;
    int m = csr_cert_matches_key(res->body, res->body_len, &a->csr_key);
    if (m != 1) {
        acme_iteration_end(a, false, m == 0 ? "key_mismatch" : "bad_certificate");
        return;
    }
    l->counters.completed++;
    acme_count(l, METRIC_ACME_ORDERS_COMPLETED, NULL);
    a->counted = true;
    if (l->cfg->on_cert)
        l->cfg->on_cert(l->cfg->on_cert_arg, a->index, res->body, res->body_len);
    char id[ACME_RENEWAL_ID_MAX], url[ACME_URL_MAX];
    if (!a->dir.renewal_info) {
        l->counters.renewal_info_skipped++;
    } else if (acme_renewal_id(res->body, res->body_len, id, sizeof id) != 0) {
        l->counters.renewal_info_failed++;
    } else {
        snprintf(url, sizeof url, "%s/%s", a->dir.renewal_info, id);
        if (acme_send_plain(a, "GET", url, ACME_EP_RENEWAL_INFO, ACME_STEP_RENEWAL, now) == 0)
            return;
        l->counters.renewal_info_failed++;
    }
    acme_iteration_end(a, true, NULL);
}

static void order_answer(struct acme_actor *a, const struct http_result *res, bool expected,
                         const char *problem)
{
    struct acme_loop *l = a->loop;
    uint64_t now = clock_now_ns();
    char buf[ACME_REASON_MAX];
    if (a->step == ACME_STEP_RENEWAL) {
        if (expected)
            l->counters.renewal_info_ok++;
        else
            l->counters.renewal_info_failed++;
        acme_iteration_end(a, true, NULL);
        return;
    }
    if (!expected) {
        acme_iteration_end(a, false, answer_reason(res, problem, buf, sizeof buf));
        return;
    }
    const char *loc = http_result_header(res, "Location");
    switch (a->step) {
    case ACME_STEP_NONCE:
        if (!a->nonce)
            acme_iteration_end(a, false, "no_nonce");
        else
            check_sent(a, acme_post_now(a, now));
        return;
    case ACME_STEP_DIRECTORY:
        if (acme_directory_parse(res->body, res->body_len, &a->dir, NULL, 0) != 0) {
            acme_iteration_end(a, false, "bad_directory");
            return;
        }
        a->have_dir = true;
        order_continue(a, now);
        return;
    case ACME_STEP_ACCOUNT:
        if (!loc || !(a->kid = strdup(loc))) {
            acme_iteration_end(a, false, "no_location");
            return;
        }
        l->counters.accounts_created++;
        send_new_order(a, now);
        return;
    case ACME_STEP_NEW_ORDER:
        if (!loc || !take_order(a, res) || !(a->order_url = strdup(loc))) {
            acme_iteration_end(a, false, loc ? "bad_order" : "no_location");
            return;
        }
        a->authz_i = 0;
        next_authz(a, now);
        return;
    case ACME_STEP_AUTHZ:
        on_authz(a, res, now);
        return;
    case ACME_STEP_CHALLENGE:
        a->challenged = true;
        a->authz_i++;
        next_authz(a, now);
        return;
    case ACME_STEP_POLL_READY:
    case ACME_STEP_FINALIZE:
    case ACME_STEP_POLL_VALID:
        if (!take_order(a, res)) {
            acme_iteration_end(a, false, "bad_order");
            return;
        }
        if (a->step == ACME_STEP_FINALIZE)
            a->polls = 0;
        order_progress(a, now);
        return;
    case ACME_STEP_CERT:
        on_cert(a, res, now);
        return;
    default:
        acme_iteration_end(a, false, "internal");
        return;
    }
}

void acme_on_answer(struct acme_actor *a, const struct http_result *res, bool expected,
                    const char *problem)
{
    if (res->error != HTTP_ERR_NONE) {
        if (a->loop->cfg->mode == ACME_MODE_BURST && !a->iteration_bad)
            a->iteration_bad = true;
        acme_iteration_end(
            a, false, res->error == HTTP_ERR_TIMEOUT ? "timeout" : http_error_name(res->error));
        return;
    }
    if (a->loop->stopping) {
        acme_iteration_abandon(a);
        return;
    }
    if (a->loop->cfg->mode == ACME_MODE_BURST)
        burst_answer(a, res, expected, problem);
    else
        order_answer(a, res, expected, problem);
}
