/* engine/report_json.c - the summary JSON (docs/metrics.md): built from a registry and the
 * threshold results, written by engine/out_file (atomic replace of a regular file, "-" for
 * standard output, never over a special file). */
#include "engine/report_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/out_file.h"
#include "engine/report_json_internal.h"

#define US_PER_MS 1000.0
#define MS_DECIMALS 3
#define RATE_DECIMALS 3
#define TOO_MANY_REQUESTS 429

json_object *rj_fixed(double v, int decimals)
{
    char text[64];
    snprintf(text, sizeof text, "%.*f", decimals, v);
    return json_object_new_double_s(v, text);
}

json_object *rj_ms(uint64_t value_us)
{
    return rj_fixed((double)value_us / US_PER_MS, MS_DECIMALS);
}

/* Returns o when ok, else frees o (NULL is fine) and returns NULL. */
static json_object *rj_done(json_object *o, int ok)
{
    if (ok)
        return o;
    json_object_put(o);
    return NULL;
}

void rj_set(json_object *obj, const char *key, json_object *val, int *ok)
{
    if (val == NULL || json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        *ok = 0;
    }
}

json_object *rj_tags(const char *scenario, const char *actor, const char *endpoint,
                     const char *extra_key, const char *extra_value)
{
    json_object *tags = json_object_new_object();
    int ok = tags != NULL;
    if (!ok)
        return NULL;
    if (scenario != NULL)
        rj_set(tags, METRICS_TAG_SCENARIO, json_object_new_string(scenario), &ok);
    if (actor != NULL)
        rj_set(tags, METRICS_TAG_ACTOR, json_object_new_string(actor), &ok);
    if (endpoint != NULL)
        rj_set(tags, METRICS_TAG_ENDPOINT, json_object_new_string(endpoint), &ok);
    if (extra_key != NULL && extra_value != NULL)
        rj_set(tags, extra_key, json_object_new_string(extra_value), &ok);
    return rj_done(tags, ok);
}

/* A new series[] or counters[] entry {"metric", "type" (when not NULL), "tags"} owning tags.
 * Returns NULL (tags freed) when out of memory; *ok false when a member could not be set. */
static json_object *entry_new(const char *metric, const char *type, json_object *tags, int *ok)
{
    json_object *e = json_object_new_object();
    *ok = e != NULL;
    if (!e) {
        json_object_put(tags);
        return NULL;
    }
    rj_set(e, "metric", json_object_new_string(metric), ok);
    if (type != NULL)
        rj_set(e, "type", json_object_new_string(type), ok);
    rj_set(e, "tags", tags, ok);
    return e;
}

/* Append val to arr; on failure *ok turns false and val is freed. */
static void push(json_object *arr, json_object *val, int *ok)
{
    if (val == NULL || json_object_array_add(arr, val) != 0) {
        json_object_put(val);
        *ok = 0;
    }
}

static json_object *header(const struct report_meta *meta)
{
    json_object *f = json_object_new_object(), *shard, *histo;
    int ok = f != NULL;
    if (!ok)
        return NULL;
    rj_set(f, "version", json_object_new_string(meta->version ? meta->version : ""), &ok);
    rj_set(f, "seed", json_object_new_uint64(meta->seed), &ok);
    rj_set(f, "shard", shard = json_object_new_object(), &ok);
    if (ok) {
        rj_set(shard, "k", json_object_new_int64(meta->shard_k), &ok);
        rj_set(shard, "n", json_object_new_int64(meta->shard_n), &ok);
    }
    rj_set(f, "histogram", histo = json_object_new_object(), &ok);
    if (ok) {
        rj_set(histo, "lowest_us", json_object_new_int64(HIST_DEFAULT_LOWEST_US), &ok);
        rj_set(histo, "highest_us", json_object_new_int64(HIST_DEFAULT_HIGHEST_US), &ok);
        rj_set(histo, "significant_digits", json_object_new_int(HIST_DEFAULT_SIGNIFICANT_DIGITS),
               &ok);
    }
    return rj_done(f, ok);
}

/* One series[] entry: statistics in ms and the buckets of h. */
static json_object *series_entry(const char *metric, json_object *tags, const struct hist *h,
                                 double elapsed_s)
{
    static const struct {
        const char *key;
        double pct;
    } pcts[] = {{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}, {"p999", 99.9}};
    int ok;
    json_object *e = entry_new(metric, NULL, tags, &ok);
    if (!e)
        return NULL;
    rj_set(e, "count", json_object_new_uint64(hist_count(h)), &ok);
    rj_set(e, "rate_per_s",
           rj_fixed(elapsed_s > 0 ? (double)hist_count(h) / elapsed_s : 0, RATE_DECIMALS), &ok);
    rj_set(e, "min", rj_ms(hist_min(h)), &ok);
    rj_set(e, "mean", rj_fixed(hist_mean(h) / US_PER_MS, MS_DECIMALS), &ok);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        rj_set(e, pcts[i].key, rj_ms(hist_value_at_percentile(h, pcts[i].pct)), &ok);
    rj_set(e, "max", rj_ms(hist_max(h)), &ok);
    rj_set(e, "clamped", json_object_new_uint64(hist_clamped_count(h)), &ok);
    rj_set(e, "buckets", hist_to_json(h), &ok);
    return rj_done(e, ok);
}

static json_object *series_tags(const struct metrics_series *s)
{
    return rj_tags(s->scenario, s->actor, s->endpoint, NULL, NULL);
}

static json_object *build_series(const struct metrics *m, double elapsed_s)
{
    json_object *arr = json_object_new_array();
    int ok = arr != NULL;
    for (size_t i = 0; ok && i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        push(arr, series_entry(METRIC_HTTP_REQ_DURATION, series_tags(s), &s->duration, elapsed_s),
             &ok);
        push(arr, series_entry(METRIC_HTTP_REQ_SERVICE, series_tags(s), &s->service, elapsed_s),
             &ok);
        push(arr, series_entry(METRIC_HTTP_REQ_LAG, series_tags(s), &s->lag, elapsed_s), &ok);
        push(arr, series_entry(METRIC_HTTP_REQ_WAIT, series_tags(s), &s->wait, elapsed_s), &ok);
        if (s->connecting.total_count > 0)
            push(
                arr,
                series_entry(METRIC_HTTP_REQ_CONNECTING, series_tags(s), &s->connecting, elapsed_s),
                &ok);
        if (s->tls_handshaking.total_count > 0)
            push(arr,
                 series_entry(METRIC_HTTP_REQ_TLS_HANDSHAKING, series_tags(s), &s->tls_handshaking,
                              elapsed_s),
                 &ok);
    }
    for (size_t i = 0; ok && i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *t = metrics_tagged_at(m, i);
        if (t->kind == METRICS_TREND)
            push(arr,
                 series_entry(t->metric,
                              rj_tags(t->scenario, t->actor, t->endpoint, t->tag_key, t->tag_value),
                              t->trend, elapsed_s),
                 &ok);
    }
    return rj_done(arr, ok);
}

static json_object *counter_entry(const char *metric, json_object *tags, uint64_t value)
{
    int ok;
    json_object *e = entry_new(metric, "counter", tags, &ok);
    if (!e)
        return NULL;
    rj_set(e, "value", json_object_new_uint64(value), &ok);
    return rj_done(e, ok);
}

static json_object *rate_entry(const char *metric, json_object *tags, uint64_t hits, uint64_t total)
{
    int ok;
    json_object *e = entry_new(metric, "rate", tags, &ok);
    if (!e)
        return NULL;
    rj_set(e, "value", json_object_new_double(total ? (double)hits / (double)total : 0), &ok);
    rj_set(e, "hits", json_object_new_uint64(hits), &ok);
    rj_set(e, "total", json_object_new_uint64(total), &ok);
    return rj_done(e, ok);
}

/* Per exact status (and "other" for statuses outside 100..599), non-zero only. */
static void push_statuses(json_object *arr, const struct metrics_series *s, int *ok)
{
    char code[8];
    const struct metrics_outcomes *o = &s->total;
    for (int i = 0; *ok && i < METRICS_STATUS_SLOTS; i++) {
        if (o->status[i] == 0)
            continue;
        snprintf(code, sizeof code, "%d", i + METRICS_STATUS_LOWEST);
        push(arr,
             counter_entry(METRIC_HTTP_REQS,
                           rj_tags(s->scenario, s->actor, s->endpoint, METRICS_TAG_STATUS, code),
                           o->status[i]),
             ok);
    }
    if (*ok && o->status_class[0] != 0)
        push(arr,
             counter_entry(
                 METRIC_HTTP_REQS,
                 rj_tags(s->scenario, s->actor, s->endpoint, METRICS_TAG_STATUS, RJ_STATUS_OTHER),
                 o->status_class[0]),
             ok);
}

static void push_errors(json_object *arr, const struct metrics_series *s, int *ok)
{
    for (int k = 0; *ok && k < METRICS_ERR_KINDS; k++)
        if (s->total.transport_errors[k] != 0)
            push(arr,
                 counter_entry(RJ_TRANSPORT_ERRORS,
                               rj_tags(s->scenario, s->actor, s->endpoint, RJ_TAG_KIND,
                                       metrics_error_kind_name((enum metrics_error_kind)k)),
                               s->total.transport_errors[k]),
                 ok);
}

static void push_series_counters(json_object *arr, const struct metrics_series *s, int *ok)
{
    const struct metrics_outcomes *o = &s->total;
    push(arr, counter_entry(METRIC_HTTP_REQS, series_tags(s), metrics_outcomes_completed(o)), ok);
    push_statuses(arr, s, ok);
    push(arr, counter_entry(RJ_SCHEDULED, series_tags(s), o->scheduled), ok);
    push_errors(arr, s, ok);
    push(arr, counter_entry(RJ_TIMED_OUT, series_tags(s), o->timed_out), ok);
    push(arr, counter_entry(METRIC_UNANSWERED_REQUESTS, series_tags(s), o->unanswered), ok);
    push(arr, counter_entry(METRIC_DROPPED_REQUESTS, series_tags(s), o->dropped), ok);
    push(arr, rate_entry(METRIC_UNSERVED_REQUESTS, series_tags(s), o->dropped, o->scheduled), ok);
    push(arr,
         counter_entry(METRIC_HTTP_429, series_tags(s),
                       o->status[TOO_MANY_REQUESTS - METRICS_STATUS_LOWEST]),
         ok);
    push(arr,
         rate_entry(METRIC_HTTP_REQ_FAILED, series_tags(s), o->failed,
                    metrics_outcomes_completed(o)),
         ok);
    push(arr, rate_entry(METRIC_HTTP_REQ_5XX, series_tags(s), o->status_class[5], o->answered), ok);
    if (o->lag_negative != 0)
        push(arr, counter_entry(RJ_LAG_NEGATIVE, series_tags(s), o->lag_negative), ok);
}

static json_object *build_counters(const struct metrics *m)
{
    json_object *arr = json_object_new_array();
    int ok = arr != NULL;
    for (size_t i = 0; ok && i < metrics_series_count(m); i++)
        push_series_counters(arr, metrics_series_at(m, i), &ok);
    for (size_t i = 0; ok && i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *t = metrics_tagged_at(m, i);
        json_object *tags = NULL;
        if (t->kind == METRICS_TREND)
            continue;
        tags = rj_tags(t->scenario, t->actor, t->endpoint, t->tag_key, t->tag_value);
        if (t->kind == METRICS_COUNTER)
            push(arr, counter_entry(t->metric, tags, t->value), &ok);
        else
            push(arr, rate_entry(t->metric, tags, t->value, t->total), &ok);
    }
    return rj_done(arr, ok);
}

static json_object *build_accounting(const struct metrics *m)
{
    struct metrics_accounting a;
    json_object *o = json_object_new_object();
    int ok = o != NULL;
    if (!ok)
        return NULL;
    metrics_accounting(m, &a);
    rj_set(o, "scheduled", json_object_new_uint64(a.scheduled), &ok);
    rj_set(o, "answered", json_object_new_uint64(a.answered), &ok);
    rj_set(o, "transport_errors", json_object_new_uint64(a.transport_errors), &ok);
    rj_set(o, "timed_out", json_object_new_uint64(a.timed_out), &ok);
    rj_set(o, "unanswered", json_object_new_uint64(a.unanswered), &ok);
    rj_set(o, "dropped", json_object_new_uint64(a.dropped), &ok);
    rj_set(o, "in_flight", json_object_new_int64(a.in_flight), &ok);
    return rj_done(o, ok);
}

static json_object *build_thresholds(const struct threshold_result *r, size_t n)
{
    json_object *arr = json_object_new_array();
    int ok = arr != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        json_object *e = json_object_new_object();
        int eok = e != NULL;
        if (eok) {
            rj_set(e, "expr", json_object_new_string(r[i].expr), &eok);
            rj_set(e, "ok", json_object_new_boolean(r[i].ok), &eok);
            if (r[i].has_data && isfinite(r[i].observed))
                rj_set(e, "observed", json_object_new_double(r[i].observed), &eok);
            else
                json_object_object_add(e, "observed", NULL);
            rj_set(e, "unit", json_object_new_string(r[i].unit), &eok);
        }
        push(arr, eok ? e : (json_object_put(e), NULL), &ok);
    }
    return rj_done(arr, ok);
}

static json_object *timestamp(time_t t)
{
    char text[CLOCK_RFC3339_LEN];
    clock_format_rfc3339(text, sizeof text, t);
    return json_object_new_string(text);
}

json_object *report_json_build(const struct report_meta *meta, const struct metrics *m,
                               const struct threshold_result *results, size_t n_results)
{
    json_object *root = json_object_new_object();
    int ok = root != NULL;
    double elapsed_s = (double)metrics_elapsed_ns(m) / (double)CLOCK_NS_PER_S;
    if (!ok)
        return NULL;
    rj_set(root, "fleetsim", header(meta), &ok);
    if (meta->result)
        rj_set(root, "result", run_result_json(meta->result), &ok);
    rj_set(root, "config", meta->config ? json_object_get(meta->config) : json_object_new_object(),
           &ok);
    rj_set(root, "started_at", timestamp(meta->started_at), &ok);
    rj_set(root, "ended_at", timestamp(meta->ended_at), &ok);
    rj_set(root, "duration_s", json_object_new_double(elapsed_s), &ok);
    rj_set(root, "series", ok ? build_series(m, elapsed_s) : NULL, &ok);
    rj_set(root, "counters", ok ? build_counters(m) : NULL, &ok);
    rj_set(root, "accounting", build_accounting(m), &ok);
    rj_set(root, "thresholds", build_thresholds(results, n_results), &ok);
    return rj_done(root, ok);
}

/* Writes the summary's text and a line end to f (an out_file_fill_fn). */
static int fill_text(FILE *f, void *text, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    size_t len = strlen(text);
    return fwrite(text, 1, len, f) == len && fputc('\n', f) != EOF ? 0 : -(errno ? errno : EIO);
}

int report_json_write(const char *path, const struct report_meta *meta, const struct metrics *m,
                      const struct threshold_result *results, size_t n_results, char *err,
                      size_t errlen)
{
    char why[256];
    json_object *root = report_json_build(meta, m, results, n_results);
    if (root == NULL) {
        snprintf(err, errlen, "summary %s: out of memory building the JSON", path);
        return -ENOMEM;
    }
    const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc =
        text != NULL ? out_file_write(path, fill_text, (void *)text, why, sizeof why) : -ENOMEM;
    json_object_put(root);
    if (rc != 0)
        snprintf(err, errlen, "cannot write summary %s: %s", out_file_name(path),
                 text != NULL ? why : strerror(ENOMEM));
    return rc;
}
