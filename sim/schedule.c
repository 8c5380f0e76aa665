/* sim/schedule.c - per-agent timer arithmetic (see schedule.h). Pure: every time is a function
 * of (run seed, agent index, timer kind) and the number of intervals already taken. Also the
 * due-time queue (a binary min-heap) one event loop keeps over its agents. */
#include "sim/schedule.h"

#include <errno.h>
#include <stdlib.h>

#include "sim/identity.h"

/* Salts that split one agent's RNG seed into independent per-timer streams. */
static const uint64_t kind_salt[SCHEDULE_KIND_COUNT] = {
    0x243f6a8885a308d3ULL, /* heartbeat */
    0x13198a2e03707344ULL, /* poll */
    0xa4093822299f31d0ULL, /* start */
    0x082efa98ec4e6c89ULL, /* reconnect */
    0x452821e638d01377ULL, /* probe */
};

uint64_t schedule_rng_seed(uint64_t run_seed, uint32_t index, enum schedule_kind kind)
{
    uint64_t state = identity_agent_rng_seed(run_seed, index) ^ kind_salt[kind];
    return identity_rng_next(&state);
}

/* A uniform offset in [0, span_ns) from *rng; 0 when span_ns is 0. */
static uint64_t uniform_below(uint64_t *rng, uint64_t span_ns)
{
    if (span_ns == 0)
        return 0;
    uint64_t v = (uint64_t)(identity_rng_unit(rng) * (double)span_ns);
    return v < span_ns ? v : span_ns - 1;
}

uint64_t schedule_agent_start_ns(uint64_t run_seed, uint32_t index, uint64_t ramp_ns)
{
    uint64_t rng = schedule_rng_seed(run_seed, index, SCHEDULE_START);
    return uniform_below(&rng, ramp_ns);
}

void schedule_timer_init(struct schedule_timer *t, uint64_t run_seed, uint32_t index,
                         enum schedule_kind kind, const struct schedule_params *p)
{
    t->rng = schedule_rng_seed(run_seed, index, kind);
    if (p->interval_ns == 0) {
        t->next_ns = t->exact_ns = UINT64_MAX;
        return;
    }
    /* The first draw is always taken so later intervals do not depend on the profile. */
    uint64_t own = uniform_below(&t->rng, p->ramp_ns);
    t->exact_ns =
        p->start_at_agent_start ? schedule_agent_start_ns(run_seed, index, p->ramp_ns) : own;
    t->next_ns = schedule_slot_end_ns(t->exact_ns, p->grid_ns);
}

uint64_t schedule_jittered_ns(uint64_t *rng, uint64_t interval_ns, double jitter_pct)
{
    if (jitter_pct < 0)
        jitter_pct = 0;
    if (jitter_pct > SCHEDULE_JITTER_MAX_PCT)
        jitter_pct = SCHEDULE_JITTER_MAX_PCT;
    if (jitter_pct == 0)
        return interval_ns ? interval_ns : 1;
    double j = jitter_pct / 100.0;
    double factor = 1.0 + j * (2.0 * identity_rng_unit(rng) - 1.0);
    double v = (double)interval_ns * factor;
    return v < 1.0 ? 1 : (uint64_t)v;
}

uint64_t schedule_timer_advance(struct schedule_timer *t, const struct schedule_params *p,
                                uint64_t extra_delay_ns)
{
    if (t->next_ns == UINT64_MAX || p->interval_ns == 0)
        return t->next_ns = UINT64_MAX;
    uint64_t step = schedule_jittered_ns(&t->rng, p->interval_ns, p->jitter_pct) + extra_delay_ns;
    t->exact_ns = (UINT64_MAX - t->exact_ns <= step) ? UINT64_MAX - 1 : t->exact_ns + step;
    t->next_ns = schedule_slot_end_ns(t->exact_ns, p->grid_ns);
    if (t->next_ns == UINT64_MAX)
        t->next_ns = UINT64_MAX - 1; /* on, however far: UINT64_MAX means off */
    return t->next_ns;
}

uint64_t schedule_poll_backoff_ns(uint32_t failures, uint64_t step_ns, uint64_t max_ns)
{
    if (failures == 0 || step_ns == 0)
        return 0;
    if (max_ns / step_ns < failures)
        return max_ns;
    uint64_t v = (uint64_t)failures * step_ns;
    return v < max_ns ? v : max_ns;
}

uint64_t schedule_reconnect_backoff_ns(uint64_t *rng, uint32_t attempt)
{
    if (attempt == 0)
        return 0;
    uint64_t delay = SCHEDULE_RECONNECT_BASE_NS;
    for (uint32_t i = 1; i < attempt && delay < SCHEDULE_RECONNECT_MAX_NS; i++)
        delay *= 2;
    if (delay > SCHEDULE_RECONNECT_MAX_NS)
        delay = SCHEDULE_RECONNECT_MAX_NS;
    return schedule_jittered_ns(rng, delay, SCHEDULE_RECONNECT_JITTER_PCT);
}

/* ---- due-time queue --------------------------------------------------------------------- */

void schedule_queue_init(struct schedule_queue *q)
{
    q->heap = NULL;
    q->n = q->cap = q->live = q->reserved = 0;
}

void schedule_queue_free(struct schedule_queue *q)
{
    for (uint32_t i = 0; i < q->n; i++) {
        struct schedule_queue_slot *s = &q->heap[i];
        if (s->entry->queued && s->entry->gen == s->gen) {
            s->entry->queued = false;
            s->entry->gen++;
        }
    }
    free(q->heap);
    schedule_queue_init(q);
}

int schedule_queue_reserve(struct schedule_queue *q)
{
    if (q->reserved >= UINT32_MAX / 2)
        return -ENOMEM;
    uint32_t want = 2 * (q->reserved + 1);
    if (want > q->cap) {
        uint32_t cap = q->cap ? q->cap : 64;
        while (cap < want)
            cap = cap > UINT32_MAX / 2 ? want : cap * 2;
        struct schedule_queue_slot *h = realloc(q->heap, (size_t)cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        q->heap = h;
        q->cap = cap;
    }
    q->reserved++;
    return 0;
}

static bool stale(const struct schedule_queue_slot *s)
{
    return !s->entry->queued || s->entry->gen != s->gen;
}

static void sift_up(struct schedule_queue *q, uint32_t i)
{
    struct schedule_queue_slot s = q->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (q->heap[parent].due_ns <= s.due_ns)
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = s;
}

static void sift_down(struct schedule_queue *q, uint32_t i)
{
    struct schedule_queue_slot s = q->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && q->heap[c + 1].due_ns < q->heap[c].due_ns)
            c++;
        if (s.due_ns <= q->heap[c].due_ns)
            break;
        q->heap[i] = q->heap[c];
        i = c;
    }
    q->heap[i] = s;
}

static void pop_top(struct schedule_queue *q)
{
    q->heap[0] = q->heap[--q->n];
    if (q->n > 1)
        sift_down(q, 0);
}

/* Drops every stale slot and rebuilds the heap (O(n)). */
static void compact(struct schedule_queue *q)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < q->n; i++)
        if (!stale(&q->heap[i]))
            q->heap[k++] = q->heap[i];
    q->n = k;
    for (uint32_t i = k / 2; i-- > 0;)
        sift_down(q, i);
}

int schedule_queue_set(struct schedule_queue *q, struct schedule_entry *e, uint64_t due_ns)
{
    if (e->queued && e->due_ns == due_ns)
        return 0;
    if (!e->queued && q->live >= q->reserved)
        return -ENOSPC;
    if (q->n >= q->cap)
        compact(q); /* at most `reserved` slots are live, and cap >= 2 * reserved */
    if (q->n >= q->cap)
        return -ENOSPC;
    if (!e->queued)
        q->live++;
    e->gen++;
    e->due_ns = due_ns;
    e->queued = true;
    q->heap[q->n] = (struct schedule_queue_slot){due_ns, e, e->gen};
    sift_up(q, q->n++);
    return 0;
}

void schedule_queue_remove(struct schedule_queue *q, struct schedule_entry *e)
{
    if (!e->queued)
        return;
    e->queued = false;
    e->gen++;
    q->live--;
}

struct schedule_entry *schedule_queue_first(struct schedule_queue *q)
{
    while (q->n && stale(&q->heap[0]))
        pop_top(q);
    return q->n ? q->heap[0].entry : NULL;
}

struct schedule_entry *schedule_queue_pop_due(struct schedule_queue *q, uint64_t now_ns)
{
    while (q->n && q->heap[0].due_ns <= now_ns) {
        struct schedule_queue_slot top = q->heap[0];
        pop_top(q);
        if (stale(&top))
            continue;
        top.entry->queued = false;
        top.entry->gen++;
        q->live--;
        return top.entry;
    }
    return NULL;
}

uint64_t schedule_slot_end_ns(uint64_t t_ns, uint64_t slot_ns)
{
    if (slot_ns == 0)
        return t_ns;
    uint64_t rem = t_ns % slot_ns;
    if (rem == 0)
        return t_ns;
    return t_ns > UINT64_MAX - (slot_ns - rem) ? UINT64_MAX : t_ns + (slot_ns - rem);
}
