/* engine/threshold.h - k6-style pass/fail thresholds: parse `METRIC[{tag:value,...}]:EXPR`
 * (EXPR = AGG OP NUMBER[unit], AGG one of p(N), avg, med, min, max, count, rate) against the
 * engine's own metrics and the names the caller registered (engine/metric_names.h), and evaluate one over every matching series of a registry. */
#ifndef FLEETSIM_ENGINE_THRESHOLD_H
#define FLEETSIM_ENGINE_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/metrics.h"

#define THRESHOLD_SPEC_MAX 256 /* longest accepted spec, bytes including NUL */
#define THRESHOLD_NAME_MAX 64  /* longest metric name, tag key or tag value */
#define THRESHOLD_MAX_TAGS 5   /* scenario, actor, endpoint, status or a metric's own tag */

/* What kind of data a metric is. */
enum threshold_metric_type {
    THRESHOLD_TREND,  /* durations: p(N), avg, med, min, max, count */
    THRESHOLD_RATE,   /* share of samples that hit: rate */
    THRESHOLD_COUNTER /* counts: count, rate (per second of the run) */
};

enum threshold_agg {
    THRESHOLD_AGG_PERCENTILE, /* p(N) */
    THRESHOLD_AGG_AVG,
    THRESHOLD_AGG_MED,
    THRESHOLD_AGG_MIN,
    THRESHOLD_AGG_MAX,
    THRESHOLD_AGG_COUNT,
    THRESHOLD_AGG_RATE
};

enum threshold_op { THRESHOLD_LT, THRESHOLD_LE, THRESHOLD_GT, THRESHOLD_GE, THRESHOLD_EQ };

struct threshold_tag {
    char key[THRESHOLD_NAME_MAX];
    char value[THRESHOLD_NAME_MAX];
};

/* A parsed threshold (self-contained: no pointers, copy freely). */
struct threshold {
    char spec[THRESHOLD_SPEC_MAX]; /* the text as given, for reports */
    char metric[THRESHOLD_NAME_MAX];
    enum threshold_metric_type type;
    size_t n_tags;
    struct threshold_tag tags[THRESHOLD_MAX_TAGS];
    enum threshold_agg agg;
    double percentile; /* for p(N): 0 < N <= 100 */
    enum threshold_op op;
    double value; /* milliseconds for trend metrics, else plain */
};

/* Outcome of evaluating one threshold. */
struct threshold_result {
    char expr[THRESHOLD_SPEC_MAX]; /* the threshold's spec */
    bool ok;                       /* the condition holds (false when there is no data) */
    bool has_data;                 /* some sample matched (counters always have data) */
    double observed;               /* in the threshold's unit (ms for trends); NAN if no data */
    char unit[8];                  /* unit of observed: "ms", "/s" (counter rate) or "" */
};

/* Parse spec into *out. Checks: known metric (the engine's own or a registered one,
 * engine/metric_names.h), tag keys that apply to that metric, registered actor and endpoint
 * values, a registered metric's own tag (a plain word), status values (100..599 or 1xx..5xx), the aggregation
 * fits the metric type, the comparison, the number and its unit (us, ms, s, m, h; only for
 * trend metrics; a bare number is ms). Scenario values are only checked for syntax (see
 * threshold_check_scenarios). Returns 0, or -EINVAL with a one-line reason in err. */
int threshold_parse(const char *spec, struct threshold *out, char *err, size_t errlen);

/* Check that a scenario tag of t (if any) names one of the n scenarios in names.
 * Returns 0, or -EINVAL with a one-line reason in err. */
int threshold_check_scenarios(const struct threshold *t, const char *const *names, size_t n,
                              char *err, size_t errlen);

/* Evaluate t over every series/tagged metric of m matching its tag filter (histograms and
 * counters merged). Fills *res. Returns -ENOMEM when a temporary histogram cannot be
 * allocated (res then says not ok), else 0. */
int threshold_evaluate(const struct threshold *t, const struct metrics *m,
                       struct threshold_result *res);

/* Type of a known metric name; returns false when the name is unknown. */
bool threshold_metric_type(const char *metric, enum threshold_metric_type *type);

/* Write the observed value with its unit ("45.213 ms", "0.0012", "17", "2.500/s", "no data")
 * into buf (n bytes; 32 is enough). Returns buf. */
char *threshold_format_observed(const struct threshold_result *res, char *buf, size_t n);

#endif
