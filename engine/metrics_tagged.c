/* engine/metrics_tagged.c - free-form tagged metrics of the registry (an actor's counters,
 * optionally with one extra tag such as a problem type, its rates and its trends, all named by
 * the actor), looked up by metric name and tags. */
#include "engine/metrics_internal.h"

#include <errno.h>
#include <stdlib.h>

static void tagged_free(struct metrics_tagged *t)
{
    if (t == NULL)
        return;
    hist_free(t->trend);
    free(t->metric);
    free(t->scenario);
    free(t->actor);
    free(t->endpoint);
    free(t->tag_key);
    free(t->tag_value);
    free(t);
}

void metrics_tagged_free_all(struct metrics *m)
{
    for (size_t i = 0; i < m->n_tagged; i++)
        tagged_free(m->tagged[i]);
    free(m->tagged);
    m->tagged = NULL;
    m->n_tagged = m->cap_tagged = 0;
}

struct metrics_tagged *metrics_tagged_find(const struct metrics *m, const char *metric,
                                           const char *scenario, const char *actor,
                                           const char *endpoint, const char *extra_key,
                                           const char *extra_value)
{
    for (size_t i = 0; i < m->n_tagged; i++) {
        struct metrics_tagged *t = m->tagged[i];
        if (metrics_str_eq(t->metric, metric) && metrics_str_eq(t->scenario, scenario) &&
            metrics_str_eq(t->actor, actor) && metrics_str_eq(t->endpoint, endpoint) &&
            metrics_str_eq(t->tag_key, extra_key) && metrics_str_eq(t->tag_value, extra_value))
            return t;
    }
    return NULL;
}

/* A metric name has one kind in a registry: the kind of any entry with that name. */
static bool kind_conflicts(const struct metrics *m, const char *metric, enum metrics_kind kind)
{
    for (size_t i = 0; i < m->n_tagged; i++)
        if (metrics_str_eq(m->tagged[i]->metric, metric))
            return m->tagged[i]->kind != kind;
    return false;
}

static int tagged_append(struct metrics *m, struct metrics_tagged *t)
{
    if (m->n_tagged == m->cap_tagged) {
        size_t cap = m->cap_tagged ? m->cap_tagged * 2 : 16;
        struct metrics_tagged **grown = realloc(m->tagged, cap * sizeof *grown);
        if (grown == NULL)
            return -ENOMEM;
        m->tagged = grown;
        m->cap_tagged = cap;
    }
    m->tagged[m->n_tagged++] = t;
    return 0;
}

static struct metrics_tagged *tagged_alloc(enum metrics_kind kind, const char *metric,
                                           const char *scenario, const char *actor,
                                           const char *endpoint, const char *extra_key,
                                           const char *extra_value)
{
    struct metrics_tagged *t = calloc(1, sizeof *t);
    bool ok = t != NULL;
    if (!ok)
        return NULL;
    t->kind = kind;
    t->metric = metrics_strdup_opt(metric, &ok);
    t->scenario = metrics_strdup_opt(scenario, &ok);
    t->actor = metrics_strdup_opt(actor, &ok);
    t->endpoint = metrics_strdup_opt(endpoint, &ok);
    t->tag_key = metrics_strdup_opt(extra_key, &ok);
    t->tag_value = metrics_strdup_opt(extra_value, &ok);
    if (ok && kind == METRICS_TREND) {
        t->trend = hist_new_default();
        ok = t->trend != NULL;
    }
    if (!ok) {
        tagged_free(t);
        return NULL;
    }
    return t;
}

struct metrics_tagged *metrics_tagged_get(struct metrics *m, enum metrics_kind kind,
                                          const char *metric, const char *scenario,
                                          const char *actor, const char *endpoint,
                                          const char *extra_key, const char *extra_value, int *rc)
{
    struct metrics_tagged *t;
    *rc = -EINVAL;
    if (metric == NULL || kind_conflicts(m, metric, kind))
        return NULL;
    t = metrics_tagged_find(m, metric, scenario, actor, endpoint, extra_key, extra_value);
    *rc = 0;
    if (t != NULL)
        return t;
    *rc = -ENOSPC;
    if (m->n_tagged >= METRICS_MAX_TAGGED)
        return NULL;
    *rc = -ENOMEM;
    t = tagged_alloc(kind, metric, scenario, actor, endpoint, extra_key, extra_value);
    if (t == NULL)
        return NULL;
    if (tagged_append(m, t) != 0) {
        tagged_free(t);
        return NULL;
    }
    *rc = 0;
    return t;
}

int metrics_counter_add(struct metrics *m, const char *metric, const char *scenario,
                        const char *actor, const char *endpoint, const char *extra_key,
                        const char *extra_value, uint64_t n)
{
    int rc;
    struct metrics_tagged *t = metrics_tagged_get(m, METRICS_COUNTER, metric, scenario, actor,
                                                  endpoint, extra_key, extra_value, &rc);
    if (t != NULL)
        t->value += n;
    return rc;
}

int metrics_rate_add(struct metrics *m, const char *metric, const char *scenario, const char *actor,
                     const char *endpoint, const char *extra_key, const char *extra_value, bool hit)
{
    int rc;
    struct metrics_tagged *t = metrics_tagged_get(m, METRICS_RATE, metric, scenario, actor,
                                                  endpoint, extra_key, extra_value, &rc);
    if (t != NULL) {
        t->value += hit ? 1 : 0;
        t->total++;
    }
    return rc;
}

int metrics_rate_add_n(struct metrics *m, const char *metric, const char *scenario,
                       const char *actor, const char *endpoint, const char *extra_key,
                       const char *extra_value, uint64_t hits, uint64_t total)
{
    int rc;
    if (hits > total)
        return -EINVAL;
    struct metrics_tagged *t = metrics_tagged_get(m, METRICS_RATE, metric, scenario, actor,
                                                  endpoint, extra_key, extra_value, &rc);
    if (t != NULL) {
        t->value += hits;
        t->total += total;
    }
    return rc;
}

int metrics_trend_record(struct metrics *m, const char *metric, const char *scenario,
                         const char *actor, const char *endpoint, uint64_t value_us)
{
    int rc;
    struct metrics_tagged *t =
        metrics_tagged_get(m, METRICS_TREND, metric, scenario, actor, endpoint, NULL, NULL, &rc);
    if (t != NULL)
        hist_record(t->trend, value_us);
    return rc;
}

int metrics_trend_add(struct metrics *m, const char *metric, const char *scenario,
                      const char *actor, const char *endpoint, const struct hist *src)
{
    int rc;
    struct metrics_tagged *t =
        metrics_tagged_get(m, METRICS_TREND, metric, scenario, actor, endpoint, NULL, NULL, &rc);
    return t != NULL ? hist_add(t->trend, src) : rc;
}

size_t metrics_tagged_count(const struct metrics *m)
{
    return m->n_tagged;
}

struct metrics_tagged *metrics_tagged_at(const struct metrics *m, size_t i)
{
    return i < m->n_tagged ? m->tagged[i] : NULL;
}
