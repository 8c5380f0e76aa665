/* engine/report_json_read.c - loads a summary JSON written by report_json.c back into a
 * metrics registry exactly (histogram buckets, outcome counters, tagged metrics) and reads
 * its metadata, for `fleetsim merge` and `fleetsim report`. */
#include "engine/report_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/in_file.h"
#include "engine/report_json_internal.h"
#include "engine/summary_input.h"

/* Tags of one entry (strings owned by the JSON document). */
struct entry_tags {
    const char *scenario, *actor, *endpoint, *extra_key, *extra_value;
};

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static const json_object *field(const json_object *obj, const char *key, json_type type)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

static const char *string_field(const json_object *obj, const char *key)
{
    const json_object *v = field(obj, key, json_type_string);
    return v ? json_object_get_string((json_object *)v) : NULL;
}

static bool u64_field(const json_object *obj, const char *key, uint64_t *out)
{
    const json_object *v = field(obj, key, json_type_int);
    if (v == NULL || json_object_get_int64(v) < 0)
        return false;
    *out = json_object_get_uint64(v);
    return true;
}

static int read_tags(const json_object *e, struct entry_tags *t, char *err, size_t errlen)
{
    const json_object *tags = field(e, "tags", json_type_object);
    memset(t, 0, sizeof *t);
    if (tags == NULL)
        return bad(err, errlen, "an entry has no tags object");
    json_object_object_foreach((json_object *)tags, key, val)
    {
        const char *s =
            json_object_is_type(val, json_type_string) ? json_object_get_string(val) : NULL;
        if (s == NULL)
            return bad(err, errlen, "tag '%s' is not a string", key);
        if (strcmp(key, METRICS_TAG_SCENARIO) == 0)
            t->scenario = s;
        else if (strcmp(key, METRICS_TAG_ACTOR) == 0)
            t->actor = s;
        else if (strcmp(key, METRICS_TAG_ENDPOINT) == 0)
            t->endpoint = s;
        else if (t->extra_key != NULL)
            return bad(err, errlen, "more than one extra tag ('%s', '%s')", t->extra_key, key);
        else {
            t->extra_key = key;
            t->extra_value = s;
        }
    }
    return 0;
}

static int check_histogram_config(const json_object *root, char *err, size_t errlen)
{
    const json_object *f = field(root, "fleetsim", json_type_object);
    const json_object *h = f ? field(f, "histogram", json_type_object) : NULL;
    uint64_t lowest, highest, digits;
    if (h == NULL || !u64_field(h, "lowest_us", &lowest) || !u64_field(h, "highest_us", &highest) ||
        !u64_field(h, "significant_digits", &digits))
        return bad(err, errlen,
                   "no fleetsim.histogram {lowest_us, highest_us, significant_digits}");
    if (lowest != HIST_DEFAULT_LOWEST_US || highest != HIST_DEFAULT_HIGHEST_US ||
        digits != HIST_DEFAULT_SIGNIFICANT_DIGITS)
        return bad(err, errlen,
                   "histogram configuration %" PRIu64 "-%" PRIu64 " us at %" PRIu64
                   " digits differs from this fleetsim's",
                   lowest, highest, digits);
    return 0;
}

/* Put the buckets (and clamped count) of series entry e into tmp (a fresh histogram). */
static int entry_hist(const json_object *e, struct hist *tmp, char *err, size_t errlen)
{
    const json_object *buckets = field(e, "buckets", json_type_array);
    uint64_t clamped = 0;
    if (buckets == NULL)
        return bad(err, errlen, "a series has no buckets array");
    if (hist_from_json(tmp, buckets, err, errlen) != 0)
        return -EINVAL;
    if (field(e, "clamped", json_type_int) != NULL &&
        (!u64_field(e, "clamped", &clamped) || hist_note_clamped(tmp, clamped) != 0))
        return bad(err, errlen, "a series' clamped count exceeds its top bucket");
    return 0;
}

static int load_series_entry(struct metrics *m, const json_object *e, struct hist *tmp, char *err,
                             size_t errlen)
{
    struct entry_tags t;
    const char *metric = string_field(e, "metric");
    if (metric == NULL)
        return bad(err, errlen, "a series has no metric name");
    int rc = read_tags(e, &t, err, errlen);
    if (rc == 0)
        rc = entry_hist(e, tmp, err, errlen);
    if (rc != 0)
        return rc;
    if (!metrics_is_series_trend(metric))
        rc = metrics_trend_add(m, metric, t.scenario, t.actor, t.endpoint, tmp);
    else {
        struct metrics_series *s = metrics_series(m, t.scenario, t.actor, t.endpoint);
        rc = s ? hist_add(metrics_series_hist(s, metric), tmp) : -ENOMEM;
    }
    return rc == 0 ? 0 : bad(err, errlen, "cannot add series %s: %s", metric, strerror(-rc));
}

static int load_series(struct metrics *m, const json_object *root, char *err, size_t errlen)
{
    const json_object *arr = field(root, "series", json_type_array);
    struct hist tmp;
    int rc = 0;
    if (arr == NULL)
        return bad(err, errlen, "no series array");
    if (hist_init_default(&tmp) != 0)
        return bad(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < json_object_array_length(arr); i++) {
        const json_object *e = json_object_array_get_idx(arr, i);
        hist_reset(&tmp);
        rc = json_object_is_type(e, json_type_object)
                 ? load_series_entry(m, e, &tmp, err, errlen)
                 : bad(err, errlen, "series[%zu] is not an object", i);
    }
    hist_destroy(&tmp);
    return rc;
}

/* http_reqs{status:...}: the answered count of one exact status (or "other"). */
static int load_status(struct metrics_outcomes *o, const char *status, uint64_t v, char *err,
                       size_t errlen)
{
    char *end;
    if (o->answered + v < o->answered) /* the statuses' sum; each part is at most it */
        return bad(err, errlen, "the statuses of a series add up beyond 2^64");
    if (strcmp(status, RJ_STATUS_OTHER) == 0) {
        o->status_class[0] += v;
        o->answered += v;
        return 0;
    }
    long code = strtol(status, &end, 10);
    if (*end != '\0' || code < METRICS_STATUS_LOWEST || code > METRICS_STATUS_HIGHEST)
        return bad(err, errlen, "bad status '%s' in counters", status);
    o->status[code - METRICS_STATUS_LOWEST] += v;
    o->status_class[code / 100] += v;
    o->answered += v;
    return 0;
}

static bool is_series_counter(const char *metric)
{
    static const char *const names[] = {METRIC_HTTP_REQS,        RJ_SCHEDULED,
                                        RJ_TRANSPORT_ERRORS,     RJ_TIMED_OUT,
                                        METRIC_DROPPED_REQUESTS, RJ_LAG_NEGATIVE,
                                        METRIC_HTTP_REQ_FAILED,  METRIC_HTTP_429,
                                        METRIC_HTTP_REQ_5XX,     METRIC_UNANSWERED_REQUESTS,
                                        METRIC_UNSERVED_REQUESTS};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(metric, names[i]) == 0)
            return true;
    return false;
}

static int load_series_counter(struct metrics *m, const char *metric, const struct entry_tags *t,
                               const json_object *e, char *err, size_t errlen)
{
    uint64_t v = 0;
    struct metrics_series *s = metrics_series(m, t->scenario, t->actor, t->endpoint);
    if (s == NULL)
        return bad(err, errlen, "out of memory");
    struct metrics_outcomes *o = &s->total;
    if (strcmp(metric, METRIC_HTTP_REQ_FAILED) == 0)
        return u64_field(e, "hits", &v) ? (o->failed += v, 0)
                                        : bad(err, errlen, "%s without hits", metric);
    if (strcmp(metric, METRIC_HTTP_REQ_5XX) == 0 || strcmp(metric, METRIC_HTTP_429) == 0 ||
        strcmp(metric, METRIC_UNSERVED_REQUESTS) == 0)
        return 0; /* derived from the statuses, or from dropped and scheduled */
    if (!u64_field(e, "value", &v))
        return bad(err, errlen, "counter %s has no integer value", metric);
    if (strcmp(metric, METRIC_HTTP_REQS) == 0)
        return t->extra_key ? load_status(o, t->extra_value, v, err, errlen) : 0;
    if (strcmp(metric, RJ_TRANSPORT_ERRORS) == 0) {
        int kind = metrics_error_kind_from_name(t->extra_value);
        if (kind < 0)
            return bad(err, errlen, "unknown transport error kind '%s'",
                       t->extra_value ? t->extra_value : "");
        o->transport_errors[kind] += v;
    } else if (strcmp(metric, RJ_SCHEDULED) == 0) {
        o->scheduled += v;
    } else if (strcmp(metric, RJ_TIMED_OUT) == 0) {
        o->timed_out += v;
    } else if (strcmp(metric, METRIC_DROPPED_REQUESTS) == 0) {
        o->dropped += v;
    } else if (strcmp(metric, METRIC_UNANSWERED_REQUESTS) == 0) {
        o->unanswered += v;
    } else {
        o->lag_negative += v;
    }
    return 0;
}

static int load_tagged_counter(struct metrics *m, const char *metric, const struct entry_tags *t,
                               const json_object *e, char *err, size_t errlen)
{
    const char *type = string_field(e, "type");
    uint64_t v, hits, total;
    int rc;
    if (type != NULL && strcmp(type, "rate") == 0) {
        if (!u64_field(e, "hits", &hits) || !u64_field(e, "total", &total))
            return bad(err, errlen, "rate %s needs integer hits and total", metric);
        rc = metrics_rate_add_n(m, metric, t->scenario, t->actor, t->endpoint, t->extra_key,
                                t->extra_value, hits, total);
    } else {
        if (!u64_field(e, "value", &v))
            return bad(err, errlen, "counter %s has no integer value", metric);
        rc = metrics_counter_add(m, metric, t->scenario, t->actor, t->endpoint, t->extra_key,
                                 t->extra_value, v);
    }
    return rc == 0 ? 0 : bad(err, errlen, "cannot add %s: %s", metric, strerror(-rc));
}

static int load_counters(struct metrics *m, const json_object *root, char *err, size_t errlen)
{
    const json_object *arr = field(root, "counters", json_type_array);
    if (arr == NULL)
        return bad(err, errlen, "no counters array");
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        const json_object *e = json_object_array_get_idx(arr, i);
        const char *metric =
            json_object_is_type(e, json_type_object) ? string_field(e, "metric") : NULL;
        struct entry_tags t;
        if (metric == NULL)
            return bad(err, errlen, "counters[%zu] has no metric", i);
        int rc = read_tags(e, &t, err, errlen);
        if (rc == 0)
            rc = is_series_counter(metric) ? load_series_counter(m, metric, &t, e, err, errlen)
                                           : load_tagged_counter(m, metric, &t, e, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_time(const json_object *root, const char *key, time_t *out, char *err,
                     size_t errlen)
{
    const char *text = string_field(root, key);
    if (text == NULL || clock_parse_rfc3339(text, out) != 0)
        return bad(err, errlen, "%s is not an RFC 3339 timestamp", key);
    return 0;
}

static int read_thresholds(const json_object *root, struct report_info *info, char *err,
                           size_t errlen)
{
    const json_object *arr = field(root, "thresholds", json_type_array);
    size_t n = arr ? json_object_array_length(arr) : 0;
    if (n == 0)
        return 0;
    info->threshold_exprs = calloc(n, sizeof *info->threshold_exprs);
    if (info->threshold_exprs == NULL)
        return bad(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_object *e = json_object_array_get_idx(arr, i);
        const char *expr =
            json_object_is_type(e, json_type_object) ? string_field(e, "expr") : NULL;
        if (expr == NULL)
            return bad(err, errlen, "thresholds[%zu] has no expr", i);
        info->threshold_exprs[i] = strdup(expr);
        if (info->threshold_exprs[i] == NULL)
            return bad(err, errlen, "out of memory");
        info->n_thresholds = i + 1;
    }
    return 0;
}

static int read_info(const json_object *root, struct report_info *info, char *err, size_t errlen)
{
    const json_object *f = field(root, "fleetsim", json_type_object);
    const json_object *shard = f ? field(f, "shard", json_type_object) : NULL;
    const json_object *config = field(root, "config", json_type_object);
    const char *version = f ? string_field(f, "version") : NULL;
    uint64_t seed = 0, k = 0, n = 0;
    memset(info, 0, sizeof *info);
    if (version == NULL || !u64_field(f, "seed", &seed) || shard == NULL ||
        !u64_field(shard, "k", &k) || !u64_field(shard, "n", &n) || n == 0 || k >= n ||
        n > UINT32_MAX)
        return bad(err, errlen, "fleetsim{version, seed, shard{k,n}} missing or wrong");
    snprintf(info->version, sizeof info->version, "%s", version);
    in_file_escape_controls(info->version, sizeof info->version); /* printed by merge, report */
    info->seed = seed;
    info->shard_k = (uint32_t)k;
    info->shard_n = (uint32_t)n;
    if (config != NULL && json_object_deep_copy((json_object *)config, &info->config, NULL) != 0)
        return bad(err, errlen, "out of memory copying config");
    int rc = read_time(root, "started_at", &info->started_at, err, errlen);
    if (rc == 0)
        rc = read_time(root, "ended_at", &info->ended_at, err, errlen);
    const json_object *result = field(root, "result", json_type_object);
    if (rc == 0 && result != NULL) {
        if (run_result_from_json(result, &info->result) != 0)
            return bad(err, errlen, "result{status} missing or unknown");
        info->has_result = true;
    }
    return rc == 0 ? read_thresholds(root, info, err, errlen) : rc;
}

static int read_duration(const json_object *root, double *duration_s, char *err, size_t errlen)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(root, "duration_s", &v) ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return bad(err, errlen, "no numeric duration_s");
    *duration_s = json_object_get_double(v);
    if (!(*duration_s >= 0) || !isfinite(*duration_s))
        return bad(err, errlen, "duration_s is negative or not finite");
    return 0;
}

int report_json_load(const json_object *summary, struct metrics *m, struct report_info *info,
                     char *err, size_t errlen)
{
    struct report_info scratch;
    struct report_info *in = info ? info : &scratch;
    double duration_s = 0;
    memset(in, 0, sizeof *in);
    if (!json_object_is_type(summary, json_type_object))
        return bad(err, errlen, "the summary is not a JSON object");
    int rc = check_histogram_config(summary, err, errlen);
    if (rc == 0)
        rc = summary_input_check_entries(summary, err, errlen);
    if (rc == 0)
        rc = read_info(summary, in, err, errlen);
    if (rc == 0)
        rc = read_duration(summary, &duration_s, err, errlen);
    if (rc == 0)
        rc = load_series(m, summary, err, errlen);
    if (rc == 0)
        rc = load_counters(m, summary, err, errlen);
    if (rc == 0)
        rc = summary_input_check_loaded(m, err, errlen);
    in->duration_s = duration_s;
    if (in == &scratch || rc != 0)
        report_info_clear(in);
    if (rc == 0) {
        uint64_t ns = (uint64_t)llround(duration_s * (double)CLOCK_NS_PER_S);
        if (ns > metrics_elapsed_ns(m))
            metrics_set_elapsed_ns(m, ns);
    }
    return rc;
}

int report_json_read(const char *path, struct metrics *m, struct report_info *info, char *err,
                     size_t errlen)
{
    char why[256];
    json_object *root = summary_input_parse(path, err, errlen);
    if (root == NULL)
        return -EINVAL;
    int rc = report_json_load(root, m, info, why, sizeof why);
    json_object_put(root);
    if (rc != 0)
        snprintf(err, errlen, "summary %s: %s", path, why);
    return rc;
}

void report_info_clear(struct report_info *info)
{
    json_object_put(info->config);
    for (size_t i = 0; i < info->n_thresholds; i++)
        free(info->threshold_exprs[i]);
    free(info->threshold_exprs);
    memset(info, 0, sizeof *info);
}
