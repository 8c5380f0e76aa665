/* refserver/fault.h - fault injection for fleetsim-target: rules "ENDPOINT:KIND=VALUE" (ENDPOINT an
 * endpoint name of endpoint.h or "*") and a per-request decision drawn from a deterministic RNG.
 * Kinds: latency=50ms (fixed) or latency=10ms-80ms (uniform) delay before answering;
 * error=0.05 (share answered 500); drop=0.01 (share closed without an answer);
 * stall=2s (hold every request that long, then close without an answer). */
#ifndef FLEETSIM_TARGET_FAULT_H
#define FLEETSIM_TARGET_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "refserver/endpoint.h"

/* Most rules one fault set holds. */
#define FAULT_MAX_RULES 32
/* Longest latency or stall accepted: 10 minutes. */
#define FAULT_MAX_DELAY_NS (600ULL * 1000000000ULL)

enum fault_kind { FAULT_LATENCY, FAULT_ERROR, FAULT_DROP, FAULT_STALL };

struct fault_rule {
    int endpoint; /* enum target_endpoint, or -1 for every endpoint ("*") */
    enum fault_kind kind;
    uint64_t min_ns, max_ns; /* latency (min == max when fixed), stall (both the duration) */
    double share;            /* error, drop: probability in [0, 1] */
};

/* Parses one rule. Returns 0, or -EINVAL with a reason phrase in err (e.g. `has an unknown
 * endpoint "hearbeat"`). The value of error/drop is a share 0..1 ("0.05") or a percentage
 * ("5%"). */
int fault_parse(const char *spec, struct fault_rule *out, char *err, size_t errlen);

struct fault_set {
    struct fault_rule rules[FAULT_MAX_RULES];
    size_t n;
    uint64_t rng;       /* splitmix64 state */
    bool any[EP_COUNT]; /* some rule applies to this endpoint (fast path) */
};

/* Parses specs[0..n) into set, RNG seeded from seed. Returns 0 or -EINVAL (reason in err,
 * prefixed with the offending spec), -E2BIG for more than FAULT_MAX_RULES. */
int fault_set_init(struct fault_set *set, const char *const *specs, size_t n, uint64_t seed,
                   char *err, size_t errlen);

/* What to do with one request. */
struct fault_decision {
    bool drop;         /* close the connection now, no answer */
    uint64_t stall_ns; /* > 0: hold this long, then close without an answer */
    uint64_t delay_ns; /* wait this long before answering (latency rules add up) */
    bool error;        /* answer 500 instead of handling */
};

/* Draws the decision for one request to endpoint ep. Returns true when any fault applies.
 * Consumes RNG only for rules matching ep, so unrelated traffic does not shift the draws. */
bool fault_decide(struct fault_set *set, enum target_endpoint ep, struct fault_decision *out);

#endif
