/* sim/fleet.h - the simulated fleet: this shard's agents (agent i belongs to shard
 * (i - 1) mod N == K), partitioned over --threads event loops (one event_base and one metrics
 * registry per thread), started, stopped and drained together; interval snapshots for live
 * progress, metrics merged exactly at the end; and the dry-run plan of the first events. */
#ifndef FLEETSIM_SIM_FLEET_H
#define FLEETSIM_SIM_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/http_client.h"
#include "engine/metrics.h"
#include "sim/agent.h"

/* How often each loop checks for stop requests and takes its interval snapshot (a loop wakes
 * up for this alone, so not too often). */
#define FLEET_TICK_NS (100ULL * 1000000ULL)

/* What a fleet is made of. Everything pointed to must outlive the fleet. */
struct fleet_config {
    struct agent_settings agent; /* shared by every agent (copied); agent.timer_slot_ns is the
                                     loops' wake-up slot */
    uint32_t n_agents;           /* N: fleet size over all shards */
    uint32_t shard_k, shard_n;   /* this process runs agents with (i - 1) mod shard_n == shard_k */
    uint32_t threads;            /* event loops, >= 1 */
    uint32_t pool_size; /* pool:N connections per fleet (split over loops); 0 = per-agent */
    const struct http_conn_config *conn; /* destination, TLS, timeout */
    uint64_t report_interval_ns;         /* interval snapshots; 0 = none */
    uint64_t grace_ns;                   /* drain time after fleet_stop */
};

struct fleet;

/* Number of agents of shard k/n in a fleet of n_agents. */
uint32_t fleet_shard_size(uint32_t n_agents, uint32_t shard_k, uint32_t shard_n);

/* Fleet index (1-based) of the position-th (0-based) agent of shard k/n. */
uint32_t fleet_shard_index(uint32_t position, uint32_t shard_k, uint32_t shard_n);

/* Builds the loops and agents (nothing runs yet). Returns NULL with a reason in err. */
struct fleet *fleet_new(const struct fleet_config *cfg, char *err, size_t errlen);

/* Agents in this shard. */
uint32_t fleet_size(const struct fleet *f);

/* Starts one thread per loop; schedule offsets count from start_ns (clock_now_ns time).
 * Returns 0 or a negative errno (threads already started are stopped again). */
int fleet_start(struct fleet *f, uint64_t start_ns);

/* Asks every loop to stop scheduling and drain: in-flight and waiting requests may finish
 * for up to grace_ns, then the loop ends. Thread-safe; idempotent. */
void fleet_stop(struct fleet *f);

/* As fleet_stop, and ends the drain at once (requests in flight stay unanswered). Thread-safe. */
void fleet_cut(struct fleet *f);

/* True once every loop has ended (after fleet_stop and the drain). Thread-safe. */
bool fleet_finished(const struct fleet *f);

/* Waits for every loop thread to end. Returns 0. */
int fleet_join(struct fleet *f);

/* Adds the interval data the loops have snapshotted since the last call into out (a registry
 * without interval data) and stores in *taken_ns (may be NULL) when the latest of those
 * snapshots was taken (clock_now_ns time; 0 when none). Thread-safe against running loops.
 * Returns 0 or a negative errno. */
int fleet_interval_take(struct fleet *f, struct metrics *out, uint64_t *taken_ns);

/* After fleet_join: adds every loop's cumulative metrics into out (exact). */
int fleet_metrics_merge(const struct fleet *f, struct metrics *out);

/* After fleet_join: the loops' counters summed (first_unknown = the lowest index). */
void fleet_counters(const struct fleet *f, struct agent_counters *out);

/* After fleet_join: requests still waiting or in flight when the loops ended. */
int64_t fleet_in_flight(const struct fleet *f);

/* After fleet_join: the largest share (0..1) of one core a loop thread used while running. */
double fleet_max_core_share(const struct fleet *f);

/* After fleet_join: the largest share (0..1) of its time a loop thread wanted a CPU (running or
 * queued for one; engine/loop_group.h). */
double fleet_max_demand_share(const struct fleet *f);

/* Frees the fleet (joins first if needed). NULL is fine. */
void fleet_free(struct fleet *f);

/* One planned event for --dry-run. */
struct fleet_plan_event {
    uint32_t index;         /* agent */
    enum agent_endpoint ep; /* heartbeat or work */
    uint64_t offset_ns;     /* intended time since the run start */
};

/* The first max_events events this shard's agents would schedule (heartbeats and polls, in
 * intended-time order; ties by agent then endpoint), computed from the same schedule the
 * agents use, without a network. Stores a malloc'd array in *out. Returns the count, or
 * -ENOMEM. */
long fleet_plan(const struct fleet_config *cfg, size_t max_events, struct fleet_plan_event **out);

#endif
