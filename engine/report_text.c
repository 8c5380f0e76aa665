/* engine/report_text.c - the end-of-run text summary: per-series latency table and outcomes,
 * actor metrics, the accounting identity, thresholds and the bottleneck verdict. */
#include "engine/report_text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/in_file.h"

#define LABEL_MIN_WIDTH 24
#define LABEL_MAX_WIDTH 60
#define PCT_100 100.0

char *report_format_ms(char *buf, size_t n, uint64_t value_us)
{
    double ms = (double)value_us / 1000.0;
    if (ms < 10)
        snprintf(buf, n, "%.3f", ms);
    else if (ms < 100)
        snprintf(buf, n, "%.2f", ms);
    else if (ms < 1000)
        snprintf(buf, n, "%.1f", ms);
    else
        snprintf(buf, n, "%.0f", ms);
    return buf;
}

/* The series trend `metric` of every series merged; -ENOMEM when it cannot be allocated. */
static int merged_trend(const struct metrics *m, const char *metric, struct hist *out)
{
    if (hist_init_default(out) != 0)
        return -ENOMEM;
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct hist *h = metrics_series_hist(metrics_series_at(m, i), metric);
        if (h)
            hist_add(out, h);
    }
    return 0;
}

static int merged_lag(const struct metrics *m, struct hist *out)
{
    return merged_trend(m, METRIC_HTTP_REQ_LAG, out);
}

uint64_t report_merged_p99(const struct metrics *m, const char *metric)
{
    struct hist h;
    uint64_t p99 = 0;
    if (merged_trend(m, metric, &h) == 0) {
        p99 = hist_value_at_percentile(&h, 99);
        hist_destroy(&h);
    }
    return p99;
}

/* Append formatted text at buf + *used, never past n bytes. */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t n, size_t *used,
                                                         const char *fmt, ...)
{
    va_list ap;
    if (*used >= n)
        return;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *used, n - *used, fmt, ap);
    va_end(ap);
    if (w > 0)
        *used = *used + (size_t)w < n ? *used + (size_t)w : n - 1;
}

bool report_bottleneck_lag(const struct metrics *m, char *why, size_t n)
{
    char ms[24];
    uint64_t lag_p99 = report_merged_p99(m, METRIC_HTTP_REQ_LAG);
    bool over = lag_p99 > REPORT_LAG_P99_LIMIT_US;
    snprintf(why, n, "lag p99 %s ms %s %llu ms", report_format_ms(ms, sizeof ms, lag_p99),
             over ? ">" : "<=", (unsigned long long)(REPORT_LAG_P99_LIMIT_US / 1000));
    return over;
}

bool report_bottleneck(const struct metrics *m, bool saturated_core, char *why, size_t n)
{
    struct metrics_accounting acc;
    struct hist lag;
    char ms[24], tmp[192] = "";
    size_t used = 0;
    bool bottleneck = saturated_core;
    uint64_t lag_p99 = 0;
    metrics_accounting(m, &acc);
    if (merged_lag(m, &lag) == 0) {
        lag_p99 = hist_value_at_percentile(&lag, 99);
        hist_destroy(&lag);
    }
    if (lag_p99 > REPORT_LAG_P99_LIMIT_US) {
        bottleneck = true;
        append(tmp, sizeof tmp, &used, "lag p99 %s ms > %llu ms; ",
               report_format_ms(ms, sizeof ms, lag_p99),
               (unsigned long long)(REPORT_LAG_P99_LIMIT_US / 1000));
    }
    if (acc.dropped > 0) {
        bottleneck = true;
        append(tmp, sizeof tmp, &used, "dropped requests %" PRIu64 "; ", acc.dropped);
    }
    if (saturated_core)
        append(tmp, sizeof tmp, &used, "a core was saturated; ");
    if (used >= 2)
        tmp[used - 2] = '\0';
    else
        append(tmp, sizeof tmp, &used, "lag p99 %s ms, no drops",
               report_format_ms(ms, sizeof ms, lag_p99));
    if (why != NULL && n > 0)
        snprintf(why, n, "%s", tmp);
    return bottleneck;
}

static void series_label(char *buf, size_t n, const struct metrics_series *s)
{
    snprintf(buf, n, "%s/%s/%s", s->scenario, s->actor, s->endpoint);
    in_file_escape_controls(buf, n); /* names may come from a file given to merge or report */
}

static int label_width(const struct metrics *m)
{
    size_t width = LABEL_MIN_WIDTH;
    char label[256];
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        series_label(label, sizeof label, metrics_series_at(m, i));
        if (strlen(label) > width)
            width = strlen(label);
    }
    return (int)(width > LABEL_MAX_WIDTH ? LABEL_MAX_WIDTH : width);
}

static void print_rate(FILE *f, uint64_t count, double elapsed_s)
{
    if (elapsed_s > 0)
        fprintf(f, " %9.2f", (double)count / elapsed_s);
    else
        fprintf(f, " %9s", "-");
}

/* One latency row: count, rate and percentiles of h in ms. */
static void print_latency_row(FILE *f, const char *label, int width, const struct hist *h,
                              double elapsed_s)
{
    static const double pcts[] = {50, 90, 95, 99, 99.9};
    char ms[24];
    fprintf(f, "%-*s %9" PRIu64, width, label, hist_count(h));
    print_rate(f, hist_count(h), elapsed_s);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        fprintf(f, " %9s", report_format_ms(ms, sizeof ms, hist_value_at_percentile(h, pcts[i])));
    fprintf(f, " %9s\n", report_format_ms(ms, sizeof ms, hist_max(h)));
}

static void print_errors(FILE *f, const struct metrics_outcomes *o)
{
    uint64_t errors = metrics_outcomes_errors(o);
    fprintf(f, "errors %" PRIu64, errors);
    if (errors == 0)
        return;
    const char *sep = " (";
    for (int k = 0; k < METRICS_ERR_KINDS; k++) {
        if (o->transport_errors[k] == 0)
            continue;
        fprintf(f, "%s%s %" PRIu64, sep, metrics_error_kind_name((enum metrics_error_kind)k),
                o->transport_errors[k]);
        sep = ", ";
    }
    fprintf(f, ")");
}

static void print_outcomes(FILE *f, const struct metrics_series *s)
{
    const struct metrics_outcomes *o = &s->total;
    const int too_many_requests = 429;
    char ms[24];
    uint64_t completed = metrics_outcomes_completed(o);
    fprintf(f, "    ");
    for (int c = 1; c < METRICS_STATUS_CLASSES; c++)
        if (o->status_class[c] != 0 || c == 2)
            fprintf(f, "%dxx %" PRIu64 "  ", c, o->status_class[c]);
    if (o->status[too_many_requests - METRICS_STATUS_LOWEST] != 0)
        fprintf(f, "(429 %" PRIu64 ")  ", o->status[too_many_requests - METRICS_STATUS_LOWEST]);
    if (o->status_class[0] != 0)
        fprintf(f, "other status %" PRIu64 "  ", o->status_class[0]);
    print_errors(f, o);
    fprintf(f,
            "  timed out %" PRIu64 "  unanswered %" PRIu64 "  dropped %" PRIu64 "  failed %" PRIu64
            " (%.3f%%)",
            o->timed_out, o->unanswered, o->dropped, o->failed,
            completed ? PCT_100 * (double)o->failed / (double)completed : 0.0);
    fprintf(f, "  service p99 %s ms",
            report_format_ms(ms, sizeof ms, hist_value_at_percentile(&s->service, 99)));
    fprintf(f, "  lag p99 %s ms\n",
            report_format_ms(ms, sizeof ms, hist_value_at_percentile(&s->lag, 99)));
}

static void print_series(FILE *f, const struct metrics *m, double elapsed_s)
{
    int width = label_width(m);
    char label[256];
    fprintf(f, "http_req_duration (intended -> done), ms\n");
    fprintf(f, "%-*s %9s %9s %9s %9s %9s %9s %9s %9s\n", width, "scenario/actor/endpoint", "count",
            "rate/s", "p50", "p90", "p95", "p99", "p99.9", "max");
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        series_label(label, sizeof label, s);
        print_latency_row(f, label, width, &s->duration, elapsed_s);
        print_outcomes(f, s);
        if (s->total.lag_negative != 0)
            fprintf(f, "    BUG: %" PRIu64 " requests were sent before their intended time\n",
                    s->total.lag_negative);
    }
}

static void tagged_label(char *buf, size_t n, const struct metrics_tagged *t)
{
    int used = snprintf(buf, n, "%s{", t->metric);
    const char *keys[] = {"scenario", "actor", "endpoint", t->tag_key};
    const char *vals[] = {t->scenario, t->actor, t->endpoint, t->tag_value};
    const char *sep = "";
    for (size_t i = 0; i < 4 && used >= 0 && (size_t)used < n; i++) {
        if (keys[i] == NULL || vals[i] == NULL)
            continue;
        used += snprintf(buf + used, n - (size_t)used, "%s%s:%s", sep, keys[i], vals[i]);
        sep = ",";
    }
    if (used >= 0 && (size_t)used < n)
        snprintf(buf + used, n - (size_t)used, "}");
    in_file_escape_controls(buf, n);
}

/* A tagged trend on one line: count and percentiles in ms. */
static void print_trend(FILE *f, const char *label, const struct hist *h)
{
    char p50[24], p95[24], p99[24], mx[24];
    fprintf(f, "  %s  count %" PRIu64 "  p50 %s  p95 %s  p99 %s  max %s ms\n", label, hist_count(h),
            report_format_ms(p50, sizeof p50, hist_value_at_percentile(h, 50)),
            report_format_ms(p95, sizeof p95, hist_value_at_percentile(h, 95)),
            report_format_ms(p99, sizeof p99, hist_value_at_percentile(h, 99)),
            report_format_ms(mx, sizeof mx, hist_max(h)));
}

static void print_tagged(FILE *f, const struct metrics *m)
{
    char label[512];
    if (metrics_tagged_count(m) == 0)
        return;
    fprintf(f, "\nactor metrics\n");
    for (size_t i = 0; i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *t = metrics_tagged_at(m, i);
        tagged_label(label, sizeof label, t);
        if (t->kind == METRICS_COUNTER)
            fprintf(f, "  %s  %" PRIu64 "\n", label, t->value);
        else if (t->kind == METRICS_RATE)
            fprintf(f, "  %s  rate %.4f (%" PRIu64 " of %" PRIu64 ")\n", label,
                    t->total ? (double)t->value / (double)t->total : 0.0, t->value, t->total);
        else
            print_trend(f, label, t->trend);
    }
}

static void print_accounting(FILE *f, const struct metrics *m, int64_t known_in_flight)
{
    struct metrics_accounting a;
    metrics_accounting(m, &a);
    fprintf(f,
            "\naccounting: scheduled %" PRIu64 " = answered %" PRIu64 " + transport errors %" PRIu64
            " + timed out %" PRIu64 " + unanswered %" PRIu64 " + dropped %" PRIu64
            " + in flight %" PRId64 "\n",
            a.scheduled, a.answered, a.transport_errors, a.timed_out, a.unanswered, a.dropped,
            a.in_flight);
    if (!metrics_accounting_balanced(&a, known_in_flight)) {
        fprintf(f, "ACCOUNTING DOES NOT BALANCE: ");
        if (a.in_flight < 0)
            fprintf(f, "more requests ended than were scheduled");
        else
            fprintf(f, "in flight should be %" PRId64, known_in_flight);
        fprintf(f, " (a bug in fleetsim: these figures cannot be trusted)\n");
    }
}

static void print_thresholds(FILE *f, const struct report_text_opts *o)
{
    char obs[48], expr[THRESHOLD_SPEC_MAX * 4]; /* room for escapes */
    size_t failed = 0;
    if (o->n_thresholds == 0)
        return;
    fprintf(f, "\nthresholds\n");
    for (size_t i = 0; i < o->n_thresholds; i++) {
        const struct threshold_result *r = &o->thresholds[i];
        const char *mark = r->ok ? (o->ascii ? "ok    " : "✓") : (o->ascii ? "FAILED" : "✗");
        failed += r->ok ? 0 : 1;
        snprintf(expr, sizeof expr, "%s", r->expr);
        fprintf(f, "  %s %s  observed %s\n", mark, in_file_escape_controls(expr, sizeof expr),
                threshold_format_observed(r, obs, sizeof obs));
    }
    if (failed == 0)
        fprintf(f, "thresholds: all %zu passed\n", o->n_thresholds);
    else
        fprintf(f, "thresholds: %zu of %zu FAILED\n", failed, o->n_thresholds);
}

int report_text_write(FILE *f, const struct metrics *m, const struct report_text_opts *opts)
{
    static const struct report_text_opts none = {.known_in_flight = -1};
    const struct report_text_opts *o = opts ? opts : &none;
    double elapsed_s = (double)metrics_elapsed_ns(m) / (double)CLOCK_NS_PER_S;
    char dur[24], why[192];
    fprintf(f, "fleetsim summary: %s measured, %zu series\n\n",
            clock_format_duration(dur, sizeof dur, metrics_elapsed_ns(m)), metrics_series_count(m));
    print_series(f, m, elapsed_s);
    print_tagged(f, m);
    print_accounting(f, m, o->known_in_flight);
    print_thresholds(f, o);
    if (o->result)
        fprintf(f, "\nverdict: %s: %s (%s)\n", run_verdict_name(o->result->verdict),
                run_verdict_sentence(o->result->verdict), o->result->verdict_why);
    else if (report_bottleneck(m, o->saturated_core, why, sizeof why))
        fprintf(f,
                "\nverdict: fleetsim itself was the bottleneck (%s): latencies overstate the "
                "server's\n",
                why);
    else
        fprintf(f, "\nverdict: fleetsim kept up (%s): latencies are the server's\n", why);
    return ferror(f) ? -EIO : 0;
}
