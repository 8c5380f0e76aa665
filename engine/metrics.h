/* engine/metrics.h - per-thread metrics registry: request series keyed by the tags
 * (scenario, actor, endpoint) with latency/service/lag histograms and outcome counters,
 * free-form tagged counters, rates and trends for actor metrics, exact merge, accounting
 * totals and an interval view. Not thread-safe: one registry per event-loop thread, merged
 * with metrics_merge. Memory is bounded: a few fixed histograms per series, no per-request
 * storage. */
#ifndef FLEETSIM_ENGINE_METRICS_H
#define FLEETSIM_ENGINE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/hist.h"

/* The engine's own metric names: the request metrics of every series. Actors' own metrics
 * (counters, rates, trends) are named by the caller and registered (engine/metric_names.h). */
#define METRIC_HTTP_REQ_DURATION "http_req_duration"               /* trend: done - intended */
#define METRIC_HTTP_REQ_SERVICE "http_req_service"                 /* trend: done - sent */
#define METRIC_HTTP_REQ_LAG "http_req_lag"                         /* trend: sent - ready */
#define METRIC_HTTP_REQ_WAIT "http_req_wait"                       /* trend: ready - intended */
#define METRIC_HTTP_REQ_CONNECTING "http_req_connecting"           /* trend: TCP connect */
#define METRIC_HTTP_REQ_TLS_HANDSHAKING "http_req_tls_handshaking" /* trend: TLS handshake */
#define METRIC_HTTP_REQ_FAILED "http_req_failed"         /* rate over completed requests */
#define METRIC_HTTP_REQ_5XX "http_req_5xx"               /* rate of 5xx among answered */
#define METRIC_HTTP_REQS "http_reqs"                     /* counter: completed requests */
#define METRIC_HTTP_429 "http_429"                       /* counter */
#define METRIC_DROPPED_REQUESTS "dropped_requests"       /* counter */
#define METRIC_UNANSWERED_REQUESTS "unanswered_requests" /* counter: failed, never answered */
#define METRIC_UNSERVED_REQUESTS "unserved_requests"     /* rate: dropped over scheduled */

/* Tag keys. */
#define METRICS_TAG_SCENARIO "scenario"
#define METRICS_TAG_ACTOR "actor"
#define METRICS_TAG_ENDPOINT "endpoint"
#define METRICS_TAG_STATUS "status"

#define METRICS_STATUS_LOWEST 100
#define METRICS_STATUS_HIGHEST 599
#define METRICS_STATUS_SLOTS (METRICS_STATUS_HIGHEST - METRICS_STATUS_LOWEST + 1)
#define METRICS_STATUS_CLASSES 6 /* [0] = outside 100..599, [1..5] = 1xx..5xx */

#define METRICS_MAX_SERIES 128  /* request series per registry */
#define METRICS_MAX_TAGGED 1024 /* tagged counters/rates/trends per registry */

/* Transport error kinds (what went wrong below HTTP). */
enum metrics_error_kind {
    METRICS_ERR_CONNECT = 0, /* connect refused/unreachable */
    METRICS_ERR_TLS,         /* handshake or verification failed */
    METRICS_ERR_CLOSED,      /* connection reset or closed mid-request */
    METRICS_ERR_PROTOCOL,    /* malformed HTTP response */
    METRICS_ERR_TOO_LARGE,   /* response over the size limit */
    METRICS_ERR_OTHER,
    METRICS_ERR_KINDS
};

/* Timestamps of one request (clock_now_ns values). sent_ns == 0 means it was never sent
 * (e.g. connect failed); first_byte_ns is informational. ready_ns is when the actor was first
 * free to send it: after intended_ns when it waited on the server (its previous request still
 * unanswered, a back-off after the server failed); 0 or at most intended_ns = not waiting.
 * fleetsim's own lag counts from ready_ns, the wait before it is the server's. connect_ns and
 * tls_ns are the durations of a fresh connection's TCP connect and TLS handshake (0 = none),
 * part of the service time. */
struct request_timing {
    uint64_t intended_ns;
    uint64_t sent_ns;
    uint64_t first_byte_ns;
    uint64_t done_ns;
    uint64_t ready_ns;
    uint64_t connect_ns;
    uint64_t tls_ns;
};

/* Outcome counters of a request series. Read-only for callers. */
struct metrics_outcomes {
    uint64_t scheduled;
    uint64_t answered;                             /* responses with any status */
    uint64_t status_class[METRICS_STATUS_CLASSES]; /* answered by class */
    uint64_t status[METRICS_STATUS_SLOTS];         /* answered by exact status - 100 */
    uint64_t transport_errors[METRICS_ERR_KINDS];
    uint64_t timed_out;
    uint64_t unanswered; /* sent or queued, still unanswered when the run ended (failed) */
    uint64_t dropped;
    uint64_t failed; /* judged failed (transport error, timeout, unanswered, unexpected status or
                        body, 429) */
    uint64_t lag_negative; /* sent before intended: clamped to 0 (a bug if ever non-zero) */
};

/* A request series. Pointers stay valid for the registry's lifetime. Read-only for callers
 * (write only through the metrics_* recording functions). */
struct metrics_series {
    char *scenario;
    char *actor;
    char *endpoint;
    struct metrics_outcomes total;    /* cumulative */
    struct metrics_outcomes interval; /* since the last metrics_interval_take */
    struct hist duration;             /* http_req_duration: done - intended */
    struct hist service;              /* http_req_service: done - sent */
    struct hist lag;                  /* http_req_lag: sent - ready (fleetsim's own lateness) */
    struct hist wait;                 /* http_req_wait: ready - intended (waiting on the server) */
    struct hist connecting;           /* http_req_connecting: TCP connects */
    struct hist tls_handshaking;      /* http_req_tls_handshaking: TLS handshakes */
    bool has_interval;                /* the iv_* histograms exist */
    struct hist iv_duration, iv_service, iv_lag;
    struct hist iv_wait, iv_connecting, iv_tls_handshaking;
};

enum metrics_kind { METRICS_COUNTER, METRICS_RATE, METRICS_TREND };

/* A free-form tagged metric (counter, rate or trend). Absent tags are NULL. Read-only. */
struct metrics_tagged {
    enum metrics_kind kind;
    char *metric;
    char *scenario, *actor, *endpoint;
    char *tag_key, *tag_value; /* one extra tag (key=value), e.g. a problem type */
    uint64_t value;            /* counter: sum; rate: hits */
    uint64_t total;            /* rate: samples */
    struct hist *trend;        /* trend: values (us) */
};

/* Accounting identity totals: scheduled = answered + transport_errors + timed_out +
 * unanswered + dropped + in_flight. in_flight is derived and negative only if a caller ended a
 * request it never scheduled. */
struct metrics_accounting {
    uint64_t scheduled, answered, transport_errors, timed_out, unanswered, dropped;
    int64_t in_flight;
};

/* The registry (opaque). */
struct metrics;

/* New empty registry. with_interval: keep a second set of histograms/counters per series
 * for metrics_interval_take (doubles the histogram memory). NULL on out of memory. */
struct metrics *metrics_new(bool with_interval);

/* Free the registry and everything in it (NULL is fine). */
void metrics_free(struct metrics *m);

/* The series for these tags, created on first use (strings copied). Returns a stable
 * pointer to cache, or NULL on out of memory or beyond METRICS_MAX_SERIES. */
struct metrics_series *metrics_series(struct metrics *m, const char *scenario, const char *actor,
                                      const char *endpoint);

/* The series for these tags if it exists, else NULL. */
struct metrics_series *metrics_series_find(const struct metrics *m, const char *scenario,
                                           const char *actor, const char *endpoint);

/* Number of series, and the i-th (creation order, 0-based; NULL past the end). */
size_t metrics_series_count(const struct metrics *m);
struct metrics_series *metrics_series_at(const struct metrics *m, size_t i);

/* True when metric names one of a request series' own trends: http_req_duration,
 * http_req_service, http_req_lag, http_req_wait, http_req_connecting or
 * http_req_tls_handshaking. */
bool metrics_is_series_trend(const char *metric);

/* The histogram of s that such a trend metric names, or NULL for any other name. */
struct hist *metrics_series_hist(struct metrics_series *s, const char *metric);

/* A request was scheduled (counts "scheduled"). Every scheduled request later ends with
 * exactly one of metrics_answered / metrics_transport_error / metrics_timed_out /
 * metrics_dropped, or is in flight at the end. */
void metrics_scheduled(struct metrics_series *s);

/* A response arrived with http_status. failed: the caller judged it failed (status outside
 * the endpoint's expected set); a 429 always counts as failed. Records duration, service
 * and lag from t. */
void metrics_answered(struct metrics_series *s, const struct request_timing *t, int http_status,
                      bool failed);

/* The request ended in a transport error of this kind (counts as failed). Records timings. */
void metrics_transport_error(struct metrics_series *s, const struct request_timing *t,
                             enum metrics_error_kind kind);

/* The request timed out (counts as failed). Records timings (done_ns = when it gave up). */
void metrics_timed_out(struct metrics_series *s, const struct request_timing *t);

/* The request (sent, or queued behind an unanswered one) had no answer when the run ended: it
 * counts as failed, with its duration up to t->done_ns (the end), at least the time it waited. */
void metrics_unanswered(struct metrics_series *s, const struct request_timing *t);

/* The request was dropped before sending (its previous one of the same kind was still
 * waiting or in flight). */
void metrics_dropped(struct metrics_series *s);

/* Name of an error kind: "connect", "tls", "closed", "protocol", "too_large", "other". */
const char *metrics_error_kind_name(enum metrics_error_kind kind);

/* Error kind for a name from metrics_error_kind_name; -1 when unknown. */
int metrics_error_kind_from_name(const char *name);

/* Add n to the counter `metric` with these tags (any tag may be NULL; extra_key/extra_value
 * is one more tag, such as the type of a problem). Returns 0, -EINVAL (metric exists with another
 * kind, or NULL metric), -ENOMEM, -ENOSPC (beyond METRICS_MAX_TAGGED). */
int metrics_counter_add(struct metrics *m, const char *metric, const char *scenario,
                        const char *actor, const char *endpoint, const char *extra_key,
                        const char *extra_value, uint64_t n);

/* Add one sample (hit or not) to the rate `metric` with these tags. Returns as above. */
int metrics_rate_add(struct metrics *m, const char *metric, const char *scenario, const char *actor,
                     const char *endpoint, const char *extra_key, const char *extra_value,
                     bool hit);

/* Add hits hits out of total samples to the rate `metric` at once (hits <= total; used when
 * loading saved results). Returns as above, or -EINVAL when hits > total. */
int metrics_rate_add_n(struct metrics *m, const char *metric, const char *scenario,
                       const char *actor, const char *endpoint, const char *extra_key,
                       const char *extra_value, uint64_t hits, uint64_t total);

/* Record value_us in the trend `metric` (a default-configured histogram) with these tags,
 * e.g. how long an actor's campaign took. Returns as above. */
int metrics_trend_record(struct metrics *m, const char *metric, const char *scenario,
                         const char *actor, const char *endpoint, uint64_t value_us);

/* Add the histogram src (default configuration) into the trend `metric` exactly.
 * Returns as above (-EINVAL also when src's configuration differs). */
int metrics_trend_add(struct metrics *m, const char *metric, const char *scenario,
                      const char *actor, const char *endpoint, const struct hist *src);

/* The tagged metric with exactly these tags, or NULL. */
struct metrics_tagged *metrics_tagged_find(const struct metrics *m, const char *metric,
                                           const char *scenario, const char *actor,
                                           const char *endpoint, const char *extra_key,
                                           const char *extra_value);

/* Number of tagged metrics, and the i-th (creation order; NULL past the end). */
size_t metrics_tagged_count(const struct metrics *m);
struct metrics_tagged *metrics_tagged_at(const struct metrics *m, size_t i);

/* Add src's cumulative data (series outcomes, histograms, tagged metrics) into dst exactly,
 * creating series as needed; dst's elapsed time becomes the larger of the two.
 * Returns 0, -ENOMEM, -ENOSPC, -EINVAL (histogram configurations or metric kinds differ), or
 * -EOVERFLOW (a counter's sum would pass 2^64: nothing is added). */
int metrics_merge(struct metrics *dst, const struct metrics *src);

/* True when a and b hold the same cumulative data: the same series (by tags, any order)
 * with identical outcome counters and histograms bucket for bucket, and the same tagged
 * metrics with identical values. Interval data and elapsed time are not compared. */
bool metrics_equal(const struct metrics *a, const struct metrics *b);

/* Move the interval data of every series of m (counts and histograms since the last take)
 * into out as cumulative data (added), and reset m's interval data. m's cumulative data
 * stays untouched. out is typically a fresh metrics_new(false) or one reset with
 * metrics_reset. Returns 0, -EINVAL (m has no interval data), -ENOMEM, -ENOSPC. */
int metrics_interval_take(struct metrics *m, struct metrics *out);

/* Zero every count and histogram of m (series and tagged metrics stay, pointers valid). */
void metrics_reset(struct metrics *m);

/* Set / get the measured time span of the run (ns), used for rates per second. */
void metrics_set_elapsed_ns(struct metrics *m, uint64_t elapsed_ns);
uint64_t metrics_elapsed_ns(const struct metrics *m);

/* Accounting totals over all series. */
void metrics_accounting(const struct metrics *m, struct metrics_accounting *out);

/* True when the identity balances: in_flight >= 0, and equal to known_in_flight when
 * known_in_flight >= 0 (the caller's own count of requests still in flight). */
bool metrics_accounting_balanced(const struct metrics_accounting *a, int64_t known_in_flight);

/* Completed requests of a series: answered + transport errors + timed out + unanswered. */
uint64_t metrics_outcomes_completed(const struct metrics_outcomes *o);

/* Sum of transport errors of all kinds. */
uint64_t metrics_outcomes_errors(const struct metrics_outcomes *o);

/* Add src into dst field by field. */
void metrics_outcomes_add(struct metrics_outcomes *dst, const struct metrics_outcomes *src);

#endif
