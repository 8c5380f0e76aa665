/* engine/metrics_internal.h - the registry's layout and helpers shared by metrics.c,
 * metrics_tagged.c and metrics_merge.c. Not for use outside those files. */
#ifndef FLEETSIM_ENGINE_METRICS_PRIVATE_H
#define FLEETSIM_ENGINE_METRICS_PRIVATE_H

#include "engine/metrics.h"

struct metrics {
    bool with_interval;
    uint64_t elapsed_ns;
    size_t n_series;
    struct metrics_series *series[METRICS_MAX_SERIES];
    size_t n_tagged, cap_tagged;
    struct metrics_tagged **tagged;
};

/* The phase histograms of a series (wait, connecting, TLS), each with an interval copy. */
#define METRICS_PHASE_HISTS 3

/* The i-th of them (0 <= i < METRICS_PHASE_HISTS), cumulative or its interval copy (interval
 * true; only when s->has_interval), else NULL. */
struct hist *metrics_series_phase_hist(const struct metrics_series *s, size_t i, bool interval);

/* String equality where NULL equals only NULL. */
bool metrics_str_eq(const char *a, const char *b);

/* strdup keeping NULL as NULL; sets *ok = false when a copy fails. */
char *metrics_strdup_opt(const char *s, bool *ok);

/* Free every tagged metric of m. */
void metrics_tagged_free_all(struct metrics *m);

/* The tagged metric with these tags and kind, created when absent. *rc gets 0, -EINVAL
 * (exists with another kind), -ENOMEM or -ENOSPC; NULL on error. */
struct metrics_tagged *metrics_tagged_get(struct metrics *m, enum metrics_kind kind,
                                          const char *metric, const char *scenario,
                                          const char *actor, const char *endpoint,
                                          const char *extra_key, const char *extra_value, int *rc);

#endif
