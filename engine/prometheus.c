/* engine/prometheus.c - renders a metrics registry in the Prometheus text exposition format
 * 0.0.4: one family at a time (# HELP, # TYPE, then every sample of it), histograms from the
 * HDR buckets over a fixed set of `le` bounds, rates as hits/samples counter pairs. */
#include "engine/prometheus.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"

#define US_PER_S 1e6
#define NAME_MAX_BYTES 160
#define TOO_MANY_REQUESTS 429
#define MAX_LABELS 5 /* scenario, actor, endpoint, one extra, le/status/kind */

/* The finite `le` bounds (microseconds): 100 us to one hour, the histogram's range. */
static const uint64_t le_bounds_us[] = {
    100,     250,      500,      1000,     2500,      5000,      10000,
    25000,   50000,    100000,   250000,   500000,    1000000,   2500000,
    5000000, 10000000, 30000000, 60000000, 300000000, 900000000, 3600000000};
#define N_LE (sizeof le_bounds_us / sizeof le_bounds_us[0])

/* Family names of the request series; a tagged metric may not reuse one. */
static const char *const builtin_families[] = {"http_req_duration_seconds",
                                               "http_req_service_seconds",
                                               "http_req_lag_seconds",
                                               "http_reqs_total",
                                               "http_responses_total",
                                               "scheduled_requests_total",
                                               "transport_errors_total",
                                               "timed_out_requests_total",
                                               "unanswered_requests_total",
                                               "dropped_requests_total",
                                               "http_429_total",
                                               "http_req_failed_hits_total",
                                               "http_req_failed_samples_total",
                                               "http_req_5xx_hits_total",
                                               "http_req_5xx_samples_total",
                                               "lag_negative_total",
                                               "in_flight_requests",
                                               "elapsed_seconds"};

struct label {
    const char *key;
    const char *value;
};

/* A label set: the tags of one series or tagged metric (NULL values left out). */
struct labels {
    struct label l[MAX_LABELS];
    size_t n;
    char extra_key[NAME_MAX_BYTES + 8]; /* "tag_" + a sanitized key */
};

size_t prometheus_bucket_count(void)
{
    return N_LE;
}

uint64_t prometheus_bucket_le_us(size_t i)
{
    return i < N_LE ? le_bounds_us[i] : 0;
}

/* Values recorded above the histogram's top sit in its highest bucket, counted at the top:
 * a finite bound that takes in every bucket must still leave them out (they are > le). */
static uint64_t without_clamped(const struct hist *h, uint64_t cum)
{
    return cum == hist_count(h) ? cum - hist_clamped_count(h) : cum;
}

uint64_t prometheus_cumulative_le(const struct hist *h, uint64_t le_us)
{
    struct hist_iter it = HIST_ITER_INIT;
    struct hist_bucket b;
    uint64_t cum = 0;
    while (hist_iter_next(h, &it, &b) && b.highest_us <= le_us)
        cum += b.count;
    return without_clamped(h, cum);
}

/* Cumulative counts for every finite bound in one pass over the buckets. */
static void cumulative_all(const struct hist *h, uint64_t cum[N_LE])
{
    struct hist_iter it = HIST_ITER_INIT;
    struct hist_bucket b;
    uint64_t running = 0;
    size_t j = 0;
    while (hist_iter_next(h, &it, &b)) {
        while (j < N_LE && b.highest_us > le_bounds_us[j])
            cum[j++] = running;
        running += b.count;
    }
    while (j < N_LE)
        cum[j++] = running;
    for (j = 0; j < N_LE; j++)
        cum[j] = without_clamped(h, cum[j]);
}

char *prometheus_sanitize_name(char *buf, size_t n, const char *name)
{
    size_t o = 0;
    if (n == 0)
        return buf;
    if ((name[0] == '\0' || (name[0] >= '0' && name[0] <= '9')) && n > 1)
        buf[o++] = '_';
    for (const char *p = name; *p && o < n - 1; p++) {
        char c = *p;
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        buf[o++] = ok ? c : '_';
    }
    buf[o < n ? o : n - 1] = '\0';
    return buf;
}

void prometheus_escape_label_value(FILE *f, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '"')
            fputs("\\\"", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
}

/* HELP text escaping: backslash and line feed. */
static void escape_help(FILE *f, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
}

static void family_header(FILE *f, const char *family, const char *type, const char *help)
{
    fprintf(f, "# HELP " PROMETHEUS_PREFIX "%s ", family);
    escape_help(f, help);
    fprintf(f, "\n# TYPE " PROMETHEUS_PREFIX "%s %s\n", family, type);
}

static void add_label(struct labels *ls, const char *key, const char *value)
{
    if (value != NULL && ls->n < MAX_LABELS)
        ls->l[ls->n++] = (struct label){key, value};
}

static void series_labels(struct labels *ls, const struct metrics_series *s)
{
    ls->n = 0;
    add_label(ls, METRICS_TAG_SCENARIO, s->scenario);
    add_label(ls, METRICS_TAG_ACTOR, s->actor);
    add_label(ls, METRICS_TAG_ENDPOINT, s->endpoint);
}

/* An extra tag key that clashes with a fixed label (or is reserved) gets a tag_ prefix. */
static void tagged_labels(struct labels *ls, const struct metrics_tagged *t)
{
    ls->n = 0;
    add_label(ls, METRICS_TAG_SCENARIO, t->scenario);
    add_label(ls, METRICS_TAG_ACTOR, t->actor);
    add_label(ls, METRICS_TAG_ENDPOINT, t->endpoint);
    if (t->tag_key == NULL || t->tag_value == NULL)
        return;
    char clean[NAME_MAX_BYTES];
    prometheus_sanitize_name(clean, sizeof clean, t->tag_key);
    bool clash = strcmp(clean, METRICS_TAG_SCENARIO) == 0 ||
                 strcmp(clean, METRICS_TAG_ACTOR) == 0 ||
                 strcmp(clean, METRICS_TAG_ENDPOINT) == 0 || strcmp(clean, "le") == 0 ||
                 strncmp(clean, "__", 2) == 0;
    snprintf(ls->extra_key, sizeof ls->extra_key, "%s%s", clash ? "tag_" : "", clean);
    add_label(ls, ls->extra_key, t->tag_value);
}

/* `{k="v",...}` with one more label (key NULL: none); nothing when the set is empty. */
static void write_labels(FILE *f, const struct labels *ls, const char *key, const char *value)
{
    if (ls->n == 0 && key == NULL)
        return;
    fputc('{', f);
    for (size_t i = 0; i < ls->n; i++) {
        fprintf(f, "%s%s=\"", i ? "," : "", ls->l[i].key);
        prometheus_escape_label_value(f, ls->l[i].value);
        fputc('"', f);
    }
    if (key != NULL) {
        fprintf(f, "%s%s=\"", ls->n ? "," : "", key);
        prometheus_escape_label_value(f, value);
        fputc('"', f);
    }
    fputc('}', f);
}

static void sample_u64(FILE *f, const char *family, const struct labels *ls, const char *key,
                       const char *value, uint64_t v)
{
    fprintf(f, PROMETHEUS_PREFIX "%s", family);
    write_labels(f, ls, key, value);
    fprintf(f, " %" PRIu64 "\n", v);
}

/* The _bucket, _sum and _count samples of one histogram. */
static void histogram_samples(FILE *f, const char *family, const struct labels *ls,
                              const struct hist *h)
{
    uint64_t cum[N_LE];
    char le[32];
    cumulative_all(h, cum);
    for (size_t i = 0; i < N_LE; i++) {
        snprintf(le, sizeof le, "%.10g", (double)le_bounds_us[i] / US_PER_S);
        fprintf(f, PROMETHEUS_PREFIX "%s_bucket", family);
        write_labels(f, ls, "le", le);
        fprintf(f, " %" PRIu64 "\n", cum[i]);
    }
    fprintf(f, PROMETHEUS_PREFIX "%s_bucket", family);
    write_labels(f, ls, "le", "+Inf");
    fprintf(f, " %" PRIu64 "\n", hist_count(h));
    fprintf(f, PROMETHEUS_PREFIX "%s_sum", family);
    write_labels(f, ls, NULL, NULL);
    fprintf(f, " %.6f\n", hist_total_us(h) / US_PER_S);
    fprintf(f, PROMETHEUS_PREFIX "%s_count", family);
    write_labels(f, ls, NULL, NULL);
    fprintf(f, " %" PRIu64 "\n", hist_count(h));
}

/* ---- request series ---- */

enum series_hist { SH_DURATION, SH_SERVICE, SH_LAG };

static void series_histograms(FILE *f, const struct metrics *m)
{
    static const struct {
        const char *family, *help;
    } fam[] = {
        {"http_req_duration_seconds",
         "Request latency from the intended send time to done (coordinated-omission-correct)."},
        {"http_req_service_seconds", "Request service time from sent to done."},
        {"http_req_lag_seconds", "How late fleetsim sent requests (sent minus intended)."}};
    struct labels ls;
    for (int k = SH_DURATION; k <= SH_LAG; k++) {
        family_header(f, fam[k].family, "histogram", fam[k].help);
        for (size_t i = 0; i < metrics_series_count(m); i++) {
            const struct metrics_series *s = metrics_series_at(m, i);
            const struct hist *h = k == SH_DURATION  ? &s->duration
                                   : k == SH_SERVICE ? &s->service
                                                     : &s->lag;
            series_labels(&ls, s);
            histogram_samples(f, fam[k].family, &ls, h);
        }
    }
}

/* Simple per-series counters: one value each. */
enum series_value {
    SV_COMPLETED,
    SV_SCHEDULED,
    SV_TIMED_OUT,
    SV_UNANSWERED,
    SV_DROPPED,
    SV_429,
    SV_FAILED_HITS,
    SV_FAILED_SAMPLES,
    SV_5XX_HITS,
    SV_5XX_SAMPLES,
    SV_LAG_NEGATIVE,
    SV__COUNT
};

static uint64_t series_value(const struct metrics_outcomes *o, enum series_value v)
{
    switch (v) {
    case SV_COMPLETED:
        return metrics_outcomes_completed(o);
    case SV_SCHEDULED:
        return o->scheduled;
    case SV_TIMED_OUT:
        return o->timed_out;
    case SV_UNANSWERED:
        return o->unanswered;
    case SV_DROPPED:
        return o->dropped;
    case SV_429:
        return o->status[TOO_MANY_REQUESTS - METRICS_STATUS_LOWEST];
    case SV_FAILED_HITS:
        return o->failed;
    case SV_FAILED_SAMPLES:
        return metrics_outcomes_completed(o);
    case SV_5XX_HITS:
        return o->status_class[5];
    case SV_5XX_SAMPLES:
        return o->answered;
    case SV_LAG_NEGATIVE:
        return o->lag_negative;
    default:
        return 0;
    }
}

static void series_counters(FILE *f, const struct metrics *m)
{
    static const struct {
        const char *family, *help;
    } fam[SV__COUNT] = {
        [SV_COMPLETED] = {"http_reqs_total", "Completed requests: answered, transport errors, "
                                             "timeouts and unanswered at the end."},
        [SV_SCHEDULED] = {"scheduled_requests_total", "Requests scheduled."},
        [SV_TIMED_OUT] = {"timed_out_requests_total", "Requests that timed out."},
        [SV_UNANSWERED] = {"unanswered_requests_total",
                           "Requests still unanswered when the run ended (failed)."},
        [SV_DROPPED] = {"dropped_requests_total", "Requests dropped before sending (the previous "
                                                  "one of the same kind was still pending)."},
        [SV_429] = {"http_429_total", "Answers with status 429."},
        [SV_FAILED_HITS] =
            {"http_req_failed_hits_total",
             "Completed requests judged failed (rate http_req_failed = hits / samples)."},
        [SV_FAILED_SAMPLES] = {"http_req_failed_samples_total",
                               "Completed requests (samples of the rate http_req_failed)."},
        [SV_5XX_HITS] = {"http_req_5xx_hits_total",
                         "Answers with a 5xx status (rate http_req_5xx = hits / samples)."},
        [SV_5XX_SAMPLES] = {"http_req_5xx_samples_total",
                            "Answered requests (samples of the rate http_req_5xx)."},
        [SV_LAG_NEGATIVE] = {
            "lag_negative_total",
            "Requests sent before their intended time (a fleetsim bug if ever non-zero)."}};
    struct labels ls;
    for (int v = 0; v < SV__COUNT; v++) {
        family_header(f, fam[v].family, "counter", fam[v].help);
        for (size_t i = 0; i < metrics_series_count(m); i++) {
            const struct metrics_series *s = metrics_series_at(m, i);
            series_labels(&ls, s);
            sample_u64(f, fam[v].family, &ls, NULL, NULL,
                       series_value(&s->total, (enum series_value)v));
        }
    }
}

static void series_statuses(FILE *f, const struct metrics *m)
{
    struct labels ls;
    char code[8];
    family_header(f, "http_responses_total", "counter",
                  "Answered requests by exact status (\"other\" outside 100-599).");
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        const struct metrics_outcomes *o = &s->total;
        series_labels(&ls, s);
        for (int k = 0; k < METRICS_STATUS_SLOTS; k++) {
            if (o->status[k] == 0)
                continue;
            snprintf(code, sizeof code, "%d", k + METRICS_STATUS_LOWEST);
            sample_u64(f, "http_responses_total", &ls, METRICS_TAG_STATUS, code, o->status[k]);
        }
        if (o->status_class[0] != 0)
            sample_u64(f, "http_responses_total", &ls, METRICS_TAG_STATUS, "other",
                       o->status_class[0]);
    }
    family_header(f, "transport_errors_total", "counter", "Transport errors by kind.");
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        series_labels(&ls, s);
        for (int k = 0; k < METRICS_ERR_KINDS; k++)
            sample_u64(f, "transport_errors_total", &ls, "kind",
                       metrics_error_kind_name((enum metrics_error_kind)k),
                       s->total.transport_errors[k]);
    }
}

static void gauges(FILE *f, const struct metrics *m)
{
    struct labels ls;
    family_header(f, "in_flight_requests", "gauge",
                  "Requests scheduled and not yet ended (scheduled - answered - errors - timeouts "
                  "- unanswered - dropped).");
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        const struct metrics_outcomes *o = &s->total;
        int64_t in_flight =
            (int64_t)o->scheduled - (int64_t)metrics_outcomes_completed(o) - (int64_t)o->dropped;
        series_labels(&ls, s);
        fprintf(f, PROMETHEUS_PREFIX "in_flight_requests");
        write_labels(f, &ls, NULL, NULL);
        fprintf(f, " %" PRId64 "\n", in_flight);
    }
    family_header(f, "elapsed_seconds", "gauge", "Measured time span of the run so far.");
    fprintf(f, PROMETHEUS_PREFIX "elapsed_seconds %.3f\n",
            (double)metrics_elapsed_ns(m) / (double)CLOCK_NS_PER_S);
}

/* ---- tagged actor metrics ---- */

/* family = sanitized metric + suffix (not doubled), with "tagged_" in front of a name that
 * a request-series family already uses. */
static void tagged_family(char *buf, size_t n, const char *metric, const char *suffix)
{
    char clean[NAME_MAX_BYTES], joined[NAME_MAX_BYTES + 16];
    size_t cl, sl = strlen(suffix);
    prometheus_sanitize_name(clean, sizeof clean, metric);
    cl = strlen(clean);
    if (cl >= sl && strcmp(clean + cl - sl, suffix) == 0)
        snprintf(joined, sizeof joined, "%s", clean);
    else
        snprintf(joined, sizeof joined, "%s%s", clean, suffix);
    for (size_t i = 0; i < sizeof builtin_families / sizeof builtin_families[0]; i++) {
        if (strcmp(joined, builtin_families[i]) == 0) {
            snprintf(buf, n, "tagged_%s", joined);
            return;
        }
    }
    snprintf(buf, n, "%s", joined);
}

/* True when the tagged metric at index i is the first of its name (families are grouped). */
static bool first_of_name(const struct metrics *m, size_t i)
{
    const char *name = metrics_tagged_at(m, i)->metric;
    for (size_t j = 0; j < i; j++)
        if (strcmp(metrics_tagged_at(m, j)->metric, name) == 0)
            return false;
    return true;
}

/* One family (or two, for a rate's hits and samples) over every tagged metric named name. */
static void tagged_group(FILE *f, const struct metrics *m, const char *name, enum metrics_kind kind,
                         int part)
{
    static const char *const suffix[3][2] = {
        {"_total", NULL}, {"_hits_total", "_samples_total"}, {"_seconds", NULL}};
    char family[NAME_MAX_BYTES + 48], help[NAME_MAX_BYTES + 96];
    struct labels ls;
    tagged_family(family, sizeof family, name, suffix[kind][part]);
    if (kind == METRICS_COUNTER)
        snprintf(help, sizeof help, "Actor counter %s.", name);
    else if (kind == METRICS_RATE)
        snprintf(help, sizeof help, "Actor rate %s: %s (rate = hits / samples).", name,
                 part == 0 ? "hits" : "samples");
    else
        snprintf(help, sizeof help, "Actor trend %s, seconds.", name);
    family_header(f, family, kind == METRICS_TREND ? "histogram" : "counter", help);
    for (size_t i = 0; i < metrics_tagged_count(m); i++) {
        const struct metrics_tagged *t = metrics_tagged_at(m, i);
        if (strcmp(t->metric, name) != 0)
            continue;
        tagged_labels(&ls, t);
        if (kind == METRICS_TREND)
            histogram_samples(f, family, &ls, t->trend);
        else
            sample_u64(f, family, &ls, NULL, NULL, part == 0 ? t->value : t->total);
    }
}

static void tagged_metrics(FILE *f, const struct metrics *m)
{
    for (size_t i = 0; i < metrics_tagged_count(m); i++) {
        if (!first_of_name(m, i))
            continue;
        const struct metrics_tagged *t = metrics_tagged_at(m, i);
        tagged_group(f, m, t->metric, t->kind, 0);
        if (t->kind == METRICS_RATE)
            tagged_group(f, m, t->metric, t->kind, 1);
    }
}

int prometheus_write(FILE *f, const struct metrics *m)
{
    series_histograms(f, m);
    series_counters(f, m);
    series_statuses(f, m);
    gauges(f, m);
    tagged_metrics(f, m);
    return ferror(f) ? -EIO : 0;
}

int prometheus_render(const struct metrics *m, char **out, size_t *out_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *out = NULL;
    *out_len = 0;
    if (f == NULL)
        return -ENOMEM;
    int rc = prometheus_write(f, m);
    if (fclose(f) != 0 && rc == 0)
        rc = -ENOMEM;
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return 0;
}
