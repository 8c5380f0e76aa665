/* tests/unit/outputs_fixture.h - test data for the output tests (check_prometheus,
 * check_report_html, check_merge): registries filled with a deterministic mix of requests
 * (statuses, transport errors, timeouts, drops, in-flight), actor counters, rates and trends,
 * split across shards by request index; and summary files written from them. */
#ifndef FLEETSIM_TESTS_OUTPUTS_FIXTURE_H
#define FLEETSIM_TESTS_OUTPUTS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/metrics.h"

/* Scenario names of the fixture's two scenarios; the second has characters that need escaping
 * in Prometheus labels and HTML. */
#define FX_SCENARIO "agent-storm"
#define FX_ODD_SCENARIO "odd\"<&>\\\nname"

/* Record one answered request of duration_us (lag_us of it spent before sending). */
void fx_answered(struct metrics_series *s, uint64_t duration_us, uint64_t lag_us, int status,
                 bool failed);

/* A registry holding requests i = 0..n-1 of the fixture whose i % parts == part (part < 0:
 * all of them), with actor metrics split the same way and elapsed time elapsed_s. Values
 * derive from i only, so the shards of one n add up to the whole exactly. */
struct metrics *fx_registry(size_t n, int part, int parts, double elapsed_s);

/* Evaluate the specs on m and write m as a summary JSON to path with this seed and shard.
 * Returns 0 or a negative errno. */
int fx_write_summary(const char *path, const struct metrics *m, uint64_t seed, uint32_t shard_k,
                     uint32_t shard_n, const char *const *specs, size_t n_specs);

#endif
