/* src/preflight.h - the checks before any load (docs/fleet.md, "Before the run"), one clear line
 * each: the target answers /health, the API key is accepted, agents across the whole shard exist
 * (first, last and a bounded spread; a missing one narrowed down to the first missing by
 * bisection), and the
 * file-descriptor and local-port budgets fit the fleet (else how many are needed and which
 * option helps). Also prints the same plan without a network for --dry-run. */
#ifndef FLEETSIM_SRC_PREFLIGHT_H
#define FLEETSIM_SRC_PREFLIGHT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/http_client.h"
#include "sim/agent.h"

/* File descriptors kept aside for everything that is not an agent connection. */
#define PREFLIGHT_FD_OVERHEAD 64u
/* Agents of the shard whose existence pre-flight checks at most (first, last and a spread
 * between), each with one heartbeat; a missing one is then narrowed down by bisection. */
#define PREFLIGHT_AGENT_SAMPLE 16u
/* Times one agent check is asked again after a 429 (one second apart). */
#define PREFLIGHT_429_RETRIES 5u
/* How fleetsim-target's GET /api/v1/version begins its version. */
#define PREFLIGHT_REFSERVER_VERSION "fleetsim-target-"

struct preflight_input {
    const struct http_conn_config *conn; /* destination (NULL in a dry run without a target) */
    const struct agent_settings *set;    /* headers, base path, ids, heartbeat body */
    const char *target_text;             /* "https://host:port" or "the built-in target" */
    uint32_t first_index;                /* the shard's first agent */
    uint32_t shard_agents;               /* agents in the shard (0: first_index only) */
    uint32_t shard_k, shard_n;           /* the shard: agent at position p is
                                            fleet_shard_index(p, shard_k, shard_n) */
    bool check_agent;                    /* false with --register */
    uint64_t connections;                /* client connections the fleet will hold */
    bool builtin_target;                 /* the target's sockets live in this process too */
    uint32_t source_count;               /* --source-ips addresses, 0 = none */
};

/* The file-descriptor budget: fills *needed and *limit (RLIMIT_NOFILE soft limit, raised to
 * the hard limit when that helps). Returns true when it fits. */
bool preflight_fd_budget(const struct preflight_input *in, uint64_t *needed, uint64_t *limit);

/* The local-port budget: ports the connections need per destination against the ephemeral
 * range times the source addresses. Returns true when it fits. */
bool preflight_port_budget(const struct preflight_input *in, uint64_t *needed, uint64_t *available);

/* Runs every check, writing one line per check to out (NULL = silent). Returns 0 when all
 * pass, 1 (the exit code for "could not run") on the first failure, whose line is always
 * written to stderr too; also 1 when SIGINT/SIGTERM (engine/interrupt.h) ended it (the line
 * then says "interrupted"). */
int preflight_run(const struct preflight_input *in, FILE *out);

/* True when the target says it is fleetsim-target (GET /api/v1/version answers a version
 * "fleetsim-target-..."), so hints can name its own options instead of certctl's. */
bool preflight_target_is_refserver(const struct preflight_input *in);

/* Writes the checks a real run would make, and the budgets, without contacting anything. */
void preflight_plan(const struct preflight_input *in, FILE *out);

#endif
