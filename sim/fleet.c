/* sim/fleet.c - this shard's agents over --threads event loops (see fleet.h). The loops, their
 * threads, ticks, interval snapshots and drain are an engine/loop_group.h group; each loop's
 * user is a struct fleet_loop with its agents, touched only by that loop's thread once started. */
#include "sim/fleet.h"

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/loop_group.h"
#include "sim/schedule.h"

struct fleet_loop {
    struct agent_loop al;
    bool al_ready;
    struct agent *agents;
    uint32_t n_agents;
    uint64_t trim_seen, trim_done; /* al.connects at the last change, at the last trim */
    uint64_t trim_change_ns, trim_last_ns;
};

struct fleet {
    struct fleet_config cfg;
    struct loop_group *lg;
    struct fleet_loop *loops;
    uint32_t n_loops;
    uint32_t n_agents; /* in this shard */
};

uint32_t fleet_shard_size(uint32_t n_agents, uint32_t shard_k, uint32_t shard_n)
{
    if (shard_n == 0 || shard_k >= shard_n || n_agents <= shard_k)
        return 0;
    return (n_agents - shard_k - 1) / shard_n + 1;
}

uint32_t fleet_shard_index(uint32_t position, uint32_t shard_k, uint32_t shard_n)
{
    return position * shard_n + shard_k + 1;
}

uint32_t fleet_size(const struct fleet *f)
{
    return f->n_agents;
}

/* ---- the loop hooks (each loop's thread) ------------------------------------------------ */

static int loop_start(void *user, uint64_t start_ns)
{
    struct fleet_loop *fl = user;
    fl->al.run_start_ns = start_ns;
    fl->trim_last_ns = start_ns;
    for (uint32_t i = 0; i < fl->n_agents; i++)
        agent_start(&fl->agents[i]);
    return 0;
}

/* Connection churn (the ramp, reconnects) frees each TLS handshake's transient buffers
 * (~60 KiB) between long-lived connection state, and the allocator keeps those holes mapped.
 * Once the churn has been quiet for FLEET_TRIM_QUIET_NS (or at most every FLEET_TRIM_MAX_NS
 * while it goes on) the loop hands whole free pages back to the system with malloc_trim(0):
 * ~8 KiB per TLS agent after a ramp (bench/fleet_bench.sh), for ~1.3 ms of the loop's time
 * with 15,000 TLS agents. */
#define FLEET_TRIM_QUIET_NS (1000ULL * 1000000ULL)
#define FLEET_TRIM_MAX_NS (30000ULL * 1000000ULL)

static void loop_trim(void *user, uint64_t now)
{
    struct fleet_loop *fl = user;
    uint64_t n = fl->al.connects;
    if (n != fl->trim_seen) {
        fl->trim_seen = n;
        fl->trim_change_ns = now;
    }
    if (n == fl->trim_done)
        return;
    if (now - fl->trim_change_ns >= FLEET_TRIM_QUIET_NS ||
        now - fl->trim_last_ns >= FLEET_TRIM_MAX_NS) {
#ifdef __GLIBC__
        malloc_trim(0);
#endif
        fl->trim_done = n;
        fl->trim_last_ns = now;
    }
}

static void loop_begin_drain(void *user)
{
    struct fleet_loop *fl = user;
    fl->al.stopping = true;
    for (uint32_t i = 0; i < fl->n_agents; i++)
        agent_stop(&fl->agents[i]);
}

static uint64_t loop_in_flight(void *user)
{
    return ((struct fleet_loop *)user)->al.busy;
}

/* The loop has ended: what its agents still wait for is unanswered (failed, recorded). */
static void loop_settle(void *user)
{
    struct fleet_loop *fl = user;
    uint64_t now = clock_now_ns();
    for (uint32_t i = 0; i < fl->n_agents; i++)
        agent_end_unanswered(&fl->agents[i], now);
}

/* ---- setup ------------------------------------------------------------------------------ */

static void loop_destroy(struct fleet_loop *fl)
{
    for (uint32_t i = 0; fl->agents && i < fl->n_agents; i++)
        if (fl->agents[i].loop)
            agent_destroy(&fl->agents[i]);
    free(fl->agents);
    if (fl->al_ready)
        agent_loop_destroy(&fl->al);
}

static int loop_init(struct fleet *f, uint32_t t, uint32_t n_agents, uint32_t pool, char *err,
                     size_t errlen)
{
    struct fleet_loop *fl = &f->loops[t];
    fl->n_agents = n_agents;
    fl->agents = calloc(n_agents ? n_agents : 1, sizeof *fl->agents);
    if (!fl->agents) {
        snprintf(err, errlen, "out of memory setting up %u agents", n_agents);
        return -ENOMEM;
    }
    int rc = agent_loop_init(&fl->al, loop_group_base(f->lg, t), &f->cfg.agent, f->cfg.conn,
                             loop_group_metrics(f->lg, t), pool);
    if (rc != 0) {
        snprintf(err, errlen, "cannot set up an agent loop: %s", strerror(-rc));
        return rc;
    }
    fl->al_ready = true;
    loop_group_set_user(f->lg, t, fl);
    return 0;
}

/* The loops: libevent's default (coarse) clock. The agents' timers do not depend on it: each
 * loop wakes them with its own timerfd (sim/agent.c), exact to the wake-up slot. With
 * EVENT_BASE_FLAG_PRECISE_TIMER libevent would call timerfd_settime on every loop iteration,
 * also on the ones that only read responses; its own timers here (the 100 ms tick, request
 * deadlines) need no better than a few ms. */
static struct loop_group *new_group(const struct fleet *f, char *err, size_t errlen)
{
    struct loop_group_config lc = {.n_loops = f->n_loops,
                                   .tick_ns = FLEET_TICK_NS,
                                   .report_interval_ns = f->cfg.report_interval_ns,
                                   .grace_ns = f->cfg.grace_ns,
                                   .precise_timer = false,
                                   .hooks = {.start = loop_start,
                                             .tick = loop_trim,
                                             .begin_drain = loop_begin_drain,
                                             .in_flight = loop_in_flight,
                                             .settle = loop_settle}};
    return loop_group_new(&lc, err, errlen);
}

struct fleet *fleet_new(const struct fleet_config *cfg, char *err, size_t errlen)
{
    if (cfg->threads == 0 || cfg->shard_n == 0 || cfg->shard_k >= cfg->shard_n || !cfg->conn) {
        snprintf(err, errlen, "invalid fleet configuration (threads, shard or destination)");
        return NULL;
    }
    struct fleet *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->cfg = *cfg;
    if (cfg->agent.user_agent == cfg->agent.user_agent_buf)
        f->cfg.agent.user_agent = f->cfg.agent.user_agent_buf;
    f->n_agents = fleet_shard_size(cfg->n_agents, cfg->shard_k, cfg->shard_n);
    f->n_loops = cfg->threads < f->n_agents ? cfg->threads : (f->n_agents ? f->n_agents : 1);
    f->loops = calloc(f->n_loops, sizeof *f->loops);
    if (!f->loops || !(f->lg = new_group(f, err, errlen))) {
        if (!f->loops)
            snprintf(err, errlen, "out of memory");
        fleet_free(f);
        return NULL;
    }
    for (uint32_t t = 0; t < f->n_loops; t++) {
        uint32_t n = f->n_agents / f->n_loops + (t < f->n_agents % f->n_loops);
        uint32_t pool = 0;
        if (cfg->pool_size > 0) {
            pool = cfg->pool_size / f->n_loops + (t < cfg->pool_size % f->n_loops);
            pool = pool ? pool : 1;
        }
        if (loop_init(f, t, n, pool, err, errlen) != 0) {
            fleet_free(f);
            return NULL;
        }
    }
    uint32_t *fill = calloc(f->n_loops, sizeof *fill);
    if (!fill) {
        snprintf(err, errlen, "out of memory");
        fleet_free(f);
        return NULL;
    }
    for (uint32_t p = 0; p < f->n_agents; p++) {
        struct fleet_loop *fl = &f->loops[p % f->n_loops];
        agent_init(&fl->agents[fill[p % f->n_loops]++], &fl->al,
                   fleet_shard_index(p, cfg->shard_k, cfg->shard_n));
    }
    free(fill);
    return f;
}

/* ---- the control thread ----------------------------------------------------------------- */

int fleet_start(struct fleet *f, uint64_t start_ns)
{
    return loop_group_start(f->lg, start_ns);
}

void fleet_stop(struct fleet *f)
{
    loop_group_stop(f->lg);
}

void fleet_cut(struct fleet *f)
{
    loop_group_cut(f->lg);
}

bool fleet_finished(const struct fleet *f)
{
    return loop_group_finished(f->lg);
}

int fleet_join(struct fleet *f)
{
    loop_group_join(f->lg);
    return 0;
}

int fleet_interval_take(struct fleet *f, struct metrics *out, uint64_t *taken_ns)
{
    return loop_group_interval_take(f->lg, out, taken_ns);
}

int fleet_metrics_merge(const struct fleet *f, struct metrics *out)
{
    return loop_group_metrics_merge(f->lg, out);
}

void fleet_counters(const struct fleet *f, struct agent_counters *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t t = 0; t < f->n_loops; t++) {
        const struct agent_counters *c = &f->loops[t].al.counters;
        out->retired += c->retired;
        out->unknown_agents += c->unknown_agents;
        if (c->first_unknown && (!out->first_unknown || c->first_unknown < out->first_unknown))
            out->first_unknown = c->first_unknown;
        out->jobs_received += c->jobs_received;
        out->work_unparsed += c->work_unparsed;
        out->csr_generated += c->csr_generated;
        out->csr_accepted += c->csr_accepted;
        out->csr_failed += c->csr_failed;
        out->deploy_completed += c->deploy_completed;
        out->deploy_failed += c->deploy_failed;
        out->key_match += c->key_match;
        out->key_mismatch += c->key_mismatch;
        out->key_missing += c->key_missing;
        out->keys_kept += c->keys_kept;
        out->verify_probes += c->verify_probes;
        out->tls_full += c->tls_full;
        out->fail_csr += c->fail_csr;
        out->fail_deploy += c->fail_deploy;
        out->fail_verify += c->fail_verify;
        out->tls_resumed += c->tls_resumed;
    }
}

int64_t fleet_in_flight(const struct fleet *f)
{
    return loop_group_in_flight_end(f->lg);
}

double fleet_max_core_share(const struct fleet *f)
{
    return loop_group_max_core_share(f->lg);
}

double fleet_max_demand_share(const struct fleet *f)
{
    return loop_group_max_demand_share(f->lg);
}

void fleet_free(struct fleet *f)
{
    if (!f)
        return;
    loop_group_stop(f->lg);
    loop_group_join(f->lg);
    for (uint32_t t = 0; f->loops && t < f->n_loops; t++)
        loop_destroy(&f->loops[t]);
    free(f->loops);
    loop_group_free(f->lg);
    free(f);
}

/* ---- dry-run plan: a min-heap over each agent's next heartbeat and poll ----------------- */

struct plan_item {
    uint64_t at_ns;
    uint32_t slot; /* 2 * position + (0 heartbeat | 1 poll) */
};

static bool plan_before(const struct plan_item *a, const struct plan_item *b)
{
    return a->at_ns != b->at_ns ? a->at_ns < b->at_ns : a->slot < b->slot;
}

static void heap_push(struct plan_item *heap, size_t *n, struct plan_item it)
{
    size_t i = (*n)++;
    while (i > 0 && plan_before(&it, &heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = it;
}

static struct plan_item heap_pop(struct plan_item *heap, size_t *n)
{
    struct plan_item top = heap[0], last = heap[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && plan_before(&heap[c + 1], &heap[c]))
            c++;
        if (!plan_before(&heap[c], &last))
            break;
        heap[i] = heap[c];
        i = c;
    }
    if (*n > 0)
        heap[i] = last;
    return top;
}

long fleet_plan(const struct fleet_config *cfg, size_t max_events, struct fleet_plan_event **out)
{
    *out = NULL;
    uint32_t n = fleet_shard_size(cfg->n_agents, cfg->shard_k, cfg->shard_n);
    struct schedule_timer *timers = calloc(2 * (size_t)n + 1, sizeof *timers);
    struct plan_item *heap = calloc(2 * (size_t)n + 1, sizeof *heap);
    struct fleet_plan_event *ev = calloc(max_events ? max_events : 1, sizeof *ev);
    if (!timers || !heap || !ev) {
        free(timers);
        free(heap);
        free(ev);
        return -ENOMEM;
    }
    const struct agent_settings *set = &cfg->agent;
    size_t hn = 0;
    for (uint32_t p = 0; p < n; p++) {
        uint32_t index = fleet_shard_index(p, cfg->shard_k, cfg->shard_n);
        schedule_timer_init(&timers[2 * p], set->seed, index, SCHEDULE_HEARTBEAT, &set->heartbeat);
        schedule_timer_init(&timers[2 * p + 1], set->seed, index, SCHEDULE_POLL, &set->poll);
        for (uint32_t k = 0; k < 2; k++)
            if (timers[2 * p + k].next_ns != UINT64_MAX)
                heap_push(heap, &hn, (struct plan_item){timers[2 * p + k].next_ns, 2 * p + k});
    }
    size_t count = 0;
    while (count < max_events && hn > 0) {
        struct plan_item it = heap_pop(heap, &hn);
        uint32_t p = it.slot / 2, k = it.slot % 2;
        ev[count++] = (struct fleet_plan_event){fleet_shard_index(p, cfg->shard_k, cfg->shard_n),
                                                k ? AGENT_EP_WORK : AGENT_EP_HEARTBEAT, it.at_ns};
        struct schedule_timer *t = &timers[it.slot];
        if (schedule_timer_advance(t, k ? &set->poll : &set->heartbeat, 0) != UINT64_MAX)
            heap_push(heap, &hn, (struct plan_item){t->next_ns, it.slot});
    }
    free(timers);
    free(heap);
    *out = ev;
    return (long)count;
}
