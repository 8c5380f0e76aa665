/* engine/report_interval.c - the --interval-log record: one JSON line per report interval
 * with each series' counts, outcomes and latency percentiles for that interval. */
#include "engine/report_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/clock.h"
#include "engine/report_json_internal.h"

#define RATE_DECIMALS 3

static json_object *status_classes(const struct metrics_outcomes *o)
{
    static const char *const names[METRICS_STATUS_CLASSES] = {"other", "1xx", "2xx",
                                                              "3xx",   "4xx", "5xx"};
    json_object *obj = json_object_new_object();
    int ok = obj != NULL;
    for (int c = 0; ok && c < METRICS_STATUS_CLASSES; c++)
        if (o->status_class[c] != 0)
            rj_set(obj, names[c], json_object_new_uint64(o->status_class[c]), &ok);
    if (!ok)
        json_object_put(obj);
    return ok ? obj : NULL;
}

static json_object *interval_series(const struct metrics_series *s, double interval_s)
{
    const struct metrics_outcomes *o = &s->total;
    uint64_t completed = metrics_outcomes_completed(o);
    json_object *e = json_object_new_object();
    int ok = e != NULL;
    if (!ok)
        return NULL;
    rj_set(e, "tags", rj_tags(s->scenario, s->actor, s->endpoint, NULL, NULL), &ok);
    rj_set(e, "count", json_object_new_uint64(completed), &ok);
    rj_set(e, "rate_per_s",
           rj_fixed(interval_s > 0 ? (double)completed / interval_s : 0, RATE_DECIMALS), &ok);
    rj_set(e, "scheduled", json_object_new_uint64(o->scheduled), &ok);
    rj_set(e, "status", status_classes(o), &ok);
    rj_set(e, "failed", json_object_new_uint64(o->failed), &ok);
    rj_set(e, "transport_errors", json_object_new_uint64(metrics_outcomes_errors(o)), &ok);
    rj_set(e, "timed_out", json_object_new_uint64(o->timed_out), &ok);
    rj_set(e, "unanswered", json_object_new_uint64(o->unanswered), &ok);
    rj_set(e, "dropped", json_object_new_uint64(o->dropped), &ok);
    rj_set(e, "p50", rj_ms(hist_value_at_percentile(&s->duration, 50)), &ok);
    rj_set(e, "p90", rj_ms(hist_value_at_percentile(&s->duration, 90)), &ok);
    rj_set(e, "p99", rj_ms(hist_value_at_percentile(&s->duration, 99)), &ok);
    rj_set(e, "max", rj_ms(hist_max(&s->duration)), &ok);
    rj_set(e, "service_p99", rj_ms(hist_value_at_percentile(&s->service, 99)), &ok);
    rj_set(e, "lag_p99", rj_ms(hist_value_at_percentile(&s->lag, 99)), &ok);
    if (!ok)
        json_object_put(e);
    return ok ? e : NULL;
}

static json_object *interval_record(const struct metrics *interval, const struct metrics *total,
                                    time_t now, double elapsed_s, double interval_s)
{
    char stamp[CLOCK_RFC3339_LEN];
    json_object *rec = json_object_new_object(), *arr = json_object_new_array();
    int ok = 1;
    if (rec == NULL || arr == NULL) {
        json_object_put(rec);
        json_object_put(arr);
        return NULL;
    }
    clock_format_rfc3339(stamp, sizeof stamp, now);
    rj_set(rec, "time", json_object_new_string(stamp), &ok);
    rj_set(rec, "elapsed_s", rj_fixed(elapsed_s, RATE_DECIMALS), &ok);
    rj_set(rec, "interval_s", rj_fixed(interval_s, RATE_DECIMALS), &ok);
    for (size_t i = 0; ok && i < metrics_series_count(interval); i++) {
        json_object *e = interval_series(metrics_series_at(interval, i), interval_s);
        if (e == NULL || json_object_array_add(arr, e) != 0) {
            json_object_put(e);
            ok = 0;
        }
    }
    rj_set(rec, "series", arr, &ok);
    if (ok && total != NULL) {
        struct metrics_accounting a;
        metrics_accounting(total, &a);
        rj_set(rec, "scheduled", json_object_new_uint64(a.scheduled), &ok);
        rj_set(rec, "in_flight", json_object_new_int64(a.in_flight), &ok);
    }
    if (!ok) {
        json_object_put(rec);
        return NULL;
    }
    return rec;
}

char *report_interval_line(const struct metrics *interval, const struct metrics *total, time_t now,
                           double elapsed_s, double interval_s)
{
    json_object *rec = interval_record(interval, total, now, elapsed_s, interval_s);
    if (rec == NULL)
        return NULL;
    const char *text = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    char *line = NULL;
    if (text != NULL && asprintf(&line, "%s\n", text) < 0)
        line = NULL;
    json_object_put(rec);
    return line;
}

int report_interval_jsonl(FILE *f, const struct metrics *interval, const struct metrics *total,
                          time_t now, double elapsed_s, double interval_s)
{
    char *line = report_interval_line(interval, total, now, elapsed_s, interval_s);
    if (line == NULL)
        return -ENOMEM;
    int rc = fputs(line, f) >= 0 && fflush(f) == 0 ? 0 : -EIO;
    free(line);
    return rc;
}
