/* src/run_operator.h - the operator actor's part of `fleetsim run`: decides whether the run has
 * an operator (--bulk-rate, or a preset that sets it; shard 0 only), runs it on its own thread
 * and event_base beside the fleet's loops, hands its interval and final metrics to the run, and
 * prints the campaign lines of the summary. Every function accepts NULL (no operator) and then
 * does nothing, so the run can call them unconditionally. */
#ifndef FLEETSIM_SRC_RUN_OPERATOR_H
#define FLEETSIM_SRC_RUN_OPERATOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/metrics.h"

struct run_ctx;
struct run_operator;

/* True when the run has an operator: a bulk rate is set (--bulk-rate or a preset), and this
 * process runs shard 0 (one operator per distributed run, not one per shard). */
bool run_operator_wanted(const struct run_ctx *c);

/* The scenario tag of the operator's requests: the first --scenario preset that sets a bulk
 * rate, else the run's scenario (the agents' tag, "default" without --scenario). */
const char *run_operator_scenario(const struct run_ctx *c);

/* --dry-run: the operator's plan (certificates, batches, rate, one pass's length) and its first
 * calls, as "event operator bulk_renew mc-P-00001..mc-P-00050 OFFSET_MS" lines, on out.
 * Prints nothing when the run has no operator. */
void run_operator_plan(const struct run_ctx *c, FILE *out);

/* Creates the operator (against c->cc, with c->api_key, c->set.base_path) and starts its
 * thread; its schedule counts from start_ns (the fleet's). Call after run_setup_target, with
 * the same start_ns as fleet_start. Stores NULL in *out when the run has no operator.
 * Returns 0, or 1 (EXIT_STATUS_FAILED) with a line printed on stderr. */
int run_operator_start(const struct run_ctx *c, uint64_t start_ns, struct run_operator **out);

/* Asks the operator to stop scheduling; requests in flight may finish for up to c->cfg.grace_ns
 * (--grace), then its loop ends. Thread-safe; idempotent. */
void run_operator_stop(struct run_operator *ro);

/* As run_operator_stop, and ends the drain at once (a second signal). NULL is fine. */
void run_operator_cut(struct run_operator *ro);

/* True once the operator's loop has ended (true for NULL). Thread-safe. */
bool run_operator_finished(const struct run_operator *ro);

/* Waits for the operator's thread to end. */
void run_operator_join(struct run_operator *ro);

/* Adds the interval data the operator snapshotted since the last call into out (a registry
 * without interval data). Thread-safe. Returns 0 or a negative errno. */
int run_operator_interval_take(struct run_operator *ro, struct metrics *out);

/* After run_operator_join: adds the operator's cumulative metrics (its request series, the
 * bulk_renew_* and campaign_* counters, campaign_duration) into out exactly. Returns 0 or a
 * negative errno. */
int run_operator_merge(struct run_operator *ro, struct metrics *out);

/* After run_operator_join: requests still in flight when its loop ended (0 for NULL). */
int64_t run_operator_in_flight(const struct run_operator *ro);

/* After run_operator_join: the operator's and the campaign's lines of the summary. */
void run_operator_print(const struct run_operator *ro, FILE *out);

/* Frees the operator (stops and joins first if needed). NULL is fine. */
void run_operator_free(struct run_operator *ro);

#endif
