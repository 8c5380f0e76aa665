/* engine/clock.h - the one monotonic clock fleetsim measures with (nanoseconds), plus
 * wall-clock helpers for reports (RFC 3339 timestamps, durations as text).
 * Every request timing in fleetsim comes from clock_now_ns(). */
#ifndef FLEETSIM_ENGINE_CLOCK_H
#define FLEETSIM_ENGINE_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_US 1000ULL
#define CLOCK_NS_PER_MS 1000000ULL
#define CLOCK_NS_PER_S 1000000000ULL

/* Size of a buffer that always holds clock_format_rfc3339's output ("2026-11-27T18:00:00Z"). */
#define CLOCK_RFC3339_LEN 32

/* Current CLOCK_MONOTONIC time in nanoseconds (arbitrary origin; only differences mean
 * anything). Never decreases. */
uint64_t clock_now_ns(void);

/* Current wall-clock time (CLOCK_REALTIME) in seconds since the epoch. */
time_t clock_wall_s(void);

/* Write t (seconds since the epoch) as an RFC 3339 UTC timestamp "YYYY-MM-DDTHH:MM:SSZ" into
 * buf (n bytes, CLOCK_RFC3339_LEN is enough). On a too-small buffer writes "" if n > 0. */
void clock_format_rfc3339(char *buf, size_t n, time_t t);

/* Parse an RFC 3339 timestamp ("YYYY-MM-DDTHH:MM:SS" followed by "Z" or "+HH:MM"/"-HH:MM",
 * optional fractional seconds ignored) into seconds since the epoch.
 * Returns 0, or -EINVAL when text is not such a timestamp. */
int clock_parse_rfc3339(const char *text, time_t *out);

/* Write a duration (nanoseconds) as short text: "850us", "12.3ms", "4.20s", "5m0s", "8h0m0s"
 * into buf (n bytes; 24 is enough). Returns buf. */
char *clock_format_duration(char *buf, size_t n, uint64_t duration_ns);

#endif
