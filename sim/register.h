/* sim/register.h - `--register`: create this shard's agents through certctl's API
 * (POST /api/v1/agents, as an operator does; docs/certctl.md, "The agent", step 0) with bounded
 * concurrency and a progress line, keeping the ids the server assigns; and the --agents-file that
 * stores those ids ("INDEX ID" per line) for later runs. */
#ifndef FLEETSIM_SIM_REGISTER_H
#define FLEETSIM_SIM_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/http_client.h"
#include "engine/metrics.h"
#include "sim/agent.h"

/* Default number of registrations in flight at once. */
#define REGISTER_DEFAULT_CONCURRENCY 64u
/* Registration stops issuing new requests after this many failures. */
#define REGISTER_MAX_FAILURES 100u

struct register_config {
    const struct agent_settings *set;    /* names, metadata, headers, base path */
    const struct http_conn_config *conn; /* destination */
    uint32_t n_agents, shard_k, shard_n; /* the fleet and this shard */
    uint32_t concurrency;                /* 0 = REGISTER_DEFAULT_CONCURRENCY */
    FILE *progress;                      /* progress line destination, NULL = none */
    struct metrics *metrics; /* records series (scenario, agent, register); may be NULL */
    uint32_t in_flight_end;  /* out: requests still in flight when a signal ended it early */
};

/* Registers the shard's agents (name, hostname, os, architecture, ip_address, version from
 * sim/identity) and stores each server-assigned id, malloc'd, in ids[index - 1] (ids has
 * n_agents entries). Returns 0, or -EIO with a one-line reason in err (the first failure and
 * the count, with a hint for 409 "name exists"), or -EINTR when SIGINT/SIGTERM (engine/interrupt.h)
 * ended it early (cfg->in_flight_end then counts the requests left unanswered). ids already filled stay for the caller to free. */
int register_agents(struct register_config *cfg, char **ids, char *err, size_t errlen);

/* Writes the shard's ids as "INDEX ID" lines (after a '#' comment line) to path, atomically.
 * Returns 0 or a negative errno with a reason in err. */
int register_write_file(const char *path, char *const *ids, uint32_t n_agents, uint32_t shard_k,
                        uint32_t shard_n, char *err, size_t errlen);

/* Reads an agents file (a regular file, engine/in_file.h) into ids[index - 1] (malloc'd
 * strings; ids has n_agents entries) and checks that every agent of shard k/n has an id.
 * Returns 0, -errno for I/O, or -EINVAL for a malformed line, a NUL byte in a line, an index
 * out of 1..n_agents, an index given twice, a bad id, an id given to two agents, or a missing
 * agent, with a reason naming the file and the line (both lines for a repeat) in err. */
int register_read_file(const char *path, char **ids, uint32_t n_agents, uint32_t shard_k,
                       uint32_t shard_n, char *err, size_t errlen);

#endif
