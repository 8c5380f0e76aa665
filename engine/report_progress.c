/* engine/report_progress.c - the one-line live progress printed every --report-interval:
 * the interval's request rate, latency percentiles and failures, and the run's totals. */
#include "engine/report_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/clock.h"

/* Sums over every series of a registry: outcomes and the duration and lag histograms. */
struct progress_sums {
    struct metrics_outcomes o;
    struct hist duration, lag;
};

static int sums_init(struct progress_sums *p, const struct metrics *m)
{
    *p = (struct progress_sums){0};
    if (hist_init_default(&p->duration) != 0 || hist_init_default(&p->lag) != 0) {
        hist_destroy(&p->duration);
        return -1;
    }
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        metrics_outcomes_add(&p->o, &s->total);
        hist_add(&p->duration, &s->duration);
        hist_add(&p->lag, &s->lag);
    }
    return 0;
}

static void sums_destroy(struct progress_sums *p)
{
    hist_destroy(&p->duration);
    hist_destroy(&p->lag);
}

size_t report_progress_line(char *buf, size_t n, const struct metrics *interval,
                            const struct metrics *total, double interval_s, double elapsed_s)
{
    struct progress_sums p;
    char el[24], p50[24], p95[24], p99[24], mx[24], lag[24];
    if (n == 0)
        return 0;
    if (sums_init(&p, interval) != 0) {
        snprintf(buf, n, "progress: out of memory");
        return strlen(buf);
    }
    uint64_t completed = metrics_outcomes_completed(&p.o);
    int w = snprintf(
        buf, n,
        "[%s] %.1f req/s  p50 %s p95 %s p99 %s max %s ms  failed %" PRIu64 "  errors %" PRIu64
        "  timeouts %" PRIu64 "  dropped %" PRIu64 "  lag p99 %s ms",
        clock_format_duration(el, sizeof el, (uint64_t)(elapsed_s * (double)CLOCK_NS_PER_S)),
        interval_s > 0 ? (double)completed / interval_s : 0.0,
        report_format_ms(p50, sizeof p50, hist_value_at_percentile(&p.duration, 50)),
        report_format_ms(p95, sizeof p95, hist_value_at_percentile(&p.duration, 95)),
        report_format_ms(p99, sizeof p99, hist_value_at_percentile(&p.duration, 99)),
        report_format_ms(mx, sizeof mx, hist_max(&p.duration)), p.o.failed,
        metrics_outcomes_errors(&p.o), p.o.timed_out, p.o.dropped,
        report_format_ms(lag, sizeof lag, hist_value_at_percentile(&p.lag, 99)));
    sums_destroy(&p);
    if (total != NULL && w >= 0 && (size_t)w < n) {
        struct metrics_accounting a;
        metrics_accounting(total, &a);
        w += snprintf(buf + w, n - (size_t)w, "  | scheduled %" PRIu64 "  in flight %" PRId64,
                      a.scheduled, a.in_flight);
    }
    return w < 0 ? 0 : ((size_t)w < n ? (size_t)w : n - 1);
}
