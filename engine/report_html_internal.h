/* engine/report_html_internal.h - pieces shared by the HTML report's files: text escaping, the
 * inline SVG line chart (report_html_svg.c) and the chart data (report_html_charts.c). Not
 * public. */
#ifndef FLEETSIM_ENGINE_REPORT_HTML_PRIVATE_H
#define FLEETSIM_ENGINE_REPORT_HTML_PRIVATE_H

#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "engine/metrics.h"

/* Colours of the lines, cycled. */
#define HTML_PALETTE_SIZE 10
extern const char *const html_palette[HTML_PALETTE_SIZE];

/* One line of a chart: n points (x[i], y[i]); a NaN y breaks the line there. */
struct html_line {
    const char *name;
    const double *x;
    const double *y;
    size_t n;
};

enum html_xaxis {
    HTML_X_LINEAR,    /* x as given, from 0 */
    HTML_X_PERCENTILE /* x = -log10(1 - p/100): ticks 0%, 90%, 99%, 99.9%, ... */
};

struct html_chart {
    const char *title;
    const char *x_label;
    const char *y_label;
    enum html_xaxis xkind;
    const struct html_line *lines;
    size_t n_lines;
};

/* Write s with &, <, >, " and ' escaped. */
void html_escape(FILE *f, const char *s);

/* Write an inline <svg> line chart (axes from 0 to rounded maxima, grid, tick labels) followed
 * by an HTML legend naming each line in its colour. Nothing is drawn for lines with n == 0. */
void html_svg_chart(FILE *f, const struct html_chart *c);

/* Most series lines drawn in a chart over time (the total rate is drawn besides). */
#define HTML_MAX_TIME_LINES 24

/* The latency percentile chart of one request series: duration, service and lag curves. */
void html_series_percentile_chart(FILE *f, const struct metrics_series *s);

/* The request rate (total and per series) and p99-over-time charts from an array of interval
 * records. Returns 0 or -ENOMEM. */
int html_time_charts(FILE *f, const json_object *intervals);

#endif
