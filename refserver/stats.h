/* refserver/stats.h - fleetsim-target's own counts, served as GET /_target/stats (docs/target.md):
 * requests by endpoint and status (fixed arrays), heartbeats recorded per agent (a flat array
 * indexed by the seeded fleet's identity index; a small hash only for agents registered over
 * the API), plus the store's job and agent counts when rendered. Event-loop thread only. */
#ifndef FLEETSIM_TARGET_STATS_H
#define FLEETSIM_TARGET_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "refserver/endpoint.h"

struct evbuffer;
struct store;
struct target_stats;

/* Statuses counted individually are 100..599; anything else is counted as 0. */
#define TSTATS_MAX_STATUS 600

/* Creates the counters for a fleet of prefix (copied) whose agents 1..seeded_agents were
 * seeded. Returns NULL on out of memory. */
struct target_stats *tstats_new(const char *prefix, uint32_t seeded_agents);

/* Frees the counters (NULL is fine). */
void tstats_free(struct target_stats *st);

/* Counts one answered request. */
void tstats_request(struct target_stats *st, enum target_endpoint ep, int status);

/* Counts one recorded heartbeat of agent_id. O(1) for seeded agents; allocates only the first
 * time a registered (non-seeded) agent is seen. */
void tstats_heartbeat(struct target_stats *st, const char *agent_id);

/* Counts one accepted verify report (200), verified or not. */
void tstats_verify(struct target_stats *st, bool verified);

/* Counts one accepted discovery report (202) of that many certificates. */
void tstats_discovery(struct target_stats *st, uint64_t certificates);

/* Appends the whole /_target/stats JSON document, reading job and agent counts from store.
 * Returns 0, -ENOMEM, or -EIO when the store failed. */
int tstats_write_json(const struct target_stats *st, struct store *store, struct evbuffer *out);

#endif
