/* engine/metrics_http.h - the --metrics-listen endpoint: an evhttp listener on a caller's
 * event_base that answers GET /metrics with the Prometheus text (engine/prometheus.h) of the
 * latest snapshot the run published. The snapshot is rendered at publish time, so a scrape
 * never touches a live registry; swapping it is guarded by a mutex, so publishing from another
 * thread than the listener's is safe too. */
#ifndef FLEETSIM_ENGINE_METRICS_HTTP_H
#define FLEETSIM_ENGINE_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "engine/metrics.h"
#include "engine/parse.h"

/* The path served. */
#define METRICS_HTTP_PATH "/metrics"
/* An idle or slow scraper connection is closed after this many seconds. */
#define METRICS_HTTP_TIMEOUT_S 10

/* A running listener (opaque). */
struct metrics_http;

/* Start listening on addr (from parse_listen_addr; port 0 = an ephemeral port) with evhttp on
 * base; requests are served while base dispatches, from base's thread. Until the first
 * metrics_http_publish, /metrics serves an empty registry. Returns the listener, or NULL with
 * a one-line reason in err (address in use, cannot bind, out of memory). */
struct metrics_http *metrics_http_start(struct event_base *base, const struct parsed_listen *addr,
                                        char *err, size_t errlen);

/* The port actually bound (the ephemeral one when addr's port was 0). */
uint16_t metrics_http_port(const struct metrics_http *srv);

/* Render merged (the run's cumulative registry, already merged across loop threads) into a
 * new snapshot and make it the one served. merged is only read during the call. Call from any
 * thread; typically the run's control loop after each interval merge. Returns 0, or -ENOMEM /
 * -EIO (the previous snapshot stays served). */
int metrics_http_publish(struct metrics_http *srv, const struct metrics *merged);

/* Number of GET /metrics requests answered so far. */
uint64_t metrics_http_scrapes(const struct metrics_http *srv);

/* Stop listening and free everything (NULL is fine). Call from base's thread or after its
 * loop has stopped, before base is freed. */
void metrics_http_free(struct metrics_http *srv);

#endif
