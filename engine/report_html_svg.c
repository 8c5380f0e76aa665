/* engine/report_html_svg.c - the HTML report's charts: inline SVG line charts with a grid,
 * rounded axis ranges, tick labels (linear or percentile x axis) and an HTML legend; plus the
 * text escaping every part of the report uses. No scripts, no external resources. */
#include "engine/report_html_internal.h"

#include <math.h>
#include <stdbool.h>

#define CHART_W 720
#define CHART_H 300
#define MARGIN_L 64
#define MARGIN_R 28
#define MARGIN_T 30
#define MARGIN_B 46
#define PLOT_W (CHART_W - MARGIN_L - MARGIN_R)
#define PLOT_H (CHART_H - MARGIN_T - MARGIN_B)
#define TARGET_TICKS 5
#define MAX_PERCENTILE_DECADES 6

const char *const html_palette[HTML_PALETTE_SIZE] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                     "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                     "#bcbd22", "#17becf"};

void html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) for spreading range over ~n ticks. */
static double nice_step(double range, int n)
{
    double raw = range / n;
    double mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

struct axis {
    double max;  /* the axis runs from 0 to max */
    double step; /* tick spacing */
};

static struct axis linear_axis(double data_max)
{
    struct axis a;
    if (!(data_max > 0) || !isfinite(data_max))
        data_max = 1;
    a.step = nice_step(data_max, TARGET_TICKS);
    a.max = ceil(data_max / a.step - 1e-9) * a.step;
    return a;
}

static struct axis percentile_axis(double data_max)
{
    struct axis a = {1, 1};
    if (data_max > 1 && isfinite(data_max))
        a.max = ceil(data_max - 1e-9);
    if (a.max > MAX_PERCENTILE_DECADES)
        a.max = MAX_PERCENTILE_DECADES;
    return a;
}

/* Largest finite x and y over all lines; false when no point is finite. */
static bool data_max(const struct html_chart *c, double *xmax, double *ymax)
{
    bool any = false;
    *xmax = *ymax = 0;
    for (size_t l = 0; l < c->n_lines; l++) {
        const struct html_line *ln = &c->lines[l];
        for (size_t i = 0; i < ln->n; i++) {
            if (!isfinite(ln->x[i]) || !isfinite(ln->y[i]))
                continue;
            any = true;
            if (ln->x[i] > *xmax)
                *xmax = ln->x[i];
            if (ln->y[i] > *ymax)
                *ymax = ln->y[i];
        }
    }
    return any;
}

static void x_tick_label(char *buf, size_t n, enum html_xaxis kind, double v)
{
    if (kind == HTML_X_LINEAR) {
        snprintf(buf, n, "%g", v);
        return;
    }
    int k = (int)lround(v);
    double pct = 100.0 * (1.0 - pow(10, -k));
    snprintf(buf, n, "%.*f%%", k > 2 ? k - 2 : 0, pct);
}

static double px(const struct axis *x, double v)
{
    return MARGIN_L + v / x->max * PLOT_W;
}

static double py(const struct axis *y, double v)
{
    return MARGIN_T + PLOT_H - v / y->max * PLOT_H;
}

static void grid(FILE *f, const struct html_chart *c, const struct axis *x, const struct axis *y)
{
    char label[32];
    fprintf(f,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\" fill=\"none\" "
            "stroke=\"#999\"/>\n",
            MARGIN_L, MARGIN_T, PLOT_W, PLOT_H);
    for (double v = 0; v <= y->max + y->step / 2; v += y->step) {
        fprintf(
            f,
            "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\" stroke=\"#e5e5e5\"/>",
            MARGIN_L, py(y, v), MARGIN_L + PLOT_W, py(y, v));
        snprintf(label, sizeof label, "%g", v);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"ytick\" text-anchor=\"end\">%s</text>\n",
                MARGIN_L - 6, py(y, v) + 4, label);
    }
    for (double v = 0; v <= x->max + x->step / 2; v += x->step) {
        fprintf(
            f,
            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\" stroke=\"#e5e5e5\"/>",
            px(x, v), MARGIN_T, px(x, v), MARGIN_T + PLOT_H);
        x_tick_label(label, sizeof label, c->xkind, v);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xtick\" text-anchor=\"middle\">%s</text>\n",
                px(x, v), MARGIN_T + PLOT_H + 16, label);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"xlabel\" text-anchor=\"middle\">",
            MARGIN_L + PLOT_W / 2, CHART_H - 8);
    html_escape(f, c->x_label);
    fprintf(f,
            "</text>\n<text x=\"14\" y=\"%d\" class=\"ylabel\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 14 %d)\">",
            MARGIN_T + PLOT_H / 2, MARGIN_T + PLOT_H / 2);
    html_escape(f, c->y_label);
    fprintf(f, "</text>\n");
}

/* One line as polylines, broken where a point is not finite; values beyond the axes are
 * clipped to them. */
static void polylines(FILE *f, const struct html_line *ln, const char *color, const struct axis *x,
                      const struct axis *y)
{
    bool open = false;
    for (size_t i = 0; i < ln->n; i++) {
        bool ok = isfinite(ln->x[i]) && isfinite(ln->y[i]);
        if (!ok) {
            if (open)
                fputs("\"/>\n", f);
            open = false;
            continue;
        }
        if (!open)
            fprintf(f,
                    "<polyline class=\"line\" fill=\"none\" stroke-width=\"1.6\" stroke=\"%s\" "
                    "points=\"",
                    color);
        double xv = ln->x[i] > x->max ? x->max : ln->x[i];
        double yv = ln->y[i] > y->max ? y->max : ln->y[i];
        fprintf(f, "%s%.1f,%.1f", open ? " " : "", px(x, xv), py(y, yv));
        open = true;
    }
    if (open)
        fputs("\"/>\n", f);
}

static void legend(FILE *f, const struct html_chart *c)
{
    fputs("<ul class=\"legend\">", f);
    for (size_t l = 0; l < c->n_lines; l++) {
        fprintf(f, "<li><span class=\"swatch\" style=\"background:%s\"></span>",
                html_palette[l % HTML_PALETTE_SIZE]);
        html_escape(f, c->lines[l].name);
        fputs("</li>", f);
    }
    fputs("</ul>\n", f);
}

void html_svg_chart(FILE *f, const struct html_chart *c)
{
    double xmax, ymax;
    bool any = data_max(c, &xmax, &ymax);
    struct axis x = c->xkind == HTML_X_PERCENTILE ? percentile_axis(xmax) : linear_axis(xmax);
    struct axis y = linear_axis(ymax);
    fprintf(f,
            "<figure class=\"chart\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
            "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n<title>",
            CHART_W, CHART_H, CHART_W, CHART_H);
    html_escape(f, c->title);
    fprintf(f, "</title>\n<text x=\"%d\" y=\"18\" class=\"title\">", MARGIN_L);
    html_escape(f, c->title);
    fputs("</text>\n", f);
    grid(f, c, &x, &y);
    if (!any)
        fprintf(f,
                "<text x=\"%d\" y=\"%d\" class=\"nodata\" text-anchor=\"middle\">no data</text>\n",
                MARGIN_L + PLOT_W / 2, MARGIN_T + PLOT_H / 2);
    for (size_t l = 0; l < c->n_lines; l++)
        polylines(f, &c->lines[l], html_palette[l % HTML_PALETTE_SIZE], &x, &y);
    fputs("</svg>\n", f);
    legend(f, c);
    fputs("</figure>\n", f);
}
