/* engine/metric_names.c - the registered actors, endpoints and actor metrics (see
 * metric_names.h) in three fixed arrays, and the engine's own request metrics beside them. */
#include "engine/metric_names.h"

#include <errno.h>
#include <string.h>

/* The request metrics every series carries (engine/metrics.h): never registered. */
static const struct metric_name engine_metrics[] = {
    {METRIC_HTTP_REQ_DURATION, METRICS_TREND, NULL},
    {METRIC_HTTP_REQ_SERVICE, METRICS_TREND, NULL},
    {METRIC_HTTP_REQ_LAG, METRICS_TREND, NULL},
    {METRIC_HTTP_REQ_WAIT, METRICS_TREND, NULL},
    {METRIC_HTTP_REQ_CONNECTING, METRICS_TREND, NULL},
    {METRIC_HTTP_REQ_TLS_HANDSHAKING, METRICS_TREND, NULL},
    {METRIC_HTTP_REQ_FAILED, METRICS_RATE, NULL},
    {METRIC_HTTP_REQ_5XX, METRICS_RATE, NULL},
    {METRIC_HTTP_REQS, METRICS_COUNTER, METRICS_TAG_STATUS},
    {METRIC_HTTP_429, METRICS_COUNTER, NULL},
    {METRIC_DROPPED_REQUESTS, METRICS_COUNTER, NULL},
    {METRIC_UNANSWERED_REQUESTS, METRICS_COUNTER, NULL},
    {METRIC_UNSERVED_REQUESTS, METRICS_RATE, NULL},
};

#define N_ENGINE_METRICS (sizeof engine_metrics / sizeof engine_metrics[0])

/* A list of registered names. */
struct name_list {
    size_t n;
    const char *names[METRIC_NAMES_MAX];
};

static struct name_list actors, endpoints;
static size_t n_metrics;
static struct metric_name metrics[METRIC_NAMES_MAX];

static bool same(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool in_list(const struct name_list *l, const char *name)
{
    for (size_t i = 0; name != NULL && i < l->n; i++)
        if (strcmp(l->names[i], name) == 0)
            return true;
    return false;
}

static int list_add(struct name_list *l, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return -EINVAL;
    if (in_list(l, name))
        return 0;
    if (l->n == METRIC_NAMES_MAX)
        return -ENOSPC;
    l->names[l->n++] = name;
    return 0;
}

int metric_names_add_actor(const char *name)
{
    return list_add(&actors, name);
}

int metric_names_add_endpoint(const char *name)
{
    return list_add(&endpoints, name);
}

static const struct metric_name *engine_metric(const char *name)
{
    for (size_t i = 0; name != NULL && i < N_ENGINE_METRICS; i++)
        if (strcmp(engine_metrics[i].name, name) == 0)
            return &engine_metrics[i];
    return NULL;
}

static const struct metric_name *registered_metric(const char *name)
{
    for (size_t i = 0; name != NULL && i < n_metrics; i++)
        if (strcmp(metrics[i].name, name) == 0)
            return &metrics[i];
    return NULL;
}

int metric_names_add_metric(const char *name, enum metrics_kind kind, const char *extra_tag)
{
    if (name == NULL || name[0] == '\0' || engine_metric(name) != NULL)
        return -EINVAL;
    const struct metric_name *old = registered_metric(name);
    if (old != NULL)
        return old->kind == kind && same(old->extra_tag, extra_tag) ? 0 : -EINVAL;
    if (n_metrics == METRIC_NAMES_MAX)
        return -ENOSPC;
    metrics[n_metrics++] = (struct metric_name){name, kind, extra_tag};
    return 0;
}

bool metric_names_actor_known(const char *name)
{
    return in_list(&actors, name);
}

bool metric_names_endpoint_known(const char *name)
{
    return in_list(&endpoints, name);
}

const struct metric_name *metric_names_metric(const char *name)
{
    const struct metric_name *m = engine_metric(name);
    return m != NULL ? m : registered_metric(name);
}

size_t metric_names_actor_count(void)
{
    return actors.n;
}

const char *metric_names_actor_at(size_t i)
{
    return i < actors.n ? actors.names[i] : NULL;
}

size_t metric_names_endpoint_count(void)
{
    return endpoints.n;
}

const char *metric_names_endpoint_at(size_t i)
{
    return i < endpoints.n ? endpoints.names[i] : NULL;
}

size_t metric_names_metric_count(void)
{
    return N_ENGINE_METRICS + n_metrics;
}

const struct metric_name *metric_names_metric_at(size_t i)
{
    if (i < N_ENGINE_METRICS)
        return &engine_metrics[i];
    i -= N_ENGINE_METRICS;
    return i < n_metrics ? &metrics[i] : NULL;
}

bool metric_names_extra_tag_known(const char *key)
{
    if (key == NULL)
        return false;
    for (size_t i = 0; i < metric_names_metric_count(); i++)
        if (same(metric_names_metric_at(i)->extra_tag, key))
            return true;
    return false;
}

void metric_names_clear(void)
{
    actors.n = 0;
    endpoints.n = 0;
    n_metrics = 0;
}
