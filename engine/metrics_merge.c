/* engine/metrics_merge.c - exact merge of registries (threads, shards), the interval view
 * (move per-interval data out without touching the cumulative data) and reset. */
#include "engine/metrics_internal.h"

#include <errno.h>
#include <string.h>

void metrics_outcomes_add(struct metrics_outcomes *dst, const struct metrics_outcomes *src)
{
    dst->scheduled += src->scheduled;
    dst->answered += src->answered;
    for (int i = 0; i < METRICS_STATUS_CLASSES; i++)
        dst->status_class[i] += src->status_class[i];
    for (int i = 0; i < METRICS_STATUS_SLOTS; i++)
        dst->status[i] += src->status[i];
    for (int i = 0; i < METRICS_ERR_KINDS; i++)
        dst->transport_errors[i] += src->transport_errors[i];
    dst->timed_out += src->timed_out;
    dst->dropped += src->dropped;
    dst->unanswered += src->unanswered;
    dst->failed += src->failed;
    dst->lag_negative += src->lag_negative;
}

/* Add three histograms; all or nothing is not needed: configurations are checked first. */
static int add_hists(struct hist *d1, struct hist *d2, struct hist *d3, const struct hist *s1,
                     const struct hist *s2, const struct hist *s3)
{
    if (!hist_same_config(d1, s1) || !hist_same_config(d2, s2) || !hist_same_config(d3, s3))
        return -EINVAL;
    hist_add(d1, s1);
    hist_add(d2, s2);
    hist_add(d3, s3);
    return 0;
}

static int merge_series(struct metrics *dst, const struct metrics_series *s)
{
    struct metrics_series *d = metrics_series(dst, s->scenario, s->actor, s->endpoint);
    if (d == NULL)
        return dst->n_series >= METRICS_MAX_SERIES ? -ENOSPC : -ENOMEM;
    int rc = add_hists(&d->duration, &d->service, &d->lag, &s->duration, &s->service, &s->lag);
    for (size_t k = 0; rc == 0 && k < METRICS_PHASE_HISTS; k++)
        rc = hist_add(metrics_series_phase_hist(d, k, false),
                      metrics_series_phase_hist(s, k, false));
    if (rc == 0)
        metrics_outcomes_add(&d->total, &s->total);
    return rc;
}

static int merge_tagged(struct metrics *dst, const struct metrics_tagged *t)
{
    int rc;
    struct metrics_tagged *d = metrics_tagged_get(dst, t->kind, t->metric, t->scenario, t->actor,
                                                  t->endpoint, t->tag_key, t->tag_value, &rc);
    if (d == NULL)
        return rc;
    if (t->kind == METRICS_TREND)
        return hist_add(d->trend, t->trend);
    d->value += t->value;
    d->total += t->total;
    return 0;
}

/* True when a + b fits in 64 bits. */
static bool sum_fits(uint64_t a, uint64_t b)
{
    return a + b >= a;
}

/* The outcome counters are all uint64_t: checked as one array. */
_Static_assert(sizeof(struct metrics_outcomes) % sizeof(uint64_t) == 0,
               "metrics_outcomes holds only uint64_t counters");

static bool outcomes_fit(const struct metrics_outcomes *a, const struct metrics_outcomes *b)
{
    const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;
    for (size_t i = 0; i < sizeof *a / sizeof(uint64_t); i++)
        if (!sum_fits(x[i], y[i]))
            return false;
    return true;
}

static bool series_fit(const struct metrics_series *d, const struct metrics_series *s)
{
    bool fits = outcomes_fit(&d->total, &s->total) &&
                sum_fits(hist_count(&d->duration), hist_count(&s->duration)) &&
                sum_fits(hist_count(&d->service), hist_count(&s->service)) &&
                sum_fits(hist_count(&d->lag), hist_count(&s->lag));
    for (size_t k = 0; fits && k < METRICS_PHASE_HISTS; k++)
        fits = sum_fits(hist_count(metrics_series_phase_hist(d, k, false)),
                        hist_count(metrics_series_phase_hist(s, k, false)));
    return fits;
}

static bool tagged_fit(const struct metrics_tagged *d, const struct metrics_tagged *t)
{
    return sum_fits(d->value, t->value) && sum_fits(d->total, t->total) &&
           (t->kind != METRICS_TREND || d->kind != METRICS_TREND ||
            sum_fits(hist_count(d->trend), hist_count(t->trend)));
}

/* True when adding src into dst overflows no counter (checked before anything is added). */
static bool merge_fits(const struct metrics *dst, const struct metrics *src)
{
    for (size_t i = 0; i < src->n_series; i++) {
        const struct metrics_series *s = src->series[i];
        const struct metrics_series *d =
            metrics_series_find(dst, s->scenario, s->actor, s->endpoint);
        if (d != NULL && !series_fit(d, s))
            return false;
    }
    for (size_t i = 0; i < src->n_tagged; i++) {
        const struct metrics_tagged *t = src->tagged[i];
        const struct metrics_tagged *d = metrics_tagged_find(dst, t->metric, t->scenario, t->actor,
                                                             t->endpoint, t->tag_key, t->tag_value);
        if (d != NULL && !tagged_fit(d, t))
            return false;
    }
    return true;
}

int metrics_merge(struct metrics *dst, const struct metrics *src)
{
    if (!merge_fits(dst, src))
        return -EOVERFLOW;
    for (size_t i = 0; i < src->n_series; i++) {
        int rc = merge_series(dst, src->series[i]);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < src->n_tagged; i++) {
        int rc = merge_tagged(dst, src->tagged[i]);
        if (rc != 0)
            return rc;
    }
    if (src->elapsed_ns > dst->elapsed_ns)
        dst->elapsed_ns = src->elapsed_ns;
    return 0;
}

static bool series_equal(const struct metrics_series *a, const struct metrics_series *b)
{
    bool eq = memcmp(&a->total, &b->total, sizeof a->total) == 0 &&
              hist_equal(&a->duration, &b->duration) && hist_equal(&a->service, &b->service) &&
              hist_equal(&a->lag, &b->lag);
    for (size_t k = 0; eq && k < METRICS_PHASE_HISTS; k++)
        eq = hist_equal(metrics_series_phase_hist(a, k, false),
                        metrics_series_phase_hist(b, k, false));
    return eq;
}

static bool tagged_equal(const struct metrics_tagged *a, const struct metrics_tagged *b)
{
    if (a->kind != b->kind || a->value != b->value || a->total != b->total)
        return false;
    return a->kind != METRICS_TREND || hist_equal(a->trend, b->trend);
}

bool metrics_equal(const struct metrics *a, const struct metrics *b)
{
    if (a->n_series != b->n_series || a->n_tagged != b->n_tagged)
        return false;
    for (size_t i = 0; i < a->n_series; i++) {
        const struct metrics_series *s = a->series[i];
        const struct metrics_series *t = metrics_series_find(b, s->scenario, s->actor, s->endpoint);
        if (t == NULL || !series_equal(s, t))
            return false;
    }
    for (size_t i = 0; i < a->n_tagged; i++) {
        const struct metrics_tagged *s = a->tagged[i];
        const struct metrics_tagged *t = metrics_tagged_find(b, s->metric, s->scenario, s->actor,
                                                             s->endpoint, s->tag_key, s->tag_value);
        if (t == NULL || !tagged_equal(s, t))
            return false;
    }
    return true;
}

int metrics_interval_take(struct metrics *m, struct metrics *out)
{
    if (!m->with_interval)
        return -EINVAL;
    for (size_t i = 0; i < m->n_series; i++) {
        struct metrics_series *s = m->series[i];
        struct metrics_series *d = metrics_series(out, s->scenario, s->actor, s->endpoint);
        if (d == NULL)
            return out->n_series >= METRICS_MAX_SERIES ? -ENOSPC : -ENOMEM;
        int rc = add_hists(&d->duration, &d->service, &d->lag, &s->iv_duration, &s->iv_service,
                           &s->iv_lag);
        for (size_t k = 0; rc == 0 && k < METRICS_PHASE_HISTS; k++) {
            rc = hist_add(metrics_series_phase_hist(d, k, false),
                          metrics_series_phase_hist(s, k, true));
            hist_reset(metrics_series_phase_hist(s, k, true));
        }
        if (rc != 0)
            return rc;
        metrics_outcomes_add(&d->total, &s->interval);
        memset(&s->interval, 0, sizeof s->interval);
        hist_reset(&s->iv_duration);
        hist_reset(&s->iv_service);
        hist_reset(&s->iv_lag);
    }
    return 0;
}

void metrics_reset(struct metrics *m)
{
    for (size_t i = 0; i < m->n_series; i++) {
        struct metrics_series *s = m->series[i];
        memset(&s->total, 0, sizeof s->total);
        memset(&s->interval, 0, sizeof s->interval);
        hist_reset(&s->duration);
        hist_reset(&s->service);
        hist_reset(&s->lag);
        for (size_t k = 0; k < METRICS_PHASE_HISTS; k++) {
            hist_reset(metrics_series_phase_hist(s, k, false));
            if (s->has_interval)
                hist_reset(metrics_series_phase_hist(s, k, true));
        }
        if (s->has_interval) {
            hist_reset(&s->iv_duration);
            hist_reset(&s->iv_service);
            hist_reset(&s->iv_lag);
        }
    }
    for (size_t i = 0; i < m->n_tagged; i++) {
        struct metrics_tagged *t = m->tagged[i];
        t->value = t->total = 0;
        if (t->trend != NULL)
            hist_reset(t->trend);
    }
    m->elapsed_ns = 0;
}
