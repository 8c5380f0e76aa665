/* engine/loop_group.h - N event loops, one thread each, run, stopped, drained and measured
 * together: each loop owns its event_base, metrics registry, mutex-protected interval snapshot
 * and periodic tick; the user plugs its work in through per-loop hooks and a per-loop pointer.
 * Every actor of a run (docs/actors.md) runs on one. */
#ifndef FLEETSIM_ENGINE_LOOP_GROUP_H
#define FLEETSIM_ENGINE_LOOP_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "engine/metrics.h"

/* What a loop's user does; every hook gets the loop's user pointer and runs on the loop's own
 * thread. Only in_flight is required. */
struct loop_group_hooks {
    /* Before the loop runs: arm the work, whose schedule counts from start_ns (clock_now_ns
     * time). Returns 0 or a negative errno: the loop then does not run, finish is still
     * called, and loop_group_join reports the error. */
    int (*start)(void *user, uint64_t start_ns);
    /* Every tick, after the interval snapshot and before the stop check; now_ns = the tick's
     * clock_now_ns time. */
    void (*tick)(void *user, uint64_t now_ns);
    /* Once, on the first tick after loop_group_stop: start nothing new from now on. */
    void (*begin_drain)(void *user);
    /* Work units (requests) waiting or in flight: the drain ends when this is 0. */
    uint64_t (*in_flight)(void *user);
    /* True when the loop has nothing left to do and may end without a stop request (checked
     * every tick). NULL = never. */
    bool (*done)(void *user);
    /* Once the loop has ended after running (not after a failed start), before in_flight is
     * read for the last time: end what is still waiting or in flight as unanswered (recorded).
     * NULL = what is left stays in flight. */
    void (*settle)(void *user);
    /* Once the loop has ended (also after a failed start), before its final snapshot: close
     * what is left. */
    void (*finish)(void *user);
};

/* A group's shape. */
struct loop_group_config {
    uint32_t n_loops;            /* >= 1 */
    uint64_t tick_ns;            /* period of every loop's tick (snapshot, stop and drain
                                    checks), > 0 */
    uint64_t report_interval_ns; /* a loop takes an interval snapshot on the first tick at or
                                    after each multiple of this since the start; 0 = none */
    uint64_t grace_ns;           /* how long a loop waits for in-flight work after the stop
                                    request reached it */
    bool precise_timer;          /* event_base with EVENT_BASE_FLAG_PRECISE_TIMER (libevent's
                                    timers exact to the us; costs a timerfd_settime per loop
                                    iteration) */
    struct loop_group_hooks hooks;
};

struct loop_group;

/* Builds n_loops loops, each with its event_base, metrics registry (with interval data when
 * report_interval_ns > 0) and tick event; no thread runs yet. Returns NULL with a one-line
 * reason in err (invalid configuration, out of memory). */
struct loop_group *loop_group_new(const struct loop_group_config *cfg, char *err, size_t errlen);

/* Number of loops. */
uint32_t loop_group_count(const struct loop_group *g);

/* Loop i's event_base, metrics registry (owned by the group; valid until loop_group_free) and
 * user pointer. Touch the base and registry only before loop_group_start, from the loop's
 * hooks, or after loop_group_join. */
struct event_base *loop_group_base(const struct loop_group *g, uint32_t i);
struct metrics *loop_group_metrics(const struct loop_group *g, uint32_t i);
void *loop_group_user(const struct loop_group *g, uint32_t i);

/* Sets loop i's user pointer (passed to every hook). Call before loop_group_start. */
void loop_group_set_user(struct loop_group *g, uint32_t i, void *user);

/* Starts one thread per loop; start_ns (clock_now_ns time) is passed to the start hooks and
 * is where the report intervals and the elapsed time count from. Returns 0 or a negative
 * errno (the threads already started are stopped and joined again). */
int loop_group_start(struct loop_group *g, uint64_t start_ns);

/* Asks every loop to start nothing new and drain: on its next tick it calls begin_drain, then
 * ends once in_flight is 0 or grace_ns has passed. Thread-safe; idempotent; NULL is fine. */
void loop_group_stop(struct loop_group *g);

/* As loop_group_stop, and ends the drain at once: every loop ends on its next tick (after
 * begin_drain), leaving what is in flight unanswered. Thread-safe; idempotent; NULL is fine. */
void loop_group_cut(struct loop_group *g);

/* True once every started loop has ended (or none was started). Thread-safe. */
bool loop_group_finished(const struct loop_group *g);

/* Waits for every loop thread to end. Returns 0, or the first start hook's error. NULL is
 * fine. */
int loop_group_join(struct loop_group *g);

/* After loop_group_join: loop i's start hook result (0 when it started or never ran). */
int loop_group_start_error(const struct loop_group *g, uint32_t i);

/* Adds the interval data the loops snapshotted since the last call into out (a registry
 * without interval data) and resets their snapshots; stores in *taken_ns (may be NULL) when
 * the latest of those snapshots was taken (clock_now_ns time; 0 when none). Thread-safe
 * against running loops. Returns 0 or a negative errno (metrics_merge). */
int loop_group_interval_take(struct loop_group *g, struct metrics *out, uint64_t *taken_ns);

/* After loop_group_join: adds every loop's cumulative metrics into out (exact). Returns 0 or
 * a negative errno (metrics_merge). */
int loop_group_metrics_merge(const struct loop_group *g, struct metrics *out);

/* After loop_group_join: the loops' in_flight summed at the moment each loop ended (before
 * finish). */
int64_t loop_group_in_flight_end(const struct loop_group *g);

/* After loop_group_join: the largest share (0..1) of one core a loop thread used while it ran
 * (thread CPU time over wall time, from before start to after finish). */
double loop_group_max_core_share(const struct loop_group *g);

/* After loop_group_join: the largest share (0..1) of its wall time a loop thread wanted a CPU:
 * running plus waiting on a run queue (the kernel's schedstat). Near 1 means the loop always had
 * work, whether or not the machine gave it a core (a busy machine lowers the core share, not
 * this); an idle loop is far below. Equals the core share where the kernel keeps no schedstat. */
double loop_group_max_demand_share(const struct loop_group *g);

/* Stops and joins the loops if needed, then frees the ticks, registries and bases; free what
 * the users built on a loop's base before this. NULL is fine. */
void loop_group_free(struct loop_group *g);

#endif
