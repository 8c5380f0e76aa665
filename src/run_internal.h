/* src/run_internal.h - the pieces of `fleetsim run` (src/cmd_run.c) shared between its files:
 * the run context with its actors (src/actor.h), setup (presets, profile, target, TLS), the
 * control loop and the report. Private to src/cmd_run.c, src/run_*.c and the actors. */
#ifndef FLEETSIM_SRC_RUN_INTERNAL_H
#define FLEETSIM_SRC_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/ssl.h>

#include "engine/http_client.h"
#include "engine/metrics.h"
#include "engine/parse.h"
#include "engine/run_result.h"
#include "engine/threshold.h"
#include "sim/agent.h"
#include "sim/fleet.h"
#include "sim/preset.h"
#include "src/actor.h"
#include "src/options.h"

/* Share of 429 answers in an interval that prints the per-IP limiter hint. */
#define RUN_429_HINT_SHARE 0.01
/* A loop thread using this share of a core was saturated (fleetsim was the bottleneck). */
#define RUN_SATURATED_CORE_SHARE 0.95
/* A loop thread that wanted a CPU (running or queued for one) this share of its time, while
 * fleetsim's own lag was over the limit, makes the verdict client_saturated (docs/metrics.md). */
#define RUN_SATURATED_DEMAND_SHARE 0.9
/* Events --dry-run prints at least (more when the shard has more agents). */
#define RUN_DRY_RUN_MIN_EVENTS 1000u

struct target;

/* Everything one `fleetsim run` holds. */
struct run_ctx {
    struct run_config cfg; /* the caller's, with presets applied (strings borrowed) */
    const char *scenario;  /* scenario tag of the agents */
    bool quiet;
    struct agent_settings set;
    char **ids;            /* server-assigned ids by index - 1, or NULL */
    struct target *target; /* the built-in target, or NULL */
    SSL_CTX *ssl;
    struct http_conn_config cc;
    bool have_conn; /* cc is set up (not in a dry run without a target) */
    char host[PARSE_HOST_MAX];
    char target_text[PARSE_HOST_MAX + PARSE_PATH_MAX + 32];
    char api_key[OPTIONS_API_KEY_MAX + 1]; /* secret */
    struct threshold *thresholds;          /* the command line's and the presets' */
    size_t n_thresholds;
    struct metrics *pre;                 /* requests made before the actors run (--register) */
    struct run_actor actors[ACTORS_MAX]; /* the run's actors, in registration order */
    size_t n_actors;
    struct out_stream *interval_log; /* --interval-log (engine/out_file.h), or NULL */
    bool output_lost;                /* an output failed (reported): the run exits 1 */
    struct run_result result;        /* interruption and drain (run_control), status (run_report) */
    uint64_t pre_in_flight;          /* registration requests a signal left unanswered */
    bool target_is_refserver; /* the server is fleetsim-target (its /api/v1/version says so) */
    time_t started_at, ended_at;
    uint64_t start_ns, end_ns;
};

/* Copies the parsed configuration (options_parse has applied the presets), builds the agent
 * settings (profile, then presets' and explicit timers) and the thresholds. Returns 0 or
 * EXIT_STATUS_FAILED with a line printed. */
int run_setup_config(struct run_ctx *c, const struct run_config *given);

/* Starts the built-in target when there is no URL (not in a dry run), builds the TLS context
 * and the connection settings. Returns 0 or EXIT_STATUS_FAILED with a line printed. */
int run_setup_target(struct run_ctx *c);

/* Reads --agents-file (without --register). Returns 0, or EXIT_STATUS_USAGE with a line printed. */
int run_setup_ids(struct run_ctx *c);

/* The fleet settings for this run. */
void run_fleet_config(const struct run_ctx *c, struct fleet_config *fc);

/* "timer slot 5ms", or "exact timers" for --timer-slot 0, into buf (for the plan and summary). */
void run_timer_slot_text(const struct run_ctx *c, char *buf, size_t n);

/* Releases what setup made: frees the actors (their connections go before the target and the
 * TLS context), stops the built-in target. */
void run_teardown(struct run_ctx *c);

/* Agents of this process's shard (0 when the run has no agents, e.g. acme-burst). */
uint32_t run_shard_agents(const struct run_ctx *c);

/* --dry-run: every wanted actor's plan, in registration order. */
void run_actors_plan(const struct run_ctx *c, FILE *out);

/* Sets up every registered actor the run wants (src/actor.h), in registration order, into
 * c->actors. Returns 0, or EXIT_STATUS_FAILED with a line printed (the actors set up so far are
 * freed by run_teardown). */
int run_actors_setup(struct run_ctx *c);

/* Frees the run's actors, last first (stopped and joined if needed). */
void run_actors_free(struct run_ctx *c);

/* Runs the run's actors for --duration with live progress, --metrics-listen, signals and the
 * drain. Returns 0 or EXIT_STATUS_FAILED. */
int run_control(struct run_ctx *c);

/* Prints the summary, writes --summary-json and --html, evaluates thresholds. Returns the
 * exit code. */
int run_report(struct run_ctx *c);

/* Reports on stderr that the output given by option (path) failed with the negative errno
 * rc, what happens now (note), and marks the run to exit 1. */
void run_output_lost(struct run_ctx *c, const char *option, const char *path, int rc,
                     const char *note);

/* Sum of 429 answers and of all answers over the series of m. */
void run_count_429(const struct metrics *m, uint64_t *n429, uint64_t *answered);

/* The per-IP limiter hint (stderr), printed at most once per run by the callers; it names the
 * knob of the server that answered: fleetsim-target's --rate-limit when refserver, else
 * certctl's. */
void run_print_429_hint(uint64_t n429, uint64_t answered, bool refserver);

#endif
