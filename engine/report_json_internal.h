/* engine/report_json_internal.h - JSON helpers shared by the summary writer, its reader and
 * the interval log (report_json.c, report_json_read.c, report_interval.c). Not public. */
#ifndef FLEETSIM_ENGINE_REPORT_JSON_PRIVATE_H
#define FLEETSIM_ENGINE_REPORT_JSON_PRIVATE_H

#include <json-c/json.h>
#include <stdint.h>

/* Counter names in counters[] that belong to request series (besides the metric names of
 * docs/metrics.md). */
#define RJ_SCHEDULED "scheduled_requests"
#define RJ_TRANSPORT_ERRORS "transport_errors"
#define RJ_TIMED_OUT "timed_out_requests"
#define RJ_LAG_NEGATIVE "lag_negative"
#define RJ_TAG_KIND "kind"
#define RJ_STATUS_OTHER "other"

/* A double as JSON with fixed decimals (printf "%.*f"). */
json_object *rj_fixed(double v, int decimals);

/* Microseconds as milliseconds with 3 decimals. */
json_object *rj_ms(uint64_t value_us);

/* Tags object {scenario, actor, endpoint, extra_key: extra_value}; NULL entries left out. */
json_object *rj_tags(const char *scenario, const char *actor, const char *endpoint,
                     const char *extra_key, const char *extra_value);

/* obj[key] = val (val may be NULL on out of memory: then *ok turns false). */
void rj_set(json_object *obj, const char *key, json_object *val, int *ok);

#endif
