/* src/run_acme.h - the ACME client actors' part of `fleetsim run` (sim/acme.h): which directory
 * they use (--acme-directory, else certctl's or the built-in target's
 * /acme/profile/<--acme-profile>/directory), the ACME pre-flight (profile created through the
 * API when missing, directory answering JSON), the actors on their own thread(s) beside the
 * fleet, their interval and final metrics, and their summary lines. Every function accepts
 * NULL (no ACME clients) and then does nothing, so the run can call them unconditionally. */
#ifndef FLEETSIM_SRC_RUN_ACME_H
#define FLEETSIM_SRC_RUN_ACME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/metrics.h"

struct run_ctx;
struct run_acme;

/* True when the run has ACME clients (--acme-clients, or a preset that sets them). */
bool run_acme_wanted(const struct run_ctx *c);

/* The scenario tag of the ACME requests: the first --scenario preset that sets ACME clients,
 * else the run's scenario (the agents' tag, "default" without --scenario). */
const char *run_acme_scenario(const struct run_ctx *c);

/* --dry-run: the ACME plan ("plan: acme: N clients in order mode, es256 keys, directory URL,
 * scenario S") on out; nothing is contacted. Prints nothing when the run has no ACME clients. */
void run_acme_plan(const struct run_ctx *c, FILE *out);

/* The ACME pre-flight and setup; call after run_setup_target (and preflight_run), not in a dry
 * run. Against certctl or the built-in target: the profile exists (created through
 * POST /api/v1/profiles when GET says 404), then the directory answers as JSON (an HTML page:
 * certctl's dashboard, one line); with --acme-directory only the directory check, with its own
 * TLS context (--acme-cacert, --insecure) and no API key. One "pre-flight: ok: ..." line per
 * check on stderr unless --quiet. Stores NULL in *out when the run has no ACME clients.
 * Returns 0, or 1 (EXIT_STATUS_FAILED) with one line on stderr. */
int run_acme_setup(const struct run_ctx *c, struct run_acme **out);

/* Starts the actors' thread(s); their schedule counts from start_ns (the fleet's). Returns 0,
 * or 1 (EXIT_STATUS_FAILED) with a line on stderr. */
int run_acme_start(struct run_acme *ra, uint64_t start_ns);

/* Asks the actors to start nothing new; requests in flight may finish for up to --grace.
 * Thread-safe; idempotent. */
void run_acme_stop(struct run_acme *ra);

/* As run_acme_stop, and ends the drain at once (a second signal). NULL is fine. */
void run_acme_cut(struct run_acme *ra);

/* True once the actors' loops have ended (true for NULL). Thread-safe. */
bool run_acme_finished(const struct run_acme *ra);

/* Waits for the actors' threads to end. */
void run_acme_join(struct run_acme *ra);

/* Adds the interval data the actors snapshotted since the last call into out (a registry
 * without interval data). Thread-safe. Returns 0 or a negative errno. */
int run_acme_interval_take(struct run_acme *ra, struct metrics *out);

/* After run_acme_join: adds the actors' cumulative metrics (request series, acme_* counters
 * and rates) into out exactly. Returns 0 or a negative errno. */
int run_acme_merge(const struct run_acme *ra, struct metrics *out);

/* After run_acme_join: requests still in flight when the loops ended (0 for NULL). */
int64_t run_acme_in_flight(const struct run_acme *ra);

/* After run_acme_join: the largest share of one core an actor loop used (0 for NULL). */
double run_acme_max_core_share(const struct run_acme *ra);

/* After run_acme_join: the ACME lines of the summary (orders or iterations completed, failed by
 * reason, abandoned; badNonce resends; renewal-info; 429s and their shape; the certctl
 * finalize hint) on out; m is the run's merged metrics (for the failure reasons). */
void run_acme_print(const struct run_acme *ra, const struct metrics *m, FILE *out);

/* Stops, joins and frees (NULL is fine). */
void run_acme_free(struct run_acme *ra);

#endif
