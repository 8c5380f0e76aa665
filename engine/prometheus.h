/* engine/prometheus.h - Prometheus text exposition (format 0.0.4) of a metrics registry:
 * request histograms as Prometheus histograms over a fixed set of `le` buckets in seconds,
 * outcome counters, rates as two counters (hits and samples), names prefixed fleetsim_ and
 * tags as labels. Pure: renders into a FILE* or a malloc'd buffer, no I/O of its own. */
#ifndef FLEETSIM_ENGINE_PROMETHEUS_H
#define FLEETSIM_ENGINE_PROMETHEUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/metrics.h"

/* Prefix of every metric name. */
#define PROMETHEUS_PREFIX "fleetsim_"
/* Content-Type of the text format this module writes. */
#define PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Number of finite `le` bounds of every histogram (the +Inf bucket comes on top). */
size_t prometheus_bucket_count(void);

/* The i-th finite `le` bound in microseconds (ascending; i < prometheus_bucket_count()),
 * or 0 past the end. */
uint64_t prometheus_bucket_le_us(size_t i);

/* Cumulative count of values of h whose bucket lies wholly at or below le_us (an HDR bucket
 * is counted under the first bound >= its highest value, so a value is never counted below
 * its true bound; the error is the histogram's own precision, < 0.1 %). Values recorded above
 * the histogram's top (hist_clamped_count) are never counted: they belong to +Inf only. */
uint64_t prometheus_cumulative_le(const struct hist *h, uint64_t le_us);

/* Write m to f in the text exposition format: per request series the histograms
 * fleetsim_http_req_{duration,service,lag}_seconds and the counters fleetsim_http_reqs_total,
 * fleetsim_http_responses_total{status}, fleetsim_scheduled_requests_total,
 * fleetsim_transport_errors_total{kind}, fleetsim_timed_out_requests_total,
 * fleetsim_dropped_requests_total, fleetsim_http_429_total, fleetsim_lag_negative_total, the
 * rates fleetsim_http_req_{failed,5xx}_{hits,samples}_total; the tagged actor metrics
 * (counters as fleetsim_NAME_total, rates as NAME_hits_total/NAME_samples_total, trends as
 * fleetsim_NAME_seconds histograms); the gauges fleetsim_in_flight_requests and
 * fleetsim_elapsed_seconds. Every family has one # HELP and # TYPE line and its samples
 * together. Returns 0, -ENOMEM or -EIO. */
int prometheus_write(FILE *f, const struct metrics *m);

/* prometheus_write into a new NUL-terminated buffer: *out (caller frees) and *out_len bytes
 * without the NUL. Returns 0, -ENOMEM or -EIO (then *out is NULL). */
int prometheus_render(const struct metrics *m, char **out, size_t *out_len);

/* Write a label value escaped per the format (backslash, double quote, line feed) to f. */
void prometheus_escape_label_value(FILE *f, const char *value);

/* Copy name into buf (n bytes) with every character outside [a-zA-Z0-9_] replaced by '_' and
 * a leading digit (or an empty name) prefixed with '_', so it is a valid metric and label
 * name (truncated to n - 1 bytes). Returns buf. */
char *prometheus_sanitize_name(char *buf, size_t n, const char *name);

#endif
