/* refserver/ratelimit.h - certctl's rate limiter: one token bucket per client IP (rate tokens/s,
 * capacity burst, starting full; a request takes one token or is refused). Memory is bounded:
 * a fixed open-addressing table whose idle (refilled) entries are evicted when it fills up. */
#ifndef FLEETSIM_TARGET_RATELIMIT_H
#define FLEETSIM_TARGET_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct sockaddr;

/* Number of slots of a limiter's table (client IPs tracked at once, 3/4 of it usable). */
#define RATELIMIT_SLOTS 16384u

struct ratelimit;

/* Creates a limiter of rate_per_s (> 0) and burst (>= 1) tokens. Returns NULL on bad
 * arguments or out of memory. */
struct ratelimit *ratelimit_new(double rate_per_s, double burst);

/* Frees the limiter (NULL is fine). */
void ratelimit_free(struct ratelimit *rl);

/* Takes one token from the bucket of addr's IP (AF_INET or AF_INET6; anything else shares one
 * bucket) at time now_ns (monotonic). Returns true when allowed, false when over the limit. */
bool ratelimit_allow(struct ratelimit *rl, const struct sockaddr *addr, uint64_t now_ns);

/* Number of client IPs currently tracked. */
uint32_t ratelimit_tracked(const struct ratelimit *rl);

#endif
