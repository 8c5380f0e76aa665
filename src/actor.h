/* src/actor.h - one actor interface for `fleetsim run`: the life cycle every actor shares (the
 * fleet's agents, the operator, the ACME clients, and any actor added later) as one table of
 * functions, the list of registered actors, and the run's own list of the actors it has. The
 * control loop and the report (src/run_control.c, src/run_report.c) loop over the run's list and
 * never name an actor. Adding an actor is one new file defining its `const struct actor_ops`
 * and one line in the list of src/actors.c (or one actor_register call before the options are
 * parsed, as a test does). docs/actors.md describes the life cycle step by step. */
#ifndef FLEETSIM_SRC_ACTOR_H
#define FLEETSIM_SRC_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/metrics.h"

struct run_ctx;

/* Registered actors at most, and actors of one run at most. */
#define ACTORS_MAX 16

/* What an actor does at each step of a run. state is what setup stored; every function but
 * register_names, wanted, plan and setup gets it. Functions marked optional may be NULL. */
struct actor_ops {
    const char *name; /* in messages, e.g. "operator" */

    /* Optional. Registers the actor's tag values and actor metrics with the engine
     * (engine/metric_names.h), once at program start, before options or scenario files are
     * parsed, so thresholds can name them. Returns 0 or a negative errno. */
    int (*register_names)(void);

    /* True when this run has the actor (its options ask for it, this shard runs it). */
    bool (*wanted)(const struct run_ctx *c);

    /* Optional. --dry-run: the actor's plan and first events on out; nothing is contacted. */
    void (*plan)(const struct run_ctx *c, FILE *out);

    /* Builds the actor for the run after the run's pre-flight (and --register): its own
     * pre-flight checks, connections and loop threads (not started). Stores its state in
     * *state. Returns 0, or EXIT_STATUS_FAILED with one line printed on stderr. */
    int (*setup)(struct run_ctx *c, void **state);

    /* Starts its threads; schedules count from start_ns, the same for every actor of the
     * run. Returns 0, or EXIT_STATUS_FAILED with a line printed. */
    int (*start)(void *state, uint64_t start_ns);

    /* Stops scheduling; requests in flight may finish for up to --grace. Thread-safe,
     * idempotent. */
    void (*stop)(void *state);

    /* As stop, and ends the drain at once (a second signal): what is in flight stays
     * unanswered. Thread-safe, idempotent. */
    void (*cut)(void *state);

    /* True once its loops have ended (after stop and the drain). Thread-safe. */
    bool (*finished)(void *state);

    /* Waits for its threads. */
    void (*join)(void *state);

    /* Adds the interval data its loops snapshotted since the last call into out (a registry
     * without interval data) and stores when the latest of those snapshots was taken in
     * *taken_ns (clock_now_ns time; 0 when none). Thread-safe against its running loops.
     * Returns 0 or a negative errno. */
    int (*interval_take)(void *state, struct metrics *out, uint64_t *taken_ns);

    /* After join: adds its cumulative metrics (request series under its actor tag, its actor
     * metrics) into out exactly. Returns 0 or a negative errno. */
    int (*merge)(void *state, struct metrics *out);

    /* After join: requests still waiting or in flight when its loops ended. */
    int64_t (*in_flight)(void *state);

    /* Optional. After join: the largest share (0..1) of one core one of its loops used. */
    double (*core_share)(void *state);

    /* Optional (core_share is used when absent). After join: the largest share (0..1) of its
     * time one of its loops wanted a CPU, running or queued for one (engine/loop_group.h). */
    double (*demand_share)(void *state);

    /* Optional. After join: its lines of the text summary on out; m is the run's merged
     * metrics. */
    void (*print)(void *state, const struct metrics *m, FILE *out);

    /* Stops, joins and frees the state (NULL is fine). */
    void (*free)(void *state);
};

/* One actor of a run: its table and its state. */
struct run_actor {
    const struct actor_ops *ops;
    void *state;
};

/* Adds ops to the registered actors (after the built-in ones, in call order). Call before
 * actor_register_names and before the options are parsed. Returns 0, -EINVAL (a required
 * function missing) or -ENOSPC (beyond ACTORS_MAX). */
int actor_register(const struct actor_ops *ops);

/* Number of registered actors, and the i-th (NULL past the end). */
size_t actor_count(void);
const struct actor_ops *actor_at(size_t i);

/* Every registered actor's register_names, in order. Returns 0 or the first error. */
int actor_register_names(void);

#endif
