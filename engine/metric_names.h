/* engine/metric_names.h - the names the engine's caller registers at start: the values of the
 * actor and endpoint tags, and the actor metrics (counters, rates and trends an actor records
 * with metrics_counter_add and friends), each with the one extra tag key it may carry (such as
 * a problem type). The engine knows only its own request metrics (http_req_*, http_reqs,
 * http_429, dropped_requests); thresholds (engine/threshold.h) check every other metric, tag
 * key and tag value against what was registered here. Names are not copied: pass strings with
 * static storage. Register before starting threads; afterwards the names are only read, which
 * is safe from any thread. */
#ifndef FLEETSIM_ENGINE_METRIC_NAMES_H
#define FLEETSIM_ENGINE_METRIC_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/metrics.h"

#define METRIC_NAMES_MAX 256 /* registered names of each kind (actors, endpoints, metrics) */

/* A registered actor metric. */
struct metric_name {
    const char *name;
    enum metrics_kind kind;
    const char *extra_tag; /* the one extra tag key it may carry, or NULL */
};

/* Register an actor (a value of the actor tag). Registering a name twice is harmless.
 * Returns 0, -EINVAL (NULL or empty name) or -ENOSPC (beyond METRIC_NAMES_MAX). */
int metric_names_add_actor(const char *name);

/* Register an endpoint (a value of the endpoint tag). Returns as metric_names_add_actor. */
int metric_names_add_endpoint(const char *name);

/* Register an actor metric of kind with an optional extra tag key (NULL: none). The same name
 * again with the same kind and extra tag is harmless. Returns 0, -EINVAL (NULL or empty name,
 * a name the engine uses itself, or the name registered with another kind or extra tag) or
 * -ENOSPC. */
int metric_names_add_metric(const char *name, enum metrics_kind kind, const char *extra_tag);

/* True when name was registered as an actor / an endpoint. */
bool metric_names_actor_known(const char *name);
bool metric_names_endpoint_known(const char *name);

/* The metric called name: one of the engine's own request metrics (http_reqs carries the
 * extra tag status) or a registered actor metric; NULL when neither. */
const struct metric_name *metric_names_metric(const char *name);

/* Number of registered actors / endpoints, and of known metrics (the engine's own first, then
 * the registered ones), and the i-th of each in that order (NULL past the end). */
size_t metric_names_actor_count(void);
const char *metric_names_actor_at(size_t i);
size_t metric_names_endpoint_count(void);
const char *metric_names_endpoint_at(size_t i);
size_t metric_names_metric_count(void);
const struct metric_name *metric_names_metric_at(size_t i);

/* True when key is the extra tag of some registered actor metric. */
bool metric_names_extra_tag_known(const char *key);

/* Forget every registered name (tests that register their own). */
void metric_names_clear(void);

#endif
