/* engine/report_html_charts.c - the HTML report's chart data: latency percentile curves of
 * each request series from its histograms, and request rate and p99 over time from the
 * interval log's records. Drawing is report_html_svg.c's. */
#include "engine/report_html_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CURVE_POINTS 121
#define MIN_DECADES 1.0
#define MAX_DECADES 6.0
#define US_PER_MS 1000.0
#define LABEL_MAX 256

/* One curve: x = -log10(1 - p), y = value at p in ms. */
static size_t percentile_curve(const struct hist *h, double *x, double *y)
{
    uint64_t count = hist_count(h);
    if (count == 0)
        return 0;
    double decades = count > 1 ? log10((double)count) : MIN_DECADES;
    decades = decades < MIN_DECADES ? MIN_DECADES : decades > MAX_DECADES ? MAX_DECADES : decades;
    for (size_t i = 0; i < CURVE_POINTS; i++) {
        x[i] = decades * (double)i / (CURVE_POINTS - 1);
        double pct = 100.0 * (1.0 - pow(10, -x[i]));
        y[i] = (double)hist_value_at_percentile(h, pct) / US_PER_MS;
    }
    return CURVE_POINTS;
}

void html_series_percentile_chart(FILE *f, const struct metrics_series *s)
{
    static const char *const names[3] = {"http_req_duration (intended to done)",
                                         "http_req_service (sent to done)",
                                         "http_req_lag (intended to sent)"};
    const struct hist *h[3] = {&s->duration, &s->service, &s->lag};
    double x[3][CURVE_POINTS], y[3][CURVE_POINTS];
    struct html_line lines[3];
    char title[LABEL_MAX];
    for (int i = 0; i < 3; i++)
        lines[i] = (struct html_line){names[i], x[i], y[i], percentile_curve(h[i], x[i], y[i])};
    snprintf(title, sizeof title, "%s/%s/%s: latency by percentile", s->scenario, s->actor,
             s->endpoint);
    struct html_chart c = {title, "percentile", "ms", HTML_X_PERCENTILE, lines, 3};
    html_svg_chart(f, &c);
}

/* ---- over time, from the interval log ---- */

static const char *tag_of(json_object *tags, const char *key)
{
    json_object *v;
    if (tags && json_object_object_get_ex(tags, key, &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "-";
}

static double num_of(json_object *o, const char *key)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) &&
        (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return json_object_get_double(v);
    return NAN;
}

static void series_label(char *buf, size_t n, json_object *e)
{
    json_object *tags = NULL;
    json_object_object_get_ex(e, "tags", &tags);
    snprintf(buf, n, "%s/%s/%s", tag_of(tags, "scenario"), tag_of(tags, "actor"),
             tag_of(tags, "endpoint"));
}

struct timeline {
    size_t n_rec;   /* records */
    double *x;      /* elapsed seconds per record */
    size_t n_lines; /* series lines (index 0 of rate is the total) */
    char **names;
    double **rate; /* [n_lines + 1][n_rec]: [0] total, then per series */
    double **p99;  /* [n_lines][n_rec] */
};

static void timeline_free(struct timeline *t)
{
    for (size_t i = 0; i < t->n_lines; i++) {
        free(t->names[i]);
        free(t->rate[i + 1]);
        free(t->p99[i]);
    }
    if (t->rate)
        free(t->rate[0]);
    free(t->names);
    free(t->rate);
    free(t->p99);
    free(t->x);
}

static double *nan_array(size_t n)
{
    double *a = malloc((n ? n : 1) * sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        a[i] = NAN;
    return a;
}

/* Index of the line called label, created when new (at most HTML_MAX_TIME_LINES); -1 when
 * there is no room, -2 on out of memory. */
static int line_index(struct timeline *t, const char *label)
{
    for (size_t i = 0; i < t->n_lines; i++)
        if (strcmp(t->names[i], label) == 0)
            return (int)i;
    if (t->n_lines >= HTML_MAX_TIME_LINES)
        return -1;
    size_t i = t->n_lines;
    t->names[i] = strdup(label);
    t->rate[i + 1] = nan_array(t->n_rec);
    t->p99[i] = nan_array(t->n_rec);
    t->n_lines++;
    return t->names[i] && t->rate[i + 1] && t->p99[i] ? (int)i : -2;
}

static int timeline_record(struct timeline *t, size_t r, json_object *rec)
{
    json_object *arr = NULL;
    char label[LABEL_MAX];
    t->x[r] = num_of(rec, "elapsed_s");
    t->rate[0][r] = 0;
    if (!json_object_object_get_ex(rec, "series", &arr) ||
        !json_object_is_type(arr, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *e = json_object_array_get_idx(arr, i);
        double rate = num_of(e, "rate_per_s"), count = num_of(e, "count");
        series_label(label, sizeof label, e);
        if (isfinite(rate))
            t->rate[0][r] += rate;
        int k = line_index(t, label);
        if (k == -2)
            return -ENOMEM;
        if (k < 0)
            continue;
        t->rate[k + 1][r] = rate;
        t->p99[k][r] = count > 0 ? num_of(e, "p99") : NAN;
    }
    return 0;
}

static int timeline_build(struct timeline *t, const json_object *intervals)
{
    memset(t, 0, sizeof *t);
    t->n_rec = json_object_array_length(intervals);
    t->x = nan_array(t->n_rec);
    t->names = calloc(HTML_MAX_TIME_LINES, sizeof *t->names);
    t->rate = calloc(HTML_MAX_TIME_LINES + 1, sizeof *t->rate);
    t->p99 = calloc(HTML_MAX_TIME_LINES, sizeof *t->p99);
    if (!t->x || !t->names || !t->rate || !t->p99 || !(t->rate[0] = nan_array(t->n_rec)))
        return -ENOMEM;
    for (size_t r = 0; r < t->n_rec; r++) {
        json_object *rec = json_object_array_get_idx(intervals, r);
        int rc = json_object_is_type(rec, json_type_object) ? timeline_record(t, r, rec) : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int html_time_charts(FILE *f, const json_object *intervals)
{
    struct timeline t;
    int rc = timeline_build(&t, intervals);
    struct html_line *lines = rc == 0 ? calloc(t.n_lines + 1, sizeof *lines) : NULL;
    if (rc == 0 && lines == NULL)
        rc = -ENOMEM;
    if (rc == 0) {
        lines[0] = (struct html_line){"all series", t.x, t.rate[0], t.n_rec};
        for (size_t i = 0; i < t.n_lines; i++)
            lines[i + 1] = (struct html_line){t.names[i], t.x, t.rate[i + 1], t.n_rec};
        struct html_chart rate = {"Request rate over time",
                                  "elapsed s",
                                  "requests/s",
                                  HTML_X_LINEAR,
                                  lines,
                                  t.n_lines + 1};
        html_svg_chart(f, &rate);
        for (size_t i = 0; i < t.n_lines; i++)
            lines[i] = (struct html_line){t.names[i], t.x, t.p99[i], t.n_rec};
        struct html_chart p99 = {
            "http_req_duration p99 over time", "elapsed s", "ms", HTML_X_LINEAR, lines, t.n_lines};
        html_svg_chart(f, &p99);
    }
    free(lines);
    timeline_free(&t);
    return rc;
}
