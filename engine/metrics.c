/* engine/metrics.c - the metrics registry: request series keyed by (scenario, actor,
 * endpoint), the per-request recording calls and the accounting totals.
 * Tagged metrics are in metrics_tagged.c, merge and intervals in metrics_merge.c. */
#include "engine/metrics_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"

static const char *const error_kind_names[METRICS_ERR_KINDS] = {"connect",  "tls",       "closed",
                                                                "protocol", "too_large", "other"};

struct metrics *metrics_new(bool with_interval)
{
    struct metrics *m = calloc(1, sizeof *m);
    if (m != NULL)
        m->with_interval = with_interval;
    return m;
}

static void series_free(struct metrics_series *s)
{
    if (s == NULL)
        return;
    hist_destroy(&s->duration);
    hist_destroy(&s->service);
    hist_destroy(&s->lag);
    hist_destroy(&s->wait);
    hist_destroy(&s->connecting);
    hist_destroy(&s->tls_handshaking);
    hist_destroy(&s->iv_wait);
    hist_destroy(&s->iv_connecting);
    hist_destroy(&s->iv_tls_handshaking);
    hist_destroy(&s->iv_duration);
    hist_destroy(&s->iv_service);
    hist_destroy(&s->iv_lag);
    free(s->scenario);
    free(s->actor);
    free(s->endpoint);
    free(s);
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_series; i++)
        series_free(m->series[i]);
    metrics_tagged_free_all(m);
    free(m);
}

bool metrics_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* strdup that keeps NULL as NULL; *ok turns false when a copy fails. */
char *metrics_strdup_opt(const char *s, bool *ok)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL)
        *ok = false;
    return copy;
}

static struct metrics_series *series_alloc(bool with_interval, const char *scenario,
                                           const char *actor, const char *endpoint)
{
    struct metrics_series *s = calloc(1, sizeof *s);
    bool ok = s != NULL;
    if (!ok)
        return NULL;
    s->scenario = metrics_strdup_opt(scenario ? scenario : "", &ok);
    s->actor = metrics_strdup_opt(actor ? actor : "", &ok);
    s->endpoint = metrics_strdup_opt(endpoint ? endpoint : "", &ok);
    ok = ok && hist_init_default(&s->duration) == 0 && hist_init_default(&s->service) == 0 &&
         hist_init_default(&s->lag) == 0 && hist_init_default(&s->wait) == 0 &&
         hist_init_default(&s->connecting) == 0 && hist_init_default(&s->tls_handshaking) == 0;
    if (ok && with_interval) {
        ok = hist_init_default(&s->iv_duration) == 0 && hist_init_default(&s->iv_service) == 0 &&
             hist_init_default(&s->iv_lag) == 0 && hist_init_default(&s->iv_wait) == 0 &&
             hist_init_default(&s->iv_connecting) == 0 &&
             hist_init_default(&s->iv_tls_handshaking) == 0;
        s->has_interval = ok;
    }
    if (!ok) {
        series_free(s);
        return NULL;
    }
    return s;
}

struct metrics_series *metrics_series_find(const struct metrics *m, const char *scenario,
                                           const char *actor, const char *endpoint)
{
    scenario = scenario ? scenario : "";
    actor = actor ? actor : "";
    endpoint = endpoint ? endpoint : "";
    for (size_t i = 0; i < m->n_series; i++) {
        struct metrics_series *s = m->series[i];
        if (strcmp(s->endpoint, endpoint) == 0 && strcmp(s->actor, actor) == 0 &&
            strcmp(s->scenario, scenario) == 0)
            return s;
    }
    return NULL;
}

struct metrics_series *metrics_series(struct metrics *m, const char *scenario, const char *actor,
                                      const char *endpoint)
{
    struct metrics_series *s = metrics_series_find(m, scenario, actor, endpoint);
    if (s != NULL || m->n_series >= METRICS_MAX_SERIES)
        return s;
    s = series_alloc(m->with_interval, scenario, actor, endpoint);
    if (s != NULL)
        m->series[m->n_series++] = s;
    return s;
}

size_t metrics_series_count(const struct metrics *m)
{
    return m->n_series;
}

struct metrics_series *metrics_series_at(const struct metrics *m, size_t i)
{
    return i < m->n_series ? m->series[i] : NULL;
}

/* The request series' own trends: metric name and the histogram's place in the series. */
static const struct {
    const char *metric;
    size_t offset;
} series_trends[] = {
    {METRIC_HTTP_REQ_DURATION, offsetof(struct metrics_series, duration)},
    {METRIC_HTTP_REQ_SERVICE, offsetof(struct metrics_series, service)},
    {METRIC_HTTP_REQ_LAG, offsetof(struct metrics_series, lag)},
    {METRIC_HTTP_REQ_WAIT, offsetof(struct metrics_series, wait)},
    {METRIC_HTTP_REQ_CONNECTING, offsetof(struct metrics_series, connecting)},
    {METRIC_HTTP_REQ_TLS_HANDSHAKING, offsetof(struct metrics_series, tls_handshaking)},
};

struct hist *metrics_series_phase_hist(const struct metrics_series *s, size_t i, bool interval)
{
    static const size_t offsets[2][METRICS_PHASE_HISTS] = {
        {offsetof(struct metrics_series, wait), offsetof(struct metrics_series, connecting),
         offsetof(struct metrics_series, tls_handshaking)},
        {offsetof(struct metrics_series, iv_wait), offsetof(struct metrics_series, iv_connecting),
         offsetof(struct metrics_series, iv_tls_handshaking)}};
    if (i >= METRICS_PHASE_HISTS || (interval && !s->has_interval))
        return NULL;
    return (struct hist *)((const char *)s + offsets[interval][i]);
}

/* Records value_us in phase histogram i of s (and its interval copy). */
static void record_phase(struct metrics_series *s, size_t i, uint64_t value_us)
{
    hist_record(metrics_series_phase_hist(s, i, false), value_us);
    if (s->has_interval)
        hist_record(metrics_series_phase_hist(s, i, true), value_us);
}

static int series_trend_index(const char *metric)
{
    for (size_t i = 0; i < sizeof series_trends / sizeof series_trends[0]; i++)
        if (strcmp(metric, series_trends[i].metric) == 0)
            return (int)i;
    return -1;
}

bool metrics_is_series_trend(const char *metric)
{
    return series_trend_index(metric) >= 0;
}

struct hist *metrics_series_hist(struct metrics_series *s, const char *metric)
{
    int i = series_trend_index(metric);
    return i < 0 ? NULL : (struct hist *)((char *)s + series_trends[i].offset);
}

/* Nanoseconds to microseconds, rounded to nearest. */
static uint64_t ns_to_us(uint64_t ns)
{
    return (ns + CLOCK_NS_PER_US / 2) / CLOCK_NS_PER_US;
}

/* later - earlier in us, 0 when later < earlier. */
static uint64_t span_us(uint64_t later_ns, uint64_t earlier_ns)
{
    return later_ns > earlier_ns ? ns_to_us(later_ns - earlier_ns) : 0;
}

static void record_timing(struct metrics_series *s, const struct request_timing *t)
{
    uint64_t duration = span_us(t->done_ns, t->intended_ns);
    hist_record(&s->duration, duration);
    if (s->has_interval)
        hist_record(&s->iv_duration, duration);
    if (t->connect_ns)
        record_phase(s, 1, ns_to_us(t->connect_ns));
    if (t->tls_ns)
        record_phase(s, 2, ns_to_us(t->tls_ns));
    if (t->sent_ns == 0)
        return;
    /* waiting on the server (intended .. ready) is not fleetsim's lag (ready .. sent) */
    uint64_t ready = t->ready_ns > t->intended_ns ? t->ready_ns : t->intended_ns;
    if (ready > t->sent_ns)
        ready = t->sent_ns;
    uint64_t service = span_us(t->done_ns, t->sent_ns);
    uint64_t lag = span_us(t->sent_ns, ready);
    record_phase(s, 0, span_us(ready, t->intended_ns));
    if (t->sent_ns < t->intended_ns) {
        s->total.lag_negative++;
        s->interval.lag_negative++;
    }
    hist_record(&s->service, service);
    hist_record(&s->lag, lag);
    if (s->has_interval) {
        hist_record(&s->iv_service, service);
        hist_record(&s->iv_lag, lag);
    }
}

void metrics_scheduled(struct metrics_series *s)
{
    s->total.scheduled++;
    s->interval.scheduled++;
}

static int status_class(int http_status)
{
    if (http_status < METRICS_STATUS_LOWEST || http_status > METRICS_STATUS_HIGHEST)
        return 0;
    return http_status / 100;
}

static void count_answer(struct metrics_outcomes *o, int http_status, bool failed)
{
    o->answered++;
    o->status_class[status_class(http_status)]++;
    if (status_class(http_status) != 0)
        o->status[http_status - METRICS_STATUS_LOWEST]++;
    if (failed)
        o->failed++;
}

void metrics_answered(struct metrics_series *s, const struct request_timing *t, int http_status,
                      bool failed)
{
    const int too_many_requests = 429;
    failed = failed || http_status == too_many_requests;
    count_answer(&s->total, http_status, failed);
    count_answer(&s->interval, http_status, failed);
    record_timing(s, t);
}

void metrics_transport_error(struct metrics_series *s, const struct request_timing *t,
                             enum metrics_error_kind kind)
{
    if ((unsigned)kind >= METRICS_ERR_KINDS)
        kind = METRICS_ERR_OTHER;
    s->total.transport_errors[kind]++;
    s->interval.transport_errors[kind]++;
    s->total.failed++;
    s->interval.failed++;
    record_timing(s, t);
}

void metrics_timed_out(struct metrics_series *s, const struct request_timing *t)
{
    s->total.timed_out++;
    s->interval.timed_out++;
    s->total.failed++;
    s->interval.failed++;
    record_timing(s, t);
}

void metrics_unanswered(struct metrics_series *s, const struct request_timing *t)
{
    s->total.unanswered++;
    s->interval.unanswered++;
    s->total.failed++;
    s->interval.failed++;
    record_timing(s, t);
}

void metrics_dropped(struct metrics_series *s)
{
    s->total.dropped++;
    s->interval.dropped++;
}

const char *metrics_error_kind_name(enum metrics_error_kind kind)
{
    return (unsigned)kind < METRICS_ERR_KINDS ? error_kind_names[kind] : "other";
}

int metrics_error_kind_from_name(const char *name)
{
    for (int i = 0; i < METRICS_ERR_KINDS; i++)
        if (name != NULL && strcmp(name, error_kind_names[i]) == 0)
            return i;
    return -1;
}

uint64_t metrics_outcomes_errors(const struct metrics_outcomes *o)
{
    uint64_t sum = 0;
    for (int i = 0; i < METRICS_ERR_KINDS; i++)
        sum += o->transport_errors[i];
    return sum;
}

uint64_t metrics_outcomes_completed(const struct metrics_outcomes *o)
{
    return o->answered + metrics_outcomes_errors(o) + o->timed_out + o->unanswered;
}

void metrics_set_elapsed_ns(struct metrics *m, uint64_t elapsed_ns)
{
    m->elapsed_ns = elapsed_ns;
}

uint64_t metrics_elapsed_ns(const struct metrics *m)
{
    return m->elapsed_ns;
}

void metrics_accounting(const struct metrics *m, struct metrics_accounting *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < m->n_series; i++) {
        const struct metrics_outcomes *o = &m->series[i]->total;
        out->scheduled += o->scheduled;
        out->answered += o->answered;
        out->transport_errors += metrics_outcomes_errors(o);
        out->timed_out += o->timed_out;
        out->unanswered += o->unanswered;
        out->dropped += o->dropped;
    }
    out->in_flight =
        (int64_t)out->scheduled - (int64_t)(out->answered + out->transport_errors + out->timed_out +
                                            out->unanswered + out->dropped);
}

bool metrics_accounting_balanced(const struct metrics_accounting *a, int64_t known_in_flight)
{
    if (a->in_flight < 0)
        return false;
    return known_in_flight < 0 || known_in_flight == a->in_flight;
}
