/* engine/report_html.c - the HTML report document: loads the summary JSON into a registry
 * (engine/report_json.h, so every figure is computed by the same code as the text summary),
 * then writes the metadata, verdicts, thresholds, accounting, series tables, charts, actor
 * metrics and config as one self-contained page; also the atomic file writer. */
#include "engine/report_html.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/report_html_internal.h"
#include "engine/report_json.h"
#include "engine/report_text.h"

#define PCT_100 100.0
#define TOO_MANY_REQUESTS 429

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;"
    "max-width:1100px;color:#222;padding:0 1em}\n"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\n"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.9em}\n"
    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}\n"
    "th{background:#f4f4f4}td.l,th.l{text-align:left}\n"
    ".pass{color:#176f2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}\n"
    "pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em}\n"
    "figure.chart{margin:1em 0}svg text{font-size:11px;fill:#333}\n"
    "svg .title{font-size:13px;font-weight:bold}svg .frame{fill:none;stroke:#999}\n"
    "svg .grid{stroke:#e5e5e5}svg .line{fill:none;stroke-width:1.6}\n"
    "svg .ytick{text-anchor:end}svg .xtick,svg .xlabel,svg .nodata{text-anchor:middle}\n"
    "svg .ylabel{text-anchor:middle}\n"
    "ul.legend{list-style:none;padding:0;margin:.2em 0 0 64px;font-size:.85em}\n"
    "ul.legend li{display:inline-block;margin-right:1.2em}\n"
    ".swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;"
    "vertical-align:middle}\n";

struct doc {
    FILE *f;
    const json_object *summary;
    const json_object *intervals;
    struct metrics *m;
    struct report_info info;
};

static json_object *get(const json_object *o, const char *key, json_type type)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

static void text_cell(FILE *f, const char *cls, const char *text)
{
    fprintf(f, "<td%s>", cls);
    html_escape(f, text);
    fputs("</td>", f);
}

static void ms_cell(FILE *f, uint64_t value_us)
{
    char ms[24];
    fprintf(f, "<td>%s</td>", report_format_ms(ms, sizeof ms, value_us));
}

static void series_label(char *buf, size_t n, const struct metrics_series *s)
{
    snprintf(buf, n, "%s/%s/%s", s->scenario, s->actor, s->endpoint);
}

/* ---- sections ---- */

static void head(struct doc *d)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          "<title>fleetsim report</title>\n<style>\n",
          d->f);
    fputs(style, d->f);
    fputs("</style>\n</head>\n<body>\n", d->f);
}

/* The run's result (status, exit code, interruption, verdict) first of all, when known. */
static void result_banner(struct doc *d)
{
    const struct run_result *r = &d->info.result;
    char line[512];
    if (!d->info.has_result)
        return;
    fprintf(d->f, "<p class=\"result\"><span class=\"%s\">%s</span> ",
            r->status == RUN_STATUS_PASSED ? "pass" : "fail", run_status_name(r->status));
    html_escape(d->f, run_result_line(r, line, sizeof line));
    fputs("<br>verdict: ", d->f);
    html_escape(d->f, run_verdict_name(r->verdict));
    fputs("</p>\n", d->f);
}

static void meta_section(struct doc *d)
{
    char start[CLOCK_RFC3339_LEN], end[CLOCK_RFC3339_LEN], dur[24];
    FILE *f = d->f;
    clock_format_rfc3339(start, sizeof start, d->info.started_at);
    clock_format_rfc3339(end, sizeof end, d->info.ended_at);
    clock_format_duration(dur, sizeof dur, (uint64_t)llround(d->info.duration_s * 1e9));
    fputs("<h1>fleetsim report</h1>\n", f);
    result_banner(d);
    fputs("<table class=\"meta\">\n", f);
    fputs("<tr><th class=\"l\">fleetsim version</th>", f);
    text_cell(f, " class=\"l\"", d->info.version);
    fprintf(f, "</tr>\n<tr><th class=\"l\">seed</th><td class=\"l\">%" PRIu64 "</td></tr>\n",
            d->info.seed);
    fprintf(f, "<tr><th class=\"l\">shard</th><td class=\"l\">%u/%u</td></tr>\n", d->info.shard_k,
            d->info.shard_n);
    fprintf(f, "<tr><th class=\"l\">started</th><td class=\"l\">%s</td></tr>\n", start);
    fprintf(f, "<tr><th class=\"l\">ended</th><td class=\"l\">%s</td></tr>\n", end);
    fprintf(f, "<tr><th class=\"l\">measured</th><td class=\"l\">%s</td></tr>\n", dur);
    fprintf(f, "<tr><th class=\"l\">request series</th><td class=\"l\">%zu</td></tr>\n</table>\n",
            metrics_series_count(d->m));
}

/* Thresholds failed according to the summary (its stored results). */
static size_t thresholds_failed(const struct doc *d, size_t *total)
{
    json_object *arr = get(d->summary, "thresholds", json_type_array);
    size_t failed = 0;
    *total = arr ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < *total; i++) {
        json_object *ok = get(json_object_array_get_idx(arr, i), "ok", json_type_boolean);
        failed += ok && json_object_get_boolean(ok) ? 0 : 1;
    }
    return failed;
}

static void verdict_section(struct doc *d)
{
    char why[192];
    size_t total, failed = thresholds_failed(d, &total);
    FILE *f = d->f;
    fputs("<h2>Verdict</h2>\n<p>", f);
    if (total == 0)
        fputs("No thresholds were set.", f);
    else if (failed == 0)
        fprintf(f, "<span class=\"pass\">PASS</span>: all %zu thresholds passed.", total);
    else
        fprintf(f, "<span class=\"fail\">FAIL</span>: %zu of %zu thresholds failed.", failed,
                total);
    fputs("</p>\n<p>", f);
    if (d->info.has_result) {
        const struct run_result *r = &d->info.result;
        fprintf(f, "<span class=\"%s\">%s</span>: ",
                r->verdict == RUN_VERDICT_KEPT_UP || r->verdict == RUN_VERDICT_SERVER_SLOW ? "pass"
                                                                                           : "fail",
                run_verdict_name(r->verdict));
        html_escape(f, run_verdict_sentence(r->verdict));
        fputs(" (", f);
        html_escape(f, r->verdict_why);
        fputs(").", f);
    } else if (report_bottleneck(d->m, false, why, sizeof why)) {
        fputs("<span class=\"fail\">fleetsim itself was the bottleneck</span> (", f);
        html_escape(f, why);
        fputs("): latencies overstate the server's.", f);
    } else {
        fputs("fleetsim kept up (", f);
        html_escape(f, why);
        fputs("): latencies are the server's.", f);
    }
    fputs("</p>\n", f);
}

static void thresholds_section(struct doc *d)
{
    json_object *arr = get(d->summary, "thresholds", json_type_array);
    size_t n = arr ? json_object_array_length(arr) : 0;
    FILE *f = d->f;
    fputs("<h2>Thresholds</h2>\n", f);
    if (n == 0) {
        fputs("<p>None.</p>\n", f);
        return;
    }
    fputs("<table class=\"thresholds\">\n<tr><th class=\"l\">threshold</th><th>observed</th>"
          "<th>result</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        json_object *expr = get(e, "expr", json_type_string), *ok = get(e, "ok", json_type_boolean);
        json_object *unit = get(e, "unit", json_type_string), *obs = NULL;
        bool pass = ok && json_object_get_boolean(ok);
        json_object_object_get_ex(e, "observed", &obs);
        fputs("<tr>", f);
        text_cell(f, " class=\"l\"", expr ? json_object_get_string(expr) : "?");
        if (obs &&
            (json_object_is_type(obs, json_type_double) || json_object_is_type(obs, json_type_int)))
            fprintf(f, "<td>%.6g%s%s</td>", json_object_get_double(obs),
                    unit && *json_object_get_string(unit) ? " " : "",
                    unit ? json_object_get_string(unit) : "");
        else
            fputs("<td>no data</td>", f);
        fprintf(f, "<td class=\"%s\">%s</td></tr>\n", pass ? "pass" : "fail",
                pass ? "pass" : "FAIL");
    }
    fputs("</table>\n", f);
}

static void accounting_section(struct doc *d)
{
    struct metrics_accounting a;
    FILE *f = d->f;
    metrics_accounting(d->m, &a);
    fputs("<h2>Accounting</h2>\n<p class=\"accounting\">", f);
    fprintf(f,
            "scheduled %" PRIu64 " = answered %" PRIu64 " + transport errors %" PRIu64
            " + timed out %" PRIu64 " + unanswered %" PRIu64 " + dropped %" PRIu64
            " + in flight %" PRId64,
            a.scheduled, a.answered, a.transport_errors, a.timed_out, a.unanswered, a.dropped,
            a.in_flight);
    if (metrics_accounting_balanced(&a, -1))
        fputs(" <span class=\"pass\">(balanced)</span>", f);
    else
        fputs(" <span class=\"fail\">ACCOUNTING DOES NOT BALANCE: these figures cannot be "
              "trusted</span>",
              f);
    fputs("</p>\n", f);
}

static void latency_row(FILE *f, const struct metrics_series *s, double elapsed_s)
{
    static const double pcts[] = {50, 90, 95, 99, 99.9};
    char label[256];
    const struct hist *h = &s->duration;
    series_label(label, sizeof label, s);
    fputs("<tr>", f);
    text_cell(f, " class=\"l\"", label);
    fprintf(f, "<td>%" PRIu64 "</td>", hist_count(h));
    if (elapsed_s > 0)
        fprintf(f, "<td>%.2f</td>", (double)hist_count(h) / elapsed_s);
    else
        fputs("<td>-</td>", f);
    ms_cell(f, hist_min(h));
    fprintf(f, "<td>%.3f</td>", hist_mean(h) / 1000.0);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        ms_cell(f, hist_value_at_percentile(h, pcts[i]));
    ms_cell(f, hist_max(h));
    ms_cell(f, hist_value_at_percentile(&s->service, 99));
    ms_cell(f, hist_value_at_percentile(&s->lag, 99));
    fputs("</tr>\n", f);
}

static void latency_section(struct doc *d)
{
    FILE *f = d->f;
    double elapsed_s = (double)metrics_elapsed_ns(d->m) / (double)CLOCK_NS_PER_S;
    fputs("<h2>Latency</h2>\n<p>http_req_duration (intended send time to done), ms; service "
          "(sent to done) and lag (intended to sent) p99 in the last columns.</p>\n",
          f);
    fputs("<table class=\"series\">\n<tr><th class=\"l\">scenario/actor/endpoint</th>"
          "<th>count</th><th>rate/s</th><th>min</th><th>mean</th><th>p50</th><th>p90</th>"
          "<th>p95</th><th>p99</th><th>p99.9</th><th>max</th><th>service p99</th>"
          "<th>lag p99</th></tr>\n",
          f);
    for (size_t i = 0; i < metrics_series_count(d->m); i++)
        latency_row(f, metrics_series_at(d->m, i), elapsed_s);
    fputs("</table>\n", f);
}

static void outcome_row(FILE *f, const struct metrics_series *s)
{
    const struct metrics_outcomes *o = &s->total;
    uint64_t completed = metrics_outcomes_completed(o);
    char label[256];
    series_label(label, sizeof label, s);
    fputs("<tr>", f);
    text_cell(f, " class=\"l\"", label);
    fprintf(f, "<td>%" PRIu64 "</td>", o->scheduled);
    for (int c = 1; c < METRICS_STATUS_CLASSES; c++)
        fprintf(f, "<td>%" PRIu64 "</td>", o->status_class[c]);
    fprintf(f, "<td>%" PRIu64 "</td><td>%" PRIu64 "</td>",
            o->status[TOO_MANY_REQUESTS - METRICS_STATUS_LOWEST], o->status_class[0]);
    fprintf(f, "<td>%" PRIu64 "</td>", metrics_outcomes_errors(o));
    fprintf(f,
            "<td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
            "</td><td>%.3f%%</td>",
            o->timed_out, o->unanswered, o->dropped, o->failed,
            completed ? PCT_100 * (double)o->failed / (double)completed : 0.0);
    fputs("</tr>\n", f);
}

static void outcomes_section(struct doc *d)
{
    FILE *f = d->f;
    fputs("<h2>Outcomes</h2>\n<table class=\"outcomes\">\n<tr><th class=\"l\">"
          "scenario/actor/endpoint</th><th>scheduled</th><th>1xx</th><th>2xx</th><th>3xx</th>"
          "<th>4xx</th><th>5xx</th><th>429</th><th>other status</th><th>transport errors</th>"
          "<th>timed out</th><th>unanswered</th><th>dropped</th><th>failed</th><th>failed %</th>"
          "</tr>\n",
          f);
    for (size_t i = 0; i < metrics_series_count(d->m); i++)
        outcome_row(f, metrics_series_at(d->m, i));
    fputs("</table>\n", f);
}

static void charts_section(struct doc *d)
{
    fputs("<h2>Latency percentiles</h2>\n", d->f);
    if (metrics_series_count(d->m) == 0)
        fputs("<p>No request series.</p>\n", d->f);
    for (size_t i = 0; i < metrics_series_count(d->m); i++)
        html_series_percentile_chart(d->f, metrics_series_at(d->m, i));
}

static int time_section(struct doc *d)
{
    if (d->intervals == NULL)
        return 0;
    fputs("<h2>Over time</h2>\n", d->f);
    if (json_object_array_length(d->intervals) == 0) {
        fputs("<p>The interval log holds no records.</p>\n", d->f);
        return 0;
    }
    return html_time_charts(d->f, d->intervals);
}

static void tagged_label(char *buf, size_t n, const struct metrics_tagged *t)
{
    const char *keys[] = {METRICS_TAG_SCENARIO, METRICS_TAG_ACTOR, METRICS_TAG_ENDPOINT,
                          t->tag_key};
    const char *vals[] = {t->scenario, t->actor, t->endpoint, t->tag_value};
    const char *sep = "";
    int w = snprintf(buf, n, "%s{", t->metric);
    size_t used = w > 0 ? (size_t)w : 0;
    for (size_t i = 0; i < 4; i++) {
        if (keys[i] == NULL || vals[i] == NULL || used >= n)
            continue;
        w = snprintf(buf + used, n - used, "%s%s:%s", sep, keys[i], vals[i]);
        used += w > 0 ? (size_t)w : 0;
        sep = ",";
    }
    if (used < n)
        snprintf(buf + used, n - used, "}");
}

static void tagged_section(struct doc *d)
{
    FILE *f = d->f;
    char label[512], ms50[24], ms99[24], mx[24];
    if (metrics_tagged_count(d->m) == 0)
        return;
    fputs("<h2>Actor metrics</h2>\n<table class=\"actor\">\n<tr><th class=\"l\">metric</th>"
          "<th class=\"l\">value</th></tr>\n",
          f);
    for (size_t i = 0; i < metrics_tagged_count(d->m); i++) {
        const struct metrics_tagged *t = metrics_tagged_at(d->m, i);
        tagged_label(label, sizeof label, t);
        fputs("<tr>", f);
        text_cell(f, " class=\"l\"", label);
        if (t->kind == METRICS_COUNTER)
            fprintf(f, "<td class=\"l\">%" PRIu64 "</td>", t->value);
        else if (t->kind == METRICS_RATE)
            fprintf(f, "<td class=\"l\">rate %.4f (%" PRIu64 " of %" PRIu64 ")</td>",
                    t->total ? (double)t->value / (double)t->total : 0.0, t->value, t->total);
        else
            fprintf(f, "<td class=\"l\">count %" PRIu64 ", p50 %s, p99 %s, max %s ms</td>",
                    hist_count(t->trend),
                    report_format_ms(ms50, sizeof ms50, hist_value_at_percentile(t->trend, 50)),
                    report_format_ms(ms99, sizeof ms99, hist_value_at_percentile(t->trend, 99)),
                    report_format_ms(mx, sizeof mx, hist_max(t->trend)));
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void config_section(struct doc *d)
{
    json_object *config = get(d->summary, "config", json_type_object);
    fputs("<h2>Configuration</h2>\n<pre class=\"config\">", d->f);
    html_escape(d->f, config ? json_object_to_json_string_ext(
                                   config, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)
                             : "{}");
    fputs("</pre>\n", d->f);
}

int report_html_write(FILE *f, const json_object *summary, const json_object *intervals, char *err,
                      size_t errlen)
{
    struct doc d = {.f = f, .summary = summary, .m = metrics_new(false)};
    if (d.m == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (intervals != NULL && json_object_is_type(intervals, json_type_array))
        d.intervals = intervals;
    char why[384] = "";
    int rc = report_json_load(summary, d.m, &d.info, why, sizeof why);
    if (rc != 0)
        snprintf(err, errlen, "not a fleetsim summary: %s", why);
    if (rc == 0) {
        head(&d);
        meta_section(&d);
        verdict_section(&d);
        thresholds_section(&d);
        accounting_section(&d);
        latency_section(&d);
        outcomes_section(&d);
        charts_section(&d);
        rc = time_section(&d);
        tagged_section(&d);
        config_section(&d);
        fputs("</body>\n</html>\n", f);
        if (rc != 0)
            snprintf(err, errlen, "out of memory drawing the charts over time");
        else if (ferror(f)) {
            rc = -EIO;
            snprintf(err, errlen, "write error");
        }
    }
    report_info_clear(&d.info);
    metrics_free(d.m);
    return rc;
}
