/* sim/schedule.h - when an agent's requests are due: first events spread over the ramp,
 * jittered intervals, the certctl-1.0 poll back-off and jittered reconnect back-off. Pure
 * arithmetic on a per-timer RNG derived from (run seed, agent index), so the same seed gives the
 * same schedule in every shard and rerun (docs/architecture.md, "Agents"). Times are ns since
 * the run start. */
#ifndef FLEETSIM_SIM_SCHEDULE_H
#define FLEETSIM_SIM_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

/* The timers an agent owns; each draws from its own RNG stream, so turning one off never moves
 * the other's times. */
enum schedule_kind {
    SCHEDULE_HEARTBEAT = 0,
    SCHEDULE_POLL = 1,
    SCHEDULE_START = 2,     /* the agent's start offset (profiles that start both timers at once) */
    SCHEDULE_RECONNECT = 3, /* reconnect back-off draws */
    SCHEDULE_PROBE = 4,     /* deployment verification probe durations (mixed with the job id) */
};
#define SCHEDULE_KIND_COUNT 5

/* Largest jitter accepted, percent (an interval never shrinks to zero). */
#define SCHEDULE_JITTER_MAX_PCT 90.0
/* Reconnect back-off: first delay, cap, and the +/- share of jitter applied to each delay. */
#define SCHEDULE_RECONNECT_BASE_NS (250ULL * 1000000ULL)
#define SCHEDULE_RECONNECT_MAX_NS (10ULL * 1000000000ULL)
#define SCHEDULE_RECONNECT_JITTER_PCT 50.0

/* How one periodic timer behaves. */
struct schedule_params {
    uint64_t interval_ns;      /* period; 0 = the timer is off */
    double jitter_pct;         /* each interval varies uniformly by +/- this share (0..90) */
    uint64_t ramp_ns;          /* the first event falls uniformly in [0, ramp_ns); 0 = at 0 */
    bool start_at_agent_start; /* first event at the agent's SCHEDULE_START offset instead of
                                  an independent draw (certctl-1.0: heartbeat and poll at once) */
    uint64_t grid_ns;          /* intended times are rounded up to a multiple of this (the agents'
                             wake-up slot, --timer-slot); 0 = not rounded */
};

/* One periodic timer of one agent: its RNG state and the next intended time. The intervals
 * add up on the unrounded time, so rounding to the grid never makes the timer drift. */
struct schedule_timer {
    uint64_t rng;      /* private splitmix64 state */
    uint64_t next_ns;  /* next intended time (on the grid), ns since the run start; UINT64_MAX
                          when off */
    uint64_t exact_ns; /* the same before rounding to the grid */
};

/* The RNG state of an agent's timer `kind`: a pure function of (run_seed, index, kind). */
uint64_t schedule_rng_seed(uint64_t run_seed, uint32_t index, enum schedule_kind kind);

/* The agent's start offset in [0, ramp_ns) (0 when ramp_ns is 0). Pure. */
uint64_t schedule_agent_start_ns(uint64_t run_seed, uint32_t index, uint64_t ramp_ns);

/* Initialises timer `kind` (SCHEDULE_HEARTBEAT or SCHEDULE_POLL) of agent `index`: draws the
 * first intended time per p (UINT64_MAX when p->interval_ns is 0), rounded up to p->grid_ns. */
void schedule_timer_init(struct schedule_timer *t, uint64_t run_seed, uint32_t index,
                         enum schedule_kind kind, const struct schedule_params *p);

/* Moves the timer to its next intended time: previous (unrounded) intended + one jittered
 * interval + extra_delay_ns (a back-off), rounded up to p->grid_ns, so the schedule never drifts
 * with the loop's lateness. Returns the new next_ns (UINT64_MAX stays UINT64_MAX). */
uint64_t schedule_timer_advance(struct schedule_timer *t, const struct schedule_params *p,
                                uint64_t extra_delay_ns);

/* One jittered interval: interval_ns * (1 + j * (2u - 1)) for u uniform in [0, 1) drawn from
 * *rng and j = jitter_pct / 100 (clamped to SCHEDULE_JITTER_MAX_PCT). At least 1 ns. */
uint64_t schedule_jittered_ns(uint64_t *rng, uint64_t interval_ns, double jitter_pct);

/* The real agent's poll back-off: failures * step_ns, at most max_ns (0 for no failures). */
uint64_t schedule_poll_backoff_ns(uint32_t failures, uint64_t step_ns, uint64_t max_ns);

/* Reconnect back-off after `attempt` consecutive failures (1 = first): base * 2^(attempt-1)
 * capped at SCHEDULE_RECONNECT_MAX_NS, then jittered by +/- SCHEDULE_RECONNECT_JITTER_PCT from
 * *rng. 0 for attempt 0. */
uint64_t schedule_reconnect_backoff_ns(uint64_t *rng, uint32_t attempt);

/* ---- due-time queue: one event loop's agents, woken together ------------------------------
 * A binary min-heap of due times over entries the caller embeds in its own objects, so an
 * event loop arms one timer for all its agents instead of one libevent timer each. Moving or
 * removing an entry leaves its old heap slot behind as stale (recognised by a generation
 * number and skipped when it surfaces), so reordering the heap never writes into the owners:
 * with thousands of agents each such write would be a cache miss. Pure: no clock, no I/O;
 * times are whatever clock the caller uses (clock_now_ns in sim/agent). */

/* One queued object. Zero-initialised = not queued. */
struct schedule_entry {
    uint64_t due_ns; /* when the owner wants to run (valid while queued) */
    uint32_t gen;    /* bumped at every set and remove: older heap slots are stale */
    bool queued;
};

/* A heap slot: the due time and generation beside the entry, so ordering reads no owner. */
struct schedule_queue_slot {
    uint64_t due_ns;
    struct schedule_entry *entry;
    uint32_t gen;
};

struct schedule_queue {
    struct schedule_queue_slot *heap;
    uint32_t n, cap;   /* slots in use (stale ones included), allocated */
    uint32_t live;     /* entries queued */
    uint32_t reserved; /* entries the caller reserved room for */
};

/* An empty queue (no allocation yet). */
void schedule_queue_init(struct schedule_queue *q);

/* Frees the heap and unqueues what is left (the entries are the caller's). */
void schedule_queue_free(struct schedule_queue *q);

/* Makes room for one more entry (the heap keeps two slots per reserved entry, so stale slots
 * can always be compacted away), so that schedule_queue_set never allocates. Returns 0 or
 * -ENOMEM. */
int schedule_queue_reserve(struct schedule_queue *q);

/* Queues e for due_ns, or moves it there when already queued. Returns 0, or -ENOSPC when
 * more entries are queued than were reserved. */
int schedule_queue_set(struct schedule_queue *q, struct schedule_entry *e, uint64_t due_ns);

/* Takes e out of the queue (no-op when not queued). Touches only e. */
void schedule_queue_remove(struct schedule_queue *q, struct schedule_entry *e);

/* The entry due first, or NULL when the queue is empty (drops stale slots on its way). */
struct schedule_entry *schedule_queue_first(struct schedule_queue *q);

/* Removes and returns the entry due first if it is due at now_ns (due_ns <= now_ns), else
 * NULL. Entries with equal due times come out in no particular order. */
struct schedule_entry *schedule_queue_pop_due(struct schedule_queue *q, uint64_t now_ns);

/* The end of the slot_ns-wide slot holding t_ns: the smallest multiple of slot_ns that is >=
 * t_ns (t_ns itself when slot_ns is 0). Waking at slot ends lets one wake-up serve every
 * entry due in the same slot, never before its due time. */
uint64_t schedule_slot_end_ns(uint64_t t_ns, uint64_t slot_ns);

#endif
