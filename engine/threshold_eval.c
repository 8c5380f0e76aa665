/* engine/threshold_eval.c - evaluation of a parsed threshold over a metrics registry: the
 * series and tagged metrics matching its tag filter are merged, the aggregation taken and
 * compared. */
#include "engine/threshold.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"

#define US_PER_MS 1000.0
#define TOO_MANY_REQUESTS 429

static bool streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Value of tag key in t's filter, or NULL when the filter does not name it. */
static const char *filter_value(const struct threshold *t, const char *key)
{
    for (size_t i = 0; i < t->n_tags; i++)
        if (strcmp(t->tags[i].key, key) == 0)
            return t->tags[i].value;
    return NULL;
}

static bool tag_matches(const struct threshold *t, const char *key, const char *actual)
{
    const char *want = filter_value(t, key);
    return want == NULL || streq(want, actual);
}

static bool tags_match(const struct threshold *t, const char *scenario, const char *actor,
                       const char *endpoint)
{
    return tag_matches(t, METRICS_TAG_SCENARIO, scenario) &&
           tag_matches(t, METRICS_TAG_ACTOR, actor) &&
           tag_matches(t, METRICS_TAG_ENDPOINT, endpoint);
}

/* The filter's extra tag (a registered metric's own key, such as a problem type), or NULL. */
static const struct threshold_tag *extra_filter(const struct threshold *t)
{
    for (size_t i = 0; i < t->n_tags; i++) {
        const char *key = t->tags[i].key;
        if (strcmp(key, METRICS_TAG_SCENARIO) != 0 && strcmp(key, METRICS_TAG_ACTOR) != 0 &&
            strcmp(key, METRICS_TAG_ENDPOINT) != 0 && strcmp(key, METRICS_TAG_STATUS) != 0)
            return &t->tags[i];
    }
    return NULL;
}

static bool tagged_matches(const struct threshold *t, const struct metrics_tagged *g)
{
    const struct threshold_tag *extra = extra_filter(t);
    if (!streq(g->metric, t->metric) || !tags_match(t, g->scenario, g->actor, g->endpoint))
        return false;
    return extra == NULL || (streq(g->tag_key, extra->key) && streq(g->tag_value, extra->value));
}

/* Merge every matching histogram of m into acc. */
static void gather_trend(const struct threshold *t, const struct metrics *m, struct hist *acc)
{
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        struct metrics_series *s = metrics_series_at(m, i);
        const struct hist *h = metrics_series_hist(s, t->metric);
        if (h != NULL && tags_match(t, s->scenario, s->actor, s->endpoint))
            hist_add(acc, h);
    }
    for (size_t i = 0; i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *g = metrics_tagged_at(m, i);
        if (g->kind == METRICS_TREND && tagged_matches(t, g))
            hist_add(acc, g->trend);
    }
}

/* Hits and samples of a rate metric over the matching series / tagged rates. */
static void gather_rate(const struct threshold *t, const struct metrics *m, uint64_t *hits,
                        uint64_t *total)
{
    *hits = *total = 0;
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        if (!tags_match(t, s->scenario, s->actor, s->endpoint))
            continue;
        if (strcmp(t->metric, METRIC_HTTP_REQ_FAILED) == 0) {
            *hits += s->total.failed;
            *total += metrics_outcomes_completed(&s->total);
        } else if (strcmp(t->metric, METRIC_HTTP_REQ_5XX) == 0) {
            *hits += s->total.status_class[5];
            *total += s->total.answered;
        } else if (strcmp(t->metric, METRIC_UNSERVED_REQUESTS) == 0) {
            *hits += s->total.dropped;
            *total += s->total.scheduled;
        }
    }
    for (size_t i = 0; i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *g = metrics_tagged_at(m, i);
        if (g->kind == METRICS_RATE && tagged_matches(t, g)) {
            *hits += g->value;
            *total += g->total;
        }
    }
}

/* Answered requests of o with status (exact "404" or class "4xx"). */
static uint64_t status_count(const struct metrics_outcomes *o, const char *status)
{
    int first = status[0] - '0';
    if (status[1] == 'x')
        return o->status_class[first];
    int code = atoi(status);
    if (code < METRICS_STATUS_LOWEST || code > METRICS_STATUS_HIGHEST)
        return 0;
    return o->status[code - METRICS_STATUS_LOWEST];
}

static uint64_t series_counter(const struct threshold *t, const struct metrics_outcomes *o)
{
    const char *status = filter_value(t, METRICS_TAG_STATUS);
    if (strcmp(t->metric, METRIC_HTTP_REQS) == 0)
        return status ? status_count(o, status) : metrics_outcomes_completed(o);
    if (strcmp(t->metric, METRIC_HTTP_429) == 0)
        return o->status[TOO_MANY_REQUESTS - METRICS_STATUS_LOWEST];
    if (strcmp(t->metric, METRIC_DROPPED_REQUESTS) == 0)
        return o->dropped;
    if (strcmp(t->metric, METRIC_UNANSWERED_REQUESTS) == 0)
        return o->unanswered;
    return 0;
}

static uint64_t gather_count(const struct threshold *t, const struct metrics *m)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        if (tags_match(t, s->scenario, s->actor, s->endpoint))
            sum += series_counter(t, &s->total);
    }
    for (size_t i = 0; i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *g = metrics_tagged_at(m, i);
        if (g->kind == METRICS_COUNTER && tagged_matches(t, g))
            sum += g->value;
    }
    return sum;
}

static double trend_value(const struct threshold *t, const struct hist *h)
{
    switch (t->agg) {
    case THRESHOLD_AGG_PERCENTILE:
        return (double)hist_value_at_percentile(h, t->percentile) / US_PER_MS;
    case THRESHOLD_AGG_AVG:
        return hist_mean(h) / US_PER_MS;
    case THRESHOLD_AGG_MED:
        return (double)hist_value_at_percentile(h, 50) / US_PER_MS;
    case THRESHOLD_AGG_MIN:
        return (double)hist_min(h) / US_PER_MS;
    case THRESHOLD_AGG_MAX:
        return (double)hist_max(h) / US_PER_MS;
    default:
        return (double)hist_count(h);
    }
}

static int eval_trend(const struct threshold *t, const struct metrics *m,
                      struct threshold_result *res)
{
    struct hist acc;
    if (hist_init_default(&acc) != 0)
        return -ENOMEM;
    gather_trend(t, m, &acc);
    res->has_data = hist_count(&acc) > 0 || t->agg == THRESHOLD_AGG_COUNT;
    res->observed = res->has_data ? trend_value(t, &acc) : NAN;
    hist_destroy(&acc);
    return 0;
}

static void eval_rate(const struct threshold *t, const struct metrics *m,
                      struct threshold_result *res)
{
    uint64_t hits, total;
    gather_rate(t, m, &hits, &total);
    res->has_data = total > 0;
    res->observed = res->has_data ? (double)hits / (double)total : NAN;
}

static void eval_counter(const struct threshold *t, const struct metrics *m,
                         struct threshold_result *res)
{
    double count = (double)gather_count(t, m);
    double elapsed_s = (double)metrics_elapsed_ns(m) / (double)CLOCK_NS_PER_S;
    if (t->agg == THRESHOLD_AGG_COUNT) {
        res->has_data = true;
        res->observed = count;
        return;
    }
    res->has_data = elapsed_s > 0;
    res->observed = res->has_data ? count / elapsed_s : NAN;
}

static bool compare(enum threshold_op op, double observed, double limit)
{
    switch (op) {
    case THRESHOLD_LT:
        return observed < limit;
    case THRESHOLD_LE:
        return observed <= limit;
    case THRESHOLD_GT:
        return observed > limit;
    case THRESHOLD_GE:
        return observed >= limit;
    case THRESHOLD_EQ:
        return observed == limit;
    }
    return false;
}

/* Unit of the observed value of t. */
static const char *observed_unit(const struct threshold *t)
{
    if (t->agg == THRESHOLD_AGG_COUNT || t->type == THRESHOLD_RATE)
        return "";
    return t->type == THRESHOLD_TREND ? "ms" : "/s";
}

int threshold_evaluate(const struct threshold *t, const struct metrics *m,
                       struct threshold_result *res)
{
    int rc = 0;
    memset(res, 0, sizeof *res);
    snprintf(res->expr, sizeof res->expr, "%s", t->spec);
    res->observed = NAN;
    snprintf(res->unit, sizeof res->unit, "%s", observed_unit(t));
    if (t->type == THRESHOLD_TREND)
        rc = eval_trend(t, m, res);
    else if (t->type == THRESHOLD_RATE)
        eval_rate(t, m, res);
    else
        eval_counter(t, m, res);
    res->ok = rc == 0 && res->has_data && compare(t->op, res->observed, t->value);
    return rc;
}

char *threshold_format_observed(const struct threshold_result *res, char *buf, size_t n)
{
    if (!res->has_data)
        snprintf(buf, n, "no data");
    else if (strcmp(res->unit, "ms") == 0)
        snprintf(buf, n, "%.3f ms", res->observed);
    else if (strcmp(res->unit, "/s") == 0)
        snprintf(buf, n, "%.3f/s", res->observed);
    else
        snprintf(buf, n, "%.6g", res->observed);
    return buf;
}
