/* sim/agent.c - one agent's timers, request queue, connection and measurement (see agent.h).
 * Timers are anchored on intended times (never on when a callback ran); a loop keeps its
 * agents in one due-time queue woken by one timerfd at slot ends, so agents due together share
 * a wake-up; a wake-up before an agent's time leaves it queued for the remainder. Each kind of
 * request has at most one waiting or in flight: a later one is dropped and counted. Job work
 * lives in sim/agent_work.c. */
#include "sim/agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/text_out.h"
#include "sim/agent_internal.h"
#include "sim/agent_work.h"

#define NS_PER_S 1000000000ULL

const char *agent_endpoint_name(enum agent_endpoint ep)
{
    return (unsigned)ep < AGENT_EP_COUNT ? sim_endpoint_name((enum sim_endpoint)ep) : "other";
}

bool agent_status_expected(enum agent_endpoint ep, int status)
{
    return ep == AGENT_EP_CSR ? status == 202 : status == 200;
}

const char *agent_profile_name(enum agent_profile profile)
{
    return profile == AGENT_PROFILE_CERTCTL_1_0 ? "certctl-1.0" : "default";
}

void agent_settings_profile(struct agent_settings *set, enum agent_profile profile)
{
    memset(set, 0, sizeof *set);
    set->scenario = "default";
    set->prefix = IDENTITY_DEFAULT_PREFIX;
    set->os_mix = identity_default_os_mix();
    set->base_path = "";
    set->api_key = "";
    set->profile = profile;
    set->verify_wait_ns = AGENT_VERIFY_WAIT_NS;
    set->probe_min_ns = AGENT_PROBE_MIN_DEFAULT_NS;
    set->probe_max_ns = AGENT_PROBE_MAX_DEFAULT_NS;
    set->probe_timeout_ns = AGENT_PROBE_TIMEOUT_NS;
    set->user_agent = AGENT_USER_AGENT_GO; /* every profile: the real agent's Go client */
    set->accept_gzip = true;
    if (profile == AGENT_PROFILE_CERTCTL_1_0) {
        /* the real agent (docs/certctl.md, "The agent"): 60 s heartbeat, 30 s poll, both at
         * start, no jitter. */
        set->heartbeat = (struct schedule_params){60 * NS_PER_S, 0, 60 * NS_PER_S, true, 0};
        set->poll = (struct schedule_params){30 * NS_PER_S, 0, 60 * NS_PER_S, true, 0};
        set->poll_backoff = true;
        set->version = AGENT_VERSION_CERTCTL_1_0;
        set->content_type_on_get = true;
        agent_settings_timer_slot(set, AGENT_TIMER_SLOT_DEFAULT_NS);
        return;
    }
    set->heartbeat = (struct schedule_params){30 * NS_PER_S, 10.0, 30 * NS_PER_S, false, 0};
    set->poll = (struct schedule_params){30 * NS_PER_S, 10.0, 30 * NS_PER_S, false, 0};
    set->version = AGENT_VERSION_DEFAULT;
    agent_settings_timer_slot(set, AGENT_TIMER_SLOT_DEFAULT_NS);
}

void agent_settings_timer_slot(struct agent_settings *set, uint64_t slot_ns)
{
    set->timer_slot_ns = slot_ns;
    set->heartbeat.grid_ns = set->poll.grid_ns = slot_ns;
}

void agent_settings_local_ip(struct agent_settings *set, const struct http_conn_config *cc)
{
    set->local_ip[0] = '\0';
    int fd = socket(cc->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    if (connect(fd, (const struct sockaddr *)&cc->addr, cc->addr_len) == 0 &&
        getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
        const void *a = local.ss_family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)&local)->sin6_addr
                            : (const void *)&((struct sockaddr_in *)&local)->sin_addr;
        if (!inet_ntop(local.ss_family, a, set->local_ip, sizeof set->local_ip))
            set->local_ip[0] = '\0';
    }
    close(fd);
}

char *agent_headers(const struct agent_settings *set, bool content_type)
{
    const char *key = set->api_key ? set->api_key : "";
    size_t n = strlen(set->user_agent) + strlen(key) + 128;
    char *h = malloc(n);
    if (!h)
        return NULL;
    int len = snprintf(h, n, "User-Agent: %s\r\n", set->user_agent);
    if (set->accept_gzip)
        len += snprintf(h + len, n - (size_t)len, "Accept-Encoding: gzip\r\n");
    if (*key)
        len += snprintf(h + len, n - (size_t)len, "Authorization: Bearer %s\r\n", key);
    if (content_type)
        snprintf(h + len, n - (size_t)len, "Content-Type: application/json\r\n");
    return h;
}

static void loop_pool_init(struct agent_loop *l)
{
    for (uint32_t j = 0; j < l->pool_size; j++) {
        l->pool[j] = http_conn_new(l->base, l->conn_cfg);
        if (l->set->source_count > 0 && l->pool[j]) {
            struct in_addr src = {htonl(l->set->source_first + j % l->set->source_count)};
            http_conn_set_source_ipv4(l->pool[j], &src);
        }
        l->pool_free[l->n_pool_free++] = l->pool_size - 1 - j;
    }
}

static void loop_on_timer(evutil_socket_t fd, short what, void *arg);

int agent_loop_init(struct agent_loop *l, struct event_base *base, const struct agent_settings *set,
                    const struct http_conn_config *conn_cfg, struct metrics *metrics,
                    uint32_t pool_size)
{
    memset(l, 0, sizeof *l);
    l->timer_fd = -1;
    schedule_queue_init(&l->timers);
    l->timer_slot_ns = set->timer_slot_ns;
    l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->timer_fd < 0)
        return -errno;
    l->timer_ev = event_new(base, l->timer_fd, EV_READ | EV_PERSIST, loop_on_timer, l);
    if (!l->timer_ev || event_add(l->timer_ev, NULL) != 0) {
        agent_loop_destroy(l);
        return -ENOMEM;
    }
    l->base = base;
    l->set = set;
    l->conn_cfg = conn_cfg;
    l->metrics = metrics;
    /* the heartbeat series always exists (the others appear when first used) */
    l->series[AGENT_EP_HEARTBEAT] = metrics_series(metrics, set->scenario, SIM_ACTOR_AGENT,
                                                   sim_endpoint_name(SIM_EP_HEARTBEAT));
    if (!l->series[AGENT_EP_HEARTBEAT])
        return -ENOMEM;
    l->hdr_get = agent_headers(set, set->content_type_on_get);
    l->hdr_post = agent_headers(set, true);
    l->csr = csr_gen_new();
    l->csr_ev = evtimer_new(base, agent_work_csr_cb, l);
    if (!l->hdr_get || !l->hdr_post || !l->csr_ev) {
        agent_loop_destroy(l);
        return -ENOMEM;
    }
    if (!l->csr) {
        agent_loop_destroy(l);
        return -EIO;
    }
    if (pool_size > 0) {
        l->pool_size = pool_size;
        l->pool = calloc(pool_size, sizeof *l->pool);
        l->pool_free = calloc(pool_size, sizeof *l->pool_free);
        if (!l->pool || !l->pool_free) {
            agent_loop_destroy(l);
            return -ENOMEM;
        }
        loop_pool_init(l);
        for (uint32_t j = 0; j < pool_size; j++)
            if (!l->pool[j]) {
                agent_loop_destroy(l);
                return -ENOMEM;
            }
    }
    return 0;
}

/* Overwrites and frees a header string (it holds the API key). */
static void free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void agent_loop_destroy(struct agent_loop *l)
{
    if (l->timer_ev)
        event_free(l->timer_ev);
    if (l->timer_fd >= 0)
        close(l->timer_fd);
    l->timer_ev = NULL;
    l->timer_fd = -1;
    schedule_queue_free(&l->timers);
    for (uint32_t j = 0; l->pool && j < l->pool_size; j++)
        http_conn_free(l->pool[j]);
    free(l->pool);
    free(l->pool_free);
    if (l->csr_ev)
        event_free(l->csr_ev);
    csr_gen_free(l->csr);
    free_secret(l->hdr_get);
    free_secret(l->hdr_post);
    l->pool = NULL;
    l->pool_free = NULL;
    l->csr_ev = NULL;
    l->csr = NULL;
    l->hdr_get = l->hdr_post = NULL;
}

int agent_id(const struct agent_settings *set, uint32_t index, char *buf, size_t n)
{
    if (set->agent_ids && index > 0 && set->agent_ids[index - 1]) {
        struct text_out o = text_out_start(buf, n);
        text_out_str(&o, set->agent_ids[index - 1]);
        return text_out_end(&o);
    }
    return identity_agent_id(buf, n, set->prefix, index);
}

uint32_t agent_source_ipv4(const struct agent_settings *set, uint32_t index)
{
    if (set->source_count == 0 || index == 0)
        return 0;
    return set->source_first + (index - 1) % set->source_count;
}

int agent_heartbeat_body(const struct agent_settings *set, uint32_t index, char *buf, size_t n)
{
    struct identity_agent_meta meta;
    identity_agent_meta(set->seed, index, &set->os_mix, &meta);
    char host[IDENTITY_NAME_MAX];
    if (identity_agent_hostname(host, sizeof host, set->prefix, index) < 0)
        return -ENOSPC;
    char ip[sizeof set->local_ip];
    uint32_t src = agent_source_ipv4(set, index);
    struct text_out ipo = text_out_start(ip, sizeof ip);
    text_out_str(&ipo, set->local_ip);
    text_out_end(&ipo);
    if (src) {
        struct in_addr a = {htonl(src)};
        inet_ntop(AF_INET, &a, ip, sizeof ip);
    }
    /* sent with every heartbeat: assembled without printf (engine/text_out.h) */
    struct text_out o = text_out_start(buf, n);
    text_out_str(&o, "{\"architecture\":\"");
    text_out_str(&o, meta.architecture);
    text_out_str(&o, "\",\"hostname\":\"");
    text_out_str(&o, host);
    text_out_str(&o, "\",\"ip_address\":\"");
    text_out_str(&o, ip);
    text_out_str(&o, "\",\"os\":\"");
    text_out_str(&o, meta.os);
    text_out_str(&o, "\",\"version\":\"");
    text_out_str(&o, set->version);
    text_out_str(&o, "\"}");
    return text_out_end(&o);
}

static void agent_on_timer(evutil_socket_t fd, short what, void *arg);

void agent_init(struct agent *a, struct agent_loop *l, uint32_t index)
{
    memset(a, 0, sizeof *a);
    a->loop = l;
    a->index = index;
    a->rng = schedule_rng_seed(l->set->seed, index, SCHEDULE_RECONNECT);
    a->hb.next_ns = a->poll.next_ns = UINT64_MAX;
}

/* The end of the wake-up slot holding t_ns; slots are counted from the run start, so
 * intended times on the schedule's grid wake the loop exactly when they are due. */
static uint64_t loop_slot_end_ns(const struct agent_loop *l, uint64_t t_ns)
{
    uint64_t start = l->run_start_ns;
    if (t_ns <= start)
        return t_ns;
    uint64_t end = schedule_slot_end_ns(t_ns - start, l->timer_slot_ns);
    return end > UINT64_MAX - start ? UINT64_MAX : start + end;
}

/* Sets the loop's timerfd for the end of the slot holding the first due time (disarms it when
 * the queue is empty). Only a change costs a syscall; during a timer wake-up it waits until
 * the wake-up's end. A removed first entry is noticed here or, at the latest, by a wake-up that
 * finds nothing due and re-arms. */
static void loop_timer_update(struct agent_loop *l)
{
    if (l->timer_batch_ns)
        return;
    const struct schedule_entry *first = schedule_queue_first(&l->timers);
    uint64_t want = first ? loop_slot_end_ns(l, first->due_ns) : 0;
    if (want == l->timer_armed_ns)
        return;
    struct itimerspec its = {{0, 0}, {(time_t)(want / NS_PER_S), (long)(want % NS_PER_S)}};
    timerfd_settime(l->timer_fd, want ? TFD_TIMER_ABSTIME : 0, &its, NULL);
    l->timer_armed_ns = want;
}

static struct agent *agent_of_entry(struct schedule_entry *e)
{
    return (struct agent *)((char *)e - offsetof(struct agent, due));
}

/* The loop's timerfd fired: every agent due by now runs, in due-time order. An agent that
 * re-arms for a time at or before now waits for the next wake-up (no endless batch). */
static void loop_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct agent_loop *l = arg;
    uint64_t now = clock_now_ns();
    l->timer_batch_ns = now;
    struct schedule_entry *e;
    while ((e = schedule_queue_pop_due(&l->timers, now)))
        agent_on_timer(0, EV_TIMEOUT, agent_of_entry(e));
    l->timer_batch_ns = 0;
    l->timer_armed_ns = UINT64_MAX; /* expired (and readable): always set it again */
    loop_timer_update(l);
}

/* Queues the agent for the earliest thing it waits for (none: out of the queue). */
static void agent_arm(struct agent *a)
{
    uint64_t next = UINT64_MAX, start = a->loop->run_start_ns;
    if (!a->stopped && !a->retired) {
        if (a->hb.next_ns != UINT64_MAX)
            next = start + a->hb.next_ns;
        if (a->poll.next_ns != UINT64_MAX && start + a->poll.next_ns < next)
            next = start + a->poll.next_ns;
        if (a->poll_due_ns && a->poll_due_ns < next)
            next = a->poll_due_ns;
    }
    if (!a->retired && !a->inflight && a->hold_until_ns && a->hold_until_ns < next &&
        agent_pending(a) > 0)
        next = a->hold_until_ns;
    struct agent_loop *l = a->loop;
    if (next == UINT64_MAX) {
        if (a->due.queued) {
            schedule_queue_remove(&l->timers, &a->due);
            loop_timer_update(l);
        }
        return;
    }
    if (l->timer_batch_ns && next <= l->timer_batch_ns)
        next = l->timer_batch_ns + 1; /* the next wake-up, not this one */
    if (a->due.queued && a->due.due_ns == next)
        return;
    if (schedule_queue_set(&l->timers, &a->due, next) != 0) {
        /* not started (no place reserved): take one now */
        if (schedule_queue_reserve(&l->timers) != 0)
            return;
        schedule_queue_set(&l->timers, &a->due, next);
    }
    loop_timer_update(l);
}

int agent_start(struct agent *a)
{
    struct agent_loop *l = a->loop;
    const struct agent_settings *set = l->set;
    if (!a->started && schedule_queue_reserve(&l->timers) != 0)
        return -ENOMEM;
    schedule_timer_init(&a->hb, set->seed, a->index, SCHEDULE_HEARTBEAT, &set->heartbeat);
    schedule_timer_init(&a->poll, set->seed, a->index, SCHEDULE_POLL, &set->poll);
    a->started = true;
    agent_arm(a);
    return 0;
}

/* The series of endpoint ep, created on first use (the heartbeat one if that fails, so a
 * request is never left unaccounted). */
static struct metrics_series *series_of(struct agent_loop *l, enum agent_endpoint ep)
{
    if (!l->series[ep])
        l->series[ep] =
            metrics_series(l->metrics, l->set->scenario, SIM_ACTOR_AGENT, agent_endpoint_name(ep));
    return l->series[ep] ? l->series[ep] : l->series[AGENT_EP_HEARTBEAT];
}

bool agent_schedule(struct agent *a, enum agent_kind kind, enum agent_endpoint ep,
                    uint64_t intended_ns)
{
    struct agent_loop *l = a->loop;
    struct metrics_series *s = series_of(l, ep);
    metrics_scheduled(s);
    if (a->slot[kind] != AGENT_SLOT_IDLE) {
        metrics_dropped(s);
        return false;
    }
    a->slot[kind] = AGENT_SLOT_WAITING;
    a->wait_intended_ns[kind] = intended_ns;
    if (kind == AGENT_KIND_JOB)
        a->job_ep = (uint8_t)ep;
    l->busy++;
    return true;
}

/* Turns every timer that is due at now into a scheduled request. */
static void agent_take_due(struct agent *a, uint64_t now)
{
    const struct agent_settings *set = a->loop->set;
    uint64_t start = a->loop->run_start_ns;
    while (a->hb.next_ns != UINT64_MAX && start + a->hb.next_ns <= now) {
        agent_schedule(a, AGENT_KIND_HEARTBEAT, AGENT_EP_HEARTBEAT, start + a->hb.next_ns);
        schedule_timer_advance(&a->hb, &set->heartbeat, 0);
    }
    while (a->poll.next_ns != UINT64_MAX && start + a->poll.next_ns <= now) {
        uint64_t tick = start + a->poll.next_ns;
        uint64_t backoff = set->poll_backoff
                               ? schedule_poll_backoff_ns(a->failures, AGENT_POLL_BACKOFF_STEP_NS,
                                                          AGENT_POLL_BACKOFF_MAX_NS)
                               : 0;
        if (backoff == 0 && !a->poll_due_ns)
            agent_schedule(a, AGENT_KIND_POLL, AGENT_EP_WORK, tick);
        else if (!a->poll_due_ns)
            a->poll_due_ns = tick + backoff; /* the real agent sleeps, then polls */
        /* ticks while the agent sleeps before a delayed poll are swallowed, as in Go */
        schedule_timer_advance(&a->poll, &set->poll, 0);
    }
    if (a->poll_due_ns && a->poll_due_ns <= now) {
        agent_schedule(a, AGENT_KIND_POLL, AGENT_EP_WORK, a->poll_due_ns);
        a->poll_due_ns = 0;
    }
}

static void agent_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct agent *a = arg;
    if (!a->stopped && !a->retired)
        agent_take_due(a, clock_now_ns());
    agent_kick(a);
}

/* The waiting kind with the earliest intended time, or -1. */
static int next_waiting(const struct agent *a)
{
    int best = -1;
    for (int k = 0; k < AGENT_KIND_COUNT; k++)
        if (a->slot[k] == AGENT_SLOT_WAITING &&
            (best < 0 || a->wait_intended_ns[k] < a->wait_intended_ns[best]))
            best = k;
    return best;
}

/* A connection for the agent's next request: its own (made on first use), or an idle pool
 * connection. NULL with *queued set when it must wait for the pool, NULL alone on failure. */
static struct http_conn *agent_acquire(struct agent *a, bool *queued)
{
    struct agent_loop *l = a->loop;
    *queued = false;
    if (!l->pool) {
        if (!a->conn) {
            a->conn = http_conn_new(l->base, l->conn_cfg);
            uint32_t src = agent_source_ipv4(l->set, a->index);
            if (a->conn && src) {
                struct in_addr in = {htonl(src)};
                http_conn_set_source_ipv4(a->conn, &in);
            }
        }
        return a->conn;
    }
    if (l->n_pool_free == 0) {
        if (!a->in_pool_wait) {
            a->in_pool_wait = true;
            a->next_wait = NULL;
            if (l->pool_tail)
                l->pool_tail->next_wait = a;
            else
                l->pool_head = a;
            l->pool_tail = a;
        }
        *queued = true;
        return NULL;
    }
    a->pool_slot = l->pool_free[--l->n_pool_free];
    a->conn = l->pool[a->pool_slot];
    return a->conn;
}

/* Gives a borrowed pool connection back. */
static void agent_release(struct agent *a)
{
    struct agent_loop *l = a->loop;
    if (!l->pool || !a->conn)
        return;
    l->pool_free[l->n_pool_free++] = a->pool_slot;
    a->conn = NULL;
}

/* Fills req for the waiting request of kind (path and small bodies in the loop's scratch). */
static int agent_build(struct agent *a, enum agent_kind kind, struct http_request *req)
{
    struct agent_loop *l = a->loop;
    char id[AGENT_ID_MAX];
    if (kind == AGENT_KIND_JOB)
        return agent_work_request(a, req);
    if (agent_id(l->set, a->index, id, sizeof id) < 0)
        return -ENOSPC;
    const char *what = kind == AGENT_KIND_HEARTBEAT ? "heartbeat" : "work";
    struct text_out path = text_out_start(l->scratch, AGENT_PATH_BYTES);
    text_out_str(&path, l->set->base_path ? l->set->base_path : "");
    text_out_str(&path, "/api/v1/agents/");
    text_out_str(&path, id);
    text_out_add(&path, "/", 1);
    text_out_str(&path, what);
    if (text_out_end(&path) < 0)
        return -ENOSPC;
    req->path = l->scratch;
    if (kind == AGENT_KIND_POLL) {
        req->method = "GET";
        req->headers = l->hdr_get;
        return 0;
    }
    char *body = l->scratch + AGENT_PATH_BYTES;
    int len = agent_heartbeat_body(l->set, a->index, body, AGENT_SCRATCH_BYTES - AGENT_PATH_BYTES);
    if (len < 0)
        return len;
    req->method = "POST";
    req->headers = l->hdr_post;
    req->body = body;
    req->body_len = (size_t)len;
    return 0;
}

static void agent_on_done(const struct http_result *res, void *arg);
static void agent_finish(struct agent *a, enum agent_kind kind, const struct http_result *res);

/* Ends the waiting request of kind without sending it (local failure). */
static void agent_fail_local(struct agent *a, enum agent_kind kind)
{
    uint64_t now = clock_now_ns();
    struct http_result res = {.error = HTTP_ERR_OTHER,
                              .detail = "local failure",
                              .body = "",
                              .intended_ns = a->wait_intended_ns[kind],
                              .done_ns = now};
    if (res.intended_ns > now)
        res.intended_ns = now;
    agent_finish(a, kind, &res);
}

/* Sends the earliest waiting request when the agent's connection (or a pool one) is free. */
static void agent_pump(struct agent *a)
{
    if (a->retired || a->inflight)
        return;
    int kind = next_waiting(a);
    if (kind < 0 || a->hold_until_ns > clock_now_ns())
        return;
    if (a->hold_until_ns > a->free_ns)
        a->free_ns = a->hold_until_ns; /* the server's failure kept the agent back until then */
    a->hold_until_ns = 0; /* the back-off is over: no timer for it (e.g. while pool-waiting) */
    bool queued;
    struct http_conn *conn = agent_acquire(a, &queued);
    if (!conn) {
        if (!queued)
            agent_fail_local(a, (enum agent_kind)kind);
        return;
    }
    struct http_request req = {0};
    int rc = agent_build(a, (enum agent_kind)kind, &req);
    if (rc == 0) {
        req.intended_ns = a->wait_intended_ns[kind];
        rc = http_conn_send(conn, &req, agent_on_done, a);
    }
    if (rc != 0) {
        agent_release(a);
        agent_fail_local(a, (enum agent_kind)kind);
        return;
    }
    a->slot[kind] = AGENT_SLOT_IN_FLIGHT;
    a->inflight = true;
    a->inflight_kind = (uint8_t)kind;
    a->inflight_ready_ns = a->free_ns;
}

/* Hands free pool connections to agents waiting for one, in arrival order. */
static void pool_dispatch(struct agent_loop *l)
{
    while (l->n_pool_free > 0 && l->pool_head) {
        struct agent *a = l->pool_head;
        l->pool_head = a->next_wait;
        if (!l->pool_head)
            l->pool_tail = NULL;
        a->in_pool_wait = false;
        a->next_wait = NULL;
        if (l->pool_freed_ns > a->free_ns)
            a->free_ns = l->pool_freed_ns; /* it waited for a connection the server held */
        if (!a->retired) {
            agent_pump(a);
            agent_arm(a);
        }
    }
}

void agent_kick(struct agent *a)
{
    agent_pump(a);
    agent_arm(a);
}

static enum metrics_error_kind error_kind(enum http_error e)
{
    switch (e) {
    case HTTP_ERR_CONNECT:
        return METRICS_ERR_CONNECT;
    case HTTP_ERR_TLS:
        return METRICS_ERR_TLS;
    case HTTP_ERR_CLOSED:
        return METRICS_ERR_CLOSED;
    case HTTP_ERR_PROTOCOL:
        return METRICS_ERR_PROTOCOL;
    case HTTP_ERR_TOO_LARGE:
        return METRICS_ERR_TOO_LARGE;
    default:
        return METRICS_ERR_OTHER;
    }
}

void agent_record_result(struct metrics_series *s, const struct http_result *res, bool expected,
                         uint64_t ready_ns)
{
    /* The request counts as sent when fleetsim began it: on a fresh connection that is the
     * start of the connect, so lag stays fleetsim's own lateness and the connect and TLS
     * handshake (the server's work too) fall into the service time. */
    uint64_t started = res->sent_ns;
    if (started && res->connect_ns + res->tls_ns < started)
        started -= res->connect_ns + res->tls_ns;
    if (started && started < res->intended_ns)
        started = res->intended_ns;
    struct request_timing t = {res->intended_ns, started,         res->first_byte_ns, res->done_ns,
                               ready_ns,         res->connect_ns, res->tls_ns};
    if (res->error == HTTP_ERR_NONE)
        metrics_answered(s, &t, res->status, !expected);
    else if (res->error == HTTP_ERR_TIMEOUT)
        metrics_timed_out(s, &t);
    else
        metrics_transport_error(s, &t, error_kind(res->error));
}

/* The endpoint of the agent's request of kind (a job's is the one it waits for). */
static enum agent_endpoint endpoint_of_kind(const struct agent *a, enum agent_kind kind)
{
    return kind == AGENT_KIND_HEARTBEAT ? AGENT_EP_HEARTBEAT
           : kind == AGENT_KIND_POLL    ? AGENT_EP_WORK
                                        : (enum agent_endpoint)a->job_ep;
}

/* A 410 on heartbeat: the agent sends nothing more and frees its connection. */
static void agent_retire(struct agent *a)
{
    struct agent_loop *l = a->loop;
    a->retired = true;
    l->counters.retired++;
    schedule_queue_remove(&l->timers, &a->due);
    loop_timer_update(l);
    for (int k = 0; k < AGENT_KIND_COUNT; k++) {
        if (a->slot[k] != AGENT_SLOT_WAITING)
            continue;
        metrics_dropped(series_of(l, endpoint_of_kind(a, (enum agent_kind)k)));
        a->slot[k] = AGENT_SLOT_IDLE;
        l->busy--;
    }
    agent_work_free(a);
    if (!l->pool && a->conn) {
        http_conn_free(a->conn);
        a->conn = NULL;
    }
}

static void on_heartbeat(struct agent *a, const struct http_result *res, bool ok)
{
    struct agent_loop *l = a->loop;
    if (res->error == HTTP_ERR_NONE && res->status == 410) {
        agent_retire(a);
        return;
    }
    if (res->error == HTTP_ERR_NONE && res->status == 404 && !a->seen_404) {
        a->seen_404 = true;
        l->counters.unknown_agents++;
        if (!l->counters.first_unknown || a->index < l->counters.first_unknown)
            l->counters.first_unknown = a->index;
    }
    a->failures = ok ? 0 : a->failures + 1;
}

static void agent_finish(struct agent *a, enum agent_kind kind, const struct http_result *res)
{
    struct agent_loop *l = a->loop;
    enum agent_endpoint ep = endpoint_of_kind(a, kind);
    struct metrics_series *s = series_of(l, ep);
    a->slot[kind] = AGENT_SLOT_IDLE;
    l->busy--;
    bool ok = res->error == HTTP_ERR_NONE && agent_status_expected(ep, res->status);
    agent_record_result(s, res, ok, res->sent_ns ? a->inflight_ready_ns : 0);
    if (res->connect_ns)
        l->connects++;
    if (res->tls_ns) {
        if (res->tls_resumed)
            l->counters.tls_resumed++;
        else
            l->counters.tls_full++;
    }
    if (res->error == HTTP_ERR_NONE) {
        a->reconnects = 0;
        a->hold_until_ns = 0;
    } else if (res->error == HTTP_ERR_CONNECT || res->error == HTTP_ERR_TLS) {
        a->reconnects++;
        a->hold_until_ns = res->done_ns + schedule_reconnect_backoff_ns(&a->rng, a->reconnects);
    }
    if (kind == AGENT_KIND_HEARTBEAT) {
        on_heartbeat(a, res, ok);
    } else if (kind == AGENT_KIND_POLL) {
        a->failures = ok ? 0 : a->failures + 1;
        if (ok)
            agent_work_on_poll(a, res);
    } else {
        agent_work_on_result(a, ep, res, ok);
    }
}

static void agent_on_done(const struct http_result *res, void *arg)
{
    struct agent *a = arg;
    struct agent_loop *l = a->loop;
    enum agent_kind kind = (enum agent_kind)a->inflight_kind;
    a->inflight = false;
    a->free_ns = res->done_ns ? res->done_ns : clock_now_ns(); /* the server freed the agent */
    l->pool_freed_ns = a->free_ns;
    agent_release(a);
    agent_finish(a, kind, res);
    if (l->pool)
        pool_dispatch(l);
    if (!a->retired)
        agent_kick(a);
}

void agent_stop(struct agent *a)
{
    a->stopped = true;
    a->poll_due_ns = 0;
    if (!a->retired)
        agent_arm(a);
}

void agent_end_unanswered(struct agent *a, uint64_t now_ns)
{
    struct agent_loop *l = a->loop;
    for (int k = 0; k < AGENT_KIND_COUNT; k++) {
        if (a->slot[k] == AGENT_SLOT_IDLE)
            continue;
        uint64_t intended = a->wait_intended_ns[k] < now_ns ? a->wait_intended_ns[k] : now_ns;
        struct request_timing t = {intended, 0, 0, now_ns, 0, 0, 0};
        metrics_unanswered(series_of(l, endpoint_of_kind(a, (enum agent_kind)k)), &t);
        a->slot[k] = AGENT_SLOT_IDLE;
        l->busy--;
    }
}

void agent_destroy(struct agent *a)
{
    if (a->loop)
        schedule_queue_remove(&a->loop->timers, &a->due);
    agent_work_free(a);
    if (!a->loop->pool && a->conn)
        http_conn_free(a->conn);
    a->conn = NULL;
}

unsigned agent_pending(const struct agent *a)
{
    unsigned n = 0;
    for (int k = 0; k < AGENT_KIND_COUNT; k++)
        n += a->slot[k] != AGENT_SLOT_IDLE;
    return n;
}
